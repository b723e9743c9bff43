import { defineConfig } from "vitest/config";
import { LongestFirstSequencer } from "./test/sequencer.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Minutes each: `make test-applications` runs the Keras Applications (vitest.applications.config.ts),
    // `make test-long` the slow cases of test/long (vitest.long.config.ts).
    exclude: ["test/applications/**", "test/long/**", "**/node_modules/**"],
    // Each file starts real Python workers; TensorFlow's import alone takes seconds on 2 cores.
    pool: "forks",
    // One fork server for the whole run, which every file's default workers fork from.
    globalSetup: ["test/global-setup.ts"],
    maxWorkers: 2,
    // The longest files first, so that none starts last beside an idle core.
    sequence: { sequencer: LongestFirstSequencer },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
