import { WorkerDiedError, WorkerStartError } from "../errors.js";
import { MAX_MESSAGE_BYTES, WIRE_VERSION } from "../wire/protocol.js";
import type { NDArray } from "../wire/ndarray.js";
import { Connection } from "./connection.js";
import type { Reply, RequestOptions } from "./replies.js";
import { WorkerProcess, type WorkerProcessOptions } from "./process.js";

/** What the worker says about itself in the handshake. */
export interface WorkerInfo {
  protocol: number;
  pid: number;
  python: string;
  numpy: string;
  tensorflow: string;
  keras: string;
  ops: string[];
}

export interface WorkerOptions extends WorkerProcessOptions {
  /** How long start-up (importing TensorFlow) may take before it counts as failed. Default 120 s. */
  startTimeoutMs?: number;
  /**
   * The largest message either side sends or accepts, all frames counted (default 1 GiB, wire.json):
   * a larger request fails with MessageTooLargeError before it is sent, a larger reply becomes one.
   */
  maxMessageBytes?: number;
}

/** One Python worker process and the connection to it: started, handshaken, supervised. */
export class Worker {
  private constructor(
    private readonly process: WorkerProcess,
    private readonly connection: Connection,
    readonly info: WorkerInfo,
    /** Resolves, when the process ends, with the error that requests in flight were rejected with. */
    readonly died: Promise<WorkerDiedError>,
  ) {}

  /** Spawns a worker and waits for its handshake. */
  static async start(options: WorkerOptions = {}): Promise<Worker> {
    const maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    const proc = new WorkerProcess({ ...options, env: { ...options.env, TFBRIDGE_MAX_MESSAGE_BYTES: String(maxMessageBytes) } });
    const connection = new Connection(proc.endpoint, { maxMessageBytes });
    const died = proc.exited.then(({ code, signal }) => new WorkerDiedError(code, signal, proc.stderrTail()));
    void died.then((error) => connection.failAll(error));
    const timeoutMs = options.startTimeoutMs ?? 120_000;
    try {
      const hello = await connection.request<WorkerInfo>("hello", {}, [], { timeoutMs });
      if (hello.result.protocol !== WIRE_VERSION) {
        throw new WorkerStartError(`worker speaks wire version ${hello.result.protocol}, this client ${WIRE_VERSION}`);
      }
      return new Worker(proc, connection, hello.result, died);
    } catch (e) {
      connection.close(e as Error);
      await proc.stop("SIGKILL");
      if (e instanceof WorkerDiedError) throw new WorkerStartError(`the worker died while starting: ${e.message}`);
      throw e;
    }
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get inFlight(): number {
    return this.connection.inFlight;
  }

  /** The endpoint of the proxy channel's socket, in the worker's private folder. */
  get proxyEndpoint(): string {
    return this.process.proxyEndpoint;
  }

  request<R = Record<string, unknown>>(op: string, args?: Record<string, unknown>, arrays?: readonly NDArray[], options?: RequestOptions): Promise<Reply<R>> {
    return this.connection.request<R>(op, args, arrays, options);
  }

  /** Rejects what is in flight with `error`, closes the socket and stops the process. */
  async close(error: Error): Promise<void> {
    this.connection.close(error);
    await this.process.stop();
  }
}
