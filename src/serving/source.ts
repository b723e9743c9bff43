import { createHash } from "node:crypto";
import { readFile, readdir, stat } from "node:fs/promises";
import { basename, join, relative, sep } from "node:path";
import { ModelError } from "../errors.js";
import type { KerasModelConfig } from "../models/config.js";
import { type ModelWeights, describedModel } from "../models/handle.js";
import { arrayFrame } from "../wire/codec.js";
import { type NDArray, frameBytes, ndarray } from "../wire/ndarray.js";

/** A model to serve: a file (`.keras`, `.h5`) or SavedModel folder on this machine, or a description. */
export type ModelSource = string | { config: KerasModelConfig; weights?: ModelWeights; seed?: number };

/**
 * A model as every worker receives it: the `source` argument of `serve.load`, its arrays (file bytes
 * or weights), and the content hash that names this exact version on every worker.
 */
export interface ModelPayload {
  key: string;
  source: Record<string, unknown>;
  arrays: NDArray[];
  /** Bytes of `arrays`: what one load puts on the wire. */
  bytes: number;
}

/**
 * Reads `source` into what a worker loads from. Paths are read here, not by the workers, so remote
 * workers need no shared filesystem, and the key is the content's hash, not the path's: a worker that
 * joins later loads exactly the bytes the others loaded, even if the file changed since.
 * @throws {ModelError} naming a missing or unreadable path, or a description that names code (a Lambda, a custom class).
 */
export async function readModelSource(source: ModelSource): Promise<ModelPayload> {
  const hash = createHash("sha256");
  if (typeof source === "string") {
    const files = await modelFiles(source);
    const arrays: NDArray[] = [];
    for (const file of files) {
      const data = await readFile(join(source, "..", file));
      hash.update(`${file}\0${data.length}\0`).update(data);
      arrays.push(ndarray("uint8", [data.length], new Uint8Array(data.buffer, data.byteOffset, data.length)));
    }
    // shownAs: the worker reads a private copy, but its errors must name the path the user gave.
    return { key: hash.digest("hex"), source: { kind: "files", root: basename(source), files, shownAs: source }, arrays, bytes: byteSum(arrays) };
  }
  if (typeof source !== "object" || source === null || !("config" in source)) {
    throw new ModelError(`a model source is a path or { config, weights | seed }, got ${typeof source}`);
  }
  const config = source.config;
  const { weights: names, seed, arrays } = describedModel(config, source.weights, source.seed);
  hash.update(JSON.stringify({ config, names, seed }));
  for (const a of arrays) hash.update(`\0${a.dtype}\0${a.shape.join(",")}\0`).update(arrayFrame(a, "a weight"));
  return { key: hash.digest("hex"), source: { kind: "config", config, weights: names, seed }, arrays, bytes: byteSum(arrays) };
}

/** The file itself, or every file under the folder, as paths that start with its base name. */
async function modelFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new ModelError(`${path}: no such file or folder`, { file: path });
  const root = basename(path);
  if (info.isFile()) return [root];
  if (!info.isDirectory()) throw new ModelError(`${path}: neither a file nor a folder`, { file: path });
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => [root, ...relative(path, join(e.parentPath, e.name)).split(sep)].join("/"))
    .sort();
  if (files.length === 0) throw new ModelError(`${path}: an empty folder`, { file: path });
  return files;
}

function byteSum(arrays: readonly NDArray[]): number {
  return arrays.reduce((n, a) => n + frameBytes(a), 0);
}
