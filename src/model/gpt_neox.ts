/**
 * The GPT-NeoX family (`GPTNeoXForCausalLM`: Pythia, Biderman et al., arXiv:2304.01373; GPT-NeoX,
 * Black et al., arXiv:2204.06745), as transformers' `modeling_gpt_neox.py` computes it.
 *
 * One block, for the hidden states `h` `[T, dim]`:
 *
 *     x    = LayerNorm(h) * g1 + b1
 *     qkv  = x Wqkv^T + bqkv                  fused, per head: [q_h | k_h | v_h], 3 headSize wide
 *     q, k = RoPE_half(q), RoPE_half(k)       the first rotaryDims = rotary_pct * headSize of each
 *                                             head, pairs (i, i + rotaryDims/2) (rotate_half),
 *                                             angle pos * base^(-2i / rotaryDims); the rest as is
 *     a    = softmax(q k^T / sqrt(headSize) + causal) v          per head
 *     o    = a Wdense^T + bdense
 *     parallel residual (use_parallel_residual, Pythia):  y = h + o + MLP(LayerNorm(h) * g2 + b2)
 *     sequential:                          h' = h + o;      y = h' + MLP(LayerNorm(h') * g2 + b2)
 *     MLP(x) = W4h_to_h gelu(Wh_to_4h x + bh_to_4h) + b4h_to_h        exact (erf) GELU
 *
 * then `logits = (LayerNorm(h_L) * gf + bf) Wembed_out^T` (untied in Pythia; tied when
 * `tie_word_embeddings`). Biases of `query_key_value` and `dense` exist when `attention_bias`.
 *
 * The prunable linears are the four of the block, under their transformers names:
 * `query_key_value`, `dense`, `dense_h_to_4h`, `dense_4h_to_h`. What feeds what: `dense` reads the
 * attention of `query_key_value`; `dense_4h_to_h` reads `gelu(dense_h_to_4h ...)`; and
 * `dense_h_to_4h` reads the block's input `h` with a parallel residual (nothing pruned in the
 * block feeds it), but `h + o` with a sequential one (`dense` feeds it). So FISTAPruner's
 * intra-layer order is `query_key_value, dense_h_to_4h -> dense, dense_4h_to_h` (parallel) and
 * `query_key_value -> dense -> dense_h_to_4h -> dense_4h_to_h` (sequential).
 *
 * {@link gptNeoXForward}'s parts run over whole sequences; {@link gptNeoXForwardReference} is the
 * token-at-a-time twin with a KV cache, the correctness oracle.
 *
 * @module
 */
import { linearInto } from "../linalg/matmul.ts";
import type { Matrix } from "../tensor/matrix.ts";
import { createRng, randn } from "../tensor/rng.ts";
import type {
  Family,
  ForwardHooks,
  HfFamily,
  HfTensorSpec,
  LinearSpec,
  ModelConfig,
} from "./family.ts";
import {
  ACTIVATIONS,
  addBias,
  addInto,
  attendOne,
  causalAttention,
  checkBlockRun,
  checkTokens,
  layerNorm,
  layerNormRows,
  matvec,
  ropeHalf,
} from "./layers.ts";
import { type ForwardWorkspace, workspaceTensor as tensor } from "./workspace.ts";
import {
  checkArchitecture,
  configBool,
  configInt,
  configPositive,
  configString,
  readRopeSettings,
  unsupported,
} from "../io/hf_config.ts";

/** Hyper-parameters of a GPT-NeoX model. */
export interface GptNeoXConfig extends ModelConfig {
  /** LayerNorm epsilon (`layer_norm_eps`). */
  normEps: number;
  /** Rotated dims per head: `floor(headSize * rotary_pct)`. */
  rotaryDims: number;
  /** RoPE base (`rotary_emb_base`, or `rope_theta`). */
  ropeTheta: number;
  /** `use_parallel_residual`: attention and MLP both read the block input. */
  parallelResidual: boolean;
  /** `attention_bias`: `query_key_value` and `dense` have biases. */
  attentionBias: boolean;
  /** `tie_word_embeddings`: the head is the input embedding. */
  sharedClassifier: boolean;
}

/** One GPT-NeoX block; linears `[out, in]` under transformers' names, biases beside them. */
export type GptNeoXBlock = {
  inputNorm: Float32Array;
  inputNormBias: Float32Array;
  query_key_value: Matrix;
  query_key_value_bias?: Float32Array;
  dense: Matrix;
  dense_bias?: Float32Array;
  postAttentionNorm: Float32Array;
  postAttentionNormBias: Float32Array;
  dense_h_to_4h: Matrix;
  dense_h_to_4h_bias: Float32Array;
  dense_4h_to_h: Matrix;
  dense_4h_to_h_bias: Float32Array;
};

