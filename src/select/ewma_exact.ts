/**
 * The exact EWMA selector: the k smallest scores, identical to `selectBySort` (`./sort.ts`) (ties: the lower
 * index is pruned first), in O(n) expected time and without sorting. OUR READING of SwiftPrune's
 * selector (arXiv:2501.16376v2) made exact (docs: `docs/readings.md` §2.2).
 *
 * 1. The EWMA tracker and one counting pass of {@link locateThreshold} give a key range
 *    `[lo, hi)` with `#{key < lo} = countLo <= k <= countHi = #{key < hi}`: the borderline band,
 *    usually about 1% of the row.
 * 2. One marking pass: below the band pruned, above it kept, inside it collected.
 * 3. The `k - countLo` smallest of the band by (score, index) are found by quickselect (Hoare's
 *    FIND with random pivots: linear expected time; only the band is touched, never sorted).
 *
 * Keys are float32 keys: a float64 input that rounds to the same float32 lands in the same band,
 * and step 3 compares the original values, so the result is exact for any numbers.
 *
 * @module
 */
import { checkKeep, type EwmaOptions, keyOf, locateThreshold, scoreBits } from "./ewma.ts";
import { checkSelection } from "./sort.ts";

const clampKey = (key: number) => Math.max(-0x7f800001, Math.min(0x7f800001, key)) | 0;

/**
 * Rearranges `band` so that its first `need` entries are the `need` smallest by (score, index),
 * in linear expected time (quickselect with seeded random pivots). Indices are distinct, so the
 * order is total and equal scores cannot make it degenerate.
 *
 * @param band Indices into `scores` (rearranged in place; it is the caller's scratch array).
 * @param need How many of the smallest to bring to the front, `0 <= need <= band.length`.
 * @param scores The scores the indices point into.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectSmallest } from "./ewma_exact.ts";
 * const band = Int32Array.from([0, 1, 2, 3, 4]);
 * selectSmallest(band, 2, [5, 1, 4, 1, 3]);
 * assert.deepEqual(Array.from(band.subarray(0, 2)).sort(), [1, 3]);
 * ```
 */
export function selectSmallest(band: Int32Array, need: number, scores: ArrayLike<number>): void {
  const less = (a: number, b: number) =>
    scores[a] < scores[b] || (scores[a] === scores[b] && a < b);
  let lo = 0, hi = band.length - 1, seed = 0x2545f491;
  const target = need - 1;
  while (lo < hi && target >= lo && target <= hi) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; // LCG for the pivot position
    const pivot = band[lo + (seed % (hi - lo + 1))];
    let i = lo, j = hi;
    while (i <= j) { // Hoare partition: [lo..j] <= pivot <= [i..hi]
      while (less(band[i], pivot)) i++;
      while (less(pivot, band[j])) j--;
      if (i <= j) {
        const t = band[i];
        band[i++] = band[j];
        band[j--] = t;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break; // band[j+1..i-1] equals the pivot: the target is in place
  }
}

/**
 * Prunes exactly the `k` smallest scores (ties: lower index first) using the EWMA threshold as a
 * pivot and a linear-time repair of the borderline band. Equal to `selectBySort` (`./sort.ts`).
 *
 * @param scores The scores of one group (higher = more important), length n.
 * @param k How many to prune, an integer in `[0, n]`.
 * @param options EWMA parameters (`corrections` defaults to 1 here: one counting pass).
 * @returns `keep`, `Uint8Array(n)` with exactly `k` zeros, and `band`, the size of the repaired band.
 * @throws {RangeError} If `k` is out of range, a score is NaN, or an option is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectEwmaExact } from "./ewma_exact.ts";
 * import { selectBySort } from "./sort.ts";
 * const scores = Array.from({ length: 3000 }, (_, i) => (i * 7919) % 101); // many ties
 * assert.deepEqual(selectEwmaExact(scores, 1234).keep, selectBySort(scores, 1234));
 * ```
 */
export function selectEwmaExact(
  scores: ArrayLike<number>,
  k: number,
  options: EwmaOptions = {},
): { keep: Uint8Array; band: number } {
  return selectEwmaExactInto(scores, k, new Uint8Array(scores.length), options);
}

/**
 * {@link selectEwmaExact} writing its mask into `keep` (for example a row's view of a layer's
 * mask, `layerKeep.subarray(i * cols, (i + 1) * cols)`), so selecting many rows allocates no masks.
 *
 * @param scores The scores of one group (higher = more important), length n.
 * @param k How many to prune, an integer in `[0, n]`.
 * @param keep The output, a `Uint8Array(n)`: every entry is overwritten (1 = keep, 0 = pruned).
 * @param options EWMA parameters (`corrections` defaults to 1 here: one counting pass).
 * @returns `keep` (the array given, now with exactly `k` zeros) and `band`, the size of the
 *   repaired band.
 * @throws {TypeError} If `keep` is not a `Uint8Array(n)`.
 * @throws {RangeError} If `k` is out of range, a score is NaN, or an option is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectEwmaExactInto } from "./ewma_exact.ts";
 * import { selectBySort } from "./sort.ts";
 * const scores = Array.from({ length: 3000 }, (_, i) => (i * 7919) % 101); // many ties
 * const layerKeep = new Uint8Array(2 * 3000);
 * selectEwmaExactInto(scores, 1234, layerKeep.subarray(3000));
 * assert.deepEqual(layerKeep.subarray(3000), selectBySort(scores, 1234));
 * ```
 */
export function selectEwmaExactInto(
  scores: ArrayLike<number>,
  k: number,
  keep: Uint8Array,
  options: EwmaOptions = {},
): { keep: Uint8Array; band: number } {
  const n = scores.length;
  checkKeep(keep, n);
  if (!Number.isInteger(k) || k < 0 || k > n || k === 0 || k === n) {
    checkSelection(scores, k); // throws the RangeError for a bad k or a NaN score
    return { keep: keep.fill(k === 0 ? 1 : 0), band: 0 };
  }
  const bits = scoreBits(scores);
  const found = locateThreshold(bits, k, { corrections: 1, ...options });
  const band = new Int32Array(found.countHi - found.countLo);
  // The band [lo, hi) in int32 keys: every key of a non-NaN float32 is within +-0x7f800000, so
  // clamping an open end (+-Infinity) to one step beyond changes no comparison. When several edges
  // count exactly k, lo > hi: the band is empty (countLo = countHi = k).
  const lo = clampKey(found.lo), hi = clampKey(found.hi), bandWidth = Math.max(0, hi - lo);
  let filled = 0;
  for (let i = 0; i < n; i++) { // marking pass: below the band pruned, above kept, inside collected
    const key = keyOf(bits[i]);
    keep[i] = +(key >= hi); // branch-free: which side of the band a score falls on is a coin flip
    if (((key - lo) >>> 0) < bandWidth) band[filled++] = i; // lo <= key < hi; rare (~1% of the row)
  }
  const { countLo } = found;
  const need = k - countLo;
  selectSmallest(band, need, scores);
  for (let t = need; t < band.length; t++) keep[band[t]] = 1;
  return { keep, band: band.length };
}
