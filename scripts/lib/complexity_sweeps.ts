/**
 * The measurements of `deno task complexity`, one function per section of the report: the per-row
 * selection sweep, the whole-layer sweep, the per-row target on a 4096-column layer, the achieved
 * sparsity of approximate selectors, and the whole-layer pruner comparison (SwiftPrune vs SparseGPT).
 * Each returns plain JSON-ready records; printing and verdicts live in `complexity_report.ts`.
 *
 * @module
 */
import { type Measurement, type MeasureOptions, measureStable } from "../../src/bench/measure.ts";
import {
  absValues,
  channelScales,
  type Distribution,
  syntheticInputs,
  syntheticWeights,
  tiledMatrix,
} from "../../src/bench/synthetic.ts";
import { createRng } from "../../src/tensor/rng.ts";
import type { Matrix } from "../../src/tensor/matrix.ts";
import type {
  LayerMethod,
  LayerPruner,
  Role,
  RowSelector,
} from "../../src/bench/complexity_methods.ts";
import { selectRows } from "../../src/bench/complexity_methods.ts";

/** One timed size: per-call times in ms. */
export interface Point {
  n: number;
  shape?: [number, number];
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Interquartile range / median. */
  spread: number;
  runs: number;
  batch: number;
  /** True when the time cap stopped the repetitions early. */
  capped: boolean;
}

/** A sweep: its input description and the points of every method. */
export interface Sweep {
  input: string;
  methods: Record<string, { role: Role; points: Point[] }>;
}

/** A source of real (or synthetic fallback) weight values, described for the report. */
export interface ValuePool {
  values: Float32Array;
  source: string;
}

/** Shared settings of every section. */
export interface SweepSettings {
  seed: number;
  sparsity: number;
  measure: MeasureOptions;
  /** Progress lines (stderr in the CLI). */
  progress: (line: string) => void;
}

/** Converts a measurement to a report point. */
function toPoint(n: number, m: Measurement, shape?: [number, number]): Point {
  return {
    n,
    ...(shape ? { shape } : {}),
    medianMs: m.median,
    minMs: m.min,
    maxMs: m.max,
    spread: m.spread,
    runs: m.count,
    batch: m.batch,
    capped: m.capped,
  };
}

function fmtMs(ms: number): string {
  return ms >= 1 ? `${ms.toFixed(1)} ms` : `${(ms * 1000).toFixed(1)} us`;
}

/**
 * Times every selector on one synthetic Gaussian |w| row of each length `2^e`, pruning
 * `floor(sparsity * n)`.
 *
 * @param logs The exponents `e` (row length `2^e`).
 * @param selectors The selectors.
 * @param s Settings.
 * @returns The sweep.
 */
export function sweepSelection(
  logs: readonly number[],
  selectors: readonly RowSelector[],
  s: SweepSettings,
): Sweep {
  const methods: Sweep["methods"] = Object.fromEntries(
    selectors.map((m) => [m.name, { role: m.role, points: [] }]),
  );
  for (const e of logs) {
    const n = 2 ** e, k = Math.floor(s.sparsity * n);
    const scores = absValues(syntheticWeights("gaussian", n, createRng(s.seed + e)));
    for (const sel of selectors) {
      const m = measureStable(() => sel.select(scores, k), s.measure);
      methods[sel.name].points.push(toPoint(n, m));
      s.progress(`select n=2^${e} ${sel.name}: ${fmtMs(m.median)} (${m.count} runs)`);
    }
  }
  return { input: "one row of |w|, w ~ N(0, 1) (seeded), per length", methods };
}

/** The `[rows, cols]` of a layer with `2^e` weights: `cols = 2^ceil(e/2)`, `rows = 2^floor(e/2)`. */
export function layerShape(e: number): [number, number] {
  return [2 ** Math.floor(e / 2), 2 ** Math.ceil(e / 2)];
}

/**
 * Times every whole-layer method on layers of `2^e` weights filled from `pool` (tiled when larger),
 * with synthetic column norms (log-normal, 1% outlier channels).
 *
 * @param logs The exponents `e` (`rows * cols = 2^e`, shapes from {@link layerShape}).
 * @param methods The layer methods.
 * @param pool Where the weight values come from.
 * @param s Settings.
 * @returns The sweep; its input says from which size on the pool was tiled.
 */
