import type { KerasModelConfig } from "../models/config.js";
import type { ModelInfo, ModelMode, ModelOutputs, OnnxExport } from "../models/info.js";
import type { WorkerInfo } from "../worker/info.js";
import type { NDArray } from "./ndarray.js";

/**
 * The op map of wire format v1: each op's arguments and result, as TypeScript types, so that
 * `call(op, args)` is checked against the op and its reply's `result` needs no cast. protocol/ops.json
 * holds the same arguments and result fields as data, which the worker checks every request against;
 * test/wire/ops.test.ts ties the two (and wire.json's op list) together. Arrays are not typed: their
 * count and order depend on the model (protocol/ops.json says what each op takes and gives).
 *
 * The result types come from modules that hold types only (models/config, models/info, worker/info):
 * those are the wire's own shapes, and naming them costs no run-time import.
 */
export interface OpMap {
  hello: { args: Record<string, never>; result: WorkerInfo };
  echo: { args: Record<string, never>; result: Record<string, never> };
  sleep: { args: { seconds: number }; result: { slept: number } };
  raise: { args: { type?: string; message?: string }; result: Record<string, never> };
  "model.load": { args: { path: string }; result: ModelInfo };
  "model.build": { args: { config: KerasModelConfig; weights?: string[]; seed?: number | null }; result: ModelInfo };
  "model.run": { args: { config: KerasModelConfig; inputs: number; weights?: string[]; seed?: number | null; mode?: ModelMode; outputs?: ModelOutputs }; result: { mode: ModelMode; runMs: number } };
  "model.predict": { args: { handle: string; mode?: ModelMode; outputs?: ModelOutputs }; result: { mode: ModelMode; runMs: number } };
  "model.weights": { args: { handle: string }; result: Record<string, never> };
  "model.dispose": { args: { handle: string }; result: { disposed: boolean } };
  "model.save": { args: { handle: string; path: string }; result: { path: string } };
  "model.export": { args: { handle: string; path: string }; result: { path: string } };
  "model.onnx": { args: { handle: string; path: string; outputs?: ModelOutputs; opset?: number | null }; result: OnnxExport };
  "npz.load": { args: { path: string }; result: Record<string, never> };
  "serve.load": { args: ServeLoadArgs; result: Omit<ModelInfo, "handle"> & { loaded: boolean } };
  "serve.predict": { args: { key: string; mode?: ModelMode; outputs?: ModelOutputs; split?: number[] | null }; result: { mode: ModelMode; runMs: number } };
  "serve.unload": { args: { key: string }; result: { unloaded: boolean } };
  "py.start": { args: Record<string, never>; result: { endpoint: string } };
  "py.put": { args: Record<string, never>; result: { ffids: number[] } };
  "py.get": { args: { ffid: number }; result: Record<string, never> };
}

/** `serve.load`'s arguments: a model version's content key, where its bytes or description are, and its warm-up. */
export type ServeLoadArgs = {
  key: string;
  /** `{kind: "files", root, files, shownAs}` or `{kind: "config", config, weights, seed}` (docs/wire.md#ops). */
  source: Record<string, unknown>;
  /** How many of the arrays are the source's (default 0); the rest are warm-up inputs. */
  sourceArrays?: number;
  /** The modes to warm up in (none: no warm-up) and how many of the arrays are warm-up inputs. */
  warmup?: { modes: ModelMode[]; given: number; names?: string[] } | null;
};

/** An op of the map: every op of protocol/wire.json (test/wire/ops.test.ts checks both directions). */
export type OpName = keyof OpMap;
/** The arguments op `K` takes. */
export type OpArgs<K extends OpName> = OpMap[K]["args"];
/** What a successful reply to op `K` carries as its `result`. */
export type OpResult<K extends OpName> = OpMap[K]["result"];

/**
 * A call's parameters after the op: the arguments (optional when the op needs none), the arrays,
 * the options. A rest tuple, so that `call("hello")` type-checks and `call("model.load")` does not.
 */
export type OpCall<K extends OpName, O> = Record<string, never> extends OpArgs<K>
  ? [args?: OpArgs<K>, arrays?: readonly NDArray[], options?: O]
  : [args: OpArgs<K>, arrays?: readonly NDArray[], options?: O];
