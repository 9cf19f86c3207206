/**
 * Compares a backend's outputs for one conformance case with the expected ones, tensor by tensor
 * as the manifest's checks say, and reports where they differ: mismatched entries, the largest
 * absolute and relative error, and its flat index and (row, col). Uses {@link allClose}.
 *
 * @module
 */
import { allClose } from "../check/all_close.ts";
import type { Target } from "../select/target.ts";
import type { ConformanceCase, TensorCheck } from "./manifest.ts";

/** A tensor as read from a safetensors file. */
export interface Tensor {
  dtype: string;
  shape: number[];
  data: Float32Array | Uint8Array;
}

/** A position in a `[rows, cols]` tensor. */
export interface Position {
  index: number;
  row: number;
  col: number;
}

/** How one tensor compared. */
export interface TensorReport {
  name: string;
  compare: TensorCheck["compare"];
  ok: boolean;
  /** Entries outside tolerance (for `threshold`: groups that break the count or the order). */
  mismatches: number;
  /** Entries (or groups) compared. */
  total: number;
  maxAbsError: number;
  maxAbsAt: Position | null;
  maxRelError: number;
  maxRelAt: Position | null;
  /** Actual and expected value at the worst absolute error. */
  worst?: { actual: number; expected: number };
  /** A sentence for problems that are not value errors (missing tensor, wrong shape, count). */
  note?: string;
}

/** How one case compared. */
export interface CaseReport {
  name: string;
  ok: boolean;
  tensors: TensorReport[];
  /** Set when the case could not be compared at all (e.g. the output file is missing). */
  error?: string;
  /** True when the backend wrote no output file for the case. */
  missing?: boolean;
}

/** The dtype each output tensor must have. */
export const OUTPUT_DTYPES: Readonly<Record<string, string>> = {
  weight: "F32",
  mask: "U8",
  scores: "F32",
};

function position(index: number, cols: number): Position | null {
  return index < 0 ? null : { index, row: Math.floor(index / cols), col: index % cols };
}

const at = (p: Position | null) => (p ? `${p.index} (row ${p.row}, col ${p.col})` : "-");
const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(6));

function failed(name: string, compare: TensorCheck["compare"], note: string): TensorReport {
  return {
    name,
    compare,
    ok: false,
    mismatches: 0,
    total: 0,
    maxAbsError: 0,
    maxAbsAt: null,
    maxRelError: 0,
    maxRelAt: null,
    note,
  };
}

function valueReport(
  name: string,
  check: TensorCheck,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  cols: number,
): TensorReport {
  const tol = check.compare === "close" ? check : { atol: 0, rtol: 0 };
  const r = allClose(actual, expected, tol);
  const i = r.maxAbsIndex;
  return {
    name,
    compare: check.compare,
    ok: r.ok,
    mismatches: r.mismatches,
    total: actual.length,
    maxAbsError: r.maxAbsError,
    maxAbsAt: position(i, cols),
    maxRelError: r.maxRelError,
    maxRelAt: position(r.maxRelIndex, cols),
    worst: i < 0 ? undefined : { actual: actual[i], expected: expected[i] },
  };
}

/**
 * The pruned counts a threshold at the k-th smallest score can give: `[#{s < v}, #{s <= v}]`,
 * `v` the k-th smallest (a threshold cannot split equal scores).
 */
function thresholdCounts(scores: ArrayLike<number>, k: number): [number, number] {
  if (k === 0) return [0, 0];
  const sorted = Float64Array.from(scores).sort();
  const v = sorted[Math.min(k, sorted.length) - 1];
  let below = 0, atOrBelow = 0;
  for (const s of sorted) (below += s < v ? 1 : 0, atOrBelow += s <= v ? 1 : 0);
  return [below, atOrBelow];
}

/**
 * `threshold`: per group, the pruned count within tolerance of what a threshold at the k-th
 * smallest score prunes, and no pruned score above a kept one.
 */
function thresholdReport(
  check: Extract<TensorCheck, { compare: "threshold" }>,
  mask: Uint8Array,
  scores: ArrayLike<number>,
  rows: number,
  cols: number,
): TensorReport {
  const size = check.group === "row" ? cols : rows * cols;
  let bad = 0, worstMiss = 0, worstGroup = -1, unordered = 0;
  for (let start = 0; start < rows * cols; start += size) {
    let pruned = 0, maxPruned = -Infinity, minKept = Infinity;
    for (let t = start; t < start + size; t++) {
      if (mask[t]) minKept = Math.min(minKept, scores[t]);
      else (pruned++, maxPruned = Math.max(maxPruned, scores[t]));
    }
    const group = Array.prototype.slice.call(scores, start, start + size) as number[];
    const [low, high] = thresholdCounts(group, check.pruneCount);
    const miss = Math.max(0, low - pruned, pruned - high);
    if (miss > worstMiss) [worstMiss, worstGroup] = [miss, start / size];
    if (maxPruned > minKept) unordered++;
    if (miss > check.countTolerance || maxPruned > minKept) bad++;
  }
  const groups = rows * cols / (size || 1);
  return {
    ...failed("mask", "threshold", ""),
    ok: bad === 0,
    mismatches: bad,
    total: groups,
    note: `pruned count off by at most ${worstMiss} (allowed ${check.countTolerance}` +
      `${
        worstGroup >= 0 ? `, worst ${check.group === "row" ? `row ${worstGroup}` : "layer"}` : ""
      })` +
      `; ${unordered} of ${groups} groups prune a score above a kept one`,
  };
}

