/**
 * Wanda (Sun, Liu, Bair, Kolter, "A Simple and Effective Pruning Approach for Large Language
 * Models", arXiv:2306.11695v3): the score of a weight is its magnitude times the norm of the input
 * feature it multiplies,
 *
 *     S_ij = |W_ij| * ||X_:,j||_2
 *
 * with `X` the calibration inputs of the layer, `[tokens, cols]`. Wanda compares scores within each
 * output row (a per-row group); that choice lives in `src/select/mask.ts`, not here. No weight
 * update. Our mask polarity is 1 = keep (Wanda's code uses 1 = prune).
 *
 * | paper          | code                         |
 * | -------------- | ---------------------------- |
 * | `W`            | `weight` `[rows, cols]`      |
 * | `X`            | `inputs` `[tokens, cols]`    |
 * | `||X_:,j||_2`  | `colNorms[j]` ({@link columnNorms}) |
 * | `S_ij`         | `scores.data[i * cols + j]`  |
 *
 * @module
 */
import { checkMatrix, type Matrix } from "../tensor/matrix.ts";
import { type MethodDescriptor, type ScoreSelectInfo, scoreThenSelect } from "../prune/method.ts";
import type { LayerCalibration } from "../prune/types.ts";

/**
 * The reference: `||X_:,j||_2` one column at a time, float64 accumulation.
 *
 * @param inputs `X` `[tokens, cols]`.
 * @returns `Float32Array(cols)` of column norms.
 * @throws {TypeError} If `inputs` is not a {@link Matrix}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { columnNormsReference } from "./wanda.ts";
 * assert.deepEqual(Array.from(columnNormsReference(fromRows([[3, 0], [4, 1]]))), [5, 1]);
 * ```
 */
export function columnNormsReference(inputs: Matrix): Float32Array {
  checkMatrix(inputs, "inputs");
  const norms = new Float32Array(inputs.cols);
  for (let j = 0; j < inputs.cols; j++) {
    let sumSquares = 0;
    for (let t = 0; t < inputs.rows; t++) sumSquares += inputs.data[t * inputs.cols + j] ** 2;
    norms[j] = Math.sqrt(sumSquares); // ||X_:,j||_2
  }
  return norms;
}

/**
 * `||X_:,j||_2` for every column, reading `X` row by row (cache friendly), float64 accumulation.
 *
 * @param inputs `X` `[tokens, cols]`.
 * @returns `Float32Array(cols)`, identical to {@link columnNormsReference} (same summation order).
 * @throws {TypeError} If `inputs` is not a {@link Matrix}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { columnNorms } from "./wanda.ts";
 * assert.deepEqual(Array.from(columnNorms(fromRows([[3, 0], [4, 1]]))), [5, 1]);
 * ```
 */
export function columnNorms(inputs: Matrix): Float32Array {
  checkMatrix(inputs, "inputs");
  const { data, rows: tokens, cols } = inputs;
  const sumSquares = new Float64Array(cols);
  for (let t = 0; t < tokens; t++) {
    const base = t * cols;
    for (let j = 0; j < cols; j++) sumSquares[j] += data[base + j] * data[base + j];
  }
  const norms = new Float32Array(cols);
  for (let j = 0; j < cols; j++) norms[j] = Math.sqrt(sumSquares[j]);
  return norms;
}

/**
 * Throws a `TypeError` unless `colNorms` is a `Float32Array` with one entry per column of `weight`.
 *
 * @param colNorms The value to check.
 * @param weight The weight the norms go with.
 * @param what What is being computed, for the message.
 * @throws {TypeError} If the type or the length is wrong.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrix } from "../tensor/matrix.ts";
 * import { checkColNorms } from "./wanda.ts";
 * assert.throws(() => checkColNorms(new Float32Array(2), matrix(1, 3), "scores"), /got 2 column norms/);
 * ```
 */
export function checkColNorms(
  colNorms: unknown,
  weight: Matrix,
  what: string,
): asserts colNorms is Float32Array {
  if (!(colNorms instanceof Float32Array)) {
    const seen = colNorms === undefined
      ? "undefined"
      : (colNorms as object)?.constructor?.name ?? typeof colNorms;
    throw new TypeError(`Cannot compute ${what}: column norms must be a Float32Array, got ${seen}`);
  }
  if (colNorms.length !== weight.cols) {
    throw new TypeError(
      `Cannot compute ${what} for weight [${weight.rows}, ${weight.cols}]: got ${colNorms.length} column norms, expected ${weight.cols}`,
    );
  }
}

