/**
 * The calibration inputs of every linear layer of a dense model, block by block: for measurements
 * that need each layer's `X` (`rank_one_report.ts`, `deno task fista-xi`), without pruning anything.
 * Each block runs on the dense outputs of the block before it; one block's inputs are held at a time.
 *
 * @module
 */
import { blockForward, embed } from "../model/llama.ts";
import {
  type DistinctInput,
  INPUT_OF,
  type LinearName,
  type LlamaWeights,
} from "../model/weights.ts";
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
    const parts = new Map<DistinctInput, Matrix[]>();
    const wanted = blocks.includes(l);
    hidden = hidden.map((h) =>
      blockForward(weights, l, h, {
        onLinearInput: (_, name, x) => {
          if (!wanted || INPUT_OF[name as LinearName] !== name) return; // one per distinct input
          const list = parts.get(name as DistinctInput) ?? [];
          list.push({ data: x.data.slice(), rows: x.rows, cols: x.cols });
          parts.set(name as DistinctInput, list);
        },
      })
    );
    if (!wanted) continue;
    const inputs = new Map<DistinctInput, Matrix>();
    for (const [name, list] of parts) {
      const cols = list[0].cols, rows = list.reduce((n, x) => n + x.rows, 0);
      const data = new Float32Array(rows * cols);
      let offset = 0;
      for (const x of list) (data.set(x.data, offset), offset += x.data.length);
      inputs.set(name, { data, rows, cols });
    }
    yield { block: l, inputs };
  }
}
