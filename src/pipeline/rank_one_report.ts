/**
 * Is a rank-one matrix a good stand-in for `X^T X` on a real model? For every block and every
 * distinct linear input (`wq` for q/k/v, `wo`, `w1` for gate/up, `w2`), on calibration windows:
 *
 * - the largest share of the energy on one channel, `max_j x_j^2 / S`, which bounds SwiftPrune's
 *   factor `1 / (1 - x_j^2 / S)`;
 * - the spectrum's concentration (`src/linalg/rank_one.ts`): the share of `tr(X^T X)` held by its
 *   top eigenvalue, the error of the best rank-one approximation, and the errors of SwiftPrune's two
 *   stand-ins, `x x^T` with `x` the column norms ("norm") or `sqrt(tokens)` times the mean token
 *   ("mean", whose share of the trace is the energy of the mean);
 * - what matters for pruning: how often the per-row mask of each cheap score equals the mask of the
 *   full-Hessian OBS saliency `W_ij^2 / [H^-1]_jj` (`src/score/obs_diagonal.ts`) at the same
 *   sparsity. Magnitude stands in `I` for `H`, Wanda its diagonal, SwiftPrune `x x^T + ridge`.
 *
 * Every block sees the dense model's activations (nothing is pruned here).
 *
 * @module
 */
import { rankOneFit } from "../linalg/rank_one.ts";
import type { LinearName, LlamaWeights } from "../model/weights.ts";
import { INPUT_OF, LINEAR_NAMES } from "../model/weights.ts";
import { HessianAccumulator } from "../prune/sparsegpt.ts";
import { magnitudeMethod } from "../score/magnitude.ts";
import { obsDiagonalScores } from "../score/obs_diagonal.ts";
import { swiftpruneMethod } from "../score/swiftprune.ts";
import { columnNorms, wandaMethod } from "../score/wanda.ts";
import type { MethodDescriptor, MethodOptions } from "../prune/method.ts";
import { buildMask } from "../select/mask.ts";
import { denseBlockInputs } from "./dense_inputs.ts";
import type { Matrix } from "../tensor/matrix.ts";

/** A cheap score compared with the full-Hessian OBS mask: a method's descriptor, its options, and
 * whether it is given the column norms or the inputs themselves. */
export interface RankOneScore {
  label: string;
  method: MethodDescriptor;
  options: MethodOptions;
  reads: "colNorms" | "inputs";
}

/** The cheap scores whose masks are compared with the full-Hessian OBS mask (the table's columns). */
export const RANK_ONE_SCORES: readonly RankOneScore[] = [
  { label: "magnitude", method: magnitudeMethod, options: {}, reads: "colNorms" },
  { label: "wanda", method: wandaMethod, options: {}, reads: "colNorms" },
  { label: "swiftprune", method: swiftpruneMethod, options: {}, reads: "colNorms" },
  {
    label: "swiftprune-mean",
    method: swiftpruneMethod,
    options: { xStat: "mean" },
    reads: "inputs",
  },
];

/** One block's distinct linear input: its spectrum and the mask agreements of its linears. */
export interface RankOneRow {
  block: number;
  /** The distinct input, named by its first linear (`wq`, `wo`, `w1`, `w2`). */
  input: LinearName;
  /** The linears that read it. */
  linears: LinearName[];
  cols: number;
  tokens: number;
  /** `lambda_1 / tr(X^T X)`. */
  topShare: number;
  /** Relative Frobenius error of the best rank-one approximation. */
  bestError: number;
  /** Relative Frobenius error of `x x^T`, `x` = column norms (SwiftPrune's default reading). */
  normError: number;
  /** `max_j x_j^2 / S`: the largest share of the energy on one channel (SwiftPrune's factor is at
   * most `1 / (1 - that)`). */
  maxChannelShare: number;
  /** `tokens ||mean||^2 / tr(X^T X)`: the share of the energy in the mean token. */
  meanShare: number;
  /** Relative Frobenius error of `tokens mean mean^T` (the "mean" reading). */
  meanError: number;
  /** Per score, the fraction of mask entries (over the linears) equal to the OBS mask's. */
  agreement: Record<string, number>;
}