/** A GPT-NeoX model. */
export interface GptNeoXWeights {
  family: "gpt_neox";
  config: GptNeoXConfig;
  /** `[vocab, dim]` (`gpt_neox.embed_in`). */
  embedIn: Matrix;
  blocks: GptNeoXBlock[];
  finalNorm: Float32Array;
  finalNormBias: Float32Array;
  /** `[vocab, dim]` (`embed_out`); the same object as `embedIn` when tied. */
  embedOut: Matrix;
}

const headSizeOf = (c: GptNeoXConfig) => c.dim / c.nHeads;

/** The `rotaryDims / 2` inverse frequencies `base^(-2i / rotaryDims)`. */
function ropeFrequencies(c: GptNeoXConfig): Float64Array {
  return Float64Array.from(
    { length: c.rotaryDims / 2 },
    (_, i) => 1 / Math.pow(c.ropeTheta, (2 * i) / c.rotaryDims),
  );
}

/**
 * The token embeddings `[T, dim]` (GPT-NeoX has no learned positions: RoPE is in attention).
 *
 * @param w The model.
 * @param tokens Token ids in `[0, vocab)`.
 * @param ws Optional workspace.
 * @returns `[T, dim]`.
 * @throws {RangeError} If a token id is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gptNeoXEmbed, tinyGptNeoX } from "./gpt_neox.ts";
 * const w = tinyGptNeoX({ seed: 1 });
 * assert.deepEqual(Array.from(gptNeoXEmbed(w, [2]).data), Array.from(w.embedIn.data.subarray(16, 24)));
 * ```
 */
export function gptNeoXEmbed(
  w: GptNeoXWeights,
  tokens: ArrayLike<number>,
  ws?: ForwardWorkspace,
): Matrix {
  checkTokens(w.config.vocabSize, tokens);
  const dim = w.config.dim, out = tensor(ws, "hiddenB", tokens.length, dim);
  for (let t = 0; t < tokens.length; t++) {
    out.data.set(w.embedIn.data.subarray(tokens[t] * dim, (tokens[t] + 1) * dim), t * dim);
  }
  return out;
}

/**
 * One GPT-NeoX block over a sequence (module header), the hooks called with the inputs of
 * `query_key_value`, `dense`, `dense_h_to_4h`, `dense_4h_to_h` in that order.
 *
 * @param w The model.
 * @param layer Block index.
 * @param h Hidden states `[T, dim]` (not modified).
 * @param hooks Optional hooks.
 * @param ws Optional workspace (then the output is a view of it, not `h`'s).
 * @returns `[T, dim]`.
 * @throws {RangeError} If `layer` is out of range.
 * @throws {TypeError} If a weight has the wrong shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gptNeoXBlockForward, gptNeoXEmbed, tinyGptNeoX } from "./gpt_neox.ts";
 * const w = tinyGptNeoX({ seed: 1 }), seen: string[] = [];
 * gptNeoXBlockForward(w, 0, gptNeoXEmbed(w, [1, 2]), { onLinearInput: (_, n) => void seen.push(n) });
 * assert.deepEqual(seen, ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]);
 * ```
 */
