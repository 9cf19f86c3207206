/**
 * From scores to a mask: which weights compete (a row, or the whole layer), how many are pruned,
 * and which selector finds them. Conventions (binding, `docs/architecture.md`):
 *
 * - per-row groups prune exactly `floor(s * cols)` of every row (Wanda's and SwiftPrune's choice);
 * - per-layer groups prune `floor(s * rows * cols)` over the flat row-major array, ties to the lower
 *   flat index `i * cols + j` (the magnitude baseline of the papers);
 * - `N:M` keeps the N largest of every M consecutive scores of a row ({@link nmMask}).
 *
 * @module
 */
import { checkMask, checkMatrix, type Matrix } from "../tensor/matrix.ts";
import { checkSelectMode, checkSparsity, GROUPS, type SelectMode, type Target } from "./target.ts";
import { type EwmaOptions, selectEwmaInto } from "./ewma.ts";
import { selectEwmaExactInto } from "./ewma_exact.ts";
import { nmMask } from "./nm.ts";
import { selectBySort } from "./sort.ts";

/** Options of {@link buildMask}. */
export interface MaskOptions {
  /** The selector for unstructured targets (default `"ewma-exact"`). */
  select?: SelectMode;
  /** Parameters of the EWMA selectors. */
  ewma?: EwmaOptions;
  /** Where to write the mask (`rows * cols` entries, all overwritten; e.g. a view of a shared output). */
  into?: Uint8Array;
}

/** A mask and what it achieved. */
export interface MaskResult {
  /** `Uint8Array(rows * cols)`, 1 = keep, 0 = pruned. */
  keep: Uint8Array;
  /** Weights pruned. */
  pruned: number;
  /** Weights the target asked to prune (`"ewma"` may miss it). */
  targetPruned: number;
  /** Achieved sparsity, `pruned / (rows * cols)` (0 for an empty matrix). */
  sparsity: number;
  /** Pruned per row (per-row groups only). */
  prunedPerRow?: Uint32Array;
}

/**
 * One group's selector: writes the keep mask of `scores` into `keep` (same length) with exactly
 * (or, for "ewma", about) k pruned, and returns how many it pruned. Rows are handed over as
 * subarrays of the layer's scores and mask, so no row is copied and no per-row mask allocated.
 */
function selector(
  select: SelectMode,
  ewma: EwmaOptions,
): (scores: Float32Array, k: number, keep: Uint8Array) => number {
  if (select === "sort") {
    return (s, k, keep) => {
      keep.set(selectBySort(s, k));
      return k;
    };
  }
  if (select === "ewma") return (s, k, keep) => selectEwmaInto(s, k, keep, ewma).pruned;
  return (s, k, keep) => {
    selectEwmaExactInto(s, k, keep, ewma);
    return k;
  };
}

function countPruned(keep: Uint8Array): number {
  let pruned = 0;
  for (let t = 0; t < keep.length; t++) pruned += 1 - keep[t];
  return pruned;
}

/**
 * Builds the mask of a target from scores (higher = more important).
 *
 * @param scores Scores `[rows, cols]`.
 * @param target `{ kind: "unstructured", sparsity, group: "row" | "layer" }` or `{ kind: "nm", n, m }`.
 * @param options The selector (`"sort"`, `"ewma"` or `"ewma-exact"`, default) and EWMA parameters.
 * @returns The mask, the pruned count (per row for row groups) and the achieved sparsity.
 * @throws {TypeError} If `scores` is not a matrix or `target` is not a target.
 * @throws {RangeError} If the sparsity is outside `[0, 1)`, the group or selector is unknown, the
 *   N:M pattern does not fit, or a score is NaN.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { buildMask } from "./mask.ts";
 * const scores = fromRows([[4, 1, 3, 2], [1, 1, 9, 9]]);
 * const row = buildMask(scores, { kind: "unstructured", sparsity: 0.5, group: "row" });
 * assert.deepEqual(Array.from(row.keep), [1, 0, 1, 0, 0, 0, 1, 1]);
 * const layer = buildMask(scores, { kind: "unstructured", sparsity: 0.25, group: "layer" });
 * assert.deepEqual(Array.from(layer.keep), [1, 0, 1, 1, 0, 1, 1, 1]); // ties: lower flat index first
 * ```
 */
