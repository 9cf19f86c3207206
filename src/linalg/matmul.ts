/**
 * Matrix products. Every product has a plain `*Reference` twin (a triple loop, float64
 * accumulation) that the fast path is tested against.
 *
 * Shapes are stated as `[rows, cols]`. Argument order: output (when given), inputs.
 *
 * ## The fast kernel ({@link gemmAccumulate}), GotoBLAS-style
 *
 * `C += alpha * A B` on strided views. Loops, outermost first: a block of `NC` columns of B, a
 * block of `KC` of the inner dimension (that part of B is packed into 4-column panels of a
 * `Float64Array`, ~512 KiB: stays in L2), a block of `MC` rows of A (packed into 4-row panels,
 * ~256 KiB), then a 4x4 micro-kernel that keeps 16 sums of C in local variables (registers) and
 * streams one A panel and one B panel (8 loads per 16 multiply-adds).
 *
 * Precision: every kernel here accumulates in float64. A float32 times a float32 is exact in
 * float64 (24 + 24 significant bits < 53), and each output's products are added one by one in
 * ascending inner index, the same order as the `*Reference` loops, so `matmul`, `matmulTransB` and
 * `gramAccumulate` give results bit-identical to their references (the tests assert equality).
 * With the `"simd"` kernels (`kernels.ts`) {@link gemmAccumulate} hands each packed block to the
 * WebAssembly SIMD kernel of `gemm_simd.ts` instead of the 4x4 TypeScript one: same order, same
 * bits. {@link linearInto}, the forward pass's linear layers, then sums in float32 instead.
 * The partial sums of a block of C live in a `Float64Array` between `KC` blocks, so nothing is
 * rounded to float32 before the end.
 *
 * @module
 */
import type { Matrix } from "../tensor/matrix.ts";
import { gemmAccumulateSimd, linearF32Simd } from "./gemm_simd.ts";
import { kernels } from "./kernels.ts";
import { packPanels, type StridedMatrix, transposed } from "./pack.ts";

export type { StridedMatrix } from "./pack.ts";

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
    throw new TypeError(
      `Cannot accumulate X^T X: G has ${g.length} values, expected ${n * n} for cols=${n}`,
    );
  }
  for (let t = 0; t < x.rows; t++) {
    for (let i = 0; i < n; i++) {
      const xi = x.data[t * n + i];
      for (let j = 0; j < n; j++) g[i * n + j] += xi * x.data[t * n + j];
    }
  }
}

/**
 * The view of a whole row-major matrix (or of its transpose).
 *
 * @param m The matrix.
 * @param transposed View `m^T` instead of `m`.
 * @returns The strided view, sharing `m.data`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { stridedView } from "./matmul.ts";
 * const v = stridedView(fromRows([[1, 2], [3, 4]]), true); // element (0, 1) of the transpose is 3
 * assert.equal(v.data[v.offset + 0 * v.rowStride + 1 * v.colStride], 3);
 * ```
 */
export function stridedView(m: Matrix, transposed = false): StridedMatrix {
  return transposed
    ? { data: m.data, offset: 0, rowStride: 1, colStride: m.cols }
    : { data: m.data, offset: 0, rowStride: m.cols, colStride: 1 };
}

/** Options of {@link gemmAccumulate}. */
export interface GemmOptions {
  /** Multiplies the product (default 1; -1 subtracts it, exactly). */
  alpha?: number;
  /**
   * For a symmetric result: only the entries on or above the diagonal (`j >= i`) are promised;
   * entries below it may or may not be updated (the fast kernel skips whole tiles below it).
   */
  upperOnly?: boolean;
}

const MC = 128, NC = 256, KC = 256;

/**
 * The packing buffers and the float64 block of C, allocated once per thread (each worker has its
 * own module instance) and reused by every product: 1 MB in all. Allocating them per call made
 * the forward pass churn several MB of garbage per linear layer, which the garbage collector
 * reclaims late, so the process's peak memory grew by tens of MB. No product
 * calls another while it holds them, so one set is enough.
 */
let workspace: { aPack: Float64Array; bPack: Float64Array; c64: Float64Array; tile: Float64Array };
function gemmWorkspace(): typeof workspace {
  return workspace ??= {
    aPack: new Float64Array(MC * KC),
    bPack: new Float64Array(NC * KC),
    c64: new Float64Array(MC * NC),
    tile: new Float64Array(16),
  };
}

