/**
 * `deno task complexity`: checks SwiftPrune's complexity claims in one command.
 *
 * Sweeps per-row selection over rows of 2^10..2^22 and whole-layer scoring (+ selection) over
 * layers of 2^16..2^24 weights, repeats each size until its timing is stable, fits the log-log
 * slope of time against n, times the memory-bound streaming pass, the per-row target on a
 * 4096-column layer, the achieved sparsity of approximate selection, and SwiftPrune against
 * SparseGPT end to end. Prints a verdict table and writes `out/complexity.json` and a log-log SVG.
 *
 *     deno task complexity [--quick] [--out out/complexity.json] [--svg out/complexity.svg]
 *                          [--models ../shared/models] [--seed 1] [--budget-s 180] [--clock cpu]
 *
 * Uses `node:` built-ins only, so it also runs under Bun.
 *
 * @module
 */
import process from "node:process";
import type { MeasureOptions } from "../src/bench/measure.ts";
import { DISTRIBUTIONS, tiledMatrix } from "../src/bench/synthetic.ts";
import type { Matrix } from "../src/tensor/matrix.ts";
import {
  LAYER_METHODS,
  LAYER_PRUNERS,
  PER_ROW_SCORES,
  ROW_SELECTORS,
  TARGET_NAMES,
} from "../src/bench/complexity_methods.ts";
import {
  comparePruners,
  sparsityErrors,
  sweepLayers,
  sweepSelection,
  timePerRow,
} from "./lib/complexity_sweeps.ts";
import { analyze, type ComplexityReport } from "./lib/complexity_report.ts";
import { chartPanels, formatReport } from "./lib/complexity_text.ts";
import {
  defaultModelsDir,
  layerValuePool,
  poolOf,
  readRealLayers,
} from "../bench/lib/real_layers.ts";
import { logLogSvg } from "./lib/svg_chart.ts";
import { checkTarget, writeFileAtomic } from "./lib/files.ts";
import { CliError, type CliIo, parseFlags, PROCESS_IO, runCli } from "./lib/cli.ts";

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
  /**
   * `"cpu"`: process CPU time (user + system, `process.cpuUsage`), which other processes on a
   * shared machine do not inflate; `"wall"`: `performance.now()`.
   */
  clock: "cpu" | "wall";
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

/** Process CPU time in ms (user + system). */
function cpuClockMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
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
    out: "out/complexity.json", // out/ is gitignored: a run never litters the checkout
    svg: "out/complexity.svg",
    modelsDir: defaultModelsDir(),
    seed: 1,
    sparsity: 0.5,
    selectLogs: quick ? range(10, 16) : range(10, 22),
    layerLogs: quick ? range(16, 20) : range(16, 24),
    measure: quick
      ? { minRuns: 5, minTotalMs: 100, maxTotalMs: 600 }
      : { minRuns: 5, minTotalMs: 200, maxTotalMs: 3000 },
    clock: "cpu",
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
export async function runComplexity(
  overrides: Partial<ComplexityOptions> = {},
): Promise<ComplexityReport> {
  const o = { ...defaultOptions(overrides.quick ?? false), ...overrides };
  const measure = o.clock === "cpu" ? { ...o.measure, now: cpuClockMs } : o.measure;
  const s = { seed: o.seed, sparsity: o.sparsity, measure, progress: o.progress };
  const notes: string[] = [
    o.clock === "cpu"
      ? "times are process CPU time (user + system, incl. the runtime's GC and compiler threads), not wall time: robust to other load"
      : "times are wall-clock (performance.now); other load on the machine inflates them",
  ];
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
  if (o.quick) {
    notes.push(
      "--quick stops at rows of 2^16 and layers of 2^20: slopes over a range that crosses a cache size read high; the full run fits 2^10..2^22 and 2^16..2^24",
    );
  }
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
      clock: o.clock,
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
  const encode = (text: string) => new TextEncoder().encode(text);
  // force: the report is regenerated on every run (it is gitignored), so replacing it is the point.
  await writeFileAtomic(o.out, encode(JSON.stringify(report, null, 1) + "\n"), { force: true });
  await writeFileAtomic(
    o.svg,
    encode(logLogSvg(chartPanels(report.selection, report.layers, o.clock))),
    {
      force: true,
    },
  );
  o.progress(`wrote ${o.out} and ${o.svg}`);
  return report;
}

const FLAGS = {
  quick: { type: "boolean", default: false },
  out: { type: "string" },
  svg: { type: "string" },
  models: { type: "string" },
  seed: { type: "string" },
  "budget-s": { type: "string" },
  clock: { type: "string", default: "cpu" },
  help: { type: "boolean", default: false },
} as const;

const USAGE = `Check SwiftPrune's complexity claims: sweeps, slopes, targets, SparseGPT comparison.

usage: deno task complexity [--quick] [--out out/complexity.json] [--svg out/complexity.svg]
                            [--models ../shared/models] [--seed 1] [--budget-s 180] [--clock cpu]

  --quick        reduced sweep (under a minute), same verdict table
  --out FILE     the JSON report (replaced if it exists; missing folders are created); the
                 chart goes beside it as .svg
  --svg FILE     the log-log chart
  --models DIR   folder with stories260K/ and llama4m/
  --seed N       seed of the synthetic inputs
  --budget-s S   skip a pruner at a layer when its predicted time exceeds S seconds
  --clock C      cpu (default: process CPU time, robust to other load) | wall
`;

function numberFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const x = Number(value);
  if (!Number.isFinite(x)) throw new CliError(`--${name} must be a number, got ${value}`);
  return x;
}

/**
 * The CLI body: parses `argv`, runs {@link runComplexity} with the report on `io.stdout` and
 * progress on `io.stderr`.
 *
 * @param argv Command-line arguments (without the program).
 * @param io Where output goes.
 * @returns 0.
 * @throws {CliError} On an unknown flag or a bad number.
 */
export async function complexityMain(argv: string[], io: CliIo = PROCESS_IO): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags.help) {
    io.stdout(USAGE);
    return 0;
  }
  const base = defaultOptions(flags.quick);
  if (flags.clock !== "cpu" && flags.clock !== "wall") {
    throw new CliError(`--clock must be cpu or wall, got ${flags.clock}`);
  }
  const out = flags.out ?? base.out;
  const svg = flags.svg ?? (flags.out ? out.replace(/\.json$/, "") + ".svg" : base.svg);
  // before the sweeps, not after them (a refused write is exit 2 through runCli)
  for (const file of [out, svg]) await checkTarget(file, { force: true });
  await runComplexity({
    quick: flags.quick,
    out,
    svg,
    modelsDir: flags.models ?? base.modelsDir,
    seed: numberFlag("seed", flags.seed, base.seed),
    budgetS: numberFlag("budget-s", flags["budget-s"], base.budgetS),
    clock: flags.clock,
    log: (text) => io.stdout(`${text}\n`),
    progress: (line) => io.stderr(`${line}\n`),
  });
  return 0;
}

/**
 * The CLI: {@link complexityMain} under `runCli` (one-line errors, exit status 2 for bad input).
 *
 * @param argv Command-line arguments (without the program).
 * @param io Where output goes.
 * @returns The exit status.
 */
export function main(argv: string[], io: CliIo = PROCESS_IO): Promise<number> {
  return runCli(complexityMain, argv, io);
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
