/**
 * N:M masks: keep the N largest of every M consecutive scores of a row (NVIDIA's 2:4 convention:
 * "at most N kept in every M"). Groups run along `cols`. Ties: the lower index is pruned first,
 * i.e. among equal scores the higher index is kept.
 *
 * @module
 */
import type { Matrix } from "../tensor/matrix.ts";

/**
 * Throws unless an N:M pattern fits a `[rows, cols]` matrix.
 *
 * @param rows Rows of the matrix.
 * @param cols Columns of the matrix.
 * @param n Weights kept per group.
 * @param m Group size.
 * @throws {RangeError} If `n`, `m` are not integers with `0 <= n <= m`, `m >= 1`, or `cols % m != 0`.
 */
export function checkNM(rows: number, cols: number, n: number, m: number): void {
  if (!Number.isInteger(m) || m < 1) {
    throw new RangeError(`Cannot build ${n}:${m} mask: m must be a positive integer, got ${m}`);
  }
  if (!Number.isInteger(n) || n < 0 || n > m) {
    throw new RangeError(`Cannot build ${n}:${m} mask: n must be an integer in [0, m], got ${n}`);
  }
  if (cols % m !== 0) {
    throw new RangeError(
      `Cannot build ${n}:${m} mask for weight [${rows}, ${cols}]: cols must be divisible by ${m}`,
    );
  }
}

/**
 * The reference: sort each group of M and keep the N largest. Simple and slow.
 *
 * @param scores Scores `[rows, cols]`.
 * @param n Kept per group.
 * @param m Group size; must divide `cols`.
 * @returns `keep`, `Uint8Array(rows * cols)`, exactly `n` ones per group.
 * @throws {RangeError} If the pattern does not fit, or a score is NaN.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { nmMaskReference } from "./nm.ts";
 * const keep = nmMaskReference(fromRows([[4, 1, 3, 2, 0, 0, 5, 5]]), 2, 4);
 * assert.deepEqual(Array.from(keep), [1, 0, 1, 0, 0, 0, 1, 1]);
 * ```
 */
export function nmMaskReference(scores: Matrix, n: number, m: number): Uint8Array {
  checkNM(scores.rows, scores.cols, n, m);
  const keep = new Uint8Array(scores.rows * scores.cols);
  for (let g = 0; g < keep.length; g += m) {
    const idx = Array.from({ length: m }, (_, t) => g + t);
    for (const i of idx) {
      if (Number.isNaN(scores.data[i])) {
        throw new RangeError(`Cannot build ${n}:${m} mask: score ${i} is NaN`);
      }
    }
    idx.sort((a, b) => (scores.data[a] - scores.data[b]) || (a - b)); // pruned first
    for (let t = m - n; t < m; t++) keep[idx[t]] = 1;
  }
  return keep;
}

/**
 * Keeps the N largest of every M consecutive scores in O(rows * cols * (M - N)), no sort: each
 * group starts all-kept and its current smallest is dropped M - N times (a partial selection).
 * 2:4, the pattern sparse tensor cores run, takes a fixed network of 4 comparisons per group.
 *
 * @param scores Scores `[rows, cols]`.
 * @param n Kept per group.
 * @param m Group size; must divide `cols`.
 * @returns `keep`, identical to {@link nmMaskReference}.
 * @throws {RangeError} If the pattern does not fit, or a score is NaN.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { nmMask } from "./nm.ts";
 * assert.deepEqual(Array.from(nmMask(fromRows([[0.1, -3, 2, 0.5]]), 2, 4)), [0, 0, 1, 1]);
 * ```
 */
export function nmMask(scores: Matrix, n: number, m: number): Uint8Array {
  checkNM(scores.rows, scores.cols, n, m);
  if (n === 2 && m === 4) return mask24(scores.data);
  const s = scores.data;
  const keep = new Uint8Array(s.length).fill(1);
  const drop = m - n;
  for (let g = 0; g < s.length; g += m) {
    for (let d = 0; d < drop; d++) {
      let best = -1, bestScore = Infinity;
      for (let t = g; t < g + m; t++) {
        const v = s[t];
        if (v !== v) throw new RangeError(`Cannot build ${n}:${m} mask: score ${t} is NaN`);
        // strict < keeps the first (lowest index) among equal minima: the lower index is pruned first
        if (keep[t] === 1 && (v < bestScore || best < 0)) {
          best = t;
          bestScore = v;
        }
      }
      keep[best] = 0;
    }
  }
  return keep;
}

/** 2:4 by a comparison network: the two smallest of (a, b, c, d) by (score, index) are pruned. */
function mask24(s: Float32Array): Uint8Array {
  const keep = new Uint8Array(s.length).fill(1);
  const less = (a: number, b: number) => s[a] < s[b] || (s[a] === s[b] && a < b);
  for (let g = 0; g < s.length; g += 4) {
    for (let t = g; t < g + 4; t++) {
      if (s[t] !== s[t]) throw new RangeError(`Cannot build 2:4 mask: score ${t} is NaN`);
    }
    const swap1 = less(g + 1, g), swap2 = less(g + 3, g + 2); // order each pair
    const lo1 = swap1 ? g + 1 : g, hi1 = swap1 ? g : g + 1;
    const lo2 = swap2 ? g + 3 : g + 2, hi2 = swap2 ? g + 2 : g + 3;
    let first, second;
    if (less(lo1, lo2)) {
      first = lo1;
      second = less(hi1, lo2) ? hi1 : lo2; // runner-up: the loser's partner or the other minimum
    } else {
      first = lo2;
      second = less(hi2, lo1) ? hi2 : lo1;
    }
    keep[first] = 0;
    keep[second] = 0;
  }
  return keep;
}