export function gptNeoXBlockForward(
  w: GptNeoXWeights,
  layer: number,
  h: Matrix,
  hooks: ForwardHooks = {},
  ws?: ForwardWorkspace,
): Matrix {
  const c = w.config, b = w.blocks[layer];
  checkBlockRun(c, b, layer, [
    ["query_key_value", 3 * c.dim, c.dim],
    ["dense", c.dim, c.dim],
    ["dense_h_to_4h", c.hiddenDim, c.dim],
    ["dense_4h_to_h", c.dim, c.hiddenDim],
  ], h);
  const T = h.rows,
    hs = headSizeOf(c),
    see = (n: string, x: Matrix) => hooks.onLinearInput?.(layer, n, x);
  const t = (name: string, cols: number) => tensor(ws, name, T, cols);
  const linear = (out: string, x: Matrix, m: Matrix, bias?: Float32Array) =>
    addBias(linearInto(t(out, m.rows), x, m), bias);
  // attention: x = LN1(h); qkv = x Wqkv^T + b (per head [q|k|v]); RoPE on q, k; a = attention
  const x = layerNormRows(h, b.inputNorm, b.inputNormBias, c.normEps, t("x", c.dim).data);
  see("query_key_value", x);
  const qkv = linear("qkv", x, b.query_key_value, b.query_key_value_bias);
  const freqs = ropeFrequencies(c);
  ropeHalf(qkv, c.nHeads, 3 * hs, 0, c.rotaryDims, freqs); // q
  ropeHalf(qkv, c.nHeads, 3 * hs, hs, c.rotaryDims, freqs); // k
  const at = (offset: number): Matrix => ({ ...qkv, data: qkv.data.subarray(offset) });
  const layout = {
    nHeads: c.nHeads,
    nKvHeads: c.nHeads,
    headSize: hs,
    qStride: 3 * hs,
    kvStride: 3 * hs,
  };
  const a = causalAttention(
    at(0),
    at(hs),
    at(2 * hs),
    layout,
    t("attention", c.dim).data,
    ws?.scores,
  );
  see("dense", a);
  const o = linear("o", a, b.dense, b.dense_bias);
  // MLP input: LN2(h) with a parallel residual, LN2(h + o) with a sequential one
  const h1 = c.parallelResidual ? h : addInto(o, h);
  const x2 = layerNormRows(
    h1,
    b.postAttentionNorm,
    b.postAttentionNormBias,
    c.normEps,
    t("x2", c.dim).data,
  );
  see("dense_h_to_4h", x2);
  const up = linear("up", x2, b.dense_h_to_4h, b.dense_h_to_4h_bias);
  for (let i = 0; i < up.data.length; i++) up.data[i] = ACTIVATIONS.gelu(up.data[i]);
  see("dense_4h_to_h", up);
  const onA = ws !== undefined && h.data.buffer === ws.buffers.hiddenA?.buffer;
  const y = linear(onA ? "hiddenB" : "hiddenA", up, b.dense_4h_to_h, b.dense_4h_to_h_bias);
  addInto(y, h1); // + h' (sequential) or + h (parallel) ...
  return c.parallelResidual ? addInto(y, o) : y; // ... + o (parallel)
}

/**
 * The final LayerNorm and `embed_out`: logits `[T, vocab]`.
 *
 * @param w The model.
 * @param h Hidden states after the last block.
 * @param ws Optional workspace.
 * @returns Logits.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gptNeoXEmbed, gptNeoXLogits, tinyGptNeoX } from "./gpt_neox.ts";
 * const w = tinyGptNeoX({ seed: 1 });
 * assert.equal(gptNeoXLogits(w, gptNeoXEmbed(w, [1])).cols, 16);
 * ```
 */
export function gptNeoXLogits(w: GptNeoXWeights, h: Matrix, ws?: ForwardWorkspace): Matrix {
  const c = w.config;
  const x = layerNormRows(
    h,
    w.finalNorm,
    w.finalNormBias,
    c.normEps,
    tensor(ws, "x", h.rows, c.dim).data,
  );
  return linearInto(tensor(ws, "logits", h.rows, c.vocabSize), x, w.embedOut);
}

/**
 * The whole model over a sequence.
 *
 * @param w The model.
 * @param tokens Token ids.
 * @param hooks Optional hooks.
 * @param ws Optional workspace.
 * @returns Logits `[T, vocab]`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gptNeoXForward, gptNeoXForwardReference, tinyGptNeoX } from "./gpt_neox.ts";
 * import { allClose } from "../check/all_close.ts";
 * for (const parallelResidual of [true, false]) {
 *   const w = tinyGptNeoX({ seed: 2, parallelResidual });
 *   assert.ok(allClose(gptNeoXForward(w, [1, 4, 9, 4]).data, gptNeoXForwardReference(w, [1, 4, 9, 4]).data, { atol: 1e-5, rtol: 1e-4 }).ok);
 * }
 * ```
 */
export function gptNeoXForward(
  w: GptNeoXWeights,
  tokens: ArrayLike<number>,
  hooks?: ForwardHooks,
  ws?: ForwardWorkspace,
): Matrix {
  let h = gptNeoXEmbed(w, tokens, ws);
  for (let l = 0; l < w.config.nLayers; l++) h = gptNeoXBlockForward(w, l, h, hooks, ws);
  return gptNeoXLogits(w, h, ws);
}

