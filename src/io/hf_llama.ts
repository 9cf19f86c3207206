/**
 * The Hugging Face Llama layout (`config.json` + `model.safetensors`), read into and written from
 * {@link LlamaWeights}.
 *
 * Tensor names (transformers' `LlamaForCausalLM` state dict) and their llama2.c counterparts:
 *
 * | HF tensor | LlamaWeights |
 * | --- | --- |
 * | `model.embed_tokens.weight` | `tokenEmbedding` |
 * | `model.layers.N.input_layernorm.weight` | `blocks[N].rmsAtt` |
 * | `model.layers.N.self_attn.q_proj.weight` | `blocks[N].wq` (rows permuted, below) |
 * | `model.layers.N.self_attn.k_proj.weight` | `blocks[N].wk` (rows permuted, n_kv_heads) |
 * | `model.layers.N.self_attn.v_proj.weight` | `blocks[N].wv` |
 * | `model.layers.N.self_attn.o_proj.weight` | `blocks[N].wo` |
 * | `model.layers.N.post_attention_layernorm.weight` | `blocks[N].rmsFfn` |
 * | `model.layers.N.mlp.gate_proj.weight` | `blocks[N].w1` |
 * | `model.layers.N.mlp.up_proj.weight` | `blocks[N].w3` |
 * | `model.layers.N.mlp.down_proj.weight` | `blocks[N].w2` |
 * | `model.norm.weight` | `rmsFinal` |
 * | `lm_head.weight` (absent when `tie_word_embeddings`) | `classifier` |
 *
 * RoPE layout. llama2.c (like Meta's original Llama code) rotates adjacent pairs
 * `(x[2i], x[2i+1])` of each head; HF's `rotate_half` rotates `(x[i], x[i + headSize/2])`. The two
 * models compute the same function once the rows of `wq` and `wk` are reordered within each head:
 * HF row `i` is llama2.c row `2i`, and HF row `i + headSize/2` is llama2.c row `2i + 1`. This is
 * transformers' `convert_llama_weights_to_hf.py`
 * `permute(w, n_heads) = w.view(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2)`,
 * which llama2.c's `export.py` also applies as `permute_original` in `hf_export`; its inverse
 * (`permute_reverse` in llama2.c's `load_hf_model`) takes HF weights back. `wk` uses n_kv_heads.
 *
 * Biases (`attention_bias`, `mlp_bias`, Qwen2's q/k/v) are `.bias` tensors next to their weights,
 * permuted like their rows. Qwen2 (`Qwen2ForCausalLM`) is the same layout with q/k/v biases.
 *
 * @module
 */
import type { HfFamily, HfTensorSpec } from "../model/family.ts";
import { LINEAR_NAMES } from "../model/weights.ts";
import type { LinearName, LlamaBlock, LlamaConfig, LlamaWeights } from "../model/weights.ts";
import { checkMatrix, type Matrix } from "../tensor/matrix.ts";
import type { SafetensorsDtypeOut, SafetensorsEntry, SafetensorsIndex } from "./safetensors.ts";

import { hfLlamaConfigJson, parseHfLlamaConfig } from "./hf_llama_config.ts";

export { hfLlamaConfigJson, parseHfLlamaConfig };

/**
 * Moves whole rows between llama2.c's and HF's RoPE orders. Within head `h`, llama2.c row
 * `2j + t` (member `t` of pair `j`) is HF row `t * headSize/2 + j` (index `j` of half `t`).
 */
