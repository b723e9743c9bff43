import { readFileSync } from "node:fs";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { OpArgs, OpName, OpResult } from "../../src/wire/ops.js";
import type { Op } from "../../src/wire/protocol.js";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const wire = JSON.parse(read("protocol/wire.json")) as { ops: string[] };
const opsFile = JSON.parse(read("protocol/ops.json")).ops as Record<string, { args: Record<string, { required: boolean }>; result: string[] }>;

type Presence<A> = { [F in keyof A]-?: undefined extends A[F] ? "optional" : "required" };

/**
 * The op map's argument names, and which are required, as the compiler reads src/wire/ops.ts: a field
 * left out here, one too many, or one marked wrongly is a type error, so this table is the map.
 */
const ARGUMENTS: { [K in OpName]: Presence<OpArgs<K>> } = {
  hello: {},
  echo: {},
  sleep: { seconds: "required" },
  raise: { type: "optional", message: "optional" },
  "model.load": { path: "required" },
  "model.build": { config: "required", weights: "optional", seed: "optional" },
  "model.run": { config: "required", inputs: "required", weights: "optional", seed: "optional", mode: "optional", outputs: "optional" },
  "model.predict": { handle: "required", mode: "optional", outputs: "optional" },
  "model.weights": { handle: "required" },
  "model.dispose": { handle: "required" },
  "model.save": { handle: "required", path: "required" },
  "model.export": { handle: "required", path: "required" },
  "model.onnx": { handle: "required", path: "required", outputs: "optional", opset: "optional" },
  "npz.load": { path: "required" },
  "serve.load": { key: "required", source: "required", sourceArrays: "optional", warmup: "optional" },
  "serve.predict": { key: "required", mode: "optional", outputs: "optional", split: "optional" },
  "serve.unload": { key: "required" },
  "py.start": {},
  "py.put": {},
  "py.get": { ffid: "required" },
};

/** Likewise each result's fields. */
const RESULTS: { [K in OpName]: Record<keyof OpResult<K>, true> } = {
  hello: { protocol: true, pid: true, python: true, numpy: true, tensorflow: true, keras: true, cpu: true, onednn: true, ops: true },
  echo: {},
  sleep: { slept: true },
  raise: {},
  "model.load": { handle: true, config: true, inputs: true, outputs: true, layers: true, weights: true, source: true, tfjs: true },
  "model.build": { handle: true, config: true, inputs: true, outputs: true, layers: true, weights: true, source: true, tfjs: true },
  "model.run": { mode: true, runMs: true },
  "model.predict": { mode: true, runMs: true },
  "model.weights": {},
  "model.dispose": { disposed: true },
  "model.save": { path: true },
  "model.export": { path: true },
  "model.onnx": { path: true, opset: true, tf2onnx: true, onnx: true, outputs: true },
  "npz.load": {},
  "serve.load": { loaded: true, config: true, inputs: true, outputs: true, layers: true, weights: true, source: true, tfjs: true },
  "serve.predict": { mode: true, runMs: true },
  "serve.unload": { unloaded: true },
  "py.start": { endpoint: true },
  "py.put": { ffids: true },
  "py.get": {},
};

describe("the op map (src/wire/ops.ts, protocol/ops.json)", () => {
  it("has exactly one entry per op of protocol/wire.json, in TypeScript and in protocol/ops.json", () => {
    expectTypeOf<OpName>().toEqualTypeOf<Op>();
    const ops = [...wire.ops].sort();
    expect(new Set(ops).size).toBe(ops.length);
    expect(Object.keys(ARGUMENTS).sort()).toEqual(ops);
    expect(Object.keys(opsFile).sort()).toEqual(ops);
    // JSON.parse keeps the last of two equal keys: count the file's own op entries too.
    expect(read("protocol/ops.json").match(/^ {4}"[a-z.]+": \{$/gm)?.length).toBe(ops.length);
  });

  it.each(wire.ops)("%s: TypeScript's arguments and result are the ones protocol/ops.json lists (the worker checks them)", (op) => {
    const args = Object.fromEntries(Object.entries(opsFile[op]!.args).map(([name, rule]) => [name, rule.required ? "required" : "optional"]));
    expect(ARGUMENTS[op as OpName]).toEqual(args);
    expect(Object.keys(RESULTS[op as OpName]).sort()).toEqual([...opsFile[op]!.result].sort());
  });

  it("docs/wire.md's table of ops has one row per op, naming each of its arguments", () => {
    const docs = read("docs/wire.md");
    const table = docs.slice(docs.indexOf("\n| op ")).split("\n\n")[0]!;
    const rows = new Map<string, string>();
    for (const [, op, args] of table.matchAll(/^\| `([a-z.]+)` +\| ([^|]*) \|/gm)) rows.set(op!, args!);
    expect([...rows.keys()].sort()).toEqual([...wire.ops].sort());
    for (const op of wire.ops) {
      for (const name of Object.keys(opsFile[op]!.args)) expect(rows.get(op), `${op}: ${name}`).toContain(`\`${name}\``);
    }
  });
});
