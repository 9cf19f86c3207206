/**
 * The weights of a Llama-architecture model (Llama 2 as in llama2.c), independent of the file
 * format they came from. Every linear weight is a {@link Matrix} `[out, in]` (`y = W x`).
 *
 * @module
 */
import type { Matrix } from "../tensor/matrix.ts";

/** Hyper-parameters of a Llama model (llama2.c's `Config`, plus the two constants it hard-codes). */
export interface LlamaConfig {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  /** RMSNorm epsilon (llama2.c: 1e-5). */
  normEps: number;
  /** RoPE base (llama2.c: 10000). */
  ropeTheta: number;
  /** True when the classifier is the token embedding (llama2.c's shared_classifier). */
  sharedClassifier: boolean;
  /** Width of one attention head when it is not `dim / nHeads` (HF `head_dim`). */
  headDim?: number;
  /** RoPE frequency scaling (HF `rope_scaling` of type `llama3`); absent: none. */
  ropeScaling?: Llama3RopeScaling;
  /** The linears that have a bias (HF `attention_bias`, `mlp_bias`; Qwen2: q, k, v); absent: none. */
  biases?: LinearName[];
}

/**
 * Llama 3.1's RoPE scaling (transformers' `_compute_llama3_parameters`): inverse frequencies whose
 * wavelength exceeds `originalMaxPositionEmbeddings / lowFreqFactor` are divided by `factor`, those
 * below `originalMaxPositionEmbeddings / highFreqFactor` kept, and those between interpolated.
 */
export interface Llama3RopeScaling {
  type: "llama3";
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

/**
 * One decoder block. Names follow llama2.c; HF names are in `src/io/hf_llama.ts`. Biases (HF
 * `attention_bias`, `mlp_bias`, Qwen2's q/k/v biases) are present only when the model has them.
 */
export type LlamaBlock = {
  /** RMSNorm weight before attention, `Float32Array(dim)`. */
  rmsAtt: Float32Array;
  /** `[dim, dim]` (HF `q_proj`). Rows in llama2.c's adjacent-pair RoPE order. */
  wq: Matrix;
  /** `[kvDim, dim]` (HF `k_proj`). Rows in llama2.c's adjacent-pair RoPE order. */
  wk: Matrix;
  /** `[kvDim, dim]` (HF `v_proj`). */
  wv: Matrix;
  /** `[dim, dim]` (HF `o_proj`). */
  wo: Matrix;
  /** RMSNorm weight before the MLP, `Float32Array(dim)`. */
  rmsFfn: Float32Array;
  /** `[hidden, dim]` (HF `gate_proj`). */
  w1: Matrix;
  /** `[dim, hidden]` (HF `down_proj`). */
  w2: Matrix;
  /** `[hidden, dim]` (HF `up_proj`). */
  w3: Matrix;
  /** Biases of the linears of the same name (`bq` of `wq`, ...), in the same row order. */
  bq?: Float32Array;
  bk?: Float32Array;
  bv?: Float32Array;
  bo?: Float32Array;
  b1?: Float32Array;
  b2?: Float32Array;
  b3?: Float32Array;
};

/** A whole model. */
export interface LlamaWeights {
  /** `"llama"` (also when absent: llama2.c files) or `"qwen2"` (the same block with q/k/v biases). */
  family?: "llama" | "qwen2";
  config: LlamaConfig;
  /** `[vocab, dim]`. */
  tokenEmbedding: Matrix;
  blocks: LlamaBlock[];
  /** Final RMSNorm weight, `Float32Array(dim)`. */
  rmsFinal: Float32Array;
  /** `[vocab, dim]`; the same object as `tokenEmbedding` when `config.sharedClassifier`. */
  classifier: Matrix;
}

/** The names of the prunable linear layers of a block, in the order their inputs appear. */
export const LINEAR_NAMES = ["wq", "wk", "wv", "wo", "w1", "w3", "w2"] as const;
/** One of {@link LINEAR_NAMES}. */
export type LinearName = typeof LINEAR_NAMES[number];

/** The four distinct linear inputs of a block: wk, wv see wq's input and w3 sees w1's. */
export const DISTINCT_INPUTS = ["wq", "wo", "w1", "w2"] as const;
/** One of {@link DISTINCT_INPUTS}. */
export type DistinctInput = typeof DISTINCT_INPUTS[number];
/** The distinct input each linear of a block reads (q, k, v share one; so do w1 and w3). */
export const INPUT_OF: Readonly<Record<LinearName, DistinctInput>> = {
  wq: "wq",
  wk: "wq",
  wv: "wq",
  wo: "wo",
  w1: "w1",
  w3: "w1",
  w2: "w2",
};