/**
 * The reference: `S_ij = |W_ij| * ||X_:,j||_2` element by element.
 *
 * @param weight `W` `[rows, cols]`.
 * @param colNorms `||X_:,j||_2`, `Float32Array(cols)` (see {@link columnNorms}).
 * @returns Scores `[rows, cols]` (a new matrix).
 * @throws {TypeError} If the shapes do not match.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { wandaScoresReference } from "./wanda.ts";
 * const s = wandaScoresReference(fromRows([[-1, 2]]), new Float32Array([3, 0.5]));
 * assert.deepEqual(Array.from(s.data), [3, 1]);
 * ```
 */
export function wandaScoresReference(weight: Matrix, colNorms: Float32Array): Matrix {
  checkMatrix(weight, "weight");
  checkColNorms(colNorms, weight, "Wanda scores");
  const out = new Float32Array(weight.rows * weight.cols);
  for (let i = 0; i < weight.rows; i++) {
    for (let j = 0; j < weight.cols; j++) {
      out[i * weight.cols + j] = Math.abs(weight.data[i * weight.cols + j]) * colNorms[j]; // |W_ij| ||X_:,j||
    }
  }
  return { data: out, rows: weight.rows, cols: weight.cols };
}

/**
 * Wanda scores `|W_ij| * ||X_:,j||_2` in one flat pass.
 *
 * @param weight `W` `[rows, cols]`.
 * @param colNorms `||X_:,j||_2`, `Float32Array(cols)` (see {@link columnNorms}).
 * @returns Scores `[rows, cols]`, identical to {@link wandaScoresReference}.
 * @throws {TypeError} If the shapes do not match.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { columnNorms, wandaScores } from "./wanda.ts";
 * const x = fromRows([[3, 0], [4, 1]]); // column norms 5 and 1
 * assert.deepEqual(Array.from(wandaScores(fromRows([[1, -2]]), columnNorms(x)).data), [5, 2]);
 * ```
 */
export function wandaScores(weight: Matrix, colNorms: Float32Array): Matrix {
  checkMatrix(weight, "weight");
  checkColNorms(colNorms, weight, "Wanda scores");
  const { data, rows, cols } = weight;
  const out = new Float32Array(rows * cols);
  for (let i = 0, t = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++, t++) out[t] = Math.abs(data[t]) * colNorms[j];
  }
  return { data: out, rows, cols };
}

/**
 * The column norms a layer's Wanda scores use: `calib.colNorms` if given, else computed from
 * `calib.inputs`.
 *
 * @param weight `W` `[rows, cols]`.
 * @param calib `colNorms` or `inputs` `[tokens, cols]`.
 * @returns `||X_:,j||_2`, `Float32Array(cols)`.
 * @throws {TypeError} If neither is given or the inputs do not fit `W`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { wandaColumnNorms } from "./wanda.ts";
 * assert.deepEqual(Array.from(wandaColumnNorms(fromRows([[1, 1]]), { inputs: fromRows([[3, 0], [4, 1]]) })), [5, 1]);
 * assert.throws(() => wandaColumnNorms(fromRows([[1, 1]]), {}), TypeError);
 * ```
 */
export function wandaColumnNorms(weight: Matrix, calib: LayerCalibration): Float32Array {
  if (calib?.colNorms !== undefined) return calib.colNorms;
  if (calib?.inputs !== undefined) {
    checkMatrix(calib.inputs, "inputs");
    if (calib.inputs.cols !== weight.cols) {
      throw new TypeError(
        `Cannot prune with wanda: inputs are [${calib.inputs.rows}, ${calib.inputs.cols}], expected [tokens, ${weight.cols}]`,
      );
    }
    return columnNorms(calib.inputs);
  }
  throw new TypeError("Cannot prune with wanda: calibration inputs or colNorms are missing");
}

/**
 * The Wanda method: scores `|W_ij| ||X_:,j||_2` from `calib.colNorms` or `calib.inputs`, selects
 * per row (the paper's group), never changes the kept weights.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { wandaMethod } from "./wanda.ts";
 * const target = { kind: "unstructured", sparsity: 0.5, group: "row" } as const;
 * const r = wandaMethod.prune(fromRows([[1, 2]]), { colNorms: new Float32Array([4, 1]) }, target);
 * assert.deepEqual(Array.from(r.keep), [1, 0]); // 1 * 4 > 2 * 1
 * ```
 */
export const wandaMethod: MethodDescriptor<ScoreSelectInfo> = scoreThenSelect({
  name: "wanda",
  title: "Wanda |W_ij| ||X_j|| (Sun et al., arXiv:2306.11695)",
  calibration: "inputs or col_norms",
  columns: wandaColumnNorms,
  score: (weight, colNorms: Float32Array) => wandaScores(weight, colNorms),
  scoreReference: (weight, calib) =>
    wandaScoresReference(
      weight,
      calib.colNorms ??
        (calib.inputs ? columnNormsReference(calib.inputs) : wandaColumnNorms(weight, calib)),
    ),
});
