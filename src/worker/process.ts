import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Socket } from "node:net";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { WorkerStartError } from "../errors.js";
import { OutputTail } from "../output-tail.js";
import { packageRoot } from "../paths.js";
import { SETUP_COMMAND, findPython } from "../setup/env.js";
import { ForkServer, SHARED_FORK_SERVER } from "./fork-server.js";
import { privateDir, removePrivateDir } from "./private-dir.js";

/** How the Python worker process is started. */
export interface WorkerProcessOptions {
  /**
   * Python interpreter with TensorFlow; default `$TFBRIDGE_PYTHON`, else a clone's `.venv`, else the env
   * made by `tfbridge setup` (see findPython).
   */
  python?: string;
  /** Copy the worker's stderr to this process's stderr as it arrives (it is always kept as a tail). */
  forwardStderr?: boolean;
  /**
   * ZeroMQ: the worker connects to this router endpoint and heartbeats (python/tfbridge_worker/connected.py).
   */
  connect?: string;
  /**
   * The local link (src/link/local-link.ts): the worker serves over its file descriptor 3, one end of
   * a Unix socket pair, with these two shared-memory files (inputs, outputs), and heartbeats there.
   */
  linkRegions?: readonly [string, string];
  /** Serve pythonia proxies on a socket in the worker's private folder (op py.start). */
  proxies?: boolean;
  /** Extra environment variables for the worker. */
  env?: Record<string, string>;
  /**
   * Fork the worker from a process that imported TensorFlow already (src/worker/fork-server.ts) rather
   * than start a fresh interpreter. Default: on Linux, unless `TFBRIDGE_FORK_SERVER=0`.
   */
  forkServer?: boolean;
}

/** How the process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** pythonia's Python sources, which the worker serves proxies with (python/tfbridge_worker/proxies.py). */
const PYTHONIA_DIR = dirname(createRequire(import.meta.url).resolve("pythonia/src/pythonia/Bridge.py"));

export function defaultPython(): string {
  return findPython().python;
}

/** The environment a worker runs in: `base` (this process's), the caller's extra variables, and ours. */
function workerEnvironment(base: NodeJS.ProcessEnv, extra?: Record<string, string>): NodeJS.ProcessEnv {
  return { ...base, ...extra, PYTHONPATH: join(packageRoot, "python"), PYTHONUNBUFFERED: "1" };
}

/** Which fork servers {@link shareForkServer} hands down. */
export interface ShareForkServerOptions {
  /**
   * The environments the child will start its workers from, one server each (default: the child's
   * `env` itself). A child's CLI run, for one, gives its workers `TF_CPP_MIN_LOG_LEVEL=2`.
   */
  workerBases?: NodeJS.ProcessEnv[];
  /** The interpreter the child will use; default the one it would find (`$TFBRIDGE_PYTHON` in `env`, …). */
  python?: string;
}

/**
 * `env`, for a child process to run with (a CLI run, a script), handing down this process's fork
 * servers (src/worker/fork-server.ts) for the workers that child will start: the child then forks them
 * from here instead of importing TensorFlow itself. Where its workers' interpreter, CPUs or environment
 * turn out different, it starts its own server, as it would have. Linux only: elsewhere, or with
 * `TFBRIDGE_FORK_SERVER=0`, `env` comes back unchanged. Each server not running yet starts now (about
 * 350 MB resident) and ends with this process, and so do the workers forked from it: for children
 * that end before this process does.
 */
export function shareForkServer(env: NodeJS.ProcessEnv, options: ShareForkServerOptions = {}): NodeJS.ProcessEnv {
  const python = options.python ?? (env.TFBRIDGE_PYTHON || defaultPython());
  if (!ForkServer.byDefault() || env.TFBRIDGE_FORK_SERVER === "0" || !existsSync(python)) return env;
  const servers = (options.workerBases ?? [env]).map((base) => ForkServer.for(python, workerEnvironment(base), false).shareValue);
  return { ...env, [SHARED_FORK_SERVER]: servers.join(",") };
}

