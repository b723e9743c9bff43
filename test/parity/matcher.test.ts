import { describe, expect, it } from "vitest";
import { ndarray } from "../../src/index.js";
import { tensorMatchers } from "../../src/parity/matcher.js";

expect.extend(tensorMatchers);
const f32 = (values: number[]) => ndarray("float32", [values.length], Float32Array.from(values));

describe("toMatchTensor", () => {
  it("passes within tolerance and by default demands exact equality", () => {
    expect(f32([1, 2])).toMatchTensor(f32([1, 2]));
    expect(f32([1, 2.001])).toMatchTensor(f32([1, 2]), { atol: 0.01 });
    expect(f32([1, 2.001])).not.toMatchTensor(f32([1, 2]));
  });

  it("fails with the worst element and the error statistics", () => {
    let message = "";
    try {
      expect(f32([1, 2, 3.5])).toMatchTensor(f32([1, 2, 3]), { atol: 0.1 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/1 of 3 elements outside/);
    expect(message).toMatch(/worst element \[2\]: actual 3\.5 expected 3/);
    expect(message).toMatch(/max abs error 5\.000e-1/);
  });
});