/**
 * The token-at-a-time twin with a KV cache (the oracle of {@link gptNeoXForward}).
 *
 * @param w The model.
 * @param tokens Token ids.
 * @returns Logits `[T, vocab]`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gptNeoXForwardReference, tinyGptNeoX } from "./gpt_neox.ts";
 * assert.equal(gptNeoXForwardReference(tinyGptNeoX({ seed: 1 }), [1, 2]).rows, 2);
 * ```
 */
export function gptNeoXForwardReference(w: GptNeoXWeights, tokens: ArrayLike<number>): Matrix {
  const c = w.config, dim = c.dim, hs = headSizeOf(c), half = c.rotaryDims / 2;
  checkTokens(c.vocabSize, tokens);
  const keys: Float32Array[][] = w.blocks.map(() => []),
    values: Float32Array[][] = w.blocks.map(() => []);
  const out = new Float32Array(tokens.length * c.vocabSize);
  const layout = { nHeads: c.nHeads, nKvHeads: c.nHeads, headSize: hs };
  for (let pos = 0; pos < tokens.length; pos++) {
    let x = w.embedIn.data.slice(tokens[pos] * dim, (tokens[pos] + 1) * dim);
    w.blocks.forEach((b, l) => {
      const qkv = matvec(
        b.query_key_value,
        layerNorm(x, b.inputNorm, b.inputNormBias, c.normEps),
        b.query_key_value_bias,
      );
      const q = new Float32Array(dim), k = new Float32Array(dim), v = new Float32Array(dim);
      for (let head = 0; head < c.nHeads; head++) { // split [q_h | k_h | v_h]
        for (let i = 0; i < hs; i++) {
          q[head * hs + i] = qkv[head * 3 * hs + i];
          k[head * hs + i] = qkv[head * 3 * hs + hs + i];
          v[head * hs + i] = qkv[head * 3 * hs + 2 * hs + i];
        }
      }
      for (const vec of [q, k]) { // rotate_half on the first rotaryDims of each head
        for (let head = 0; head < c.nHeads; head++) {
          for (let i = 0; i < half; i++) {
            const angle = pos / Math.pow(c.ropeTheta, (2 * i) / c.rotaryDims);
            const o = head * hs + i, x0 = vec[o], x1 = vec[o + half];
            vec[o] = x0 * Math.cos(angle) - x1 * Math.sin(angle);
            vec[o + half] = x1 * Math.cos(angle) + x0 * Math.sin(angle);
          }
        }
      }
      keys[l].push(k), values[l].push(v);
      const o = matvec(b.dense, attendOne(q, keys[l], values[l], layout), b.dense_bias);
      const mlp = (input: Float32Array) => {
        const up = matvec(
          b.dense_h_to_4h,
          layerNorm(input, b.postAttentionNorm, b.postAttentionNormBias, c.normEps),
          b.dense_h_to_4h_bias,
        );
        return matvec(b.dense_4h_to_h, up.map(ACTIVATIONS.gelu), b.dense_4h_to_h_bias);
      };
      if (c.parallelResidual) {
        const m = mlp(x);
        x = x.map((xi, i) => xi + o[i] + m[i]);
      } else {
        const h1 = x.map((xi, i) => xi + o[i]), m = mlp(h1);
        x = h1.map((xi, i) => xi + m[i]);
      }
    });
    out.set(
      matvec(w.embedOut, layerNorm(x, w.finalNorm, w.finalNormBias, c.normEps)),
      pos * c.vocabSize,
    );
  }
  return { data: out, rows: tokens.length, cols: c.vocabSize };
}

/**
 * A small random GPT-NeoX model for examples and tests: dim 8, hidden 32, 2 layers, 2 heads,
 * rotary 2 of 4 dims, vocab 16, parallel residual, untied head, by default.
 *
 * @param options `seed` and any config field to override.
 * @returns The model.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyGptNeoX } from "./gpt_neox.ts";
 * assert.equal(tinyGptNeoX({ seed: 1 }).blocks[0].query_key_value.rows, 24);
 * ```
 */
