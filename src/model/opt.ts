/**
 * The OPT family (`OPTForCausalLM`, Zhang et al., "OPT: Open Pre-trained Transformer Language
 * Models", arXiv:2205.01068), as transformers' `modeling_opt.py` computes it.
 *
 * Embeddings: `h_0[t] = project_in(E[token_t]) + P[t + 2]`: learned positions with their offset of
 * 2 (rows 0 and 1 of `P` are never used), `project_in` only when `word_embed_proj_dim` differs
 * from the hidden size.
 *
 * One block, for the hidden states `h` `[T, dim]` (`do_layer_norm_before`: pre-LN, OPT-125m and
 * most sizes; otherwise post-LN, OPT-350m):
 *
 *     pre-LN:   h' = h + Attn(LN1(h));        y = h' + FFN(LN2(h'))
 *     post-LN:  h' = LN1(h + Attn(h));        y = LN2(h' + FFN(h'))
 *     Attn(x) = softmax(q k^T / sqrt(headSize) + causal) v  Wout^T + bout,
 *               q, k, v = x Wq^T + bq, x Wk^T + bk, x Wv^T + bv          (no rotary: positions are
 *                                                                         in the embeddings)
 *     FFN(x)  = fc2(act(fc1 x + b1)) + b2                                 act: ReLU (`activation_function`)
 *
 * then (pre-LN) a final LayerNorm, `project_out` when present, and `logits = h Wlm^T` with
 * `lm_head` tied to the token embedding (`tie_word_embeddings`, OPT's default). Biases exist when
 * `enable_bias` (default). Every LayerNorm has a gain and a bias.
 *
 * The prunable linears are `q_proj`, `k_proj`, `v_proj`, `out_proj`, `fc1`, `fc2` (never
 * `project_in`/`project_out`, which sit outside the blocks). q, k, v read the attention input;
 * `out_proj` reads their attention; `fc1` reads what `out_proj`'s output becomes; `fc2` reads
 * `act(fc1 ...)`. FISTAPruner's intra-layer order: `q,k,v -> out_proj -> fc1 -> fc2`.
 *
 * @module
 */
import { linearInto } from "../linalg/matmul.ts";
import type { Matrix } from "../tensor/matrix.ts";
import { createRng, randn } from "../tensor/rng.ts";
import {
  checkArchitecture,
  configBool,
  configInt,
  configString,
  unsupported,
} from "../io/hf_config.ts";
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
  attention,
  checkBlockRun,
  checkTokens,
  layerNorm,
  layerNormRows,
  matvec,
} from "./layers.ts";
import { type ForwardWorkspace, workspaceTensor as tensor } from "./workspace.ts";

/** Hyper-parameters of an OPT model. */
export interface OptConfig extends ModelConfig {
  /** Width of the token embedding (`word_embed_proj_dim`); `project_in/out` when not `dim`. */
  wordDim: number;
  /** `do_layer_norm_before`: pre-LN (true) or post-LN (false). */
  preNorm: boolean;
  /** A final LayerNorm after the blocks (pre-LN models, unless `_remove_final_layer_norm`). */
  finalNorm: boolean;
  /** `activation_function`: `"relu"` or `"gelu"`. */
  activation: string;
  /** `enable_bias`: every linear of a block has a bias. */
  bias: boolean;
  /** `tie_word_embeddings`: `lm_head` is the token embedding. */
  sharedClassifier: boolean;
}

/** One OPT block; linears `[out, in]` under transformers' names, biases beside them. */
export type OptBlock = {
  attnNorm: Float32Array;
  attnNormBias: Float32Array;
  q_proj: Matrix;
  q_proj_bias?: Float32Array;
  k_proj: Matrix;
  k_proj_bias?: Float32Array;
  v_proj: Matrix;
  v_proj_bias?: Float32Array;
  out_proj: Matrix;
  out_proj_bias?: Float32Array;
  ffnNorm: Float32Array;
  ffnNormBias: Float32Array;
  fc1: Matrix;
  fc1_bias?: Float32Array;
  fc2: Matrix;
  fc2_bias?: Float32Array;
};

