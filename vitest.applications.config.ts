import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// `make test-applications`: Keras Applications through bridge.loadModel, minutes long, so outside make test.
export default defineConfig({ test: { ...base.test, include: ["test/applications/**/*.test.ts"], exclude: ["**/node_modules/**"] } });
