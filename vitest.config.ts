import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Minutes of Keras Applications: `make test-applications` runs them (vitest.applications.config.ts).
    exclude: ["test/applications/**", "**/node_modules/**"],
    // Each file starts real Python workers; TensorFlow's import alone takes seconds on 2 cores.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
