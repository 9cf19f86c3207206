/**
 * The per-layer report of the pruning pipeline: achieved sparsity, relative output error on the
 * calibration inputs, and how much the mask agrees with the magnitude and Wanda masks at the same
 * target (docs/readings.md §2.1: on wide layers SwiftPrune's metric may be nearly magnitude pruning;
 * this is where that is measured).
 *
 * The error is a sum over the layer's rows, so on a large model it can be estimated from a sample
 * of rows ({@link evenlySpacedRows}, {@link estimateLayerError}) with a standard error, at a
 * fraction of the cost: exactly, it costs two products of the size of the layer's forward pass.
 *
 * @module
 */
import { gemmAccumulate, gramAccumulate, matmulTransB } from "../linalg/matmul.ts";
import type { MethodInfo } from "../prune/method.ts";
import type { LayerCalibration, PruneResult } from "../prune/types.ts";
import type { Target } from "../select/target.ts";
import { magnitudeScores } from "../score/magnitude.ts";
import { columnNorms, wandaScores } from "../score/wanda.ts";
import { buildMask } from "../select/mask.ts";
import type { Matrix } from "../tensor/matrix.ts";
import { release } from "../tensor/release.ts";
import { findNonFinite } from "../check/finite.ts";

/** One linear layer's line of the report. */
export interface LayerReport {
  /** `layers.<block>.<linear>`, e.g. `"layers.0.wq"`. */
  name: string;
  rows: number;
  cols: number;
  /** Number of weights pruned (mask zeros). */
  pruned: number;
  /** `pruned / (rows * cols)`. */
  sparsity: number;
  /** `||W X - W' X||^2 / ||W X||^2` on the layer's calibration inputs `X`. */
  error: number;
  /** Set when `error` is estimated from a sample: the number of rows it was measured on. */
  errorRows?: number;
  /** Set with `errorRows`: the standard error of that estimate. */
  errorStdErr?: number;
  /** With intra-layer inputs: `||W X - W' X*||^2 / ||W X||^2` (FISTAPruner's objective). */
  errorPruned?: number;
  /** Fraction of mask entries equal to the magnitude mask at the same target (NaN if not computed). */
  agreeMagnitude: number;
  /** Fraction of mask entries equal to the Wanda mask at the same target (NaN if not computed). */
  agreeWanda: number;
  /** The method's diagnostics, as it returned them (typed by the method's descriptor). */
  info?: MethodInfo;
}

/**
 * The relative error's two sums, row by row: for row `i` of the layer,
 * `num[i] = ||X w_i - X' w'_i||^2` and `den[i] = ||X w_i||^2`, so the error is
 * `sum(num) / sum(den)`.
 */
export interface RowErrors {
  num: Float64Array;
  den: Float64Array;
}

/**
 * The row sums of the relative output error on inputs `X` (`X' = inputsPruned ?? X`): the output
 * `X W^T` column by column. When `X' = X` the difference is formed on the weights first
 * (`X (W - W')^T`), so an untouched row gives exactly 0.
 *
 * @param weight Dense weight `W [rows, cols]`.
 * @param pruned Pruned weight `W' [rows, cols]`.
 * @param inputs `X [tokens, cols]`.
 * @param inputsPruned Optional `X* [tokens, cols]`, the input the pruned layer actually sees.
 * @returns `{ num, den }`, one entry per row.
 * @throws {TypeError} If the shapes do not match.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { layerErrorRows } from "./layer_report.ts";
 * const w = fromRows([[1, 1], [0, 1]]), wp = fromRows([[1, 0], [0, 1]]), x = fromRows([[1, 1], [1, 0]]);
 * const { num, den } = layerErrorRows(w, wp, x);
 * assert.deepEqual([Array.from(num), Array.from(den)], [[1, 0], [5, 1]]);
 * ```
 */
