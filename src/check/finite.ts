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
import type { Model } from "../model/family.ts";

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
export function assertFiniteWeights(weights: Model): void {
  const seen = new Set<unknown>(); // a tied head is the embedding: checked once
  const check = (tensor: unknown, name: string) => {
    if (seen.has(tensor) || !isTensor(tensor)) return;
    seen.add(tensor);
    assertFinite(tensor, name);
  };
  for (const [key, value] of Object.entries(weights)) {
    if (key !== "blocks") check(value, key);
    else {
      weights.blocks.forEach((block, l) => {
        for (const [k, tensor] of Object.entries(block)) check(tensor, `blocks[${l}].${k}`);
      });
    }
  }
}

function isTensor(v: unknown): v is Matrix | Float32Array {
  return v instanceof Float32Array ||
    (typeof v === "object" && v !== null && (v as Matrix).data instanceof Float32Array);
}

/**
 * A calibration input holding NaN or an infinity: the model overflows (or was given a broken
 * weight) on the calibration text. A `RangeError`, so the CLIs report it as bad input.
 */
export class NonFiniteInputError extends RangeError {
  override name = "NonFiniteInputError";
}

/**
 * Throws when the captured inputs of a block's linears hold NaN or an infinity, naming the linears
 * that read the input, the window, the token in it and the column. Rows of `inputs[...]` are the
 * windows' tokens in order (`windowRows[w]` rows for window `w`).
 *
 * @param layer The block index (for the message).
 * @param inputs Captured inputs by the first linear reading each (Llama's `wq`: q, k, v).
 * @param windowRows Tokens per window, in order.
 * @param readers The linears reading each input, for the message (default: the input's name).
 * @throws {NonFiniteInputError} At the first non-finite value, e.g. `Calibration input of
 *   layers.0.w2 has a non-finite value Infinity at window 1, token 3, column 2 (row 7)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertFiniteInputs } from "./finite.ts";
 * const x = { data: new Float32Array([1, 2, 3, NaN]), rows: 2, cols: 2 };
 * assert.throws(() => assertFiniteInputs(3, { w1: x }, [1, 1], { w1: ["w1", "w3"] }), {
 *   name: "NonFiniteInputError",
 *   message: /^Calibration input of layers\.3\.w1, w3 has a non-finite value NaN at window 1, token 0, column 1 \(row 1\)/,
 * });
 * ```
 */
export function assertFiniteInputs(
  layer: number,
  inputs: Partial<Record<string, Matrix>>,
  windowRows: number[],
  readers: Readonly<Record<string, readonly string[]>> = {},
): void {
  for (const [name, x] of Object.entries(inputs)) {
    if (x === undefined) continue;
    const index = findNonFinite(x.data);
    if (index < 0) continue;
    const row = Math.floor(index / x.cols), col = index % x.cols;
    let window = 0, first = 0;
    while (window < windowRows.length - 1 && row >= first + windowRows[window]) {
      first += windowRows[window++];
    }
    throw new NonFiniteInputError(
      `Calibration input of ${
        (readers[name] ?? [name]).map((n, i) => (i === 0 ? `layers.${layer}.${n}` : n)).join(", ")
      } has a non-finite value ${x.data[index]} at window ${window}, token ${
        row - first
      }, column ${col} (row ${row}): the model overflows on the calibration text`,
    );
  }
}
