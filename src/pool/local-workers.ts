import { randomUUID } from "node:crypto";
import { type ExitInfo, WorkerProcess } from "../worker/process.js";

/** How a pool starts its own workers. */
export interface LocalWorkerOptions {
  python?: string;
  forwardStderr?: boolean;
  /** The pool's own IPC endpoint, which local workers connect to. */
  endpoint: string;
  maxMessageBytes: number;
  /** With CurveZMQ: the local workers' own key pair and the pool's public key. */
  curve: { publicKey: string; secretKey: string; serverKey: string } | null;
}

/**
 * The worker processes a pool spawns on this machine. Each gets a random token in its environment,
 * which it sends back in its `ready` message, so the pool can tell its own workers from remote ones.
 */
export class LocalWorkers {
  private readonly starting = new Map<string, WorkerProcess>(); // by token, until their worker is ready
  private readonly retired = new WeakSet<WorkerProcess>();

  /** `onExit` hears of every process that ends, but for those {@link retire}d. */
  constructor(
    private readonly options: LocalWorkerOptions,
    private readonly onExit: (proc: WorkerProcess, exit: ExitInfo) => void,
  ) {}

  spawn(): void {
    const token = randomUUID();
    const { curve } = this.options;
    const env: Record<string, string> = curve
      ? { TFBRIDGE_CURVE_PUBLIC_KEY: curve.publicKey, TFBRIDGE_CURVE_SECRET_KEY: curve.secretKey, TFBRIDGE_CURVE_SERVER_KEY: curve.serverKey }
      : {};
    env.TFBRIDGE_WORKER_TOKEN = token;
    env.TFBRIDGE_MAX_MESSAGE_BYTES = String(this.options.maxMessageBytes);
    const proc = new WorkerProcess({ python: this.options.python, forwardStderr: this.options.forwardStderr, connect: this.options.endpoint, env });
    this.starting.set(token, proc);
    void proc.exited.then((exit) => {
      this.starting.delete(token);
      if (!this.retired.has(proc)) this.onExit(proc, exit);
    });
  }

  /** The process that was given `token`, now that its worker is ready; undefined for a token not ours. */
  claim(token: string): WorkerProcess | undefined {
    const proc = this.starting.get(token);
    this.starting.delete(token);
    return proc;
  }

  /** Kills a process whose worker the pool gave up on; its exit is not reported. */
  retire(proc: WorkerProcess): void {
    this.retired.add(proc);
    void proc.stop("SIGKILL");
  }

  /** Stops the processes whose workers never got ready. */
  async stopStarting(): Promise<void> {
    await Promise.all([...this.starting.values()].map((p) => p.stop()));
  }
}