export function layerErrorRows(
  weight: Matrix,
  pruned: Matrix,
  inputs: Matrix,
  inputsPruned?: Matrix,
): RowErrors {
  if (weight.rows !== pruned.rows || weight.cols !== pruned.cols) {
    throw new TypeError(
      `Cannot compute layer error: weight [${weight.rows}, ${weight.cols}] and pruned [${pruned.rows}, ${pruned.cols}] differ`,
    );
  }
  const y = matmulTransB(inputs, weight); // [tokens, rows]
  let diff: Float32Array;
  if (inputsPruned === undefined || inputsPruned === inputs) {
    const d = new Float32Array(weight.data.length);
    for (let i = 0; i < d.length; i++) d[i] = weight.data[i] - pruned.data[i];
    diff = matmulTransB(inputs, { data: d, rows: weight.rows, cols: weight.cols }).data;
    release(d);
  } else {
    const yp = matmulTransB(inputsPruned, pruned);
    if (yp.rows !== y.rows) {
      throw new TypeError(`Cannot compute layer error: X has ${y.rows} tokens, X* ${yp.rows}`);
    }
    diff = new Float32Array(y.data.length);
    for (let i = 0; i < diff.length; i++) diff[i] = y.data[i] - yp.data[i];
    release(yp.data);
  }
  const rows = weight.rows, num = new Float64Array(rows), den = new Float64Array(rows);
  for (let t = 0; t < y.rows; t++) {
    for (let i = 0; i < rows; i++) {
      const e = diff[t * rows + i], o = y.data[t * rows + i];
      num[i] += e * e; //                                                (X w_i - X' w'_i)_t^2
      den[i] += o * o; //                                                         (X w_i)_t^2
    }
  }
  release(y.data, diff); // megabytes each: freed now, not at the next collection
  return { num, den };
}

/**
 * The same row sums as {@link layerErrorRows} with `X* = X`, from the Gram matrix `G = X^T X`:
 * `||X d_i||^2 = d_i^T G d_i` with `d_i` row i of `W - W'`, and `||X w_i||^2 = w_i^T G w_i`.
 * Costs `O(rows * cols^2)` instead of `O(tokens * rows * cols)`, and layers that share an input
 * (q, k, v; w1, w3) share `G`. The products `G d_i`, `G w_i` go through the blocked float64 GEMM
 * (SIMD under the `simd` kernels).
 *
 * @param weight Dense weight `W [rows, cols]`.
 * @param pruned Pruned weight `W' [rows, cols]`.
 * @param gram `G = X^T X`, `Float64Array(cols * cols)` row-major (e.g. from `gramOf`).
 * @returns `{ num, den }`, one entry per row.
 * @throws {TypeError} If the shapes do not match.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { gramOf, layerErrorRowsFromGram } from "./layer_report.ts";
 * const w = fromRows([[1, 1], [0, 1]]), wp = fromRows([[1, 0], [0, 1]]), x = fromRows([[1, 1], [1, 0]]);
 * const { num, den } = layerErrorRowsFromGram(w, wp, gramOf(x)); // as layerErrorRows
 * assert.deepEqual([Array.from(num), Array.from(den)], [[1, 0], [5, 1]]);
 * ```
 */
export function layerErrorRowsFromGram(
  weight: Matrix,
  pruned: Matrix,
  gram: Float64Array,
): RowErrors {
  const { rows, cols } = weight;
  if (pruned.rows !== rows || pruned.cols !== cols || gram.length !== cols * cols) {
    throw new TypeError(
      `Cannot compute layer error: weight [${rows}, ${cols}], pruned [${pruned.rows}, ${pruned.cols}], G of ${gram.length} values`,
    );
  }
  const num = new Float64Array(rows), den = new Float64Array(rows);
  // by blocks of r rows: [D; W] (2 r x cols, float64) times G through the float64 GEMM
  const R = Math.max(1, Math.min(rows, Math.floor(262_144 / Math.max(1, cols))));
  const dw = new Float64Array(2 * R * cols), prod = new Float64Array(2 * R * cols);
  for (let r0 = 0; r0 < rows; r0 += R) {
    const r = Math.min(R, rows - r0), n = r * cols;
    for (let t = 0; t < n; t++) {
      const wt = weight.data[r0 * cols + t];
      dw[t] = wt - pruned.data[r0 * cols + t]; // rows of D = W - W'
      dw[n + t] = wt; // then rows of W
    }
    prod.fill(0, 0, 2 * n);
    gemmAccumulate(
      { data: prod, offset: 0, rowStride: cols, colStride: 1 },
      { data: dw, offset: 0, rowStride: cols, colStride: 1 },
      { data: gram, offset: 0, rowStride: cols, colStride: 1 },
      2 * r,
      cols,
      cols,
    );
    for (let i = 0; i < r; i++) {
      let a = 0, b = 0;
      for (let c = i * cols; c < (i + 1) * cols; c++) a += dw[c] * prod[c]; //       d_i . (G d_i)
      for (let c = n + i * cols; c < n + (i + 1) * cols; c++) b += dw[c] * prod[c]; // w_i . (G w_i)
      num[r0 + i] = a;
      den[r0 + i] = b;
    }
  }
  return { num, den };
}

/** `sum(num) / sum(den)`: 0 when both are 0, `Infinity` when only the dense output is 0. */
function errorRatio({ num, den }: RowErrors): number {
  let n = 0, d = 0;
  for (let i = 0; i < num.length; i++) n += num[i];
  for (let i = 0; i < den.length; i++) d += den[i];
  if (d === 0) return n === 0 ? 0 : Infinity;
  return n / d;
}

