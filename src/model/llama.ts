/**
 * The Llama 2 forward pass (Touvron et al., arXiv:2307.09288v2), as llama2.c's `run.c` computes it,
 * over whole sequences so the pruning pipeline can run it block by block and capture the input of
 * every linear layer.
 *
 * One block, for the hidden states `h` `[T, dim]` of a sequence of T tokens:
 *
 *     x   = RMSNorm(h) * rmsAtt                       RMSNorm(h) = h / sqrt(mean(h^2) + eps)
 *     q, k, v = x Wq^T, x Wk^T, x Wv^T                (k, v: nKvHeads heads, grouped-query)
 *     q, k = RoPE(q), RoPE(k)                         rotate pairs (2i, 2i+1) of each head by
 *                                                     pos * theta^(-2i / headSize)
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
import { kernels } from "../linalg/kernels.ts";
import { causalAttentionSimd } from "./attention_simd.ts";
import { createRng, randn } from "../tensor/rng.ts";
import type { Matrix } from "../tensor/matrix.ts";
import type { LinearName, LlamaBlock, LlamaConfig, LlamaWeights } from "./weights.ts";

/** Callbacks into the forward pass. */
export interface ForwardHooks {
  /**
   * Called with the input `[T, in]` of every linear layer of a block, in the order
   * wq, wk, wv, wo, w1, w3, w2 (wq/wk/wv get the same Matrix object, as do w1/w3). Do not modify `x`.
   */
  onLinearInput?(layer: number, name: LinearName, x: Matrix): void;
}

function checkTokens(weights: LlamaWeights, tokens: ArrayLike<number>): void {
  const vocab = weights.config.vocabSize;
  for (let t = 0; t < tokens.length; t++) {
    const id = tokens[t];
    if (!Number.isInteger(id) || id < 0 || id >= vocab) {
      throw new RangeError(
        `Cannot run the model: token ${id} at position ${t} is outside [0, ${vocab})`,
      );
    }
  }
}

/** `out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * gain`, row by row (float64 sum). */
function rmsNormRows(
  x: Matrix,
  gain: Float32Array,
  eps: number,
  out: Float32Array = new Float32Array(x.rows * x.cols),
): Matrix {
  const { rows, cols } = x;
  for (let t = 0; t < rows; t++) {
    const o = t * cols;
    let ss = 0;
    for (let i = 0; i < cols; i++) ss += x.data[o + i] * x.data[o + i];
    const scale = 1 / Math.sqrt(ss / cols + eps);
    for (let i = 0; i < cols; i++) out[o + i] = gain[i] * (scale * x.data[o + i]);
  }
  return { data: out, rows, cols };
}

/** Rotates pairs (2i, 2i+1) of every head of `m` `[T, heads * headSize]` in place, position t = row t. */
function applyRope(m: Matrix, headSize: number, theta: number): void {
  const half = headSize / 2;
  const freqs = Array.from({ length: half }, (_, i) => Math.pow(theta, -(2 * i) / headSize));
  for (let t = 0; t < m.rows; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * freqs[i], c = Math.cos(angle), s = Math.sin(angle);
      for (let o = t * m.cols + 2 * i; o < (t + 1) * m.cols; o += headSize) {
        const x0 = m.data[o], x1 = m.data[o + 1];
        m.data[o] = x0 * c - x1 * s;
        m.data[o + 1] = x0 * s + x1 * c;
      }
    }
  }
}

