import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// `make test-long`: the slow cases make test leaves out (test/long: install from the tarball, the browsers
// over the other reference models and MobileNetV2, the ONNX sweep), to bring make test toward its 20-minute budget.
export default defineConfig({ test: { ...base.test, include: ["test/long/**/*.test.ts"], exclude: ["**/node_modules/**"] } });
