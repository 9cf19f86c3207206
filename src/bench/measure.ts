/**
 * Repeats a measurement until its timing is stable enough to report: at least `minRuns` samples
 * and `minTotalMs` of measured time, or until `maxTotalMs` is spent (a very slow call is then
 * reported from fewer samples, and `capped` says so). Calls that take less than `minSampleMs` are
 * batched, so that each sample is long enough for the clock's granularity not to matter; the
 * reported times are per call.
 *
 * {@link measureMs} is the simpler measure of the benchmark scripts: the best wall time of an
 * async function over a few runs.
 *
 * Uses `performance.now()` (a web-platform global on Deno, Bun and browsers) unless a clock is given.
 *
 * @module
 */
import { summarize, type Summary } from "./stats.ts";

/** How long to keep measuring. */
export interface MeasureOptions {
  /** Fewest samples before stopping (default 5). */
  minRuns?: number;
  /** Least total measured time in ms before stopping (default 200). */
  minTotalMs?: number;
  /** Stop after this much measured time in ms even if the other two are not met (default 3000). */
  maxTotalMs?: number;
  /**
   * Untimed warm-up: calls for this long in ms (at least one) so the JIT has optimised `fn`;
   * 0 = none, for a slow `fn` the caller has already warmed (default 30).
   */
  warmupMs?: number;
  /** Batch calls so that each sample takes at least this long, in ms (default 2). */
  minSampleMs?: number;
  /** Clock in ms (default `performance.now`); for tests. */
  now?: () => number;
}

/** A measurement: the per-call timing summary (ms) and how it was obtained. */
export interface Measurement extends Summary {
  /** Calls per sample. */
  batch: number;
  /** Every per-call sample, in ms, in the order measured. */
  samples: number[];
  /** True when `maxTotalMs` stopped the measurement before `minRuns` and `minTotalMs` were met. */
  capped: boolean;
}

/**
 * Times `fn` until stable (see the module comment) after an untimed warm-up; the batch is
 * sized on warm calls (doubling, or scaled from the last try, until a batch takes `minSampleMs`).
 *
 * @param fn The work to time; its result is kept alive so it cannot be optimised away.
 * @param options When to stop.
 * @returns The per-call {@link Measurement} in ms.
 * @throws {RangeError} If an option is negative or `minRuns` is not a positive integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { measureStable } from "./measure.ts";
 * let t = 0; // a fake clock: every call to the work takes exactly 10 ms
 * const m = measureStable(() => (t += 10), { now: () => t, minRuns: 5, minTotalMs: 100 });
 * assert.equal(m.median, 10);
 * assert.equal(m.count, 10); // 5 runs were not yet 100 ms
 * assert.equal(m.capped, false);
 * ```
 */
export function measureStable(fn: () => unknown, options: MeasureOptions = {}): Measurement {
  const { minRuns = 5, minTotalMs = 200, maxTotalMs = 3000, minSampleMs = 2, warmupMs = 30 } =
    options;
  const now = options.now ?? (() => performance.now());
  if (!Number.isInteger(minRuns) || minRuns < 1) {
    throw new RangeError(`Cannot measure: minRuns must be a positive integer, got ${minRuns}`);
  }
  for (
    const [name, v] of [["minTotalMs", minTotalMs], ["maxTotalMs", maxTotalMs], [
      "minSampleMs",
      minSampleMs,
    ]]
  ) {
    if (!((v as number) >= 0)) {
      throw new RangeError(`Cannot measure: ${name} must be >= 0, got ${v}`);
    }
  }
  let sink: unknown;
  if (warmupMs > 0) { // warm-up: the first calls also pay for compilation (capped like the rest)
    const warmStart = now();
    do sink = fn(); while (now() - warmStart < Math.min(warmupMs, maxTotalMs));
  }
  // Calibrate the batch on warm calls; the first batch long enough is kept as a sample.
  const samples: number[] = [];
  let batch = 1, total = 0;
  for (;;) {
    const t0 = now();
    for (let b = 0; b < batch; b++) sink = fn();
    const dt = now() - t0;
    if (dt >= minSampleMs || batch >= MAX_BATCH) {
      samples.push(dt / batch);
      total += dt;
      break;
    }
    batch = Math.min(
      MAX_BATCH,
      dt > 0 ? Math.max(2 * batch, Math.ceil((1.2 * batch * minSampleMs) / dt)) : 2 * batch,
    );
  }
  while (samples.length < minRuns || total < minTotalMs) {
    if (total >= maxTotalMs) break;
    const t0 = now();
    for (let b = 0; b < batch; b++) sink = fn();
    const dt = now() - t0;
    total += dt;
    samples.push(dt / batch);
  }
  keepAlive(sink);
  const capped = samples.length < minRuns || total < minTotalMs;
  return { ...summarize(samples), batch, samples, capped };
}

const MAX_BATCH = 1 << 20;
let kept: unknown;
/** Stores a result where the optimiser cannot prove it unused. */
function keepAlive(value: unknown): void {
  kept = value;
  if (kept === keepAlive) throw new Error("unreachable");
}

/**
 * The best wall time in milliseconds of `fn` (awaited) over at least `minRuns` runs and `minMs`
 * milliseconds, after one untimed warm-up run (JIT, worker start-up, caches).
 *
 * @param fn What to time; may return a promise.
 * @param options `minRuns` (default 3) and `minMs` (default 1000).
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
export async function measureMs(
  fn: () => unknown,
  options: { minRuns?: number; minMs?: number } = {},
): Promise<number> {
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
