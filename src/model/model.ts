/**
 * The forward pass of a model of any family, through its family description (`families.ts`):
 * `forward = logits(blocks(embed(tokens)))`, and what the pipeline asks of a model in general
 * (its prunable linears, their sizes).
 *
 * @module
 */
import type { Matrix } from "../tensor/matrix.ts";
import { familyOf } from "./families.ts";
import { type ForwardHooks, linearOf, type LinearSpec, type Model } from "./family.ts";
import type { ForwardWorkspace } from "./workspace.ts";

/**
 * The embeddings of a sequence (`[T, dim]`; with `ws`, a view of it).
 *
 * @param model Any model.
 * @param tokens Token ids, each in `[0, vocab)`.
 * @param ws Optional workspace.
 * @returns `[T, dim]`.
 * @throws {RangeError} If a token id is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embed } from "./model.ts";
 * import { tinyLlama } from "./llama.ts";
 * assert.equal(embed(tinyLlama({ seed: 1 }), [1, 2]).rows, 2);
 * ```
 */
export function embed(model: Model, tokens: ArrayLike<number>, ws?: ForwardWorkspace): Matrix {
  return familyOf(model).embed(model, tokens, ws);
}

/**
 * Block `layer` of any model over one sequence (see `Family.blockForward`).
 *
 * @param model Any model.
 * @param layer Block index.
 * @param h Hidden states `[T, dim]` (not modified).
 * @param hooks Optional hooks on the linears' inputs.
 * @param ws Optional workspace.
 * @returns `[T, dim]`.
 * @throws {RangeError} If `layer` is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockForward, embed } from "./model.ts";
 * import { tinyLlama } from "./llama.ts";
 * const w = tinyLlama({ seed: 1 });
 * assert.equal(blockForward(w, 0, embed(w, [1, 2])).cols, w.config.dim);
 * ```
 */
export function blockForward(
  model: Model,
  layer: number,
  h: Matrix,
  hooks?: ForwardHooks,
  ws?: ForwardWorkspace,
): Matrix {
  return familyOf(model).blockForward(model, layer, h, hooks, ws);
}

/**
 * The final norm and head of any model.
 *
 * @param model Any model.
 * @param h Hidden states after the last block.
 * @param ws Optional workspace.
 * @returns Logits `[T, vocab]`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embed, logits } from "./model.ts";
 * import { tinyLlama } from "./llama.ts";
 * const w = tinyLlama({ seed: 1 });
 * assert.equal(logits(w, embed(w, [1])).cols, 16);
 * ```
 */
export function logits(model: Model, h: Matrix, ws?: ForwardWorkspace): Matrix {
  return familyOf(model).logits(model, h, ws);
}

/**
 * The whole model over one sequence, causal, positions 0..T-1.
 *
 * @param model Any model.
 * @param tokens Token ids.
 * @param hooks Optional hooks, passed to every block.
 * @param ws Optional workspace (then the logits are a view of it).
 * @returns Logits `[T, vocab]`; row t predicts token t+1.
 * @throws {RangeError} If a token id is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forward, forwardReference } from "./model.ts";
 * import { tinyLlama } from "./llama.ts";
 * import { allClose } from "../check/all_close.ts";
 * const w = tinyLlama({ seed: 2 });
 * assert.ok(allClose(forward(w, [1, 4, 9]).data, forwardReference(w, [1, 4, 9]).data, { atol: 1e-5, rtol: 1e-4 }).ok);
 * ```
 */
export function forward(
  model: Model,
  tokens: ArrayLike<number>,
  hooks?: ForwardHooks,
  ws?: ForwardWorkspace,
): Matrix {
  const family = familyOf(model);
  let h = family.embed(model, tokens, ws);
  for (let layer = 0; layer < model.config.nLayers; layer++) {
    h = family.blockForward(model, layer, h, hooks, ws);
  }
  return family.logits(model, h, ws);
}

/**
 * The family's plain token-at-a-time forward pass, the oracle of {@link forward}.
 *
 * @param model Any model.
 * @param tokens Token ids.
 * @returns Logits `[T, vocab]`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forwardReference } from "./model.ts";
 * import { tinyLlama } from "./llama.ts";
 * assert.equal(forwardReference(tinyLlama({ seed: 1 }), [1, 2]).rows, 2);
 * ```
 */
export function forwardReference(model: Model, tokens: ArrayLike<number>): Matrix {
  return familyOf(model).forwardReference(model, tokens);
}

/**
 * The prunable linears of the model's blocks (its family's specs).
 *
 * @param model Any model.
 * @returns The specs, in forward order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearsOf } from "./model.ts";
 * import { tinyLlama } from "./llama.ts";
 * assert.equal(linearsOf(tinyLlama({ seed: 1 })).length, 7);
 * ```
 */
export function linearsOf(model: Model): readonly LinearSpec[] {
  return familyOf(model).linears(model.config);
}

/**
 * Number of weights in the linear layers that are pruned (every block's).
 *
 * @param model Any model.
 * @returns The count.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "./llama.ts";
 * import { prunableWeights } from "./model.ts";
 * // dim 8, kv_dim 4, hidden 12, 2 blocks: (8*8 + 2*4*8 + 8*8 + 3*12*8) * 2
 * assert.equal(prunableWeights(tinyLlama({ seed: 1 })), 960);
 * ```
 */
export function prunableWeights(model: Model): number {
  const specs = linearsOf(model);
  return model.blocks.reduce(
    (s, b) =>
      s + specs.reduce((t, { name }) => t + linearOf(b, name).rows * linearOf(b, name).cols, 0),
    0,
  );
}

/**
 * The widest input of a prunable linear (columns), e.g. to bound the captured inputs' size.
 *
 * @param model Any model.
 * @returns The largest `cols` of a prunable linear of block 0.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "./llama.ts";
 * import { widestLinearInput } from "./model.ts";
 * assert.equal(widestLinearInput(tinyLlama({ seed: 1 })), 12); // w2 reads the hidden width
 * ```
 */
export function widestLinearInput(model: Model): number {
  const block = model.blocks[0];
  return Math.max(...linearsOf(model).map((s) => linearOf(block, s.name).cols));
}
