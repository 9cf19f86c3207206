/**
 * Cholesky factorisation and what SparseGPT builds from it.
 *
 * All matrices are square `n x n`, row-major `Float64Array`s: a Hessian `H = (2/tokens) X^T X` is
 * accumulated and factored in float64 (its condition number is often 1e6 or worse; float32 would
 * lose the small pivots). Inputs must be symmetric; {@link cholesky} reads only the lower triangle.
 *
 * | math                          | code                               |
 * | ----------------------------- | ---------------------------------- |
 * | `A = L L^T`, L lower          | `cholesky(a, n)`                   |
 * | `L^-1`                        | `lowerTriangularInverse(l, n)`     |
 * | `A^-1 = L^-T L^-1`            | `choleskyInverse(l, n)`            |
 * | `U` upper, `U^T U = H^-1`     | `upperCholeskyOfInverse(h, n)`     |
 *
 * The fast paths are blocked (`NB` = 64): the diagonal block and the panel under it are done with
 * dot products, the rest of the work (the trailing update of Cholesky, the off-diagonal blocks of
 * the triangular inverse, `X^T X` of the inverse) goes through {@link gemmAccumulate}, the packed
 * float64 kernel of `matmul.ts`. Each has a plain `*Reference` twin, the textbook loop.
 *
 * `upperCholeskyOfInverse` does NOT follow SparseGPT's literal three steps
 * (`cholesky(H)`, `cholesky_inverse`, `cholesky(., upper=True)`, ~5n^3/3 flops; that path is
 * {@link upperCholeskyOfInverseReference}). With `J` the reversal permutation and
 * `J H J = M M^T`: `H^-1 = J M^-T M^-1 J = U^T U` for `U = J M^-1 J`, which is upper triangular
 * with a positive diagonal, so it is THE upper Cholesky factor of `H^-1`: one Cholesky and one
 * triangular inverse, ~2n^3/3 flops. The tests check both paths agree.
 *
 * @module
 */
import { gemmAccumulate } from "./matmul.ts";

const NB = 64;

/**
 * Thrown when a Cholesky pivot is not positive: the matrix is not (numerically) positive definite.
 * For SparseGPT this means the dampening was too small for the Hessian (raise `percdamp`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cholesky, NotPositiveDefiniteError } from "./cholesky.ts";
 * try {
 *   cholesky(new Float64Array([1, 2, 2, 1]), 2, { damp: 0.5 });
 *   assert.fail("should throw");
 * } catch (e) {
 *   assert.ok(e instanceof NotPositiveDefiniteError && e instanceof RangeError);
 *   assert.deepEqual([e.pivot, e.value, e.damp], [1, -3, 0.5]);
 * }
 * ```
 */
export class NotPositiveDefiniteError extends RangeError {
  /** Index of the failing pivot (a row/column of the input). */
  readonly pivot: number;
  /** The pivot's value after elimination (<= 0 or NaN). */
  readonly value: number;
  /** The dampening that had been added to the diagonal (0 if none). */
  readonly damp: number;

  /**
   * @param n Size of the matrix.
   * @param pivot Failing pivot index.
   * @param value Its value after elimination.
   * @param damp The dampening that had been added to the diagonal.
   */
  constructor(n: number, pivot: number, value: number, damp: number) {
    super(
      `Cannot take the Cholesky factor of a ${n}x${n} matrix: not positive definite at pivot ${pivot} ` +
        `(value ${value} after elimination; dampening ${damp} was added to the diagonal)`,
    );
    this.name = "NotPositiveDefiniteError";
    this.pivot = pivot;
    this.value = value;
    this.damp = damp;
  }
}

/** Options of the factorisations. */
export interface CholeskyOptions {
  /** The dampening already added to the diagonal, reported in a {@link NotPositiveDefiniteError}. */
  damp?: number;
}

function checkSquare(what: string, a: Float64Array, n: number): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new TypeError(`Cannot ${what}: n must be a non-negative integer, got ${n}`);
  }
  if (!(a instanceof Float64Array) || a.length !== n * n) {
    throw new TypeError(
      `Cannot ${what}: expected a Float64Array of ${n * n} values for n=${n}, got ${a?.length}`,
    );
  }
}

