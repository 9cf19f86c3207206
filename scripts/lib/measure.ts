/**
 * Timing for benchmark scripts: the best wall time of a function over repeated runs.
 *
 * @module
 */

/** How long to keep measuring. */
export interface MeasureOptions {
  /** At least this many timed runs (default 3). */
  minRuns?: number;
  /** And at least this many milliseconds of timed runs (default 1000). */
  minMs?: number;
}

/**
 * The best wall time in milliseconds of `fn` (awaited) over at least `minRuns` runs and `minMs`
 * milliseconds, after one untimed warm-up run (JIT, worker start-up, caches).
 *
 * @param fn What to time; may return a promise.
 * @param options `minRuns` and `minMs`.
 * @returns The smallest time seen, in ms (the least disturbed by other load).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { measureMs } from "./measure.ts";
 * let calls = 0;
 * const t = await measureMs(() => void calls++, { minRuns: 2, minMs: 0 });
 * assert.ok(t >= 0 && calls === 3); // warm-up + 2 timed runs
 * ```
 */
export async function measureMs(fn: () => unknown, options: MeasureOptions = {}): Promise<number> {
  const { minRuns = 3, minMs = 1000 } = options;
  await fn();
  let best = Infinity, spent = 0;
  for (let run = 0; run < minRuns || spent < minMs; run++) {
    const start = performance.now();
    await fn();
    const elapsed = performance.now() - start;
    best = Math.min(best, elapsed);
    spent += elapsed;
  }
  return best;
}
