/**
 * `deno task complexity`: checks SwiftPrune's complexity claims in one command (issue 4).
 *
 * Sweeps per-row selection over rows of 2^10..2^22 and whole-layer scoring (+ selection) over
 * layers of 2^16..2^24 weights, repeats each size until its timing is stable, fits the log-log
 * slope of time against n, times the memory-bound streaming pass, the per-row target on a
 * 4096-column layer, the achieved sparsity of approximate selection, and SwiftPrune against
 * SparseGPT end to end. Prints a verdict table and writes `complexity.json` and a log-log SVG.
 *
 *     deno task complexity [--quick] [--out complexity.json] [--svg complexity.svg]
 *                          [--models ../shared/models] [--seed 1] [--budget-s 180]
 *
 * Uses `node:` built-ins only, so it also runs under Bun.
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { renameSync, writeFileSync } from "node:fs";
import type { MeasureOptions } from "../src/bench/measure.ts";
import { DISTRIBUTIONS, tiledMatrix } from "../src/bench/synthetic.ts";
import type { Matrix } from "../src/tensor/matrix.ts";
import {
  LAYER_METHODS,
  LAYER_PRUNERS,
  PER_ROW_SCORES,
  ROW_SELECTORS,
  TARGET_NAMES,
} from "./lib/complexity_methods.ts";
import {
  comparePruners,
  sparsityErrors,
  sweepLayers,
  sweepSelection,
  timePerRow,
} from "./lib/complexity_sweeps.ts";
import {
  analyze,
  chartPanels,
  type ComplexityReport,
  formatReport,
} from "./lib/complexity_report.ts";
import { defaultModelsDir, layerValuePool, poolOf, readRealLayers } from "./lib/real_layers.ts";
import { logLogSvg } from "./lib/svg_chart.ts";

/** Everything a run can be told; {@link defaultOptions} gives the full and `--quick` settings. */
export interface ComplexityOptions {
  quick: boolean;
  /** JSON output path. */
  out: string;
  /** SVG chart path. */
  svg: string;
  modelsDir: string;
  seed: number;
  sparsity: number;
  /** Exponents of the per-row sweep (row length 2^e). */
  selectLogs: number[];
  /** Exponents of the layer sweep (rows * cols = 2^e). */
  layerLogs: number[];
  measure: MeasureOptions;
  /** Noise floor in ms: slopes are fitted over sizes at or above it (at least the 3 largest). */
  floorMs: number;
  /** Rows of the 4096-column layer timed for the per-row target (4096 = all). */
  perRowRows: number;
  /** Row lengths and rows per source for the achieved-sparsity check. */
  errorSizes: number[];
  errorRows: number;
  /** Calibration tokens of the pruner comparison. */
  tokens: number;
  /** Square shapes (besides llama4m's) for the pruner comparison. */
  prunerSquares: number[];
  /** Skip a pruner at a shape when its predicted time exceeds this, in seconds. */
  budgetS: number;
  /** Where report text goes (stdout in the CLI). */
  log: (text: string) => void;
  /** Where progress lines go (stderr in the CLI). */
  progress: (line: string) => void;
}

const range = (lo: number, hi: number) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

/**
 * The settings of a full run or of `--quick` (under a minute on an idle two-core machine).
 *
 * @param quick Reduced sweep.
 * @returns The options.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultOptions } from "./complexity.ts";
 * assert.deepEqual(defaultOptions(false).selectLogs.at(-1), 22);
 * assert.ok(defaultOptions(true).layerLogs.at(-1)! < defaultOptions(false).layerLogs.at(-1)!);
 * ```
 */
export function defaultOptions(quick: boolean): ComplexityOptions {
  return {
    quick,
    out: "complexity.json",
    svg: "complexity.svg",
    modelsDir: defaultModelsDir(),
    seed: 1,
    sparsity: 0.5,
    selectLogs: quick ? range(10, 16) : range(10, 22),
    layerLogs: quick ? range(16, 20) : range(16, 24),
    measure: quick
      ? { minRuns: 5, minTotalMs: 100, maxTotalMs: 600 }
      : { minRuns: 5, minTotalMs: 200, maxTotalMs: 3000 },
    floorMs: 0.02,
    perRowRows: quick ? 256 : 4096,
    errorSizes: [1024, 4096],
    errorRows: quick ? 32 : 256,
    tokens: quick ? 256 : 512,
    prunerSquares: quick ? [] : [1024, 2048, 4096],
    budgetS: 180,
    log: (text) => console.log(text),
    progress: (line) => process.stderr.write(`${line}\n`),
  };
}

/**
 * Runs every section, prints the report through `options.log`, writes the JSON and SVG.
 *
 * @param overrides Options over {@link defaultOptions} (`quick` picks the base).
 * @returns The report written to `options.out`.
 * @throws {RangeError} If a model file is truncated.
 */
