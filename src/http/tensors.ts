/**
 * TensorFlow Serving's REST request and response bodies ↔ tfbridge arrays. The row format sends
 * `instances` (one entry per example; an object by input name for several inputs) and gets
 * `predictions`; the columnar format sends `inputs` (the whole batch; an object by input name for
 * several inputs) and gets `outputs`. https://www.tensorflow.org/tfx/serving/api_rest#predict_api
 */
import type { TensorInfo } from "../models/handle.js";
import { float16Value } from "../wire/float16.js";
import { type NDArray, ndarray } from "../wire/ndarray.js";

/** A request body that cannot be read: the message names what is wrong; the service answers 400. */
export class BadBodyError extends Error {
  override name = "BadBodyError";
}

/**
 * The shape of a nested JSON array (every level must be rectangular) and its leaves in C order.
 * @throws {BadBodyError} for nesting deeper than `rank` (checked before walking it: JSON nested a
 * hundred thousand deep would otherwise overflow the stack).
 */
function flatten(value: unknown, what: string, rank: number): { shape: number[]; leaves: unknown[] } {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    if (shape.length === rank) throw new BadBodyError(`${what}: nested deeper than the input's ${rank} dimensions (batch included)`);
    shape.push(v.length);
  }
  const leaves: unknown[] = [];
  const walk = (v: unknown, depth: number) => {
    if (depth === shape.length) {
      if (Array.isArray(v)) throw new BadBodyError(`${what}: ragged nesting (a list where a number was expected)`);
      leaves.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw new BadBodyError(`${what}: ragged nesting at depth ${depth} (every list at one depth must have the same length)`);
    for (const x of v) walk(x, depth + 1);
  };
  walk(value, 0);
  return { shape, leaves };
}

/** A JSON value (with its batch dimension) as an array of the input's dtype. */
function toArray(value: unknown, spec: TensorInfo): NDArray {
  const what = `input ${spec.name}`;
  // A SavedModel input of unknown rank has no shape: JSON gets a generous rank bound instead.
  const { shape, leaves } = flatten(value, what, spec.shape?.length ?? 32);
  const number = (x: unknown) => {
    if (typeof x !== "number") throw new BadBodyError(`${what}: ${shown(x)} is not a number`);
    return x;
  };
  switch (spec.dtype) {
    case "float32":
      return ndarray("float32", shape, Float32Array.from(leaves, number));
    case "float64":
      return ndarray("float64", shape, Float64Array.from(leaves, number));
    case "int32":
      return ndarray("int32", shape, Int32Array.from(leaves, (x) => checkInt(number(x), what, INT32_RANGE)));
    case "int64":
      return ndarray("int64", shape, BigInt64Array.from(leaves, (x) => BigInt(checkInt(number(x), what))));
    case "bool":
      return ndarray("bool", shape, Uint8Array.from(leaves, (x) => (typeof x === "boolean" ? Number(x) : checkBool(x, what))));
    case "string":
      // UTF-8 text, as a Keras `dtype="string"` input takes it; TF Serving's {"b64": …} is for bytes that are not text.
      return ndarray("string", shape, leaves.map((x) => {
        if (typeof x === "string") return x;
        throw new BadBodyError(`${what}: ${shown(x)} is not a string${isObject(x) && "b64" in x ? ' (base64 {"b64": …} bytes are not served: send the text itself)' : ""}`);
      }));
    default:
      throw new BadBodyError(`${what}: dtype ${spec.dtype} is not served over JSON`);
  }
}

const INT32_RANGE = { dtype: "int32", min: -(2 ** 31), max: 2 ** 31 - 1 };

/** `x` if it is an integer JSON can carry exactly (and in `range`): Int32Array.from would wrap 3e9 to another number. */
function checkInt(x: number, what: string, range?: typeof INT32_RANGE): number {
  if (!Number.isInteger(x)) throw new BadBodyError(`${what}: ${x} is not an integer`);
  if (range && (x < range.min || x > range.max)) throw new BadBodyError(`${what}: ${x} is out of ${range.dtype}'s range ${range.min}…${range.max}`);
  if (!Number.isSafeInteger(x)) throw new BadBodyError(`${what}: ${x} is beyond ±2^53, where JSON numbers do not carry integers exactly`);
  return x;
}

/** A leaf as an error message shows it: a short value, never a whole object (nested a million deep, it would not even print). */
function shown(x: unknown): string {
  if (typeof x === "object" && x !== null) return "an object";
  const text = typeof x === "string" ? JSON.stringify(x) : String(x);
  return text.length > 64 ? `${text.slice(0, 60)}…${text.at(-1) === '"' ? '"' : ""}` : text;
}

function checkBool(x: unknown, what: string): number {
  throw new BadBodyError(`${what}: ${shown(x)} is not a boolean`);
}

