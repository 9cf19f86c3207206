/**
 * The SwiftPrune weight metric (Kang et al., "SwiftPrune: Hessian-Free Weight Pruning for Large
 * Language Models", arXiv:2501.16376v2, EMNLP 2025 Findings). The paper's full text was not
 * available to us: the formula below is OUR READING (docs: `docs/readings.md` §2.1, `docs/swiftprune.md`), derived here.
 *
 *     L_ij = W_ij^2 / (1 - x_j^2 / (S + eps)),      S = sum_k x_k^2
 *
 * ## Derivation: Optimal Brain Surgeon with a rank-one Hessian
 *
 * Optimal Brain Surgeon (Hassibi & Stork, 1993) removes weight `w_j` of a row at the cost
 * `w_j^2 / (2 [H^-1]_jj)`, where `H` is the Hessian of the row's reconstruction error, `H = X^T X`
 * for a linear layer. Forming and inverting `H` is what makes SparseGPT O(cols^3). Replace it by a
 * rank-one matrix plus a ridge, built from one input statistic `x` (length `cols`):
 *
 *     H = x x^T + eps I
 *
 * Sherman-Morrison inverts this without forming it:
 *
 *     H^-1 = (1/eps) (I - x x^T / (eps + x^T x))   =>   [H^-1]_jj = (1/eps) (1 - x_j^2 / (eps + S))
 *
 * so the OBS saliency is `w_j^2 / [H^-1]_jj = eps * L_ij`. The factor `eps` is the same for every
 * weight of the layer and does not change which weights are smallest, so we drop it (and the 1/2).
 * The metric is O(rows * cols): Hessian-free. `tests/score_test.ts` checks the closed form against
 * an explicit Gauss-Jordan inverse of `H`.
 *
 * ## OUR READING (every choice the paper does not state publicly)
 *
 * - What `x` is (`xStat`): `"norm"` (default) `x_j = ||X_:,j||_2`, Wanda's statistic, computed as
 *   float32 column norms so that giving `inputs` or `colNorms` yields identical scores;
 *   `"mean"` `x` = the mean calibration token; `"token"`: one rank-one saliency per token, summed
 *   with equal weight: `L_ij = W_ij^2 * sum_t 1 / (1 - X_tj^2 / (S_t + eps_t))`, `S_t = sum_k X_tk^2`.
 * - `eps` is RELATIVE to the scale: the ridge added is `eps * S` (per token: `eps * S_t`), default
 *   {@link SWIFTPRUNE_DEFAULT_EPS} = 1e-8, so the metric does not depend on the units of `X` and
 *   the denominator is at least `eps / (1 + eps)` (a channel holding all the energy gets a factor of
 *   about 1e8, not a division by zero). When `S = 0` (or `S_t = 0`) the factor is its limit, 1.
 * - Scores are compared within a row by default (like Wanda); see `src/select/mask.ts`.
 *
 * On wide layers `x_j^2 / S` is small except on outlier channels, so `L_ij` is close to `W_ij^2`:
 * the metric can be nearly magnitude pruning. That is a finding to measure, not to hide.
 *
 * | paper / derivation | code                          |
 * | ------------------ | ----------------------------- |
 * | `W`                | `weight` `[rows, cols]`       |
 * | `X`                | `calib.inputs` `[tokens, cols]` |
 * | `x_j`              | `x[j]` (`xStat`)              |
 * | `S`, `S_t`         | `energy`, `tokenEnergy`       |
 * | `eps`              | `options.eps * S`             |
 * | `1/(1 - x_j^2/(S+eps))` | `factor[j]`              |
 * | `L_ij`             | `scores.data[i * cols + j]`   |
 *
 * @module
 */
import { checkMatrix, type Matrix } from "../tensor/matrix.ts";
import { checkColNorms, columnNorms, columnNormsReference } from "./wanda.ts";
import {
  finiteAtLeastZero,
  type MethodDescriptor,
  oneOf,
  type ScoreSelectInfo,
  scoreThenSelect,
} from "../prune/method.ts";