/** An OPT model. */
export interface OptWeights {
  family: "opt";
  config: OptConfig;
  /** `[vocab, wordDim]`. */
  embedTokens: Matrix;
  /** `[seqLen + 2, dim]` (row `t + 2` is position t). */
  embedPositions: Matrix;
  /** `[dim, wordDim]`, only when `wordDim !== dim`. */
  projectIn?: Matrix;
  blocks: OptBlock[];
  finalNorm?: Float32Array;
  finalNormBias?: Float32Array;
  /** `[wordDim, dim]`, only when `wordDim !== dim`. */
  projectOut?: Matrix;
  /** `[vocab, wordDim]`; the same object as `embedTokens` when tied. */
  lmHead: Matrix;
}

const POSITION_OFFSET = 2;

const LINEAR_SHAPES = (c: OptConfig): [keyof OptBlock, number, number][] => [
  ["q_proj", c.dim, c.dim],
  ["k_proj", c.dim, c.dim],
  ["v_proj", c.dim, c.dim],
  ["out_proj", c.dim, c.dim],
  ["fc1", c.hiddenDim, c.dim],
  ["fc2", c.dim, c.hiddenDim],
];

/**
 * `project_in(E[tokens]) + P[t + 2]`: token and learned position embeddings `[T, dim]`.
 *
 * @param w The model.
 * @param tokens Token ids in `[0, vocab)`, at most `seqLen` of them.
 * @param ws Optional workspace.
 * @returns `[T, dim]`.
 * @throws {RangeError} If a token id is out of range or the sequence is longer than `seqLen`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { optEmbed, tinyOpt } from "./opt.ts";
 * const w = tinyOpt({ seed: 1 }), h = optEmbed(w, [3]);
 * assert.equal(h.data[0], w.embedTokens.data[3 * 8] + w.embedPositions.data[2 * 8]);
 * ```
 */
export function optEmbed(w: OptWeights, tokens: ArrayLike<number>, ws?: ForwardWorkspace): Matrix {
  const c = w.config, T = tokens.length;
  checkTokens(c.vocabSize, tokens);
  if (T > c.seqLen) {
    throw new RangeError(
      `Cannot run the model: ${T} tokens exceed its ${c.seqLen} learned positions`,
    );
  }
  const words = tensor(ws, w.projectIn ? "words" : "hiddenB", T, c.wordDim);
  for (let t = 0; t < T; t++) {
    const row = tokens[t] * c.wordDim;
    words.data.set(w.embedTokens.data.subarray(row, row + c.wordDim), t * c.wordDim);
  }
  const h = w.projectIn ? linearInto(tensor(ws, "hiddenB", T, c.dim), words, w.projectIn) : words;
  for (let t = 0; t < T; t++) {
    const p = (t + POSITION_OFFSET) * c.dim;
    for (let i = 0; i < c.dim; i++) h.data[t * c.dim + i] += w.embedPositions.data[p + i];
  }
  return h;
}

/**
 * One OPT block over a sequence (module header), the hooks called with the inputs of `q_proj`,
 * `k_proj`, `v_proj`, `out_proj`, `fc1`, `fc2` in that order.
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
 * import { optBlockForward, optEmbed, tinyOpt } from "./opt.ts";
 * const w = tinyOpt({ seed: 1 }), seen: string[] = [];
 * optBlockForward(w, 0, optEmbed(w, [1, 2]), { onLinearInput: (_, n) => void seen.push(n) });
 * assert.deepEqual(seen, ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"]);
 * ```
 */