/**
 * A Python worker process with a private temporary folder, its stderr tail, and its end.
 * The worker watches its stdin and exits when this process goes away, however that happens.
 */
export class WorkerProcess {
  /** Where the worker binds pythonia's channel once asked to (op py.start). */
  readonly proxyEndpoint: string;
  readonly exited: Promise<ExitInfo>;
  /** In local-link mode, this process's end of the socket pair. */
  readonly linkSocket: Socket | null;
  private readonly child: ChildProcess;
  private readonly dir: string;
  private readonly forkServer: ForkServer | null;
  private readonly tail: OutputTail;

  constructor(options: WorkerProcessOptions = {}) {
    const python = options.python ?? defaultPython();
    if (!existsSync(python)) {
      throw new WorkerStartError(`no Python interpreter at ${python}: run \`${SETUP_COMMAND}\` (\`make setup\` in a clone of tfbridge), or pass { python } / set TFBRIDGE_PYTHON`);
    }
    this.dir = privateDir("worker"); // mode 0700: only this user reaches the socket
    this.proxyEndpoint = `ipc://${join(this.dir, "pythonia.sock")}`;
    // --temp-dir: TensorFlow's temporary files go into our private folder, removed when the worker ends.
    const args = ["--exit-with-stdin", "--temp-dir", join(this.dir, "tmp")];
    if (options.linkRegions) args.push("--link-fd", "3", "--link-regions", ...options.linkRegions);
    else if (options.connect) args.push("--connect", options.connect);
    else throw new WorkerStartError("a worker needs a link: linkRegions or connect");
    if (options.proxies) args.push("--pythonia-dir", PYTHONIA_DIR, "--pythonia-endpoint", this.proxyEndpoint);
    const env = workerEnvironment(process.env, options.env);
    this.forkServer = (options.forkServer ?? ForkServer.byDefault()) ? ForkServer.for(python, env, options.forwardStderr ?? false) : null;
    // Through the fork server, this process is a small client that stands for the worker: it passes on
    // its descriptors and the signals it gets, and ends as the worker does (fork_client.py).
    const command = this.forkServer
      ? ["-S", "-m", "tfbridge_worker.fork_client", "--server", this.forkServer.socketName, "--server-pid", String(this.forkServer.pid), "--", ...args]
      : ["-m", "tfbridge_worker", ...args];
    this.child = spawn(python, command, {
      env,
      // A fourth descriptor of kind "pipe" is a Unix socket pair, both ways: the local link's.
      stdio: options.linkRegions ? ["pipe", "ignore", "pipe", "pipe"] : ["pipe", "ignore", "pipe"],
      // A process group of its own: a terminal's Ctrl-C or hangup reaches this process's whole group,
      // and would end the worker (Python's KeyboardInterrupt) while this process drains its requests.
      // It ends with this process all the same: --exit-with-stdin.
      detached: true,
    });
    this.linkSocket = options.linkRegions ? (this.child.stdio[3] as Socket) : null;
    this.tail = new OutputTail([this.child.stderr!], { forward: options.forwardStderr ?? false });
    this.exited = new Promise((resolve) => {
      this.child.once("error", (e) => {
        this.tail.add(`\n${e.message}`);
        resolve({ code: null, signal: null });
      });
      this.child.once("close", (code, signal) => resolve({ code, signal }));
    });
    void this.exited.then(() => removePrivateDir(this.dir));
  }

  /** The pid of the process this spawned: the worker, or, through the fork server, the client that stands for it. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last few KiB the worker wrote to stderr, and its fork server's if that has exited. */
  stderrTail(): string {
    const server = this.forkServer?.stderrTailIfEnded();
    return server ? `${this.tail}\nthe worker fork server's stderr:\n${server}` : this.tail.toString();
  }

  /** Sends `signal` and waits for the process to end; SIGKILL follows after `graceMs`. */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 2000): Promise<ExitInfo> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
      try {
        return await this.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return this.exited;
  }
}
