import { randomUUID } from "node:crypto";
import { LocalLink } from "../link/local-link.js";
import type { LinkKind } from "../link/link.js";
import { Region } from "../link/regions.js";
import { privateDir, removePrivateDir } from "../worker/private-dir.js";
import { type ExitInfo, WorkerProcess } from "../worker/process.js";
import type { RouterAddress, Spawned, WorkerFactory, Workers } from "./workers.js";

/** The size of each of the local link's two shared-memory regions unless set: sparse, backed only as used. */
export const DEFAULT_REGION_BYTES = 256 * 1024 * 1024;

/** How an engine starts its own workers. */
export interface LocalWorkerOptions {
  python?: string;
  forwardStderr?: boolean;
  /** Default: `local` where its addon is built, else `zeromq`. */
  link?: LinkKind;
  /** On the ZeroMQ link: the router's IPC endpoint, which local workers connect to. */
  endpoint?: string;
  /** The local link's region size for each direction. */
  regionBytes?: number;
  maxMessageBytes: number;
  /** Serve pythonia proxies (a Bridge's `python`). */
  proxies?: boolean;
  /** With CurveZMQ: the local workers' own key pair and the router's public key. */
  curve?: { publicKey: string; secretKey: string; serverKey: string } | null;
  env?: Record<string, string>;
  /** Fork workers from a process that imported TensorFlow already (src/worker/fork-server.ts). */
  forkServer?: boolean;
}

/** A worker process just started. On the local link its link exists already; on ZeroMQ it joins by token. */
interface Started extends Spawned {
  process: WorkerProcess;
}

/**
 * The worker processes an engine spawns on this machine, on either link. Each gets a random token in
 * its environment, which a ZeroMQ worker sends back in its `ready` message, so the engine can tell its
 * own workers from remote ones. A local-link worker's shared-memory files are unlinked once it has
 * mapped them (it joined) or it is gone.
 */
export class LocalWorkers implements Workers {
  private readonly starting = new Map<string, Started>(); // by token, until their worker is ready
  private readonly unlinkShm = new Map<WorkerProcess, () => void>();
  private readonly retired = new WeakSet<WorkerProcess>();

  /** `onExit` hears of every process that ends, but for those {@link retire}d. */
  constructor(
    private readonly options: LocalWorkerOptions,
    private readonly onExit: (proc: WorkerProcess, exit: ExitInfo) => void,
  ) {}

  spawn(): Started {
    const token = randomUUID();
    const { curve, link } = this.options;
    const env: Record<string, string> = { ...this.options.env };
    if (curve) Object.assign(env, { TFBRIDGE_CURVE_PUBLIC_KEY: curve.publicKey, TFBRIDGE_CURVE_SECRET_KEY: curve.secretKey, TFBRIDGE_CURVE_SERVER_KEY: curve.serverKey });
    env.TFBRIDGE_WORKER_TOKEN = token;
    env.TFBRIDGE_MAX_MESSAGE_BYTES = String(this.options.maxMessageBytes);
    const shm = link === "local" ? makeRegions(this.options.regionBytes ?? DEFAULT_REGION_BYTES) : null;
    let proc: WorkerProcess;
    try {
      proc = new WorkerProcess({
        python: this.options.python,
        forwardStderr: this.options.forwardStderr,
        proxies: this.options.proxies,
        forkServer: this.options.forkServer,
        env,
        ...(shm ? { linkRegions: [shm.regions[0].path, shm.regions[1].path] as const } : { connect: this.options.endpoint }),
      });
    } catch (e) {
      shm?.unlink();
      throw e;
    }
    const spawned: Started = { process: proc, link: shm ? new LocalLink(proc.linkSocket!, ...shm.regions, this.options.maxMessageBytes) : null };
    this.starting.set(token, spawned);
    if (shm) this.unlinkShm.set(proc, shm.unlink);
    void proc.exited.then((exit) => {
      this.starting.delete(token);
      this.mapped(proc);
      if (!this.retired.has(proc)) this.onExit(proc, exit);
    });
    return spawned;
  }

  /** The process that was given `token`, now that its ZeroMQ worker is ready; undefined for a token not ours. */
  claim(token: string): WorkerProcess | undefined {
    const spawned = this.starting.get(token);
    if (!spawned || spawned.link) return undefined; // a local-link worker's token means nothing on a socket
    this.starting.delete(token);
    return spawned.process;
  }

  /** A local-link worker joined: it has mapped its regions, so their names can go. */
  joined(proc: WorkerProcess): void {
    for (const [token, s] of this.starting) if (s.process === proc) this.starting.delete(token);
    this.mapped(proc);
  }

  /** Kills a process whose worker the engine gave up on; its exit is not reported. */
  retire(proc: WorkerProcess): void {
    this.retired.add(proc);
    void proc.stop("SIGKILL");
  }

  /** Stops the processes whose workers never got ready. */
  async stopStarting(): Promise<void> {
    await Promise.all([...this.starting.values()].map((s) => s.process.stop()));
  }

  private mapped(proc: WorkerProcess): void {
    this.unlinkShm.get(proc)?.();
    this.unlinkShm.delete(proc);
  }
}

/** The real {@link WorkerFactory}: worker processes on this machine, on the local link or the engine's router. */
export function localWorkers(options: Omit<LocalWorkerOptions, "endpoint" | "curve">): WorkerFactory {
  return (router: RouterAddress, onExit) => new LocalWorkers({ ...options, endpoint: router.endpoint, curve: router.curve }, onExit);
}

/** The local link's two regions (inputs, outputs) in a private folder, and how to remove their names. */
function makeRegions(size: number): { regions: [Region, Region]; unlink: () => void } {
  const dir = privateDir("shm");
  try {
    const regions: [Region, Region] = [Region.create(dir, size), Region.create(dir, size)];
    return {
      regions,
      unlink: () => {
        for (const r of regions) r.unlink();
        removePrivateDir(dir);
      },
    };
  } catch (e) {
    removePrivateDir(dir);
    throw e;
  }
}
