// vitest's global setup, in its main process: dist/ compiled once, and fork servers that every test
// file's workers fork from.
import { execFileSync } from "node:child_process";
import { isatty } from "node:tty";
import type { TestProject } from "vitest/node";
import { withCliLogLevel } from "../src/cli/log-level.js";
import { SHARED_FORK_SERVER } from "../src/worker/fork-server.js";
import { shareForkServer } from "../src/worker/process.js";

/**
 * What vitest adds to the environment of the process each test file runs in (its resolveOptions, and
 * SSR, "1" in the node environment these files run in; vite's own variables are in this process's
 * already), beside the pool and worker numbers the fork server's key leaves out. Were this to drift
 * from vitest's, a file's workers would start servers of their own: slower, never different, and
 * test/worker/suite-fork-server.test.ts fails.
 */
function testFileEnvironment(project: TestProject): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEST: "true",
    VITEST: "true",
    NODE_ENV: process.env.NODE_ENV || "test",
    VITEST_MODE: project.vitest.config.watch ? "WATCH" : "RUN",
    FORCE_TTY: isatty(1) ? "true" : "",
    SSR: "1",
  };
}

/**
 * dist/ compiled from src/ as it is now, once, before any file runs (`make build`: nothing to do when
 * its stamp is newer than every source). README blocks, CLI runs and the packed tarball all read it;
 * files that compiled it themselves rewrote it under the others, and a fresh clone's README block
 * failed to import dist/bridge.js (2026-12-05). test/install/dist-once.test.ts keeps it so.
 */
function buildDist(): void {
  try {
    execFileSync("make", ["--no-print-directory", "--silent", "build"], { cwd: new URL("..", import.meta.url).pathname, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  } catch (error) {
    // tsc writes its errors to stdout.
    throw new Error(`make build failed:\n${(error as { stdout?: string }).stdout ?? ""}`);
  }
}

/**
 * Starts the servers before any test file and hands them down: one for a file's own Bridges and Pools,
 * one for the CLI runs it starts (test/cli/run.ts). Otherwise each file pays TensorFlow's import (about
 * 6 CPU-seconds here) in a server of its own, and each file that runs the CLI another.
 */
export default function setup(project: TestProject): void {
  buildDist();
  // In watch mode, each rerun first compiles what changed in src/, before its files run the CLI.
  // A failed build there must not end watch mode: it says why, and the files run the dist/ there was.
  project.onTestsRerun(() => {
    try {
      buildDist();
    } catch (error) {
      console.error((error as Error).message);
    }
  });
  const env = testFileEnvironment(project);
  const shared = shareForkServer(env, { workerBases: [env, withCliLogLevel(env, false)] })[SHARED_FORK_SERVER];
  if (shared !== undefined) process.env[SHARED_FORK_SERVER] = shared;
}