/**
 * Relative output error of a pruned layer on inputs `X`:
 * `||X W^T - X' W'^T||_F^2 / ||X W^T||_F^2` where `X' = inputsPruned ?? X`
 * (the ratio of the sums of {@link layerErrorRows}).
 *
 * @param weight Dense weight `W [rows, cols]`.
 * @param pruned Pruned weight `W' [rows, cols]`.
 * @param inputs `X [tokens, cols]`.
 * @param inputsPruned Optional `X* [tokens, cols]`, the input the pruned layer actually sees.
 * @returns The ratio (0 when both norms are 0, `Infinity` when only the dense output is 0).
 * @throws {TypeError} If the shapes do not match.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { relativeLayerError } from "./layer_report.ts";
 * const w = fromRows([[1, 1]]), wp = fromRows([[1, 0]]), x = fromRows([[1, 1], [1, 0]]);
 * // W X = [2, 1], W' X = [1, 1]: error (1^2 + 0^2) / (2^2 + 1^2) = 0.2
 * assert.equal(relativeLayerError(w, wp, x), 0.2);
 * ```
 */
export function relativeLayerError(
  weight: Matrix,
  pruned: Matrix,
  inputs: Matrix,
  inputsPruned?: Matrix,
): number {
  return errorRatio(layerErrorRows(weight, pruned, inputs, inputsPruned));
}

/**
 * The same ratio as {@link relativeLayerError} with `X* = X`, from the Gram matrix `G = X^T X`
 * (the ratio of the sums of {@link layerErrorRowsFromGram}).
 *
 * @param weight Dense weight `W [rows, cols]`.
 * @param pruned Pruned weight `W' [rows, cols]`.
 * @param gram `G = X^T X`, `Float64Array(cols * cols)` row-major (e.g. from `gramOf`).
 * @returns The ratio (0 when both are 0, `Infinity` when only the dense output is 0).
 * @throws {TypeError} If the shapes do not match.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { gramOf, relativeLayerErrorFromGram } from "./layer_report.ts";
 * const w = fromRows([[1, 1]]), wp = fromRows([[1, 0]]), x = fromRows([[1, 1], [1, 0]]);
 * assert.equal(relativeLayerErrorFromGram(w, wp, gramOf(x)), 0.2); // as relativeLayerError
 * ```
 */
export function relativeLayerErrorFromGram(
  weight: Matrix,
  pruned: Matrix,
  gram: Float64Array,
): number {
  return errorRatio(layerErrorRowsFromGram(weight, pruned, gram));
}

/**
 * The rows a sampled error is measured on: every row when `limit >= rows`, else `limit` evenly
 * spaced ones, row `floor((k + 1/2) rows / limit)` for `k = 0 .. limit - 1` (a systematic sample:
 * heads and channels spread across the layer are all represented).
 *
 * @param rows The layer's rows.
 * @param limit At most this many (a positive integer, or `Infinity` for all).
 * @returns The row indices, increasing.
 * @throws {RangeError} If `limit` is not a positive integer or `Infinity`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evenlySpacedRows } from "./layer_report.ts";
 * assert.deepEqual(Array.from(evenlySpacedRows(10, 4)), [1, 3, 6, 8]);
 * assert.deepEqual(Array.from(evenlySpacedRows(3, 4)), [0, 1, 2]);
 * ```
 */
export function evenlySpacedRows(rows: number, limit: number): Int32Array {
  if (!(limit === Infinity || (Number.isInteger(limit) && limit >= 1))) {
    throw new RangeError(`Cannot sample rows: the limit must be a positive integer, got ${limit}`);
  }
  const k = Math.min(rows, limit);
  return Int32Array.from(
    { length: k },
    (_, j) => k === rows ? j : Math.floor((j + 0.5) * rows / k),
  );
}

