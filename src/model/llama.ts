/**
 * The Llama family (`LlamaForCausalLM`: Llama 2, Touvron et al., arXiv:2307.09288v2, and Llama 3;
 * Qwen2 reuses it with q/k/v biases, `qwen2.ts`): the forward pass as llama2.c's `run.c` computes
 * it, over whole sequences so the pruning pipeline can run it block by block and capture the input
 * of every linear layer, and the family description ({@link llamaFamily}) the pipeline reads.
 *
 * One block, for the hidden states `h` `[T, dim]` of a sequence of T tokens:
 *
 *     x   = RMSNorm(h) * rmsAtt                       RMSNorm(h) = h / sqrt(mean(h^2) + eps)
 *     q, k, v = x Wq^T, x Wk^T, x Wv^T  (+ biases)    (k, v: nKvHeads heads, grouped-query)
 *     q, k = RoPE(q), RoPE(k)                         rotate pairs (2i, 2i+1) of each head by
 *                                                     pos * theta^(-2i / headSize) (Llama 3.1:
 *                                                     frequencies rescaled, `ropeScaling`)
 *     a   = softmax(q k^T / sqrt(headSize) + causal) v, per head; query head h reads kv head
 *                                                     floor(h / (nHeads / nKvHeads))
 *     h'  = h + a Wo^T
 *     y   = h' + W2 (silu(W1 x') * W3 x'),  x' = RMSNorm(h') * rmsFfn      (SwiGLU)
 *
 * then `logits = (RMSNorm(h_L) * rmsFinal) Wcls^T`. RoPE rotates ADJACENT pairs as llama2.c does
 * (HF's layout rotates halves; `src/io/hf_llama.ts` permutes q/k rows to convert).
 *
 * | paper / run.c            | code                              |
 * | ------------------------ | --------------------------------- |
 * | `x` (token embeddings)   | `embed(weights, tokens)`          |
 * | `rms_att_weight`         | `block.rmsAtt`                    |
 * | `wq, wk, wv, wo`         | `block.wq` ... (`[out, in]`)      |
 * | `w1, w2, w3`             | `block.w1` (gate), `w2` (down), `w3` (up) |
 * | `wcls`                   | `weights.classifier`              |
 *
 * {@link forward} uses `linearInto` for every linear layer (writing into a
 * {@link ForwardWorkspace} when given one); {@link forwardReference} is a plain token-at-a-time
 * twin with a KV cache (run.c's `forward`), the correctness reference.
 *
 * @module
 */
import { linearInto } from "../linalg/matmul.ts";
import { createRng, randn } from "../tensor/rng.ts";
import type { Matrix } from "../tensor/matrix.ts";
import type { Family, ForwardHooks, LinearSpec } from "./family.ts";
import { llamaHfFamily } from "../io/hf_llama.ts";
import {
  addBias,
  addInto,
  attendOne,
  attention,
  checkBlockRun,
  checkTokens,
  matvec,
  rmsNorm,
  rmsNormRows,
  ropeAdjacent,
} from "./layers.ts";
import type { LinearName, LlamaBlock, LlamaConfig, LlamaWeights } from "./weights.ts";
import { type ForwardWorkspace, workspaceTensor as tensor } from "./workspace.ts";

export type { ForwardHooks } from "./family.ts";

/** Width of one attention head: `headDim` if set, else `dim / nHeads`. */
export function headSizeOf(config: Pick<LlamaConfig, "dim" | "nHeads" | "headDim">): number {
  return config.headDim ?? config.dim / config.nHeads;
}

/**
 * The inverse frequency of rotary pair `i` of a head: `theta^(-2i / headSize)`, then Llama 3.1's
 * scaling when the config has one (see `Llama3RopeScaling` in `weights.ts`).
 */
function ropeFrequency(config: LlamaConfig, inverse: number): number {
  const s = config.ropeScaling;
  if (s === undefined) return inverse;
  const wavelength = (2 * Math.PI) / inverse;
  const lowWavelength = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highWavelength = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  if (wavelength < highWavelength) return inverse; // high frequencies: kept
  if (wavelength > lowWavelength) return inverse / s.factor; // low frequencies: slowed
  const smooth = (s.originalMaxPositionEmbeddings / wavelength - s.lowFreqFactor) /
    (s.highFreqFactor - s.lowFreqFactor);
  return (1 - smooth) * (inverse / s.factor) + smooth * inverse; // between: interpolated
}