/** The 4x4 micro-kernel: `C[4, 4] += Apanel[4, kc] Bpanel[kc, 4]`, sums held in locals. */
function kernel4x4(
  ap: Float64Array,
  ao: number,
  bp: Float64Array,
  bo: number,
  kc: number,
  c: Float64Array,
  co: number,
  ldc: number,
): void {
  const r1 = co + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
  let c00 = c[co], c01 = c[co + 1], c02 = c[co + 2], c03 = c[co + 3];
  let c10 = c[r1], c11 = c[r1 + 1], c12 = c[r1 + 2], c13 = c[r1 + 3];
  let c20 = c[r2], c21 = c[r2 + 1], c22 = c[r2 + 2], c23 = c[r2 + 3];
  let c30 = c[r3], c31 = c[r3 + 1], c32 = c[r3 + 2], c33 = c[r3 + 3];
  for (let p = 0; p < kc; p++) {
    const a = ao + 4 * p, b = bo + 4 * p;
    const a0 = ap[a], a1 = ap[a + 1], a2 = ap[a + 2], a3 = ap[a + 3];
    const b0 = bp[b], b1 = bp[b + 1], b2 = bp[b + 2], b3 = bp[b + 3];
    c00 += a0 * b0, c01 += a0 * b1, c02 += a0 * b2, c03 += a0 * b3;
    c10 += a1 * b0, c11 += a1 * b1, c12 += a1 * b2, c13 += a1 * b3;
    c20 += a2 * b0, c21 += a2 * b1, c22 += a2 * b2, c23 += a2 * b3;
    c30 += a3 * b0, c31 += a3 * b1, c32 += a3 * b2, c33 += a3 * b3;
  }
  c[co] = c00, c[co + 1] = c01, c[co + 2] = c02, c[co + 3] = c03;
  c[r1] = c10, c[r1 + 1] = c11, c[r1 + 2] = c12, c[r1 + 3] = c13;
  c[r2] = c20, c[r2 + 1] = c21, c[r2 + 2] = c22, c[r2 + 3] = c23;
  c[r3] = c30, c[r3 + 1] = c31, c[r3 + 2] = c32, c[r3 + 3] = c33;
}

/** One packed tile; edge tiles go through a 4x4 scratch so C is never written out of bounds. */
function tile(
  ap: Float64Array,
  ao: number,
  bp: Float64Array,
  bo: number,
  kc: number,
  c: Float64Array,
  co: number,
  ldc: number,
  rows: number,
  cols: number,
  scratch: Float64Array,
): void {
  if (rows === 4 && cols === 4) return kernel4x4(ap, ao, bp, bo, kc, c, co, ldc);
  scratch.fill(0);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) scratch[i * 4 + j] = c[co + i * ldc + j];
  }
  kernel4x4(ap, ao, bp, bo, kc, scratch, 0, 4);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) c[co + i * ldc + j] = scratch[i * 4 + j];
  }
}

/**
 * `C += alpha * A B` with A a `[m, k]` view, B a `[k, n]` view and C a float64 `[m, n]` view
 * with unit column stride. The building block of every fast product here, of the blocked
 * Cholesky and of SparseGPT's lazy batch update. Accumulates in float64, inner index ascending.
 *
 * @param c The accumulator (its `data` must be a `Float64Array`, `colStride` 1); updated in place.
 * @param a Left factor view, `m` rows by `k` columns.
 * @param b Right factor view, `k` rows by `n` columns.
 * @param m Rows of C.
 * @param n Columns of C.
 * @param k Inner dimension.
 * @param options `alpha` (default 1) and `upperOnly` (only entries `j >= i` are promised).
 * @throws {TypeError} If `c` is not a unit-column-stride `Float64Array` view.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { gemmAccumulate, stridedView } from "./matmul.ts";
 * const c = new Float64Array([10, 10]); // [1, 2]
 * const a = fromRows([[1, 2]]), bt = fromRows([[3, 4], [5, 6]]);
 * gemmAccumulate({ data: c, offset: 0, rowStride: 2, colStride: 1 }, stridedView(a), stridedView(bt, true), 1, 2, 2, { alpha: -1 });
 * assert.deepEqual(Array.from(c), [10 - 11, 10 - 17]);
 * ```
 */
export function gemmAccumulate(
  c: StridedMatrix,
  a: StridedMatrix,
  b: StridedMatrix,
  m: number,
  n: number,
  k: number,
  options: GemmOptions = {},
): void {
  if (!(c.data instanceof Float64Array) || c.colStride !== 1) {
    throw new TypeError(
      "Cannot accumulate a product: C must be a Float64Array view with colStride 1",
    );
  }
  const alpha = options.alpha ?? 1, upperOnly = options.upperOnly ?? false;
  if (kernels() === "simd") return gemmAccumulateSimd(c, a, b, m, n, k, alpha, upperOnly);
  const cd = c.data, ldc = c.rowStride;
  const { aPack, bPack, tile: scratch } = gemmWorkspace(); // MC, NC are multiples of 4
  const bT = transposed(b); // columns of B are packed as panel rows
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packPanels(bT, jc, nc, pc, kc, bPack, 1, 4); // columns of B become panel rows
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        if (upperOnly && ic > jc + nc - 1) break;
        packPanels(a, ic, mc, pc, kc, aPack, alpha, 4);
        for (let i = 0; i < mc; i += 4) {
          for (let j = 0; j < nc; j += 4) {
            if (upperOnly && jc + j + 3 < ic + i) continue;
            const co = c.offset + (ic + i) * ldc + jc + j;
            tile(
              aPack,
              i * kc,
              bPack,
              j * kc,
              kc,
              cd,
              co,
              ldc,
              Math.min(4, mc - i),
              Math.min(4, nc - j),
              scratch,
            );
          }
        }
      }
    }
  }
}

