import type { Readable } from "node:stream";

/**
 * The last few KiB a child process wrote (its stderr, or its stdout and stderr as they interleave),
 * kept for the error that says why it failed, and copied on to this process's stderr as it arrives
 * when asked.
 */
export class OutputTail {
  private text = "";

  /** @param bytes how much of the end it keeps (default 8 KiB). */
  constructor(
    streams: readonly Readable[],
    options: { forward?: boolean; bytes?: number } = {},
    private readonly bytes = options.bytes ?? 8192,
  ) {
    for (const stream of streams) {
      stream.on("data", (chunk: Buffer) => {
        if (options.forward) process.stderr.write(chunk);
        this.add(chunk.toString("utf8"));
      });
    }
  }

  /** Adds what this side knows of the child's end (a spawn error) after what it wrote. */
  add(text: string): void {
    this.text = (this.text + text).slice(-this.bytes);
  }

  /** Its last `count` lines, without blank ones at either end. */
  lastLines(count: number): string[] {
    return this.toString().split("\n").slice(-count);
  }

  /** What it kept, without blank lines at either end (a spawn error added to nothing written starts with one). */
  toString(): string {
    return this.text.trim();
  }
}
