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
 * Not supported (rejected with a clear error): `rope_scaling`, biases, activations other than
 * SiLU. Sharded checkpoints are read through `hf_folder.ts` (its `TensorStore` is an
 * {@link HfTensorFile}).
 *
 * @module
 */
import type { LinearName, LlamaBlock, LlamaConfig, LlamaWeights } from "../model/weights.ts";
import { checkMatrix, type Matrix } from "../tensor/matrix.ts";
import type { SafetensorsDtypeOut, SafetensorsEntry } from "./safetensors.ts";

import { hfLlamaConfigJson, parseHfLlamaConfig } from "./hf_llama_config.ts";

export { hfLlamaConfigJson, parseHfLlamaConfig };

/**
 * Moves whole rows between llama2.c's and HF's RoPE orders. Within head `h`, llama2.c row
 * `2j + t` (member `t` of pair `j`) is HF row `t * headSize/2 + j` (index `j` of half `t`).
 * Works on any row-major data (weights, or their U8 masks).
 */
function reorderRopeRows<T extends Float32Array | Uint8Array>(
  data: T,
  rows: number,
  cols: number,
  nHeads: number,
  toHf: boolean,
): T {
  const headSize = rows / nHeads;
  if (
    !Number.isInteger(nHeads) || nHeads <= 0 || !Number.isInteger(headSize) || headSize % 2 !== 0
  ) {
    throw new RangeError(
      `Cannot ${toHf ? "permute" : "unpermute"} weight [${rows}, ${cols}] for RoPE: ` +
        `rows must split into ${nHeads} heads of even size`,
    );
  }
  const half = headSize / 2;
  const out = new (data.constructor as new (n: number) => T)(data.length);
  for (let h = 0; h < nHeads; h++) {
    for (let t = 0; t < 2; t++) {
      for (let j = 0; j < half; j++) {
        const llamaRow = (h * headSize + 2 * j + t) * cols;
        const hfRow = (h * headSize + t * half + j) * cols;
        const [from, to] = toHf ? [llamaRow, hfRow] : [hfRow, llamaRow];
        out.set(data.subarray(from, from + cols), to);
      }
    }
  }
  return out;
}

/**
 * {@link permuteForHfRope} for a mask (or any row-major U8 data of a `wq`/`wk`): the same row
 * order as the weights it belongs to.
 *
 * @param keep `[rows, cols]` row-major, llama2.c order (not modified).
 * @param rows Rows (`nHeads * headSize`).
 * @param cols Columns.
 * @param nHeads Heads of this projection.
 * @returns A new array in HF order.
 * @throws {RangeError} If the rows do not split into `nHeads` heads of even size.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { permuteMaskForHfRope } from "./hf_llama.ts";
 * assert.deepEqual(Array.from(permuteMaskForHfRope(new Uint8Array([1, 0, 0, 1]), 4, 1, 1)), [1, 0, 0, 1]);
 * assert.deepEqual(Array.from(permuteMaskForHfRope(new Uint8Array([1, 1, 0, 0]), 4, 1, 1)), [1, 0, 1, 0]);
 * ```
 */
export function permuteMaskForHfRope(
  keep: Uint8Array,
  rows: number,
  cols: number,
  nHeads: number,
): Uint8Array {
  return reorderRopeRows(keep, rows, cols, nHeads, true);
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
  checkMatrix(w, "weight");
  return {
    data: reorderRopeRows(w.data, w.rows, w.cols, nHeads, true),
    rows: w.rows,
    cols: w.cols,
  };
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
  checkMatrix(w, "weight");
  return {
    data: reorderRopeRows(w.data, w.rows, w.cols, nHeads, false),
    rows: w.rows,
    cols: w.cols,
  };
}

/** One tensor of the HF layout: its name and shape. */
export interface HfTensorSpec {
  name: string;
  shape: number[];
}

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
  const { dim, hiddenDim, vocabSize } = config;
  const kvDim = (dim / config.nHeads) * config.nKvHeads;
  const specs: HfTensorSpec[] = [{ name: "model.embed_tokens.weight", shape: [vocabSize, dim] }];
  for (let n = 0; n < config.nLayers; n++) {
    const p = `model.layers.${n}.`;
    specs.push(
      { name: `${p}input_layernorm.weight`, shape: [dim] },
      { name: `${p}self_attn.q_proj.weight`, shape: [dim, dim] },
      { name: `${p}self_attn.k_proj.weight`, shape: [kvDim, dim] },
      { name: `${p}self_attn.v_proj.weight`, shape: [kvDim, dim] },
      { name: `${p}self_attn.o_proj.weight`, shape: [dim, dim] },
      { name: `${p}post_attention_layernorm.weight`, shape: [dim] },
      { name: `${p}mlp.gate_proj.weight`, shape: [hiddenDim, dim] },
      { name: `${p}mlp.up_proj.weight`, shape: [hiddenDim, dim] },
      { name: `${p}mlp.down_proj.weight`, shape: [dim, hiddenDim] },
    );
  }
  specs.push({ name: "model.norm.weight", shape: [dim] });
  if (!config.sharedClassifier) specs.push({ name: "lm_head.weight", shape: [vocabSize, dim] });
  return specs;
}

