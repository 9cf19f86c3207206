/**
 * How `deno task complexity` shows its report: the text tables and verdict table printed to
 * stdout, and the panels of the log-log chart. Pure over the analysed report.
 *
 * @module
 */
import type { Panel } from "./svg_chart.ts";
import {
  type ComplexityReport,
  PAPER_SPEEDUP,
  type SlopeRecord,
  type Verdict,
} from "./complexity_report.ts";
import type { Sweep } from "./complexity_sweeps.ts";

/** Pads a table's columns to their widest cell; first row is the header. */
function textTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const line = (r: readonly string[]) =>
    r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd();
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)]
    .join("\n");
}

/** The verdict table as text. */
function verdictTable(verdicts: readonly Verdict[]): string {
  const mark = (p: boolean | null) => (p === null ? "info" : p ? "PASS" : "MISS");
  return textTable([
    ["verdict", "claim", "measured", "threshold"],
    ...verdicts.map((v) => [mark(v.pass), v.claim, v.measured, v.threshold]),
  ]);
}

/**
 * Chart panels: time per call against n, one line per method, for each sweep.
 *
 * @param selection The per-row sweep.
 * @param layers The layer sweep.
 * @param clock Which clock the times are (for the axis label).
 * @returns Two panels for `logLogSvg`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chartPanels } from "./complexity_text.ts";
 * const empty = { input: "", methods: {} };
 * assert.match(chartPanels(empty, empty, "cpu")[0].yLabel, /CPU/);
 * ```
 */
export function chartPanels(selection: Sweep, layers: Sweep, clock: "cpu" | "wall"): Panel[] {
  const series = (s: Sweep) =>
    Object.entries(s.methods).map(([name, { points }]) => ({
      name,
      points: points.map((p) => [p.n, p.medianMs] as const),
    }));
  const time = clock === "cpu" ? "median CPU time" : "median wall time";
  return [
    {
      title: "Per-row selection",
      xLabel: "row length n",
      yLabel: `${time} per row (ms)`,
      series: series(selection),
    },
    {
      title: "Whole layer",
      xLabel: "rows * cols",
      yLabel: `${time} per layer (ms)`,
      series: series(layers),
    },
  ];
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(3));

function slopeTable(sweep: Sweep, slopes: Record<string, SlopeRecord>): string {
  const floor = Object.values(sweep.methods).find((m) => m.role === "floor")?.points.at(-1);
  const rows = Object.entries(sweep.methods).map(([name, { role, points }]) => {
    const s = slopes[name];
    const first = points[0], last = points.at(-1);
    return [
      name,
      role,
      s ? s.slope.toFixed(3) : "-",
      s ? s.r2.toFixed(3) : "-",
      s ? `2^${Math.log2(s.fittedSizes[0])}..2^${Math.log2(s.fittedSizes.at(-1)!)}` : "-",
      first && last ? `${ms(first.medianMs)} .. ${ms(last.medianMs)}` : "-",
      last
        ? `${(100 * last.spread).toFixed(0)}% (${last.runs} runs${last.capped ? ", capped" : ""})`
        : "-",
      ...(floor
        ? [last && last.n === floor.n ? `${(last.medianMs / floor.medianMs).toFixed(2)}x` : "-"]
        : []),
    ];
  });
  const header = [
    "method",
    "role",
    "slope",
    "r2",
    "fitted over",
    "median ms (first .. last)",
    "IQR/median at last",
  ];
  return textTable([[...header, ...(floor ? ["/ floor at last"] : [])], ...rows]);
}

/**
 * The text report: inputs and notes, slope tables, the per-row and floor ratios, the sparsity
 * errors of approximate selection, the pruner comparison next to the paper's claim, and the
 * verdict table with a closing line naming every miss.
 *
 * @param r The analysed report.
 * @returns Printable text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { analyze } from "./complexity_report.ts";
 * import { formatReport } from "./complexity_text.ts";
 * const meta = { generated: "now", runtime: "deno", quick: true, seed: 1, sparsity: 0.5, floorMs: 0, clock: "wall" as const, fitRule: "all", notes: ["n1"] };
 * const empty = { input: "none", methods: {} };
 * const r = analyze({ meta, selection: empty, layers: empty, perRow: { rows: 1, cols: 4096, scores: "", timings: [] },
 *   sparsityErrors: [], pruners: [] }, { sort: "sort", exact: "x", scoreSelect: "y", floor: "z", referencePruner: "p" });
 * const text = formatReport(r);
 * assert.ok(text.includes("MISS") && text.includes("n1"));
 * ```
 */
