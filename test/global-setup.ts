// vitest's global setup, in its main process: one fork server for every test file's default workers.
import { SHARED_FORK_SERVER } from "../src/worker/fork-server.js";
import { shareForkServer } from "../src/worker/process.js";

/**
 * What vitest (and vite, for import.meta.env) adds to the environment of the process each test file runs
 * in, beside the pool and worker numbers the fork server's key leaves out. Were it to change, a test
 * file's workers would fail to match the shared server and start their own: slower, never different;
 * test/worker/fork-server.test.ts fails then, so that the suite does not silently lose its time.
 */
const TEST_FILE_ENV = { TEST: "true", VITEST: "true", NODE_ENV: "test", PROD: "", DEV: "1", BASE_URL: "/", MODE: "test", VITEST_MODE: "RUN", FORCE_TTY: "", SSR: "1" };

/**
 * Starts the server before any test file and hands it down to them: otherwise every file that starts
 * a Bridge or Pool pays TensorFlow's import (about 6 CPU-seconds here) in a server of its own.
 */
export default function setup(): void {
  const shared = shareForkServer({ ...process.env, ...TEST_FILE_ENV })[SHARED_FORK_SERVER];
  if (shared !== undefined) process.env[SHARED_FORK_SERVER] = shared;
}
