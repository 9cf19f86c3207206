/**
 * The calibration inputs of every linear layer of a dense model, block by block: for measurements
 * that need each layer's `X` (`rank_one_report.ts`, `deno task fista-xi`), without pruning anything.
 * Each block runs on the dense outputs of the block before it; one block's inputs are held at a time.
 *
 * @module
 */
import { embed } from "../model/llama.ts";
import type { DistinctInput, LlamaWeights } from "../model/weights.ts";
import { runBlockWindows } from "./block_run.ts";
import type { Matrix } from "../tensor/matrix.ts";

/** One block's inputs: `X` `[tokens, cols]` per distinct input, the windows' rows stacked. */
export interface BlockInputs {
  block: number;
  inputs: Map<DistinctInput, Matrix>;
}

/**
 * Yields the inputs of blocks `0 .. last` of `blocks` (those listed), in block order.
 *
 * @param weights The model (not mutated).
 * @param windows Calibration windows of token ids.
 * @param blocks The blocks whose inputs are wanted (default all).
 * @returns A generator of {@link BlockInputs}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "../model/llama.ts";
 * import { denseBlockInputs } from "./dense_inputs.ts";
 * const w = tinyLlama({ seed: 1 });
 * const [first] = denseBlockInputs(w, [Int32Array.from([1, 2, 3]), Int32Array.from([4, 5])], [0]);
 * assert.deepEqual([...first.inputs.keys()], ["wq", "wo", "w1", "w2"]);
 * assert.equal(first.inputs.get("wq")!.rows, 5); // 3 + 2 tokens
 * ```
 */
export function* denseBlockInputs(
  weights: LlamaWeights,
  windows: Int32Array[],
  blocks: number[] = Array.from({ length: weights.config.nLayers }, (_, l) => l),
): Generator<BlockInputs> {
  const last = Math.max(-1, ...blocks);
  let hidden = windows.map((w) => embed(weights, w));
  for (let l = 0; l <= last; l++) {
    const wanted = blocks.includes(l);
    const run = runBlockWindows(weights, l, hidden, { capture: wanted }); // the pipeline's forward
    hidden = run.outputs;
    if (!wanted) continue;
    const inputs = new Map<DistinctInput, Matrix>();
    for (const [name, x] of Object.entries(run.inputs)) inputs.set(name as DistinctInput, x!);
    yield { block: l, inputs };
  }
}