/** Causal grouped-query attention: q `[T, dim]`, k, v `[T, kvDim]` -> `[T, dim]`. */
function causalAttention(
  q: Matrix,
  k: Matrix,
  v: Matrix,
  config: LlamaConfig,
  out: Float32Array = new Float32Array(q.rows * config.dim),
  scores: Float64Array = new Float64Array(q.rows),
): Matrix {
  const T = q.rows, dim = config.dim, kvDim = k.cols;
  const headSize = dim / config.nHeads, group = config.nHeads / config.nKvHeads;
  const scale = 1 / Math.sqrt(headSize);
  for (let h = 0; h < config.nHeads; h++) {
    const qo = h * headSize, kvo = Math.floor(h / group) * headSize;
    for (let t = 0; t < T; t++) {
      let max = -Infinity;
      for (let j = 0; j <= t; j++) {
        let s = 0;
        for (let i = 0; i < headSize; i++) {
          s += q.data[t * dim + qo + i] * k.data[j * kvDim + kvo + i];
        }
        scores[j] = s * scale;
        if (scores[j] > max) max = scores[j];
      }
      let sum = 0;
      for (let j = 0; j <= t; j++) sum += scores[j] = Math.exp(scores[j] - max);
      for (let i = 0; i < headSize; i++) {
        let acc = 0;
        for (let j = 0; j <= t; j++) acc += scores[j] * v.data[j * kvDim + kvo + i];
        out[t * dim + qo + i] = acc / sum;
      }
    }
  }
  return { data: out, rows: T, cols: dim };
}

function addInto(target: Matrix, delta: Matrix): Matrix {
  for (let i = 0; i < target.data.length; i++) target.data[i] += delta.data[i];
  return target;
}

function checkBlock(
  config: LlamaConfig,
  block: LlamaBlock | undefined,
  layer: number,
): asserts block is LlamaBlock {
  if (!Number.isInteger(layer) || layer < 0 || layer >= config.nLayers || block === undefined) {
    throw new RangeError(`Cannot run block ${layer}: the model has ${config.nLayers} layers`);
  }
  const kvDim = (config.dim * config.nKvHeads) / config.nHeads,
    d = config.dim,
    f = config.hiddenDim;
  const shapes: [LinearName, number, number][] = [
    ["wq", d, d],
    ["wk", kvDim, d],
    ["wv", kvDim, d],
    ["wo", d, d],
    ["w1", f, d],
    ["w3", f, d],
    ["w2", d, f],
  ];
  for (const [name, rows, cols] of shapes) {
    const w = block[name];
    if (w.rows !== rows || w.cols !== cols || w.data.length !== rows * cols) {
      throw new TypeError(
        `Cannot run block ${layer}: ${name} is [${w.rows}, ${w.cols}], expected [${rows}, ${cols}]`,
      );
    }
  }
}

/**
 * Preallocated buffers for the forward pass over sequences of up to `maxTokens` tokens. Pass one
 * to {@link forward}, {@link blockForward} and {@link logits} to run many windows without
 * allocating: every intermediate tensor (and the result) is then a view of these buffers, valid
 * until the next call with the same workspace. Without one each call allocates its tensors, which
 * for a pass over many windows means tens of MB of garbage that the collector reclaims late; with
 * one a run holds `maxTokens x (7 dim + 2 kvDim + 2 hidden + vocab)` floats (4 MB for llama4m at
 * 256 tokens). Not for concurrent use (each worker makes its own).
 */
export interface ForwardWorkspace {
  /** The model shape the buffers were sized for. */
  readonly config: LlamaConfig;
  /** The longest sequence the buffers hold. */
  readonly maxTokens: number;
  /** The buffers, by the tensor of the block they hold (see {@link blockForward}). */
  readonly buffers: Readonly<Record<WorkspaceBuffer, Float32Array>>;
  /** Attention scores of one query row (float64). */
  readonly scores: Float64Array;
}

type WorkspaceBuffer =
  | "x"
  | "q"
  | "k"
  | "v"
  | "attention"
  | "h1"
  | "x2"
  | "gate"
  | "up"
  | "hiddenA"
  | "hiddenB"
  | "logits";

