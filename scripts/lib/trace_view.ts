/**
 * Pure views of the EWMA selectors for `scripts/explain.ts`: a text table of the tracker's pass
 * (step, score, `T`, `p`, `D`, the tracker's provisional decision next to the final mask), how the
 * approximate and the exact selector finish, the masks side by side, and a self-contained SVG
 * plot. No I/O here, so every view is testable on a row of eight.
 *
 * @module
 */
import {
  type EwmaSelection,
  type EwmaTrace,
  locateThreshold,
  scoreBits,
  scoreOfKey,
  selectEwmaTrace,
} from "../../src/select/ewma.ts";
import { selectEwmaExact } from "../../src/select/ewma_exact.ts";
import { selectBySort } from "../../src/select/sort.ts";
import { escapeXml, svgDocument } from "./svg_chart.ts";

/** How the exact selector (`ewma-exact`, the default of every method) finished a row. */
export interface ExactView {
  /** Its mask (1 = keep); equal to sort's. */
  keep: Uint8Array;
  /** The bracket `[lo, hi)` of the k-th smallest after one counting pass, as scores (+-Infinity: open). */
  lo: number;
  hi: number;
  /** `#{score < lo}` (all pruned) and `#{score < hi}`; the band between holds `countHi - countLo`. */
  countLo: number;
  countHi: number;
}

/** What the views show: one row's scores, the traced EWMA selection, and the sort-based mask. */
export interface TraceView {
  /** A one-line description of where the row came from. */
  title: string;
  /** The approximate selection with its per-step trace (`selectEwmaTrace`). */
  selection: EwmaSelection & { trace: EwmaTrace };
  /** The exact mask of `selectBySort` (1 = keep). */
  sortKeep: Uint8Array;
  /** The default exact selector's result (omitted: the final mask shown is sort's). */
  exact?: ExactView;
}

/**
 * Runs every selector on one row: the traced approximate selector, the exact one (with the bracket
 * of its counting pass) and sort.
 *
 * @param title Where the row came from.
 * @param scores The row's scores.
 * @param k How many to prune.
 * @returns The view.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { traceViewOf } from "./trace_view.ts";
 * const v = traceViewOf("row", [8, 1, 16, 2, 32, 4, 64, 0.5], 4);
 * assert.deepEqual(Array.from(v.exact!.keep), Array.from(v.sortKeep));
 * assert.ok(v.exact!.countLo <= 4 && 4 <= v.exact!.countHi);
 * ```
 */
export function traceViewOf(title: string, scores: ArrayLike<number>, k: number): TraceView {
  const view: TraceView = {
    title,
    selection: selectEwmaTrace(scores, k),
    sortKeep: selectBySort(scores, k),
  };
  if (k > 0 && k < scores.length) {
    const found = locateThreshold(scoreBits(scores), k, { corrections: 1 }); // as ewma-exact runs it
    const asScore = (key: number) => Number.isFinite(key) ? scoreOfKey(key) : key;
    view.exact = {
      keep: selectEwmaExact(scores, k).keep,
      lo: asScore(found.lo),
      hi: asScore(found.hi),
      countLo: found.countLo,
      countHi: found.countHi,
    };
  }
  return view;
}

/** The final mask the views compare the tracker with: the default exact selector's, else sort's. */
const finalKeep = (view: TraceView) => view.exact?.keep ?? view.sortKeep;

/**
 * The steps where the tracker's provisional decision (`[score < T]` at that step) differs from the
 * final mask.
 *
 * @param view A traced row.
 * @returns The step indices (empty when nothing was tracked, k = 0 or n).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { disagreements, traceViewOf } from "./trace_view.ts";
 * assert.deepEqual(disagreements(traceViewOf("row", [8, 1, 16, 2, 32, 4, 64, 0.5], 4)), []);
 * const powers = Array.from({ length: 20 }, (_, i) => 2 ** (i % 7)); // 1, 2, 4, ..., 64, 1, 2, ...
 * assert.deepEqual(disagreements(traceViewOf("row", powers, 10)), [3]); // 8 kept at step 3, pruned in the end
 * ```
 */
export function disagreements(view: TraceView): number[] {
  const { selection: s } = view, n = s.keep.length, keep = finalKeep(view), out: number[] = [];
  if (s.target === 0 || s.target === n) return out;
  for (let i = 0; i < n; i++) if (s.trace.pruned[i] === keep[i]) out.push(i); // pruned 1 vs keep 1
  return out;
}