/** The `headSize / 2` inverse frequencies of RoPE for `config`. */
function ropeFrequencies(config: LlamaConfig): Float64Array {
  const headSize = headSizeOf(config);
  return Float64Array.from(
    { length: headSize / 2 },
    (_, i) => ropeFrequency(config, Math.pow(config.ropeTheta, -(2 * i) / headSize)),
  );
}

/** Every linear's `[rows, cols]` for `config`. */
function linearShapes(config: LlamaConfig): [LinearName, number, number][] {
  const headSize = headSizeOf(config), d = config.dim, f = config.hiddenDim;
  const qDim = config.nHeads * headSize, kvDim = config.nKvHeads * headSize;
  return [
    ["wq", qDim, d],
    ["wk", kvDim, d],
    ["wv", kvDim, d],
    ["wo", d, qDim],
    ["w1", f, d],
    ["w3", f, d],
    ["w2", d, f],
  ];
}

/**
 * How many values one decoder block's forward pass produces over `tokens` tokens when every
 * intermediate tensor is kept, as a framework's autograd graph would: the input `h`, `x`, `q`, `k`,
 * `v`, the attention output, `a Wo^T`, `h'`, `x'`, the gate `W1 x'`, the up projection `W3 x'`,
 * `silu(gate) * up`, `W2 (...)` and the output (attention scores excluded). That is
 * `tokens * (9 dim + 2 kvDim + 3 hidden)`, the "one block's activations" of the memory bound
 * (docs/memory.md); this forward pass itself never holds all of them at once.
 *
 * @param config The model's config.
 * @param tokens Tokens run through the block (all calibration windows together).
 * @returns The number of values (multiply by 4 for float32 bytes).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockActivationCount } from "./llama.ts";
 * const llama4m = { dim: 256, hiddenDim: 704, nHeads: 8, nKvHeads: 4 };
 * assert.equal(blockActivationCount(llama4m, 1), 9 * 256 + 2 * 128 + 3 * 704);
 * ```
 */
export function blockActivationCount(
  config: Pick<LlamaConfig, "dim" | "hiddenDim" | "nHeads" | "nKvHeads" | "headDim">,
  tokens: number,
): number {
  const kvDim = config.nKvHeads * headSizeOf(config);
  return tokens * (9 * config.dim + 2 * kvDim + 3 * config.hiddenDim);
}

/**
 * The token embeddings of a sequence.
 *
 * @param weights The model.
 * @param tokens Token ids, each in `[0, vocab)`.
 * @param ws Optional {@link ForwardWorkspace}; then the result is a view of it.
 * @returns `[T, dim]`, a copy of the embedding rows.
 * @throws {RangeError} If a token id is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embed, tinyLlama } from "./llama.ts";
 * const w = tinyLlama({ seed: 1 });
 * assert.deepEqual(Array.from(embed(w, [2]).data), Array.from(w.tokenEmbedding.data.subarray(2 * 8, 3 * 8)));
 * ```
 */
export function embed(
  weights: LlamaWeights,
  tokens: ArrayLike<number>,
  ws?: ForwardWorkspace,
): Matrix {
  checkTokens(weights.config.vocabSize, tokens);
  const dim = weights.config.dim, out = tensor(ws, "hiddenB", tokens.length, dim);
  for (let t = 0; t < tokens.length; t++) {
    const row = tokens[t] * dim;
    out.data.set(weights.tokenEmbedding.data.subarray(row, row + dim), t * dim);
  }
  return out;
}

/**
 * One decoder block over a whole sequence (positions 0..T-1). Reads `weights.blocks[layer]`, so a
 * caller can swap in a pruned block.
 *
 * @param weights The model.
 * @param layer Block index in `[0, nLayers)`.
 * @param h Hidden states `[T, dim]` entering the block. Not modified.
 * @param hooks Optional {@link ForwardHooks}.
 * @param ws Optional {@link ForwardWorkspace}: then nothing is allocated, the linears' inputs
 *   passed to the hooks are valid only during the call, and the output is a view of `ws`.
 * @returns The block output `[T, dim]` (a new matrix, or a view of `ws` that is not `h`'s).
 * @throws {RangeError} If `layer` is out of range.
 * @throws {TypeError} If `h.cols !== dim` or a block weight has the wrong shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockForward, embed, tinyLlama } from "./llama.ts";
 * const w = tinyLlama({ seed: 1 });
 * const seen: string[] = [];
 * blockForward(w, 0, embed(w, [1, 5]), { onLinearInput: (_, name, x) => void seen.push(`${name}:${x.rows}`) });
 * assert.deepEqual(seen, ["wq:2", "wk:2", "wv:2", "wo:2", "w1:2", "w3:2", "w2:2"]);
 * ```
 */
