/**
 * Detecting NaN and infinity in weights and calibration inputs.
 *
 * A single NaN in a weight spreads through every matmul it touches, and a pruning method that
 * sorts scores puts NaN at an arbitrary place, so a checkpoint from a diverged training run or a
 * damaged download would be pruned into garbage without any error. The CLIs check every tensor
 * with {@link assertFinite} before pruning (`--allow-nonfinite` skips the check) and name the
 * tensor and the first bad index.
 *
 * @module
 */
import type { Matrix } from "../tensor/matrix.ts";
import type { LlamaWeights } from "../model/weights.ts";

/**
 * Index of the first NaN, `Infinity` or `-Infinity` in `data`.
 *
 * @param data The values.
 * @returns The first non-finite index, or -1 when every value is finite.
 * @throws {TypeError} If `data` is not array-like.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findNonFinite } from "./finite.ts";
 * assert.equal(findNonFinite(new Float32Array([1, -2, 3e38])), -1);
 * assert.equal(findNonFinite(new Float32Array([1, Infinity, NaN])), 1);
 * ```
 */
export function findNonFinite(data: Float32Array | Float64Array | ArrayLike<number>): number {
  if (typeof data?.length !== "number") {
    throw new TypeError(
      `Cannot search for non-finite values: expected an array, got ${typeof data}`,
    );
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) return i; // NaN - NaN and Inf - Inf are NaN; finite v - v is 0
  }
  return -1;
}

/** Where a non-finite value is: flat index, and row/col for a matrix. */
function position(index: number, cols?: number): string {
  if (cols === undefined || cols === 0) return `index ${index}`;
  return `index ${index} (row ${Math.floor(index / cols)}, col ${index % cols})`;
}

/**
 * Throws when a matrix or vector holds NaN or an infinity, naming the tensor and the first bad
 * index (with its row and column for a matrix).
 *
 * @param m A matrix `{ data, rows, cols }` or a plain vector of values.
 * @param name The tensor's name, quoted in the message (e.g. `blocks[2].wq` or `inputs`).
 * @throws {RangeError} If a value is not finite, e.g.
 *   `Tensor "blocks[0].wq" has a non-finite value NaN at index 13 (row 1, col 5)`.
 * @throws {TypeError} If `m` is neither a matrix nor array-like.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertFinite } from "./finite.ts";
 * assertFinite({ data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 }, "w"); // fine
 * assert.throws(
 *   () => assertFinite({ data: new Float32Array([1, 2, 3, -Infinity]), rows: 2, cols: 2 }, "w"),
 *   { name: "RangeError", message: 'Tensor "w" has a non-finite value -Infinity at index 3 (row 1, col 1)' },
 * );
 * ```
 */
export function assertFinite(m: Matrix | Float32Array | ArrayLike<number>, name: string): void {
  const isMatrix = typeof m === "object" && m !== null && "data" in m && "cols" in m;
  const data = isMatrix ? (m as Matrix).data : (m as ArrayLike<number>);
  const index = findNonFinite(data);
  if (index < 0) return;
  throw new RangeError(
    `Tensor "${name}" has a non-finite value ${data[index]} at ${
      position(index, isMatrix ? (m as Matrix).cols : undefined)
    }`,
  );
}

/**
 * Checks every tensor of a model with {@link assertFinite}, in file order, naming tensors as
 * `tokenEmbedding`, `blocks[l].wq`, ..., `rmsFinal`, `classifier`.
 *
 * @param weights The model.
 * @throws {RangeError} At the first tensor holding NaN or an infinity.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertFiniteWeights } from "./finite.ts";
 * import { tinyLlama } from "../model/llama.ts";
 * const w = tinyLlama({ seed: 1 });
 * assertFiniteWeights(w);
 * const bad = { ...w, blocks: [{ ...w.blocks[0], rmsFfn: new Float32Array([1, NaN]) }, ...w.blocks.slice(1)] };
 * assert.throws(() => assertFiniteWeights(bad), /"blocks\[0\]\.rmsFfn" has a non-finite value NaN at index 1$/);
 * ```
 */
export function assertFiniteWeights(weights: LlamaWeights): void {
  assertFinite(weights.tokenEmbedding, "tokenEmbedding");
  weights.blocks.forEach((block, l) => {
    for (const [key, tensor] of Object.entries(block)) assertFinite(tensor, `blocks[${l}].${key}`);
  });
  assertFinite(weights.rmsFinal, "rmsFinal");
  if (weights.classifier !== weights.tokenEmbedding) assertFinite(weights.classifier, "classifier");
}
