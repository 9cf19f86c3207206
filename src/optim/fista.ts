/**
 * FISTA, the fast iterative shrinkage-thresholding algorithm (Beck & Teboulle, "A Fast Iterative
 * Shrinkage-Thresholding Algorithm for Linear Inverse Problems", SIAM J. Imaging Sci. 2(1), 2009,
 * §4), for a matrix LASSO given by Gram matrices only. It is the inner solver of FISTAPruner
 * (arXiv:2408.03728, see `src/prune/fistapruner.ts`), but nothing here is specific to pruning.
 *
 * ## The problem
 *
 * A linear operator `W` `[rows, cols]` sees inputs `X` `[tokens, cols]` (rows are tokens); a
 * sparse replacement `W*` sees `X*` (the same tokens after earlier operators were pruned). We fit
 *
 *     min_{W*}  1/2 ||X* W*^T - X W^T||_F^2  +  lambda * sum_ij |W*_ij|.
 *
 * Expanding the square with `||A||_F^2 = tr(A^T A)`:
 *
 *     1/2 ||X* W*^T - X W^T||_F^2
 *       = 1/2 tr(W* X*^T X* W*^T) - tr(W X^T X* W*^T) + 1/2 tr(W X^T X W^T)
 *       = 1/2 tr(W* G* W*^T)      - tr(W* C^T)        + const,
 *
 * with `G* = X*^T X*` `[cols, cols]`, `Gx = X^T X*` and `C = W Gx` `[rows, cols]` (the middle term
 * uses `tr(A B^T) = tr(B A^T)`: `tr(W Gx W*^T) = tr(W* (W Gx)^T)`). So only `G*` and `C` are needed,
 * and this file minimises
 *
 *     F(W*) = f(W*) + lambda |W*|_1,    f(W*) = 1/2 tr(W* G* W*^T) - tr(W* C^T),
 *
 * whose smooth part has gradient `grad f(W*) = W* G* - C` (G* is symmetric). The gradient is
 * Lipschitz with `L = lambda_max(G*)`: `||(A - B) G*||_F <= lambda_max(G*) ||A - B||_F`.
 * (Divide `G*`, `C` and `lambda` by the token count and nothing changes but the scale.)
 *
 * ## The iteration (Beck & Teboulle 2009, FISTA with constant step, eq. 4.1-4.3)
 *
 *     y_1 = x_0,  t_1 = 1
 *     x_k     = S_{lambda/L}( y_k - (1/L) (y_k G* - C) )          prox step at the extrapolated point
 *     t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2
 *     y_{k+1} = x_k + ((t_k - 1) / t_{k+1}) (x_k - x_{k-1})
 *
 * with `S_tau(z) = sign(z) max(|z| - tau, 0)` (soft-thresholding, the prox of `tau |.|_1`). With
 * `accelerate: false` the momentum is dropped (`y_k = x_{k-1}`): that is ISTA. We stop after K
 * iterations or when `||x_k - x_{k-1}||_F <= tol ||x_{k-1}||_F`.
 *
 * One product per iteration: the fast path keeps `P_k = x_k G*`; since `y` is a linear combination
 * of `x_k` and `x_{k-1}`, `y_{k+1} G* = P_k + beta (P_k - P_{k-1})`, and `P_k` also gives the
 * objective `F(x_k)` for free. {@link fistaReference} instead forms `y G*` directly, in float64
 * loops. Storage: every matrix is a float32 {@link Matrix} (so `matmul`, and any faster matmul
 * that replaces it, applies to `x G*`); products and sums accumulate in float64.
 *
 * | paper               | code                         |
 * | ------------------- | ---------------------------- |
 * | `A^T A`             | `gram` (`G*`, `[cols, cols]`)  |
 * | `A^T b`             | `linear` (`C = W Gx`)        |
 * | `lambda`            | `lambda`                     |
 * | `L`                 | `lipschitz`                  |
 * | `x_k`, `y_k`, `t_k` | `x`, `y` (implicit), `t`     |
 * | `p_L(y)`            | the soft-threshold line      |
 *
 * @module
 */
