import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tfbridge } from "./run.js";

const parent = mkdtempSync(join(tmpdir(), "tfbridge-tmpdir-"));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/**
 * Runs a command with $TMPDIR a fresh empty folder, and returns what it left there: the CLI runs from
 * dist/, without tsx, so anything left is the command's own (the worker's sockets, autograph's modules, …).
 */
async function leftBy(...args: string[]) {
  const dir = mkdtempSync(join(parent, "run-"));
  const result = await tfbridge.env({ TMPDIR: dir })(...args);
  return { ...result, left: readdirSync(dir) };
}

describe("no temporary files left, pure JSON with --json, no TensorFlow logs without --verbose", () => {
  it.each([
    [["parity", "--units", "4", "--json"], 0],
    [["demo", "--json"], 0],
    [["doctor", "--json"], 0],
    [["keys"], 0],
    [["help"], 0],
    [["setup", "--help"], 0],
    [["parity", "--bogus"], 2],
    [["worker", "--connect", "nonsense"], 2],
  ])("%j", { timeout: 120_000 }, async (args, status) => {
    const { stdout, stderr, code, left } = await leftBy(...(args as string[]));
    expect(code, stderr).toBe(status);
    expect(left).toEqual([]);
    if (args.includes("--json")) {
      expect(() => JSON.parse(stdout)).not.toThrow();
      expect(stderr).toBe("");
    }
  });

  it("TensorFlow's C++ logs (tfjs-node's and the worker's) appear with --verbose only", { timeout: 180_000 }, async () => {
    const quiet = await leftBy("parity", "--units", "4");
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe("");
    const verbose = await leftBy("parity", "--units", "4", "--verbose");
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toMatch(/^I\d{4} [\d:.]+ +\d+ \w+\.cc:\d+\]/m);
    expect(verbose.left).toEqual([]);
  });
});