/**
 * The relative error of a whole layer of `population` rows, estimated from the row sums of a
 * sample of its rows (the ratio estimator `R = sum(num) / sum(den)`), with its standard error:
 * `se(R)^2 = (1 - k/N) / (k * mean(den)^2) * sum((num_i - R den_i)^2) / (k - 1)` for `k` sampled
 * rows of `N` (the usual first-order formula, with the finite-population correction: it is 0 when
 * every row is in the sample, where `R` is the exact error). Being first-order, it understates the
 * spread when a few rows carry most of the layer's output (tests/layer_error_test.ts: with row
 * norms within about 3x, the exact error is within one standard error 72% of the time and within
 * two 93%).
 *
 * @param rows The sampled rows' sums ({@link layerErrorRows} of the sampled rows).
 * @param population The layer's number of rows `N` (at least the sample's).
 * @returns `{ error, stdErr }` (`stdErr` NaN for a partial sample of one row or of zero output).
 * @throws {RangeError} If `population` is smaller than the sample.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimateLayerError } from "./layer_report.ts";
 * const rows = { num: Float64Array.from([1, 3]), den: Float64Array.from([10, 10]) };
 * assert.deepEqual(estimateLayerError(rows, 2), { error: 0.2, stdErr: 0 }); // every row: exact
 * const { error, stdErr } = estimateLayerError(rows, 4); // 2 of 4 rows
 * assert.equal(error, 0.2);
 * assert.ok(Math.abs(stdErr - Math.sqrt(0.5 / (2 * 100) * 2 / 1)) < 1e-15);
 * ```
 */
export function estimateLayerError(
  rows: RowErrors,
  population: number,
): { error: number; stdErr: number } {
  const k = rows.num.length;
  if (!(population >= k)) {
    throw new RangeError(`Cannot estimate layer error: ${k} sampled rows of ${population}`);
  }
  const error = errorRatio(rows);
  if (k === population) return { error, stdErr: 0 };
  let d = 0, s = 0;
  for (let i = 0; i < k; i++) d += rows.den[i];
  if (k < 2 || d === 0) return { error, stdErr: NaN };
  for (let i = 0; i < k; i++) s += (rows.num[i] - error * rows.den[i]) ** 2; // residuals of R
  const meanDen = d / k;
  return { error, stdErr: Math.sqrt((1 - k / population) / (k * meanDen * meanDen) * s / (k - 1)) };
}

/** The rows `rows` of `m`, as a new matrix. */
function takeRows(m: Matrix, rows: Int32Array): Matrix {
  if (rows.length === m.rows) return m;
  const data = new Float32Array(rows.length * m.cols);
  rows.forEach((r, k) => data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), k * m.cols));
  return { data, rows: rows.length, cols: m.cols };
}

/**
 * The Gram matrix `G = X^T X` of calibration inputs, in float64.
 *
 * @param inputs `X [tokens, cols]`.
 * @returns `Float64Array(cols * cols)`, row-major.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { gramOf } from "./layer_report.ts";
 * assert.deepEqual(Array.from(gramOf(fromRows([[1, 2], [3, 4]]))), [10, 14, 14, 20]);
 * ```
 */
export function gramOf(inputs: Matrix): Float64Array {
  const g = new Float64Array(inputs.cols * inputs.cols);
  gramAccumulate(g, inputs);
  return g;
}

/**
 * Fraction of positions where two masks agree.
 *
 * @param a A mask.
 * @param b A mask of the same length.
 * @returns `#{i : a[i] == b[i]} / length` (1 for two empty masks).
 * @throws {TypeError} If the lengths differ.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskAgreement } from "./layer_report.ts";
 * assert.equal(maskAgreement(new Uint8Array([1, 0, 1, 0]), new Uint8Array([1, 1, 1, 0])), 0.75);
 * ```
 */
export function maskAgreement(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) {
    throw new TypeError(`Cannot compare masks of ${a.length} and ${b.length} entries`);
  }
  if (a.length === 0) return 1;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/**
 * The pairwise agreement of methods' masks: for each pair, the fraction of all weights (over every
 * layer) that both keep or both prune. For the report's `agreement` field.
 *
 * @param names The methods, in order.
 * @param masks For each method, its masks by layer name (`Uint8Array`, 1 = keep).
 * @returns `{ methods, matrix }`, `matrix[i][j]` in [0, 1], 1 on the diagonal.
 * @throws {TypeError} If the methods do not have masks of the same layers and sizes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairwiseAgreement } from "./layer_report.ts";
 * const a = { l0: new Uint8Array([1, 0, 1, 0]) }, b = { l0: new Uint8Array([1, 1, 0, 0]) };
 * assert.deepEqual(pairwiseAgreement(["a", "b"], [a, b]).matrix, [[1, 0.5], [0.5, 1]]);
 * ```
 */