export function tinyGptNeoX(options: Partial<GptNeoXConfig> & { seed: number }): GptNeoXWeights {
  const { seed, ...overrides } = options;
  const config: GptNeoXConfig = {
    dim: 8,
    hiddenDim: 32,
    nLayers: 2,
    nHeads: 2,
    vocabSize: 16,
    seqLen: 32,
    normEps: 1e-5,
    rotaryDims: 2,
    ropeTheta: 10000,
    parallelResidual: true,
    attentionBias: true,
    sharedClassifier: false,
    ...overrides,
  };
  const rng = createRng(seed), d = config.dim, f = config.hiddenDim;
  const m = (rows: number, cols: number): Matrix => ({
    data: randn(rows * cols, rng, 1 / Math.sqrt(cols)),
    rows,
    cols,
  });
  const vec = (n: number, around = 0) => randn(n, rng, 0.1).map((v) => around + v);
  const embedIn = m(config.vocabSize, d);
  const blocks = Array.from({ length: config.nLayers }, (): GptNeoXBlock => ({
    inputNorm: vec(d, 1),
    inputNormBias: vec(d),
    query_key_value: m(3 * d, d),
    ...(config.attentionBias ? { query_key_value_bias: vec(3 * d) } : {}),
    dense: m(d, d),
    ...(config.attentionBias ? { dense_bias: vec(d) } : {}),
    postAttentionNorm: vec(d, 1),
    postAttentionNormBias: vec(d),
    dense_h_to_4h: m(f, d),
    dense_h_to_4h_bias: vec(f),
    dense_4h_to_h: m(d, f),
    dense_4h_to_h_bias: vec(d),
  }));
  const finalNorm = vec(d, 1), finalNormBias = vec(d);
  const embedOut = config.sharedClassifier ? embedIn : m(config.vocabSize, d);
  return { family: "gpt_neox", config, embedIn, blocks, finalNorm, finalNormBias, embedOut };
}

// ---------------------------------------------------------------------------------------------
// Hugging Face layout

/** transformers' names of a block's tensors (inside `gpt_neox.layers.N.`), by block field. */
const HF_BLOCK: Readonly<Record<keyof GptNeoXBlock, string>> = {
  inputNorm: "input_layernorm.weight",
  inputNormBias: "input_layernorm.bias",
  query_key_value: "attention.query_key_value.weight",
  query_key_value_bias: "attention.query_key_value.bias",
  dense: "attention.dense.weight",
  dense_bias: "attention.dense.bias",
  postAttentionNorm: "post_attention_layernorm.weight",
  postAttentionNormBias: "post_attention_layernorm.bias",
  dense_h_to_4h: "mlp.dense_h_to_4h.weight",
  dense_h_to_4h_bias: "mlp.dense_h_to_4h.bias",
  dense_4h_to_h: "mlp.dense_4h_to_h.weight",
  dense_4h_to_h_bias: "mlp.dense_4h_to_h.bias",
};

function blockShapes(c: GptNeoXConfig): Record<keyof GptNeoXBlock, number[]> {
  const d = c.dim, f = c.hiddenDim;
  return {
    inputNorm: [d],
    inputNormBias: [d],
    query_key_value: [3 * d, d],
    query_key_value_bias: [3 * d],
    dense: [d, d],
    dense_bias: [d],
    postAttentionNorm: [d],
    postAttentionNormBias: [d],
    dense_h_to_4h: [f, d],
    dense_h_to_4h_bias: [f],
    dense_4h_to_h: [d, f],
    dense_4h_to_h_bias: [d],
  };
}

/** The block fields a checkpoint with this config holds. */
function blockFields(c: GptNeoXConfig): (keyof GptNeoXBlock)[] {
  const all = Object.keys(HF_BLOCK) as (keyof GptNeoXBlock)[];
  return c.attentionBias
    ? all
    : all.filter((k) => k !== "query_key_value_bias" && k !== "dense_bias");
}

function parseConfig(o: Record<string, unknown>): GptNeoXConfig {
  checkArchitecture(o, "gpt_neox", "GPTNeoXForCausalLM");
  const act = configString(o, "hidden_act", "gelu");
  if (act !== "gelu") throw unsupported("hidden_act", act, '"gelu" (exact)');
  const dim = configInt(o, "hidden_size"), nHeads = configInt(o, "num_attention_heads");
  if (dim % nHeads !== 0) {
    throw new RangeError(
      `Cannot use config.json: hidden_size ${dim} is not a multiple of num_attention_heads ${nHeads}`,
    );
  }
  const rope = readRopeSettings(o, { headDim: dim / nHeads, defaultPartial: 0.25 });
  if (rope.scaling.type !== "default") throw unsupported("rope scaling", rope.scaling.type, "none");
  return {
    dim,
    hiddenDim: configInt(o, "intermediate_size"),
    nLayers: configInt(o, "num_hidden_layers"),
    nHeads,
    vocabSize: configInt(o, "vocab_size"),
    seqLen: configInt(o, "max_position_embeddings", 2048),
    normEps: configPositive(o, "layer_norm_eps", 1e-5),
    rotaryDims: rope.rotaryDim,
    ropeTheta: rope.theta,
    parallelResidual: configBool(o, "use_parallel_residual", true),
    attentionBias: configBool(o, "attention_bias", true),
    sharedClassifier: configBool(o, "tie_word_embeddings", false),
  };
}

