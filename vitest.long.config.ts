import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// `make test-long`: the slow cases make test leaves out (test/long: install from the tarball, the browsers
// over every reference model and an image classifier, the ONNX sweep), so make test fits its budget.
export default defineConfig({ test: { ...base.test, include: ["test/long/**/*.test.ts"], exclude: ["**/node_modules/**"] } });
