import { ModelError, OverloadedError, TfbridgeError, WireError } from "../errors.js";
import type { ModelMode, ModelOutputs } from "../models/handle.js";
import { dtypeInfo } from "../wire/dtypes.js";
import { type NDArray, elementCount, frameBytes } from "../wire/ndarray.js";
import { Deadlines } from "../engine/deadlines.js";
import { PendingRequest } from "../engine/pending.js";
import type { OpArgs, OpResult } from "../wire/ops.js";
import type { Reply } from "../worker/replies.js";

/**
 * Dynamic batching of one model version, as TensorFlow Serving's batcher does it: concurrent requests
 * are merged along the batch axis, run once, and split back.
 */
export interface BatchingOptions {
  /** Rows in one merged run at most (TF Serving's `max_batch_size`); a larger request runs alone. */
  maxBatchSize: number;
  /**
   * How long the first request of a batch waits for others (`batch_timeout_micros`). Under 1000: for
   * the requests arriving in the same event-loop turn; 0 also sends a request at once when none of
   * this version's runs is in flight, so a lone request never waits.
   */
  maxDelayMicros: number;
  /**
   * Pad each merged run with zero rows up to the next of these sizes (`allowed_batch_sizes`), so the
   * worker sees few distinct shapes. The largest must be at least `maxBatchSize`.
   */
  allowedBatchSizes?: readonly number[];
  /**
   * Sizes a batch goes at as soon as it reaches one (Triton's `preferred_batch_size`), without waiting
   * out `maxDelayMicros`; while every worker is busy it keeps filling, as any due batch does. Each at most `maxBatchSize`.
   */
  preferredBatchSizes?: readonly number[];
  /**
   * Priority levels, 1 (first) to this (default 1); a request's `priority` (default
   * `defaultPriority`, else the last level) puts it in that level's batches, and batches go in level
   * order whenever a run slot frees up (Triton's `priority_levels`). Requests of different levels never merge.
   */
  priorityLevels?: number;
  defaultPriority?: number;
  /**
   * What happens to a request still queued (in a batch not yet sent) `timeoutMicros` after it arrived
   * (Triton's queue policy): `reject` settles it with OverloadedError (HTTP 429) at once; `delay`
   * keeps it, but its batch goes after every batch without such a request. Its own deadline still holds.
   */
  queuePolicy?: { timeoutMicros: number; action: "reject" | "delay" };
  /** Merged runs of this version in flight at once, at most (default: as many as the pool's workers run). */
  maxConcurrentRuns?: number;
  /**
   * Run each merged request on its own inside the worker: one message and one dispatch for many
   * requests, with every result bit-identical to an unbatched request's (merged rows can differ in
   * the last bits, see docs/serving.md, "Exactness"). No padding then.
   */
  exact?: boolean;
}

/** What a merged run sends: the inputs, and the worker arguments besides the model's key. */
export type SendBatch = (
  arrays: NDArray[],
  args: Omit<OpArgs<"serve.predict">, "key">,
  options: { timeoutMs: number; signal: AbortSignal },
) => Promise<Reply<OpResult<"serve.predict">>>;

/** One caller inside a batch: its own deadline, cancellation and settling come from its PendingRequest. */
interface Entry {
  request: PendingRequest;
  rows: number;
  batch: Batch | null;
  /** Clears the queue policy's timer. */
  cancelQueueTimer: () => void;
}

interface Batch {
  group: string;
  priority: number;
  /** Holds a request past the queue policy's timeout (action `delay`): it goes after the others. */
  late: boolean;
  /** Its delay passed (or it is full): it goes as soon as the limit of merged runs in flight allows. */
  due: boolean;
  mode: ModelMode;
  outputs: ModelOutputs;
  entries: Entry[];
  rows: number;
  bytes: number;
  sent: boolean;
  cancelTimer: () => void;
  controller: AbortController;
}

/** How many callers may wait in a version's batches (not yet sent), and what happens to one more. */
export interface BatchQueueLimits {
  maxQueued: number;
  /** `reject`: OverloadedError at once (HTTP 429); `wait`: it joins anyway, bounded by its deadline. */
  whenFull: "wait" | "reject";
}

/** Headroom under the message cap for a merged request's header. */
const HEADER_BYTES = 64 * 1024;