export function optBlockForward(
  w: OptWeights,
  layer: number,
  h: Matrix,
  hooks: ForwardHooks = {},
  ws?: ForwardWorkspace,
): Matrix {
  const c = w.config, b = w.blocks[layer];
  checkBlockRun(c, b, layer, LINEAR_SHAPES(c), h);
  const T = h.rows, see = (n: string, x: Matrix) => hooks.onLinearInput?.(layer, n, x);
  const t = (name: string, cols: number) => tensor(ws, name, T, cols);
  const linear = (out: string, x: Matrix, m: Matrix, bias?: Float32Array) =>
    addBias(linearInto(t(out, m.rows), x, m), bias);
  const norm = (x: Matrix, g: Float32Array, bias: Float32Array, out: Float32Array) =>
    layerNormRows(x, g, bias, 1e-5, out); // nn.LayerNorm's default eps
  // attention: x = LN1(h) (pre-LN) or h; a = Attn(x); h' = h + a Wout^T + b (post-LN: LN1 of it)
  const x = c.preNorm ? norm(h, b.attnNorm, b.attnNormBias, t("x", c.dim).data) : h;
  see("q_proj", x), see("k_proj", x), see("v_proj", x);
  const q = linear("q", x, b.q_proj, b.q_proj_bias), k = linear("k", x, b.k_proj, b.k_proj_bias);
  const v = linear("v", x, b.v_proj, b.v_proj_bias);
  const layout = { nHeads: c.nHeads, nKvHeads: c.nHeads, headSize: c.dim / c.nHeads };
  const a = attention(q, k, v, layout, t("attention", c.dim).data, ws?.scores);
  see("out_proj", a);
  const h1 = addInto(linear("h1", a, b.out_proj, b.out_proj_bias), h);
  if (!c.preNorm) norm(h1, b.attnNorm, b.attnNormBias, h1.data);
  // FFN: y = h' + fc2(act(fc1 x2)), x2 = LN2(h') (pre-LN) or h'; post-LN: LN2(y)
  const x2 = c.preNorm ? norm(h1, b.ffnNorm, b.ffnNormBias, t("x2", c.dim).data) : h1;
  see("fc1", x2);
  const up = linear("up", x2, b.fc1, b.fc1_bias), act = ACTIVATIONS[c.activation];
  for (let i = 0; i < up.data.length; i++) up.data[i] = act(up.data[i]);
  see("fc2", up);
  const onA = ws !== undefined && h.data.buffer === ws.buffers.hiddenA?.buffer;
  const y = addInto(linear(onA ? "hiddenB" : "hiddenA", up, b.fc2, b.fc2_bias), h1);
  return c.preNorm ? y : norm(y, b.ffnNorm, b.ffnNormBias, y.data);
}

/**
 * The final LayerNorm (pre-LN models), `project_out` and `lm_head`: logits `[T, vocab]`.
 *
 * @param w The model.
 * @param h Hidden states after the last block.
 * @param ws Optional workspace.
 * @returns Logits.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { optEmbed, optLogits, tinyOpt } from "./opt.ts";
 * const w = tinyOpt({ seed: 1 });
 * assert.equal(optLogits(w, optEmbed(w, [1])).cols, 16);
 * ```
 */
