/**
 * How much FISTAPruner's result depends on `xi`, the threshold of its lambda search
 * (`docs/fistapruner.md` §3): every linear operator of the chosen blocks of a dense model is pruned
 * by `fistaPruner` once per `xi`, on the same calibration inputs and from the same (Wanda) warm
 * start, and its layer error `E_total / ||X W^T||^2` is recorded. The inputs are the dense model's
 * and `X* = X` (no intra-layer order), so that only `xi` changes between runs.
 *
 * @module
 */
import { LINEAR_NAMES, type LlamaWeights } from "../model/weights.ts";
import { INPUT_OF } from "../model/weights.ts";
import { fistaGramAccumulator, type FistaGrams, fistaPruner } from "../prune/fistapruner.ts";
import type { Target } from "../prune/types.ts";
import { denseBlockInputs } from "./dense_inputs.ts";

/** One operator's relative layer errors: of its warm start, and of FISTAPruner per `xi`. */
export interface FistaXiRow {
  /** `"L0 wq"`: block and linear. */
  label: string;
  /** `E_total / ||X W^T||^2` of the rounded warm start. */
  warm: number;
  /** `E_total / ||X W^T||^2` of the result, one per `xi` (in the order given). */
  errors: number[];
}

/**
 * Prunes every linear operator of `blocks` once per `xi` and records the relative layer errors.
 *
 * @param weights The model (not mutated).
 * @param windows Calibration windows.
 * @param xis The thresholds to compare.
 * @param options `target` (default 50% unstructured, rounded per operator), `blocks` (default all).
 * @returns One row per operator, block by block in linear order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "../model/llama.ts";
 * import { fistaXiReport } from "./fista_xi_report.ts";
 * const rows = fistaXiReport(tinyLlama({ seed: 1 }), [Int32Array.from([1, 5, 7, 2, 9, 3])], [0.1, 0.3]);
 * assert.equal(rows[0].label, "L0 wq");
 * assert.ok(rows.every((r) => r.errors.every((e) => e <= r.warm + 1e-6))); // never worse than the warm start
 * ```
 */
export function fistaXiReport(
  weights: LlamaWeights,
  windows: Int32Array[],
  xis: number[],
  options: { target?: Target; blocks?: number[] } = {},
): FistaXiRow[] {
  const target = options.target ??
    { kind: "unstructured", sparsity: 0.5, group: "row" } as const;
  const rows: FistaXiRow[] = [];
  for (const { block, inputs } of denseBlockInputs(weights, windows, options.blocks)) {
    const grams = new Map<string, FistaGrams>();
    for (const [name, x] of inputs) {
      const acc = fistaGramAccumulator(x.cols);
      acc.add(x); //                                                          X* = X
      grams.set(name, acc.grams());
    }
    for (const name of LINEAR_NAMES) {
      const weight = weights.blocks[block][name], g = grams.get(INPUT_OF[name])!;
      let warm = NaN;
      const errors = xis.map((xi) => {
        const info = fistaPruner(weight, g, target, { xi }).info!;
        warm = info.warmStartLayerError / info.outputEnergy;
        return info.layerError / info.outputEnergy;
      });
      rows.push({ label: `L${block} ${name}`, warm, errors });
    }
  }
  return rows;
}