function reorderRopeRows(w: Matrix, nHeads: number, toHf: boolean): Matrix {
  checkMatrix(w, "weight");
  const headSize = w.rows / nHeads;
  if (
    !Number.isInteger(nHeads) || nHeads <= 0 || !Number.isInteger(headSize) || headSize % 2 !== 0
  ) {
    throw new RangeError(
      `Cannot ${toHf ? "permute" : "unpermute"} weight [${w.rows}, ${w.cols}] for RoPE: ` +
        `rows must split into ${nHeads} heads of even size`,
    );
  }
  const half = headSize / 2, cols = w.cols;
  const out = new Float32Array(w.data.length);
  for (let h = 0; h < nHeads; h++) {
    for (let t = 0; t < 2; t++) {
      for (let j = 0; j < half; j++) {
        const llamaRow = (h * headSize + 2 * j + t) * cols;
        const hfRow = (h * headSize + t * half + j) * cols;
        const [from, to] = toHf ? [llamaRow, hfRow] : [hfRow, llamaRow];
        out.set(w.data.subarray(from, from + cols), to);
      }
    }
  }
  return { data: out, rows: w.rows, cols };
}

/**
 * Reorders the rows of a llama2.c `wq`/`wk` (adjacent-pair RoPE) into HF's half-split order:
 * within each head, new row `t * headSize/2 + j` is old row `2j + t` (transformers' `permute`).
 *
 * @param w `[nHeads * headSize, cols]` in llama2.c order (not modified).
 * @param nHeads Heads of this projection (n_heads for `wq`, n_kv_heads for `wk`).
 * @returns A new matrix in HF order.
 * @throws {TypeError} If `w` is not a Matrix.
 * @throws {RangeError} If the rows do not split into `nHeads` heads of even size.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { permuteForHfRope } from "./hf_llama.ts";
 * const w = { data: new Float32Array([0, 1, 2, 3]), rows: 4, cols: 1 }; // one head of size 4
 * assert.deepEqual(Array.from(permuteForHfRope(w, 1).data), [0, 2, 1, 3]);
 * ```
 */
export function permuteForHfRope(w: Matrix, nHeads: number): Matrix {
  return reorderRopeRows(w, nHeads, true);
}

/**
 * The inverse of {@link permuteForHfRope}: HF's half-split rows back to llama2.c's adjacent pairs.
 *
 * @param w `[nHeads * headSize, cols]` in HF order (not modified).
 * @param nHeads Heads of this projection.
 * @returns A new matrix in llama2.c order.
 * @throws {TypeError} If `w` is not a Matrix.
 * @throws {RangeError} If the rows do not split into `nHeads` heads of even size.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unpermuteFromHfRope } from "./hf_llama.ts";
 * const w = { data: new Float32Array([0, 2, 1, 3]), rows: 4, cols: 1 };
 * assert.deepEqual(Array.from(unpermuteFromHfRope(w, 1).data), [0, 1, 2, 3]);
 * ```
 */
export function unpermuteFromHfRope(w: Matrix, nHeads: number): Matrix {
  return reorderRopeRows(w, nHeads, false);
}

export type { HfTensorSpec } from "../model/family.ts";

/**
 * The tensors an HF Llama checkpoint with this config must hold, in the order we write them.
 *
 * @param config The model's hyper-parameters.
 * @returns Names and shapes (`lm_head.weight` only when the classifier is not shared).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hfLlamaTensorSpecs } from "./hf_llama.ts";
 * const config = { dim: 8, hiddenDim: 16, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize: 10,
 *   seqLen: 32, normEps: 1e-5, ropeTheta: 10000, sharedClassifier: true };
 * const specs = hfLlamaTensorSpecs(config);
 * assert.equal(specs.length, 2 + 9);
 * assert.deepEqual(specs.find((s) => s.name.endsWith("k_proj.weight"))?.shape, [4, 8]);
 * ```
 */
export function hfLlamaTensorSpecs(config: LlamaConfig): HfTensorSpec[] {
  const { dim, vocabSize } = config;
  const specs: HfTensorSpec[] = [{ name: "model.embed_tokens.weight", shape: [vocabSize, dim] }];
  const shapes = linearShapes(config);
  for (let n = 0; n < config.nLayers; n++) {
    const p = `model.layers.${n}.`;
    specs.push({ name: `${p}input_layernorm.weight`, shape: [dim] });
    for (const name of LINEAR_NAMES) {
      if (name === "w1") specs.push({ name: `${p}post_attention_layernorm.weight`, shape: [dim] });
      const [rows, cols] = shapes[name];
      specs.push({ name: `${p}${HF_LINEAR[name]}.weight`, shape: [rows, cols] });
      if (config.biases?.includes(name)) {
        specs.push({ name: `${p}${HF_LINEAR[name]}.bias`, shape: [rows] });
      }
    }
  }
  specs.push({ name: "model.norm.weight", shape: [dim] });
  if (!config.sharedClassifier) specs.push({ name: "lm_head.weight", shape: [vocabSize, dim] });
  return specs;
}

