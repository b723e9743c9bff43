import { WorkerDiedError, WorkerStartError } from "../errors.js";
import type { Link } from "../link/link.js";
import { LocalLink } from "../link/local-link.js";
import { shmAddon } from "../link/native.js";
import { Region } from "../link/regions.js";
import type { SharedArray } from "../link/shared-array.js";
import { ZeroMqLink } from "../link/zeromq-link.js";
import type { DType } from "../wire/dtypes.js";
import { MAX_MESSAGE_BYTES, WIRE_VERSION } from "../wire/protocol.js";
import type { NDArray } from "../wire/ndarray.js";
import { Connection } from "./connection.js";
import { privateDir, removePrivateDir } from "./private-dir.js";
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

/** How requests reach a worker on this machine (see {@link WorkerOptions.link}). */
export type LinkKind = "local" | "zeromq";

/** The size of each of the local link's two shared-memory regions unless set: sparse, backed only as used. */
const DEFAULT_REGION_BYTES = 256 * 1024 * 1024;

export interface WorkerOptions extends Omit<WorkerProcessOptions, "linkRegions" | "connect"> {
  /**
   * `local` (the default where its addon is built): a Unix socket pair and shared memory, arrays
   * crossing without a copy on the way back. `zeromq`: the ZeroMQ socket a remote worker would use.
   */
  link?: LinkKind;
  /**
   * The local link's region size for each direction (default 256 MiB). A request whose arrays do not
   * fit waits for room while others are in flight; an array larger than the region goes on the socket.
   */
  linkRegionBytes?: number;
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
    private readonly link: Link,
    readonly info: WorkerInfo,
    /** Resolves, when the process ends, with the error that requests in flight were rejected with. */
    readonly died: Promise<WorkerDiedError>,
  ) {}

  /** Spawns a worker and waits for its handshake. */
  static async start(options: WorkerOptions = {}): Promise<Worker> {
    const maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    const kind = options.link ?? (shmAddon() ? "local" : "zeromq");
    const env = { ...options.env, TFBRIDGE_MAX_MESSAGE_BYTES: String(maxMessageBytes) };
    let shm: { dir: string; regions: [Region, Region] } | null = null;
    if (kind === "local") {
      const dir = privateDir("shm");
      const size = options.linkRegionBytes ?? DEFAULT_REGION_BYTES;
      try {
        shm = { dir, regions: [Region.create(dir, size), Region.create(dir, size)] };
      } catch (e) {
        removePrivateDir(dir);
        throw e;
      }
    }
    // Once the worker has mapped both files (it answered hello, or it is gone), their names can go.
    const unlinkShm = () => {
      if (!shm) return;
      for (const r of shm.regions) r.unlink();
      removePrivateDir(shm.dir);
    };
    const proc = new WorkerProcess({ ...options, env, linkRegions: shm ? [shm.regions[0].path, shm.regions[1].path] : undefined });
    void proc.exited.then(unlinkShm);
    const link = shm ? new LocalLink(proc.linkSocket!, ...shm.regions) : new ZeroMqLink(proc.endpoint);
    const connection = new Connection(link, { maxMessageBytes });
    const died = proc.exited.then(({ code, signal }) => new WorkerDiedError(code, signal, proc.stderrTail()));
    void died.then((error) => connection.failAll(error));
    const timeoutMs = options.startTimeoutMs ?? 120_000;
    try {
      const hello = await connection.request<WorkerInfo>("hello", {}, [], { timeoutMs });
      unlinkShm();
      if (hello.result.protocol !== WIRE_VERSION) {
        throw new WorkerStartError(`worker speaks wire version ${hello.result.protocol}, this client ${WIRE_VERSION}`);
      }
      return new Worker(proc, connection, link, hello.result, died);
    } catch (e) {
      connection.close(e as Error);
      await proc.stop("SIGKILL");
      unlinkShm();
      if (e instanceof WorkerDiedError) throw new WorkerStartError(`the worker died while starting: ${e.message}`);
      throw e;
    }
  }

  /** Which link requests travel on. */
  get linkKind(): LinkKind {
    return this.link instanceof LocalLink ? "local" : "zeromq";
  }

  /** A zero-filled array in the local link's input region; null on the ZeroMQ link or when the region is full. */
  alloc<D extends DType>(dtype: D, shape: readonly number[]): SharedArray<D> | null {
    return this.link instanceof LocalLink ? this.link.alloc(dtype, shape) : null;
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
