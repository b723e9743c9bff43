import { describe, expect, it } from "vitest";
import { BadBodyError, readPredictBody } from "../../src/http/tensors.js";
import type { TensorInfo } from "../../src/models/handle.js";

// readPredictBody turns a TF Serving request body into the model's arrays; a value the input's dtype
// cannot hold exactly is the client's 400, never another number run through the model.

const input = (dtype: string, shape: (number | null)[] = [null]): TensorInfo[] => [{ name: "x", dtype, shape } as TensorInfo];
const refusal = (body: unknown, specs: TensorInfo[]) => {
  try {
    readPredictBody(body, specs);
  } catch (error) {
    expect(error).toBeInstanceOf(BadBodyError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(body).slice(0, 80)}`);
};

describe("readPredictBody: values the input's dtype cannot hold are refused by name", () => {
  it("int32 takes its whole range and refuses one past either end (Int32Array would wrap them)", () => {
    const { inputs } = readPredictBody({ instances: [-(2 ** 31), 2 ** 31 - 1, 0] }, input("int32"));
    expect(Array.from(inputs.x!.data as Int32Array)).toEqual([-(2 ** 31), 2 ** 31 - 1, 0]);
    expect(refusal({ instances: [3_000_000_000] }, input("int32"))).toBe("input x: 3000000000 is out of int32's range -2147483648…2147483647");
    expect(refusal({ inputs: [-(2 ** 31) - 1] }, input("int32"))).toMatch(/-2147483649 is out of int32's range/);
    expect(refusal({ instances: [1e20] }, input("int32"))).toMatch(/100000000000000000000 is out of int32's range/);
  });

  it("int64 refuses integers past 2^53, which JSON numbers do not carry exactly", () => {
    expect(Array.from(readPredictBody({ instances: [2 ** 53 - 1] }, input("int64")).inputs.x!.data as BigInt64Array)).toEqual([2n ** 53n - 1n]);
    expect(refusal({ instances: [2 ** 60] }, input("int64"))).toMatch(/1152921504606847000 is beyond ±2\^53, where JSON numbers do not carry integers exactly/);
    expect(refusal({ instances: [1.5] }, input("int64"))).toBe("input x: 1.5 is not an integer");
  });

  it("a leaf that is an object nested a million deep is a 400 naming the input, not a stack overflow", () => {
    const deep = JSON.parse(`${'{"a":'.repeat(1_000_000)}1${"}".repeat(1_000_000)}`);
    for (const dtype of ["float32", "int32", "bool", "string"]) expect(refusal({ instances: [[deep]] }, input(dtype, [null, 1])), dtype).toMatch(/^input x: an object is not a/);
  });

  it("a long leaf is shown cut short", () => {
    const message = refusal({ instances: ["y".repeat(100_000)] }, input("float32"));
    expect(message.length).toBeLessThan(120);
    expect(message).toMatch(/^input x: "y+…" is not a number$/);
  });
});