/** Which input statistic plays `x` in `H = x x^T + eps I` (OUR READING, see the module doc). */
export type XStat = "norm" | "token" | "mean";

/** The calibration statistics SwiftPrune may use: the inputs `X`, or just their column norms. */
export interface SwiftPruneCalibration {
  /** `X` `[tokens, cols]`; needed by `"token"` and `"mean"`. */
  inputs?: Matrix;
  /** `||X_:,j||_2`; enough for `"norm"`. */
  colNorms?: Float32Array;
}

/** Options of {@link swiftPruneScores}. */
export interface SwiftPruneOptions {
  /** The reading of `x` (default `"norm"`). */
  xStat?: XStat;
  /** Relative ridge: `eps * S` is added to `S` (default {@link SWIFTPRUNE_DEFAULT_EPS}); > 0. */
  eps?: number;
}

/** Default relative ridge of SwiftPrune's `H = x x^T + eps I` (OUR READING): `eps = 1e-8 * S`. */
export const SWIFTPRUNE_DEFAULT_EPS = 1e-8;

const X_STATS: readonly XStat[] = ["norm", "token", "mean"];

function checkOptions(weight: Matrix, calib: SwiftPruneCalibration, options: SwiftPruneOptions) {
  checkMatrix(weight, "weight");
  const xStat = options.xStat ?? "norm";
  if (!X_STATS.includes(xStat)) {
    throw new RangeError(
      `Cannot compute SwiftPrune scores: xStat must be norm, token or mean, got ${xStat}`,
    );
  }
  const eps = options.eps ?? SWIFTPRUNE_DEFAULT_EPS;
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps <= 0) {
    throw new RangeError(
      `Cannot compute SwiftPrune scores: eps must be a finite number > 0, got ${eps}`,
    );
  }
  if (typeof calib !== "object" || calib === null) {
    throw new TypeError(
      `Cannot compute SwiftPrune scores: calibration must be an object, got ${calib}`,
    );
  }
  const { inputs, colNorms } = calib;
  if (inputs !== undefined) {
    checkMatrix(inputs, "inputs");
    if (inputs.cols !== weight.cols) {
      throw new TypeError(
        `Cannot compute SwiftPrune scores for weight [${weight.rows}, ${weight.cols}]: inputs are [${inputs.rows}, ${inputs.cols}], expected [tokens, ${weight.cols}]`,
      );
    }
  } else if (xStat !== "norm") {
    throw new TypeError(
      `Cannot compute SwiftPrune scores with xStat "${xStat}": calibration inputs are missing`,
    );
  } else if (colNorms === undefined) {
    throw new TypeError(
      `Cannot compute SwiftPrune scores with xStat "norm": give calibration inputs or colNorms`,
    );
  }
  if (inputs === undefined) checkColNorms(colNorms, weight, "SwiftPrune scores");
  return { xStat, eps, inputs, colNorms };
}

/** `x` for the `"norm"` and `"mean"` readings (the `"token"` reading has one `x` per token). */
function statistic(xStat: XStat, calib: SwiftPruneCalibration, reference: boolean): Float64Array {
  const { inputs, colNorms } = calib;
  if (xStat === "norm") {
    const norms = inputs
      ? (reference ? columnNormsReference(inputs) : columnNorms(inputs))
      : colNorms!;
    return Float64Array.from(norms);
  }
  const x = new Float64Array(inputs!.cols); // "mean": x_j = (1/tokens) sum_t X_tj
  for (let t = 0; t < inputs!.rows; t++) {
    for (let j = 0; j < inputs!.cols; j++) x[j] += inputs!.data[t * inputs!.cols + j];
  }
  for (let j = 0; j < x.length; j++) x[j] = inputs!.rows > 0 ? x[j] / inputs!.rows : 0;
  return x;
}

/** `1 / (1 - x_j^2 / (S + eps S))`, or 1 when `S = 0` (the limit). */
function rankOneFactor(xj: number, energy: number, eps: number): number {
  return energy > 0 ? 1 / (1 - (xj * xj) / (energy + eps * energy)) : 1;
}

