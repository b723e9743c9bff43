import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { OutputTail } from "../output-tail.js";

/**
 * Environment variables that may differ between workers of one fork server: the worker's own, which it
 * reads only after TensorFlow's import (its token, message cap, CURVE keys), and the number a test
 * runner gives each of its worker processes (vitest's, jest's), which no Python code reads, so that a
 * suite's test files can share one server. Any other variable may change what the import does (oneDNN,
 * thread counts, log levels), so workers that differ in one get different servers.
 */
const NOT_READ_AT_IMPORT = /^(TFBRIDGE_.*|VITEST_POOL_ID|VITEST_WORKER_ID|JEST_WORKER_ID)$/;

/**
 * Names the fork servers a parent process hands down to its children (a test runner to the CLI runs and
 * scripts it starts): `socket pid digest` each, comma-separated, the digest that of the interpreter and
 * import-time environment the server imported with. A child uses one only for workers whose own digest
 * is the same, and else starts its own server: a wrong guess by the parent costs time, never kernels.
 */
export const SHARED_FORK_SERVER = "TFBRIDGE_SHARED_FORK_SERVER";

/**
 * The CPUs this process may run on, which its workers inherit: TensorFlow sizes its thread pools by
 * them, and a forked worker has its server's, so a process under `taskset` needs a server of its own.
 */
function cpuAffinity(): string {
  return /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "";
}

/** The interpreter, CPUs and environment variables that may change what `import tensorflow` does. */
function importKey(python: string, env: NodeJS.ProcessEnv): { digest: string; importEnv: [string, string][] } {
  const importEnv = Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && !NOT_READ_AT_IMPORT.test(e[0]));
  importEnv.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { digest: createHash("sha256").update(JSON.stringify([python, cpuAffinity(), importEnv])).digest("hex"), importEnv };
}

/**
 * Whether `pid` is, today, a fork server of this user listening on `socketName`: a pid alone may have
 * been reused since, or be another user's, and the client would then wait for a socket that never comes.
 */
function isServer(pid: number, socketName: string): boolean {
  try {
    return statSync(`/proc/${pid}`).uid === process.getuid?.() && readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(socketName);
  } catch {
    return false; // gone
  }
}

/**
 * A Python process that imported TensorFlow once and forks workers from there
 * (python/tfbridge_worker/fork_server.py): a worker then starts in a fraction of a second and shares the
 * imported pages, where a fresh interpreter spends seconds of CPU importing TensorFlow. This process
 * keeps one per interpreter and import-time environment while it runs; it does not keep Node alive,
 * and it exits when this process does (its standard input closes).
 */
export class ForkServer {
  private constructor(
    /**
     * The server's socket, in Linux's abstract namespace: no file to clean up or to be cleaned away, and
     * no path length limit. Both ends check who holds the other (the server's pid, this user).
     */
    readonly socketName: string,
    /** The server's pid (0 if it could not be spawned): a worker's client talks to this process only. */
    readonly pid: number,
    private readonly digest: string,
    /** What the server wrote last on stderr once it has exited, else "" (and always "" for a parent's). */
    readonly stderrTailIfEnded: () => string,
  ) {}

  /** This server's entry in {@link SHARED_FORK_SERVER}, which hands it down to a child process. */
  get shareValue(): string {
    return `${this.socketName} ${this.pid} ${this.digest}`;
  }

  private static readonly running = new Map<string, ForkServer>();

  /**
   * The server for this interpreter, these CPUs and this import-time environment: this process's own,
   * else one `env`'s {@link SHARED_FORK_SERVER} hands down if it matches and runs, else one started now.
   * `forwardStderr` applies to a server this call starts: what it writes is the import's, once.
   */
  static for(python: string, env: NodeJS.ProcessEnv, forwardStderr: boolean): ForkServer {
    const { digest, importEnv } = importKey(python, env);
    const own = ForkServer.running.get(digest);
    if (own) return own;
    for (const shared of (env[SHARED_FORK_SERVER] ?? "").split(",")) {
      const [socketName, pid, sharedDigest] = shared.split(" ");
      if (socketName && sharedDigest === digest && Number(pid) > 0 && isServer(Number(pid), socketName)) return new ForkServer(socketName, Number(pid), digest, () => "");
    }
    const server = ForkServer.start(python, Object.fromEntries(importEnv), digest, forwardStderr, () => {
      if (ForkServer.running.get(digest) === server) ForkServer.running.delete(digest);
    });
    ForkServer.running.set(digest, server);
    return server;
  }

  private static start(python: string, env: NodeJS.ProcessEnv, digest: string, forwardStderr: boolean, onEnd: () => void): ForkServer {
    const socketName = `tfbridge-fork-${process.pid}-${randomBytes(12).toString("hex")}`;
    // A process group of its own, as each worker's (see WorkerProcess): a terminal's hangup would end
    // it, and every worker with it. Its stdin closing when this process exits ends it all the same.
    const child = spawn(python, ["-m", "tfbridge_worker.fork_server", "--socket", socketName], { env, stdio: ["pipe", "ignore", "pipe"], detached: true });
    const tail = new OutputTail([child.stderr!], { forward: forwardStderr });
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      onEnd();
    };
    child.once("error", (e) => {
      tail.add(`\n${e.message}`);
      end();
    });
    child.once("close", end); // after its stderr is all read: a failed import's traceback is its last words
    // Idle, the server must not hold this process open; its stdin closing when this process exits ends it.
    child.unref();
    (child.stdin as Writable & { unref(): void }).unref();
    (child.stderr as Readable & { unref(): void }).unref();
    return new ForkServer(socketName, child.pid ?? 0, digest, () => (ended ? tail.toString() : ""));
  }

  /** Whether workers start through a fork server unless told: on Linux, unless `TFBRIDGE_FORK_SERVER=0`. */
  static byDefault(): boolean {
    return process.platform === "linux" && process.env.TFBRIDGE_FORK_SERVER !== "0";
  }
}