/**
 * The reference for {@link gemmAccumulate}: a triple loop over the views, float64 sums.
 *
 * @param c The accumulator view, updated in place.
 * @param a Left factor view `[m, k]`.
 * @param b Right factor view `[k, n]`.
 * @param m Rows of C.
 * @param n Columns of C.
 * @param k Inner dimension.
 * @param options As for {@link gemmAccumulate}; with `upperOnly` only `j >= i` is updated.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { gemmAccumulateReference, stridedView } from "./matmul.ts";
 * const c = new Float64Array(1);
 * gemmAccumulateReference({ data: c, offset: 0, rowStride: 1, colStride: 1 }, stridedView(fromRows([[1, 2]])), stridedView(fromRows([[3], [4]])), 1, 1, 2);
 * assert.equal(c[0], 11);
 * ```
 */
export function gemmAccumulateReference(
  c: StridedMatrix,
  a: StridedMatrix,
  b: StridedMatrix,
  m: number,
  n: number,
  k: number,
  options: GemmOptions = {},
): void {
  const alpha = options.alpha ?? 1;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      if (options.upperOnly && j < i) continue;
      const ci = c.offset + i * c.rowStride + j * c.colStride;
      let s = c.data[ci];
      for (let p = 0; p < k; p++) {
        s += alpha * a.data[a.offset + i * a.rowStride + p * a.colStride] *
          b.data[b.offset + p * b.rowStride + j * b.colStride];
      }
      c.data[ci] = s;
    }
  }
}

function checkOut(op: string, out: Matrix, m: number, n: number): void {
  if (
    !(out.data instanceof Float32Array) || out.rows !== m || out.cols !== n ||
    out.data.length !== m * n
  ) {
    throw new TypeError(
      `Cannot write ${op} into [${out.rows}, ${out.cols}]: expected a Float32 matrix [${m}, ${n}]`,
    );
  }
}

/** `out = op(A) B`-style product by blocks of rows, through a float64 block of C. */
function productInto(
  out: Matrix,
  a: StridedMatrix,
  b: StridedMatrix,
  m: number,
  n: number,
  k: number,
): void {
  const c64 = gemmWorkspace().c64; // one [MC, NC] block of C at a time
  for (let c0 = 0; c0 < n; c0 += NC) {
    const cc = Math.min(NC, n - c0);
    const bCols: StridedMatrix = { ...b, offset: b.offset + c0 * b.colStride };
    for (let r0 = 0; r0 < m; r0 += MC) {
      const rc = Math.min(MC, m - r0);
      c64.fill(0, 0, rc * cc);
      const aRows: StridedMatrix = { ...a, offset: a.offset + r0 * a.rowStride };
      gemmAccumulate(
        { data: c64, offset: 0, rowStride: cc, colStride: 1 },
        aRows,
        bCols,
        rc,
        cc,
        k,
      );
      const o = out.data;
      for (let i = 0; i < rc; i++) {
        const dst = (r0 + i) * n + c0, src = i * cc;
        for (let j = 0; j < cc; j++) o[dst + j] = c64[src + j]; // rounds to float32
      }
    }
  }
}

/**
 * `out = A B`, written into a given matrix. A `[m, k]`, B `[k, n]`, out `[m, n]`.
 *
 * @param out The output `[m, n]` (overwritten; must not share memory with `a` or `b`).
 * @param a Left factor `[m, k]`.
 * @param b Right factor `[k, n]`.
 * @returns `out`.
 * @throws {TypeError} If the inner dimensions differ or `out` has the wrong shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, matrix } from "../tensor/matrix.ts";
 * import { matmulInto } from "./matmul.ts";
 * const out = matrix(1, 1);
 * matmulInto(out, fromRows([[1, 2]]), fromRows([[3], [4]]));
 * assert.equal(out.data[0], 11);
 * ```
 */
export function matmulInto(out: Matrix, a: Matrix, b: Matrix): Matrix {
  checkInner("A B", a, b, a.cols, b.rows);
  checkOut("A B", out, a.rows, b.cols);
  productInto(out, stridedView(a), stridedView(b), a.rows, b.cols, a.cols);
  return out;
}

