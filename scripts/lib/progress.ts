/**
 * Progress of a long CLI run on stderr, with the time elapsed and an estimate of the time left
 * (`src/pipeline/eta.ts`), for every task that runs for more than a few seconds (`prune`, `eval`,
 * `extract-layer`, ...).
 *
 * - Each finished step (a phase, a method, a sweep point) prints one line,
 *   `[12.3 s elapsed, about 45.0 s left] text`, on a terminal or not: a log file, CI or a notebook
 *   sees the run advance.
 * - Within a step, a live bar with its own estimate is drawn on a terminal; off a terminal (where
 *   a bar would be thousands of lines) the same text is printed as a line at most every
 *   {@link QUIET_LINE_MS} (a step of a 1.1B model's run lasts many minutes).
 * - `quiet` prints nothing.
 *
 * @module
 */
import type { CliIo } from "./cli.ts";
import { Eta, formatDuration } from "../../src/pipeline/eta.ts";

/** What a run reports as it goes. */
export interface Progress {
  /**
   * Inside the current step: `done` of `total` (a live bar on a terminal, nothing elsewhere).
   * `units` is the step's share of the run, for the estimate (default 1).
   */
  bar: (done: number, total: number, label?: string, units?: number) => void;
  /** A step finished: `units` of the run's work (0 for a phase that costs nothing); one line. */
  step: (text: string, units?: number) => void;
  /** Adds work to the plan (e.g. once the number of methods is known). */
  plan: (units: number) => void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Print nothing. */
  quiet?: boolean;
  /** Units of work of the whole run, for the estimate (more can be added with `plan`). */
  units?: number;
  /** The clock in ms (default `performance.now`); tests pass their own. */
  now?: () => number;
}

/** Off a terminal, the least time between two lines from inside one step. */
export const QUIET_LINE_MS = 30_000;

/**
 * A {@link Progress} on `io.stderr`.
 *
 * @param io Where to write (`isTTY`: whether live bars are drawn).
 * @param options `quiet`, the run's `units` of work, the clock.
 * @returns The progress reporter.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgress } from "./progress.ts";
 * let err = "", t = 0;
 * const io = { stdout: () => {}, stderr: (s: string) => void (err += s), isTTY: false };
 * const p = createProgress(io, { units: 3, now: () => t });
 * t = 1000;
 * p.bar(1, 2, "eval"); // off a terminal: no bar
 * p.step("dense ppl 4.11"); // 1 of 3 units after 1 s
 * t = 2000;
 * p.step("wanda ppl 5.00", 2);
 * assert.equal(
 *   err,
 *   "[1.0 s elapsed, about 2.0 s left] dense ppl 4.11\n[2.0 s elapsed, done] wanda ppl 5.00\n",
 * );
 * ```
 */
export function createProgress(io: CliIo, options: ProgressOptions = {}): Progress {
  const now = options.now ?? (() => performance.now());
  const eta = new Eta(Math.max(options.units ?? 1, Number.MIN_VALUE), now());
  let planned = options.units ?? 0;
  let barOpen = false, lastLine = now();
  const stamp = (partial = 0) => {
    const t = now(), left = eta.remainingMs(t, partial);
    const tail = eta.done >= eta.total && partial === 0
      ? "done"
      : left === undefined
      ? "estimating"
      : `about ${formatDuration(left)} left`;
    return `${formatDuration(eta.elapsedMs(t))} elapsed, ${tail}`;
  };
  if (options.quiet) return { bar: () => {}, step: () => {}, plan: () => {} };
  return {
    plan(units) {
      planned += units;
      eta.total = Math.max(planned, Number.MIN_VALUE);
    },
    step(text, units = 1) {
      eta.advance(units);
      if (barOpen) io.stderr("\r\x1b[K");
      barOpen = false;
      io.stderr(`[${stamp()}] ${text}\n`);
      lastLine = now();
    },
    bar(done, total, label = "", units = 1) {
      const f0 = total > 0 ? Math.min(1, done / total) : 1;
      if (!io.isTTY) {
        if (now() - lastLine < QUIET_LINE_MS) return;
        io.stderr(`[${stamp(f0 * units)}] ${done}/${total} ${label}\n`);
        lastLine = now();
        return;
      }
      const width = 30, f = total > 0 ? Math.min(1, done / total) : 1;
      const filled = Math.round(width * f);
      io.stderr(
        `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ${label} (${
          stamp(f * units)
        })\x1b[K`,
      );
      barOpen = true;
    },
  };
}