/** Why an output tensor has the wrong dtype or shape, in words a backend engineer can act on. */
function dtypeOrShapeNote(name: string, got: Tensor, want: Tensor): string {
  const dtype = OUTPUT_DTYPES[name] ?? want.dtype;
  if (name === "mask" && got.dtype !== dtype) {
    const hint = got.dtype === "BOOL" ? " (a bool array: convert it with astype(uint8))" : "";
    return `the mask must be U8 with values 0 (pruned) and 1 (kept); found ${got.dtype} ` +
      `[${got.shape}]${hint}`;
  }
  return `output is ${got.dtype} [${got.shape}], expected ${dtype} [${want.shape}]`;
}

/**
 * A mask check: how many entries differ and which way, the pruned count against the expected
 * count (the whole layer and the worst row), and for N:M whether the structure holds. With
 * `groupSize` (the `count` check) it passes when every group of that many entries prunes as many
 * as the expected mask, whatever entries differ.
 */
function maskReport(
  actual: Uint8Array,
  expected: Uint8Array,
  cols: number,
  target?: Target,
  groupSize?: number,
): TensorReport {
  let keptWrongly = 0, prunedWrongly = 0, notBinary = 0, first = -1;
  let pruned = 0, expectedPruned = 0;
  for (let t = 0; t < expected.length; t++) {
    if (actual[t] > 1) notBinary++;
    if (actual[t] === 0) pruned++;
    if (expected[t] === 0) expectedPruned++;
    if (actual[t] === expected[t]) continue;
    if (first < 0) first = t;
    if (expected[t] === 0) keptWrongly++;
    else prunedWrongly++;
  }
  const mismatches = keptWrongly + prunedWrongly;
  const parts = [
    `${mismatches} of ${expected.length} entries differ` +
    (mismatches
      ? ` (${keptWrongly} kept that should be pruned, ${prunedWrongly} pruned that ` +
        `should be kept), first at ${at(position(first, cols))}`
      : ""),
  ];
  if (notBinary) parts.push(`${notBinary} entries are neither 0 nor 1`);
  if (target?.kind === "nm") parts.push(nmStructure(actual, cols, target.n, target.m));
  else {
    let count = `pruned ${pruned}, expected ${expectedPruned}`;
    const rows = cols ? expected.length / cols : 0;
    if (target?.group === "row" && rows > 1) {
      let worst = -1, worstOff = 0, worstGot = 0, worstWant = 0;
      for (let r = 0; r < rows; r++) {
        let got = 0, want = 0;
        for (let t = r * cols; t < (r + 1) * cols; t++) {
          (got += actual[t] === 0 ? 1 : 0, want += expected[t] === 0 ? 1 : 0);
        }
        if (Math.abs(got - want) > worstOff) {
          [worst, worstOff, worstGot, worstWant] = [r, Math.abs(got - want), got, want];
        }
      }
      count += worst < 0
        ? "; every row prunes its expected count"
        : `; row ${worst} prunes ${worstGot}, expected ${worstWant}`;
    }
    parts.push(count);
  }
  let badGroups = 0;
  if (groupSize !== undefined) {
    for (let start = 0; start < expected.length; start += groupSize) {
      let diff = 0;
      for (let t = start; t < Math.min(start + groupSize, expected.length); t++) {
        diff += (actual[t] === 0 ? 1 : 0) - (expected[t] === 0 ? 1 : 0);
      }
      if (diff !== 0) badGroups++;
    }
    const groups = Math.ceil(expected.length / groupSize);
    parts.push(
      badGroups === 0
        ? `every group of ${groupSize} prunes its expected count`
        : `${badGroups} of ${groups} groups of ${groupSize} prune a different count`,
    );
  }
  const ok = groupSize === undefined ? mismatches === 0 : badGroups === 0;
  return {
    ...failed("mask", groupSize === undefined ? "exact" : "count", parts.join("; ")),
    ok: ok && notBinary === 0,
    mismatches,
    total: expected.length,
    maxAbsError: mismatches ? 1 : 0,
    maxAbsAt: position(first, cols),
    worst: first < 0 ? undefined : { actual: actual[first], expected: expected[first] },
  };
}