/**
 * The reference: the formula element by element. For `"token"` it sums over tokens for every
 * weight (O(rows * cols * tokens)): use it on small layers only.
 *
 * @param weight `W` `[rows, cols]`.
 * @param calib `{ inputs }` `[tokens, cols]` or, for `"norm"`, `{ colNorms }`.
 * @param options `xStat` (default `"norm"`) and the relative `eps` (default 1e-8).
 * @returns Scores `L` `[rows, cols]` (a new matrix; higher = more important).
 * @throws {TypeError} If shapes do not match or the statistic needed is missing.
 * @throws {RangeError} If `xStat` is unknown or `eps` is not a finite number > 0.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { swiftPruneScoresReference } from "./swiftprune.ts";
 * // x = (3, 4), S = 25: factors 1/(1 - 9/25) = 25/16 and 1/(1 - 16/25) = 25/9 (eps tiny)
 * const s = swiftPruneScoresReference(fromRows([[4, 3]]), { colNorms: new Float32Array([3, 4]) });
 * assert.ok(Math.abs(s.data[0] - 25) < 1e-4 && Math.abs(s.data[1] - 25) < 1e-4);
 * ```
 */
export function swiftPruneScoresReference(
  weight: Matrix,
  calib: SwiftPruneCalibration,
  options: SwiftPruneOptions = {},
): Matrix {
  const { xStat, eps, inputs } = checkOptions(weight, calib, options);
  const { rows, cols } = weight;
  const out = new Float32Array(rows * cols);
  if (xStat === "token") {
    const X = inputs!;
    const tokenEnergy = new Float64Array(X.rows); // S_t = sum_k X_tk^2
    for (let t = 0; t < X.rows; t++) {
      for (let k = 0; k < cols; k++) tokenEnergy[t] += X.data[t * cols + k] ** 2;
    }
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        let sum = 0;
        for (let t = 0; t < X.rows; t++) {
          sum += rankOneFactor(X.data[t * cols + j], tokenEnergy[t], eps);
        }
        out[i * cols + j] = weight.data[i * cols + j] ** 2 * sum; // W_ij^2 sum_t 1/(1 - X_tj^2/S_t)
      }
    }
    return { data: out, rows, cols };
  }
  const x = statistic(xStat, calib, true);
  let energy = 0;
  for (let k = 0; k < cols; k++) energy += x[k] * x[k]; // S = sum_k x_k^2
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      out[i * cols + j] = weight.data[i * cols + j] ** 2 * rankOneFactor(x[j], energy, eps); // L_ij
    }
  }
  return { data: out, rows, cols };
}

/** `factor[j]` for every column: the per-column multiplier of `W_ij^2`. */
function columnFactors(
  xStat: XStat,
  calib: SwiftPruneCalibration,
  eps: number,
  cols: number,
): Float64Array {
  const factor = new Float64Array(cols);
  if (xStat === "token") {
    const { data, rows: tokens } = calib.inputs!;
    for (let t = 0; t < tokens; t++) {
      const base = t * cols;
      let tokenEnergy = 0;
      for (let k = 0; k < cols; k++) tokenEnergy += data[base + k] * data[base + k];
      for (let j = 0; j < cols; j++) factor[j] += rankOneFactor(data[base + j], tokenEnergy, eps);
    }
    return factor;
  }
  const x = statistic(xStat, calib, false);
  let energy = 0;
  for (let k = 0; k < cols; k++) energy += x[k] * x[k];
  for (let j = 0; j < cols; j++) factor[j] = rankOneFactor(x[j], energy, eps);
  return factor;
}

