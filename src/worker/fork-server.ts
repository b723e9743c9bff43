import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { StderrTail } from "./stderr-tail.js";

/**
 * Environment variables the worker reads only after TensorFlow's import (its token, message cap, CURVE
 * keys): they may differ between workers of one fork server. Any other variable may change what the
 * import does (oneDNN, thread counts, log levels), so workers that differ in one get different servers.
 */
const READ_AFTER_IMPORT = /^TFBRIDGE_/;

/**
 * A Python process that imported TensorFlow once and forks workers from there
 * (python/tfbridge_worker/fork_server.py): a worker then starts in a fraction of a second and shares the
 * imported pages, where a fresh interpreter spends seconds of CPU importing TensorFlow. This process
 * keeps one per interpreter and import-time environment while it runs; it does not keep Node alive,
 * and it exits when this process does (its standard input closes).
 */
export class ForkServer {
  /**
   * The server's socket, in Linux's abstract namespace: no file to clean up or to be cleaned away, and
   * no path length limit. Both ends check who holds the other (the server's pid, this user).
   */
  readonly socketName = `tfbridge-fork-${process.pid}-${randomBytes(12).toString("hex")}`;
  private readonly child: ChildProcess;
  private readonly tail: StderrTail;
  private ended = false;

  private constructor(python: string, env: NodeJS.ProcessEnv, forwardStderr: boolean, onEnd: () => void) {
    this.child = spawn(python, ["-m", "tfbridge_worker.fork_server", "--socket", this.socketName], { env, stdio: ["pipe", "ignore", "pipe"] });
    this.tail = new StderrTail(this.child.stderr!, forwardStderr);
    const end = (): void => {
      if (this.ended) return;
      this.ended = true;
      onEnd();
    };
    this.child.once("error", (e) => {
      this.tail.add(`\n${e.message}`);
      end();
    });
    this.child.once("close", end); // after its stderr is all read: a failed import's traceback is its last words
    // Idle, the server must not hold this process open; its stdin closing when this process exits ends it.
    this.child.unref();
    (this.child.stdin as Writable & { unref(): void }).unref();
    (this.child.stderr as Readable & { unref(): void }).unref();
  }

  /** The server's pid (0 if it could not be spawned): a worker's client talks to this process only. */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** What the server wrote last on stderr (a failed import's traceback), once it has exited; else "". */
  stderrTailIfEnded(): string {
    return this.ended ? this.tail.toString() : "";
  }

  private static readonly running = new Map<string, ForkServer>();

  /**
   * The running server for this interpreter and import-time environment, started if there is none.
   * `forwardStderr` applies to a server this call starts: what it writes is the import's, once.
   */
  static for(python: string, env: NodeJS.ProcessEnv, forwardStderr: boolean): ForkServer {
    const importEnv = Object.entries(env).filter(([name, value]) => value !== undefined && !READ_AFTER_IMPORT.test(name));
    importEnv.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = JSON.stringify([python, importEnv]);
    let server = ForkServer.running.get(key);
    if (!server) {
      server = new ForkServer(python, Object.fromEntries(importEnv), forwardStderr, () => {
        if (ForkServer.running.get(key) === server) ForkServer.running.delete(key);
      });
      ForkServer.running.set(key, server);
    }
    return server;
  }

  /** Whether workers start through a fork server unless told: on Linux, unless `TFBRIDGE_FORK_SERVER=0`. */
  static byDefault(): boolean {
    return process.platform === "linux" && process.env.TFBRIDGE_FORK_SERVER !== "0";
  }
}