/**
 * A score for a table cell: 4 significant digits, exponent form when small or large.
 *
 * @param v The number.
 * @returns Its text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatScore } from "./trace_view.ts";
 * assert.equal(formatScore(6.453125), "6.453");
 * assert.equal(formatScore(0.00001234), "1.234e-5");
 * ```
 */
export function formatScore(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e5 ? Number(v.toPrecision(4)).toString() : v.toExponential(3);
}

/**
 * A mask as a string of `1` (keep) and `.` (pruned), in groups of 8, 64 per line.
 *
 * @param keep The mask.
 * @param indent Prefix of continuation lines.
 * @returns The text (no trailing newline).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskText } from "./trace_view.ts";
 * assert.equal(maskText(new Uint8Array([1, 0, 1, 1, 0, 0, 1, 0, 1])), "1.11..1. 1");
 * ```
 */
export function maskText(keep: Uint8Array, indent = ""): string {
  const lines: string[] = [];
  for (let start = 0; start < keep.length; start += 64) {
    const groups: string[] = [];
    for (let g = start; g < Math.min(start + 64, keep.length); g += 8) {
      groups.push(
        Array.from(keep.subarray(g, Math.min(g + 8, start + 64)), (k) => (k ? "1" : ".")).join(""),
      );
    }
    lines.push(groups.join(" "));
  }
  return lines.join(`\n${indent}`);
}

const count = (keep: Uint8Array) => keep.reduce((n, k) => n + 1 - k, 0);
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** `lo` or `hi` of the exact selector's bracket as text (an open end is -inf / inf). */
const edgeText = (
  v: number,
) => (v === -Infinity ? "-inf" : v === Infinity ? "inf" : formatScore(v));

/**
 * The trace as text: a table of every step (or the first `maxSteps`) with the tracker's state
 * (`T`, `p`, `D`) and its provisional decision next to the final mask (`*` where they differ), then
 * how the approximate and the exact selector finish, the achieved vs target count, and the masks.
 *
 * @param view The row, its selections and the sort mask (see {@link traceViewOf}).
 * @param maxSteps Print at most this many steps of the table (default: all).
 * @returns Lines of text ending with a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTrace, traceViewOf } from "./trace_view.ts";
 * const text = formatTrace(traceViewOf("row", [8, 1, 16, 2, 32, 4, 64, 0.5], 4));
 * assert.match(text, /^ +1 +1 +6\.453 +0\.5078 +1\.913 +prune +prune$/m); // step 1: score 1 below T
 * assert.match(text, /achieved 4 of 8 pruned \(50\.00%\), target 4 \(50\.00%\)/);
 * assert.match(text, /0 of 8 provisional decisions differ from the final mask/);
 * ```
 */