/**
 * The textbook Cholesky-Banachiewicz factorisation, row by row:
 * `L_ij = (A_ij - sum_{p<j} L_ip L_jp) / L_jj`, `L_jj = sqrt(A_jj - sum_{p<j} L_jp^2)`.
 *
 * @param a Symmetric positive definite `n x n` (only the lower triangle is read).
 * @param n Size.
 * @param options `damp`, reported in the error.
 * @returns L, lower triangular (zeros above the diagonal), `L L^T = A`.
 * @throws {TypeError} If `a` is not a `Float64Array(n * n)`.
 * @throws {NotPositiveDefiniteError} If a pivot is not positive.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { choleskyReference } from "./cholesky.ts";
 * assert.deepEqual(Array.from(choleskyReference(new Float64Array([4, 2, 2, 5]), 2)), [2, 0, 1, 2]);
 * ```
 */
export function choleskyReference(
  a: Float64Array,
  n: number,
  options: CholeskyOptions = {},
): Float64Array {
  checkSquare("take the Cholesky factor", a, n);
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let p = 0; p < j; p++) s -= l[i * n + p] * l[j * n + p];
      if (i === j) {
        if (!(s > 0)) throw new NotPositiveDefiniteError(n, i, s, options.damp ?? 0);
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  return l;
}

/**
 * Blocked right-looking Cholesky: for each block of `NB` columns, factor it (diagonal block and
 * the panel below, by dot products), then subtract `L21 L21^T` from the lower trailing matrix.
 *
 * @param a Symmetric positive definite `n x n` (only the lower triangle is read; not mutated).
 * @param n Size.
 * @param options `damp`, reported in the error.
 * @returns L, lower triangular, `L L^T = A`; equal to {@link choleskyReference} up to rounding.
 * @throws {TypeError} If `a` is not a `Float64Array(n * n)`.
 * @throws {NotPositiveDefiniteError} If a pivot is not positive.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cholesky, NotPositiveDefiniteError } from "./cholesky.ts";
 * assert.deepEqual(Array.from(cholesky(new Float64Array([4, 2, 2, 5]), 2)), [2, 0, 1, 2]);
 * assert.throws(() => cholesky(new Float64Array([1, 2, 2, 1]), 2), NotPositiveDefiniteError);
 * ```
 */
export function cholesky(a: Float64Array, n: number, options: CholeskyOptions = {}): Float64Array {
  checkSquare("take the Cholesky factor", a, n);
  const w = a.slice();
  for (let k0 = 0; k0 < n; k0 += NB) {
    const k1 = Math.min(k0 + NB, n);
    for (let j = k0; j < k1; j++) { // columns of the block, with every row below them
      const rj = j * n;
      let s = w[rj + j];
      for (let p = k0; p < j; p++) s -= w[rj + p] * w[rj + p];
      if (!(s > 0)) throw new NotPositiveDefiniteError(n, j, s, options.damp ?? 0);
      const ljj = Math.sqrt(s);
      w[rj + j] = ljj;
      for (let i = j + 1; i < n; i++) {
        const ri = i * n;
        let t = w[ri + j];
        for (let p = k0; p < j; p++) t -= w[ri + p] * w[rj + p];
        w[ri + j] = t / ljj;
      }
    }
    for (let j0 = k1; j0 < n; j0 += NB) { // A22 -= L21 L21^T, lower part, one column block at a time
      const jb = Math.min(NB, n - j0);
      gemmAccumulate(
        { data: w, offset: j0 * n + j0, rowStride: n, colStride: 1 },
        { data: w, offset: j0 * n + k0, rowStride: n, colStride: 1 },
        { data: w, offset: j0 * n + k0, rowStride: 1, colStride: n },
        n - j0,
        jb,
        k1 - k0,
        { alpha: -1 },
      );
    }
  }
  for (let i = 0; i < n; i++) w.fill(0, i * n + i + 1, (i + 1) * n);
  return w;
}

/**
 * The inverse of a lower triangular matrix by forward substitution, one column `L x = e_j` at a time.
 *
 * @param l Lower triangular `n x n` with a nonzero diagonal (the upper triangle is ignored).
 * @param n Size.
 * @returns `L^-1`, lower triangular.
 * @throws {TypeError} If `l` is not a `Float64Array(n * n)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lowerTriangularInverseReference } from "./cholesky.ts";
 * assert.deepEqual(Array.from(lowerTriangularInverseReference(new Float64Array([2, 0, 1, 4]), 2)), [0.5, 0, -0.125, 0.25]);
 * ```
 */
