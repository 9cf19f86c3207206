/**
 * From measurements to claims: fitted slopes per method, ratios, and the verdicts (PASS / MISS /
 * info) of `deno task complexity`. Pure over the report record; `complexity_text.ts` prints it.
 *
 * @module
 */
import { fitLogLog, pointsAboveFloor } from "../../src/bench/stats.ts";
import type { Role } from "../../src/bench/complexity_methods.ts";
import type { PerRowTiming, PrunerTiming, SparsityError, Sweep } from "./complexity_sweeps.ts";

/** A fitted slope and the sizes it was fitted over. */
export interface SlopeRecord {
  role: Role;
  slope: number;
  r2: number;
  /** The sizes used (those at or above the noise floor, at least the 3 largest). */
  fittedSizes: number[];
}

/** One line of the verdict table. `pass: null` marks a number printed for contrast. */
export interface Verdict {
  claim: string;
  measured: string;
  threshold: string;
  pass: boolean | null;
}

/** The slope threshold for a linear-time claim. */
export const LINEAR_SLOPE_MAX = 1.15;
/** The paper's speed-up of SwiftPrune over SOTA pruners (on GPUs): average and maximum. */
export const PAPER_SPEEDUP = { average: 12.29, max: 56.02 };

/**
 * Fits `log t` against `log n` for every method of a sweep, over its sizes whose median time is at
 * least `floorMs` (and at least its three largest sizes).
 *
 * @param sweep The sweep.
 * @param floorMs The noise floor in ms.
 * @returns A slope record per method with two or more points.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitSweep } from "./complexity_report.ts";
 * const pt = (n: number, ms: number) =>
 *   ({ n, medianMs: ms, minMs: ms, maxMs: ms, spread: 0, runs: 5, batch: 1, capped: false });
 * const sweep = { input: "", methods: { lin: { role: "linear" as const, points: [pt(1024, 1), pt(2048, 2), pt(4096, 4)] } } };
 * assert.ok(Math.abs(fitSweep(sweep, 0.01).lin.slope - 1) < 1e-9);
 * ```
 */
export function fitSweep(sweep: Sweep, floorMs: number): Record<string, SlopeRecord> {
  const out: Record<string, SlopeRecord> = {};
  for (const [name, { role, points }] of Object.entries(sweep.methods)) {
    if (points.length < 2) continue;
    const ns = points.map((p) => p.n), ts = points.map((p) => p.medianMs);
    const use = pointsAboveFloor(ns, ts, floorMs, 3);
    const fit = fitLogLog(use.map((i) => ns[i]), use.map((i) => ts[i]));
    out[name] = { role, slope: fit.slope, r2: fit.r2, fittedSizes: use.map((i) => ns[i]) };
  }
  return out;
}

const ROLE_CLAIMS: Record<Role, string> = {
  linear: "linear time",
  contrast: "O(n log n) contrast",
  floor: "streaming floor",
  measured: "measured (no claim)",
};

/** Verdicts on the slopes of one sweep: linear methods against the threshold, others as info. */
function slopeVerdicts(what: string, slopes: Record<string, SlopeRecord>): Verdict[] {
  return Object.entries(slopes).map(([name, r]) => ({
    claim: `${what} ${name}: ${ROLE_CLAIMS[r.role]}`,
    measured: `slope ${r.slope.toFixed(3)} (r2 ${r.r2.toFixed(3)}, ${r.fittedSizes.length} sizes)`,
    threshold: r.role === "linear" ? `<= ${LINEAR_SLOPE_MAX}` : "info",
    pass: r.role === "linear" ? r.slope <= LINEAR_SLOPE_MAX : null,
  }));
}

/**
 * The per-row target: the exact selector at least 3x faster than sort per row of 4096 columns.
 *
 * @param timings The per-row timings.
 * @param sortName Name of the sort selector.
 * @param exactName Name of the exact EWMA selector.
 * @returns The verdict (`pass: false` with the reason when either was not measured).
 */
function perRowVerdict(
  timings: readonly PerRowTiming[],
  sortName: string,
  exactName: string,
): Verdict {
  const sort = timings.find((t) => t.name === sortName),
    exact = timings.find((t) => t.name === exactName);
  const claim = `target: ${exactName} >= 3x faster than ${sortName} per row, 4096 cols`;
  if (!sort || !exact) {
    return {
      claim,
      measured: `not measured (${exactName} not available)`,
      threshold: ">= 3x",
      pass: false,
    };
  }
  const ratio = sort.perRowMs / exact.perRowMs;
  const us = (ms: number) => `${(ms * 1000).toFixed(1)} us`;
  return {
    claim,
    measured: `${ratio.toFixed(2)}x (${us(sort.perRowMs)} vs ${us(exact.perRowMs)} per row)`,
    threshold: ">= 3x",
    pass: ratio >= 3,
  };
}

/**
 * The streaming-floor target at the largest layer measured: scoring + selection within 3x of a
 * single pass that reads every weight and writes one byte.
 *
 * @param layers The layer sweep.
 * @param methodName The scoring + selection method.
 * @param floorName The streaming pass.
 * @returns The ratio per size and the verdict.
 */
