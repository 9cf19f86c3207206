/**
 * The memory-bound floor for a pruning mask: one streaming pass that reads every weight once and
 * writes one byte per weight (`keep[i] = |w_i| >= t`). Any scorer plus selector must at least read
 * the weights and write the mask, so the ratio of their time to this pass says how far a linear-time
 * method is from the best a single pass over memory can do.
 *
 * The pass is branchless, so its speed does not depend on how many weights clear the threshold:
 * for non-negative IEEE-754 floats the bit patterns order like the values, so `|w| >= t` is
 * `(w_bits & 0x7fffffff) >= t_bits`, and the sign bit of `t_bits - 1 - |w|_bits` is that answer.
 *
 * @module
 */

/**
 * Writes `keep[i] = |weights[i]| >= threshold ? 1 : 0` in one branchless pass (NaN weights count
 * as kept).
 *
 * @param weights The weights, read once.
 * @param threshold The magnitude threshold, a number >= 0 (rounded to float32).
 * @param keep Optional output of the same length (to keep allocation out of a timing).
 * @returns `keep`, one byte per weight.
 * @throws {TypeError} If `keep` is given with the wrong length.
 * @throws {RangeError} If `threshold` is negative or NaN.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamingThresholdPass } from "./streaming.ts";
 * const keep = streamingThresholdPass(new Float32Array([0.5, -2, 0.1, 3, -1]), 1);
 * assert.deepEqual(Array.from(keep), [0, 1, 0, 1, 1]);
 * ```
 */
export function streamingThresholdPass(
  weights: Float32Array,
  threshold: number,
  keep: Uint8Array = new Uint8Array(weights.length),
): Uint8Array {
  if (keep.length !== weights.length) {
    throw new TypeError(
      `Cannot write mask: keep has ${keep.length} entries, expected ${weights.length}`,
    );
  }
  if (!(threshold >= 0)) {
    throw new RangeError(`Cannot threshold magnitudes: threshold must be >= 0, got ${threshold}`);
  }
  const bits = new Uint32Array(weights.buffer, weights.byteOffset, weights.length);
  const limit = new Uint32Array(Float32Array.of(threshold).buffer)[0] - 1; // t_bits - 1 (>= -1)
  for (let i = 0; i < bits.length; i++) {
    keep[i] = (limit - (bits[i] & 0x7fffffff)) >>> 31; // 1 iff |w|_bits > t_bits - 1
  }
  return keep;
}
