/**
 * RIA, Relative Importance and Activations (Zhang, Bai, Lin, Chen, Yuan, Zhang, "Plug-and-Play: An
 * Efficient Post-training Pruning Method for Large Language Models", ICLR 2024): the score of a
 * weight is its share of its row's and of its column's total magnitude, times a power of the norm
 * of the input feature it multiplies,
 *
 *     RI_ij = |W_ij| / sum_k |W_ik|  +  |W_ij| / sum_k |W_kj|
 *     S_ij  = RI_ij * ||X_:,j||_2^a,        a = 0.5
 *
 * with `W` `[rows, cols]` (`rows` outputs, `cols` inputs) and `X` the calibration inputs
 * `[tokens, cols]`. The first term compares a weight with the other inputs of its output row, the
 * second with the other outputs fed by its input channel, so a weight that matters to either is
 * kept; `a < 1` damps the activation outliers that make Wanda (`a = 1`, without `RI`) keep whole
 * channels. Selection is per row (the paper's choice) or N:M; the paper's channel permutation for
 * N:M is not part of this file.
 *
 * OUR READING (the paper leaves it open): a row or column whose magnitudes sum to 0 holds only
 * zero weights; its term is taken as 0 (not 0/0). Sums and the power are float64; scores are
 * rounded to float32 once.
 *
 * | paper                | code                              |
 * | -------------------- | --------------------------------- |
 * | `W`, `X`             | `weight`, `calib.inputs`          |
 * | `sum_k |W_ik|`       | `rowSums[i]`                      |
 * | `sum_k |W_kj|`       | `colSums[j]` ({@link columnAbsSums}) |
 * | `||X_:,j||_2`        | `colNorms[j]` (`columnNorms`)     |
 * | `a`                  | `options.power` (default {@link RIA_DEFAULT_POWER}) |
 * | `S_ij`               | `scores.data[i * cols + j]`       |
 *
 * @module
 */
import { checkMatrix, type Matrix } from "../tensor/matrix.ts";
import { checkColNorms, columnNorms, columnNormsReference } from "./wanda.ts";
import { type MethodDescriptor, type ScoreSelectInfo, scoreThenSelect } from "../prune/method.ts";
import type { LayerCalibration } from "../prune/types.ts";

/** The paper's exponent of the activation norm, `a = 0.5`. */
export const RIA_DEFAULT_POWER = 0.5;

/** Options of the RIA scores. */
export interface RiaOptions {
  /** `a`, the power of `||X_:,j||_2` (default {@link RIA_DEFAULT_POWER}); finite, >= 0. */
  power?: number;
}

function checkPower(power: unknown): number {
  const a = power ?? RIA_DEFAULT_POWER;
  if (typeof a !== "number" || !Number.isFinite(a) || a < 0) {
    throw new RangeError(`Cannot compute RIA scores: power must be a finite number >= 0, got ${a}`);
  }
  return a;
}

/** `x / sum`, or 0 when the sum is 0 (then every `x` of that row or column is 0). */
const share = (x: number, sum: number) => (sum > 0 ? x / sum : 0);

/**
 * The reference: every term element by element, exactly as the formula reads.
 *
 * @param weight `W` `[rows, cols]`.
 * @param colNorms `||X_:,j||_2`, length `cols`.
 * @param options `power` (`a`, default 0.5).
 * @returns Scores `[rows, cols]` (a new matrix).
 * @throws {TypeError} If the shapes do not match.
 * @throws {RangeError} If `power` is not a finite number >= 0.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { riaScoresReference } from "./ria.ts";
 * // row sums 3, 1; column sums 2, 2; norms 4, 1 (sqrt: 2, 1)
 * const s = riaScoresReference(fromRows([[1, -2], [1, 0]]), new Float32Array([4, 1]));
 * assert.deepEqual(Array.from(s.data), [(1 / 3 + 1 / 2) * 2, 2 / 3 + 1, (1 + 1 / 2) * 2, 0].map(Math.fround));
 * ```
 */
export function riaScoresReference(
  weight: Matrix,
  colNorms: Float32Array,
  options: RiaOptions = {},
): Matrix {
  checkMatrix(weight, "weight");
  checkColNorms(colNorms, weight, "RIA scores");
  const a = checkPower(options.power);
  const { rows, cols, data } = weight;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let rowSum = 0, colSum = 0;
      for (let k = 0; k < cols; k++) rowSum += Math.abs(data[i * cols + k]);
      for (let k = 0; k < rows; k++) colSum += Math.abs(data[k * cols + j]);
      const w = Math.abs(data[i * cols + j]);
      out[i * cols + j] = (share(w, rowSum) + share(w, colSum)) * colNorms[j] ** a;
    }
  }
  return { data: out, rows, cols };
}

/**
 * `sum_k |W_kj|` for every column `j` (float64 sums, in row order).
 *
 * @param weight `W` `[rows, cols]`.
 * @returns `Float64Array(cols)`.
 * @throws {TypeError} If `weight` is not a matrix.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { columnAbsSums } from "./ria.ts";
 * assert.deepEqual(Array.from(columnAbsSums(fromRows([[1, -2], [3, 0]]))), [4, 2]);
 * ```
 */
export function columnAbsSums(weight: Matrix): Float64Array {
  checkMatrix(weight, "weight");
  const { rows, cols, data } = weight;
  const sums = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) sums[j] += Math.abs(data[i * cols + j]);
  }
  return sums;
}