export function optLogits(w: OptWeights, h: Matrix, ws?: ForwardWorkspace): Matrix {
  const c = w.config, T = h.rows;
  let x = h;
  if (w.finalNorm !== undefined) {
    x = layerNormRows(h, w.finalNorm, w.finalNormBias!, 1e-5, tensor(ws, "x", T, c.dim).data);
  }
  if (w.projectOut) x = linearInto(tensor(ws, "words", T, c.wordDim), x, w.projectOut);
  return linearInto(tensor(ws, "logits", T, c.vocabSize), x, w.lmHead);
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
 * import { optForward, optForwardReference, tinyOpt } from "./opt.ts";
 * import { allClose } from "../check/all_close.ts";
 * for (const preNorm of [true, false]) {
 *   const w = tinyOpt({ seed: 2, preNorm, finalNorm: preNorm, wordDim: 6 });
 *   assert.ok(allClose(optForward(w, [1, 4, 9, 4]).data, optForwardReference(w, [1, 4, 9, 4]).data, { atol: 1e-5, rtol: 1e-4 }).ok);
 * }
 * ```
 */
export function optForward(
  w: OptWeights,
  tokens: ArrayLike<number>,
  hooks?: ForwardHooks,
  ws?: ForwardWorkspace,
): Matrix {
  let h = optEmbed(w, tokens, ws);
  for (let l = 0; l < w.config.nLayers; l++) h = optBlockForward(w, l, h, hooks, ws);
  return optLogits(w, h, ws);
}

/**
 * The token-at-a-time twin with a KV cache (the oracle of {@link optForward}).
 *
 * @param w The model.
 * @param tokens Token ids.
 * @returns Logits `[T, vocab]`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { optForwardReference, tinyOpt } from "./opt.ts";
 * assert.equal(optForwardReference(tinyOpt({ seed: 1 }), [1, 2]).rows, 2);
 * ```
 */
export function optForwardReference(w: OptWeights, tokens: ArrayLike<number>): Matrix {
  const c = w.config, dim = c.dim, eps = 1e-5, act = ACTIVATIONS[c.activation];
  checkTokens(c.vocabSize, tokens);
  const keys: Float32Array[][] = w.blocks.map(() => []),
    values: Float32Array[][] = w.blocks.map(() => []);
  const layout = { nHeads: c.nHeads, nKvHeads: c.nHeads, headSize: dim / c.nHeads };
  const out = new Float32Array(tokens.length * c.vocabSize);
  for (let pos = 0; pos < tokens.length; pos++) {
    const word = w.embedTokens.data.slice(tokens[pos] * c.wordDim, (tokens[pos] + 1) * c.wordDim);
    const projected = w.projectIn ? matvec(w.projectIn, word) : word;
    const p = (pos + POSITION_OFFSET) * dim;
    let x: Float32Array = projected.map((e, i) => e + w.embedPositions.data[p + i]);
    w.blocks.forEach((b, l) => {
      const xa = c.preNorm ? layerNorm(x, b.attnNorm, b.attnNormBias, eps) : x;
      keys[l].push(matvec(b.k_proj, xa, b.k_proj_bias));
      values[l].push(matvec(b.v_proj, xa, b.v_proj_bias));
      const q = matvec(b.q_proj, xa, b.q_proj_bias);
      const o = matvec(b.out_proj, attendOne(q, keys[l], values[l], layout), b.out_proj_bias);
      let h1: Float32Array = x.map((xi, i) => xi + o[i]);
      if (!c.preNorm) h1 = layerNorm(h1, b.attnNorm, b.attnNormBias, eps);
      const xf = c.preNorm ? layerNorm(h1, b.ffnNorm, b.ffnNormBias, eps) : h1;
      const down = matvec(b.fc2, matvec(b.fc1, xf, b.fc1_bias).map(act), b.fc2_bias);
      const y = h1.map((hi, i) => hi + down[i]);
      x = c.preNorm ? y : layerNorm(y, b.ffnNorm, b.ffnNormBias, eps);
    });
    if (w.finalNorm !== undefined) x = layerNorm(x, w.finalNorm, w.finalNormBias!, eps);
    const last = w.projectOut ? matvec(w.projectOut, x) : x;
    out.set(matvec(w.lmHead, last), pos * c.vocabSize);
  }
  return { data: out, rows: tokens.length, cols: c.vocabSize };
}

/**
 * A small random OPT model for examples and tests: dim 8, ffn 32, 2 layers, 2 heads, vocab 16,
 * 32 positions, pre-LN, ReLU, biases, tied head, by default (`wordDim` other than 8 adds
 * `project_in`/`project_out`).
 *
 * @param options `seed` and any config field to override.
 * @returns The model.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyOpt } from "./opt.ts";
 * const w = tinyOpt({ seed: 1, wordDim: 4 });
 * assert.deepEqual([w.projectIn!.rows, w.projectIn!.cols, w.lmHead.cols], [8, 4, 4]);
 * ```
 */
export function tinyOpt(options: Partial<OptConfig> & { seed: number }): OptWeights {
  const { seed, ...overrides } = options;
  const config: OptConfig = {
    dim: 8,
    hiddenDim: 32,
    nLayers: 2,
    nHeads: 2,
    vocabSize: 16,
    seqLen: 32,
    wordDim: 8,
    preNorm: true,
    finalNorm: true,
    activation: "relu",
    bias: true,
    sharedClassifier: true,
    ...overrides,
  };
  const rng = createRng(seed), d = config.dim, f = config.hiddenDim;
  const m = (rows: number, cols: number): Matrix => ({
    data: randn(rows * cols, rng, 1 / Math.sqrt(cols)),
    rows,
    cols,
  });
  const vec = (n: number, around = 0) => randn(n, rng, 0.1).map((v) => around + v);
  const bias = (n: number) => (config.bias ? vec(n) : undefined);
  const embedTokens = m(config.vocabSize, config.wordDim);
  const blocks = Array.from({ length: config.nLayers }, (): OptBlock => ({
    attnNorm: vec(d, 1),
    attnNormBias: vec(d),
    q_proj: m(d, d),
    q_proj_bias: bias(d),
    k_proj: m(d, d),
    k_proj_bias: bias(d),
    v_proj: m(d, d),
    v_proj_bias: bias(d),
    out_proj: m(d, d),
    out_proj_bias: bias(d),
    ffnNorm: vec(d, 1),
    ffnNormBias: vec(d),
    fc1: m(f, d),
    fc1_bias: bias(f),
    fc2: m(d, f),
    fc2_bias: bias(d),
  }));
  const projected = config.wordDim !== d;
  return {
    family: "opt",
    config,
    embedTokens,
    embedPositions: m(config.seqLen + POSITION_OFFSET, d),
    ...(projected ? { projectIn: m(d, config.wordDim), projectOut: m(config.wordDim, d) } : {}),
    blocks,
    ...(config.finalNorm ? { finalNorm: vec(d, 1), finalNormBias: vec(d) } : {}),
    lmHead: config.sharedClassifier ? embedTokens : m(config.vocabSize, config.wordDim),
  };
}

// ---------------------------------------------------------------------------------------------
// Hugging Face layout

/** transformers' names of a block's tensors (inside `model.decoder.layers.N.`), by block field. */
const HF_BLOCK: Readonly<Record<keyof OptBlock, string>> = {
  attnNorm: "self_attn_layer_norm.weight",
  attnNormBias: "self_attn_layer_norm.bias",
  q_proj: "self_attn.q_proj.weight",
  q_proj_bias: "self_attn.q_proj.bias",
  k_proj: "self_attn.k_proj.weight",
  k_proj_bias: "self_attn.k_proj.bias",
  v_proj: "self_attn.v_proj.weight",
  v_proj_bias: "self_attn.v_proj.bias",
  out_proj: "self_attn.out_proj.weight",
  out_proj_bias: "self_attn.out_proj.bias",
  ffnNorm: "final_layer_norm.weight",
  ffnNormBias: "final_layer_norm.bias",
  fc1: "fc1.weight",
  fc1_bias: "fc1.bias",
  fc2: "fc2.weight",
  fc2_bias: "fc2.bias",
};

/** The block's tensors a checkpoint with this config holds, with their shapes. */
function blockSpecs(c: OptConfig): [keyof OptBlock, number[]][] {
  const specs: [keyof OptBlock, number[]][] = [];
  for (const [name, rows, cols] of LINEAR_SHAPES(c)) {
    if (name === "q_proj") specs.push(["attnNorm", [c.dim]], ["attnNormBias", [c.dim]]);
    if (name === "fc1") specs.push(["ffnNorm", [c.dim]], ["ffnNormBias", [c.dim]]);
    specs.push([name, [rows, cols]]);
    if (c.bias) specs.push([`${name}_bias` as keyof OptBlock, [rows]]);
  }
  return specs;
}

function parseConfig(o: Record<string, unknown>): OptConfig {
  checkArchitecture(o, "opt", "OPTForCausalLM");
  const activation = configString(o, "activation_function", "relu");
  if (activation !== "relu" && activation !== "gelu") {
    throw unsupported("activation_function", activation, "relu, gelu");
  }
  if (!configBool(o, "layer_norm_elementwise_affine", true)) {
    throw unsupported("layer_norm_elementwise_affine", false, "true");
  }
  const dim = configInt(o, "hidden_size"), nHeads = configInt(o, "num_attention_heads");
  if (dim % nHeads !== 0) {
    throw new RangeError(
      `Cannot use config.json: hidden_size ${dim} is not a multiple of num_attention_heads ${nHeads}`,
    );
  }
  const preNorm = configBool(o, "do_layer_norm_before", true);
  return {
    dim,
    hiddenDim: configInt(o, "ffn_dim"),
    nLayers: configInt(o, "num_hidden_layers"),
    nHeads,
    vocabSize: configInt(o, "vocab_size"),
    seqLen: configInt(o, "max_position_embeddings", 2048),
    wordDim: configInt(o, "word_embed_proj_dim", dim),
    preNorm,
    finalNorm: preNorm && !configBool(o, "_remove_final_layer_norm", false),
    activation,
    bias: configBool(o, "enable_bias", true),
    sharedClassifier: configBool(o, "tie_word_embeddings", true),
  };
}

function hfTensors(c: OptConfig): HfTensorSpec[] {
  const p = "model.decoder.", projected = c.wordDim !== c.dim;
  const specs: HfTensorSpec[] = [
    { name: `${p}embed_tokens.weight`, shape: [c.vocabSize, c.wordDim] },
    { name: `${p}embed_positions.weight`, shape: [c.seqLen + POSITION_OFFSET, c.dim] },
  ];
  if (projected) specs.push({ name: `${p}project_in.weight`, shape: [c.dim, c.wordDim] });
  for (let n = 0; n < c.nLayers; n++) {
    for (const [k, shape] of blockSpecs(c)) {
      specs.push({ name: `${p}layers.${n}.${HF_BLOCK[k]}`, shape });
    }
  }
  if (c.finalNorm) {
    specs.push({ name: `${p}final_layer_norm.weight`, shape: [c.dim] });
    specs.push({ name: `${p}final_layer_norm.bias`, shape: [c.dim] });
  }
  if (projected) specs.push({ name: `${p}project_out.weight`, shape: [c.wordDim, c.dim] });
  if (!c.sharedClassifier) specs.push({ name: "lm_head.weight", shape: [c.vocabSize, c.wordDim] });
  return specs;
}

function assemble(c: OptConfig, tensor: (name: string) => Float32Array): OptWeights {
  const p = "model.decoder.";
  const matrix = (name: string, [rows, cols]: number[]): Matrix => ({
    data: tensor(name),
    rows,
    cols,
  });
  const embedTokens = matrix(`${p}embed_tokens.weight`, [c.vocabSize, c.wordDim]);
  const blocks = Array.from({ length: c.nLayers }, (_, n) => {
    const block: Record<string, Matrix | Float32Array> = {};
    for (const [k, shape] of blockSpecs(c)) {
      const name = `${p}layers.${n}.${HF_BLOCK[k]}`;
      block[k] = shape.length === 2 ? matrix(name, shape) : tensor(name);
    }
    return block as OptBlock;
  });
  const projected = c.wordDim !== c.dim;
  return {
    family: "opt",
    config: c,
    embedTokens,
    embedPositions: matrix(`${p}embed_positions.weight`, [c.seqLen + POSITION_OFFSET, c.dim]),
    ...(projected ? { projectIn: matrix(`${p}project_in.weight`, [c.dim, c.wordDim]) } : {}),
    blocks,
    ...(c.finalNorm
      ? {
        finalNorm: tensor(`${p}final_layer_norm.weight`),
        finalNormBias: tensor(`${p}final_layer_norm.bias`),
      }
      : {}),
    ...(projected ? { projectOut: matrix(`${p}project_out.weight`, [c.wordDim, c.dim]) } : {}),
    lmHead: c.sharedClassifier ? embedTokens : matrix("lm_head.weight", [c.vocabSize, c.wordDim]),
  };
}

const optHf: HfFamily<OptWeights> = {
  modelTypes: ["opt"],
  architecture: "OPTForCausalLM",
  parseConfig,
  tensors: hfTensors,
  assemble,
  linearTensor: (_c, layer, name) =>
    `model.decoder.layers.${layer}.${HF_BLOCK[name as keyof OptBlock]}`,
  exportLinear: (_c, _name, data) => data, // stored as transformers stores them
};

// ---------------------------------------------------------------------------------------------
// The family description (src/model/family.ts)

/** The linears of a block and what feeds each (module header). */
const OPT_LINEARS: readonly LinearSpec[] = [
  { name: "q_proj", input: "q_proj", after: [] },
  { name: "k_proj", input: "q_proj", after: [] },
  { name: "v_proj", input: "q_proj", after: [] },
  { name: "out_proj", input: "out_proj", after: ["q_proj", "k_proj", "v_proj"] },
  { name: "fc1", input: "fc1", after: ["out_proj"] },
  { name: "fc2", input: "fc2", after: ["fc1"] },
];

/**
 * `OPTForCausalLM` behind the common {@link Family} interface.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intraLayerGroups } from "./family.ts";
 * import { optFamily, tinyOpt } from "./opt.ts";
 * assert.deepEqual(intraLayerGroups(optFamily.linears(tinyOpt({ seed: 1 }).config)), [["q_proj", "k_proj", "v_proj"], ["out_proj"], ["fc1"], ["fc2"]]);
 * ```
 */
export const optFamily: Family<OptWeights> = {
  name: "opt",
  linears: () => OPT_LINEARS,
  embed: optEmbed,
  blockForward: optBlockForward,
  logits: optLogits,
  forwardReference: optForwardReference,
  // h, x, q, k, v, attention, o, h', x2, fc1, act, fc2, output
  blockActivationCount: (c, tokens) => tokens * (11 * c.dim + 2 * c.hiddenDim),
  hf: optHf,
};
