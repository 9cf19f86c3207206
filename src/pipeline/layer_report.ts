/**
 * The per-layer report of the pruning pipeline: achieved sparsity, relative output error on the
 * calibration inputs, and how much the mask agrees with the magnitude and Wanda masks at the same
 * target (docs/readings.md §2.1: on wide layers SwiftPrune's metric may be nearly magnitude pruning;
 * this is where that is measured).
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
 * Relative output error of a pruned layer on inputs `X`:
 * `||X W^T - X' W'^T||_F^2 / ||X W^T||_F^2` where `X' = inputsPruned ?? X`.
 * When `X' = X` the difference is formed on the weights first (`X (W - W')^T`), so an untouched
 * layer gives exactly 0.
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
  if (weight.rows !== pruned.rows || weight.cols !== pruned.cols) {
    throw new TypeError(
      `Cannot compute layer error: weight [${weight.rows}, ${weight.cols}] and pruned [${pruned.rows}, ${pruned.cols}] differ`,
    );
  }
  const y = matmulTransB(inputs, weight);
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
  let num = 0, den = 0;
  for (let i = 0; i < diff.length; i++) num += diff[i] * diff[i];
  for (let i = 0; i < y.data.length; i++) den += y.data[i] * y.data[i];
  release(y.data, diff); // megabytes each: freed now, not at the next collection
  if (den === 0) return num === 0 ? 0 : Infinity;
  return num / den;
}

/**
 * The same ratio as {@link relativeLayerError} with `X* = X`, from the Gram matrix `G = X^T X`:
 * `||X (W - W')^T||_F^2 = sum_i d_i^T G d_i` with `d_i` row i of `W - W'`, and
 * `||X W^T||_F^2 = sum_i w_i^T G w_i`. Costs `O(rows * cols^2)` instead of
 * `O(tokens * rows * cols)`, and layers that share an input (q, k, v; w1, w3) share `G`. The
 * products `G d_i`, `G w_i` go through the blocked float64 GEMM (SIMD under the `simd` kernels).
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
  const { rows, cols } = weight;
  if (pruned.rows !== rows || pruned.cols !== cols || gram.length !== cols * cols) {
    throw new TypeError(
      `Cannot compute layer error: weight [${rows}, ${cols}], pruned [${pruned.rows}, ${pruned.cols}], G of ${gram.length} values`,
    );
  }
  // by blocks of rows: [D; W] (2 r x cols, float64) times G through the float64 GEMM, then
  // num = sum d_i . (G d_i), den = sum w_i . (G w_i)
  const R = Math.max(1, Math.min(rows, Math.floor(262_144 / Math.max(1, cols))));
  const dw = new Float64Array(2 * R * cols), prod = new Float64Array(2 * R * cols);
  let num = 0, den = 0;
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
    for (let t = 0; t < n; t++) num += dw[t] * prod[t];
    for (let t = n; t < 2 * n; t++) den += dw[t] * prod[t];
  }
  if (den === 0) return num === 0 ? 0 : Infinity;
  return num / den;
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
 *   `X^T X` of `calib.inputs`, switches the error to {@link relativeLayerErrorFromGram}.
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
 * ```
 */
export function evaluateLayer(
  name: string,
  weight: Matrix,
  result: PruneResult<MethodInfo>,
  calib: LayerCalibration,
  target: Target,
  options: { agreement?: boolean; gram?: Float64Array } = {},
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
    error: options.gram
      ? relativeLayerErrorFromGram(weight, result.weight, options.gram)
      : relativeLayerError(weight, result.weight, inputs),
    agreeMagnitude: NaN,
    agreeWanda: NaN,
  };
  if (calib.inputsPruned !== undefined && calib.inputsPruned !== inputs) {
    report.errorPruned = relativeLayerError(weight, result.weight, inputs, calib.inputsPruned);
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