/**
 * SwiftPrune scores `L_ij = W_ij^2 / (1 - x_j^2 / (S + eps S))` in O(rows * cols + tokens * cols):
 * one factor per column, then one multiply per weight.
 *
 * @param weight `W` `[rows, cols]`.
 * @param calib `{ inputs }` `[tokens, cols]` or, for `"norm"`, `{ colNorms }`.
 * @param options `xStat` (default `"norm"`) and the relative `eps` (default 1e-8).
 * @returns Scores `[rows, cols]`, equal to {@link swiftPruneScoresReference} up to float rounding.
 * @throws {TypeError} If shapes do not match or the statistic needed is missing.
 * @throws {RangeError} If `xStat` is unknown or `eps` is not a finite number > 0.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { swiftPruneScores } from "./swiftprune.ts";
 * const w = fromRows([[1, 1, 1]]);
 * const x = fromRows([[10, 0, 0], [0, 1, 0]]); // channel 0 dominates
 * const norm = swiftPruneScores(w, { inputs: x });
 * assert.ok(norm.data[0] > norm.data[1] && norm.data[1] > norm.data[2]);
 * assert.throws(() => swiftPruneScores(w, {}, { xStat: "token" }), TypeError);
 * ```
 */
export function swiftPruneScores(
  weight: Matrix,
  calib: SwiftPruneCalibration,
  options: SwiftPruneOptions = {},
): Matrix {
  const { xStat, eps } = checkOptions(weight, calib, options);
  const { data, rows, cols } = weight;
  const factor = columnFactors(xStat, calib, eps, cols);
  const out = new Float32Array(rows * cols);
  for (let i = 0, t = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++, t++) out[t] = data[t] * data[t] * factor[j];
  }
  return { data: out, rows, cols };
}

/**
 * The SwiftPrune method: scores `W_ij^2 / (1 - x_j^2 / (S + eps))` (OUR READING), selects per row
 * (the default; the paper's exact EWMA selector is `--select ewma-exact`), mask only. For the
 * `"norm"` reading the inputs are reduced to their column norms once per layer (the same float32
 * function the scores use, so the result is the same bitwise).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { swiftpruneMethod } from "./swiftprune.ts";
 * const target = { kind: "unstructured", sparsity: 0.5, group: "row" } as const;
 * const r = swiftpruneMethod.prune(fromRows([[1, 1]]), { inputs: fromRows([[10, 0], [0, 1]]) }, target);
 * assert.deepEqual(Array.from(r.keep), [1, 0]); // the dominant channel is kept
 * assert.deepEqual(swiftpruneMethod.options.map((o) => o.flag), ["select", "x-stat", "eps"]);
 * ```
 */
export const swiftpruneMethod: MethodDescriptor<ScoreSelectInfo> = scoreThenSelect({
  name: "swiftprune",
  title: "SwiftPrune W_ij^2 / (1 - x_j^2 / (S + eps)) (Kang et al., arXiv:2501.16376v2)",
  calibration: "inputs, or col_norms for --x-stat norm",
  options: [
    {
      flag: "x-stat",
      key: "xStat",
      arg: "STAT",
      help: "swiftprune's x: norm | token | mean",
      default: "norm",
      parse: oneOf<XStat>("x-stat", X_STATS),
    },
    {
      flag: "eps",
      key: "eps",
      arg: "E",
      help: "swiftprune's relative ridge, > 0",
      default: String(SWIFTPRUNE_DEFAULT_EPS),
      parse: (text) => {
        const eps = finiteAtLeastZero("eps")(text);
        if (eps === 0) throw new RangeError(`--eps must be a finite number > 0, got "${text}"`);
        return eps;
      },
    },
  ],
  columns: (weight, calib, options): SwiftPruneCalibration => {
    const { inputs, colNorms } = calib ?? {};
    const norm = (options.xStat ?? "norm") === "norm";
    if (norm && inputs?.cols === weight.cols && inputs.data instanceof Float32Array) {
      return { colNorms: columnNorms(inputs) }; // inputs win over colNorms, as in the scores
    }
    return { inputs, colNorms }; // the scores check and report what does not fit
  },
  score: (weight, columns: SwiftPruneCalibration, options) =>
    swiftPruneScores(weight, columns, {
      xStat: options.xStat as XStat | undefined,
      eps: options.eps as number | undefined,
    }),
  scoreReference: (weight, calib, options) =>
    swiftPruneScoresReference(weight, calib, {
      xStat: options.xStat as XStat | undefined,
      eps: options.eps as number | undefined,
    }),
});
