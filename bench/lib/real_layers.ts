/**
 * Real linear layers for the benchmarks, read from the llama2.c checkpoints in `../shared/models`
 * (stories260K and llama4m, parsed by `readLlama2c`), and the value pool benchmark layers are
 * filled from.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Matrix } from "../../src/tensor/matrix.ts";
import { readLlama2c } from "../../src/io/llama2c.ts";
import { LINEAR_NAMES, type LlamaWeights } from "../../src/model/weights.ts";
import { syntheticWeights } from "../../src/bench/synthetic.ts";
import { createRng } from "../../src/tensor/rng.ts";

/** One linear layer of a real model. */
export interface RealLayer {
  /** `"llama4m L0 w1"`: model, block, llama2.c name. */
  label: string;
  /** The weight `[out, in]`. */
  weight: Matrix;
}

/** The real models the benchmarks use, and where each lives below the models folder. */
export const REAL_MODELS = {
  stories260K: "stories260K/stories260K.bin",
  llama4m: "llama4m/llama4m.bin",
} as const;

/** A model name of {@link REAL_MODELS}. */
export type RealModelName = keyof typeof REAL_MODELS;

/**
 * The prunable linear layers of a model, block by block in {@link LINEAR_NAMES} order.
 *
 * @param weights The model.
 * @param model The model name, used in labels.
 * @returns One entry per block and linear name (the matrices are the model's, not copies).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLlama2c } from "../../src/io/llama2c.ts";
 * import { linearLayersOf } from "./real_layers.ts";
 * const header = new Int32Array([4, 8, 1, 2, 2, 3, 2]); // dim 4, hidden 8, 1 layer, 2+2 heads, vocab 3
 * const bytes = new Uint8Array(28 + 4 * (3 * 4 + (2 * 4 + 4 * 16 + 3 * 32) + 4));
 * bytes.set(new Uint8Array(header.buffer));
 * const layers = linearLayersOf(readLlama2c(bytes), "toy");
 * assert.deepEqual(layers.map((l) => `${l.label} ${l.weight.rows}x${l.weight.cols}`),
 *   ["toy L0 wq 4x4", "toy L0 wk 4x4", "toy L0 wv 4x4", "toy L0 wo 4x4", "toy L0 w1 8x4", "toy L0 w3 8x4", "toy L0 w2 4x8"]);
 * ```
 */
export function linearLayersOf(weights: LlamaWeights, model: string): RealLayer[] {
  return weights.blocks.flatMap((block, l) =>
    LINEAR_NAMES.map((name) => ({ label: `${model} L${l} ${name}`, weight: block[name] }))
  );
}

/**
 * Reads a real model's linear layers, or returns `undefined` when its file is missing.
 *
 * @param modelsDir The models folder (`../shared/models`).
 * @param model Which model.
 * @returns The layers, or `undefined` if the checkpoint is not there.
 * @throws {RangeError} If the file is not a valid llama2.c checkpoint.
 */
export function readRealLayers(modelsDir: string, model: RealModelName): RealLayer[] | undefined {
  const path = join(modelsDir, REAL_MODELS[model]);
  if (!existsSync(path)) return undefined;
  return linearLayersOf(readLlama2c(new Uint8Array(readFileSync(path))), model);
}

/**
 * The models folder of a checkout with `../shared` beside it.
 *
 * @returns The absolute path of `../shared/models` relative to the repository root.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultModelsDir } from "./real_layers.ts";
 * assert.ok(defaultModelsDir().replaceAll("\\", "/").endsWith("/shared/models/"));
 * ```
 */
export function defaultModelsDir(): string {
  return fileURLToPath(new URL("../../../shared/models/", import.meta.url));
}

/**
 * All linear weights of a model in one array (its layers' rows concatenated), as a value pool for
 * filling benchmark layers.
 *
 * @param layers The model's layers.
 * @param source How the report names the pool.
 * @returns `{values, source}`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { poolOf } from "./real_layers.ts";
 * const w = (v: number[]) => ({ label: "", weight: { data: new Float32Array(v), rows: 1, cols: v.length } });
 * assert.deepEqual(Array.from(poolOf([w([1, 2]), w([3])], "toy").values), [1, 2, 3]);
 * ```
 */
export function poolOf(
  layers: readonly RealLayer[],
  source: string,
): { values: Float32Array; source: string } {
  const values = new Float32Array(layers.reduce((a, l) => a + l.weight.data.length, 0));
  let at = 0;
  for (const l of layers) {
    values.set(l.weight.data, at);
    at += l.weight.data.length;
  }
  return { values, source };
}

/**
 * The values benchmark layers are filled from: llama4m's linear weights (4.4M values), or 2^22
 * seeded N(0, 1) values when the checkpoint is missing (`source` says which).
 *
 * @param modelsDir The models folder.
 * @param seed Seed of the synthetic fallback.
 * @returns `{values, source}`.
 * @throws {RangeError} If the checkpoint is truncated.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layerValuePool } from "./real_layers.ts";
 * const pool = layerValuePool("/nonexistent", 1);
 * assert.equal(pool.values.length, 1 << 22);
 * assert.match(pool.source, /synthetic/);
 * ```
 */
export function layerValuePool(
  modelsDir: string,
  seed: number,
): { values: Float32Array; source: string } {
  const layers = readRealLayers(modelsDir, "llama4m");
  if (layers) return poolOf(layers, "llama4m linear weights");
  return {
    values: syntheticWeights("gaussian", 1 << 22, createRng(seed)),
    source: "synthetic N(0,1) (llama4m not found)",
  };
}