/** HF names of the linears inside `model.layers.N.` (transformers' `LlamaForCausalLM`). */
export const HF_LINEAR: Readonly<Record<LinearName, string>> = {
  wq: "self_attn.q_proj",
  wk: "self_attn.k_proj",
  wv: "self_attn.v_proj",
  wo: "self_attn.o_proj",
  w1: "mlp.gate_proj",
  w3: "mlp.up_proj",
  w2: "mlp.down_proj",
};

/** The block field holding the bias of each linear. */
const BIAS: Readonly<Record<LinearName, BiasName>> = {
  wq: "bq",
  wk: "bk",
  wv: "bv",
  wo: "bo",
  w1: "b1",
  w3: "b3",
  w2: "b2",
};
type BiasName = "bq" | "bk" | "bv" | "bo" | "b1" | "b2" | "b3";

/** `[rows, cols]` of every linear for `config` (explicit `headDim` honoured). */
function linearShapes(config: LlamaConfig): Record<LinearName, [number, number]> {
  const headSize = config.headDim ?? config.dim / config.nHeads, d = config.dim;
  const q = config.nHeads * headSize, kv = config.nKvHeads * headSize, f = config.hiddenDim;
  return { wq: [q, d], wk: [kv, d], wv: [kv, d], wo: [d, q], w1: [f, d], w3: [f, d], w2: [d, f] };
}

/** Heads of the linears whose rows RoPE pairs (q: n_heads, k: n_kv_heads); 0 for the others. */
function ropeHeads(config: LlamaConfig, name: LinearName): number {
  return name === "wq" ? config.nHeads : name === "wk" ? config.nKvHeads : 0;
}

/**
 * A linear's weight (or mask, or bias as a `[rows, 1]` column) between the model's row order and
 * the HF file's: q and k rows are permuted for RoPE, the others are as they are.
 */
function hfRows<T extends Float32Array | Uint8Array>(
  config: LlamaConfig,
  name: LinearName,
  data: T,
  toHf: boolean,
): T {
  const heads = ropeHeads(config, name);
  if (heads === 0) return data;
  const rows = linearShapes(config)[name][0];
  const m = { data: Float32Array.from(data), rows, cols: data.length / rows };
  const out = reorderRopeRows(m, heads, toHf).data;
  return (data instanceof Uint8Array ? Uint8Array.from(out) : out) as T;
}

/** The HF tensors of one block, by HF name, from the model's order (q/k permuted). */
function blockTensors(config: LlamaConfig, b: LlamaBlock, n: number): Map<string, Float32Array> {
  const p = `model.layers.${n}.`;
  const out = new Map<string, Float32Array>([
    [`${p}input_layernorm.weight`, b.rmsAtt],
    [`${p}post_attention_layernorm.weight`, b.rmsFfn],
  ]);
  for (const name of LINEAR_NAMES) {
    out.set(`${p}${HF_LINEAR[name]}.weight`, hfRows(config, name, b[name].data, true));
    const bias = b[BIAS[name]];
    if (bias !== undefined) {
      out.set(`${p}${HF_LINEAR[name]}.bias`, hfRows(config, name, bias, true));
    }
  }
  return out;
}

/** Options for {@link llamaToHf}. */
export interface LlamaToHfOptions {
  /** Storage dtype of every tensor (default `"F32"`; F16/BF16 round to nearest even). */
  dtype?: "F32" | "F16" | "BF16";
}

