/**
 * How long a run has left: the time per unit of work so far, times the units still to do.
 *
 * A run states its work up front in units (say 1 for the dense evaluation and 3 for each method:
 * calibration forward, pruning, evaluation), advances as steps finish, and asks for an estimate at
 * any time, also in the middle of a step (`partial` units of it done). The estimate is
 * `elapsed x (total - done) / done`: it assumes the units still to do cost what the ones done cost
 * on average, so it is rough at the start and improves as the run goes. No clock is read here: the
 * caller passes the times (the library does no I/O), which also makes it testable.
 *
 * @module
 */

/**
 * Remaining-time estimate of a run of `total` units of work.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Eta } from "./eta.ts";
 * const eta = new Eta(4, 1000); // 4 units, started at t = 1000 ms
 * assert.equal(eta.remainingMs(1500), undefined); // nothing done yet: no estimate
 * eta.advance(1); // at t = 3000: the first unit took 2 s
 * assert.equal(eta.remainingMs(3000), 6000); // 3 units left at 2 s each
 * assert.equal(eta.remainingMs(4000, 0.5), 2.5 * 2000); // half of the next unit done after 3 s
 * eta.advance(3); // all done at t = 9000
 * assert.equal(eta.remainingMs(9000), 0);
 * assert.equal(eta.elapsedMs(9000), 8000);
 * ```
 */
export class Eta {
  /** Units done. */
  done = 0;

  /**
   * @param total Units of work in the whole run (> 0).
   * @param startMs When the run started, in ms on the caller's clock.
   * @throws {RangeError} If `total` is not a positive finite number or `startMs` not finite.
   */
  constructor(public total: number, readonly startMs: number) {
    if (!(Number.isFinite(total) && total > 0)) {
      throw new RangeError(`Cannot estimate: total work must be a positive number, got ${total}`);
    }
    if (!Number.isFinite(startMs)) {
      throw new RangeError(`Cannot estimate: startMs must be a finite number, got ${startMs}`);
    }
  }

  /**
   * Marks `units` more as done.
   *
   * @param units Units of the step that finished (>= 0).
   * @throws {RangeError} If `units` is negative or not finite.
   */
  advance(units: number): void {
    if (!(Number.isFinite(units) && units >= 0)) {
      throw new RangeError(`Cannot advance the estimate by ${units} units`);
    }
    this.done = Math.min(this.total, this.done + units);
  }

  /**
   * Time since the start.
   *
   * @param nowMs Now, on the caller's clock.
   * @returns Milliseconds.
   */
  elapsedMs(nowMs: number): number {
    return nowMs - this.startMs;
  }

  /**
   * Estimated time left.
   *
   * @param nowMs Now, on the caller's clock.
   * @param partial Units of the current step already done (e.g. its progress fraction times its
   *   units); counted as done for the estimate.
   * @returns Milliseconds left, or `undefined` while nothing is done (no rate to go by).
   */
  remainingMs(nowMs: number, partial = 0): number | undefined {
    const done = Math.min(this.total, this.done + Math.max(0, partial));
    if (!(done > 0)) return undefined;
    return (this.elapsedMs(nowMs) * (this.total - done)) / done;
  }
}

/**
 * A duration for people: `850 ms`, `12.3 s`, `4 min 05 s`, `1 h 02 min`.
 *
 * @param ms Milliseconds (negative counts as 0).
 * @returns The text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./eta.ts";
 * assert.equal(formatDuration(850), "850 ms");
 * assert.equal(formatDuration(12_345), "12.3 s");
 * assert.equal(formatDuration(245_000), "4 min 05 s");
 * assert.equal(formatDuration(3_725_000), "1 h 02 min");
 * ```
 */
export function formatDuration(ms: number): string {
  const t = Math.max(0, ms);
  if (t < 1000) return `${Math.round(t)} ms`;
  if (t < 60_000) return `${(t / 1000).toFixed(1)} s`;
  const s = Math.round(t / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}
