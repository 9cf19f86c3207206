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
 * | `head_dim` | `headDim` (only when not `hidden_size / num_attention_heads`) | that |
 * | `rope_scaling` or `rope_parameters` of type `llama3` | `ropeScaling` | none |
 * | `attention_bias`, `mlp_bias` (Qwen2: q/k/v always) | `biases` | none |
 *
 * `model_type` must be `"llama"` or `"qwen2"` (the same block with biases on q, k and v);
 * `architectures`, when present, must include `"LlamaForCausalLM"` / `"Qwen2ForCausalLM"`. The
 * RoPE keys are read in both forms transformers writes (`rope_theta` + `rope_scaling`, or one
 * `rope_parameters` object). Features this project does not implement are rejected rather than
 * silently ignored: a RoPE scaling other than `llama3`, `hidden_act` other than `silu`,
 * sliding-window attention (`use_sliding_window`).
 *
 * @module
 */
import type { LinearName, Llama3RopeScaling, LlamaConfig } from "../model/weights.ts";
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

/** The `model_type` values this reader takes, and the architecture each must list. */
const ARCHITECTURES: Record<string, string> = {
  llama: "LlamaForCausalLM",
  qwen2: "Qwen2ForCausalLM",
};

/** Rejects the features we do not implement. */
function checkSupported(json: Record<string, unknown>): void {
  const type = json.model_type;
  if (typeof type !== "string" || !Object.hasOwn(ARCHITECTURES, type)) {
    if (type === undefined) {
      throw new TypeError(`Cannot read config.json: "model_type" is missing`);
    }
    throw new RangeError(
      `Cannot read config.json: model_type ${JSON.stringify(type)} is not "llama" or "qwen2"`,
    );
  }
  const arch = json.architectures;
  if (arch !== undefined && (!Array.isArray(arch) || !arch.includes(ARCHITECTURES[type]))) {
    throw new RangeError(
      `Cannot read config.json: architectures ${JSON.stringify(arch)} lacks "${
        ARCHITECTURES[type]
      }"`,
    );
  }
  if (json.hidden_act !== undefined && json.hidden_act !== "silu") {
    throw new RangeError(
      `Cannot read config.json: hidden_act ${
        JSON.stringify(json.hidden_act)
      } is not supported (only "silu")`,
    );
  }
  for (const key of ["attention_bias", "mlp_bias", "use_sliding_window"]) {
    if (json[key] !== undefined && json[key] !== null && typeof json[key] !== "boolean") {
      throw new TypeError(
        `Cannot read config.json: "${key}" must be a boolean, got ${JSON.stringify(json[key])}`,
      );
    }
  }
  if (json.use_sliding_window === true) {
    throw new RangeError(
      `Cannot read config.json: use_sliding_window true is not supported (sliding-window attention)`,
    );
  }
  const dtype = json.torch_dtype ?? json.dtype;
  if (dtype !== undefined && dtype !== null && typeof dtype !== "string") {
    throw new TypeError(
      `Cannot read config.json: "torch_dtype" must be a string, got ${JSON.stringify(dtype)}`,
    );
  }
}

/**
 * The RoPE settings in either form transformers writes: `rope_theta` + `rope_scaling` (older, and
 * what most Hub checkpoints carry) or one `rope_parameters` object (transformers 5). Returns the
 * base and the Llama 3 scaling if any; any other scaling type is refused.
 */