export function runComplexity(overrides: Partial<ComplexityOptions> = {}): ComplexityReport {
  const o = { ...defaultOptions(overrides.quick ?? false), ...overrides };
  const s = { seed: o.seed, sparsity: o.sparsity, measure: o.measure, progress: o.progress };
  const notes: string[] = [];
  const real = {
    stories260K: readRealLayers(o.modelsDir, "stories260K"),
    llama4m: readRealLayers(o.modelsDir, "llama4m"),
  };
  const pools = Object.entries(real).flatMap((
    [name, ls],
  ) => (ls ? [poolOf(ls, `${name} linear weights`)] : []));
  const layerPool = real.llama4m ? pools.at(-1)! : layerValuePool(o.modelsDir, o.seed);
  notes.push(
    `column norms and calibration inputs X are synthetic (log-normal channel scales, 1% outlier channels x20)`,
  );
  notes.push(
    `per-row target times ${o.perRowRows} of the 4096 rows of a 4096x4096 layer (per-row cost does not depend on the row count)`,
  );

  const selection = sweepSelection(o.selectLogs, ROW_SELECTORS, s);
  const layers = sweepLayers(o.layerLogs, LAYER_METHODS, layerPool, s);
  const perRowSelectors = ROW_SELECTORS.filter((r) =>
    r.name === TARGET_NAMES.sort || r.name === TARGET_NAMES.exact
  );
  const perRow = {
    rows: o.perRowRows,
    cols: 4096,
    scores: `${PER_ROW_SCORES.description} of ${layerPool.source}, tiled`,
    timings: timePerRow(o.perRowRows, perRowSelectors, PER_ROW_SCORES.scoresOf, layerPool, s),
  };
  const approximate = ROW_SELECTORS.filter((r) => r.approximate);
  const errors = sparsityErrors(approximate, DISTRIBUTIONS, pools, o.errorSizes, o.errorRows, s);
  if (approximate.length === 0) {
    notes.push("no approximate selector available: achieved-sparsity check not run");
  }

  const prunerLayers: { weight: Matrix; source: string }[] = [
    ...(real.llama4m ?? []).filter((l) => /^llama4m L0 (wq|wk|w1|w2)$/.test(l.label)).map((l) => ({
      weight: l.weight,
      source: `${l.label} (real)`,
    })),
    ...o.prunerSquares.map((d) => ({
      weight: tiledMatrix(layerPool.values, d, d).matrix,
      source: `${layerPool.source}, tiled`,
    })),
  ];
  const pruners = comparePruners(prunerLayers, LAYER_PRUNERS, o.tokens, o.budgetS * 1000, s);
  if (LAYER_PRUNERS.length === 0) {
    notes.push("no whole-layer pruner available: SwiftPrune/SparseGPT comparison not run");
  }

  const versions = process.versions as Record<string, string | undefined>;
  const report = analyze({
    meta: {
      generated: new Date().toISOString(),
      runtime: versions.bun
        ? `bun ${versions.bun}`
        : versions.deno
        ? `deno ${versions.deno}`
        : `node ${versions.node}`,
      quick: o.quick,
      seed: o.seed,
      sparsity: o.sparsity,
      floorMs: o.floorMs,
      fitRule:
        `least squares of ln(median time) on ln n over sizes with median >= ${o.floorMs} ms (at least the 3 largest)`,
      notes,
    },
    selection,
    layers,
    perRow,
    sparsityErrors: errors,
    pruners,
  }, TARGET_NAMES);
  o.log(formatReport(report));
  writeAtomic(o.out, JSON.stringify(report, null, 1) + "\n");
  writeAtomic(o.svg, logLogSvg(chartPanels(report.selection, report.layers)));
  o.progress(`wrote ${o.out} and ${o.svg}`);
  return report;
}

/** Writes a temp file beside `path`, then renames it over `path` (atomic on one file system). */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * The CLI: parses `args`, runs, returns the exit code (0 ok, 2 bad arguments).
 *
 * @param args Command-line arguments (without the program).
 * @returns The exit code.
 */
export function main(args: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        quick: { type: "boolean", default: false },
        out: { type: "string" },
        svg: { type: "string" },
        models: { type: "string" },
        seed: { type: "string" },
        "budget-s": { type: "string" },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (e) {
    process.stderr.write(`complexity: ${(e as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    console.log(
      "usage: deno task complexity [--quick] [--out complexity.json] [--svg path] [--models dir] [--seed n] [--budget-s s]",
    );
    return 0;
  }
  const num = (name: string, v: string | undefined, fallback: number) => {
    if (v === undefined) return fallback;
    const x = Number(v);
    if (!Number.isFinite(x)) throw new RangeError(`--${name} must be a number, got ${v}`);
    return x;
  };
  const base = defaultOptions(values.quick);
  const out = values.out ?? base.out;
  let seed: number, budgetS: number;
  try {
    seed = num("seed", values.seed, base.seed);
    budgetS = num("budget-s", values["budget-s"], base.budgetS);
  } catch (e) {
    process.stderr.write(`complexity: ${(e as Error).message}\n`);
    return 2;
  }
  runComplexity({
    quick: values.quick,
    out,
    svg: values.svg ?? (values.out ? out.replace(/\.json$/, "") + ".svg" : base.svg),
    modelsDir: values.models ?? base.modelsDir,
    seed,
    budgetS,
  });
  return 0;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
