/**
 * The sparsity found in a model's weights: the share of exact zeros in each prunable linear
 * operator (`layers.L.wq` ... `layers.L.w2`) and overall. It reads what a checkpoint holds, so a
 * pruned model saved by any tool can be checked, and compared with its dense original.
 *
 * @module
 */
import { linearOf, type Model } from "../model/family.ts";
import { linearsOf } from "../model/model.ts";

/** Zeros of one operator. */
export interface OperatorSparsity {
  /** `layers.L.NAME`, as in the pruning report. */
  name: string;
  rows: number;
  cols: number;
  /** Weights that are exactly 0 (also -0). */
  zeros: number;
  /** `zeros / (rows x cols)`. */
  sparsity: number;
}

/**
 * Counts the zeros of every prunable operator of `weights`.
 *
 * @param weights The model.
 * @returns Per operator, in block then operator order, and the total over all of them.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "../model/llama.ts";
 * import { weightSparsity } from "./sparsity.ts";
 * const w = tinyLlama({ seed: 1 });
 * w.blocks[0].wq.data.fill(0, 0, 16); // 16 of wq's 64 weights
 * const s = weightSparsity(w);
 * assert.deepEqual(s.operators[0], { name: "layers.0.wq", rows: 8, cols: 8, zeros: 16, sparsity: 0.25 });
 * assert.equal(s.zeros, 16);
 * assert.equal(s.sparsity, 16 / s.weights);
 * ```
 */
export function weightSparsity(
  weights: Model,
): { operators: OperatorSparsity[]; zeros: number; weights: number; sparsity: number } {
  const operators: OperatorSparsity[] = [];
  let zeros = 0, total = 0;
  weights.blocks.forEach((block, l) => {
    for (const { name } of linearsOf(weights)) {
      const { rows, cols, data } = linearOf(block, name);
      let z = 0;
      for (let i = 0; i < data.length; i++) if (data[i] === 0) z++;
      operators.push({
        name: `layers.${l}.${name}`,
        rows,
        cols,
        zeros: z,
        sparsity: z / data.length,
      });
      zeros += z;
      total += data.length;
    }
  });
  return { operators, zeros, weights: total, sparsity: total > 0 ? zeros / total : 0 };
}