/**
 * How many values one decoder block's forward pass produces over `tokens` tokens when every
 * intermediate tensor is kept, as a framework's autograd graph would: the input `h`, `x`, `q`, `k`,
 * `v`, the attention output, `a Wo^T`, `h'`, `x'`, the gate `W1 x'`, the up projection `W3 x'`,
 * `silu(gate) * up`, `W2 (...)` and the output (attention scores excluded). That is
 * `tokens * (9 dim + 2 kvDim + 3 hidden)`, the "one block's activations" of the memory bound of
 * memory bound (docs/memory.md); this forward pass itself never holds all of them at once.
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
  config: Pick<LlamaConfig, "dim" | "hiddenDim" | "nHeads" | "nKvHeads">,
  tokens: number,
): number {
  const kvDim = (config.dim * config.nKvHeads) / config.nHeads;
  return tokens * (9 * config.dim + 2 * kvDim + 3 * config.hiddenDim);
}

/**
 * A {@link ForwardWorkspace} for `config` and sequences of up to `maxTokens` tokens.
 *
 * @param config The model's config.
 * @param maxTokens The longest sequence it will run, >= 1.
 * @returns The workspace.
 * @throws {RangeError} If `maxTokens` is not a positive integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forward, forwardWorkspace, tinyLlama } from "./llama.ts";
 * const w = tinyLlama({ seed: 2 }), ws = forwardWorkspace(w.config, 4);
 * const fresh = forward(w, [1, 4, 9]);
 * assert.deepEqual(forward(w, [1, 4, 9], undefined, ws).data, fresh.data); // same numbers, no allocation
 * ```
 */
export function forwardWorkspace(config: LlamaConfig, maxTokens: number): ForwardWorkspace {
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new RangeError(
      `Cannot make a forward workspace: maxTokens must be a positive integer, got ${maxTokens}`,
    );
  }
  const { dim, hiddenDim, vocabSize } = config, kvDim = (dim * config.nKvHeads) / config.nHeads;
  const widths: Record<WorkspaceBuffer, number> = {
    x: dim,
    q: dim,
    k: kvDim,
    v: kvDim,
    attention: dim,
    h1: dim,
    x2: dim,
    gate: hiddenDim,
    up: hiddenDim,
    hiddenA: dim,
    hiddenB: dim,
    logits: vocabSize,
  };
  const buffers = Object.fromEntries(
    Object.entries(widths).map(([name, width]) => [name, new Float32Array(maxTokens * width)]),
  ) as Record<WorkspaceBuffer, Float32Array>;
  return { config, maxTokens, buffers, scores: new Float64Array(maxTokens) };
}

/**
 * `ws` if it fits `config` and `tokens`, else a new workspace that does (a cache helper for
 * callers that keep one workspace across calls).
 *
 * @param ws The workspace kept so far, if any.
 * @param config The model's config.
 * @param tokens The sequence length to run.
 * @returns A workspace for `config` holding at least `tokens` tokens.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fittingWorkspace, tinyLlama } from "./llama.ts";
 * const c = tinyLlama({ seed: 2 }).config, ws = fittingWorkspace(undefined, c, 8);
 * assert.equal(fittingWorkspace(ws, c, 5), ws);
 * assert.equal(fittingWorkspace(ws, c, 9).maxTokens, 9);
 * ```
 */
export function fittingWorkspace(
  ws: ForwardWorkspace | undefined,
  config: LlamaConfig,
  tokens: number,
): ForwardWorkspace {
  const c = ws?.config;
  const fits = ws !== undefined && ws.maxTokens >= tokens && c !== undefined &&
    c.dim === config.dim && c.hiddenDim === config.hiddenDim && c.nHeads === config.nHeads &&
    c.nKvHeads === config.nKvHeads && c.vocabSize === config.vocabSize;
  return fits ? ws : forwardWorkspace(config, tokens);
}

let threadCache: ForwardWorkspace | undefined;