/**
 * Converts weights to the HF Llama layout: a `config.json` object and the safetensors entries
 * (give both to `writeSafetensors` / `safetensorsChunks`, with `metadata`).
 *
 * @param weights The model (not modified; unpermuted tensors are shared, not copied).
 * @param options `dtype` of the stored tensors.
 * @returns `config` (for `config.json`), `entries` and `metadata` (`{format: "pt"}`, which
 *   transformers requires).
 * @throws {TypeError} If a tensor has the wrong shape for `weights.config`.
 * @throws {RangeError} If the config is invalid (see {@link parseHfLlamaConfig}).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { llamaToHf } from "./hf_llama.ts";
 * const config = { dim: 4, hiddenDim: 8, nLayers: 1, nHeads: 1, nKvHeads: 1, vocabSize: 3,
 *   seqLen: 16, normEps: 1e-5, ropeTheta: 10000, sharedClassifier: true };
 * const m = (rows: number, cols: number) => ({ data: new Float32Array(rows * cols), rows, cols });
 * const emb = m(3, 4);
 * const block = { rmsAtt: new Float32Array(4), wq: m(4, 4), wk: m(4, 4), wv: m(4, 4), wo: m(4, 4),
 *   rmsFfn: new Float32Array(4), w1: m(8, 4), w2: m(4, 8), w3: m(8, 4) };
 * const hf = llamaToHf({ config, tokenEmbedding: emb, blocks: [block], rmsFinal: new Float32Array(4), classifier: emb });
 * assert.equal(hf.config.hidden_size, 4);
 * assert.equal(hf.entries.length, 11);
 * ```
 */
export function llamaToHf(
  weights: LlamaWeights,
  options: LlamaToHfOptions = {},
): {
  config: Record<string, unknown>;
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
} {
  const dtype: SafetensorsDtypeOut = options.dtype ?? "F32";
  const config = parseHfLlamaConfig(hfLlamaConfigJson(weights.config, dtype)); // validates
  if (weights.blocks?.length !== config.nLayers) {
    throw new TypeError(
      `Cannot convert to HF Llama: ${weights.blocks?.length} blocks, config says ${config.nLayers}`,
    );
  }
  const tensors = new Map<string, Float32Array>([
    ["model.embed_tokens.weight", weights.tokenEmbedding.data],
    ["model.norm.weight", weights.rmsFinal],
    ["lm_head.weight", weights.classifier.data],
  ]);
  weights.blocks.forEach((b, n) => blockTensors(config, b, n).forEach((t, k) => tensors.set(k, t)));
  const specs = hfLlamaTensorSpecs(config);
  const entries = specs.map(({ name, shape }): SafetensorsEntry => {
    const count = shape.reduce((p, d) => p * d, 1), data = tensors.get(name);
    if (!(data instanceof Float32Array) || data.length !== count) {
      throw new TypeError(
        `Cannot convert to HF Llama: ${name} needs ${count} float32 values [${
          shape.join(", ")
        }], got ${data?.length}`,
      );
    }
    return { name, dtype, shape, data };
  });
  return { config: hfLlamaConfigJson(config, dtype), entries, metadata: { format: "pt" } };
}

/** Checks a tensor's header entry against the shape the config implies. */
function checkSpec(file: HfTensorFile, spec: HfTensorSpec): void {
  if (!file.has(spec.name)) {
    throw new RangeError(`Cannot read HF Llama checkpoint: tensor "${spec.name}" is missing`);
  }
  const { dtype, shape } = file.info(spec.name);
  if (!["F32", "F16", "BF16", "F64"].includes(dtype)) {
    throw new TypeError(
      `Cannot read HF Llama checkpoint: tensor "${spec.name}" has dtype ${dtype}, not a float`,
    );
  }
  if (shape.join(",") !== spec.shape.join(",")) {
    throw new TypeError(
      `Cannot read HF Llama checkpoint: tensor "${spec.name}" has shape [${
        shape.join(", ")
      }], config.json implies [${spec.shape.join(", ")}]`,
    );
  }
}

