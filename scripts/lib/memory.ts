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
 * The peak resident set size of this process so far, in bytes (`getrusage`'s `ru_maxrss`, which
 * counts every thread, workers included).
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