import { matmul } from "../linalg/matmul.ts";
import { largestEigenvalue, largestEigenvalueReference } from "../linalg/power_iteration.ts";
import type { Matrix } from "../tensor/matrix.ts";

/** Options of {@link fista} and {@link fistaReference}. */
export interface FistaOptions {
  /** K, the maximum number of iterations (default 20, as in FISTAPruner). */
  iterations?: number;
  /** Stop when `||x_k - x_{k-1}||_F <= tol * ||x_{k-1}||_F` (default 1e-6). */
  tol?: number;
  /** The warm start `x_0` `[rows, cols]` (default: zeros). Not mutated. */
  start?: Matrix;
  /** `L`; default `lambda_max(G*)` by power iteration (by Jacobi in the reference). */
  lipschitz?: number;
  /** `false` runs ISTA (no momentum) instead of FISTA (default true). */
  accelerate?: boolean;
}

/** What {@link fista} returns. */
export interface FistaResult {
  /** The last iterate `x_K` `[rows, cols]` (a new matrix). */
  weight: Matrix;
  /** `F(x_k)` for `k = 0 .. iterations` (index 0 is the start); see the module doc for `F`. */
  objective: number[];
  /** Iterations run (<= K). */
  iterations: number;
  /** True when the relative-change test stopped the run before K. */
  converged: boolean;
  /** The `L` used (the step is `1/L`). */
  lipschitz: number;
}

interface Settings {
  iterations: number;
  tol: number;
  accelerate: boolean;
}

function checkProblem(
  gram: Matrix,
  linear: Matrix,
  lambda: number,
  options: FistaOptions,
): Settings {
  if (
    gram.rows !== gram.cols || gram.cols !== linear.cols ||
    gram.data.length !== gram.rows * gram.cols
  ) {
    throw new TypeError(
      `Cannot run FISTA: G* must be [${linear.cols}, ${linear.cols}] to match C [${linear.rows}, ${linear.cols}], got [${gram.rows}, ${gram.cols}]`,
    );
  }
  if (linear.data.length !== linear.rows * linear.cols) {
    throw new TypeError(
      `Cannot run FISTA: C [${linear.rows}, ${linear.cols}] has ${linear.data.length} values`,
    );
  }
  const { start } = options;
  if (start && (start.rows !== linear.rows || start.cols !== linear.cols)) {
    throw new TypeError(
      `Cannot run FISTA: start is [${start.rows}, ${start.cols}], expected [${linear.rows}, ${linear.cols}]`,
    );
  }
  if (!(lambda >= 0) || !Number.isFinite(lambda)) {
    throw new RangeError(`Cannot run FISTA: lambda must be finite and >= 0, got ${lambda}`);
  }
  const iterations = options.iterations ?? 20, tol = options.tol ?? 1e-6;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(
      `Cannot run FISTA: iterations (K) must be an integer >= 1, got ${iterations}`,
    );
  }
  if (!(tol >= 0)) throw new RangeError(`Cannot run FISTA: tol must be >= 0, got ${tol}`);
  const { lipschitz } = options;
  if (lipschitz !== undefined && !(lipschitz > 0 && Number.isFinite(lipschitz))) {
    throw new RangeError(`Cannot run FISTA: lipschitz must be finite and > 0, got ${lipschitz}`);
  }
  return { iterations, tol, accelerate: options.accelerate ?? true };
}

function checkLipschitz(l: number): number {
  if (!(l > 0)) throw new RangeError(`Cannot run FISTA: G* has largest eigenvalue ${l}; need > 0`);
  return l;
}

/** `S_tau(z) = sign(z) max(|z| - tau, 0)`. */
function softThreshold(z: number, tau: number): number {
  return z > tau ? z - tau : z < -tau ? z + tau : 0;
}

