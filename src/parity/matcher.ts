/**
 * A vitest matcher for users' own parity tests:
 *
 * ```ts
 * import { expect } from "vitest";
 * import { tensorMatchers } from "tfbridge/vitest";
 * expect.extend(tensorMatchers);
 * expect(actual).toMatchTensor(expected, { atol: 1e-6 });
 * ```
 * @module tfbridge/vitest
 */
import type {} from "vitest"; // the module augmented below
import type { NDArray } from "../wire/ndarray.js";
import { type Tolerance, compareArrays, formatComparison } from "./compare.js";

export interface TensorMatchers<R = unknown> {
  /**
   * Passes when `received` and `expected` have the same shape and float dtype and every element is
   * within `atol + rtol·|expected|` (numpy allclose; NaN matches only NaN). Default tolerance 0/0.
   */
  toMatchTensor(expected: NDArray, tolerance?: Partial<Tolerance>): R;
}

declare module "vitest" {
  // Merges into vitest's own `Matchers<T = any>`, whose type parameters a merge must repeat exactly.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  interface Matchers<T = any> extends TensorMatchers<T> {}
}

export const tensorMatchers = {
  toMatchTensor(received: NDArray, expected: NDArray, tolerance: Partial<Tolerance> = {}) {
    const c = compareArrays(received, expected, { atol: tolerance.atol ?? 0, rtol: tolerance.rtol ?? 0 });
    return {
      pass: c.pass,
      message: () => `expected tensor ${c.pass ? "not " : ""}to match\n${formatComparison(c)}`,
    };
  },
};
