import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { ModelError } from "../errors.js";
import type { KerasModelConfig } from "../models/config.js";
import type { PoolOptions } from "../pool/pool.js";
import type { BatchingOptions } from "../serving/batcher.js";
import type { ServiceOptions } from "./service.js";

/** One served model: a file on this machine (`path`) or a description (`config` with `seed`). */
export interface ServedModelEntry {
  name: string;
  /** Default 1. A reload keeps a version whose source is the same, and refuses a new source under an old number. */
  version?: number;
  /** TF Serving's version labels for this version (`["stable"]`): `/v1/models/NAME/labels/stable` routes here. */
  labels?: string[];
  path?: string;
  config?: KerasModelConfig;
  seed?: number;
  batching?: BatchingOptions;
  /** At most this many requests of an unbatched version on the workers at once (LoadModelOptions.maxConcurrentRequests). */
  maxConcurrentRequests?: number;
  /**
   * A NumPy `.npz` file with one array per model input, by input name (batch dimension included): each
   * worker runs it before the version takes traffic, as TF Serving's warm-up requests. Read by a
   * worker, so on the serving machine when the workers are local. Without it: zeros of batch 1.
   */
  warmup?: string;
}

/** What `tfbridge serve --config FILE` reads (JSON). */
export interface ServeConfig {
  /** Default 8501 (TF Serving's REST port); 0: any free port. */
  port?: number;
  /** Default 127.0.0.1: loopback unless you say otherwise. */
  host?: string;
  pool?: PoolOptions;
  /** The service's options; `logRequests: true` prints one JSON line per answered request on stdout. */
  service?: Omit<ServiceOptions, "models" | "labels" | "requestLog"> & { logRequests?: boolean };
  models: ServedModelEntry[];
}

/**
 * Checks a serve config and makes its model paths absolute (relative ones are relative to `base`,
 * the config file's folder). @throws {ModelError} naming the field that is wrong.
 */
export function checkServeConfig(value: unknown, base: string, source = "config"): ServeConfig {
  const fail = (field: string, reason: string): never => {
    throw new ModelError(`${source}: ${field} ${reason}`, { file: source });
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail("(top level)", "must be a JSON object");
  const config = value as ServeConfig;
  if (config.port !== undefined && (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535)) fail("port", `must be an integer in 0…65535, got ${JSON.stringify(config.port)}`);
  if (config.host !== undefined && typeof config.host !== "string") fail("host", "must be a string");
  if (!Array.isArray(config.models) || config.models.length === 0) fail("models", "must be a non-empty list");
  const names = new Set<string>();
  const labels = new Set<string>();
  const models = config.models.map((m, i) => {
    const at = `models[${i}]`;
    if (typeof m !== "object" || m === null) fail(at, "must be an object");
    if (typeof m.name !== "string" || !/^[\w.-]+$/.test(m.name)) fail(`${at}.name`, `must be a name of letters, digits, '_', '.' or '-', got ${JSON.stringify(m.name)}`);
    if (m.version !== undefined && (!Number.isSafeInteger(m.version) || m.version < 1)) fail(`${at}.version`, `must be an integer ≥ 1, got ${JSON.stringify(m.version)}`);
    if (names.has(`${m.name}@${m.version ?? 1}`)) fail(`${at}.name`, `${m.name} version ${m.version ?? 1} is listed twice`);
    names.add(`${m.name}@${m.version ?? 1}`);
    if (m.labels !== undefined && (!Array.isArray(m.labels) || !m.labels.every((l) => typeof l === "string" && /^[\w.-]+$/.test(l)))) {
      fail(`${at}.labels`, `must be a list of labels of letters, digits, '_', '.' or '-', got ${JSON.stringify(m.labels)}`);
    }
    for (const label of m.labels ?? []) {
      if (labels.has(`${m.name}/${label}`)) fail(`${at}.labels`, `${m.name}'s label ${JSON.stringify(label)} names two versions`);
      labels.add(`${m.name}/${label}`);
    }
    if (m.maxConcurrentRequests !== undefined) {
      if (!Number.isSafeInteger(m.maxConcurrentRequests) || m.maxConcurrentRequests < 1) fail(`${at}.maxConcurrentRequests`, `must be an integer ≥ 1, got ${JSON.stringify(m.maxConcurrentRequests)}`);
      if (m.batching !== undefined) fail(`${at}.maxConcurrentRequests`, "is for models that do not batch (a batched model has batching.maxConcurrentRuns)");
    }
    if ((m.path === undefined) === (m.config === undefined)) fail(at, "needs exactly one of path (a .keras/.h5 file or SavedModel folder) or config (a Keras model description)");
    const file = (field: "path" | "warmup", what: string) => {
      const given = m[field];
      if (given === undefined) return {};
      if (typeof given !== "string") fail(`${at}.${field}`, "must be a string");
      const absolute = isAbsolute(given!) ? given! : resolve(base, given!);
      if (!existsSync(absolute)) fail(`${at}.${field}`, `${absolute}: no such ${what}`);
      return { [field]: absolute };
    };
    return { ...m, ...file("path", "file or folder"), ...file("warmup", "file") };
  });
  return { ...config, models };
}

/** A serve config file, read and checked. @throws {ModelError} naming the file and what is wrong. */
export function readServeConfig(file: string): ServeConfig {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new ModelError(`${file}: ${(e as Error).message}`, { file });
  }
  return checkServeConfig(value, dirname(resolve(file)), file);
}