/** HF names of a block's linears inside `model.layers.N.` (transformers' `LlamaForCausalLM`). */
export const HF_LINEAR: Readonly<Record<LinearName, string>> = {
  wq: "self_attn.q_proj",
  wk: "self_attn.k_proj",
  wv: "self_attn.v_proj",
  wo: "self_attn.o_proj",
  w1: "mlp.gate_proj",
  w3: "mlp.up_proj",
  w2: "mlp.down_proj",
};

/** One pruned linear in the HF layout. */
export interface HfLinear {
  /** The HF tensor name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  shape: [number, number];
  /** The weights, rows in HF order. */
  values: Float32Array;
  /** Its mask (1 = keep), in the same order, when the run kept masks. */
  mask?: Uint8Array;
}

/**
 * Every prunable linear of a model as it is stored in an HF Llama checkpoint: the HF name, the
 * weights and the mask (`masks["layers.N.wq"]`), both with `wq`/`wk` rows permuted to HF's RoPE
 * order by the same function.
 *
 * @param weights The (pruned) model.
 * @param masks Masks by layer name (may be empty).
 * @returns The linears, block by block in {@link HF_LINEAR} order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hfLinears } from "./hf_llama.ts";
 * import { tinyLlama } from "../model/llama.ts";
 * const model = tinyLlama({ seed: 1 });
 * const linears = hfLinears(model, {});
 * assert.equal(linears.length, 7 * model.blocks.length);
 * assert.equal(linears[0].name, "model.layers.0.self_attn.q_proj.weight");
 * assert.equal(linears[0].mask, undefined);
 * ```
 */
export function hfLinears(weights: LlamaWeights, masks: Record<string, Uint8Array>): HfLinear[] {
  const c = weights.config;
  return weights.blocks.flatMap((b, l) =>
    (Object.keys(HF_LINEAR) as LinearName[]).map((name) => {
      const w = b[name];
      let keep = masks[`layers.${l}.${name}`];
      let values = w.data;
      if (name === "wq" || name === "wk") {
        const heads = name === "wq" ? c.nHeads : c.nKvHeads;
        values = permuteForHfRope(w, heads).data;
        if (keep !== undefined) keep = permuteMaskForHfRope(keep, w.rows, w.cols, heads);
      }
      return {
        name: `model.layers.${l}.${HF_LINEAR[name]}.weight`,
        shape: [w.rows, w.cols] as [number, number],
        values,
        ...(keep === undefined ? {} : { mask: keep }),
      };
    })
  );
}

/** The HF tensors of one block, from llama2.c order (q/k permuted). */
function blockTensors(config: LlamaConfig, b: LlamaBlock): Float32Array[] {
  return [
    b.rmsAtt,
    permuteForHfRope(b.wq, config.nHeads).data,
    permuteForHfRope(b.wk, config.nKvHeads).data,
    b.wv.data,
    b.wo.data,
    b.rmsFfn,
    b.w1.data,
    b.w3.data,
    b.w2.data,
  ];
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
  const tensors = [
    weights.tokenEmbedding.data,
    ...weights.blocks.flatMap((b) => blockTensors(config, b)),
  ];
  tensors.push(weights.rmsFinal);
  if (!config.sharedClassifier) tensors.push(weights.classifier.data);
  const specs = hfLlamaTensorSpecs(config);
  const entries = specs.map(({ name, shape }, i): SafetensorsEntry => {
    const count = shape.reduce((p, d) => p * d, 1);
    if (!(tensors[i] instanceof Float32Array) || tensors[i].length !== count) {
      throw new TypeError(
        `Cannot convert to HF Llama: ${name} needs ${count} float32 values [${
          shape.join(", ")
        }], got ${tensors[i]?.length}`,
      );
    }
    return { name, dtype, shape, data: tensors[i] };
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

/** Builds LlamaWeights from the HF tensors (in {@link hfLlamaTensorSpecs} order). */
function assemble(config: LlamaConfig, tensors: Float32Array[]): LlamaWeights {
  const specs = hfLlamaTensorSpecs(config);
  const m = (i: number): Matrix => ({
    data: tensors[i],
    rows: specs[i].shape[0],
    cols: specs[i].shape[1],
  });
  const tokenEmbedding = m(0);
  const blocks: LlamaBlock[] = [];
  for (let n = 0; n < config.nLayers; n++) {
    const i = 1 + 9 * n;
    blocks.push({
      rmsAtt: tensors[i],
      wq: unpermuteFromHfRope(m(i + 1), config.nHeads),
      wk: unpermuteFromHfRope(m(i + 2), config.nKvHeads),
      wv: m(i + 3),
      wo: m(i + 4),
      rmsFfn: tensors[i + 5],
      w1: m(i + 6),
      w3: m(i + 7),
      w2: m(i + 8),
    });
  }
  const last = 1 + 9 * config.nLayers;
  const classifier = config.sharedClassifier ? tokenEmbedding : m(last + 1);
  return { config, tokenEmbedding, blocks, rmsFinal: tensors[last], classifier };
}

/**
 * The tensors of a checkpoint: a safetensors file in memory or a streaming reader (both from
 * `safetensors.ts`), or a whole folder's `TensorStore` (`hf_folder.ts`: sharded checkpoints).
 */
export interface HfTensorFile {
  /** True when the checkpoint has this tensor. */
  has(name: string): boolean;
  /** Its header entry. */
  info(name: string): { dtype: string; shape: number[] };
  /** Its values as float32. */
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
  return assemble(config, tensors);
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
  return assemble(config, tensors);
}
