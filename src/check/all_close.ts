/**
 * Numeric comparison in the style of llm.c's checkers: `|a - b| <= atol + rtol * |b|` elementwise,
 * reporting the worst offender so a failing backend knows where to look.
 *
 * @module
 */

/** The outcome of comparing two arrays. */
export interface AllCloseReport {
  /** True when every element is within tolerance (and lengths match). */
  ok: boolean;
  /** Number of elements outside tolerance. */
  mismatches: number;
  /** Largest `|a - b|`. */
  maxAbsError: number;
  /** Index of the largest absolute error (-1 if empty). */
  maxAbsIndex: number;
  /** Largest `|a - b| / |b|` over elements with `b != 0`. */
  maxRelError: number;
  /** Index of the largest relative error (-1 if none). */
  maxRelIndex: number;
}

/** Tolerances for {@link allClose}. */
export interface Tolerance {
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
}

/**
 * Compares `actual` with `expected` elementwise. NaN equals NaN only at the same index.
 *
 * @param actual The values to check.
 * @param expected The reference values.
 * @param tol Tolerances.
 * @returns The report, with the worst absolute and relative errors and where they are.
 * @throws {TypeError} If the lengths differ.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allClose } from "./all_close.ts";
 * const r = allClose([1, 2.0000001], [1, 2]);
 * assert.ok(r.ok && r.maxAbsIndex === 1);
 * ```
 */
export function allClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance = {},
): AllCloseReport {
  const atol = tol.atol ?? 1e-6, rtol = tol.rtol ?? 1e-5;
  if (actual.length !== expected.length) {
    throw new TypeError(
      `Cannot compare arrays: lengths differ (actual ${actual.length}, expected ${expected.length})`,
    );
  }
  let mismatches = 0, maxAbsError = 0, maxAbsIndex = -1, maxRelError = 0, maxRelIndex = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], b = expected[i];
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (!(Number.isNaN(a) && Number.isNaN(b))) {
        mismatches++;
        maxAbsError = Infinity;
        maxAbsIndex = i;
      }
      continue;
    }
    const d = a === b ? 0 : Math.abs(a - b);
    if (d > maxAbsError || maxAbsIndex < 0) {
      maxAbsError = d;
      maxAbsIndex = i;
    }
    if (b !== 0 && d / Math.abs(b) > maxRelError) {
      maxRelError = d / Math.abs(b);
      maxRelIndex = i;
    }
    if (!(d <= atol + rtol * Math.abs(b))) mismatches++;
  }
  return { ok: mismatches === 0, mismatches, maxAbsError, maxAbsIndex, maxRelError, maxRelIndex };
}

/**
 * Throws unless `actual` and `expected` are elementwise close (see {@link allClose}).
 *
 * @param actual The values to check.
 * @param expected The reference values.
 * @param tol Tolerances.
 * @param what A label for the message.
 * @throws {Error} With the mismatch count and the worst index, when not close.
 * @example
 * ```ts
 * import { assertAllClose } from "./all_close.ts";
 * assertAllClose(new Float32Array([0.1]), [0.1], { atol: 1e-7 });
 * ```
 */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance = {},
  what = "values",
): void {
  const r = allClose(actual, expected, tol);
  if (!r.ok) {
    const i = r.maxAbsIndex;
    throw new Error(
      `${what}: ${r.mismatches} of ${actual.length} outside atol=${tol.atol ?? 1e-6} rtol=${
        tol.rtol ?? 1e-5
      }; worst |diff| ${r.maxAbsError} at index ${i} (actual ${actual[i]}, expected ${expected[i]})`,
    );
  }
}
