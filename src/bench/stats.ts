/**
 * The small statistics behind `deno task complexity`: medians and spreads of repeated timings,
 * and the least-squares slope of `log t` against `log n` that turns a sweep into a complexity
 * claim (slope 1 = linear, about 1.1 for `n log n` over the sizes we sweep, 2 = quadratic).
 *
 * Pure functions over numbers; no clock, no I/O.
 *
 * @module
 */

/** A timing summary of repeated runs of one measurement. */
export interface Summary {
  /** Median of the samples. */
  median: number;
  /** Smallest sample. */
  min: number;
  /** Largest sample. */
  max: number;
  /** Relative spread: interquartile range divided by the median (0 when the median is 0). */
  spread: number;
  /** Number of samples. */
  count: number;
}

/**
 * The `q`-quantile of `values` by linear interpolation between order statistics (numpy's default).
 *
 * @param values The samples (not mutated), at least one.
 * @param q The quantile in `[0, 1]`.
 * @returns The interpolated quantile.
 * @throws {RangeError} If `values` is empty, holds a non-finite value, or `q` is outside `[0, 1]`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quantile } from "./stats.ts";
 * assert.equal(quantile([4, 1, 3, 2], 0.5), 2.5);
 * assert.equal(quantile([10, 20], 0.25), 12.5);
 * ```
 */
export function quantile(values: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`Cannot take quantile ${q}: q must be in [0, 1]`);
  if (values.length === 0) throw new RangeError("Cannot take a quantile of no values");
  for (const v of values) {
    if (!Number.isFinite(v)) {
      throw new RangeError(`Cannot take a quantile: value ${v} is not finite`);
    }
  }
  const sorted = [...values].sort((a, b) => a - b);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Summarises repeated timings: median, extremes and the relative interquartile spread.
 *
 * @param samples The timings (not mutated), at least one.
 * @returns The {@link Summary}.
 * @throws {RangeError} If `samples` is empty or holds a non-finite value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarize } from "./stats.ts";
 * const s = summarize([2, 1, 3, 100, 2]);
 * assert.equal(s.median, 2);
 * assert.equal(s.max, 100);
 * assert.equal(s.spread, (3 - 2) / 2); // IQR / median, robust to the one outlier
 * ```
 */
export function summarize(samples: readonly number[]): Summary {
  const median = quantile(samples, 0.5);
  const iqr = quantile(samples, 0.75) - quantile(samples, 0.25);
  return {
    median,
    min: Math.min(...samples),
    max: Math.max(...samples),
    spread: median > 0 ? iqr / median : 0,
    count: samples.length,
  };
}

/** The result of a least-squares fit of `log t = intercept + slope * log n`. */
export interface LogLogFit {
  /** The exponent: `t ~ n^slope`. */
  slope: number;
  /** Natural-log intercept: `t ~ exp(intercept) * n^slope`. */
  intercept: number;
  /** Coefficient of determination of the fit in log-log space (1 = a perfect power law). */
  r2: number;
  /** How many points were fitted. */
  points: number;
}

/**
 * Fits a power law `t = c * n^slope` by ordinary least squares on `(ln n, ln t)`.
 *
 * @param ns The sizes, all > 0.
 * @param ts The times (any unit), all > 0, same length as `ns`.
 * @returns The {@link LogLogFit}.
 * @throws {TypeError} If the lengths differ.
 * @throws {RangeError} If fewer than two points, a value is not finite and > 0, or all sizes are equal.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitLogLog } from "./stats.ts";
 * const ns = [1024, 2048, 4096, 8192];
 * const fit = fitLogLog(ns, ns.map((n) => 3e-6 * n * n)); // quadratic
 * assert.ok(Math.abs(fit.slope - 2) < 1e-9 && Math.abs(fit.r2 - 1) < 1e-9);
 * ```
 */
export function fitLogLog(ns: readonly number[], ts: readonly number[]): LogLogFit {
  if (ns.length !== ts.length) {
    throw new TypeError(`Cannot fit log-log slope: ${ns.length} sizes but ${ts.length} times`);
  }
  if (ns.length < 2) {
    throw new RangeError(`Cannot fit log-log slope from ${ns.length} point(s): need 2`);
  }
  for (let i = 0; i < ns.length; i++) {
    if (!(ns[i] > 0 && ts[i] > 0 && Number.isFinite(ns[i]) && Number.isFinite(ts[i]))) {
      throw new RangeError(
        `Cannot fit log-log slope: point ${i} is (${ns[i]}, ${ts[i]}), need finite values > 0`,
      );
    }
  }
  const xs = ns.map(Math.log), ys = ts.map(Math.log);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
    syy += (ys[i] - my) ** 2;
  }
  if (sxx === 0) {
    throw new RangeError(`Cannot fit log-log slope: all ${ns.length} sizes are ${ns[0]}`);
  }
  const slope = sxy / sxx; // least squares: slope = cov(x, y) / var(x)
  const residual = syy - slope * sxy;
  return {
    slope,
    intercept: my - slope * mx,
    r2: syy > 0 ? 1 - residual / syy : 1,
    points: xs.length,
  };
}

/**
 * Picks the points a slope is fitted over: those at or above the noise floor (time >= `floorTime`),
 * and at least the `minPoints` largest sizes even when fewer clear the floor. Below the floor a call
 * is dominated by fixed costs (checks, allocation, timer granularity), which flattens the slope.
 *
 * @param ns The sizes, ascending.
 * @param ts The times, same length.
 * @param floorTime The noise floor, same unit as `ts`.
 * @param minPoints The fewest points to keep (clamped to the number available).
 * @returns The indices of the kept points, ascending.
 * @throws {TypeError} If the lengths differ.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pointsAboveFloor } from "./stats.ts";
 * assert.deepEqual(pointsAboveFloor([1, 2, 4, 8], [0.01, 0.02, 0.2, 0.4], 0.1, 3), [1, 2, 3]);
 * assert.deepEqual(pointsAboveFloor([1, 2, 4, 8], [0.2, 0.4, 0.8, 1.6], 0.1, 3), [0, 1, 2, 3]);
 * ```
 */
export function pointsAboveFloor(
  ns: readonly number[],
  ts: readonly number[],
  floorTime: number,
  minPoints = 3,
): number[] {
  if (ns.length !== ts.length) {
    throw new TypeError(`Cannot pick points: ${ns.length} sizes but ${ts.length} times`);
  }
  const above = ts.flatMap((t, i) => (t >= floorTime ? [i] : []));
  const need = Math.min(minPoints, ns.length);
  if (above.length >= need) return above;
  return Array.from({ length: need }, (_, j) => ns.length - need + j);
}
