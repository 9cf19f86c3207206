/**
 * Giving an array's memory back at once.
 *
 * A JavaScript engine frees a dead typed array's memory only at a garbage collection, and V8
 * starts one for such "external" memory only after about 64 MB more of it has been allocated. A
 * pruning run makes arrays of megabytes per layer (scores, masks, a block's captured inputs), so
 * without help tens of MB of dead arrays sit in memory at its peak (docs/memory.md). ES2024's
 * `ArrayBuffer.prototype.transfer(0)` detaches a buffer, and the engine frees its memory then and
 * there: {@link release} does that for arrays their owner knows are dead.
 *
 * Shared memory (`SharedArrayBuffer`) cannot be detached, and it is freed only once the collector
 * of every thread that saw it has run. So a released shared buffer is kept instead, and the next
 * shared allocation of the same size ({@link reuseShared}, used by `src/parallel/pool.ts`) takes
 * it: a pipeline that makes the same shared arrays block after block then holds one set of them.
 *
 * @module
 */

/** Released shared buffers by byte length, at most {@link SPARE_PER_SIZE} of each size. */
const spare = new Map<number, SharedArrayBuffer[]>();
const SPARE_PER_SIZE = 4;

/**
 * Frees the memory of arrays that will not be used again, now instead of at the next garbage
 * collection. Only an array that is the whole of its buffer is released (a view into a larger
 * buffer may still be read by someone else). A non-shared one is detached (length 0 from then
 * on); where `transfer` is missing (older runtimes) nothing happens. A shared one is kept for
 * {@link reuseShared}: it must not be written after its release.
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
    if (a === undefined || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) continue;
    if (a.byteLength === 0) continue;
    if (typeof SharedArrayBuffer === "function" && a.buffer instanceof SharedArrayBuffer) {
      const list = spare.get(a.byteLength) ?? [];
      if (list.length < SPARE_PER_SIZE && !list.includes(a.buffer)) list.push(a.buffer);
      spare.set(a.byteLength, list);
      released++;
      continue;
    }
    const buffer = a.buffer as { transfer?: (length: number) => ArrayBuffer };
    if (typeof buffer.transfer !== "function") continue;
    buffer.transfer(0);
    released++;
  }
  return released;
}

/**
 * A released shared buffer of exactly `byteLength` bytes, zero-filled, if there is one (see the
 * module doc); `undefined` otherwise.
 *
 * @param byteLength The size wanted.
 * @returns The buffer, or `undefined`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { release, reuseShared } from "./release.ts";
 * const a = new Float32Array(new SharedArrayBuffer(4096 * 4)).fill(7);
 * release(a);
 * const again = reuseShared(4096 * 4)!;
 * assert.equal(again, a.buffer); // the same memory...
 * assert.equal(new Float32Array(again)[5], 0); // ...zeroed
 * assert.equal(reuseShared(4096 * 4), undefined); // taken
 * ```
 */
export function reuseShared(byteLength: number): SharedArrayBuffer | undefined {
  const buffer = spare.get(byteLength)?.pop();
  if (buffer !== undefined) new Uint8Array(buffer).fill(0);
  return buffer;
}

/**
 * Releases (see {@link release}) the buffers under a set of views when the views cover each buffer
 * exactly: e.g. the per-window outputs of one block run, which are consecutive views of one buffer.
 * Buffers that the views do not tile are left alone.
 *
 * @param views Views, each of a buffer that nothing else will read again.
 * @returns The number of buffers released.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { releaseTiled } from "./release.ts";
 * const all = new Float32Array(8);
 * assert.equal(releaseTiled([all.subarray(0, 4), all.subarray(4, 8)]), typeof ArrayBuffer.prototype.transfer === "function" ? 1 : 0);
 * ```
 */
export function releaseTiled(views: ArrayBufferView[]): number {
  const covered = new Map<ArrayBufferLike, number>();
  for (const v of new Set(views)) {
    covered.set(v.buffer, (covered.get(v.buffer) ?? 0) + v.byteLength);
  }
  let released = 0;
  for (const [buffer, bytes] of covered) {
    if (bytes === buffer.byteLength) released += release(new Uint8Array(buffer));
  }
  return released;
}
