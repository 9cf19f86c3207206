/**
 * The memory-bound floor for a pruning mask: one streaming pass that reads every weight once and
 * writes one byte per weight (`keep[i] = |w_i| >= t`). Any scorer plus selector must at least read
 * the weights and write the mask, so the ratio of their time to this pass says how far a linear-time
 * method is from the best a single pass over memory can do (issue 4, item 3).
 *
 * @module
 */

/**
 * Writes `keep[i] = |weights[i]| >= threshold ? 1 : 0` in one pass.
 *
 * @param weights The weights, read once.
 * @param threshold The magnitude threshold.
 * @param keep Optional output of the same length (reused to keep allocation out of the timing).
 * @returns `keep`, one byte per weight.
 * @throws {TypeError} If `keep` is given with the wrong length.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamingThresholdPass } from "./streaming.ts";
 * const keep = streamingThresholdPass(new Float32Array([0.5, -2, 0.1, 3]), 1);
 * assert.deepEqual(Array.from(keep), [0, 1, 0, 1]);
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
  for (let i = 0; i < weights.length; i++) keep[i] = Math.abs(weights[i]) >= threshold ? 1 : 0;
  return keep;
}
