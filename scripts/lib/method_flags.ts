/**
 * The method flags of `prune-layer` and `prune`, read from the methods' descriptors
 * (`src/prune/method.ts`): every option of every registered method is a flag, with its help line,
 * its default and its parser. A method that gains an option gains its flag in both CLIs.
 *
 * @module
 */
import type { MethodOption, MethodOptions } from "../../src/prune/method.ts";
import { METHODS } from "../../src/prune/methods.ts";
import { CliError } from "./cli.ts";

/** Every method option, once per flag (methods may share one, e.g. `--select`), in method order. */
const OPTIONS: readonly MethodOption[] = METHODS.flatMap((m) => m.options).filter(
  (o, i, all) => all.findIndex((p) => p.flag === o.flag) === i,
);

/**
 * The flags, in `parseArgs` form (spread them into a script's flag table).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { METHOD_FLAGS } from "./method_flags.ts";
 * assert.deepEqual(METHOD_FLAGS["x-stat"], { type: "string" });
 * ```
 */
export const METHOD_FLAGS: Record<string, { type: "string" }> = Object.fromEntries(
  OPTIONS.map((o) => [o.flag, { type: "string" as const }]),
);

/**
 * Help lines of the method flags, indented by two spaces, the text starting after `column`.
 *
 * @param column Width of the flag column (flags are padded to it).
 * @returns One line per flag, with its default, joined by newlines (no trailing newline).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodFlagsHelp } from "./method_flags.ts";
 * assert.match(methodFlagsHelp(18), /^  --blocksize B     sparsegpt's columns per block \[128\]$/m);
 * ```
 */
export function methodFlagsHelp(column: number): string {
  return OPTIONS.map((o) => `  ${`--${o.flag} ${o.arg}`.padEnd(column)}${o.help} [${o.default}]`)
    .join("\n");
}

/**
 * The method options the given flags set, for every method (flags not given are left out, so
 * methods use their defaults; each method reads the keys it knows).
 *
 * @param v Parsed flag values (e.g. from `parseFlags(argv, { ...METHOD_FLAGS })`).
 * @returns The options by key, e.g. `{ iterations: 50, warmStart: "sparsegpt" }`.
 * @throws {CliError} If a value does not parse (the message names the flag and the value).
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
export function methodOptionsFromFlags(v: Record<string, unknown>): MethodOptions {
  const options: MethodOptions = {};
  for (const o of OPTIONS) {
    const text = v[o.flag];
    if (typeof text !== "string") continue;
    try {
      options[o.key] = o.parse(text);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  return options;
}
