import { MessageTooLargeError, ModelError, ModelLoadError, ModelNotFoundError, type TfbridgeError, WorkerDiedError } from "../errors.js";
import { type ModelInputs, type ModelMode, type Prediction, type TensorInfo, orderInputs } from "../models/handle.js";
import type { NDArray } from "../wire/ndarray.js";
import type { OpArgs, OpResult } from "../wire/ops.js";
import type { PendingRequest } from "../engine/pending.js";
import type { RequestOptions } from "../worker/replies.js";
import { type BatchQueueLimits, Batcher, type BatchingOptions, checkBatching, checkPriority } from "./batcher.js";
import { ConcurrencyLimit } from "./concurrency-limit.js";
import type { ServingHost } from "./host.js";
import type { ServingMetrics } from "./metrics.js";
import { type ModelPayload, type ModelSource, readModelSource } from "./source.js";

/** Options of `pool.loadModel`. */
export interface LoadModelOptions extends RequestOptions {
  /** The name requests use. */
  name: string;
  /** A positive integer; default one more than the highest version of `name` loaded. */
  version?: number;
  /** Make this version the default of `name` (the first version loaded is the default anyway). */
  default?: boolean;
  /**
   * Run a request on each worker before the version takes traffic (default true): zeros of the input
   * signature with batch 1, or the `inputs` given (in the model's input order, or by input name), in
   * each of `modes` (default `["session"]`).
   */
  warmup?: boolean | { inputs?: readonly NDArray[] | Readonly<Record<string, NDArray>>; modes?: ModelMode[] };
  /** Merge concurrent requests (off by default): see {@link BatchingOptions}. */
  batching?: BatchingOptions;
  /**
   * For a version that does not batch: at most this many of its requests on the workers at once (its
   * share of the pool, as Triton's per-model instance count); the rest wait in arrival order, each
   * within its deadline, in a queue of the version's own bounded as the pool's is (`maxQueue`, `whenFull`). Default: no limit. A batched version
   * limits its merged runs with `batching.maxConcurrentRuns` instead.
   */
  maxConcurrentRequests?: number;
}

/** Options of `pool.predict`. */
export interface ServePredictOptions extends RequestOptions {
  /** Default: the model's default version. */
  version?: number;
  /** Default `session`. */
  mode?: ModelMode;
  /** `model` (default) or `layers` (not for SavedModels). */
  outputs?: "model" | "layers";
  /** The request's priority level, 1 first (see `BatchingOptions.priorityLevels`; batched versions only). */
  priority?: number;
}

/** What `pool.predict` gives back: the prediction, and which version made it. */
export interface ServedPrediction extends Prediction {
  model: string;
  version: number;
}

/** One served version as `pool.models()` lists it and `pool.servedVersion()` gives it. */
export interface ServedVersionInfo {
  name: string;
  version: number;
  isDefault: boolean;
  /** The content hash that names it on the workers. */
  key: string;
  /** Workers it is loaded (and warmed) on, or being loaded on at their first request for it. */
  workers: number;
  /** Its inputs and outputs (name, shape, dtype) as the workers reported them. */
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  batching: BatchingOptions | null;
  /** Its requests allowed on the workers at once (unbatched versions), or null for no limit. */
  maxConcurrentRequests: number | null;
}

/** A loaded version: its payload (for workers that join later) and what the workers said about it. */
interface Version {
  name: string;
  version: number;
  payload: ModelPayload;
  load: { args: OpArgs<"serve.load">; arrays: NDArray[] };
  info: OpResult<"serve.load">;
  batcher: Batcher | null;
  batching: BatchingOptions | null;
  limit: ConcurrencyLimit | null;
  /** Requests accepted and not yet settled: unload waits for them. */
  outstanding: number;
  drained: (() => void)[];
}

interface Named {
  versions: Map<number, Version>;
  /** Versions being loaded: their numbers are taken. */
  loading: Set<number>;
  defaultVersion: number | null;
}

/**
 * The models a pool serves, by name and version: loading on every worker (and lazily on workers that
 * join later, by content hash), warm-up, routing a request to its version, batching, unloading.
 */
export class ModelRegistry {
  private readonly names = new Map<string, Named>();
  /** Per worker, the content keys it holds (or is being sent). */
  private readonly held = new Map<string, Set<string>>();