export function sweepLayers(
  logs: readonly number[],
  methods: readonly LayerMethod[],
  pool: ValuePool,
  s: SweepSettings,
): Sweep {
  const out: Sweep["methods"] = Object.fromEntries(
    methods.map((m) => [m.name, { role: m.role, points: [] }]),
  );
  const tiled: string[] = [];
  for (const e of logs) {
    const [rows, cols] = layerShape(e);
    const { matrix: weight, repeats } = tiledMatrix(pool.values, rows, cols);
    if (repeats > 1) tiled.push(`${rows}x${cols} (x${repeats})`);
    const input = {
      weight,
      colNorms: channelScales(cols, createRng(s.seed + e)),
      sparsity: s.sparsity,
    };
    for (const method of methods) {
      const m = measureStable(() => method.run(input), s.measure);
      out[method.name].points.push(toPoint(rows * cols, m, [rows, cols]));
      s.progress(`layer ${rows}x${cols} ${method.name}: ${fmtMs(m.median)} (${m.count} runs)`);
    }
  }
  const tiling = tiled.length > 0
    ? `; tiled (pool repeated) at ${tiled.join(", ")}`
    : "; no tiling";
  return {
    input: `layers filled row-major from ${pool.source}${tiling}; column norms synthetic`,
    methods: out,
  };
}

/** Per-row cost of each selector on rows of a 4096-column layer. */
export interface PerRowTiming {
  name: string;
  /** Median time per row, ms. */
  perRowMs: number;
  /** The whole measurement over `rows` rows. */
  point: Point;
}

/**
 * Times each selector selecting every row of a `[rows, 4096]` slice of the 4096x4096 layer filled
 * from `pool` (the first `rows` rows: per-row work does not depend on how many rows there are).
 *
 * @param rows How many of the 4096 rows to time (4096 = the whole layer).
 * @param selectors The selectors (by name in the result).
 * @param scoresOf Turns the weight slice into scores (|W| or SwiftPrune scores).
 * @param pool Where the weight values come from.
 * @param s Settings.
 * @returns One timing per selector.
 */
export function timePerRow(
  rows: number,
  selectors: readonly RowSelector[],
  scoresOf: (weight: Matrix, colNorms: Float32Array) => Matrix,
  pool: ValuePool,
  s: SweepSettings,
): PerRowTiming[] {
  const cols = 4096;
  const scores = scoresOf(
    tiledMatrix(pool.values, rows, cols).matrix,
    channelScales(cols, createRng(s.seed)),
  );
  return selectors.map((sel) => {
    const m = measureStable(() => selectRows(scores, s.sparsity, sel.select), s.measure);
    s.progress(`per-row 4096 cols x ${rows} rows ${sel.name}: ${fmtMs(m.median)}`);
    return {
      name: sel.name,
      perRowMs: m.median / rows,
      point: toPoint(rows * cols, m, [rows, cols]),
    };
  });
}

/** Achieved sparsity of an approximate selector on one kind of row. */
export interface SparsityError {
  selector: string;
  rows: string;
  n: number;
  target: number;
  /** Mean of |achieved - target| over rows, percentage points. */
  meanAbsPts: number;
  /** Worst |achieved - target| over rows, percentage points. */
  maxAbsPts: number;
  count: number;
}

/**
 * Measures how far each approximate selector's achieved sparsity is from the target, on `count`
 * rows of length `n` per source: the synthetic distributions, and rows of `n` consecutive |w| of
 * each real pool.
 *
 * @param selectors The approximate selectors.
 * @param dists The synthetic distributions.
 * @param pools Real value pools (a pool shorter than `n` is skipped at that size; rows wrap around
 *   the pool when `n * count` exceeds it).
 * @param sizes Row lengths.
 * @param count Rows per source and size.
 * @param s Settings.
 * @returns One record per selector, source and size.
 */
