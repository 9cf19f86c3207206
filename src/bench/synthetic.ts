/**
 * Seeded synthetic inputs for benchmarks: weight rows from four distributions that stress a
 * quantile tracker differently, layers filled from a pool of real values, and calibration inputs
 * with a few outlier channels (the LLM.int8() observation that a handful of input features are
 * far larger than the rest, which is what makes Wanda and SwiftPrune differ from magnitude).
 *
 * @module
 */
import type { Matrix } from "../tensor/matrix.ts";
import type { Rng } from "../tensor/rng.ts";

/** The synthetic weight distributions of the complexity sweep. */
export type Distribution = "gaussian" | "laplace" | "lognormal" | "outliers";

/** Every {@link Distribution}, in report order. */
export const DISTRIBUTIONS: readonly Distribution[] = [
  "gaussian",
  "laplace",
  "lognormal",
  "outliers",
];

/** One draw of a signed weight from `dist`. */
function draw(dist: Distribution, rng: Rng): number {
  switch (dist) {
    case "gaussian":
      return rng.normal();
    case "laplace":
      return rng.laplace();
    case "lognormal": // random sign, |w| = exp(N(0, 1))
      return (rng.uniform() < 0.5 ? -1 : 1) * Math.exp(rng.normal());
    case "outliers": { // Student t with 3 degrees of freedom, and 0.5% of entries scaled by 50
      const chi2 = rng.normal() ** 2 + rng.normal() ** 2 + rng.normal() ** 2;
      const t = rng.normal() / Math.sqrt(chi2 / 3 || Number.MIN_VALUE);
      return rng.uniform() < 0.005 ? 50 * t : t;
    }
  }
}

/**
 * Draws `n` signed weights from `dist`: standard Gaussian, Laplace(0, 1), log-normal magnitudes
 * with random signs, or heavy-tailed (Student t, 3 dof) with 0.5% outliers scaled by 50.
 *
 * @param dist The distribution.
 * @param n How many values.
 * @param rng The seeded generator (advanced).
 * @returns A new `Float32Array(n)`.
 * @throws {RangeError} If `dist` is unknown or `n` is not a non-negative integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRng } from "../tensor/rng.ts";
 * import { syntheticWeights } from "./synthetic.ts";
 * const a = syntheticWeights("laplace", 8, createRng(1));
 * assert.deepEqual(a, syntheticWeights("laplace", 8, createRng(1))); // seeded
 * ```
 */
export function syntheticWeights(dist: Distribution, n: number, rng: Rng): Float32Array {
  if (!DISTRIBUTIONS.includes(dist)) {
    throw new RangeError(
      `Cannot draw weights: unknown distribution ${dist}, expected one of ${DISTRIBUTIONS}`,
    );
  }
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`Cannot draw ${n} weights: need an integer >= 0`);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = draw(dist, rng);
  return out;
}

/**
 * The magnitudes `|w|` of `weights` as a new array: the magnitude score, used as the row a
 * selector picks from in the per-row sweep.
 *
 * @param weights The weights (not mutated).
 * @returns A new `Float32Array` of absolute values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { absValues } from "./synthetic.ts";
 * assert.deepEqual(Array.from(absValues(new Float32Array([-2, 1]))), [2, 1]);
 * ```
 */
export function absValues(weights: Float32Array): Float32Array {
  const out = new Float32Array(weights.length);
  for (let i = 0; i < weights.length; i++) out[i] = Math.abs(weights[i]);
  return out;
}

/**
 * A `[rows, cols]` matrix filled row-major from `pool`, repeating the pool from its start when
 * `rows * cols` exceeds it (tiling real weights to reach sizes no real layer here has).
 *
 * @param pool The values to copy (not mutated), non-empty.
 * @param rows Rows of the result.
 * @param cols Columns of the result.
 * @returns The new matrix; `repeats` is how many times the pool was used (1 = no tiling).
 * @throws {RangeError} If `pool` is empty.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tiledMatrix } from "./synthetic.ts";
 * const { matrix, repeats } = tiledMatrix(new Float32Array([1, 2, 3]), 2, 2);
 * assert.deepEqual(Array.from(matrix.data), [1, 2, 3, 1]);
 * assert.equal(repeats, 2);
 * ```
 */
export function tiledMatrix(
  pool: Float32Array,
  rows: number,
  cols: number,
): { matrix: Matrix; repeats: number } {
  if (pool.length === 0) {
    throw new RangeError(`Cannot fill a [${rows}, ${cols}] matrix from an empty pool`);
  }
  const data = new Float32Array(rows * cols);
  for (let start = 0; start < data.length; start += pool.length) {
    data.set(pool.subarray(0, Math.min(pool.length, data.length - start)), start);
  }
  return {
    matrix: { data, rows, cols },
    repeats: Math.max(1, Math.ceil(data.length / pool.length)),
  };
}

/**
 * Per-channel activation scales: log-normal (`exp(N(0, 0.5))`), with 1% of the channels (at least
 * one) scaled by 20 as outliers. Used directly as synthetic column norms `||X_:,j||` (up to a
 * constant), and by {@link syntheticInputs}.
 *
 * @param cols Input features.
 * @param rng The seeded generator (advanced).
 * @returns A new `Float32Array(cols)` of positive scales.
 * @throws {RangeError} If `cols` is not a positive integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRng } from "../tensor/rng.ts";
 * import { channelScales } from "./synthetic.ts";
 * const s = channelScales(200, createRng(3));
 * assert.ok(s.every((v) => v > 0) && Math.max(...s) > 10 * Math.min(...s));
 * ```
 */
export function channelScales(cols: number, rng: Rng): Float32Array {
  if (!Number.isInteger(cols) || cols < 1) {
    throw new RangeError(`Cannot make channel scales: cols must be >= 1, got ${cols}`);
  }
  const scale = new Float32Array(cols);
  for (let j = 0; j < cols; j++) scale[j] = Math.exp(0.5 * rng.normal());
  const outliers = Math.max(1, Math.round(cols / 100));
  for (let o = 0; o < outliers; o++) scale[rng.int(cols)] *= 20;
  return scale;
}

/**
 * Synthetic calibration inputs `X` `[tokens, cols]`: Gaussian activations with the per-channel
 * scales of {@link channelScales} (a few outlier channels).
 *
 * @param tokens Rows of `X`.
 * @param cols Input features.
 * @param rng The seeded generator (advanced).
 * @returns The matrix `X`.
 * @throws {RangeError} If a size is not a positive integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRng } from "../tensor/rng.ts";
 * import { syntheticInputs } from "./synthetic.ts";
 * const x = syntheticInputs(16, 8, createRng(3));
 * assert.equal(x.data.length, 16 * 8);
 * ```
 */
export function syntheticInputs(tokens: number, cols: number, rng: Rng): Matrix {
  if (!Number.isInteger(tokens) || tokens < 1) {
    throw new RangeError(`Cannot make inputs: tokens must be >= 1, got ${tokens}`);
  }
  const scale = channelScales(cols, rng);
  const data = new Float32Array(tokens * cols);
  for (let t = 0; t < tokens; t++) {
    for (let j = 0; j < cols; j++) data[t * cols + j] = rng.normal() * scale[j];
  }
  return { data, rows: tokens, cols };
}