function hfTensors(c: GptNeoXConfig): HfTensorSpec[] {
  const shapes = blockShapes(c), fields = blockFields(c);
  return [
    { name: "gpt_neox.embed_in.weight", shape: [c.vocabSize, c.dim] },
    ...Array.from(
      { length: c.nLayers },
      (_, n) =>
        fields.map((k) => ({ name: `gpt_neox.layers.${n}.${HF_BLOCK[k]}`, shape: shapes[k] })),
    ).flat(),
    { name: "gpt_neox.final_layer_norm.weight", shape: [c.dim] },
    { name: "gpt_neox.final_layer_norm.bias", shape: [c.dim] },
    ...(c.sharedClassifier ? [] : [{ name: "embed_out.weight", shape: [c.vocabSize, c.dim] }]),
  ];
}

function assemble(c: GptNeoXConfig, tensor: (name: string) => Float32Array): GptNeoXWeights {
  const shapes = blockShapes(c);
  const matrix = (name: string, [rows, cols]: number[]): Matrix => ({
    data: tensor(name),
    rows,
    cols,
  });
  const embedIn = matrix("gpt_neox.embed_in.weight", [c.vocabSize, c.dim]);
  const blocks = Array.from({ length: c.nLayers }, (_, n) => {
    const block: Record<string, Matrix | Float32Array> = {};
    for (const k of blockFields(c)) {
      const name = `gpt_neox.layers.${n}.${HF_BLOCK[k]}`;
      block[k] = shapes[k].length === 2 ? matrix(name, shapes[k]) : tensor(name);
    }
    return block as GptNeoXBlock;
  });
  return {
    family: "gpt_neox",
    config: c,
    embedIn,
    blocks,
    finalNorm: tensor("gpt_neox.final_layer_norm.weight"),
    finalNormBias: tensor("gpt_neox.final_layer_norm.bias"),
    embedOut: c.sharedClassifier ? embedIn : matrix("embed_out.weight", [c.vocabSize, c.dim]),
  };
}

const gptNeoXHf: HfFamily<GptNeoXWeights> = {
  modelTypes: ["gpt_neox"],
  architecture: "GPTNeoXForCausalLM",
  parseConfig,
  tensors: hfTensors,
  assemble,
  linearTensor: (_c, layer, name) =>
    `gpt_neox.layers.${layer}.${HF_BLOCK[name as keyof GptNeoXBlock]}`,
  exportLinear: (_c, _name, data) => data, // stored as transformers stores them
};

// ---------------------------------------------------------------------------------------------
// The family description (src/model/family.ts)

/** The linears of a block and what feeds each (module header). */
function linears(c: GptNeoXConfig): readonly LinearSpec[] {
  return [
    { name: "query_key_value", input: "query_key_value", after: [] },
    { name: "dense", input: "dense", after: ["query_key_value"] },
    { name: "dense_h_to_4h", input: "dense_h_to_4h", after: c.parallelResidual ? [] : ["dense"] },
    { name: "dense_4h_to_h", input: "dense_4h_to_h", after: ["dense_h_to_4h"] },
  ];
}

/**
 * `GPTNeoXForCausalLM` behind the common {@link Family} interface.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intraLayerGroups } from "./family.ts";
 * import { gptNeoXFamily, tinyGptNeoX } from "./gpt_neox.ts";
 * const { config } = tinyGptNeoX({ seed: 1 });
 * assert.deepEqual(intraLayerGroups(gptNeoXFamily.linears(config)), [["query_key_value", "dense_h_to_4h"], ["dense", "dense_4h_to_h"]]);
 * ```
 */
export const gptNeoXFamily: Family<GptNeoXWeights> = {
  name: "gpt_neox",
  linears,
  embed: gptNeoXEmbed,
  blockForward: gptNeoXBlockForward,
  logits: gptNeoXLogits,
  forwardReference: gptNeoXForwardReference,
  // h, x, qkv, attention, o, x2, up, gelu(up), down, output (the sequential h' aliases o + h)
  blockActivationCount: (c, tokens) => tokens * (7 * c.dim + 3 * c.dim + 2 * c.hiddenDim),
  hf: gptNeoXHf,
};