  constructor(
    private readonly host: ServingHost,
    private readonly maxMessageBytes: number,
    private readonly metrics: ServingMetrics,
    /** The pool's own: its default deadline, and its queue's bound for the callers batches hold. */
    private readonly limits: { defaultTimeoutMs: number } & BatchQueueLimits = { defaultTimeoutMs: Infinity, maxQueued: Infinity, whenFull: "wait" },
  ) {}

  /**
   * Loads `source` as `name` version `version` on every worker and warms it; resolves when it takes
   * traffic. Workers that join later load it on their first request for it.
   * @throws {ModelLoadError} with the failing worker's error and traceback: then no worker serves it.
   * @throws {ModelError} for a bad name, version, source, warm-up or batching option.
   */
  async load(source: ModelSource, options: LoadModelOptions): Promise<ServedVersionInfo> {
    const { name, warmup = true, batching, maxConcurrentRequests, default: makeDefault = false, ...request } = options;
    if (typeof name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name)) {
      throw new ModelError(`name must be 1-128 letters, digits, '_', '.' or '-' (starting with a letter or digit), got ${JSON.stringify(name)}`);
    }
    if (batching) checkBatching(batching);
    if (maxConcurrentRequests !== undefined) {
      if (!Number.isSafeInteger(maxConcurrentRequests) || maxConcurrentRequests < 1) throw new ModelError(`maxConcurrentRequests must be an integer ≥ 1, got ${maxConcurrentRequests}`);
      if (batching) throw new ModelError("maxConcurrentRequests is for versions that do not batch; a batched version limits its merged runs with batching.maxConcurrentRuns");
    }
    const named = this.names.get(name) ?? { versions: new Map(), loading: new Set(), defaultVersion: null };
    const version = options.version ?? Math.max(0, ...named.versions.keys(), ...named.loading) + 1;
    if (!Number.isSafeInteger(version) || version < 1) throw new ModelError(`version must be an integer ≥ 1, got ${version}`);
    if (named.versions.has(version) || named.loading.has(version)) throw new ModelError(`model ${JSON.stringify(name)} version ${version} is loaded already; unload it first`);
    const payload = await readModelSource(source);
    if (payload.bytes > this.maxMessageBytes / 2) {
      throw new MessageTooLargeError(`model ${JSON.stringify(name)}: its ${payload.bytes} bytes are over half the ${this.maxMessageBytes}-byte message cap (raise maxMessageBytes)`);
    }
    const spec = warmup === false ? null : warmup === true ? {} : warmup;
    const byName = spec?.inputs !== undefined && !Array.isArray(spec.inputs) ? (spec.inputs as Readonly<Record<string, NDArray>>) : null;
    const given = byName ? Object.values(byName) : ((spec?.inputs as readonly NDArray[] | undefined) ?? []);
    const load = {
      args: {
        key: payload.key,
        source: payload.source,
        sourceArrays: payload.arrays.length,
        warmup: { modes: spec ? (spec.modes ?? ["session"]) : [], given: given.length, ...(byName ? { names: Object.keys(byName) } : {}) },
      },
      arrays: [...payload.arrays, ...given],
    };
    named.loading.add(version);
    this.names.set(name, named);
    try {
      const info = await this.loadEverywhere(name, version, payload.key, load, request);
      if (batching && [...info.inputs, ...info.outputs].some((t) => t.shape?.[0] !== null)) {
        await this.release(payload.key);
        throw new ModelError(`model ${JSON.stringify(name)}: batching needs a free batch dimension on every input and output`);
      }
      const limit = maxConcurrentRequests === undefined ? null : new ConcurrencyLimit(maxConcurrentRequests, this.limits);
      const entry: Version = { name, version, payload, load, info, batching: batching ?? null, batcher: null, limit, outstanding: 0, drained: [] };
      if (batching) {
        entry.batcher = new Batcher(batching, this.maxMessageBytes, () => this.host.capacity, (arrays, args, limits) => this.send(entry, arrays, args, limits), (rows) => this.metrics.batch(name, version, rows), this.limits);
      }
      named.versions.set(version, entry);
      if (makeDefault || named.defaultVersion === null) named.defaultVersion = version;
      return this.describe(entry);
    } finally {
      named.loading.delete(version);
      if (named.versions.size === 0 && named.loading.size === 0) this.names.delete(name);
    }
  }

  /**
   * `serve.load` on every worker, in parallel. A worker that dies meanwhile does not fail the load (its
   * replacement loads lazily); one that refuses it does, after the others drop it again.
   */
  private async loadEverywhere(name: string, version: number, key: string, load: Version["load"], options: RequestOptions): Promise<OpResult<"serve.load">> {
    let info: OpResult<"serve.load"> | null = null;
    const done = new Set<string>();
    for (let round = 0; info === null; round++) {
      if (round === 3) throw new ModelError(`model ${JSON.stringify(name)} version ${version}: every worker died while loading it, three times`);
      await this.host.waitForWorkers(1, options.timeoutMs);
      const targets = this.host.workers.filter((w) => !done.has(w.id) && !w.leaving);
      const results = await Promise.allSettled(targets.map((w) => this.host.callOn(w.id, "serve.load", load.args, load.arrays, options)));
      let failure: { worker: (typeof targets)[number]; error: TfbridgeError } | null = null;
      results.forEach((r, i) => {
        const worker = targets[i]!;
        if (r.status === "fulfilled") {
          done.add(worker.id);
          this.heldBy(worker.id).add(key);
          info ??= r.value.result;
        } else if (!(r.reason instanceof WorkerDiedError)) failure ??= { worker, error: r.reason as TfbridgeError };
      });
      if (failure) {
        const { worker, error } = failure as { worker: (typeof targets)[number]; error: TfbridgeError };
        await this.release(key);
        throw new ModelLoadError(name, version, { id: worker.id, pid: worker.info.pid }, error);
      }
    }
    return info;
  }

  /** The version a request for `name` (and `version`, else the default) goes to. @throws {ModelNotFoundError} */
  private resolve(name: string, version?: number): Version {
    const named = this.names.get(name);
    const wanted = version ?? named?.defaultVersion ?? null;
    const entry = wanted === null ? undefined : named?.versions.get(wanted);
    if (!entry) {
      const known = named ? [...named.versions.keys()].join(", ") : "";
      throw new ModelNotFoundError(name, version ?? null, named ? (known ? `no such version (loaded: ${known})` : "no version is loaded") : `no such model (loaded: ${[...this.names.keys()].join(", ") || "none"})`);
    }
    return entry;
  }

  /**
   * Runs `inputs` on `name`'s default version (or `options.version`), checked against its signature
   * before anything is queued; merged with other requests if the version batches.
   */
  async predict(name: string, inputs: ModelInputs, options: ServePredictOptions = {}): Promise<ServedPrediction> {
    const { version, mode = "session", outputs = "model", priority, ...limits } = options;
    const entry = this.resolve(name, version);
    if (priority !== undefined && !entry.batcher) checkPriority(priority, 1, `priority (model ${JSON.stringify(name)} version ${entry.version} does not batch: priority levels are a batching option)`);
    const arrays = orderInputs(entry.info.inputs, inputs);
    const started = performance.now();
    entry.outstanding++;
    try {
      const reply = entry.batcher
        ? await entry.batcher.submit(arrays, mode, outputs, { timeoutMs: limits.timeoutMs ?? this.limits.defaultTimeoutMs, signal: limits.signal, priority })
        : entry.limit
          ? await entry.limit.run("serve.predict", { timeoutMs: limits.timeoutMs ?? this.limits.defaultTimeoutMs, signal: limits.signal }, (timeoutMs) => this.send(entry, arrays, { mode, outputs }, { ...limits, timeoutMs }))
          : await this.send(entry, arrays, { mode, outputs }, limits);
      this.metrics.request(entry.name, entry.version, "predict", null, (performance.now() - started) / 1000, reply.result.runMs / 1000);
      const names = reply.names.map((n) => n ?? "");
      return { outputs: Object.fromEntries(names.map((n, i) => [n, reply.arrays[i]!])), names, mode: reply.result.mode, runMs: reply.result.runMs, model: entry.name, version: entry.version };
    } catch (error) {
      this.metrics.request(entry.name, entry.version, "predict", error as Error, (performance.now() - started) / 1000, null);
      throw error;
    } finally {
      if (--entry.outstanding === 0) for (const resolve of entry.drained.splice(0)) resolve();
    }
  }

  /** One `serve.predict` through the pool's dispatch; idempotent, so retried once if its worker dies. */
  private send(entry: Version, arrays: NDArray[], args: Omit<OpArgs<"serve.predict">, "key">, limits: RequestOptions) {
    return this.host.call("serve.predict", { key: entry.payload.key, ...args }, arrays, { ...limits, idempotent: true });
  }

  /**
   * Called by the pool as it sends `request` to `workerId`: the first request for a version on a worker
   * that lacks it (one that joined or replaced another since the load) is preceded by that version's
   * load and warm-up, sent to that worker by `loadAhead` (also while the pool drains). The worker runs
   * requests in order, so the request finds it loaded, or gets the load's own error.
   */
  dispatching(workerId: string, request: PendingRequest, loadAhead: (load: Version["load"]) => Promise<unknown>): void {
    if (request.op !== "serve.predict") return;
    const key = request.args.key as string;
    const held = this.heldBy(workerId);
    if (held.has(key)) return;
    const entry = this.byKey(key);
    if (!entry) return; // unloaded meanwhile: the worker answers that it does not hold it
    held.add(key);
    this.metrics.lazyLoad(entry.name, entry.version);
    loadAhead(entry.load).catch(() => held.delete(key));
  }

  /** Makes `version` the default of `name`. @throws {ModelNotFoundError} */
  setDefault(name: string, version: number): void {
    this.resolve(name, version);
    this.names.get(name)!.defaultVersion = version;
  }

  /**
   * Stops serving `name` (one `version`, or all): new requests fail with ModelNotFoundError at once,
   * requests already accepted finish, then every worker frees it.
   */
  async unload(name: string, version?: number): Promise<void> {
    const named = this.names.get(name);
    const entries = version === undefined ? [...(named?.versions.values() ?? [])] : [this.resolve(name, version)];
    if (!named || entries.length === 0) throw new ModelNotFoundError(name, version ?? null, "no such model");
    for (const e of entries) named.versions.delete(e.version);
    if (named.defaultVersion !== null && !named.versions.has(named.defaultVersion)) {
      // As TF Serving does: the highest version left serves the default.
      named.defaultVersion = named.versions.size ? Math.max(...named.versions.keys()) : null;
    }
    if (named.versions.size === 0 && named.loading.size === 0) this.names.delete(name);
    await Promise.all(
      entries.map(async (e) => {
        e.batcher?.flushAll();
        if (e.outstanding > 0) await new Promise<void>((resolve) => e.drained.push(resolve));
        await this.release(e.payload.key);
      }),
    );
  }

  /**
   * Sends every batch still filling or waiting for room, and every request waiting for a concurrency
   * slot: a closing pool drains them, and could not send them later.
   */
  sendHeld(): void {
    for (const named of this.names.values()) {
      for (const e of named.versions.values()) {
        e.batcher?.flushAll();
        e.limit?.releaseAll();
      }
    }
  }

  /** The version a request for `name` (and `version`, else the default) goes to. @throws {ModelNotFoundError} */
  servedVersion(name: string, version?: number): ServedVersionInfo {
    return this.describe(this.resolve(name, version));
  }

  /** Every version served, by name. */
  list(): ServedVersionInfo[] {
    return [...this.names.values()].flatMap((n) => [...n.versions.values()].map((e) => this.describe(e)));
  }

  /** Frees `key` on every worker holding it, unless another version is the same bytes. */
  private async release(key: string): Promise<void> {
    if (this.byKey(key)) return;
    const live = new Set(this.host.workers.map((w) => w.id));
    await Promise.all(
      [...this.held].map(async ([workerId, keys]) => {
        if (!live.has(workerId)) return void this.held.delete(workerId); // gone: nothing to free
        if (!keys.delete(key)) return;
        await this.host.callOn(workerId, "serve.unload", { key }, []).catch(() => {});
      }),
    );
  }

  private byKey(key: string): Version | undefined {
    for (const named of this.names.values()) for (const e of named.versions.values()) if (e.payload.key === key) return e;
    return undefined;
  }

  private heldBy(workerId: string): Set<string> {
    let keys = this.held.get(workerId);
    if (!keys) this.held.set(workerId, (keys = new Set()));
    return keys;
  }

  private describe(e: Version): ServedVersionInfo {
    const live = this.host.workers.filter((w) => !w.leaving && this.held.get(w.id)?.has(e.payload.key)).length;
    return { name: e.name, version: e.version, isDefault: this.names.get(e.name)?.defaultVersion === e.version, key: e.payload.key, workers: live, inputs: e.info.inputs, outputs: e.info.outputs, batching: e.batching, maxConcurrentRequests: e.limit?.maxRunning ?? null };
  }
}