export function formatTrace(view: TraceView, maxSteps = Infinity): string {
  const { selection: s, sortKeep, exact } = view, n = s.keep.length, t = s.trace;
  const keep = finalKeep(view), finalName = exact ? "ewma-exact" : "sort";
  const out = [
    view.title,
    `prune k = ${s.target} of n = ${n} scores (target ${pct(n ? s.target / n : 0)})`,
    "",
  ];
  if (s.target > 0 && s.target < n) {
    const differ = disagreements(view);
    out.push(
      "pass 1, the tracker: T = its threshold before the step (as a score); after the step,",
      `p = EWMA of its decisions (it hovers around k/n = ${(s.target / n).toFixed(4)}) and`,
      "D = EWMA of |log2 score - log2 T|; tracker = its provisional decision [score < T];",
      `final = the mask of ${finalName} (the default selector${
        exact ? ", equal to sort" : ""
      }); * = the two differ`,
      "",
      `${"step".padStart(6)}  ${"score".padStart(10)}  ${"T".padStart(10)}  ${"p".padStart(6)}  ${
        "D".padStart(6)
      }  tracker  final`,
    );
    const shown = Math.min(n, maxSteps);
    const decision = (pruned: boolean) => (pruned ? "prune" : "keep").padStart(5);
    for (let i = 0; i < shown; i++) {
      out.push(
        `${String(i).padStart(6)}  ${formatScore(t.score[i]).padStart(10)}  ${
          formatScore(t.threshold[i]).padStart(10)
        }  ${t.prunedFraction[i].toFixed(4)}  ${t.deviation[i].toFixed(3).padStart(6)}  ${
          decision(t.pruned[i] === 1).padStart(7)
        }  ${decision(keep[i] === 0)}${t.pruned[i] === keep[i] ? "  *" : ""}`,
      );
    }
    if (shown < n) out.push(`   ... ${n - shown} more steps (--steps to show them)`);
    out.push(
      "",
      `${differ.length} of ${n} provisional decisions differ from the final mask${
        differ.length ? ` (steps ${differ.join(", ")})` : ""
      }:`,
      "  each score is judged against T as it stood at its step, and T is still moving; the tracker",
      "  only estimates the threshold, the passes below decide the mask.",
      "",
      `tracker (pass 1): averaged threshold ${
        formatScore(s.trackerThreshold)
      } would prune ${s.trackerPruned}`,
      `approximate selector (--select ewma): counting passes move the threshold to ${
        formatScore(s.threshold)
      },`,
      `  which prunes ${s.pruned} (${s.passes} passes in all)`,
    );
    if (exact && exact.countLo === exact.countHi) {
      out.push(
        "exact selector (ewma-exact, the default): its one counting pass already finds a threshold,",
        `  ${
          edgeText(exact.hi)
        }, with exactly k below it: nothing is left for quickselect (3 passes)`,
      );
    } else if (exact) {
      out.push(
        "exact selector (ewma-exact, the default): one counting pass brackets the k-th smallest in",
        `  [${edgeText(exact.lo)}, ${
          edgeText(exact.hi)
        }): the ${exact.countLo} scores below it are pruned, the ${
          n - exact.countHi
        } at or above it kept, and`,
        `  quickselect prunes the ${s.target - exact.countLo} smallest of the ${
          exact.countHi - exact.countLo
        } in the band (3 passes, then the band)`,
      );
    }
  } else out.push("k is 0 or n: nothing to track, the selector returns at once");
  const agree = (a: Uint8Array) => a.reduce((m, k, i) => m + (k === sortKeep[i] ? 1 : 0), 0);
  out.push(
    `achieved ${s.pruned} of ${n} pruned (${pct(n ? s.pruned / n : 0)}), target ${s.target} (${
      pct(n ? s.target / n : 0)
    }); sort prunes ${count(sortKeep)}`,
    "",
  );
  const indent = " ".repeat(17);
  out.push(`mask ewma:       ${maskText(s.keep, indent)}`);
  if (exact) out.push(`mask ewma-exact: ${maskText(exact.keep, indent)}`);
  out.push(
    `mask sort:       ${maskText(sortKeep, indent)}`,
    `ewma agrees with sort on ${agree(s.keep)} of ${n} weights${
      exact ? `, ewma-exact on ${agree(exact.keep)}` : ""
    } (1 = keep, . = pruned)`,
  );
  return out.join("\n") + "\n";
}

/** Splits a title at ", " into lines of at most `width` characters (at most 2 lines). */
function titleLines(title: string, width: number): string[] {
  if (title.length <= width) return [title];
  const cut = title.lastIndexOf(", ", width);
  return cut > 0 ? [title.slice(0, cut + 1), title.slice(cut + 2)] : [title];
}

/**
 * Colours of the plots: pruned, kept, threshold, grid (the pruned/kept pair is colour-blind safe,
 * from the Okabe-Ito palette).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { COLORS } from "./trace_view.ts";
 * assert.notEqual(COLORS.pruned, COLORS.kept);
 * ```
 */
export const COLORS = { pruned: "#d55e00", kept: "#0072b2", threshold: "#222222", grid: "#dddddd" };

/**
 * The trace as a self-contained SVG: one dot per step at the score (log scale), coloured by the
 * tracker's decision at that step, a ring around each step the final mask decided otherwise, the
 * tracker's threshold as a line over the steps, and the final threshold of the approximate selector
 * (after the counting passes) as a dashed line.
 *
 * @param view The row, its selection and the sort mask.
 * @param size Width and height in pixels (default 800 x 360).
 * @returns The SVG document.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectEwmaTrace } from "../../src/select/ewma.ts";
 * import { selectBySort } from "../../src/select/sort.ts";
 * import { traceSvg } from "./trace_view.ts";
 * const scores = [8, 1, 16, 2, 32, 4, 64, 0.5];
 * const svg = traceSvg({ title: "a <row>", selection: selectEwmaTrace(scores, 4), sortKeep: selectBySort(scores, 4) });
 * assert.ok(svg.startsWith("<svg") && svg.includes("a &lt;row&gt;"));
 * assert.equal(svg.match(/<circle /g)?.length, 8 + 3); // one per step, three in the legend
 * ```
 */
