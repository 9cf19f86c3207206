/**
 * The reference selector: sort, then prune the k smallest. O(n log n). Every other selector
 * (the EWMA ones, per-layer grouping) is tested and benchmarked against this one.
 *
 * Tie order (binding, see docs/architecture.md): among equal scores the lower index is pruned
 * first, so the order is (score ascending, index ascending).
 *
 * @module
 */

/**
 * Throws a `RangeError` for a count outside `[0, n]` or a NaN score.
 *
 * @param scores The scores.
 * @param k How many to prune.
 * @param what What is being selected, for the message.
 * @throws {RangeError} If `k` is not an integer in `[0, n]` or a score is NaN.
 */
export function checkSelection(scores: ArrayLike<number>, k: number, what = "row"): void {
  if (!Number.isInteger(k) || k < 0 || k > scores.length) {
    throw new RangeError(`Cannot prune ${k} of ${scores.length} scores of ${what}: k must be an integer in [0, ${scores.length}]`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) {
      throw new RangeError(`Cannot select from scores of ${what}: score ${i} is NaN`);
    }
  }
}

/**
 * Marks the `k` smallest scores as pruned, by sorting. Ties: the lower index is pruned first.
 *
 * @param scores The scores (higher = more important), length n.
 * @param k How many to prune, `0 <= k <= n`.
 * @returns `keep`, a `Uint8Array(n)` with exactly `k` zeros.
 * @throws {RangeError} If `k` is out of range or a score is NaN.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectBySort } from "./sort.ts";
 * // 1 and the first 2 are the smallest (ties prune the lower index first)
 * assert.deepEqual(Array.from(selectBySort([3, 1, 2, 2], 2)), [1, 0, 0, 1]);
 * ```
 */
export function selectBySort(scores: ArrayLike<number>, k: number): Uint8Array {
  checkSelection(scores, k);
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => (scores[a] - scores[b]) || (a - b));
  const keep = new Uint8Array(n).fill(1);
  for (let r = 0; r < k; r++) keep[order[r]] = 0;
  return keep;
}