function ropeSettings(
  o: Record<string, unknown>,
): { theta: number; scaling?: Llama3RopeScaling } {
  const params = o.rope_parameters;
  const block = params !== undefined && params !== null ? params : o.rope_scaling;
  const key = block === params ? "rope_parameters" : "rope_scaling";
  const theta = positiveNumber(
    block === params && typeof params === "object" ? params as Record<string, unknown> : o,
    "rope_theta",
    positiveNumber(o, "rope_theta", 10000),
  );
  if (block === undefined || block === null) return { theta };
  if (typeof block !== "object" || Array.isArray(block)) {
    throw new TypeError(
      `Cannot read config.json: "${key}" must be an object, got ${JSON.stringify(block)}`,
    );
  }
  const b = block as Record<string, unknown>;
  const type = b.rope_type ?? b.type ?? "default";
  if (type === "default") return { theta };
  if (type !== "llama3") {
    throw new RangeError(
      `Cannot read config.json: ${key} type ${
        JSON.stringify(type)
      } is not supported (only "llama3")`,
    );
  }
  const scaling: Llama3RopeScaling = {
    type: "llama3",
    factor: positiveNumber(b, "factor", NaN),
    lowFreqFactor: positiveNumber(b, "low_freq_factor", NaN),
    highFreqFactor: positiveNumber(b, "high_freq_factor", NaN),
    originalMaxPositionEmbeddings: positiveInt(b, "original_max_position_embeddings"),
  };
  if (!(scaling.highFreqFactor > scaling.lowFreqFactor)) {
    throw new RangeError(
      `Cannot read config.json: ${key} high_freq_factor ${scaling.highFreqFactor} must exceed low_freq_factor ${scaling.lowFreqFactor}`,
    );
  }
  return { theta, scaling };
}

/** The linears with a bias: `attention_bias` (q, k, v, o), `mlp_bias`, Qwen2's q/k/v. */
function biasedLinears(o: Record<string, unknown>): LinearName[] {
  if (o.model_type === "qwen2") return ["wq", "wk", "wv"];
  return [
    ...(o.attention_bias === true ? ["wq", "wk", "wv", "wo"] as const : []),
    ...(o.mlp_bias === true ? ["w1", "w3", "w2"] as const : []),
  ];
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
    ropeTheta: 10000,
    sharedClassifier: false,
  };
  const rope = ropeSettings(o);
  config.ropeTheta = rope.theta;
  if (rope.scaling !== undefined) config.ropeScaling = rope.scaling;
  const biases = biasedLinears(o);
  if (biases.length > 0) config.biases = biases;
  const tie = o.tie_word_embeddings ?? false;
  if (typeof tie !== "boolean") {
    throw new TypeError(
      `Cannot read config.json: "tie_word_embeddings" must be a boolean, got ${
        JSON.stringify(tie)
      }`,
    );
  }
  config.sharedClassifier = tie;
  const headDim = o.head_dim ?? null;
  if (headDim !== null) {
    if (typeof headDim !== "number" || !Number.isSafeInteger(headDim) || headDim <= 0) {
      throw new RangeError(
        `Cannot read config.json: head_dim ${JSON.stringify(headDim)} must be a positive integer`,
      );
    }
    if (headDim !== config.dim / nHeads) config.headDim = headDim;
  }
  const headSize = headDim ?? config.dim / nHeads;
  if (!Number.isInteger(headSize) || headSize % 2 !== 0) {
    throw new RangeError(
      headDim === null
        ? `Cannot read config.json: hidden_size ${config.dim} must split into ${nHeads} heads of even size`
        : `Cannot read config.json: head_dim ${headDim} must be even`,
    );
  }
  if (nHeads % config.nKvHeads !== 0) {
    throw new RangeError(
      `Cannot read config.json: num_attention_heads ${nHeads} is not a multiple of num_key_value_heads ${config.nKvHeads}`,
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
    head_dim: config.headDim ?? config.dim / config.nHeads,
    vocab_size: config.vocabSize,
    max_position_embeddings: config.seqLen,
    rms_norm_eps: config.normEps,
    rope_theta: config.ropeTheta,
    rope_scaling: config.ropeScaling === undefined ? null : {
      rope_type: "llama3",
      factor: config.ropeScaling.factor,
      low_freq_factor: config.ropeScaling.lowFreqFactor,
      high_freq_factor: config.ropeScaling.highFreqFactor,
      original_max_position_embeddings: config.ropeScaling.originalMaxPositionEmbeddings,
    },
    tie_word_embeddings: config.sharedClassifier,
    hidden_act: "silu",
    attention_bias: config.biases?.includes("wo") ?? false,
    mlp_bias: config.biases?.includes("w2") ?? false,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: TORCH_DTYPES[dtype] ?? "float32",
  };
}