export function lowerTriangularInverseReference(l: Float64Array, n: number): Float64Array {
  checkSquare("invert a triangular matrix", l, n);
  const x = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let i = j; i < n; i++) {
      let s = i === j ? 1 : 0;
      for (let p = j; p < i; p++) s -= l[i * n + p] * x[p * n + j];
      x[i * n + j] = s / l[i * n + i];
    }
  }
  return x;
}

/**
 * Blocked inverse of a lower triangular matrix: for each block row `I`, `X_II = L_II^-1` by
 * substitution, then `X_I,<I = -X_II (L_I,<I X_<I,<I)` with the packed kernel.
 *
 * @param l Lower triangular `n x n` with a nonzero diagonal (the upper triangle is ignored).
 * @param n Size.
 * @returns `L^-1`, equal to {@link lowerTriangularInverseReference} up to rounding.
 * @throws {TypeError} If `l` is not a `Float64Array(n * n)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lowerTriangularInverse } from "./cholesky.ts";
 * assert.deepEqual(Array.from(lowerTriangularInverse(new Float64Array([2, 0, 1, 4]), 2)), [0.5, 0, -0.125, 0.25]);
 * ```
 */
export function lowerTriangularInverse(l: Float64Array, n: number): Float64Array {
  checkSquare("invert a triangular matrix", l, n);
  const x = new Float64Array(n * n);
  for (let i0 = 0; i0 < n; i0 += NB) {
    const ib = Math.min(NB, n - i0);
    for (let i = i0; i < i0 + ib; i++) { // diagonal block, row by row
      const ri = i * n;
      x[ri + i] = 1 / l[ri + i];
      for (let j = i0; j < i; j++) {
        let s = 0;
        for (let p = j; p < i; p++) s -= l[ri + p] * x[p * n + j];
        x[ri + j] = s / l[ri + i];
      }
    }
    if (i0 === 0) continue;
    const t = new Float64Array(ib * i0); // T = L_I,<I X_<I,<I, one column block at a time
    for (let j0 = 0; j0 < i0; j0 += NB) {
      const jb = Math.min(NB, i0 - j0);
      gemmAccumulate(
        { data: t, offset: j0, rowStride: i0, colStride: 1 },
        { data: l, offset: i0 * n + j0, rowStride: n, colStride: 1 },
        { data: x, offset: j0 * n + j0, rowStride: n, colStride: 1 },
        ib,
        jb,
        i0 - j0, // X_pj = 0 for p < j
      );
    }
    gemmAccumulate( // X_I,<I = -X_II T
      { data: x, offset: i0 * n, rowStride: n, colStride: 1 },
      { data: x, offset: i0 * n + i0, rowStride: n, colStride: 1 },
      { data: t, offset: 0, rowStride: i0, colStride: 1 },
      ib,
      i0,
      ib,
      { alpha: -1 },
    );
  }
  return x;
}

/**
 * `A^-1` from the Cholesky factor of A, as the plain triple loop `(A^-1)_ij = sum_k X_ki X_kj`
 * with `X = L^-1` (torch.cholesky_inverse).
 *
 * @param l The lower Cholesky factor of A.
 * @param n Size.
 * @returns `A^-1`, symmetric.
 * @throws {TypeError} If `l` is not a `Float64Array(n * n)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { choleskyInverseReference } from "./cholesky.ts";
 * // A = [[4, 2], [2, 5]] = L L^T with L = [[2, 0], [1, 2]]; A^-1 = [[5, -2], [-2, 4]] / 16
 * assert.deepEqual(Array.from(choleskyInverseReference(new Float64Array([2, 0, 1, 2]), 2)), [5 / 16, -2 / 16, -2 / 16, 4 / 16]);
 * ```
 */
export function choleskyInverseReference(l: Float64Array, n: number): Float64Array {
  const x = lowerTriangularInverseReference(l, n);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = Math.max(i, j); k < n; k++) s += x[k * n + i] * x[k * n + j];
      inv[i * n + j] = s;
    }
  }
  return inv;
}

