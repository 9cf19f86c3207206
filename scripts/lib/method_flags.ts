/**
 * The method flags shared by `prune-layer` and `prune`: SparseGPT's `--blocksize B` and
 * `--damp D`, FISTAPruner's `--iterations K`, `--updates T` and `--warm-start wanda|sparsegpt`.
 * One definition of the flags, their help lines and their checks, so the two CLIs agree.
 *
 * @module
 */
import { CliError } from "./cli.ts";
import type { MethodOptions } from "../../src/prune/methods.ts";

/** The flags, in `parseArgs` form (spread them into a script's flag table). */
export const METHOD_FLAGS = {
  blocksize: { type: "string" },
  damp: { type: "string" },
  iterations: { type: "string" },
  updates: { type: "string" },
  "warm-start": { type: "string" },
} as const;

/** The flags with their help text. */
const HELP_LINES: [string, string][] = [
  ["--blocksize B", "sparsegpt's columns per block (default 128)"],
  ["--damp D", "sparsegpt's dampening, fraction of mean(diag H) (default 0.01)"],
  ["--iterations K", "fista's FISTA iterations per run (default 20)"],
  ["--updates T", "fista's lambda-search runs (default 3)"],
  ["--warm-start M", "fista's warm start: wanda | sparsegpt (default wanda)"],
];

/**
 * Help lines of {@link METHOD_FLAGS}, indented by two spaces, the text starting after `column`.
 *
 * @param column Width of the flag column (flags are padded to it).
 * @returns One line per flag, joined by newlines (no trailing newline).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodFlagsHelp } from "./method_flags.ts";
 * assert.ok(methodFlagsHelp(18).startsWith("  --blocksize B     sparsegpt's"));
 * ```
 */
export function methodFlagsHelp(column: number): string {
  return HELP_LINES.map(([flag, text]) => `  ${flag.padEnd(column)}${text}`).join("\n");
}

/** The values `parseFlags` returns for {@link METHOD_FLAGS}. */
export type MethodFlagValues = Partial<Record<keyof typeof METHOD_FLAGS, string>>;

function intAtLeast(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min) {
    throw new CliError(`--${flag} must be an integer >= ${min}, got "${value}"`);
  }
  return n;
}

/**
 * The method options the given flags set (flags not given are left out, so methods use their
 * defaults).
 *
 * @param v Parsed flag values (e.g. from `parseFlags(argv, { ...METHOD_FLAGS })`).
 * @returns `blocksize`, `percdamp`, `iterations`, `updates`, `warmStart` for the flags given.
 * @throws {CliError} If a value is not an integer >= 1 (blocksize, iterations, updates), not a
 *   finite number >= 0 (damp), or not wanda/sparsegpt (warm-start).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodOptionsFromFlags } from "./method_flags.ts";
 * assert.deepEqual(methodOptionsFromFlags({ iterations: "50", "warm-start": "sparsegpt" }), {
 *   iterations: 50,
 *   warmStart: "sparsegpt",
 * });
 * assert.throws(() => methodOptionsFromFlags({ damp: "-1" }), { name: "CliError" });
 * ```
 */
export function methodOptionsFromFlags(v: MethodFlagValues): MethodOptions {
  const options: MethodOptions = {};
  if (v.blocksize !== undefined) options.blocksize = intAtLeast("blocksize", v.blocksize, 1);
  if (v.damp !== undefined) {
    const d = Number(v.damp);
    if (v.damp.trim() === "" || !Number.isFinite(d) || d < 0) {
      throw new CliError(`--damp must be a finite number >= 0, got "${v.damp}"`);
    }
    options.percdamp = d;
  }
  if (v.iterations !== undefined) options.iterations = intAtLeast("iterations", v.iterations, 1);
  if (v.updates !== undefined) options.updates = intAtLeast("updates", v.updates, 1);
  const warm = v["warm-start"];
  if (warm !== undefined) {
    if (warm !== "wanda" && warm !== "sparsegpt") {
      throw new CliError(`--warm-start must be wanda or sparsegpt, got "${warm}"`);
    }
    options.warmStart = warm;
  }
  return options;
}