/**
 * `C = A B`. A `[m, k]`, B `[k, n]`, C `[m, n]`. Cache-blocked and register-tiled (see the module
 * header); float64 accumulation, bit-identical to {@link matmulReference}.
 *
 * @param a Left factor `[m, k]`.
 * @param b Right factor `[k, n]`.
 * @returns The product `[m, n]`.
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
  return matmulInto({ data: new Float32Array(a.rows * b.cols), rows: a.rows, cols: b.cols }, a, b);
}

/**
 * `out = A B^T`, written into a given matrix. A `[m, k]`, B `[n, k]`, out `[m, n]`.
 *
 * @param out The output `[m, n]` (overwritten; must not share memory with `a` or `b`).
 * @param a Left factor `[m, k]`.
 * @param b Right factor, transposed, `[n, k]`.
 * @returns `out`.
 * @throws {TypeError} If `a.cols !== b.cols` or `out` has the wrong shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, matrix } from "../tensor/matrix.ts";
 * import { matmulTransBInto } from "./matmul.ts";
 * const y = matmulTransBInto(matrix(1, 2), fromRows([[1, 2]]), fromRows([[3, 4], [5, 6]]));
 * assert.deepEqual(Array.from(y.data), [11, 17]);
 * ```
 */
export function matmulTransBInto(out: Matrix, a: Matrix, b: Matrix): Matrix {
  checkInner("A B^T", a, b, a.cols, b.cols);
  checkOut("A B^T", out, a.rows, b.rows);
  productInto(out, stridedView(a), stridedView(b, true), a.rows, b.rows, a.cols);
  return out;
}

/**
 * `out = X W^T`, a linear layer applied to a batch of tokens, as the forward pass computes it: with
 * the `"ts"` kernels {@link matmulTransBInto} (float64 sums); with the `"simd"` kernels the float32
 * SIMD kernel (`linearF32Simd` in `gemm_simd.ts`: float32 sums, about twice as fast as float64
 * SIMD, outputs within a few float32 roundings per term of the float64 sums).
 *
 * @param out The output `[tokens, out]` (overwritten; must not share memory with `x` or `w`).
 * @param x Inputs `[tokens, in]`.
 * @param w Weight `[out, in]`.
 * @returns `out`.
 * @throws {TypeError} If the shapes do not match.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, matrix } from "../tensor/matrix.ts";
 * import { linearInto } from "./matmul.ts";
 * const y = linearInto(matrix(1, 2), fromRows([[1, 2]]), fromRows([[3, 4], [5, 6]]));
 * assert.deepEqual(Array.from(y.data), [11, 17]);
 * ```
 */
export function linearInto(out: Matrix, x: Matrix, w: Matrix): Matrix {
  return kernels() === "simd" ? linearF32Simd(out, x, w) : matmulTransBInto(out, x, w);
}

/**
 * `C = A B^T`. A `[m, k]`, B `[n, k]`, C `[m, n]`: the shape of a linear layer applied to a batch,
 * `Y = X W^T`. Same kernel as {@link matmul} (B^T is a strided view, packed once per block);
 * bit-identical to {@link matmulTransBReference}.
 *
 * @param a Left factor `[m, k]`.
 * @param b Right factor, transposed, `[n, k]`.
 * @returns The product `[m, n]`.
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
  return matmulTransBInto(
    { data: new Float32Array(a.rows * b.rows), rows: a.rows, cols: b.rows },
    a,
    b,
  );
}

/**
 * `G += X^T X` in float64, exploiting symmetry: only tiles on or above the diagonal are computed,
 * then the upper triangle is mirrored. X `[tokens, cols]`, G `Float64Array(cols * cols)`.
 * Bit-identical to {@link gramAccumulateReference} when G starts symmetric (as every sum of
 * `X^T X` terms is): the same products are added in the same (token) order.
 *
 * @param g The accumulator, `cols * cols` float64 values, symmetric, updated in place.
 * @param x The inputs `[tokens, cols]`.
 * @throws {TypeError} If `g.length !== x.cols ** 2`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { gramAccumulate } from "./matmul.ts";
 * const g = new Float64Array(4);
 * gramAccumulate(g, fromRows([[1, 2], [3, 4]]));
 * assert.deepEqual(Array.from(g), [10, 14, 14, 20]);
 * ```
 */
export function gramAccumulate(g: Float64Array, x: Matrix): void {
  const n = x.cols;
  if (!(g instanceof Float64Array) || g.length !== n * n) {
    throw new TypeError(
      `Cannot accumulate X^T X: G has ${g.length} values, expected ${n * n} for cols=${n}`,
    );
  }
  const xt = stridedView(x, true);
  gemmAccumulate(
    { data: g, offset: 0, rowStride: n, colStride: 1 },
    xt,
    stridedView(x),
    n,
    n,
    x.rows,
    {
      upperOnly: true,
    },
  );
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) g[i * n + j] = g[j * n + i]; // mirror
}
