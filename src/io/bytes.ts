/**
 * Byte helpers shared by the parsers.
 *
 * @module
 */

/**
 * Copies `bytes[start, end)` into a fresh `Uint8Array` with its own, aligned `ArrayBuffer`.
 *
 * Why not `bytes.slice(...)`: a Node or Bun `Buffer` is a `Uint8Array` subclass whose `slice`
 * returns a *view* of the same memory (often a shared 8 KiB pool), so `slice().buffer` would be the
 * whole pool. Even `Uint8Array.prototype.slice.call(buffer)` builds its result through the
 * subclass's constructor (a pooled `Buffer` again). A plain `new Uint8Array` filled by `set` is
 * always a fresh, exact buffer.
 *
 * @param bytes The source (a `Uint8Array` or any subclass, e.g. a Node `Buffer`).
 * @param start First byte (default 0).
 * @param end One past the last byte (default `bytes.length`).
 * @returns A copy whose `.buffer` holds exactly these bytes from offset 0.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { copyBytes } from "./bytes.ts";
 * const big = new Uint8Array([9, 1, 2, 3]);
 * const c = copyBytes(big.subarray(1), 0, 2);
 * assert.deepEqual(Array.from(c), [1, 2]);
 * assert.equal(c.buffer.byteLength, 2);
 * ```
 */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  const out = new Uint8Array(Math.max(0, end - start));
  out.set(bytes.subarray(start, end));
  return out;
}
