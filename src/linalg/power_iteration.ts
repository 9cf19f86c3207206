/**
 * The largest eigenvalue of a symmetric positive semi-definite matrix, by power iteration
 * (von Mises 1929; see Golub & Van Loan, "Matrix Computations", 4th ed., §8.2.1), with the
 * cyclic Jacobi eigenvalue algorithm (Golub & Van Loan §8.5) as the reference.
 *
 * FISTA needs it as its Lipschitz constant: the gradient of `1/2 tr(W G W^T)` is `W G`, and
 * `||(A - B) G||_F <= lambda_max(G) ||A - B||_F`, so `L = lambda_max(G)` (see `src/optim/fista.ts`).
 *
 * | symbol            | code                      |
 * | ----------------- | ------------------------- |
 * | `G` (n x n, PSD)  | `g` (row-major, n * n)    |
 * | `v_k`             | `v` (unit norm)           |
 * | `mu_k = v^T G v`  | `rayleigh`                |
 *
 * Note on accuracy: the Rayleigh quotient of a unit vector never exceeds `lambda_max`, so the
 * estimate approaches it from below; its error falls like `(lambda_2 / lambda_1)^(2k)`.
 *
 * @module
 */
import { createRng } from "../tensor/rng.ts";

/** Options of {@link largestEigenvalue}. */
export interface PowerIterationOptions {
  /** Maximum number of products `G v` (default 100). */
  iterations?: number;
  /** Stop when `|mu_k - mu_{k-1}| <= tol * mu_k` (default 1e-6). */
  tol?: number;
  /** Seed of the random start vector (default 0), so the result is reproducible. */
  seed?: number;
}

function checkSquare(g: ArrayLike<number>, n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Cannot compute ${what}: n must be a positive integer, got ${n}`);
  }
  if (g.length !== n * n) {
    throw new TypeError(
      `Cannot compute ${what}: matrix has ${g.length} values, expected ${n * n} for n=${n}`,
    );
  }
}

/** out = G v (float64). */
function multiply(out: Float64Array, g: ArrayLike<number>, v: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const off = i * n;
    for (let j = 0; j < n; j++) s += g[off + j] * v[j];
    out[i] = s;
  }
}

function normalise(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const norm = Math.sqrt(s);
  if (norm > 0) { for (let i = 0; i < v.length; i++) v[i] /= norm; }
  return norm;
}

/**
 * The largest eigenvalue of a symmetric PSD matrix by power iteration: from a seeded Gaussian
 * start vector, `v <- G v / ||G v||`, estimate `mu = v^T G v` (the Rayleigh quotient), stop when
 * its relative change falls below `tol` or after `iterations` products.
 *
 * @param g The matrix, `n * n` values row-major (float64 or float32); symmetric PSD.
 * @param n Its order.
 * @param options Iterations, tolerance and seed.
 * @returns The estimate of `lambda_max(G)` (0 for the zero matrix).
 * @throws {TypeError} If `g.length !== n * n`.
 * @throws {RangeError} If `n`, `iterations` or `tol` are out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { largestEigenvalue } from "./power_iteration.ts";
 * // [[2, 1], [1, 2]] has eigenvalues 3 and 1
 * const mu = largestEigenvalue(new Float64Array([2, 1, 1, 2]), 2, { tol: 1e-12 });
 * assert.ok(Math.abs(mu - 3) < 1e-9);
 * ```
 */
export function largestEigenvalue(
  g: Float64Array | Float32Array,
  n: number,
  options: PowerIterationOptions = {},
): number {
  checkSquare(g, n, "largest eigenvalue");
  const iterations = options.iterations ?? 100, tol = options.tol ?? 1e-6;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(
      `Cannot run power iteration: iterations must be a positive integer, got ${iterations}`,
    );
  }
  if (!(tol >= 0)) throw new RangeError(`Cannot run power iteration: tol must be >= 0, got ${tol}`);
  const rng = createRng(options.seed ?? 0);
  let v = new Float64Array(n).map(() => rng.normal());
  let gv = new Float64Array(n);
  normalise(v);
  let rayleigh = 0;
  for (let k = 0; k < iterations; k++) {
    multiply(gv, g, v, n); //                                         G v
    let vGv = 0;
    for (let i = 0; i < n; i++) vGv += v[i] * gv[i]; //               mu_k = v^T G v, ||v|| = 1
    const previous = rayleigh;
    rayleigh = vGv;
    if (normalise(gv) === 0) return 0; //                             G v = 0: v is in the null space
    [v, gv] = [gv, v]; //                                             v <- G v / ||G v||
    if (k > 0 && Math.abs(rayleigh - previous) <= tol * Math.abs(rayleigh)) break;
  }
  return rayleigh;
}

/**
 * The reference: all eigenvalues by the cyclic Jacobi method (rotate away each off-diagonal
 * entry in turn until the off-diagonal mass is negligible), then the largest. O(n^3) per sweep;
 * for small matrices and tests.
 *
 * @param g The matrix, `n * n` values row-major; symmetric.
 * @param n Its order.
 * @returns The largest eigenvalue.
 * @throws {TypeError} If `g.length !== n * n`.
 * @throws {RangeError} If `n` is not a positive integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { largestEigenvalueReference } from "./power_iteration.ts";
 * assert.ok(Math.abs(largestEigenvalueReference([2, 1, 1, 2], 2) - 3) < 1e-12);
 * ```
 */
export function largestEigenvalueReference(g: ArrayLike<number>, n: number): number {
  checkSquare(g, n, "largest eigenvalue (Jacobi)");
  const a = Float64Array.from(g); // work on a copy: never mutate the input
  const at = (i: number, j: number) => a[i * n + j];
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i] * a[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) off += at(i, j) ** 2;
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = at(p, q);
        if (apq === 0) continue;
        // choose the rotation (c, s) that zeroes a_pq: tan(2 theta) = 2 a_pq / (a_qq - a_pp)
        const theta = (at(q, q) - at(p, p)) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) { // A <- A J (columns p, q)
          const akp = at(k, p), akq = at(k, q);
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) { // A <- J^T A (rows p, q)
          const apk = at(p, k), aqk = at(q, k);
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  let largest = -Infinity;
  for (let i = 0; i < n; i++) largest = Math.max(largest, at(i, i));
  return largest;
}