/** @throws {ModelError} when the batching options cannot work. */
export function checkBatching(options: BatchingOptions): void {
  const { maxBatchSize, maxDelayMicros, allowedBatchSizes, preferredBatchSizes, priorityLevels = 1, defaultPriority, queuePolicy } = options;
  if (!Number.isSafeInteger(maxBatchSize) || maxBatchSize < 1) throw new ModelError(`batching.maxBatchSize must be an integer ≥ 1, got ${maxBatchSize}`);
  if (!Number.isFinite(maxDelayMicros) || maxDelayMicros < 0) throw new ModelError(`batching.maxDelayMicros must be a number ≥ 0, got ${maxDelayMicros}`);
  if (allowedBatchSizes) {
    if (!allowedBatchSizes.every((n, i) => Number.isSafeInteger(n) && n >= 1 && (i === 0 || n > allowedBatchSizes[i - 1]!))) {
      throw new ModelError(`batching.allowedBatchSizes must be increasing integers ≥ 1, got ${JSON.stringify(allowedBatchSizes)}`);
    }
    if (allowedBatchSizes.at(-1)! < maxBatchSize) throw new ModelError(`batching.allowedBatchSizes must reach maxBatchSize (${maxBatchSize}), got ${JSON.stringify(allowedBatchSizes)}`);
  }
  if (preferredBatchSizes && !(Array.isArray(preferredBatchSizes) && preferredBatchSizes.every((n) => Number.isSafeInteger(n) && n >= 1 && n <= maxBatchSize))) {
    throw new ModelError(`batching.preferredBatchSizes must be integers from 1 to maxBatchSize (${maxBatchSize}), got ${JSON.stringify(preferredBatchSizes)}`);
  }
  if (!Number.isSafeInteger(priorityLevels) || priorityLevels < 1) throw new ModelError(`batching.priorityLevels must be an integer ≥ 1, got ${priorityLevels}`);
  if (defaultPriority !== undefined) checkPriority(defaultPriority, priorityLevels, "batching.defaultPriority");
  if (options.maxConcurrentRuns !== undefined && (!Number.isSafeInteger(options.maxConcurrentRuns) || options.maxConcurrentRuns < 1)) {
    throw new ModelError(`batching.maxConcurrentRuns must be an integer ≥ 1, got ${options.maxConcurrentRuns}`);
  }
  if (queuePolicy !== undefined) {
    if (typeof queuePolicy !== "object" || queuePolicy === null || !Number.isFinite(queuePolicy.timeoutMicros) || queuePolicy.timeoutMicros < 0 || !["reject", "delay"].includes(queuePolicy.action)) {
      throw new ModelError(`batching.queuePolicy must be { timeoutMicros: a number ≥ 0, action: "reject" or "delay" }, got ${JSON.stringify(queuePolicy)}`);
    }
    // A lone request waits maxDelayMicros for company on an idle pool: a shorter queue timeout would refuse it every time.
    if (queuePolicy.timeoutMicros <= maxDelayMicros) throw new ModelError(`batching.queuePolicy.timeoutMicros (${queuePolicy.timeoutMicros}) must be more than maxDelayMicros (${maxDelayMicros}), which every batch may wait`);
  }
}

/** @throws {ModelError} unless `priority` is a level from 1 to `levels`. */
export function checkPriority(priority: number, levels: number, what = "priority"): void {
  if (!Number.isSafeInteger(priority) || priority < 1 || priority > levels) throw new ModelError(`${what} must be an integer from 1 to ${levels} (the model's priorityLevels), got ${priority}`);
}

/** The rows of a request: every input's first dimension, which must agree. */
function batchRows(arrays: readonly NDArray[]): number {
  const rows = arrays[0]?.shape[0];
  if (rows === undefined || arrays.some((a) => a.shape[0] !== rows)) {
    throw new ModelError(`batching needs every input to have the same batch size (first dimension), got ${JSON.stringify(arrays.map((a) => a.shape[0] ?? null))}`);
  }
  return rows;
}

/**
 * Merges the requests of one model version; one instance per version that has batching on.
 *
 * A batch goes when it is full or its delay has passed, but only while fewer merged runs are in flight
 * than the pool can run at once (`capacity`): while every worker is busy, a due batch keeps filling
 * (up to maxBatchSize) instead of queueing behind the others in small pieces. So batches grow with
 * load by themselves, and a lone request still goes after maxDelayMicros.
 */
export class Batcher {
  private readonly open = new Map<string, Batch>();
  /** Full (sealed) batches waiting for room, in the order they were sealed; pump() picks by priority level first. */
  private readonly waiting: Batch[] = [];
  private inFlight = 0;
  private nextId = 1;
  /** Callers in batches not yet sent. */
  private queued = 0;
  /** The callers' deadlines, on one timer. */
  private readonly deadlines = new Deadlines();

  constructor(
    private readonly options: BatchingOptions,
    private readonly maxMessageBytes: number,
    /** Merged runs the pool can run at once. */
    private readonly capacity: () => number,
    private readonly send: SendBatch,
    /** Told each merged run's rows as sent (padding included). */
    private readonly observe: (rows: number) => void,
    private readonly limits: BatchQueueLimits = { maxQueued: Infinity, whenFull: "wait" },
  ) {}