export function blockForward(
  weights: LlamaWeights,
  layer: number,
  h: Matrix,
  hooks: ForwardHooks = {},
  ws?: ForwardWorkspace,
): Matrix {
  const c = weights.config, b = weights.blocks[layer];
  checkBlockRun(c, b, layer, linearShapes(c), h);
  const see = (name: LinearName, x: Matrix) => hooks.onLinearInput?.(layer, name, x);
  const T = h.rows, headSize = headSizeOf(c), freqs = ropeFrequencies(c);
  const t = (name: string, cols: number) => tensor(ws, name, T, cols);
  // y = x W^T + b
  const linear = (out: string, x: Matrix, w: Matrix, bias?: Float32Array) =>
    addBias(linearInto(t(out, w.rows), x, w), bias);
  // attention: x = RMSNorm(h) * rmsAtt; q, k, v = x W^T (+ b); RoPE(q, k); a = attention(q, k, v)
  const x = rmsNormRows(h, b.rmsAtt, c.normEps, t("x", c.dim).data);
  see("wq", x), see("wk", x), see("wv", x);
  const q = linear("q", x, b.wq, b.bq), k = linear("k", x, b.wk, b.bk);
  const v = linear("v", x, b.wv, b.bv);
  ropeAdjacent(q, headSize, freqs);
  ropeAdjacent(k, headSize, freqs);
  const heads = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headSize };
  const a = attention(q, k, v, heads, t("attention", q.cols).data, ws?.scores);
  see("wo", a);
  const h1 = addInto(linear("h1", a, b.wo, b.bo), h); // h' = h + a Wo^T
  // MLP: y = h' + W2 (silu(W1 x') * W3 x'),  x' = RMSNorm(h') * rmsFfn
  const x2 = rmsNormRows(h1, b.rmsFfn, c.normEps, t("x2", c.dim).data);
  see("w1", x2), see("w3", x2);
  const gate = linear("gate", x2, b.w1, b.b1), up = linear("up", x2, b.w3, b.b3);
  for (let i = 0; i < gate.data.length; i++) {
    const g = gate.data[i];
    gate.data[i] = (g / (1 + Math.exp(-g))) * up.data[i]; // silu(g) * u
  }
  see("w2", gate);
  const onA = ws !== undefined && h.data.buffer === ws.buffers.hiddenA?.buffer;
  return addInto(linear(onA ? "hiddenB" : "hiddenA", gate, b.w2, b.b2), h1);
}

/**
 * The final RMSNorm and classifier.
 *
 * @param weights The model.
 * @param h Hidden states `[T, dim]` after the last block. Not modified.
 * @param ws Optional {@link ForwardWorkspace}; then the logits are a view of it.
 * @returns Logits `[T, vocab]`.
 * @throws {TypeError} If `h.cols !== dim`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embed, logits, tinyLlama } from "./llama.ts";
 * const w = tinyLlama({ seed: 1 });
 * assert.equal(logits(w, embed(w, [1, 2, 3])).cols, w.config.vocabSize);
 * ```
 */
export function logits(weights: LlamaWeights, h: Matrix, ws?: ForwardWorkspace): Matrix {
  if (h.cols !== weights.config.dim) {
    throw new TypeError(
      `Cannot compute logits: hidden states are [${h.rows}, ${h.cols}], expected [T, ${weights.config.dim}]`,
    );
  }
  const c = weights.config;
  const x = rmsNormRows(h, weights.rmsFinal, c.normEps, tensor(ws, "x", h.rows, c.dim).data);
  return linearInto(tensor(ws, "logits", h.rows, c.vocabSize), x, weights.classifier);
}

/**
 * The whole model over one sequence: `logits(blocks(embed(tokens)))`, causal, positions 0..T-1.
 *
 * @param weights The model.
 * @param tokens Token ids, each in `[0, vocab)`.
 * @param hooks Optional {@link ForwardHooks}, passed to every block.
 * @param ws Optional {@link ForwardWorkspace} (at least `tokens.length` tokens): then nothing is
 *   allocated and the logits are a view of it, valid until its next use.
 * @returns Logits `[T, vocab]`; row t predicts token t+1.
 * @throws {RangeError} If a token id is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forward, forwardReference, tinyLlama } from "./llama.ts";
 * import { allClose } from "../check/all_close.ts";
 * const w = tinyLlama({ seed: 2 });
 * assert.ok(allClose(forward(w, [1, 4, 9, 4]).data, forwardReference(w, [1, 4, 9, 4]).data, { atol: 1e-5, rtol: 1e-4 }).ok);
 * ```
 */
