/**
 * Giving an array's memory back at once.
 *
 * A JavaScript engine frees a dead typed array's memory only at a garbage collection, and V8
 * starts one for such "external" memory only after about 64 MB more of it has been allocated. A
 * pruning run makes arrays of megabytes per layer (scores, masks, a block's captured inputs), so
 * without help tens of MB of dead arrays sit in memory at its peak (issue #8 item 6). ES2024's
 * `ArrayBuffer.prototype.transfer(0)` detaches a buffer, and the engine frees its memory then and
 * there: {@link release} does that for arrays their owner knows are dead.
 *
 * @module
 */

/**
 * Frees the memory of arrays that will not be used again, now instead of at the next garbage
 * collection. Only an array that is the whole of a non-shared `ArrayBuffer` is released (a view
 * into a larger buffer or shared memory may still be read by someone else); where `transfer` is
 * missing (older runtimes) nothing happens. A released array has length 0 from then on.
 *
 * @param arrays Typed arrays (or `undefined`, skipped).
 * @returns The number of arrays released.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { release } from "./release.ts";
 * const scores = new Float32Array(1000), big = new Float32Array(8), view = big.subarray(2, 4);
 * assert.equal(release(scores, view, undefined), typeof ArrayBuffer.prototype.transfer === "function" ? 1 : 0);
 * assert.equal(view.length, 2); // a view of a larger buffer is left alone
 * ```
 */
export function release(...arrays: (ArrayBufferView | undefined)[]): number {
  let released = 0;
  for (const a of arrays) {
    if (a === undefined) continue;
    const buffer = a.buffer as { transfer?: (length: number) => ArrayBuffer; byteLength: number };
    if (
      typeof buffer.transfer !== "function" || a.byteOffset !== 0 ||
      a.byteLength !== buffer.byteLength || a.byteLength === 0
    ) continue;
    buffer.transfer(0);
    released++;
  }
  return released;
}
