/**
 * The `config.json` of a Hugging Face Llama checkpoint, to and from {@link LlamaConfig}.
 *
 * | config.json | LlamaConfig | default when absent (transformers' `LlamaConfig`) |
 * | --- | --- | --- |
 * | `hidden_size` | `dim` | required |
 * | `intermediate_size` | `hiddenDim` | required |
 * | `num_hidden_layers` | `nLayers` | required |
 * | `num_attention_heads` | `nHeads` | required |
 * | `num_key_value_heads` | `nKvHeads` | `num_attention_heads` |
 * | `vocab_size` | `vocabSize` | required |
 * | `max_position_embeddings` | `seqLen` | 2048 |
 * | `rms_norm_eps` | `normEps` | 1e-6 |
 * | `rope_theta` | `ropeTheta` | 10000 |
 * | `tie_word_embeddings` | `sharedClassifier` | false |
 *
 * `model_type` must be `"llama"`; `architectures`, when present, must include
 * `"LlamaForCausalLM"`. Features this project does not implement are rejected rather than
 * silently ignored: `rope_scaling`, `attention_bias`/`mlp_bias`, `hidden_act` other than `silu`,
 * a `head_dim` other than `hidden_size / num_attention_heads`.
 *
 * @module
 */
import type { LlamaConfig } from "../model/weights.ts";
import { findDuplicateKey } from "./json_duplicates.ts";

const TORCH_DTYPES: Record<string, string> = { F32: "float32", F16: "float16", BF16: "bfloat16" };

/** Parses config.json text, rejecting invalid JSON and duplicate keys. */
function parseText(text: string): unknown {
  try {
    JSON.parse(text);
  } catch (e) {
    throw new TypeError(`Cannot read config.json: not valid JSON (${(e as Error).message})`);
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    throw new TypeError(
      `Cannot read config.json: duplicate key "${[...duplicate.path, duplicate.key].join(".")}"`,
    );
  }
  return JSON.parse(text);
}

/** Reads a positive integer field (or its default). */
function positiveInt(json: Record<string, unknown>, key: string, fallback?: number): number {
  const value = json[key] ?? fallback;
  if (value === undefined) throw new TypeError(`Cannot read config.json: "${key}" is missing`);
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(
      `Cannot read config.json: "${key}" must be an integer, got ${JSON.stringify(value)}`,
    );
  }
  if (value <= 0) {
    throw new RangeError(`Cannot read config.json: "${key}" must be positive, got ${value}`);
  }
  return value;
}

