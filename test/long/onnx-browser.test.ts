import { onnxInChromium } from "../browser/onnx-in-chromium.js";

// What make test's test/browser/onnx-browser.test.ts leaves out: a bidirectional GRU over a masked embedding, and MobileNetV2.
onnxInChromium({ models: ["embedding-bigru"], failingProof: false, mobileNet: true });
