/**
 * Magnitude pruning: the score of a weight is its absolute value, `S_ij = |W_ij|`.
 *
 * The oldest baseline (and the one the SwiftPrune and FISTAPruner papers compare against, per
 * layer). It needs no calibration data. Selection (per row or per layer) is done elsewhere, in
 * `src/select/mask.ts`; this file only computes scores.
 *
 * | paper      | code            |
 * | ---------- | --------------- |
 * | `W`        | `weight`        |
 * | `|W_ij|`   | `scores.data[i * cols + j]` |
 *
 * @module
 */
import { checkMatrix, type Matrix } from "../tensor/matrix.ts";
import { type MethodDescriptor, type ScoreSelectInfo, scoreThenSelect } from "../prune/method.ts";

/**
 * The reference: `|W_ij|` element by element with `Math.abs`.
 *
 * @param weight `W` `[rows, cols]`.
 * @returns Scores `[rows, cols]` (a new matrix).
 * @throws {TypeError} If `weight` is not a {@link Matrix}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { magnitudeScoresReference } from "./magnitude.ts";
 * assert.deepEqual(Array.from(magnitudeScoresReference(fromRows([[-2, 1]])).data), [2, 1]);
 * ```
 */
export function magnitudeScoresReference(weight: Matrix): Matrix {
  checkMatrix(weight, "weight");
  const out = new Float32Array(weight.rows * weight.cols);
  for (let i = 0; i < weight.rows; i++) {
    for (let j = 0; j < weight.cols; j++) {
      out[i * weight.cols + j] = Math.abs(weight.data[i * weight.cols + j]); // S_ij = |W_ij|
    }
  }
  return { data: out, rows: weight.rows, cols: weight.cols };
}

/**
 * Magnitude scores `|W_ij|` in one flat pass (clearing the float32 sign bit).
 *
 * @param weight `W` `[rows, cols]`.
 * @returns Scores `[rows, cols]` (a new matrix), identical to {@link magnitudeScoresReference}.
 * @throws {TypeError} If `weight` is not a {@link Matrix}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { magnitudeScores } from "./magnitude.ts";
 * assert.deepEqual(Array.from(magnitudeScores(fromRows([[-2, 1], [0.5, -0]])).data), [2, 1, 0.5, 0]);
 * ```
 */
export function magnitudeScores(weight: Matrix): Matrix {
  checkMatrix(weight, "weight");
  const out = weight.data.slice();
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let t = 0; t < bits.length; t++) bits[t] &= 0x7fffffff; // |w|: clear the sign bit
  return { data: out, rows: weight.rows, cols: weight.cols };
}

/**
 * The magnitude method: scores `|W_ij|`, selects, never changes the kept weights; needs no
 * calibration. Its papers compare per layer; `--group layer` does that (the CLIs' default is per
 * row for every method).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { magnitudeMethod } from "./magnitude.ts";
 * const r = magnitudeMethod.prune(fromRows([[1, -4, 2, 3]]), {}, { kind: "nm", n: 2, m: 4 });
 * assert.deepEqual(Array.from(r.weight.data), [0, -4, 0, 3]);
 * ```
 */
export const magnitudeMethod: MethodDescriptor<ScoreSelectInfo> = scoreThenSelect({
  name: "magnitude",
  title: "magnitude |W_ij| (no calibration)",
  calibration: "none",
  columns: () => undefined,
  score: (weight) => magnitudeScores(weight),
  scoreReference: (weight) => magnitudeScoresReference(weight),
});