/**
 * This thread's reusable workspace (each worker has its own): one that fits `config` and `tokens`,
 * kept between calls so that passes over many windows, blocks and evaluations allocate their
 * buffers once. Replaced (and the old one left to the collector) when it does not fit. Callers
 * must not hold its views across another call that uses it.
 *
 * @param config The model's config.
 * @param tokens The sequence length to run.
 * @returns The workspace.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { threadWorkspace, tinyLlama } from "./llama.ts";
 * const c = tinyLlama({ seed: 2 }).config;
 * assert.equal(threadWorkspace(c, 4), threadWorkspace(c, 3)); // kept
 * ```
 */
export function threadWorkspace(config: LlamaConfig, tokens: number): ForwardWorkspace {
  return threadCache = fittingWorkspace(threadCache, config, tokens);
}

/** `[rows, cols]` matrix over the start of buffer `name` of `ws`, or a new one without `ws`. */
function tensor(
  ws: ForwardWorkspace | undefined,
  name: WorkspaceBuffer,
  rows: number,
  cols: number,
): Matrix {
  if (ws === undefined) return { data: new Float32Array(rows * cols), rows, cols };
  if (rows > ws.maxTokens) {
    throw new RangeError(
      `Cannot run the model: ${rows} tokens do not fit a workspace of ${ws.maxTokens}`,
    );
  }
  return { data: ws.buffers[name].subarray(0, rows * cols), rows, cols };
}

/**
 * The token embeddings of a sequence.
 *
 * @param weights The model.
 * @param tokens Token ids, each in `[0, vocab)`.
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
export function embed(weights: LlamaWeights, tokens: ArrayLike<number>): Matrix {
  return embedInto(weights, tokens, undefined);
}

function embedInto(
  weights: LlamaWeights,
  tokens: ArrayLike<number>,
  ws: ForwardWorkspace | undefined,
): Matrix {
  checkTokens(weights, tokens);
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
  const c = weights.config, block = weights.blocks[layer];
  checkBlock(c, block, layer);
  if (h.cols !== c.dim || h.data.length !== h.rows * h.cols) {
    throw new TypeError(
      `Cannot run block ${layer}: hidden states are [${h.rows}, ${h.cols}], expected [T, ${c.dim}]`,
    );
  }
  const see = (name: LinearName, x: Matrix) => hooks.onLinearInput?.(layer, name, x);
  const T = h.rows, headSize = c.dim / c.nHeads;
  const t = (name: WorkspaceBuffer, cols: number) => tensor(ws, name, T, cols);
  const linear = (out: Matrix, x: Matrix, w: Matrix) => linearInto(out, x, w); // x W^T
  // attention: x = RMSNorm(h) * rmsAtt; q, k, v = x W^T; RoPE(q, k); a = attention(q, k, v)
  const x = rmsNormRows(h, block.rmsAtt, c.normEps, t("x", c.dim).data);
  see("wq", x), see("wk", x), see("wv", x);
  const q = linear(t("q", block.wq.rows), x, block.wq);
  const k = linear(t("k", block.wk.rows), x, block.wk);
  const v = linear(t("v", block.wv.rows), x, block.wv);
  applyRope(q, headSize, c.ropeTheta);
  applyRope(k, headSize, c.ropeTheta);
  const a = kernels() === "simd" // float32 products (attention_simd.ts) or the float64 reference
    ? causalAttentionSimd(q, k, v, c, t("attention", c.dim).data)
    : causalAttention(q, k, v, c, t("attention", c.dim).data, ws?.scores);
  see("wo", a);
  const h1 = addInto(linear(t("h1", c.dim), a, block.wo), h); // h' = h + a Wo^T
  // MLP: y = h' + W2 (silu(W1 x') * W3 x')
  const x2 = rmsNormRows(h1, block.rmsFfn, c.normEps, t("x2", c.dim).data);
  see("w1", x2), see("w3", x2);
  const gate = linear(t("gate", block.w1.rows), x2, block.w1);
  const up = linear(t("up", block.w3.rows), x2, block.w3);
  for (let i = 0; i < gate.data.length; i++) {
    const g = gate.data[i];
    gate.data[i] = (g / (1 + Math.exp(-g))) * up.data[i]; // silu(g) * u
  }
  see("w2", gate);
  const onA = ws !== undefined && h.data.buffer === ws.buffers.hiddenA.buffer;
  return addInto(linear(t(onA ? "hiddenB" : "hiddenA", c.dim), gate, block.w2), h1);
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
  let h = embedInto(weights, tokens, ws);
  for (let layer = 0; layer < weights.config.nLayers; layer++) {
    h = blockForward(weights, layer, h, hooks, ws);
  }
  return logits(weights, h, ws);
}

// ---------------------------------------------------------------------------------------------
// The reference: one token at a time with a KV cache, as llama2.c's run.c `forward`.

/** Plain `W x` (float64 accumulation): W `[rows, cols]`, x `Float32Array(cols)`. */
function matvec(w: Matrix, x: Float32Array): Float32Array {
  const out = new Float32Array(w.rows);
  for (let i = 0; i < w.rows; i++) {
    let s = 0;
    for (let j = 0; j < w.cols; j++) s += w.data[i * w.cols + j] * x[j];
    out[i] = s;
  }
  return out;
}