/** The model's inputs from a request body, and whether the answer goes back as rows. */
export function readPredictBody(body: unknown, specs: readonly TensorInfo[]): { inputs: Record<string, NDArray>; rows: boolean } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new BadBodyError("the body must be a JSON object with `instances` or `inputs`");
  const { instances, inputs } = body as { instances?: unknown; inputs?: unknown };
  if ((instances === undefined) === (inputs === undefined)) throw new BadBodyError("give exactly one of `instances` (row format) or `inputs` (columnar format)");
  const single = specs.length === 1;
  if (instances !== undefined) {
    if (!Array.isArray(instances) || instances.length === 0) throw new BadBodyError("`instances` must be a non-empty list, one entry per example");
    const columns = specs.map((spec) => {
      const rows = instances.map((row, i) => {
        if (single && !isObject(row)) return row;
        if (!isObject(row) || !Object.hasOwn(row, spec.name)) throw new BadBodyError(`instances[${i}] must be an object with input ${spec.name}`);
        return row[spec.name];
      });
      return toArray(rows, spec);
    });
    return { inputs: Object.fromEntries(specs.map((s, i) => [s.name, columns[i]!])), rows: true };
  }
  if (single && !isObject(inputs)) return { inputs: { [specs[0]!.name]: toArray(inputs, specs[0]!) }, rows: false };
  if (!isObject(inputs)) throw new BadBodyError(`\`inputs\` must be an object by input name (${specs.map((s) => s.name).join(", ")})`);
  const unknown = Object.keys(inputs).find((name) => !specs.some((s) => s.name === name));
  if (unknown !== undefined) throw new BadBodyError(`no model input named ${unknown} (inputs: ${specs.map((s) => s.name).join(", ")})`);
  return { inputs: Object.fromEntries(Object.entries(inputs).map(([name, v]) => [name, toArray(v, specs.find((s) => s.name === name)!)])), rows: false };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * How JSON.stringify writes one element of `a`: a number as JavaScript prints it (NaN and ±Infinity as
 * `null`), float16 by its value (not its bits), int64 and uint64 as numbers, bool as true/false,
 * strings quoted.
 */
function elementText(a: NDArray): (x: unknown) => string {
  if (a.dtype === "string") return (x) => JSON.stringify(x);
  if (a.dtype === "bool") return (x) => (x === 1 ? "true" : "false");
  const half = a.dtype === "float16";
  return (x) => {
    const n = typeof x === "bigint" ? Number(x) : half ? float16Value(x as number) : (x as number);
    return Number.isFinite(n) ? String(n) : "null";
  };
}

/**
 * `a` as JSON text from element `offset` and axis `depth` down, each nested list written straight from
 * the typed array: building the lists and stringifying them took about four times as long, the
 * largest share of an answer's time in Node.
 */
function nestedText(a: NDArray): (offset: number, depth: number) => string {
  const data = a.data as ArrayLike<unknown>;
  const text = elementText(a);
  const strides = a.shape.map((_, k) => a.shape.slice(k + 1).reduce((n, d) => n * d, 1));
  const nest = (offset: number, depth: number): string => {
    if (depth === a.shape.length) return text(data[offset]);
    const parts: string[] = new Array(a.shape[depth]!);
    for (let i = 0; i < parts.length; i++) parts[i] = nest(offset + i * strides[depth]!, depth + 1);
    return `[${parts.join(",")}]`;
  };
  return nest;
}

/** The whole of `a` as nested JSON lists (a scalar as its one element). */
const jsonArray = (a: NDArray): string => nestedText(a)(0, 0);

/** Each entry of `a`'s first axis as JSON text; a scalar has none. */
function jsonRows(a: NDArray): string[] {
  if (a.shape.length === 0) return [];
  const nest = nestedText(a);
  const stride = a.shape.slice(1).reduce((n, d) => n * d, 1);
  const rows: string[] = new Array(a.shape[0]!);
  for (let i = 0; i < rows.length; i++) rows[i] = nest(i * stride, 1);
  return rows;
}

/**
 * The response body, as JSON text: `predictions` (one entry per example) for row requests, `outputs`
 * for columnar ones.
 */
export function predictResponse(outputs: Record<string, NDArray>, names: readonly string[], rows: boolean): string {
  const single = names.length === 1;
  if (!rows) {
    const body = single ? jsonArray(outputs[names[0]!]!) : `{${names.map((n) => `${JSON.stringify(n)}:${jsonArray(outputs[n]!)}`).join(",")}}`;
    return `{"outputs":${body}}`;
  }
  // One entry per example: the first output's count of them, as TF Serving's row format has it (a
  // scalar output has none).
  const perOutput = names.map((n) => jsonRows(outputs[n]!));
  const count = perOutput[0]!.length;
  // An output with fewer examples than the first is left out of the later ones, as JSON.stringify leaves out an undefined member.
  const entry = (i: number) => `{${names.flatMap((n, k) => (perOutput[k]![i] === undefined ? [] : [`${JSON.stringify(n)}:${perOutput[k]![i]}`])).join(",")}}`;
  const entries = Array.from({ length: count }, (_, i) => (single ? perOutput[0]![i]! : entry(i)));
  return `{"predictions":[${entries.join(",")}]}`;
}
