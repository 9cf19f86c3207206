/**
 * A small explicit matrix inverse for tests: an oracle independent of the library's Cholesky code.
 *
 * @module
 */

/**
 * Inverts a small symmetric positive definite matrix by Gauss-Jordan elimination (float64).
 *
 * @param a The matrix, as rows.
 * @returns Its inverse, as rows.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { invert } from "./invert.ts";
 * assert.deepEqual(invert([[2, 0], [0, 4]]), [[0.5, 0], [0, 0.25]]);
 * ```
 */
export function invert(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const d = m[c][c];
    for (let j = 0; j < 2 * n; j++) m[c][j] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c];
      for (let j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j];
    }
  }
  return m.map((row) => row.slice(n));
}
