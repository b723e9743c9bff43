import type { NDArray } from "../wire/ndarray.js";
import type { OpArgs, OpName, OpResult } from "../wire/ops.js";
import type { Reply, RequestOptions } from "../worker/replies.js";
import type { WorkerInfo } from "../worker/info.js";

/** Options of a request the serving layer sends through its host. */
export interface HostRequestOptions extends RequestOptions {
  idempotent?: boolean;
}

/**
 * What serving needs from the pool it runs on (the Pool implements it): dispatch to any worker, a
 * request to one named worker, and who the workers are. Serving imports nothing of the pool itself.
 */
export interface ServingHost {
  /** One request, to whichever worker the pool's dispatch picks. */
  call<K extends OpName>(op: K, args: OpArgs<K>, arrays: readonly NDArray[], options: HostRequestOptions): Promise<Reply<OpResult<K>>>;
  /** One request to the worker `workerId`, past the queue; it fails with WorkerDiedError if that worker goes. */
  callOn<K extends OpName>(workerId: string, op: K, args: OpArgs<K>, arrays: readonly NDArray[], options?: RequestOptions): Promise<Reply<OpResult<K>>>;
  /** Requests the live workers take at once (each runs one, with more sent ahead). */
  readonly capacity: number;
  /** The live workers; `leaving` ones take no new requests. */
  readonly workers: readonly { id: string; info: WorkerInfo; leaving: boolean }[];
  /** Resolves once at least `count` workers are live and not leaving. */
  waitForWorkers(count: number, timeoutMs?: number): Promise<void>;
}
