/**
 * Matrix products. Every product has a plain `*Reference` twin (a triple loop, float64
 * accumulation) that the fast path is tested against.
 *
 * Shapes are stated as `[rows, cols]`. Argument order: output (when given), inputs.
 *
 * @module
 */
import type { Matrix } from "../tensor/matrix.ts";

function checkInner(op: string, a: Matrix, b: Matrix, ak: number, bk: number): void {
  if (ak !== bk) {
    throw new TypeError(
      `Cannot compute ${op}: inner dimensions differ, A [${a.rows}, ${a.cols}] and B [${b.rows}, ${b.cols}]`,
    );
  }
}

/**
 * `C = A B`, the simplest correct implementation. A `[m, k]`, B `[k, n]`, C `[m, n]`.
 *
 * @param a Left factor `[m, k]`.
 * @param b Right factor `[k, n]`.
 * @returns The product `[m, n]`, accumulated in float64 and stored as float32.
 * @throws {TypeError} If `a.cols !== b.rows`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { matmulReference } from "./matmul.ts";
 * const c = matmulReference(fromRows([[1, 2]]), fromRows([[3], [4]]));
 * assert.equal(c.data[0], 11);
 * ```
 */
export function matmulReference(a: Matrix, b: Matrix): Matrix {
  checkInner("A B", a, b, a.cols, b.rows);
  const m = a.rows, k = a.cols, n = b.cols;
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a.data[i * k + p] * b.data[p * n + j];
      out[i * n + j] = s;
    }
  }
  return { data: out, rows: m, cols: n };
}

/**
 * `C = A B^T`, the simplest correct implementation. A `[m, k]`, B `[n, k]`, C `[m, n]`.
 * This is the shape of a linear layer applied to a batch: `Y = X W^T` with X `[tokens, in]` and
 * W `[out, in]`.
 *
 * @param a Left factor `[m, k]`.
 * @param b Right factor, transposed, `[n, k]`.
 * @returns The product `[m, n]`.
 * @throws {TypeError} If `a.cols !== b.cols`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { matmulTransBReference } from "./matmul.ts";
 * const y = matmulTransBReference(fromRows([[1, 2]]), fromRows([[3, 4], [5, 6]]));
 * assert.deepEqual(Array.from(y.data), [11, 17]);
 * ```
 */
export function matmulTransBReference(a: Matrix, b: Matrix): Matrix {
  checkInner("A B^T", a, b, a.cols, b.cols);
  const m = a.rows, k = a.cols, n = b.rows;
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a.data[i * k + p] * b.data[j * k + p];
      out[i * n + j] = s;
    }
  }
  return { data: out, rows: m, cols: n };
}

/**
 * `G += X^T X` in float64, the calibration Gram matrix of a linear layer's inputs.
 * X `[tokens, cols]`, G `Float64Array(cols * cols)` row-major.
 *
 * @param g The accumulator, `cols * cols` float64 values, updated in place.
 * @param x The inputs `[tokens, cols]`.
 * @throws {TypeError} If `g.length !== x.cols ** 2`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { gramAccumulateReference } from "./matmul.ts";
 * const g = new Float64Array(4);
 * gramAccumulateReference(g, fromRows([[1, 2], [3, 4]]));
 * assert.deepEqual(Array.from(g), [10, 14, 14, 20]);
 * ```
 */
export function gramAccumulateReference(g: Float64Array, x: Matrix): void {
  const n = x.cols;
  if (g.length !== n * n) {
    throw new TypeError(`Cannot accumulate X^T X: G has ${g.length} values, expected ${n * n} for cols=${n}`);
  }
  for (let t = 0; t < x.rows; t++) {
    for (let i = 0; i < n; i++) {
      const xi = x.data[t * n + i];
      for (let j = 0; j < n; j++) g[i * n + j] += xi * x.data[t * n + j];
    }
  }
}

/**
 * `C = A B`. A `[m, k]`, B `[k, n]`, C `[m, n]`. Row-at-a-time i-k-j order with a float64 row
 * accumulator: B is streamed row by row (contiguous), so this is cache-friendly without tiling.
 * (The tiled, multi-core version is the job of the speed work; this one is the fallback.)
 *
 * @param a Left factor `[m, k]`.
 * @param b Right factor `[k, n]`.
 * @returns The product `[m, n]`; equal to {@link matmulReference} up to rounding.
 * @throws {TypeError} If `a.cols !== b.rows`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { matmul } from "./matmul.ts";
 * assert.deepEqual(Array.from(matmul(fromRows([[1, 2], [3, 4]]), fromRows([[1, 0], [0, 1]])).data), [1, 2, 3, 4]);
 * ```
 */
export function matmul(a: Matrix, b: Matrix): Matrix {
  checkInner("A B", a, b, a.cols, b.rows);
  const m = a.rows, k = a.cols, n = b.cols, A = a.data, B = b.data;
  const out = new Float32Array(m * n);
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    for (let p = 0; p < k; p++) {
      const aip = A[i * k + p];
      if (aip === 0) continue;
      const off = p * n;
      for (let j = 0; j < n; j++) acc[j] += aip * B[off + j];
    }
    out.set(acc, i * n);
  }
  return { data: out, rows: m, cols: n };
}

/**
 * `C = A B^T`. A `[m, k]`, B `[n, k]`, C `[m, n]`: every entry is a dot product of two contiguous
 * rows. Four rows of B are dotted with one row of A per pass, so each A value is loaded once per
 * four outputs.
 *
 * @param a Left factor `[m, k]`.
 * @param b Right factor, transposed, `[n, k]`.
 * @returns The product `[m, n]`; equal to {@link matmulTransBReference} up to rounding.
 * @throws {TypeError} If `a.cols !== b.cols`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { matmulTransB } from "./matmul.ts";
 * assert.deepEqual(Array.from(matmulTransB(fromRows([[1, 2]]), fromRows([[3, 4], [5, 6]])).data), [11, 17]);
 * ```
 */
export function matmulTransB(a: Matrix, b: Matrix): Matrix {
  checkInner("A B^T", a, b, a.cols, b.cols);
  const m = a.rows, k = a.cols, n = b.rows, A = a.data, B = b.data;
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) {
        const x = A[ai + p];
        s0 += x * B[b0 + p];
        s1 += x * B[b1 + p];
        s2 += x * B[b2 + p];
        s3 += x * B[b3 + p];
      }
      out[i * n + j] = s0;
      out[i * n + j + 1] = s1;
      out[i * n + j + 2] = s2;
      out[i * n + j + 3] = s3;
    }
    for (; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += A[ai + p] * B[j * k + p];
      out[i * n + j] = s;
    }
  }
  return { data: out, rows: m, cols: n };
}
