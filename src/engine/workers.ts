import type { Link } from "../link/link.js";
import type { ExitInfo, WorkerProcess } from "../worker/process.js";

/** What the engine needs of a worker process it started: the real one is a {@link WorkerProcess}. */
export type WorkerHandle = Pick<WorkerProcess, "pid" | "proxyEndpoint" | "stderrTail" | "stop">;

/** A worker just started: its link now, or null when it joins through the engine's ZeroMQ router by token. */
export interface Spawned {
  process: WorkerHandle;
  link: Link | null;
}

/**
 * The workers an engine starts itself. The engine supervises; this starts, recognizes and stops
 * processes. The real one is {@link LocalWorkers}; tests give the engine one whose links answer in-process.
 */
export interface Workers {
  /** Starts one; it serves once its `ready` arrives. */
  spawn(): Spawned;
  /** The process given `token`, now that its ZeroMQ worker said `ready`; undefined for a token not ours. */
  claim(token: string): WorkerHandle | undefined;
  /** A worker joined (said `ready`). */
  joined(proc: WorkerHandle): void;
  /** Kills a process the engine gave up on; its exit is not reported. */
  retire(proc: WorkerHandle): void;
  /** Stops the processes that never said `ready`. */
  stopStarting(): Promise<void>;
}

/** Where the engine's own ZeroMQ workers connect, when they use ZeroMQ. */
export interface RouterAddress {
  endpoint: string | undefined;
  curve: { publicKey: string; secretKey: string; serverKey: string } | null;
}

/**
 * How an engine gets its {@link Workers}: called once, with its router's address and the callback
 * that hears of every process that ends (but those retired).
 */
export type WorkerFactory = (router: RouterAddress, onExit: (proc: WorkerHandle, exit: ExitInfo) => void) => Workers;