  /**
   * Queues `arrays` (already checked against the signature) for the next merged run of `mode`/`outputs`.
   * Only requests whose inputs agree in dtype and every non-batch dimension merge: a model with a free
   * axis (an LSTM over any number of timesteps) gets one batch per shape.
   * @throws {MessageTooLargeError} for a request that alone is over the message cap.
   * @throws {OverloadedError} when `maxQueued` callers already wait and the limits say reject.
   */
  submit(arrays: NDArray[], mode: ModelMode, outputs: ModelOutputs, limits: { timeoutMs: number; signal?: AbortSignal; priority?: number }): Promise<Reply<OpResult<"serve.predict">>> {
    const rows = batchRows(arrays);
    const levels = this.options.priorityLevels ?? 1;
    const priority = limits.priority ?? this.options.defaultPriority ?? levels;
    checkPriority(priority, levels);
    if (this.queued >= this.limits.maxQueued && this.limits.whenFull === "reject") throw new OverloadedError(this.queued);
    const entry: Entry = { request: null!, rows, batch: null, cancelQueueTimer: () => {} };
    entry.request = new PendingRequest(this.nextId++, "serve.predict", {}, arrays, { ...limits, maxMessageBytes: this.maxMessageBytes }, this.deadlines, (_, gaveUp) => {
      entry.cancelQueueTimer();
      if (gaveUp) this.leave(entry);
    });
    this.queued++;
    const group = `p${priority}/${mode}/${outputs}/${arrays.map((a) => `${a.dtype}[${a.shape.slice(1).join(",")}]`).join(";")}`;
    const bytes = arrays.reduce((n, a) => n + frameBytes(a), 0);
    let batch = this.open.get(group);
    if (batch && (batch.rows + rows > this.options.maxBatchSize || batch.bytes + bytes > this.maxMessageBytes - HEADER_BYTES)) {
      this.seal(batch);
      batch = undefined;
    }
    batch ??= this.start(group, priority, mode, outputs);
    batch.entries.push(entry);
    entry.batch = batch;
    const before = batch.rows;
    batch.rows += rows;
    batch.bytes += bytes;
    if (batch.rows >= this.options.maxBatchSize) this.seal(batch);
    // A multi-row request can step over a preferred size: reaching it means passing it too.
    else if (this.options.preferredBatchSizes?.some((p) => before < p && p <= batch.rows)) batch.due = true;
    this.watchQueueTime(entry);
    this.pump();
    return entry.request.promise as Promise<Reply<OpResult<"serve.predict">>>;
  }

  /** The queue policy's timer: past it, an entry still queued is rejected, or its batch goes last. */
  private watchQueueTime(entry: Entry): void {
    const policy = this.options.queuePolicy;
    if (!policy) return;
    const timer = setTimeout(() => {
      const batch = entry.batch;
      if (!batch || batch.sent || entry.request.isSettled) return;
      if (policy.action === "delay") {
        batch.late = true;
        // Requests arriving from now on have not waited: they start a batch of their own.
        if (this.open.get(batch.group) === batch) this.seal(batch);
        return;
      }
      this.leave(entry);
      entry.request.settle({ error: new OverloadedError(this.queued, `waited ${policy.timeoutMicros} µs in the model's queue, its batch not yet sent (batching.queuePolicy: reject)`) });
      this.pump();
    }, Math.min(policy.timeoutMicros / 1000, 2 ** 31 - 1));
    entry.cancelQueueTimer = () => clearTimeout(timer);
  }

  /** Sends every batch now, whatever is in flight (unload drains through this). */
  flushAll(): void {
    for (const batch of [...this.waiting, ...this.open.values()]) this.flush(batch);
  }

  private start(group: string, priority: number, mode: ModelMode, outputs: ModelOutputs): Batch {
    const batch: Batch = { group, priority, late: false, due: false, mode, outputs, entries: [], rows: 0, bytes: 0, sent: false, cancelTimer: () => {}, controller: new AbortController() };
    const due = () => {
      batch.due = true;
      this.pump();
    };
    const ms = this.options.maxDelayMicros / 1000;
    // With no delay and nothing of ours in flight, a lone request goes at once. Otherwise, below a
    // millisecond (setTimeout's grain), the batch waits for the requests arriving in this turn: the
    // callers of a finished run come back together, and should go together.
    if (ms === 0 && this.inFlight === 0) batch.due = true;
    else if (ms < 1) {
      const immediate = setImmediate(due);
      batch.cancelTimer = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(due, ms);
      batch.cancelTimer = () => clearTimeout(timer);
    }
    this.open.set(group, batch);
    return batch;
  }

  /** A full batch: no more rows join it; it waits for room. */
  private seal(batch: Batch): void {
    this.close(batch);
    batch.due = true;
    this.waiting.push(batch);
  }

