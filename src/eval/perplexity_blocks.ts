/**
 * Perplexity computed block by block, for a model whose blocks are not all in memory at once
 * (a streamed prune, `PruneModelOptions.blocks`): every evaluation window's hidden states are
 * kept (`windows x seqlen x dim` floats), each block is applied to all of them when it is given,
 * and the logits and the protocol's sums (`perplexity.ts`) come at the end. The same operations as
 * {@link perplexity} in another order, so the same numbers bit for bit (a test checks it).
 *
 * @module
 */
import type { Block, Model } from "../model/family.ts";
import { embed, logits } from "../model/model.ts";
import { threadWorkspace } from "../model/workspace.ts";
import { runBlockWindows } from "../pipeline/block_run.ts";
import type { Matrix } from "../tensor/matrix.ts";
import {
  perplexityOfLogits,
  type PerplexityOptions,
  type PerplexityResult,
  perplexityWindows,
} from "./perplexity.ts";

/** A perplexity fed one block at a time ({@link blockPerplexity}). */
export interface BlockPerplexity {
  /** Applies block `layer` (layers in order 0, 1, ...) to every window. */
  advance(layer: number, block: Block): void;
  /**
   * {@link advance} with block `layer`'s forward of the windows' hidden states done by `run` (e.g.
   * on workers: `blockForwardWindows` of `src/parallel/forward_parallel.ts`, same outputs).
   */
  advanceWith(layer: number, run: (h: Matrix[]) => Promise<Matrix[]>): Promise<void>;
  /** After the last block: the final norm, head and the protocol's sums. */
  finish(): PerplexityResult;
}

/**
 * Starts a block-by-block perplexity: the windows are embedded now (the model's embeddings are
 * needed here and its head at `finish`; its blocks are not read).
 *
 * @param model The model's embeddings, head and config (its blocks may be placeholders).
 * @param ids The whole text encoded once.
 * @param options As `perplexity`.
 * @returns The evaluation to feed with {@link BlockPerplexity.advance}.
 * @throws {TypeError} {RangeError} As `perplexity`; `advance` out of order is a RangeError.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockPerplexity } from "./perplexity_blocks.ts";
 * import { perplexity } from "./perplexity.ts";
 * import { tinyLlama } from "../model/llama.ts";
 * const model = tinyLlama({ seed: 1 }), ids = Int32Array.from({ length: 12 }, (_, i) => (i * 5) % 16);
 * const p = blockPerplexity(model, ids, { seqlen: 4 });
 * model.blocks.forEach((b, l) => p.advance(l, b));
 * assert.equal(p.finish().ppl, perplexity(model, ids, { seqlen: 4 }).ppl);
 * ```
 */
export function blockPerplexity(
  model: Model,
  ids: Int32Array,
  options: PerplexityOptions,
): BlockPerplexity {
  const windows = perplexityWindows(ids, options), { seqlen } = options;
  let h: Matrix[] = Array.from(
    { length: windows },
    (_, w) => embed(model, ids.subarray(w * seqlen, (w + 1) * seqlen)),
  );
  let next = 0;
  const checkNext = (layer: number) => {
    if (layer !== next) {
      throw new RangeError(`Cannot evaluate block ${layer}: block ${next} comes next`);
    }
  };
  return {
    advance(layer, block) {
      checkNext(layer);
      h = runBlockWindows(model, layer, h, { block, capture: false }).outputs;
      next++;
    },
    async advanceWith(layer, run) {
      checkNext(layer);
      h = await run(h);
      next++;
    },
    finish() {
      if (next !== model.config.nLayers) {
        throw new RangeError(
          `Cannot finish the evaluation: ${next} of ${model.config.nLayers} blocks applied`,
        );
      }
      const ws = threadWorkspace(seqlen);
      return perplexityOfLogits(ids, options, (w) => logits(model, h[w], ws));
    },
  };
}