/**
 * RIA scores of rows of `W` given the column statistics of the whole layer: `O(rows * cols)`, one
 * pass for each row's sum and one for its scores. With `colSums = columnAbsSums(W)` of the whole
 * layer, the rows of a block get the same scores as in the whole layer (the row split of workers).
 *
 * @param weight `W` `[rows, cols]`, or a block of its rows.
 * @param columns `colNorms` (`||X_:,j||_2`) and `colSums` (`sum_k |W_kj|` over all rows of the layer).
 * @param options `power` (`a`, default 0.5).
 * @returns Scores `[rows, cols]`, equal to {@link riaScoresReference} of the whole layer.
 * @throws {TypeError} If the shapes do not match.
 * @throws {RangeError} If `power` is not a finite number >= 0.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { columnAbsSums, riaScores, riaScoresReference } from "./ria.ts";
 * const w = fromRows([[1, -2], [1, 0]]), colNorms = new Float32Array([4, 1]);
 * const s = riaScores(w, { colNorms, colSums: columnAbsSums(w) });
 * assert.deepEqual(s, riaScoresReference(w, colNorms));
 * ```
 */
export function riaScores(
  weight: Matrix,
  columns: { colNorms: Float32Array; colSums: Float64Array },
  options: RiaOptions = {},
): Matrix {
  checkMatrix(weight, "weight");
  const { colNorms, colSums } = columns;
  checkColNorms(colNorms, weight, "RIA scores");
  if (!(colSums instanceof Float64Array) || colSums.length !== weight.cols) {
    throw new TypeError(
      `Cannot compute RIA scores: colSums must be a Float64Array of ${weight.cols}, got ${colSums?.length}`,
    );
  }
  const a = checkPower(options.power);
  const { rows, cols, data } = weight;
  const activation = Float64Array.from(colNorms, (x) => x ** a); //          ||X_:,j||^a
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const row = data.subarray(i * cols, (i + 1) * cols);
    let rowSum = 0;
    for (let j = 0; j < cols; j++) rowSum += Math.abs(row[j]); //          sum_k |W_ik|
    for (let j = 0; j < cols; j++) {
      const w = Math.abs(row[j]);
      out[i * cols + j] = (share(w, rowSum) + share(w, colSums[j])) * activation[j];
    }
  }
  return { data: out, rows, cols };
}

/** The column statistics of a layer: the input norms and the column sums of `|W|`. */
function riaColumns(
  weight: Matrix,
  calib: LayerCalibration,
): { colNorms: Float32Array; colSums: Float64Array } {
  checkMatrix(weight, "weight");
  let colNorms = calib?.colNorms;
  if (colNorms === undefined) {
    const inputs = calib?.inputs;
    if (inputs === undefined) {
      throw new TypeError("Cannot prune with ria: calibration inputs or colNorms are missing");
    }
    checkMatrix(inputs, "inputs");
    if (inputs.cols !== weight.cols) {
      throw new TypeError(
        `Cannot prune with ria: inputs are [${inputs.rows}, ${inputs.cols}], expected [tokens, ${weight.cols}]`,
      );
    }
    colNorms = columnNorms(inputs);
  }
  return { colNorms, colSums: columnAbsSums(weight) };
}

/**
 * The RIA method: scores `(|W_ij| / sum_k |W_ik| + |W_ij| / sum_k |W_kj|) ||X_:,j||_2^a`, selects
 * per row (the paper's group) or N:M, never changes the kept weights. The column sums of `|W|` are
 * taken over the whole layer once, so that workers can each score a block of rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { riaMethod } from "./ria.ts";
 * const target = { kind: "unstructured", sparsity: 0.5, group: "row" } as const;
 * // row 0: (1/4 + 1/2) * sqrt(9) = 2.25 beats (3/4 + 3/3) * 1 = 1.75: the smaller weight is kept
 * const r = riaMethod.prune(fromRows([[1, -3], [1, 0]]), { colNorms: new Float32Array([9, 1]) }, target);
 * assert.deepEqual(Array.from(r.keep), [1, 0, 1, 0]);
 * ```
 */
export const riaMethod: MethodDescriptor<ScoreSelectInfo> = scoreThenSelect({
  name: "ria",
  title: "RIA relative importance x ||X_j||^a (Zhang et al., ICLR 2024)",
  calibration: "inputs or col_norms",
  options: [
    {
      flag: "ria-power",
      key: "power",
      arg: "A",
      help: "ria's exponent a of ||X_j||_2",
      default: String(RIA_DEFAULT_POWER),
      parse: (text) => {
        const a = Number(text);
        if (text.trim() === "" || !Number.isFinite(a) || a < 0) {
          throw new RangeError(`--ria-power must be a finite number >= 0, got "${text}"`);
        }
        return a;
      },
    },
  ],
  columns: (weight, calib) => riaColumns(weight, calib),
  score: (weight, columns: { colNorms: Float32Array; colSums: Float64Array }, options) =>
    riaScores(weight, columns, { power: options.power as number | undefined }),
  scoreReference: (weight, calib, options) =>
    riaScoresReference(
      weight,
      calib.colNorms ??
        (calib.inputs ? columnNormsReference(calib.inputs) : riaColumns(weight, calib).colNorms),
      { power: options.power as number | undefined },
    ),
});