/**
 * `F(W) = 1/2 tr(W G W^T) - tr(W C^T) + lambda sum|W_ij|`, the objective {@link fista} minimises.
 *
 * @param w The point `[rows, cols]`.
 * @param gram `G*` `[cols, cols]`.
 * @param linear `C` `[rows, cols]`.
 * @param lambda The l1 weight, >= 0.
 * @returns `F(w)`, accumulated in float64.
 * @throws {TypeError} If the shapes do not match.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { lassoObjective } from "./fista.ts";
 * // 1/2 * 2 * 1 - 1 * 3 + 0.5 * 1 = -1.5
 * assert.equal(lassoObjective(fromRows([[1]]), fromRows([[2]]), fromRows([[3]]), 0.5), -1.5);
 * ```
 */
export function lassoObjective(w: Matrix, gram: Matrix, linear: Matrix, lambda: number): number {
  checkProblem(gram, linear, lambda, { start: w });
  return objectiveFromProduct(w.data, matmul(w, gram).data, linear.data, lambda);
}

function objectiveFromProduct(
  x: Float32Array,
  xG: Float32Array,
  c: Float32Array,
  lambda: number,
): number {
  let f = 0;
  for (let i = 0; i < x.length; i++) f += x[i] * (0.5 * xG[i] - c[i]) + lambda * Math.abs(x[i]);
  return f;
}

/**
 * Minimises `1/2 tr(W G* W^T) - tr(W C^T) + lambda |W|_1` by FISTA (module doc for the
 * derivation). One `matmul` (`x G*`) per iteration.
 *
 * @param gram `G*` `[cols, cols]`, symmetric PSD (e.g. `X*^T X* / tokens`).
 * @param linear `C` `[rows, cols]` (e.g. `W X^T X* / tokens`).
 * @param lambda The l1 weight (on the same scale as `G*` and `C`), >= 0.
 * @param options K, tolerance, warm start, `L`, ISTA switch.
 * @returns The last iterate, the objective per iteration, the iterations run and `L`.
 * @throws {TypeError} If the shapes do not match.
 * @throws {RangeError} If `lambda < 0`, `K < 1`, `tol < 0`, or `L <= 0` (e.g. `G* = 0`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { fista } from "./fista.ts";
 * // G* = I: the minimiser is the soft-threshold of C at lambda, in one step.
 * const r = fista(fromRows([[1, 0], [0, 1]]), fromRows([[3, -0.2]]), 0.5);
 * assert.deepEqual(Array.from(r.weight.data), [2.5, 0]);
 * assert.ok(r.objective.at(-1)! < r.objective[0]);
 * ```
 */
export function fista(
  gram: Matrix,
  linear: Matrix,
  lambda: number,
  options: FistaOptions = {},
): FistaResult {
  const { iterations, tol, accelerate } = checkProblem(gram, linear, lambda, options);
  const lipschitz = checkLipschitz(options.lipschitz ?? largestEigenvalue(gram.data, gram.cols));
  const { rows, cols } = linear, c = linear.data, step = 1 / lipschitz, tau = lambda / lipschitz;
  let x: Matrix = {
    data: options.start ? options.start.data.slice() : new Float32Array(rows * cols),
    rows,
    cols,
  };
  let xPrev = x, p = matmul(x, gram), pPrev = p; //                     P_0 = x_0 G*
  const objective = [objectiveFromProduct(x.data, p.data, c, lambda)];
  let t = 1, beta = 0, k = 0, converged = false;
  while (k < iterations && !converged) {
    const next = new Float32Array(rows * cols);
    let change = 0, size = 0;
    for (let i = 0; i < next.length; i++) {
      const xi = x.data[i];
      const y = xi + beta * (xi - xPrev.data[i]); //                   y_k = x_{k-1} + beta (x_{k-1} - x_{k-2})
      const yG = p.data[i] + beta * (p.data[i] - pPrev.data[i]); //    y_k G* by linearity
      next[i] = softThreshold(y - step * (yG - c[i]), tau); //         x_k = S_{lambda/L}(y - (y G* - C)/L)
      change += (next[i] - xi) ** 2;
      size += xi * xi;
    }
    [xPrev, pPrev] = [x, p];
    x = { data: next, rows, cols };
    p = matmul(x, gram); //                                            P_k = x_k G*
    objective.push(objectiveFromProduct(x.data, p.data, c, lambda));
    k++;
    converged = change <= tol * tol * size; //                         ||x_k - x_{k-1}|| <= tol ||x_{k-1}||
    if (accelerate) {
      const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2; //              t_{k+1}
      beta = (t - 1) / tNext; //                                       (t_k - 1) / t_{k+1}
      t = tNext;
    }
  }
  return { weight: x, objective, iterations: k, converged, lipschitz };
}