/**
 * Measures every block's linear inputs of a model on calibration windows.
 *
 * @param weights The model (not mutated).
 * @param windows Calibration windows of token ids.
 * @param options `sparsity` of the per-row masks compared (default 0.5); `blocks` to measure
 *   (default all).
 * @returns One row per block and distinct input, in block order then `wq, wo, w1, w2`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "../model/llama.ts";
 * import { rankOneReport } from "./rank_one_report.ts";
 * const rows = rankOneReport(tinyLlama({ seed: 1 }), [Int32Array.from([1, 5, 7, 2, 9, 3])]);
 * assert.deepEqual(rows.map((r) => r.input).slice(0, 4), ["wq", "wo", "w1", "w2"]);
 * assert.ok(rows.every((r) => r.topShare > 0 && r.topShare <= 1 + 1e-9 && r.bestError <= r.normError));
 * ```
 */
export function rankOneReport(
  weights: LlamaWeights,
  windows: Int32Array[],
  options: { sparsity?: number; blocks?: number[] } = {},
): RankOneRow[] {
  const target = { kind: "unstructured", sparsity: options.sparsity ?? 0.5, group: "row" } as const;
  const rows: RankOneRow[] = [];
  for (const { block, inputs } of denseBlockInputs(weights, windows, options.blocks)) {
    for (const [input, x] of inputs) rows.push(measureInput(weights, block, input, x, target));
  }
  return rows;
}

function measureInput(
  weights: LlamaWeights,
  block: number,
  input: LinearName,
  inputs: Matrix,
  target: { kind: "unstructured"; sparsity: number; group: "row" },
): RankOneRow {
  const cols = inputs.cols, acc = new HessianAccumulator(cols);
  acc.add(inputs); //                                                      G = X^T X (float64)
  const tokens = acc.tokens, gram = acc.gram;
  const norms = Array.from({ length: cols }, (_, j) => Math.sqrt(gram[j * cols + j]));
  const sum = new Float64Array(cols);
  for (let t = 0; t < tokens; t++) {
    for (let j = 0; j < cols; j++) sum[j] += inputs.data[t * cols + j];
  }
  const meanVector = Array.from(sum, (s) => s / Math.sqrt(tokens)); // sqrt(tokens) * mean
  const norm = rankOneFit(gram, cols, norms), mean = rankOneFit(gram, cols, meanVector);
  const linears = LINEAR_NAMES.filter((n) => INPUT_OF[n] === input);
  const equal: Record<string, number> = Object.fromEntries(
    RANK_ONE_SCORES.map((s) => [s.label, 0]),
  );
  let total = 0;
  const colNorms = columnNorms(inputs); //                                 as Wanda and SwiftPrune compute them
  for (const name of linears) {
    const w = weights.blocks[block][name];
    const reference = buildMask(obsDiagonalScores(w, gram), target).keep;
    for (const { label, method, options, reads } of RANK_ONE_SCORES) {
      const calib = reads === "colNorms" ? { colNorms } : { inputs };
      const keep = buildMask(method.score!(w, calib, options), target).keep;
      for (let t = 0; t < keep.length; t++) equal[label] += keep[t] === reference[t] ? 1 : 0;
    }
    total += w.data.length;
  }
  for (const { label } of RANK_ONE_SCORES) equal[label] /= total;
  return {
    block,
    input,
    linears,
    cols,
    tokens,
    topShare: norm.topShare,
    bestError: norm.bestError,
    normError: norm.standInError,
    maxChannelShare: Math.max(...norms.map((x) => x * x)) / norm.trace,
    meanShare: mean.xShare,
    meanError: mean.standInError,
    agreement: equal,
  };
}
