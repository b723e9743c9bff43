import { ArrayReleasedError } from "../errors.js";
import type { DataFor, NumericDType } from "../wire/dtypes.js";
import type { NDArray } from "../wire/ndarray.js";

/**
 * An NDArray whose data is a view over the local link's shared memory, as pyodide's PyBufferView is
 * over Python's: no copy was made, and its block of shared memory is reused once it is released.
 *
 * Release it when done — `release()`, or `using out = …` — so the block returns at once. One that is
 * never released is released when its data's ArrayBuffer is garbage-collected (a FinalizationRegistry
 * on the buffer itself, so a subarray kept alive keeps the block too). After release, `data` throws
 * ArrayReleasedError and views taken earlier are emptied (their buffer is detached), so stale reads
 * see nothing rather than a later message's bytes.
 */
export class SharedArray<D extends NumericDType = NumericDType> implements NDArray<D>, Disposable {
  readonly dtype: D;
  readonly shape: readonly number[];
  /** @throws {ArrayReleasedError} after {@link release}. */
  declare readonly data: DataFor[D];
  #data: DataFor[D] | null;
  readonly #onRelease: () => void;

  /** @internal made by the local link only */
  constructor(dtype: D, shape: readonly number[], data: DataFor[D], onRelease: () => void) {
    this.dtype = dtype;
    this.shape = shape;
    this.#data = data;
    this.#onRelease = onRelease;
    // An own, enumerable property (a getter), so that spreading, toEqual and JSON see `data` as on any NDArray.
    Object.defineProperty(this, "data", {
      enumerable: true,
      get: () => {
        if (!this.#data) throw new ArrayReleasedError(`a ${this.dtype}[${this.shape.join(", ")}] array in shared memory was used after its release`);
        return this.#data;
      },
    });
  }

  get released(): boolean {
    return this.#data === null;
  }

  /** Gives its shared memory back now; idempotent. Copy the data first (`data.slice()`) to keep it. */
  release(): void {
    if (!this.#data) return;
    this.#data = null;
    this.#onRelease();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/** True for an array the caller may (and should) release: one that lives in shared memory. */
export function isSharedArray(array: NDArray): array is SharedArray {
  return array instanceof SharedArray;
}
