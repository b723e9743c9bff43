import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const exec = promisify(execFile);
const step = new URL("../../scripts/step.sh", import.meta.url).pathname;

/** scripts/step.sh, which names and times each step of `make setup`. */
async function runStep(env: Record<string, string>, ...args: string[]) {
  try {
    const { stdout, stderr } = await exec("bash", [step, ...args], { env: { ...process.env, ...env } });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    return e as { stdout: string; stderr: string; code: number };
  }
}

describe("make setup's steps", () => {
  it("say when they start, that they are still running, and how long they took; output passes through", async () => {
    const { stdout, stderr, code } = await runStep({ STEP_HEARTBEAT_S: "1" }, "waiting", "bash", "-c", "sleep 2.5; echo out");
    expect(code).toBe(0);
    expect(stdout).toBe("out\n");
    const lines = stderr.trim().split("\n");
    expect(lines[0]).toBe("waiting…");
    expect(lines).toContain("waiting: still running (1 s)");
    expect(lines.at(-1)).toMatch(/^waiting: done in [23] s$/);
  });

  it("a failing step says so and keeps the command's exit status", async () => {
    const { stderr, code } = await runStep({}, "failing", "bash", "-c", "exit 3");
    expect(code).toBe(3);
    expect(stderr).toMatch(/^failing: failed after 0 s \(exit status 3\)$/m);
  });
});
