/**
 * What a pruning run aims at: a {@link Target} (how many weights to prune and which of them compete)
 * and the selector that finds them ({@link SelectMode}). One definition and one check of each, used
 * by the selectors, every method and both CLIs.
 *
 * @module
 */
import { checkNM } from "./nm.ts";

/** Which weights compete with each other when choosing what to prune. */
export type Group = "row" | "layer";

/** The groups, in the order the help texts list them. */
export const GROUPS: readonly Group[] = ["row", "layer"];

/** How the k smallest scores of a group are found. */
export type SelectMode = "sort" | "ewma" | "ewma-exact";

/** The selectors, in the order the help texts list them; `"ewma-exact"` is the default. */
export const SELECT_MODES: readonly SelectMode[] = ["sort", "ewma", "ewma-exact"];

/**
 * The sparsity to reach.
 *
 * - `unstructured`: prune `floor(sparsity * cols)` weights of every row (`group: "row"`) or
 *   `floor(sparsity * rows * cols)` of the whole layer (`group: "layer"`).
 * - `nm`: keep at most `n` of every `m` consecutive weights of a row (2:4 is NVIDIA's pattern).
 */
export type Target =
  | { kind: "unstructured"; sparsity: number; group: Group }
  | { kind: "nm"; n: number; m: number };

/** The default unstructured target of both CLIs: half of every row. */
export const DEFAULT_SPARSITY = 0.5;
/** The default group of both CLIs (every method; SparseGPT and FISTAPruner choose their own). */
export const DEFAULT_GROUP: Group = "row";

/**
 * Throws a `RangeError` unless `sparsity` is a number in `[0, 1)` (1 would prune every weight).
 *
 * @param sparsity The value to check.
 * @throws {RangeError} If it is not a number in `[0, 1)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSparsity } from "./target.ts";
 * checkSparsity(0.5);
 * assert.throws(() => checkSparsity(1), /got 1/);
 * ```
 */
export function checkSparsity(sparsity: unknown): asserts sparsity is number {
  if (typeof sparsity !== "number" || !(sparsity >= 0 && sparsity < 1)) {
    throw new RangeError(`Cannot prune: sparsity must be a number in [0, 1), got ${sparsity}`);
  }
}

/**
 * Throws unless `select` is a selector name.
 *
 * @param select The value to check.
 * @throws {RangeError} If it is not one of {@link SELECT_MODES}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSelectMode } from "./target.ts";
 * checkSelectMode("sort");
 * assert.throws(() => checkSelectMode("heap"), /sort, ewma or ewma-exact, got heap/);
 * ```
 */
export function checkSelectMode(select: unknown): asserts select is SelectMode {
  if (!SELECT_MODES.includes(select as SelectMode)) {
    throw new RangeError(`Cannot prune: select must be sort, ewma or ewma-exact, got ${select}`);
  }
}

/**
 * Throws unless `target` is a target that fits a `[rows, cols]` weight.
 *
 * @param target The value to check.
 * @param rows Rows of the weight.
 * @param cols Columns of the weight.
 * @throws {TypeError} If `target` is not an object or its kind is unknown.
 * @throws {RangeError} If the sparsity is outside `[0, 1)`, the group unknown, or the N:M pattern
 *   does not fit (`checkNM`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTarget } from "./target.ts";
 * checkTarget({ kind: "nm", n: 2, m: 4 }, 3, 8);
 * assert.throws(() => checkTarget({ kind: "nm", n: 2, m: 4 }, 3, 6), /divisible by 4/);
 * assert.throws(() => checkTarget({ kind: "unstructured", sparsity: 1, group: "row" }, 3, 6), RangeError);
 * ```
 */
export function checkTarget(target: unknown, rows: number, cols: number): asserts target is Target {
  if (typeof target !== "object" || target === null) {
    throw new TypeError(`Cannot prune: target must be an object, got ${target}`);
  }
  const t = target as Target;
  if (t.kind === "nm") return checkNM(rows, cols, t.n, t.m);
  if (t.kind !== "unstructured") {
    throw new TypeError(
      `Cannot prune: target kind must be unstructured or nm, got ${(t as { kind: unknown }).kind}`,
    );
  }
  checkSparsity(t.sparsity);
  if (!GROUPS.includes(t.group)) {
    throw new RangeError(`Cannot prune: group must be row or layer, got ${t.group}`);
  }
}

/**
 * The target of a command line: `pattern` ("N:M") or `sparsity` (a number in `[0, 1)`, default
 * {@link DEFAULT_SPARSITY}) with `group` (default {@link DEFAULT_GROUP}). Both CLIs parse with it.
 *
 * @param v The flag values as given (strings; `undefined` when not given).
 * @returns The target.
 * @throws {RangeError} If both `sparsity` and `pattern` are given, or a value is malformed or out
 *   of range (the message names the flag and the value seen).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTarget } from "./target.ts";
 * assert.deepEqual(parseTarget({ pattern: "2:4" }), { kind: "nm", n: 2, m: 4 });
 * assert.deepEqual(parseTarget({}), { kind: "unstructured", sparsity: 0.5, group: "row" });
 * assert.throws(() => parseTarget({ sparsity: "1" }), /--sparsity must be in \[0, 1\), got "1"/);
 * ```
 */
export function parseTarget(v: { sparsity?: string; pattern?: string; group?: string }): Target {
  if (v.pattern !== undefined) {
    if (v.sparsity !== undefined) {
      throw new RangeError("--sparsity and --pattern exclude each other");
    }
    const m = /^(\d+):(\d+)$/.exec(v.pattern);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) {
      throw new RangeError(`--pattern must be N:M with 1 <= N <= M, e.g. 2:4, got "${v.pattern}"`);
    }
    return { kind: "nm", n: Number(m[1]), m: Number(m[2]) };
  }
  const sparsity = v.sparsity === undefined ? DEFAULT_SPARSITY : Number(v.sparsity);
  if (v.sparsity?.trim() === "" || !(sparsity >= 0 && sparsity < 1)) {
    throw new RangeError(`--sparsity must be in [0, 1), got "${v.sparsity}"`);
  }
  const group = v.group ?? DEFAULT_GROUP;
  if (!GROUPS.includes(group as Group)) {
    throw new RangeError(`--group must be row or layer, got "${group}"`);
  }
  return { kind: "unstructured", sparsity, group: group as Group };
}

/**
 * A target as text: `"2:4"` or `"50.00% unstructured"`.
 *
 * @param target The target.
 * @returns The text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { targetText } from "./target.ts";
 * assert.equal(targetText({ kind: "unstructured", sparsity: 0.5, group: "row" }), "50.00% unstructured");
 * ```
 */
export function targetText(target: Target): string {
  return target.kind === "nm"
    ? `${target.n}:${target.m}`
    : `${(100 * target.sparsity).toFixed(2)}% unstructured`;
}