/**
 * `A^-1 = X^T X` from the Cholesky factor L of A, `X = L^-1`: blocked, symmetric (upper tiles
 * only, then mirrored), and skipping the zero part of X.
 *
 * @param l The lower Cholesky factor of A.
 * @param n Size.
 * @returns `A^-1`, symmetric; equal to {@link choleskyInverseReference} up to rounding.
 * @throws {TypeError} If `l` is not a `Float64Array(n * n)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cholesky, choleskyInverse } from "./cholesky.ts";
 * const inv = choleskyInverse(cholesky(new Float64Array([4, 2, 2, 5]), 2), 2);
 * assert.deepEqual(Array.from(inv), [5 / 16, -2 / 16, -2 / 16, 4 / 16]);
 * ```
 */
export function choleskyInverse(l: Float64Array, n: number): Float64Array {
  const x = lowerTriangularInverse(l, n);
  const inv = new Float64Array(n * n);
  for (let i0 = 0; i0 < n; i0 += NB) { // block row I of the upper triangle: k runs from i0 (X_ki = 0 below)
    const ib = Math.min(NB, n - i0);
    gemmAccumulate(
      { data: inv, offset: i0 * n + i0, rowStride: n, colStride: 1 },
      { data: x, offset: i0 * n + i0, rowStride: 1, colStride: n },
      { data: x, offset: i0 * n + i0, rowStride: n, colStride: 1 },
      ib,
      n - i0,
      n - i0,
      { upperOnly: true },
    );
  }
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) inv[i * n + j] = inv[j * n + i];
  return inv;
}

/**
 * SparseGPT's three literal steps: `L = cholesky(H)`, `H^-1 = cholesky_inverse(L)`,
 * `U = cholesky(H^-1, upper=True)` (IST-DASLab/sparsegpt, sparsegpt.py, `fasterprune`).
 *
 * @param h Symmetric positive definite `n x n` (already dampened).
 * @param n Size.
 * @param options `damp`, reported in the error.
 * @returns U, upper triangular with a positive diagonal, `U^T U = H^-1`.
 * @throws {TypeError} If `h` is not a `Float64Array(n * n)`.
 * @throws {NotPositiveDefiniteError} If H (or, numerically, H^-1) is not positive definite.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { upperCholeskyOfInverseReference } from "./cholesky.ts";
 * assert.deepEqual(Array.from(upperCholeskyOfInverseReference(new Float64Array([4, 0, 0, 16]), 2)), [0.5, 0, 0, 0.25]);
 * ```
 */
export function upperCholeskyOfInverseReference(
  h: Float64Array,
  n: number,
  options: CholeskyOptions = {},
): Float64Array {
  const inv = choleskyInverseReference(choleskyReference(h, n, options), n);
  const lower = choleskyReference(inv, n, options);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) u[i * n + j] = lower[j * n + i];
  return u;
}

/**
 * The upper Cholesky factor U of `H^-1` (`U^T U = H^-1`), by the reversal identity of the module
 * header: `U = J (cholesky(J H J))^-1 J`.
 *
 * @param h Symmetric positive definite `n x n` (already dampened; not mutated).
 * @param n Size.
 * @param options `damp`, reported in the error.
 * @returns U, equal to {@link upperCholeskyOfInverseReference} up to rounding.
 * @throws {TypeError} If `h` is not a `Float64Array(n * n)`.
 * @throws {NotPositiveDefiniteError} If H is not positive definite; the pivot is an index of H
 *   (elimination runs from the last column to the first).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { upperCholeskyOfInverse } from "./cholesky.ts";
 * const u = upperCholeskyOfInverse(new Float64Array([2, 1, 1, 2]), 2); // H^-1 = [[2, -1], [-1, 2]] / 3
 * assert.ok(Math.abs(u[0] * u[0] - 2 / 3) < 1e-15 && Math.abs(u[0] * u[1] + 1 / 3) < 1e-15 && u[2] === 0);
 * ```
 */
export function upperCholeskyOfInverse(
  h: Float64Array,
  n: number,
  options: CholeskyOptions = {},
): Float64Array {
  checkSquare("take the upper Cholesky factor of the inverse", h, n);
  const reversed = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) reversed[i * n + j] = h[(n - 1 - i) * n + n - 1 - j];
  }
  let m: Float64Array;
  try {
    m = cholesky(reversed, n, options);
  } catch (e) {
    if (e instanceof NotPositiveDefiniteError) {
      throw new NotPositiveDefiniteError(n, n - 1 - e.pivot, e.value, e.damp);
    }
    throw e;
  }
  const y = lowerTriangularInverse(m, n);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) u[i * n + j] = y[(n - 1 - i) * n + n - 1 - j];
  }
  return u;
}