export function sparsityErrors(
  selectors: readonly RowSelector[],
  dists: readonly Distribution[],
  pools: readonly ValuePool[],
  sizes: readonly number[],
  count: number,
  s: SweepSettings,
): SparsityError[] {
  const out: SparsityError[] = [];
  for (const n of sizes) {
    const k = Math.floor(s.sparsity * n);
    const sources: [string, (r: number) => Float32Array][] = [
      ...dists.map((d): [string, (r: number) => Float32Array] => {
        const rng = createRng(s.seed + n);
        return [d, () => absValues(syntheticWeights(d, n, rng))];
      }),
      ...pools.filter((p) => p.values.length >= n).map((
        p,
      ): [string, (r: number) => Float32Array] => [
        p.source,
        (r) => {
          const start = (r * n) % (p.values.length - n + 1); // n consecutive weights, rows concatenated
          return absValues(p.values.subarray(start, start + n));
        },
      ]),
    ];
    for (const [name, rowOf] of sources) {
      const rows = Array.from({ length: count }, (_, r) => rowOf(r));
      for (const sel of selectors) {
        const errs = rows.map((row) =>
          Math.abs(sel.select(row, k).reduce((z, v) => z + (v === 0 ? 1 : 0), 0) - k) / n * 100
        );
        out.push({
          selector: sel.name,
          rows: name,
          n,
          target: k / n,
          meanAbsPts: errs.reduce((a, b) => a + b, 0) / errs.length,
          maxAbsPts: Math.max(...errs),
          count,
        });
      }
    }
  }
  return out;
}

/** One shape of the pruner comparison. */
export interface PrunerTiming {
  shape: [number, number];
  source: string;
  tokens: number;
  /** Median ms per pruner name; absent when skipped. */
  ms: Record<string, number>;
  runs: Record<string, number>;
  /** Why a pruner was not run at this shape (e.g. predicted too slow). */
  skipped: Record<string, string>;
}

/**
 * Times each whole-layer pruner (calibration statistics + scores + mask, end to end) on the same
 * layers and the same synthetic calibration inputs `X` `[tokens, cols]`.
 *
 * @param layers The layers, each with a source description.
 * @param pruners The pruners.
 * @param tokens Calibration tokens.
 * @param budgetMs Skip a pruner at a layer when its time predicted from the previous layer (scaled
 *   by the pruner's `costExponent` in `cols` and linearly in `rows`) exceeds this.
 * @param s Settings.
 * @returns One record per layer.
 */
export function comparePruners(
  layers: readonly { weight: Matrix; source: string }[],
  pruners: readonly LayerPruner[],
  tokens: number,
  budgetMs: number,
  s: SweepSettings,
): PrunerTiming[] {
  const last: Record<string, { ms: number; rows: number; cols: number }> = {};
  return layers.map(({ weight, source }) => {
    const x = syntheticInputs(tokens, weight.cols, createRng(s.seed + weight.cols));
    const rec: PrunerTiming = {
      shape: [weight.rows, weight.cols],
      source,
      tokens,
      ms: {},
      runs: {},
      skipped: {},
    };
    for (const p of pruners) {
      const prev = last[p.name];
      const predicted = prev
        ? prev.ms * (weight.rows / prev.rows) * (weight.cols / prev.cols) ** (p.costExponent - 1)
        : 0;
      if (prev && predicted > budgetMs) {
        rec.skipped[p.name] = `predicted ${(predicted / 1000).toFixed(0)} s > budget ${
          (budgetMs / 1000).toFixed(0)
        } s`;
        s.progress(
          `compare ${weight.rows}x${weight.cols} ${p.name}: skipped, ${rec.skipped[p.name]}`,
        );
        continue;
      }
      // A pruner already run on a smaller layer is warm: do not pay a long call for warm-up.
      const warm = prev && predicted > 1000 ? { ...s.measure, warmupMs: 0 } : s.measure;
      const m = measureStable(() => p.run(weight, x, s.sparsity), warm);
      rec.ms[p.name] = m.median;
      rec.runs[p.name] = m.count;
      last[p.name] = { ms: m.median, rows: weight.rows, cols: weight.cols };
      s.progress(
        `compare ${weight.rows}x${weight.cols} ${p.name}: ${fmtMs(m.median)} (${m.count} runs)`,
      );
    }
    return rec;
  });
}