export function traceSvg(view: TraceView, size = { width: 800, height: 360 }): string {
  const { selection: s } = view, t = s.trace, n = s.keep.length;
  const { width, height } = size, left = 70, right = 20, top = 44, bottom = 58;
  const values = [...t.score, ...t.threshold, s.threshold].filter((v) =>
    v > 0 && Number.isFinite(v)
  );
  const floor = values.length ? Math.min(...values) : 1;
  const lg = (v: number) => Math.log10(v > 0 ? v : floor);
  const lo = Math.floor(lg(floor));
  let hi = Math.ceil(values.length ? Math.log10(Math.max(...values)) : 1);
  if (hi <= lo) hi = lo + 1;
  const px = (i: number) => left + (n > 1 ? (i / (n - 1)) * (width - left - right) : 0);
  const py = (v: number) => top + ((hi - lg(v)) / (hi - lo)) * (height - top - bottom);
  const parts: string[] = [];
  for (let e = lo; e <= hi; e++) { // decade grid and labels
    const y = py(10 ** e).toFixed(1);
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${y}" y2="${y}" stroke="${COLORS.grid}"/>`,
    );
    parts.push(
      `<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">1e${e}</text>`,
    );
  }
  for (const i of n > 1 ? [0, Math.floor((n - 1) / 2), n - 1] : [0]) { // step ticks
    parts.push(
      `<text x="${px(i).toFixed(1)}" y="${height - bottom + 14}" text-anchor="middle">${i}</text>`,
    );
  }
  const tracked = s.target > 0 && s.target < n;
  if (tracked) {
    const path = Array.from(
      t.threshold,
      (v, i) => `${i ? "L" : "M"}${px(i).toFixed(1)},${py(v).toFixed(1)}`,
    ).join("");
    parts.push(`<path d="${path}" fill="none" stroke="${COLORS.threshold}" stroke-width="1.5"/>`);
  }
  if (Number.isFinite(s.threshold) && s.threshold > 0) {
    const y = py(s.threshold).toFixed(1);
    parts.push(
      `<line x1="${left}" x2="${
        width - right
      }" y1="${y}" y2="${y}" stroke="${COLORS.threshold}" stroke-dasharray="6 4"/>`,
    );
  }
  const r = n > 200 ? 1.5 : n > 64 ? 2.5 : 4;
  for (let i = 0; i < n; i++) {
    const color = (tracked ? t.pruned[i] : 1 - s.keep[i]) ? COLORS.pruned : COLORS.kept;
    parts.push(
      `<circle cx="${px(i).toFixed(1)}" cy="${
        py(t.score[i]).toFixed(1)
      }" r="${r}" fill="${color}"/>`,
    );
  }
  for (const i of disagreements(view)) { // a ring: the final mask decided otherwise
    parts.push(
      `<circle cx="${px(i).toFixed(1)}" cy="${py(t.score[i]).toFixed(1)}" r="${
        r + 3
      }" fill="none" stroke="${COLORS.threshold}"/>`,
    );
  }
  const legend = [
    [COLORS.pruned, "below T then (prune)"],
    [COLORS.kept, "at or above T (keep)"],
  ].map(([c, label], k) =>
    `<circle cx="${left + 10 + 160 * k}" cy="${height - 14}" r="4" fill="${c}"/><text x="${
      left + 20 + 160 * k
    }" y="${height - 14}" dominant-baseline="middle">${label}</text>`
  );
  legend.push(
    `<circle cx="${left + 330}" cy="${
      height - 14
    }" r="6" fill="none" stroke="${COLORS.threshold}"/><text x="${left + 340}" y="${
      height - 14
    }" dominant-baseline="middle">final mask differs</text>`,
    `<line x1="${left + 470}" x2="${left + 500}" y1="${height - 14}" y2="${
      height - 14
    }" stroke="${COLORS.threshold}"/><text x="${left + 505}" y="${
      height - 14
    }" dominant-baseline="middle">T by step; dashed: final</text>`,
  );
  return svgDocument(
    width,
    height,
    [
      ...titleLines(view.title, Math.floor((width - left) / 7.5)).map((line, k) =>
        `<text x="${left}" y="${16 + 15 * k}" font-size="13">${escapeXml(line)}</text>`
      ),
      ...parts,
      `<text x="${(left + width - right) / 2}" y="${
        height - 30
      }" text-anchor="middle">step (score index), k = ${s.target} of ${n}, achieved ${s.pruned}</text>`,
      ...legend,
    ].map((part) => `\n${part}`),
  ) + "\n";
}