  /**
   * Sends batches while fewer merged runs are in flight than the pool runs at once: by priority level
   * (a late batch after every other), and within a level full batches first, in the order they filled,
   * then due open ones.
   */
  private pump(): void {
    const rank = (b: Batch) => (b.late ? Infinity : b.priority);
    const slots = Math.min(Math.max(1, this.capacity()), this.options.maxConcurrentRuns ?? Infinity);
    while (this.inFlight < slots) {
      let next: Batch | undefined;
      for (const b of [...this.waiting, ...[...this.open.values()].filter((o) => o.due)]) if (!next || rank(b) < rank(next)) next = b;
      if (!next) return;
      this.flush(next);
    }
  }

  /** A caller gave up (deadline, abort): out of a batch not yet sent; a sent batch nobody waits for is cancelled. */
  private leave(entry: Entry): void {
    const batch = entry.batch;
    if (!batch) return;
    if (!batch.sent) {
      this.queued--;
      batch.entries.splice(batch.entries.indexOf(entry), 1);
      batch.rows -= entry.rows;
      batch.bytes -= entry.request.arrays.reduce((n, a) => n + frameBytes(a), 0);
      if (batch.entries.length === 0) {
        this.close(batch);
        const i = this.waiting.indexOf(batch);
        if (i >= 0) this.waiting.splice(i, 1);
      }
    } else if (batch.entries.every((e) => e.request.isSettled)) batch.controller.abort(new Error("every caller of the batch gave up"));
  }

  private close(batch: Batch): void {
    batch.cancelTimer();
    if (this.open.get(batch.group) === batch) this.open.delete(batch.group);
  }

  private flush(batch: Batch): void {
    this.close(batch);
    const i = this.waiting.indexOf(batch);
    if (i >= 0) this.waiting.splice(i, 1);
    batch.sent = true;
    const entries = batch.entries;
    for (const e of entries) e.cancelQueueTimer();
    this.queued -= entries.length;
    if (entries.length === 0) return;
    const exact = this.options.exact ?? false;
    const target = exact ? batch.rows : (this.options.allowedBatchSizes?.find((n) => n >= batch.rows) ?? batch.rows);
    const args = { mode: batch.mode, outputs: batch.outputs, ...(exact ? { split: entries.map((e) => e.rows) } : {}) };
    const timeoutMs = Math.max(0, ...entries.map((e) => e.request.deadline - Date.now()));
    this.inFlight++;
    // Runs from a timer: whatever throws in here (merging, sending) must reach the callers, not the process.
    const settled = (async () => {
      const inputs = entries[0]!.request.arrays.map((_, i) => concatRows(entries.map((e) => e.request.arrays[i]!), target));
      this.observe(target);
      return this.send(inputs, args, { timeoutMs, signal: batch.controller.signal });
    })().finally(() => {
      this.inFlight--;
      this.pump();
    });
    settled.then(
      (reply) => {
        let offset = 0;
        for (const e of entries) {
          const arrays = reply.arrays.map((a) => sliceRows(a, offset, e.rows));
          offset += e.rows;
          e.request.settle({ reply: { result: reply.result, arrays, names: reply.names } });
        }
      },
      (cause: Error) => {
        const error = cause instanceof TfbridgeError ? cause : new WireError(`a merged batch of ${entries.length} requests failed before it was sent: ${cause.message}`);
        for (const e of entries) e.request.settle({ error });
      },
    );
  }
}

/** The arrays stacked along the first axis, with zero rows after them up to `rows`. */
function concatRows(parts: readonly NDArray[], rows: number): NDArray {
  const first = parts[0]!;
  if (parts.length === 1 && first.shape[0] === rows) return first;
  const rowSize = elementCount(first.shape.slice(1));
  const shape = [rows, ...first.shape.slice(1)];
  if (first.dtype === "string") {
    const data = parts.flatMap((p) => p.data as string[]);
    return { dtype: "string", shape, data: data.concat(new Array<string>(rows * rowSize - data.length).fill("")) };
  }
  const data = new (dtypeInfo(first.dtype).typedArray)(rows * rowSize);
  let at = 0;
  for (const p of parts) {
    (data as Uint8Array).set(p.data as Uint8Array, at);
    at += p.data.length;
  }
  return { dtype: first.dtype, shape, data };
}

/** Rows [start, start + count) of `a`, as an array of its own. */
function sliceRows(a: NDArray, start: number, count: number): NDArray {
  const rowSize = elementCount(a.shape.slice(1));
  return { dtype: a.dtype, shape: [count, ...a.shape.slice(1)], data: (a.data as Uint8Array | string[]).slice(start * rowSize, (start + count) * rowSize) as NDArray["data"] };
}
