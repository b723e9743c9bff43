import type { Readable } from "node:stream";

const TAIL_BYTES = 8192;

/** The last few KiB a child process wrote to stderr, copied on to this process's stderr as it arrives when asked. */
export class StderrTail {
  private text = "";

  constructor(stderr: Readable, forward: boolean) {
    stderr.on("data", (chunk: Buffer) => {
      if (forward) process.stderr.write(chunk);
      this.add(chunk.toString("utf8"));
    });
  }

  /** Adds what this side knows of the child's end (a spawn error) after what it wrote. */
  add(text: string): void {
    this.text = (this.text + text).slice(-TAIL_BYTES);
  }

  toString(): string {
    return this.text.trimEnd();
  }
}
