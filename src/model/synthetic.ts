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
import { createRng } from "../tensor/rng.ts";
import type { LlamaConfig } from "./weights.ts";

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
