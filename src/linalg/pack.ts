/**
 * Packing for the blocked matrix products (`matmul.ts`, `gemm_simd.ts`): a block of a strided view
 * copied into contiguous panels so the micro-kernels read both factors sequentially.
 *
 * @module
 */

/**
 * A strided view of a matrix inside a flat array: element `(i, j)` is
 * `data[offset + i * rowStride + j * colStride]`. Swapping the strides transposes the view, so
 * one kernel serves `A B`, `A B^T` and `X^T X`.
 */
export interface StridedMatrix {
  data: Float32Array | Float64Array;
  offset: number;
  rowStride: number;
  colStride: number;
}

/**
 * The transposed view of a view (rows and columns swapped; same data).
 *
 * @param v The view.
 * @returns `v^T`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { transposed } from "./pack.ts";
 * const v = { data: new Float64Array(6), offset: 1, rowStride: 3, colStride: 1 };
 * assert.deepEqual(transposed(v), { data: v.data, offset: 1, rowStride: 1, colStride: 3 });
 * ```
 */
export function transposed(v: StridedMatrix): StridedMatrix {
  return { data: v.data, offset: v.offset, rowStride: v.colStride, colStride: v.rowStride };
}

/**
 * Packs rows `r0..r0+rc` of a view, inner indices `p0..p0+kc`, into panels of `width` rows: panel
 * `q` holds, for each inner index p, its `width` row values side by side (rows past `rc` are 0).
 * Every value is multiplied by `scale` (1, or -1 which is exact).
 *
 * @param v The view.
 * @param r0 First row.
 * @param rc Number of rows.
 * @param p0 First inner index.
 * @param kc Number of inner indices.
 * @param out Receives `ceil(rc / width) * width * kc` values.
 * @param scale Multiplies every value.
 * @param width Rows per panel.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packPanels } from "./pack.ts";
 * const v = { data: new Float64Array([1, 2, 3, 4, 5, 6]), offset: 0, rowStride: 2, colStride: 1 }; // [3, 2]
 * const out = new Float64Array(8);
 * packPanels(v, 0, 3, 0, 2, out, 1, 4);
 * assert.deepEqual(Array.from(out), [1, 3, 5, 0, 2, 4, 6, 0]);
 * ```
 */
export function packPanels(
  v: StridedMatrix,
  r0: number,
  rc: number,
  p0: number,
  kc: number,
  out: Float32Array | Float64Array,
  scale: number,
  width: number,
): void {
  const src = v.data, rs = v.rowStride, ps = v.colStride;
  let o = 0;
  for (let q = 0; q < rc; q += width) {
    const valid = Math.min(width, rc - q);
    for (let p = 0; p < kc; p++) {
      const base = v.offset + (r0 + q) * rs + (p0 + p) * ps;
      for (let r = 0; r < width; r++) out[o++] = r < valid ? scale * src[base + r * rs] : 0;
    }
  }
}