/**
 * Builds the model from its HF tensors (by name, float32 as stored): q/k rows (and biases) back in
 * llama2.c's adjacent-pair RoPE order, the classifier tied when the config says so.
 *
 * @param config The parsed config (`family` is set from it: `"qwen2"` for Qwen2's biases).
 * @param tensor The tensor of an HF name (every name of {@link hfLlamaTensorSpecs}).
 * @param family The family name to record in the model.
 * @returns The weights.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assembleLlama, hfLlamaTensorSpecs } from "./hf_llama.ts";
 * const config = { dim: 4, hiddenDim: 8, nLayers: 1, nHeads: 1, nKvHeads: 1, vocabSize: 3,
 *   seqLen: 16, normEps: 1e-5, ropeTheta: 10000, sharedClassifier: true };
 * const sizes = new Map(hfLlamaTensorSpecs(config).map((s) => [s.name, s.shape.reduce((a, b) => a * b)]));
 * const w = assembleLlama(config, (name) => new Float32Array(sizes.get(name)!));
 * assert.equal(w.classifier, w.tokenEmbedding);
 * ```
 */
export function assembleLlama(
  config: LlamaConfig,
  tensor: (name: string) => Float32Array,
  family: "llama" | "qwen2" = "llama",
): LlamaWeights {
  const shapes = linearShapes(config);
  const m = (name: string, [rows, cols]: [number, number]): Matrix => ({
    data: tensor(name),
    rows,
    cols,
  });
  const { dim, vocabSize } = config;
  const tokenEmbedding = m("model.embed_tokens.weight", [vocabSize, dim]);
  const blocks: LlamaBlock[] = [];
  for (let n = 0; n < config.nLayers; n++) {
    const p = `model.layers.${n}.`;
    const block: Partial<LlamaBlock> = {
      rmsAtt: tensor(`${p}input_layernorm.weight`),
      rmsFfn: tensor(`${p}post_attention_layernorm.weight`),
    };
    for (const name of LINEAR_NAMES) {
      const w = m(`${p}${HF_LINEAR[name]}.weight`, shapes[name]);
      block[name] = { ...w, data: hfRows(config, name, w.data, false) };
      if (config.biases?.includes(name)) {
        block[BIAS[name]] = hfRows(config, name, tensor(`${p}${HF_LINEAR[name]}.bias`), false);
      }
    }
    blocks.push(block as LlamaBlock);
  }
  const classifier = config.sharedClassifier
    ? tokenEmbedding
    : m("lm_head.weight", [vocabSize, dim]);
  const rmsFinal = tensor("model.norm.weight");
  return {
    ...(family === "llama" ? {} : { family }),
    config,
    tokenEmbedding,
    blocks,
    rmsFinal,
    classifier,
  };
}

/**
 * The Hugging Face half of the Llama family description (and Qwen2's, which differs only in
 * its `model_type`, architecture and q/k/v biases): what `src/model/family.ts`'s `HfFamily` asks.
 *
 * @param family `"llama"` or `"qwen2"`.
 * @returns The codec.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { llamaHfFamily } from "./hf_llama.ts";
 * const hf = llamaHfFamily("qwen2");
 * assert.equal(hf.architecture, "Qwen2ForCausalLM");
 * ```
 */
export function llamaHfFamily(family: "llama" | "qwen2"): HfFamily<LlamaWeights> {
  const modelType = family;
  return {
    modelTypes: [modelType],
    architecture: family === "llama" ? "LlamaForCausalLM" : "Qwen2ForCausalLM",
    parseConfig: (json) => parseHfLlamaConfig({ model_type: modelType, ...json }),
    tensors: (config) => hfLlamaTensorSpecs(config),
    assemble: (config, tensor) => assembleLlama(config, tensor, family),
    linearTensor: (_config, layer, name) =>
      `model.layers.${layer}.${HF_LINEAR[name as LinearName]}.weight`,
    exportLinear: (config, name, data) => hfRows(config, name as LinearName, data, true),
  };
}

