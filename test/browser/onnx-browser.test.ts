import { onnxInChromium } from "./onnx-in-chromium.js";

// Two reference models and the failing proof's page; `make test-long` runs embedding-bigru and
// MobileNetV2 (test/long/onnx-browser.test.ts).
onnxInChromium({ models: ["lstm", "lstm-encoder-decoder"], failingProof: true, mobileNet: false });