/**
 * The reference: the same iteration as {@link fista} written as literally as possible, with
 * `y_k` formed explicitly, the gradient `y G* - C` and the objective by triple loops, all in
 * float64, and `L` from the Jacobi eigenvalue algorithm. For small problems and tests.
 *
 * @param gram `G*` `[cols, cols]`, symmetric PSD.
 * @param linear `C` `[rows, cols]`.
 * @param lambda The l1 weight, >= 0.
 * @param options As for {@link fista}.
 * @returns As {@link fista}; equal to it up to float32 rounding.
 * @throws {TypeError} If the shapes do not match.
 * @throws {RangeError} As {@link fista}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { fistaReference } from "./fista.ts";
 * const r = fistaReference(fromRows([[2]]), fromRows([[3]]), 1, { iterations: 50 });
 * assert.ok(Math.abs(r.weight.data[0] - 1) < 1e-6); // argmin x^2 - 3x + |x| = 1
 * ```
 */
export function fistaReference(
  gram: Matrix,
  linear: Matrix,
  lambda: number,
  options: FistaOptions = {},
): FistaResult {
  const { iterations, tol, accelerate } = checkProblem(gram, linear, lambda, options);
  const n = gram.cols, rows = linear.rows, G = gram.data, C = linear.data;
  const L = checkLipschitz(options.lipschitz ?? largestEigenvalueReference(G, n));
  const times = (a: Float64Array, i: number, j: number) => { // (a G*)_ij
    let s = 0;
    for (let p = 0; p < n; p++) s += a[i * n + p] * G[p * n + j];
    return s;
  };
  const F = (a: Float64Array) => {
    let f = 0;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < n; j++) {
        f += 0.5 * a[i * n + j] * times(a, i, j) - a[i * n + j] * C[i * n + j];
      }
    }
    return f + lambda * a.reduce((s, v) => s + Math.abs(v), 0);
  };
  let xPrev = Float64Array.from(options.start?.data ?? new Float32Array(rows * n));
  let x = xPrev.slice(), y = xPrev.slice(), t = 1, k = 0, converged = false;
  const objective = [F(x)];
  while (k < iterations && !converged) {
    const next = new Float64Array(rows * n);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < n; j++) {
        const gradient = times(y, i, j) - C[i * n + j]; //                   (y G* - C)_ij
        next[i * n + j] = softThreshold(y[i * n + j] - gradient / L, lambda / L);
      }
    }
    [xPrev, x] = [x, next];
    objective.push(F(x));
    k++;
    let change = 0, size = 0;
    for (let i = 0; i < x.length; i++) (change += (x[i] - xPrev[i]) ** 2), (size += xPrev[i] ** 2);
    converged = Math.sqrt(change) <= tol * Math.sqrt(size);
    const tNext = accelerate ? (1 + Math.sqrt(1 + 4 * t * t)) / 2 : 1;
    const beta = accelerate ? (t - 1) / tNext : 0;
    y = x.map((v, i) => v + beta * (v - xPrev[i])); //                      y_{k+1}
    t = tNext;
  }
  return {
    weight: { data: Float32Array.from(x), rows, cols: n },
    objective,
    iterations: k,
    converged,
    lipschitz: L,
  };
}
