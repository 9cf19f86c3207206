/**
 * How well a rank-one matrix `x x^T` stands in for a Gram matrix `G = X^T X` (`[n, n]`, symmetric
 * positive semi-definite). SwiftPrune's metric (`src/score/swiftprune.ts`) is the Optimal Brain
 * Surgeon saliency with `H = X^T X` replaced by `x x^T + ridge`; these numbers say how much of `G`
 * that keeps (`docs/swiftprune.md` §4 measures them on real layers, `deno task rank-one`).
 *
 * - `topShare = lambda_1 / tr(G)`: the fraction of the input energy along the best single
 *   direction (the eigenvalues of `G` sum to its trace).
 * - `bestError = ||G - lambda_1 v_1 v_1^T||_F / ||G||_F = sqrt(1 - lambda_1^2 / sum_i lambda_i^2)`:
 *   the relative error of the best rank-one approximation (Eckart-Young; `||G||_F^2` is the sum of
 *   the squared eigenvalues, so no other eigenvalue is needed).
 * - `standInError = ||G - x x^T||_F / ||G||_F` for a given `x` (SwiftPrune's reading), and
 *   `xShare = ||x||^2 / tr(G)` (for column norms it is 1: `x x^T` has exactly the diagonal of `G`).
 *
 * `lambda_1` comes from power iteration (`largestEigenvalue`) run to a tight tolerance.
 *
 * @module
 */
import { largestEigenvalue } from "./power_iteration.ts";

/** What {@link rankOneFit} returns. */
export interface RankOneFit {
  /** `tr(G)`. */
  trace: number;
  /** `lambda_1`, the largest eigenvalue of `G`. */
  topEigenvalue: number;
  /** `lambda_1 / tr(G)` (0 when `G = 0`). */
  topShare: number;
  /** Relative Frobenius error of the best rank-one approximation (0 when `G = 0`). */
  bestError: number;
  /** Relative Frobenius error of `x x^T` (0 when `G = 0` and `x = 0`). */
  standInError: number;
  /** `||x||^2 / tr(G)`. */
  xShare: number;
}

/**
 * Measures a rank-one stand-in `x x^T` for the Gram matrix `G`.
 *
 * @param gram `G`, `n * n` row-major, symmetric positive semi-definite.
 * @param n Its order.
 * @param x The stand-in's vector, length `n`.
 * @returns The trace, `lambda_1` and its share, the best rank-one error and the stand-in's.
 * @throws {TypeError} If `gram` does not hold `n * n` values or `x` does not hold `n`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rankOneFit } from "./rank_one.ts";
 * // X = [[1, 1], [1, -1]]: G = X^T X = 2 I, two equal directions; column norms x = [sqrt 2, sqrt 2]
 * const fit = rankOneFit(new Float64Array([2, 0, 0, 2]), 2, [Math.SQRT2, Math.SQRT2]);
 * assert.ok(Math.abs(fit.topShare - 0.5) < 1e-9); // the best direction holds half the energy
 * assert.ok(Math.abs(fit.bestError - Math.SQRT1_2) < 1e-9);
 * assert.ok(Math.abs(fit.standInError - 1) < 1e-9); // x x^T = [[2, 2], [2, 2]]: off by [[0, 2], [2, 0]]
 * assert.ok(Math.abs(fit.xShare - 1) < 1e-12);
 * ```
 */
export function rankOneFit(gram: Float64Array, n: number, x: ArrayLike<number>): RankOneFit {
  if (!Number.isInteger(n) || n < 1 || gram.length !== n * n) {
    throw new TypeError(
      `Cannot fit a rank-one matrix: gram has ${gram.length} values, expected n * n for n = ${n}`,
    );
  }
  if (x.length !== n) {
    throw new TypeError(`Cannot fit a rank-one matrix: x has ${x.length} values, expected ${n}`);
  }
  let trace = 0, frobenius2 = 0, residual2 = 0, xNorm2 = 0;
  for (let i = 0; i < n; i++) {
    trace += gram[i * n + i];
    xNorm2 += x[i] * x[i];
    for (let j = 0; j < n; j++) {
      const g = gram[i * n + j];
      frobenius2 += g * g; //                                         ||G||_F^2 = sum_i lambda_i^2
      residual2 += (g - x[i] * x[j]) ** 2; //                          ||G - x x^T||_F^2
    }
  }
  if (frobenius2 === 0) {
    return {
      trace,
      topEigenvalue: 0,
      topShare: 0,
      bestError: 0,
      standInError: xNorm2 > 0 ? Infinity : 0,
      xShare: xNorm2 > 0 ? Infinity : 0,
    };
  }
  const top = largestEigenvalue(gram, n, { iterations: 2000, tol: 1e-12 });
  return {
    trace,
    topEigenvalue: top,
    topShare: top / trace, //                                          lambda_1 / tr(G)
    bestError: Math.sqrt(Math.max(0, 1 - (top * top) / frobenius2)), // Eckart-Young
    standInError: Math.sqrt(residual2 / frobenius2),
    xShare: xNorm2 / trace,
  };
}