export function forward(
  weights: LlamaWeights,
  tokens: ArrayLike<number>,
  hooks?: ForwardHooks,
  ws?: ForwardWorkspace,
): Matrix {
  let h = embed(weights, tokens, ws);
  for (let layer = 0; layer < weights.config.nLayers; layer++) {
    h = blockForward(weights, layer, h, hooks, ws);
  }
  return logits(weights, h, ws);
}

// ---------------------------------------------------------------------------------------------
// The reference: one token at a time with a KV cache, as llama2.c's run.c `forward`.

/** A token-at-a-time decoder over a model: feed tokens one by one, get next-token logits. */
export interface ReferenceDecoder {
  /** Runs `token` at the next position and returns its logits `Float32Array(vocab)`. */
  next(token: number): Float32Array;
  /** Number of tokens fed so far (the position of the next token). */
  readonly position: number;
}

/**
 * A llama2.c-style decoder with a KV cache: the correctness reference for {@link forward}, and a
 * fast way to generate (each step costs one token, not the whole prefix).
 *
 * @param weights The model (read at each step; not modified).
 * @returns The decoder, at position 0.
 * @throws {RangeError} From `next`, if a token id is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forward, referenceDecoder, tinyLlama } from "./llama.ts";
 * const w = tinyLlama({ seed: 3 });
 * const d = referenceDecoder(w);
 * d.next(1);
 * const second = d.next(7);
 * assert.ok(Math.abs(second[0] - forward(w, [1, 7]).data[w.config.vocabSize]) < 1e-4);
 * ```
 */
export function referenceDecoder(weights: LlamaWeights): ReferenceDecoder {
  const c = weights.config, dim = c.dim, headSize = headSizeOf(c);
  const qDim = c.nHeads * headSize, kvDim = c.nKvHeads * headSize;
  const heads = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headSize };
  const keys: Float32Array[][] = weights.blocks.map(() => []),
    values: Float32Array[][] = weights.blocks.map(() => []);
  let pos = 0;
  const next = (token: number): Float32Array => {
    checkTokens(c.vocabSize, [token]);
    let x = weights.tokenEmbedding.data.slice(token * dim, (token + 1) * dim);
    weights.blocks.forEach((b, l) => {
      const xb = rmsNorm(x, b.rmsAtt, c.normEps);
      const q = matvec(b.wq, xb, b.bq), k = matvec(b.wk, xb, b.bk), v = matvec(b.wv, xb, b.bv);
      for (let i = 0; i < qDim; i += 2) { // RoPE exactly as run.c: q always, k while i < kv_dim
        const freq = ropeFrequency(c, 1 / Math.pow(c.ropeTheta, (i % headSize) / headSize));
        const fcr = Math.cos(pos * freq), fci = Math.sin(pos * freq);
        for (const vec of i < kvDim ? [q, k] : [q]) {
          const v0 = vec[i], v1 = vec[i + 1];
          vec[i] = v0 * fcr - v1 * fci;
          vec[i + 1] = v0 * fci + v1 * fcr;
        }
      }
      keys[l].push(k), values[l].push(v);
      const o = matvec(b.wo, attendOne(q, keys[l], values[l], heads), b.bo);
      x = x.map((xi, i) => xi + o[i]);
      const xf = rmsNorm(x, b.rmsFfn, c.normEps);
      const h1 = matvec(b.w1, xf, b.b1), h3 = matvec(b.w3, xf, b.b3);
      const hb = h1.map((g, i) => (g / (1 + Math.exp(-g))) * h3[i]);
      const down = matvec(b.w2, hb, b.b2);
      x = x.map((xi, i) => xi + down[i]);
    });
    pos++;
    return matvec(weights.classifier, rmsNorm(x, weights.rmsFinal, c.normEps));
  };
  return {
    next,
    get position() {
      return pos;
    },
  };
}

/**
 * The plain, token-at-a-time forward pass (llama2.c's run.c with a KV cache): the correctness
 * reference for {@link forward}.
 *
 * @param weights The model.
 * @param tokens Token ids, each in `[0, vocab)`.
 * @returns Logits `[T, vocab]`; row t predicts token t+1.
 * @throws {RangeError} If a token id is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forwardReference, tinyLlama } from "./llama.ts";
 * const out = forwardReference(tinyLlama({ seed: 1 }), [1, 2]);
 * assert.equal(out.rows, 2);
 * ```
 */
