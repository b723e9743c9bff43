import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ModelError, TfbridgeError } from "../errors.js";
import { Pool } from "../pool/pool.js";
import { type NDArray, ndarray } from "../wire/ndarray.js";
import type { ServeConfig, ServedModelEntry } from "./config.js";
import { VersionLabels } from "./labels.js";
import { type RequestLogLine, createService } from "./service.js";

/** A running `tfbridge serve`: where it listens, its reload and its drain. */
export interface Serving {
  url: string;
  /**
   * Serves `config`'s models instead (its port, host and pool settings are not reread): loads and warms
   * the new versions, then switches labels and default versions at once, then unloads the versions it
   * no longer lists once their accepted requests are answered. No request is dropped. A failed reload
   * changes nothing that was served. @throws {ModelError} a version whose source changed; a load's error.
   */
  reload(config: ServeConfig): Promise<void>;
  /** Stops taking work, answers what is in flight, closes the pool. */
  drain(): Promise<void>;
}

const key = (m: ServedModelEntry) => `${m.name}@${m.version ?? 1}`;
const sourceOf = (m: ServedModelEntry) => m.path ?? JSON.stringify({ config: m.config, seed: m.seed ?? 0 });

/**
 * A warm-up `.npz`'s arrays as copies of its own: the version keeps them for workers that join later,
 * and the local link's arrays would hold a block of a worker's shared memory that long.
 */
async function ownedNpz(pool: Pool, file: string): Promise<Record<string, NDArray>> {
  const held = await pool.loadNpz(file);
  const owned = Object.fromEntries(Object.entries(held).map(([name, a]) => [name, ndarray(a.dtype as "float32", [...a.shape], (a.data as Float32Array).slice())]));
  // The local link's arrays (SharedArray) give their block back on release(); others have none.
  for (const a of Object.values(held)) (a as NDArray & { release?: () => void }).release?.();
  return owned;
}

/** The service could not listen where it was asked: the port is in use, the address is not this host's, or the host does not resolve. */
export class ListenError extends TfbridgeError {
  override name = "ListenError";
  constructor(
    readonly host: string,
    readonly port: number,
    /** The system's code, e.g. `EADDRINUSE`. */
    readonly code: string | undefined,
    why: string,
  ) {
    super(`cannot listen on ${host.includes(":") ? `[${host}]` : host}:${port}: ${why}`);
  }
}

const LISTEN_PROBLEMS: Record<string, string> = {
  EADDRINUSE: "the port is in use (choose another with --port or the config's port)",
  EADDRNOTAVAIL: "the address is not one of this host's",
  EACCES: "not allowed (ports below 1024 need privileges)",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name does not resolve",
};

/** `server` listening on `host:port`, or a {@link ListenError} saying why not (an unhandled `error` event would end the process). */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      const why = (error.code !== undefined && Object.hasOwn(LISTEN_PROBLEMS, error.code) ? LISTEN_PROBLEMS[error.code] : undefined) ?? error.message;
      reject(new ListenError(host, port, error.code, why === error.message ? why : `${error.code}, ${why}`));
    };
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      resolve();
    });
  });
}

/**
 * Starts the pool and the HTTP service of `config`: it listens first (liveness answers while models
 * load), then loads each model; readiness turns 200 once all are warm. `log` hears one line per step.
 * `stop` aborted before then ends the start at once: loads and warm-ups in flight are cut short (a
 * worker busy with one is stopped), the pool is closed, and this rejects with the signal's reason.
 * @throws {ModelLoadError} when a model does not load, {@link ListenError} when it cannot listen (the pool is closed again).
 */
export async function startServing(config: ServeConfig, log: (line: string) => void = () => {}, stop?: AbortSignal): Promise<Serving> {
  stop?.throwIfAborted();
  const pool = await Pool.start(config.pool ?? {});
  if (stop?.aborted) {
    await pool.close(true);
    throw stop.reason;
  }
  // Nothing is served before the start ends, so nothing is dropped by cutting it short; waiting for a
  // large model's load would outlast a supervisor's stop timeout (systemd's, Kubernetes').
  const cutShort = () => void pool.close(true).catch(() => {});
  stop?.addEventListener("abort", cutShort, { once: true });
  const labels = new VersionLabels();
  let current: ServedModelEntry[] = [];
  const { logRequests, ...service } = config.service ?? {};
  const requestLog = logRequests ? (line: RequestLogLine) => log(JSON.stringify(line)) : undefined;
  const { server, drain } = createService(pool, {
    ...service,
    models: () => [...new Set(current.map((m) => m.name))],
    // Not ready until the first config is applied whole (`current` is set last, and a config lists at
    // least one model): while its models load none is served, and "every served model is warm" would
    // hold; with two versions of a name, its labels come after both.
    ready: () => current.length > 0,
    labels,
    requestLog,
  });
  const host = config.host ?? "127.0.0.1";
  try {
    await listen(server, config.port ?? 8501, host);
  } catch (error) {
    stop?.removeEventListener("abort", cutShort);
    await pool.close(true);
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log(`listening on ${url}`);

  let reloading: Promise<void> = Promise.resolve();
  const apply = async (next: ServeConfig) => {
    const served = new Map(current.map((m) => [key(m), m]));
    for (const m of next.models) {
      const before = served.get(key(m));
      if (before && sourceOf(before) !== sourceOf(m)) throw new ModelError(`model ${m.name} version ${m.version ?? 1} is served from another source already; give the new one a new version number`);
    }
    const added: ServedModelEntry[] = [];
    try {
      for (const m of next.models.filter((m) => !served.has(key(m)))) {
        const warmup = m.warmup === undefined ? true : { inputs: await ownedNpz(pool, m.warmup) };
        await pool.loadModel(m.path ?? { config: m.config!, seed: m.seed ?? 0 }, { name: m.name, version: m.version ?? 1, batching: m.batching, maxConcurrentRequests: m.maxConcurrentRequests, warmup });
        added.push(m);
        log(`model ${m.name} ready (version ${m.version ?? 1})`);
      }
    } catch (error) {
      await Promise.all(added.map((m) => pool.unloadModel(m.name, m.version ?? 1)));
      throw error;
    }
    // The switch: labels and default versions (the highest listed, as TF Serving's latest policy) together.
    const table = new Map<string, Map<string, number>>();
    for (const m of next.models) for (const label of m.labels ?? []) table.set(m.name, (table.get(m.name) ?? new Map()).set(label, m.version ?? 1));
    for (const name of new Set(next.models.map((m) => m.name))) pool.setDefaultVersion(name, Math.max(...next.models.filter((m) => m.name === name).map((m) => m.version ?? 1)));
    labels.replace(table);
    const gone = current.filter((m) => !next.models.some((n) => key(n) === key(m)));
    current = next.models;
    await Promise.all(gone.map(async (m) => {
      await pool.unloadModel(m.name, m.version ?? 1);
      log(`model ${m.name} version ${m.version ?? 1} unloaded`);
    }));
  };

  try {
    await apply(config);
  } catch (error) {
    // Told apart now: a stop asked while the drain below runs must not hide why the start failed.
    const cause = stop?.aborted ? stop.reason : error;
    await drain();
    throw cause;
  } finally {
    stop?.removeEventListener("abort", cutShort);
  }
  return {
    url,
    reload: (next) => {
      // One reload at a time, in the order asked.
      reloading = reloading.catch(() => {}).then(() => apply(next));
      return reloading;
    },
    drain,
  };
}
