/**
 * The Optimal Brain Surgeon saliency with the full Hessian, `L_ij = W_ij^2 / [H^-1]_jj`, `H = X^T X`
 * (dampened as SparseGPT dampens it). It is what the cheaper scores approximate: SwiftPrune replaces
 * `H` by a rank-one matrix plus a ridge (`src/score/swiftprune.ts`), Wanda by its diagonal
 * (`[H^-1]_jj = 1 / H_jj` gives `W_ij^2 H_jj`, the square of Wanda's score), magnitude by `I`. Used
 * to measure how close each comes (`deno task rank-one`, `docs/swiftprune.md` §4), not as a pruning
 * method: forming and inverting `H` is the O(cols^3) cost those methods avoid.
 *
 * `H = G + damp I` with `damp = percdamp * mean(diag G)` (default 0.01, SparseGPT's), and a dead
 * input (`G_jj = 0`) gets `H_jj = 1` (SparseGPT's rule). `[H^-1]_jj` is the squared norm of column
 * `j` of the upper Cholesky factor `U` of `H^-1` (`U^T U = H^-1`). The scale of `G` (per token or
 * summed) changes every score by the same factor, so it cannot change a mask.
 *
 * @module
 */
import { upperCholeskyOfInverse } from "../linalg/cholesky.ts";
import { checkMatrix, type Matrix } from "../tensor/matrix.ts";

/** Options of {@link obsDiagonalScores}. */
export interface ObsDiagonalOptions {
  /** Dampening as a fraction of `mean(diag G)` (default 0.01). */
  percdamp?: number;
}

/**
 * OBS saliencies `W_ij^2 / [H^-1]_jj` with `H = G + damp I`.
 *
 * @param weight `W` `[rows, cols]`.
 * @param gram `G = X^T X` (any positive scale), `cols * cols` float64, symmetric PSD.
 * @param options `percdamp`.
 * @returns Scores `[rows, cols]` (higher = more important).
 * @throws {TypeError} If `gram` does not hold `cols * cols` values.
 * @throws {RangeError} If `percdamp` is negative or not finite.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { obsDiagonalScores } from "./obs_diagonal.ts";
 * // G = [[2, 1], [1, 2]]: H^-1 = [[2, -1], [-1, 2]] / 3, so [H^-1]_jj = 2/3 and L = 1.5 w^2
 * const s = obsDiagonalScores(fromRows([[1, -2]]), new Float64Array([2, 1, 1, 2]), { percdamp: 0 });
 * assert.ok(Math.abs(s.data[0] - 1.5) < 1e-6 && Math.abs(s.data[1] - 6) < 1e-6);
 * ```
 */
export function obsDiagonalScores(
  weight: Matrix,
  gram: Float64Array,
  options: ObsDiagonalOptions = {},
): Matrix {
  checkMatrix(weight, "weight");
  const { rows, cols } = weight, percdamp = options.percdamp ?? 0.01;
  if (gram.length !== cols * cols) {
    throw new TypeError(
      `Cannot score weight [${rows}, ${cols}]: gram has ${gram.length} values, expected ${
        cols * cols
      }`,
    );
  }
  if (!(percdamp >= 0 && Number.isFinite(percdamp))) {
    throw new RangeError(`Cannot score: percdamp must be a finite number >= 0, got ${percdamp}`);
  }
  const h = Float64Array.from(gram);
  let diagonal = 0;
  for (let j = 0; j < cols; j++) {
    if (h[j * cols + j] === 0) h[j * cols + j] = 1; //                 a dead input
    diagonal += h[j * cols + j];
  }
  const damp = cols ? (percdamp * diagonal) / cols : 0; //             damp = percdamp * mean(diag)
  for (let j = 0; j < cols; j++) h[j * cols + j] += damp;
  const u = upperCholeskyOfInverse(h, cols, { damp }); //             U^T U = H^-1
  const inverseDiagonal = new Float64Array(cols);
  for (let i = 0; i < cols; i++) {
    for (let j = i; j < cols; j++) inverseDiagonal[j] += u[i * cols + j] ** 2; // [H^-1]_jj
  }
  const out = new Float32Array(rows * cols);
  for (let i = 0, t = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++, t++) {
      out[t] = (weight.data[t] * weight.data[t]) / inverseDiagonal[j]; //  W_ij^2 / [H^-1]_jj
    }
  }
  return { data: out, rows, cols };
}