export function buildMask(scores: Matrix, target: Target, options: MaskOptions = {}): MaskResult {
  checkMatrix(scores, "scores");
  const { rows, cols } = scores, total = rows * cols;
  if (typeof target !== "object" || target === null) {
    throw new TypeError(`Cannot build mask: target must be an object, got ${target}`);
  }
  if (options.into !== undefined && options.into.length !== total) {
    throw new TypeError(
      `Cannot build mask: into has ${options.into.length} entries, scores ${rows}x${cols}`,
    );
  }
  const output = () => options.into ?? new Uint8Array(total); // every selector writes every entry
  const done = (keep: Uint8Array, targetPruned: number, prunedPerRow?: Uint32Array): MaskResult => {
    const pruned = prunedPerRow ? prunedPerRow.reduce((a, b) => a + b, 0) : countPruned(keep);
    return { keep, pruned, targetPruned, sparsity: total ? pruned / total : 0, prunedPerRow };
  };
  if (target.kind === "nm") {
    const keep = nmMask(scores, target.n, target.m);
    if (options.into) options.into.set(keep);
    return done(options.into ?? keep, (total / target.m) * (target.m - target.n));
  }
  if (target.kind !== "unstructured") {
    throw new TypeError(
      `Cannot build mask: target kind must be unstructured or nm, got ${
        (target as { kind: unknown }).kind
      }`,
    );
  }
  checkSparsity(target.sparsity);
  const select = options.select ?? "ewma-exact";
  checkSelectMode(select);
  const choose = selector(select, options.ewma ?? {});
  if (target.group === "layer") {
    const k = Math.floor(target.sparsity * total);
    const keep = output();
    choose(scores.data, k, keep);
    return done(keep, k);
  }
  if (!GROUPS.includes(target.group)) {
    throw new RangeError(`Cannot build mask: group must be row or layer, got ${target.group}`);
  }
  const k = Math.floor(target.sparsity * cols); // floor(s * cols) per row
  const keep = output();
  const prunedPerRow = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) {
    const from = i * cols, to = from + cols;
    prunedPerRow[i] = choose(scores.data.subarray(from, to), k, keep.subarray(from, to));
  }
  return done(keep, k * rows, prunedPerRow);
}

/**
 * Zeroes the pruned weights: a new matrix equal to `weight` where `keep` is 1 and 0 elsewhere.
 *
 * @param weight `W` `[rows, cols]` (not mutated).
 * @param keep Mask `Uint8Array(rows * cols)`, 1 = keep.
 * @param into Where to write it (default: a new array).
 * @returns The masked weight (a new matrix, over `into` if given).
 * @throws {TypeError} If the shapes differ or the mask holds values other than 0 and 1.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { applyMask } from "./mask.ts";
 * const w = applyMask(fromRows([[1, -2, 3]]), new Uint8Array([1, 0, 1]));
 * assert.deepEqual(Array.from(w.data), [1, 0, 3]);
 * ```
 */
export function applyMask(weight: Matrix, keep: Uint8Array, into?: Float32Array): Matrix {
  checkMatrix(weight, "weight");
  checkMask(keep, weight.rows, weight.cols);
  if (into !== undefined && into.length !== weight.data.length) {
    throw new TypeError(
      `Cannot apply mask: into has ${into.length} entries, weight ${weight.data.length}`,
    );
  }
  const out = into ?? new Float32Array(weight.data.length);
  for (let t = 0; t < out.length; t++) out[t] = keep[t] ? weight.data[t] : 0;
  return { data: out, rows: weight.rows, cols: weight.cols };
}
