import { type ChildProcessByStdio, spawn } from "node:child_process";
import { once } from "node:events";
import type { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { OutputTail } from "../src/output-tail.js";

/** Runs `script` in a real Node child and keeps the tail of the streams `pick` chooses. */
async function tailOf(script: string, pick: (child: ChildProcessByStdio<null, Readable, Readable>) => Readable[], bytes?: number): Promise<OutputTail> {
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "pipe"] });
  const tail = new OutputTail(pick(child), { bytes });
  await once(child, "close");
  return tail;
}

describe("OutputTail: the end of what a child wrote, for the error that says why it failed", () => {
  it("keeps only the last `bytes`, and gives the last lines without the trailing newline", async () => {
    const tail = await tailOf("for (let i = 0; i < 5000; i++) process.stderr.write(`line ${i}\\n`)", (c) => [c.stderr], 100);
    expect(tail.toString().length).toBeLessThanOrEqual(100);
    expect(tail.lastLines(3)).toEqual(["line 4997", "line 4998", "line 4999"]);
  });

  it("a spawn error added to a child that wrote nothing reads as that error alone", async () => {
    const tail = await tailOf("", (c) => [c.stderr]);
    tail.add("\nwrite EPIPE");
    expect(tail.lastLines(3)).toEqual(["write EPIPE"]);
  });

  it("interleaves stdout and stderr when given both, and adds what this side knows after them", async () => {
    const tail = await tailOf("process.stdout.write('out\\n'); setTimeout(() => process.stderr.write('err\\n'), 50)", (c) => [c.stdout, c.stderr]);
    tail.add("\nspawn error");
    expect(tail.lastLines(10)).toEqual(["out", "err", "", "spawn error"]);
  });
});
