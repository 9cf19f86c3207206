/**
 * Bridges between {@link Matrix} and `npm:ndarray` views, the array type of the scijs ecosystem.
 *
 * `fromNdarray` is zero-copy when the view is a contiguous row-major float32 2-D array (its data is
 * shared); any other view (transposed, strided, offset into a larger buffer with gaps, another
 * dtype) is copied. `toNdarray` always shares the matrix's data.
 *
 * @module
 */
import ndarray from "ndarray";
import type { NdArray } from "ndarray";
import { checkMatrix, type Matrix } from "./matrix.ts";

/**
 * Converts a 2-D ndarray view to a {@link Matrix}.
 *
 * @param view A 2-D ndarray of numbers.
 * @returns The matrix; shares memory with `view` when it is contiguous row-major float32.
 * @throws {TypeError} If `view` is not 2-D.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import ndarray from "ndarray";
 * import { fromNdarray } from "./ndarray.ts";
 * const data = new Float32Array([1, 2, 3, 4, 5, 6]);
 * const m = fromNdarray(ndarray(data, [2, 3]));
 * assert.ok(m.data.buffer === data.buffer); // zero-copy
 * const t = fromNdarray(ndarray(data, [2, 3]).transpose(1, 0));
 * assert.ok(t.rows === 3 && t.data[1] === 4); // copied
 * ```
 */
export function fromNdarray(view: NdArray<ndarray.Data<number>>): Matrix {
  if (!view || !Array.isArray(view.shape) || view.shape.length !== 2) {
    throw new TypeError(
      `Cannot convert ndarray to Matrix: expected 2 dimensions, got shape ${JSON.stringify(view?.shape)}`,
    );
  }
  const [rows, cols] = view.shape;
  const [s0, s1] = view.stride;
  const data = view.data as unknown;
  if (data instanceof Float32Array && s1 === 1 && (s0 === cols || rows <= 1)) {
    const m = { data: data.subarray(view.offset, view.offset + rows * cols), rows, cols };
    checkMatrix(m, "ndarray view");
    return m;
  }
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = view.get(i, j);
  }
  return { data: out, rows, cols };
}

/**
 * Wraps a {@link Matrix} as a 2-D ndarray view (no copy).
 *
 * @param m The matrix.
 * @returns An ndarray of shape `[rows, cols]` over `m.data`.
 * @throws {TypeError} If `m` is not a well-formed matrix.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "./matrix.ts";
 * import { toNdarray } from "./ndarray.ts";
 * const v = toNdarray(fromRows([[1, 2], [3, 4]]));
 * assert.ok(v.get(1, 0) === 3);
 * ```
 */
export function toNdarray(m: Matrix): NdArray<Float32Array> {
  checkMatrix(m);
  return ndarray(m.data, [m.rows, m.cols]);
}