function rmsNorm(x: Float32Array, gain: Float32Array, eps: number): Float32Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  const scale = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => gain[i] * (scale * v));
}

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
  const c = weights.config, dim = c.dim, headSize = dim / c.nHeads;
  const kvDim = (dim * c.nKvHeads) / c.nHeads, group = c.nHeads / c.nKvHeads;
  const keys: Float32Array[][] = weights.blocks.map(() => []),
    values: Float32Array[][] = weights.blocks.map(() => []);
  let pos = 0;
  const next = (token: number): Float32Array => {
    checkTokens(weights, [token]);
    let x = weights.tokenEmbedding.data.slice(token * dim, (token + 1) * dim);
    weights.blocks.forEach((b, l) => {
      const xb = rmsNorm(x, b.rmsAtt, c.normEps);
      const q = matvec(b.wq, xb), k = matvec(b.wk, xb), v = matvec(b.wv, xb);
      for (let i = 0; i < dim; i += 2) { // RoPE exactly as run.c: q always, k while i < kv_dim
        const freq = 1 / Math.pow(c.ropeTheta, (i % headSize) / headSize);
        const fcr = Math.cos(pos * freq), fci = Math.sin(pos * freq);
        for (const vec of i < kvDim ? [q, k] : [q]) {
          const v0 = vec[i], v1 = vec[i + 1];
          vec[i] = v0 * fcr - v1 * fci;
          vec[i + 1] = v0 * fci + v1 * fcr;
        }
      }
      keys[l].push(k), values[l].push(v);
      const att = new Float32Array(dim);
      for (let h = 0; h < c.nHeads; h++) {
        const qo = h * headSize, kvo = Math.floor(h / group) * headSize;
        const scores = keys[l].map((key) => {
          let s = 0;
          for (let i = 0; i < headSize; i++) s += q[qo + i] * key[kvo + i];
          return s / Math.sqrt(headSize);
        });
        const max = Math.max(...scores), e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let i = 0; i < headSize; i++) {
          let acc = 0;
          for (let t = 0; t <= pos; t++) acc += (e[t] / sum) * values[l][t][kvo + i];
          att[qo + i] = acc;
        }
      }
      const o = matvec(b.wo, att);
      x = x.map((xi, i) => xi + o[i]);
      const xf = rmsNorm(x, b.rmsFfn, c.normEps);
      const h1 = matvec(b.w1, xf), h3 = matvec(b.w3, xf);
      const hb = h1.map((g, i) => (g / (1 + Math.exp(-g))) * h3[i]);
      const down = matvec(b.w2, hb);
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
  checkTokens(weights, tokens);
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