function floorVerdict(
  layers: Sweep,
  methodName: string,
  floorName: string,
): { ratios: { n: number; ratio: number }[]; verdict: Verdict } {
  const m = layers.methods[methodName]?.points ?? [], f = layers.methods[floorName]?.points ?? [];
  const ratios = m.flatMap((p) => {
    const q = f.find((x) => x.n === p.n);
    return q ? [{ n: p.n, ratio: p.medianMs / q.medianMs }] : [];
  });
  const claim = `target: ${methodName} within 3x of ${floorName}`;
  const last = ratios.at(-1);
  if (!last) {
    return {
      ratios,
      verdict: {
        claim,
        measured: `not measured (${methodName} not available)`,
        threshold: "<= 3x",
        pass: false,
      },
    };
  }
  return {
    ratios,
    verdict: {
      claim,
      measured: `${last.ratio.toFixed(2)}x at n=2^${Math.log2(last.n)}`,
      threshold: "<= 3x",
      pass: last.ratio <= 3,
    },
  };
}

/** One verdict per approximate selector: its worst row's |achieved - target| over sources and sizes <= 1 pt. */
function sparsityVerdicts(errors: readonly SparsityError[]): Verdict[] {
  const names = [...new Set(errors.map((e) => e.selector))];
  return names.map((name) => {
    const mine = errors.filter((e) => e.selector === name);
    const worst = mine.reduce((a, b) => (b.maxAbsPts > a.maxAbsPts ? b : a));
    return {
      claim: `${name}: achieved sparsity within 1 pt per row (n >= 1024)`,
      measured: `worst row ${worst.maxAbsPts.toFixed(2)} pt (${worst.rows}, n=${worst.n})`,
      threshold: "<= 1 pt",
      pass: worst.maxAbsPts <= 1,
    };
  });
}

/** Ratio of every pruner's time to the first's, per shape, as printable rows. */
function prunerRatios(
  timings: readonly PrunerTiming[],
  reference: string,
): { shape: string; ratios: Record<string, number> }[] {
  return timings.map((t) => ({
    shape: `${t.shape[0]}x${t.shape[1]}`,
    ratios: Object.fromEntries(
      Object.entries(t.ms).filter(([name]) => name !== reference && t.ms[reference]).map((
        [name, ms],
      ) => [name, ms / t.ms[reference]]),
    ),
  }));
}

/** How the run was made: printed at the top of the report and stored in the JSON. */
export interface ReportMeta {
  generated: string;
  runtime: string;
  quick: boolean;
  seed: number;
  sparsity: number;
  floorMs: number;
  clock: "cpu" | "wall";
  fitRule: string;
  notes: string[];
}

/** Everything measured in one run, before analysis. */
export interface Measured {
  meta: ReportMeta;
  selection: Sweep;
  layers: Sweep;
  perRow: { rows: number; cols: number; scores: string; timings: PerRowTiming[] };
  sparsityErrors: SparsityError[];
  pruners: PrunerTiming[];
}

/** The measured run with its slopes, ratios and verdicts: what `complexity.json` holds. */
export interface ComplexityReport extends Measured {
  slopes: { selection: Record<string, SlopeRecord>; layers: Record<string, SlopeRecord> };
  floorRatios: { n: number; ratio: number }[];
  /** The pruner the others' time ratios are taken to. */
  prunerReference: string;
  prunerRatios: { shape: string; ratios: Record<string, number> }[];
  verdicts: Verdict[];
}

/** Which methods the targets name. */
export interface TargetNames {
  sort: string;
  exact: string;
  scoreSelect: string;
  floor: string;
  referencePruner: string;
}

/**
 * Fits the slopes and derives every ratio and verdict of a run.
 *
 * @param m The measurements.
 * @param names Which methods the targets refer to.
 * @returns The full report.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { analyze } from "./complexity_report.ts";
 * const pt = (n: number, ms: number) =>
 *   ({ n, medianMs: ms, minMs: ms, maxMs: ms, spread: 0, runs: 5, batch: 1, capped: false });
 * const sweep = (name: string, k: number) =>
 *   ({ input: "", methods: { [name]: { role: "linear" as const, points: [pt(1024, k), pt(4096, 4 * k), pt(16384, 16 * k)] } } });
 * const meta = { generated: "", runtime: "", quick: true, seed: 1, sparsity: 0.5, floorMs: 0, clock: "cpu" as const, fitRule: "", notes: [] };
 * const r = analyze({ meta, selection: sweep("ewma", 1), layers: sweep("s+sel", 2),
 *   perRow: { rows: 1, cols: 4096, scores: "", timings: [] }, sparsityErrors: [], pruners: [] },
 *   { sort: "sort", exact: "ewma-exact", scoreSelect: "s+sel", floor: "stream", referencePruner: "swiftprune" });
 * assert.equal(r.verdicts.filter((v) => v.pass === true).length, 2); // both slopes are 1
 * assert.ok(r.verdicts.some((v) => v.pass === false && /not measured/.test(v.measured)));
 * ```
 */
export function analyze(m: Measured, names: TargetNames): ComplexityReport {
  const slopes = {
    selection: fitSweep(m.selection, m.meta.floorMs),
    layers: fitSweep(m.layers, m.meta.floorMs),
  };
  const floor = floorVerdict(m.layers, names.scoreSelect, names.floor);
  const verdicts = [
    ...slopeVerdicts("select", slopes.selection),
    ...slopeVerdicts("layer", slopes.layers),
    perRowVerdict(m.perRow.timings, names.sort, names.exact),
    floor.verdict,
    ...sparsityVerdicts(m.sparsityErrors),
  ];
  return {
    ...m,
    slopes,
    floorRatios: floor.ratios,
    prunerReference: names.referencePruner,
    prunerRatios: prunerRatios(m.pruners, names.referencePruner),
    verdicts,
  };
}