/** Reads a positive finite number field (or its default). */
function positiveNumber(json: Record<string, unknown>, key: string, fallback: number): number {
  const value = json[key] ?? fallback;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot read config.json: "${key}" must be a number, got ${JSON.stringify(value)}`,
    );
  }
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `Cannot read config.json: "${key}" must be positive and finite, got ${value}`,
    );
  }
  return value;
}

/** Rejects the features we do not implement. */
function checkSupported(json: Record<string, unknown>): void {
  if (json.model_type !== "llama") {
    if (json.model_type === undefined) {
      throw new TypeError(`Cannot read config.json: "model_type" is missing`);
    }
    throw new RangeError(
      `Cannot read config.json: model_type ${JSON.stringify(json.model_type)} is not "llama"`,
    );
  }
  const arch = json.architectures;
  if (arch !== undefined && (!Array.isArray(arch) || !arch.includes("LlamaForCausalLM"))) {
    throw new RangeError(
      `Cannot read config.json: architectures ${JSON.stringify(arch)} lacks "LlamaForCausalLM"`,
    );
  }
  if (json.hidden_act !== undefined && json.hidden_act !== "silu") {
    throw new RangeError(
      `Cannot read config.json: hidden_act ${
        JSON.stringify(json.hidden_act)
      } is not supported (only "silu")`,
    );
  }
  if (json.rope_scaling !== undefined && json.rope_scaling !== null) {
    throw new RangeError(
      `Cannot read config.json: rope_scaling ${JSON.stringify(json.rope_scaling)} is not supported`,
    );
  }
  for (const key of ["attention_bias", "mlp_bias"]) {
    if (json[key] !== undefined && json[key] !== false) {
      throw new RangeError(
        `Cannot read config.json: "${key}" ${JSON.stringify(json[key])} is not supported`,
      );
    }
  }
  const dtype = json.torch_dtype ?? json.dtype;
  if (dtype !== undefined && dtype !== null && typeof dtype !== "string") {
    throw new TypeError(
      `Cannot read config.json: "torch_dtype" must be a string, got ${JSON.stringify(dtype)}`,
    );
  }
}

/**
 * Parses and validates a Llama `config.json`.
 *
 * @param json The parsed JSON object, or the file's text.
 * @returns The hyper-parameters.
 * @throws {TypeError} If the text is not JSON, has duplicate keys, or a field has the wrong type
 *   or is missing.
 * @throws {RangeError} If a value is out of range, `model_type` is not `"llama"`, the heads do
 *   not divide the sizes, or an unsupported feature is set.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHfLlamaConfig } from "./hf_llama_config.ts";
 * const config = parseHfLlamaConfig({ model_type: "llama", hidden_size: 64, intermediate_size: 172,
 *   num_hidden_layers: 5, num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 512 });
 * assert.equal(config.nKvHeads, 4);
 * assert.equal(config.normEps, 1e-6); // transformers' default
 * assert.throws(() => parseHfLlamaConfig({ model_type: "gpt2" }), RangeError);
 * ```
 */
export function parseHfLlamaConfig(json: unknown): LlamaConfig {
  const value = typeof json === "string" ? parseText(json) : json;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `Cannot read config.json: expected a JSON object, got ${JSON.stringify(value)}`,
    );
  }
  const o = value as Record<string, unknown>;
  checkSupported(o);
  const nHeads = positiveInt(o, "num_attention_heads");
  const config: LlamaConfig = {
    dim: positiveInt(o, "hidden_size"),
    hiddenDim: positiveInt(o, "intermediate_size"),
    nLayers: positiveInt(o, "num_hidden_layers"),
    nHeads,
    nKvHeads: positiveInt(o, "num_key_value_heads", nHeads),
    vocabSize: positiveInt(o, "vocab_size"),
    seqLen: positiveInt(o, "max_position_embeddings", 2048),
    normEps: positiveNumber(o, "rms_norm_eps", 1e-6),
    ropeTheta: positiveNumber(o, "rope_theta", 10000),
    sharedClassifier: false,
  };
  const tie = o.tie_word_embeddings ?? false;
  if (typeof tie !== "boolean") {
    throw new TypeError(
      `Cannot read config.json: "tie_word_embeddings" must be a boolean, got ${
        JSON.stringify(tie)
      }`,
    );
  }
  config.sharedClassifier = tie;
  const headSize = config.dim / nHeads;
  if (!Number.isInteger(headSize) || headSize % 2 !== 0) {
    throw new RangeError(
      `Cannot read config.json: hidden_size ${config.dim} must split into ${nHeads} heads of even size`,
    );
  }
  if (nHeads % config.nKvHeads !== 0) {
    throw new RangeError(
      `Cannot read config.json: num_attention_heads ${nHeads} is not a multiple of num_key_value_heads ${config.nKvHeads}`,
    );
  }
  if (o.head_dim !== undefined && o.head_dim !== null && o.head_dim !== headSize) {
    throw new RangeError(
      `Cannot read config.json: head_dim ${
        JSON.stringify(o.head_dim)
      } is not hidden_size / num_attention_heads = ${headSize}`,
    );
  }
  return config;
}

/**
 * The `config.json` object transformers needs to load these weights as `LlamaForCausalLM`.
 *
 * @param config The hyper-parameters (not validated here; {@link parseHfLlamaConfig} the result).
 * @param dtype The stored tensors' dtype, written as `torch_dtype`.
 * @returns A plain JSON-serialisable object.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hfLlamaConfigJson, parseHfLlamaConfig } from "./hf_llama_config.ts";
 * const config = { dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512,
 *   seqLen: 512, normEps: 1e-5, ropeTheta: 10000, sharedClassifier: true };
 * const json = hfLlamaConfigJson(config);
 * assert.equal(json.tie_word_embeddings, true);
 * assert.deepEqual(parseHfLlamaConfig(json), config);
 * ```
 */
export function hfLlamaConfigJson(
  config: LlamaConfig,
  dtype: "F32" | "F16" | "BF16" | string = "F32",
): Record<string, unknown> {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: config.dim,
    intermediate_size: config.hiddenDim,
    num_hidden_layers: config.nLayers,
    num_attention_heads: config.nHeads,
    num_key_value_heads: config.nKvHeads,
    head_dim: config.dim / config.nHeads,
    vocab_size: config.vocabSize,
    max_position_embeddings: config.seqLen,
    rms_norm_eps: config.normEps,
    rope_theta: config.ropeTheta,
    rope_scaling: null,
    tie_word_embeddings: config.sharedClassifier,
    hidden_act: "silu",
    attention_bias: false,
    mlp_bias: false,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: TORCH_DTYPES[dtype] ?? "float32",
  };
}
