/**
 * Random checkpoints with the exact shapes of real models, to measure time and memory at sizes we
 * have no weights for (`deno task make-synthetic`). The weights carry no knowledge: perplexities
 * on them mean nothing; the costs are those of the real shape.
 *
 * How the weights are drawn, so that activations stay finite through every block: each matrix
 * `[out, in]` is uniform on `[-sqrt(3 / in), sqrt(3 / in)]` (variance `1 / in`, so a product
 * roughly keeps the variance of its input, as the usual initialisations do; uniform rather than
 * Gaussian because it is several times faster to draw a billion of), every norm gain is 1.
 * The residual stream then grows by about one unit of variance per block, far from overflow.
 * Each tensor has its own seed (the run's seed plus its index), so any tensor can be regenerated
 * alone and the files are the same on every run.
 *
 * @module
 */
import { hfLlamaTensorSpecs, unpermuteFromHfRope } from "../io/hf_llama.ts";
import { bf16ToFloat32, float32ToBf16 } from "../io/half.ts";
import { createRng } from "../tensor/rng.ts";
import type { Matrix } from "../tensor/matrix.ts";
import type { LlamaConfig, LlamaWeights } from "./weights.ts";

/**
 * The shapes `make-synthetic` knows: TinyLlama-1.1B (the target), a mid-size shape
 * between it and llama4m, and a small one for tests.
 */
export const SYNTHETIC_SHAPES: Readonly<Record<string, LlamaConfig>> = {
  "tinyllama-1.1b": {
    dim: 2048,
    hiddenDim: 5632,
    nLayers: 22,
    nHeads: 32,
    nKvHeads: 4,
    vocabSize: 32000,
    seqLen: 2048,
    normEps: 1e-5,
    ropeTheta: 10000,
    sharedClassifier: false,
  },
  "mid-200m": {
    dim: 1024,
    hiddenDim: 2816,
    nLayers: 12,
    nHeads: 16,
    nKvHeads: 4,
    vocabSize: 32000,
    seqLen: 2048,
    normEps: 1e-5,
    ropeTheta: 10000,
    sharedClassifier: false,
  },
  "tiny-test": {
    dim: 64,
    hiddenDim: 96,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    vocabSize: 2048,
    seqLen: 256,
    normEps: 1e-5,
    ropeTheta: 10000,
    sharedClassifier: false,
  },
};

/**
 * The values of one tensor of a synthetic checkpoint: ones for a vector (a norm gain), uniform
 * with variance `1 / cols` for a matrix `[rows, cols]` (see the module doc).
 *
 * @param shape `[n]` or `[rows, cols]`.
 * @param seed The tensor's seed (an integer).
 * @returns The values, row-major.
 * @throws {TypeError} If `shape` is not one or two positive integers.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syntheticTensor } from "./synthetic.ts";
 * assert.deepEqual(Array.from(syntheticTensor([3], 1)), [1, 1, 1]);
 * const w = syntheticTensor([4, 12], 7);
 * assert.ok(w.every((v) => Math.abs(v) <= Math.sqrt(3 / 12)));
 * assert.deepEqual(w, syntheticTensor([4, 12], 7)); // the same seed, the same values
 * ```
 */
export function syntheticTensor(shape: number[], seed: number): Float32Array {
  if (
    !Array.isArray(shape) || shape.length < 1 || shape.length > 2 ||
    !shape.every((d) => Number.isInteger(d) && d > 0)
  ) {
    throw new TypeError(
      `Cannot make a synthetic tensor: shape must be [n] or [rows, cols] of positive integers, got [${shape}]`,
    );
  }
  if (shape.length === 1) return new Float32Array(shape[0]).fill(1);
  const [rows, cols] = shape, rng = createRng(seed), half = Math.sqrt(3 / cols);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * half;
  return out;
}

/**
 * The whole synthetic model in memory, the same model as the Hugging Face files that
 * `make-synthetic` writes with the same seed: tensor i of `hfLlamaTensorSpecs(config)` is
 * `syntheticTensor(shape, seed * 1000 + i)` rounded to BF16, q/k rows taken back from HF's RoPE
 * layout.
 *
 * @param config The shape.
 * @param seed The run's seed.
 * @returns The model.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SYNTHETIC_SHAPES, syntheticLlama } from "./synthetic.ts";
 * const w = syntheticLlama(SYNTHETIC_SHAPES["tiny-test"], 0);
 * assert.equal(w.blocks.length, 2);
 * assert.notEqual(w.classifier, w.tokenEmbedding); // untied
 * ```
 */
export function syntheticLlama(config: LlamaConfig, seed: number): LlamaWeights {
  const values = new Map(
    hfLlamaTensorSpecs(config).map((s, i) => [s.name, { shape: s.shape, seed: seed * 1000 + i }]),
  );
  const vector = (name: string) => { // rounded to BF16 as the HF files store it
    const v = values.get(name)!;
    return bf16ToFloat32(float32ToBf16(syntheticTensor(v.shape, v.seed)));
  };
  const matrix = (name: string): Matrix => {
    const v = values.get(name)!;
    return { data: vector(name), rows: v.shape[0], cols: v.shape[1] };
  };
  const tokenEmbedding = matrix("model.embed_tokens.weight");
  const blocks = Array.from({ length: config.nLayers }, (_, l) => {
    const p = `model.layers.${l}.`;
    return {
      rmsAtt: vector(`${p}input_layernorm.weight`),
      wq: unpermuteFromHfRope(matrix(`${p}self_attn.q_proj.weight`), config.nHeads),
      wk: unpermuteFromHfRope(matrix(`${p}self_attn.k_proj.weight`), config.nKvHeads),
      wv: matrix(`${p}self_attn.v_proj.weight`),
      wo: matrix(`${p}self_attn.o_proj.weight`),
      rmsFfn: vector(`${p}post_attention_layernorm.weight`),
      w1: matrix(`${p}mlp.gate_proj.weight`),
      w2: matrix(`${p}mlp.down_proj.weight`),
      w3: matrix(`${p}mlp.up_proj.weight`),
    };
  });
  const classifier = config.sharedClassifier ? tokenEmbedding : matrix("lm_head.weight");
  return { config, tokenEmbedding, blocks, rmsFinal: vector("model.norm.weight"), classifier };
}
