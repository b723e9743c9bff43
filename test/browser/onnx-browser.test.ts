import { ONNX_BROWSER_MODELS_IN_MAKE_TEST, onnxInChromium } from "./onnx-in-chromium.js";

// Two reference models and the failing proof's page; `make test-long` runs the other model and
// MobileNetV2 (test/long/onnx-browser.test.ts).
onnxInChromium({ models: ONNX_BROWSER_MODELS_IN_MAKE_TEST, failingProof: true, mobileNet: false });