export function formatReport(r: ComplexityReport): string {
  const out: string[] = [];
  out.push(
    `complexity report (${
      r.meta.quick ? "--quick" : "full"
    }), ${r.meta.runtime}, ${r.meta.generated}`,
  );
  out.push(`sparsity ${r.meta.sparsity}, seed ${r.meta.seed}; slopes: ${r.meta.fitRule}`);
  for (const n of r.meta.notes) out.push(`note: ${n}`);
  out.push(
    "",
    `Per-row selection (${r.selection.input})`,
    slopeTable(r.selection, r.slopes.selection),
  );
  out.push(
    "",
    `Whole layer, n = rows * cols (${r.layers.input})`,
    slopeTable(r.layers, r.slopes.layers),
  );
  if (r.floorRatios.length > 0) {
    out.push(
      "",
      "Scoring + selection / streaming pass: " +
        r.floorRatios.map((f) => `2^${Math.log2(f.n)}: ${f.ratio.toFixed(2)}x`).join(", "),
    );
  }
  out.push("", `Per row on ${r.perRow.rows} rows x ${r.perRow.cols} cols (${r.perRow.scores})`);
  out.push(
    textTable([
      ["selector", "us per row"],
      ...r.perRow.timings.map((t) => [t.name, (t.perRowMs * 1000).toFixed(1)]),
    ]),
  );
  if (r.sparsityErrors.length > 0) {
    out.push(
      "",
      "Achieved sparsity of approximate selection, |achieved - target| in percentage points",
    );
    out.push(textTable([
      ["selector", "rows", "n", "rows tested", "mean", "max"],
      ...r.sparsityErrors.map((
        e,
      ) => [
        e.selector,
        e.rows,
        String(e.n),
        String(e.count),
        e.meanAbsPts.toFixed(3),
        e.maxAbsPts.toFixed(3),
      ]),
    ]));
  }
  const prunerNames = new Set(
    r.pruners.flatMap((p) => [...Object.keys(p.ms), ...Object.keys(p.skipped)]),
  );
  if (prunerNames.size > 0) {
    const names = [r.prunerReference, ...[...prunerNames].filter((n) => n !== r.prunerReference)];
    out.push(
      "",
      `Whole-layer pruners end to end (X: ${r.pruners[0].tokens} tokens); ratio = time / ${
        names[0]
      }'s;`,
    );
    out.push(`paper's claim (GPUs): ${PAPER_SPEEDUP.average}x average, ${PAPER_SPEEDUP.max}x max`);
    for (const name of names.slice(1)) {
      const rs = r.prunerRatios.flatMap((p) => (name in p.ratios ? [p.ratios[name]] : []));
      if (rs.length === 0) continue;
      const mean = rs.reduce((a, b) => a + b, 0) / rs.length;
      out.push(
        `measured ${name}/${names[0]}: ${mean.toFixed(2)}x average, ${
          Math.max(...rs).toFixed(2)
        }x max over ${rs.length} shapes`,
      );
    }
    out.push(textTable([
      [
        "shape",
        "source",
        ...names.map((n) => `${n} ms`),
        ...names.slice(1).map((n) => `${n}/${names[0]}`),
      ],
      ...r.pruners.map((p, i) => [
        `${p.shape[0]}x${p.shape[1]}`,
        p.source,
        ...names.map((n) => (n in p.ms ? ms(p.ms[n]) : `skipped: ${p.skipped[n] ?? "n/a"}`)),
        ...names.slice(1).map((
          n,
        ) => (n in r.prunerRatios[i].ratios ? `${r.prunerRatios[i].ratios[n].toFixed(2)}x` : "-")),
      ]),
    ]));
  }
  out.push("", verdictTable(r.verdicts));
  const misses = r.verdicts.filter((v) => v.pass === false);
  out.push(
    "",
    misses.length === 0
      ? "All claims checked here PASS."
      : `MISSED (${misses.length}): ${
        misses.map((v) => `${v.claim}: ${v.measured}, needed ${v.threshold}`).join("; ")
      }`,
  );
  return out.join("\n");
}