/** Whether every group of M consecutive entries of a row keeps at most N. */
function nmStructure(keep: Uint8Array, cols: number, n: number, m: number): string {
  let bad = 0, firstBad = -1, firstKept = 0, groups = 0;
  for (let start = 0; start + m <= keep.length; start += m) {
    groups++;
    let kept = 0;
    for (let t = start; t < start + m; t++) kept += keep[t] ? 1 : 0;
    if (kept > n) (bad++, firstBad < 0 && ([firstBad, firstKept] = [start, kept]));
  }
  if (bad === 0) return `the ${n}:${m} structure holds (every group of ${m} keeps at most ${n})`;
  const p = position(firstBad, cols)!;
  return `the ${n}:${m} structure is violated in ${bad} of ${groups} groups (first: row ${p.row}, ` +
    `cols ${p.col}-${p.col + m - 1} keep ${firstKept})`;
}

/**
 * Compares one case.
 *
 * @param c The manifest entry (its `checks`; its `target`, when given, for the mask's counts).
 * @param input The input weight (for `masked` checks).
 * @param expected The expected tensors by name.
 * @param actual The backend's tensors by name, or a message when its file could not be read.
 * @returns The report: ok when every checked tensor passes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareCase } from "./compare.ts";
 * const c = { name: "x", checks: { mask: { compare: "exact" as const } } };
 * const t = (v: number[]) => ({ dtype: "U8", shape: [2, 2], data: new Uint8Array(v) });
 * const r = compareCase(c, new Float32Array(4), { mask: t([1, 0, 0, 1]) }, { mask: t([1, 0, 1, 1]) });
 * assert.equal(r.ok, false);
 * assert.deepEqual(r.tensors[0].maxAbsAt, { index: 2, row: 1, col: 0 });
 * ```
 */
export function compareCase(
  c: Pick<ConformanceCase, "name" | "checks"> & { target?: Target },
  input: Float32Array,
  expected: Record<string, Tensor>,
  actual: Record<string, Tensor> | string,
): CaseReport {
  if (typeof actual === "string") return { name: c.name, ok: false, tensors: [], error: actual };
  const tensors: TensorReport[] = [];
  for (const [name, check] of Object.entries(c.checks)) {
    const want = expected[name], got = actual[name];
    if (!want) {
      tensors.push(failed(name, check.compare, "the suite has no expected tensor of this name"));
      continue;
    }
    const [rows, cols] = want.shape;
    if (!got) {
      tensors.push(failed(name, check.compare, "missing from the output"));
    } else if (
      got.shape.join() !== want.shape.join() || got.dtype !== (OUTPUT_DTYPES[name] ?? want.dtype)
    ) {
      tensors.push(failed(name, check.compare, dtypeOrShapeNote(name, got, want)));
    } else if (check.compare === "threshold") {
      tensors.push(
        thresholdReport(check, got.data as Uint8Array, expected.scores?.data ?? [], rows, cols),
      );
    } else if (check.compare === "masked") {
      const mask = actual.mask?.data;
      if (!mask || mask.length !== input.length) {
        tensors.push(failed(name, "masked", "needs the output's mask of the same shape"));
      } else {
        const masked = input.map((w, t) => (mask[t] ? w : 0));
        tensors.push(valueReport(name, check, got.data, masked, cols));
      }
    } else if (name === "mask" && (check.compare === "exact" || check.compare === "count")) {
      const groupSize = check.compare === "count" ? check.groupSize : undefined;
      tensors.push(
        maskReport(got.data as Uint8Array, want.data as Uint8Array, cols, c.target, groupSize),
      );
    } else {
      tensors.push(valueReport(name, check, got.data, want.data, cols));
    }
  }
  return { name: c.name, ok: tensors.every((t) => t.ok), tensors };
}

/**
 * Formats a case report: one `PASS`/`FAIL` line, then for a failure one line per tensor.
 *
 * @param r The report.
 * @param verbose Also list the tensors of a passing case.
 * @returns The text, ending with a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCaseReport } from "./compare.ts";
 * assert.equal(formatCaseReport({ name: "a", ok: false, tensors: [], error: "no output" }), "FAIL a: no output\n");
 * ```
 */
export function formatCaseReport(r: CaseReport, verbose = false): string {
  if (r.error) return `FAIL ${r.name}: ${r.error}\n`;
  let text = `${r.ok ? "PASS" : "FAIL"} ${r.name}\n`;
  if (r.ok && !verbose) return text;
  for (const t of r.tensors) {
    text += `  ${t.name.padEnd(6)} ${t.compare.padEnd(9)} ${t.ok ? "ok  " : "FAIL"} `;
    if (t.compare === "threshold" || t.total === 0) {
      text += `${t.mismatches ? `${t.mismatches} of ${t.total} groups bad; ` : ""}${t.note}\n`;
      continue;
    }
    if (t.name === "mask" && t.note) { // 0/1 values: counts, not errors
      text += `${t.note}\n`;
      continue;
    }
    text +=
      `${t.mismatches} of ${t.total} outside tolerance; max abs error ${num(t.maxAbsError)} at ` +
      `${at(t.maxAbsAt)}` +
      (t.worst ? ` (actual ${num(t.worst.actual)}, expected ${num(t.worst.expected)})` : "") +
      `; max rel error ${num(t.maxRelError)} at ${at(t.maxRelAt)}\n`;
  }
  return text;
}
