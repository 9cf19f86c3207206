/**
 * Memory of a CLI run: the process's peak resident set, and a way to ask the runtime to collect
 * garbage between phases.
 *
 * Why the CLIs collect explicitly: V8 reclaims a dead `ArrayBuffer` only at a garbage collection,
 * and it starts one for external memory only after about 64 MB more of it has been allocated since
 * the last. A pruning run makes a few MB of short-lived arrays per layer (scores, masks, the
 * block's captured inputs), so without help tens of MB of dead arrays sit in memory at the peak.
 * `deno task prune` therefore runs V8 with `--expose-gc` (and a 1 MB young generation semi-space,
 * `--max-semi-space-size=1`, instead of up to 16 MB, which tokenizing a corpus would otherwise
 * fill) and collects after each phase and each pipeline step. Each collection takes a few ms.
 * Without the flags `collectGarbage` does nothing and the run is only bigger, never different.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";

/**
 * A full garbage collection, when the runtime exposes one (Deno/Node with `--expose-gc`: `gc()`;
 * Bun: `Bun.gc(true)`); otherwise nothing.
 *
 * @returns Whether a collection was asked for.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { collectGarbage } from "./memory.ts";
 * assert.equal(typeof collectGarbage(), "boolean");
 * ```
 */
export function collectGarbage(): boolean {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun !== undefined) {
    g.Bun.gc(true);
    return true;
  }
  if (typeof g.gc !== "function") return false;
  g.gc();
  return true;
}

/**
 * The peak resident set size of this process so far, in bytes, every thread (workers) included:
 * `VmHWM` of `/proc/self/status` where it can be read (Linux; under Deno only with
 * `--allow-all`), else `getrusage`'s `ru_maxrss`. Caveat of the latter: Linux starts a child's
 * `ru_maxrss` at its parent's peak, so a run started by a big process (a 330 MB test runner)
 * reports that until it exceeds it; {@link PeakTracker} says when that is the case.
 *
 * @returns Bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { peakResidentBytes } from "./memory.ts";
 * assert.ok(peakResidentBytes() > 1e6);
 * ```
 */
export function peakResidentBytes(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm) return Number(hwm[1]) * 1024;
  } catch {
    // not Linux (or no permission to read /proc): fall back to getrusage
  }
  return process.resourceUsage().maxRSS * 1024; // reported in KiB
}

/**
 * Megabytes (10^6 bytes) with one decimal, e.g. `"96.4 MB"`.
 *
 * @param bytes A byte count.
 * @returns The text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { megabytes } from "./memory.ts";
 * assert.equal(megabytes(96_400_000), "96.4 MB");
 * ```
 */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * Whether {@link peakResidentBytes} is this process's own peak: made at start, it notes the peak
 * and the resident set then; a peak at start well above the resident set was carried over from the
 * parent process (see {@link peakResidentBytes}) and stays unknown until the run exceeds it.
 */
export class PeakTracker {
  /** Resident set at start, bytes. */
  readonly startBytes: number = process.memoryUsage().rss;
  /** The peak reported at start, bytes. */
  readonly peakAtStartBytes: number = peakResidentBytes();

  /**
   * The peak so far, or `undefined` when it may be the parent's.
   *
   * @returns Bytes, or `undefined`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PeakTracker } from "./memory.ts";
   * const peak = new PeakTracker().peakBytes();
   * assert.ok(peak === undefined || peak > 1e6);
   * ```
   */
  peakBytes(): number | undefined {
    const peak = peakResidentBytes();
    const inherited = this.peakAtStartBytes > 1.5 * this.startBytes + 16e6;
    return inherited && peak <= this.peakAtStartBytes ? undefined : peak;
  }

  /**
   * `"123.4 MB (resident set, all threads)"`, or why the peak is unknown.
   *
   * @returns The text.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PeakTracker } from "./memory.ts";
   * assert.match(new PeakTracker().text(), /MB/);
   * ```
   */
  text(): string {
    const peak = this.peakBytes();
    return peak === undefined
      ? `unknown: at most ${
        megabytes(this.peakAtStartBytes)
      }, the peak the parent process passed on (run it from a shell to measure)`
      : `${megabytes(peak)} (resident set, all threads)`;
  }
}