export function forwardReference(weights: LlamaWeights, tokens: ArrayLike<number>): Matrix {
  checkTokens(weights.config.vocabSize, tokens);
  const decoder = referenceDecoder(weights), vocab = weights.config.vocabSize;
  const out = new Float32Array(tokens.length * vocab);
  for (let t = 0; t < tokens.length; t++) out.set(decoder.next(tokens[t]), t * vocab);
  return { data: out, rows: tokens.length, cols: vocab };
}

/**
 * A small random Llama model for examples and tests (normal weights scaled by `1/sqrt(in)`, norm
 * gains near 1). Defaults: dim 8, hidden 12, 2 layers, 4 heads, 2 kv heads, vocab 16, seqLen 32.
 *
 * @param options `seed` and any {@link LlamaConfig} field to override.
 * @returns The weights (classifier shared unless `sharedClassifier: false`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "./llama.ts";
 * const w = tinyLlama({ seed: 1, sharedClassifier: false });
 * assert.notEqual(w.classifier, w.tokenEmbedding);
 * assert.equal(w.blocks[1].wk.rows, 4); // kv_dim = 8 * 2 / 4
 * ```
 */
export function tinyLlama(options: Partial<LlamaConfig> & { seed: number }): LlamaWeights {
  const { seed, ...overrides } = options;
  const config: LlamaConfig = {
    dim: 8,
    hiddenDim: 12,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    vocabSize: 16,
    seqLen: 32,
    normEps: 1e-5,
    ropeTheta: 10000,
    sharedClassifier: true,
    ...overrides,
  };
  const rng = createRng(seed),
    { dim, hiddenDim: f } = config,
    kvDim = (dim * config.nKvHeads) / config.nHeads;
  const linear = (rows: number, cols: number): Matrix => ({
    data: randn(rows * cols, rng, 1 / Math.sqrt(cols)),
    rows,
    cols,
  });
  const gain = () => randn(dim, rng, 0.1).map((v) => 1 + v);
  const tokenEmbedding = linear(config.vocabSize, dim);
  const blocks = Array.from({ length: config.nLayers }, (): LlamaBlock => ({
    rmsAtt: gain(),
    wq: linear(dim, dim),
    wk: linear(kvDim, dim),
    wv: linear(kvDim, dim),
    wo: linear(dim, dim),
    rmsFfn: gain(),
    w1: linear(f, dim),
    w2: linear(dim, f),
    w3: linear(f, dim),
  }));
  const rmsFinal = gain();
  const classifier = config.sharedClassifier ? tokenEmbedding : linear(config.vocabSize, dim);
  return { config, tokenEmbedding, blocks, rmsFinal, classifier };
}

// ---------------------------------------------------------------------------------------------
// The family description (src/model/family.ts)

/**
 * The prunable linears of a Llama block and what feeds each: q, k, v read the attention input; o
 * reads the attention of q, k, v; gate and up (w1, w3) read the MLP input, which o's output
 * feeds; down (w2) reads `silu(gate) * up`. FISTAPruner's intra-layer order is therefore
 * `q,k,v -> o -> w1,w3 -> w2`.
 */
export const LLAMA_LINEARS: readonly LinearSpec[] = [
  { name: "wq", input: "wq", after: [] },
  { name: "wk", input: "wq", after: [] },
  { name: "wv", input: "wq", after: [] },
  { name: "wo", input: "wo", after: ["wq", "wk", "wv"] },
  { name: "w1", input: "w1", after: ["wo"] },
  { name: "w3", input: "w1", after: ["wo"] },
  { name: "w2", input: "w2", after: ["w1", "w3"] },
];

/**
 * `LlamaForCausalLM` (Llama 2 and 3; llama2.c checkpoints too): the functions above behind the
 * common {@link Family} interface, registered in `families.ts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intraLayerGroups } from "./family.ts";
 * import { llamaFamily } from "./llama.ts";
 * assert.deepEqual(intraLayerGroups(llamaFamily.linears(undefined as never)), [["wq", "wk", "wv"], ["wo"], ["w1", "w3"], ["w2"]]);
 * ```
 */
export const llamaFamily: Family<LlamaWeights> = {
  name: "llama",
  linears: () => LLAMA_LINEARS,
  embed,
  blockForward,
  logits,
  forwardReference,
  blockActivationCount,
  hf: llamaHfFamily("llama"),
};