/** A safetensors file in memory or a streaming reader (both from `safetensors.ts`). */
export interface HfTensorFile extends Pick<SafetensorsIndex, "has"> {
  info(name: string): { dtype: string; shape: number[] };
  float32(name: string): Float32Array | Promise<Float32Array>;
}

/**
 * Reads LlamaWeights from an HF Llama checkpoint held in memory.
 *
 * @param configJson The parsed `config.json` (or its text).
 * @param file The `model.safetensors` file (from `readSafetensors`).
 * @returns The weights, `wq`/`wk` rows back in llama2.c's RoPE order; float32.
 * @throws {TypeError} If config.json is malformed or a tensor has the wrong shape or dtype.
 * @throws {RangeError} If a config value is out of range or a tensor is missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { llamaFromHf, llamaToHf } from "./hf_llama.ts";
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * const config = { dim: 4, hiddenDim: 8, nLayers: 1, nHeads: 1, nKvHeads: 1, vocabSize: 3,
 *   seqLen: 16, normEps: 1e-5, ropeTheta: 10000, sharedClassifier: true };
 * const m = (rows: number, cols: number) => ({ data: new Float32Array(rows * cols).map(Math.random), rows, cols });
 * const emb = m(3, 4);
 * const block = { rmsAtt: new Float32Array(4), wq: m(4, 4), wk: m(4, 4), wv: m(4, 4), wo: m(4, 4),
 *   rmsFfn: new Float32Array(4), w1: m(8, 4), w2: m(4, 8), w3: m(8, 4) };
 * const hf = llamaToHf({ config, tokenEmbedding: emb, blocks: [block], rmsFinal: new Float32Array(4), classifier: emb });
 * const back = llamaFromHf(hf.config, readSafetensors(writeSafetensors(hf.entries, hf.metadata)));
 * assert.deepEqual(back.blocks[0].wq, block.wq);
 * assert.equal(back.classifier, back.tokenEmbedding);
 * ```
 */
export function llamaFromHf(configJson: unknown, file: HfTensorFile): LlamaWeights {
  const config = parseHfLlamaConfig(configJson);
  const specs = hfLlamaTensorSpecs(config);
  specs.forEach((s) => checkSpec(file, s));
  const tensors = specs.map((s) => {
    const t = file.float32(s.name);
    if (!(t instanceof Float32Array)) {
      throw new TypeError(
        "Cannot read HF Llama checkpoint: use llamaFromHfReader for a streaming reader",
      );
    }
    return t;
  });
  return assembleLlama(config, byName(specs, tensors));
}

/** The `tensor(name)` lookup of {@link assembleLlama} over tensors read in `specs` order. */
function byName(specs: HfTensorSpec[], tensors: Float32Array[]): (name: string) => Float32Array {
  const map = new Map(specs.map((s, i) => [s.name, tensors[i]]));
  return (name) => map.get(name)!;
}

/**
 * Reads LlamaWeights from an HF Llama checkpoint through a streaming reader (`openSafetensors`),
 * one tensor at a time: the file is never held in memory whole.
 *
 * @param configJson The parsed `config.json` (or its text).
 * @param file A `SafetensorsReader` (or an in-memory `SafetensorsFile`).
 * @returns The weights (see {@link llamaFromHf}).
 * @throws {TypeError} See {@link llamaFromHf}.
 * @throws {RangeError} See {@link llamaFromHf}; also when a read comes back short.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { llamaFromHfReader } from "./hf_llama.ts";
 * await assert.rejects(() => llamaFromHfReader({ model_type: "gpt2" }, {} as never), RangeError);
 * ```
 */
export async function llamaFromHfReader(
  configJson: unknown,
  file: HfTensorFile,
): Promise<LlamaWeights> {
  const config = parseHfLlamaConfig(configJson);
  const specs = hfLlamaTensorSpecs(config);
  specs.forEach((s) => checkSpec(file, s));
  const tensors: Float32Array[] = [];
  for (const s of specs) tensors.push(await file.float32(s.name));
  return assembleLlama(config, byName(specs, tensors));
}