export function pairwiseAgreement(
  names: string[],
  masks: Record<string, Uint8Array>[],
): { methods: string[]; matrix: number[][] } {
  const layers = Object.keys(masks[0] ?? {});
  for (const [i, m] of masks.entries()) {
    const same = Object.keys(m).length === layers.length &&
      layers.every((l) => m[l]?.length === masks[0][l].length);
    if (!same) {
      throw new TypeError(
        `Cannot compare masks: ${names[i]} does not have the layers of ${names[0]}`,
      );
    }
  }
  const total = layers.reduce((s, l) => s + masks[0][l].length, 0);
  const matrix = names.map(() => names.map(() => 1));
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      let same = 0;
      for (const l of layers) {
        const a = masks[i][l], b = masks[j][l];
        for (let t = 0; t < a.length; t++) same += a[t] === b[t] ? 1 : 0;
      }
      matrix[i][j] = matrix[j][i] = total ? same / total : 1;
    }
  }
  return { methods: names, matrix };
}

/**
 * Builds the report line of one pruned layer.
 *
 * @param name The layer's name, e.g. `"layers.0.wq"`.
 * @param weight The dense weight.
 * @param result What the method returned.
 * @param calib The calibration the method was given (`inputs` must be set).
 * @param target The target the method was asked for (used for the reference masks).
 * @param options `agreement: false` skips the magnitude/Wanda masks (reported as NaN; the Wanda
 *   one is NaN too when a column norm of the inputs is not finite); `gram`,
 *   `X^T X` of `calib.inputs`, switches the error to {@link layerErrorRowsFromGram};
 *   `errorRows` (default all) estimates the error (and `errorPruned`) from at most that many
 *   evenly spaced rows, and then sets `errorRows` and `errorStdErr` on the report.
 * @returns The report line.
 * @throws {TypeError} If `calib.inputs` is missing or shapes do not match.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { evaluateLayer } from "./layer_report.ts";
 * const w = fromRows([[1, -3], [2, 0.5]]);
 * const result = { weight: fromRows([[0, -3], [2, 0]]), keep: new Uint8Array([0, 1, 1, 0]) };
 * const inputs = fromRows([[1, 1], [2, -1]]);
 * const target = { kind: "unstructured", sparsity: 0.5, group: "row" } as const;
 * const r = evaluateLayer("layers.0.wq", w, result, { inputs }, target);
 * assert.equal(r.sparsity, 0.5);
 * assert.equal(r.agreeMagnitude, 1); // it is the magnitude mask
 * const one = evaluateLayer("layers.0.wq", w, result, { inputs }, target, { errorRows: 1 });
 * assert.deepEqual([one.errorRows, one.errorStdErr], [1, NaN]); // row 1 of 2: no spread known
 * ```
 */
export function evaluateLayer(
  name: string,
  weight: Matrix,
  result: PruneResult<MethodInfo>,
  calib: LayerCalibration,
  target: Target,
  options: { agreement?: boolean; gram?: Float64Array; errorRows?: number } = {},
): LayerReport {
  const inputs = calib.inputs;
  if (inputs === undefined) {
    throw new TypeError(`Cannot evaluate ${name}: calibration inputs are missing`);
  }
  let pruned = 0;
  for (let i = 0; i < result.keep.length; i++) if (result.keep[i] === 0) pruned++;
  const size = weight.rows * weight.cols;
  const report: LayerReport = {
    name,
    rows: weight.rows,
    cols: weight.cols,
    pruned,
    sparsity: size === 0 ? 0 : pruned / size,
    error: NaN,
    agreeMagnitude: NaN,
    agreeWanda: NaN,
  };
  // the error on all rows, or estimated on a sample of them
  const sample = evenlySpacedRows(weight.rows, options.errorRows ?? Infinity);
  const w = takeRows(weight, sample), wp = takeRows(result.weight, sample);
  const { error, stdErr } = estimateLayerError(
    options.gram ? layerErrorRowsFromGram(w, wp, options.gram) : layerErrorRows(w, wp, inputs),
    weight.rows,
  );
  report.error = error;
  if (sample.length < weight.rows) [report.errorRows, report.errorStdErr] = [sample.length, stdErr];
  if (calib.inputsPruned !== undefined && calib.inputsPruned !== inputs) {
    const rows = layerErrorRows(w, wp, inputs, calib.inputsPruned);
    report.errorPruned = estimateLayerError(rows, weight.rows).error;
  }
  if (options.agreement ?? true) {
    const agreement = (scores: Matrix) => {
      const reference = buildMask(scores, target, { select: "ewma-exact" }).keep;
      const fraction = maskAgreement(result.keep, reference);
      release(scores.data, reference); // 5 bytes per weight, freed now
      return fraction;
    };
    report.agreeMagnitude = agreement(magnitudeScores(weight));
    const norms = columnNorms(inputs); // not finite when the model overflowed (allowNonFinite)
    if (findNonFinite(norms) < 0) report.agreeWanda = agreement(wandaScores(weight, norms));
  }
  if (result.info !== undefined) report.info = result.info;
  return report;
}
