/**
 * What `deno task prune` (`scripts/prune.ts`) prints: the run's header, the dense and pruned
 * perplexity lines, the `--compare` table, the `--verbose` lines per FISTAPruner operator and the
 * info lines of `--compare` and `--sweep`. Pure functions from a run's numbers to text; the
 * caller writes the text.
 *
 * Number formats: perplexity with 4 decimals below 100 and 2 above, percentages with 2, seconds
 * with 1 (a method's own phases, which are short, with 2).
 *
 * @module
 */
import { basename } from "node:path";
import type { SweepPoint } from "./report_html.ts";
import { methodOf, pipelineMode, type Settings } from "./prune_settings.ts";
import { nllStandardError, type PerplexityResult } from "../../src/eval/perplexity.ts";
import type { ModelConfig } from "../../src/model/family.ts";
import type { PruneModelResult } from "../../src/pipeline/prune_model.ts";
import type { RunShape } from "../../src/pipeline/run_shape.ts";

/** A perplexity evaluation and how long it took. */
export interface Evaluation {
  ppl: PerplexityResult;
  ms: number;
}

/** One method's pruning and evaluation. */
export interface MethodRun {
  method: string;
  /** The options as the report records them (target, method options, propagation mode). */
  options: Record<string, unknown>;
  result: PruneModelResult;
  ppl: PerplexityResult;
  evalMs: number;
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const fmtPpl = (x: number) => x.toFixed(x < 100 ? 4 : 2);

/** The standard error carried to perplexity (delta method: `ppl * se(nll)`), as text. */
const fmtPplSe = (p: PerplexityResult) =>
  (p.ppl * nllStandardError(p)).toFixed(p.ppl < 100 ? 4 : 2);

/** The target and, for unstructured targets, what competes under each method (its descriptor). */
function targetText(s: Settings): string {
  const t = s.target;
  if (t.kind === "nm") return `${t.n}:${t.m}`;
  const competes = (m: string) => methodOf(m).competes(t, s.methodOptions);
  const base = competes(s.methods[0]);
  const others = s.methods.filter((m) => competes(m) !== base).map((m) => `${m}: ${competes(m)}`);
  const select = s.methodOptions.select;
  return `${pct(t.sparsity)} unstructured ${base}${others.length ? ` (${others.join("; ")})` : ""}${
    select ? `, select ${select}` : ""
  }`;
}

function propagationText(s: Settings): string {
  const text = (m: string) => {
    const { denseInputs, intraLayer } = pipelineMode(s, m);
    return `${denseInputs ? "dense" : "pruned"} inputs across blocks${
      intraLayer ? ", intra-layer order" : ""
    }`;
  };
  const base = text(s.methods[0]);
  const others = s.methods.filter((m) => text(m) !== base).map((m) => `${m}: ${text(m)}`);
  return others.length ? `${base} (${others.join("; ")})` : base;
}

/** What the header says about the model and the data, besides the settings. */
export interface RunHeader {
  config: ModelConfig;
  /** Weights in the pruned linear layers. */
  prunable: number;
  shape: RunShape;
  /** Tokens of the whole calibration text. */
  calibTokens: number;
  /** Tokens evaluated (the first ones of the evaluation text). */
  evaluated: number;
  /** Tokens of the whole evaluation text. */
  evalTotal: number;
  /** Logical cores. */
  cores: number;
}

/**
 * The header of a run: model, method(s) and target, calibration, evaluation and workers.
 *
 * @param s The settings.
 * @param h The model's and the data's numbers.
 * @returns Five lines, each ending in a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSettings } from "./prune_settings.ts";
 * import { runHeaderText } from "./prune_text.ts";
 * import { tinyLlama } from "../../src/model/llama.ts";
 * const s = parseSettings(["--method", "fista", "--workers", "1"])!;
 * const shape = { seqlen: 32, nsamples: 8, evalTokens: 256 };
 * const { config } = tinyLlama({ seed: 1 });
 * const text = runHeaderText(s, { config, prunable: 960, shape, calibTokens: 5000, evaluated: 256, evalTotal: 1234, cores: 2 });
 * assert.match(text, /^method fista, target 50\.00% unstructured per operator, dense inputs across blocks, intra-layer order$/m);
 * assert.match(text, /first 256 of 1,234 tokens \(--eval-tokens 256\)\nworkers 1 \(2 logical cores\)\n$/);
 * ```
 */
export function runHeaderText(s: Settings, h: RunHeader): string {
  const c = h.config, { seqlen, nsamples, evalTokens } = h.shape;
  return `model ${s.model}\n  ${c.nLayers} blocks, dim ${c.dim}, hidden ${c.hiddenDim}, ${
    h.prunable.toLocaleString("en")
  } prunable weights\n` +
    `${s.compare ? "methods" : "method"} ${s.methods.join(", ")}, target ${targetText(s)}, ${
      propagationText(s)
    }\n` +
    `calibration ${basename(s.calib)}: ${nsamples} windows x ${seqlen} tokens (seed ${s.seed}) of ${
      h.calibTokens.toLocaleString("en")
    } tokens\n` +
    `eval ${basename(s.eval)}: seqlen ${seqlen}, first ${h.evaluated.toLocaleString("en")} of ${
      h.evalTotal.toLocaleString("en")
    } tokens (--eval-tokens ${evalTokens})\n` +
    `workers ${s.workers} (${h.cores} logical cores)\n`;
}

/**
 * The dense model's perplexity line.
 *
 * @param dense The dense evaluation.
 * @param seqlen Tokens per window.
 * @returns One line, ending in a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseText } from "./prune_text.ts";
 * const ppl = { ppl: 20, nll: Math.log(20), predicted: 62, windows: 2, windowNlls: [3, 3] };
 * assert.equal(
 *   denseText({ ppl, ms: 1500 }, 32),
 *   "dense  ppl 20.0000 ± 0.0000 (seqlen 32, 62 predicted tokens in 2 windows) 1.5 s\n",
 * );
 * ```
 */
export function denseText(dense: Evaluation, seqlen: number): string {
  return `dense  ppl ${fmtPpl(dense.ppl.ppl)} ± ${fmtPplSe(dense.ppl)} (seqlen ${seqlen}, ${
    dense.ppl.predicted.toLocaleString("en")
  } predicted tokens in ${dense.ppl.windows} windows) ${sec(dense.ms)}\n`;
}

/** A phase the method reported in `info.timesMs` (summed over layers), or "-". */
function methodSec(r: PruneModelResult, phase: string): string {
  const ms = r.methodTimesMs[phase];
  return ms === undefined ? "-" : `${(ms / 1000).toFixed(2)} s`; // short phases: 10 ms steps
}

function meanError(r: PruneModelResult): number {
  return r.layers.reduce((s, l) => s + l.error, 0) / (r.layers.length || 1);
}

/** The most rows a layer's error was estimated on (`--report-rows`), or 0 when all are exact. */
function errorSample(r: PruneModelResult): number {
  return Math.max(0, ...r.layers.map((l) => l.errorRows ?? 0));
}

/** `mean layer error E`, and when some layers' errors are estimates, on how many rows at most. */
function meanErrorText(r: PruneModelResult): string {
  const k = errorSample(r), on = k ? ` (estimated on ${k} rows per linear)` : "";
  return `mean layer error ${meanError(r).toFixed(4)}${on}`;
}

function mean(r: PruneModelResult, key: "agreeMagnitude" | "agreeWanda"): number {
  return r.layers.reduce((s, l) => s + l[key], 0) / (r.layers.length || 1);
}

/** A run's time from the first calibration forward to the end of its evaluation. */
function totalMs(run: MethodRun): number {
  const t = run.result.timesMs;
  return t.calibration + t.pruning + t.evaluation + run.evalMs;
}

/**
 * The pruned model's lines (one method, no `--compare`): perplexity, sparsity, mean layer error,
 * agreement with the magnitude and Wanda masks, then the times.
 *
 * @param run The method's run.
 * @param denseMs How long the dense evaluation took.
 * @returns Two lines, each ending in a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prunedText } from "./prune_text.ts";
 * const layer = { name: "layers.0.wq", rows: 2, cols: 2, pruned: 2, sparsity: 0.5, error: 0.25, agreeMagnitude: 1, agreeWanda: 0.5 };
 * const result = { weights: {} as never, masks: {}, layers: [layer], sparsity: 0.5, timesMs: { calibration: 1000, pruning: 2000, evaluation: 500 }, methodTimesMs: {} };
 * const ppl = { ppl: 30, nll: Math.log(30), predicted: 62, windows: 2, windowNlls: [3, 3] };
 * const [line, times] = prunedText({ method: "sparsegpt", options: {}, result, ppl, evalMs: 700 }, 600).split("\n");
 * assert.equal(line, "pruned ppl 30.0000 ± 0.0000 (sparsegpt, sparsity 50.00%, mean layer error 0.2500, agreement with magnitude 1.000, with wanda 0.500)");
 * assert.equal(times, "times: calibration forward 1.0 s, pruning 2.0 s (scoring -, selection -), layer report 0.5 s, eval 0.7 s + dense eval 0.6 s");
 * ```
 */
export function prunedText(run: MethodRun, denseMs: number): string {
  const r = run.result, t = r.timesMs;
  return `pruned ppl ${fmtPpl(run.ppl.ppl)} ± ${fmtPplSe(run.ppl)} (${run.method}, sparsity ${
    pct(r.sparsity)
  }, ${meanErrorText(r)}, ` +
    `agreement with magnitude ${mean(r, "agreeMagnitude").toFixed(3)}, with wanda ${
      mean(r, "agreeWanda").toFixed(3)
    })\n` +
    `times: calibration forward ${sec(t.calibration)}, pruning ${sec(t.pruning)} (scoring ${
      methodSec(r, "scoring")
    }, selection ${methodSec(r, "selection")}), layer report ${sec(t.evaluation)}, eval ${
      sec(run.evalMs)
    } + dense eval ${sec(denseMs)}\n`;
}

/**
 * The info line of `--compare` after each method: its perplexity and total time.
 *
 * @param run The method's run.
 * @returns The line, without a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareProgressText } from "./prune_text.ts";
 * const result = { timesMs: { calibration: 1000, pruning: 2000, evaluation: 500 } } as never;
 * const ppl = { ppl: 123.456 } as never;
 * assert.equal(compareProgressText({ method: "wanda", options: {}, result, ppl, evalMs: 700 }), "wanda: ppl 123.46 in 4.2 s");
 * ```
 */
export function compareProgressText(run: MethodRun): string {
  return `${run.method}: ppl ${fmtPpl(run.ppl.ppl)} in ${sec(totalMs(run))}`;
}

/**
 * The info line of `--sweep` after each sparsity: every method's perplexity there.
 *
 * @param point The sweep's point.
 * @returns The line, without a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sweepText } from "./prune_text.ts";
 * const methods = [{ method: "wanda", ppl: 12.5, sparsity: 0.3, pruning_ms: 5 }];
 * assert.equal(sweepText({ sparsity: 0.3, methods }), "sweep 30.00%: wanda 12.5000");
 * ```
 */
export function sweepText(point: SweepPoint): string {
  return `sweep ${pct(point.sparsity)}: ${
    point.methods.map((m) => `${m.method} ${fmtPpl(m.ppl)}`).join(", ")
  }`;
}

/**
 * `--verbose`: the lines the method's descriptor writes about each layer's diagnostics
 * (`infoLines`; FISTAPruner: lambdas, objective, `E_round / E_total`, errors), after the layer's name.
 *
 * @param run The method's run (layers without `info`, or a method without `infoLines`, give none).
 * @returns The lines, without newlines.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { infoLines } from "./prune_text.ts";
 * const info = { method: "fista", lambdas: [0.01], objectives: [[4, 2]], iterations: [20], ratio: [0.5], outputEnergy: 10, sparsity: 0.5, layerError: 1, warmStartLayerError: 2, bestRun: 0 };
 * const result = { layers: [{ name: "layers.0.wq", info }, { name: "layers.0.wk" }] } as never;
 * assert.deepEqual(infoLines({ method: "fista", options: {}, result, ppl: {} as never, evalMs: 0 }), [
 *   "  layers.0.wq    sparsity 50.00%, rel err 0.10000 vs warm start 0.20000 (best run 0); lambda 1.00e-2: obj 4.00e+0->2.00e+0 (20 it), Er/Et 0.500",
 * ]);
 * assert.deepEqual(infoLines({ method: "wanda", options: {}, result, ppl: {} as never, evalMs: 0 }), []);
 * ```
 */
export function infoLines(run: MethodRun): string[] {
  const method = methodOf(run.method);
  if (method.infoLines === undefined) return [];
  return run.result.layers.flatMap((l) =>
    l.info === undefined
      ? []
      : method.infoLines!(l.info).map((line) => `  ${l.name.padEnd(14)} ${line}`)
  );
}

/** The `--compare` table's columns: method and quality, then the times. */
const COMPARE_HEAD = [
  "method",
  "ppl",
  "± se",
  "sparsity",
  "mean err",
  "agree mag",
  "agree wanda",
  "calib",
  "score",
  "select",
  "prune",
  "report",
  "eval",
  "total",
];

function compareRow(r: MethodRun): string[] {
  const t = r.result.timesMs;
  return [
    r.method,
    fmtPpl(r.ppl.ppl),
    fmtPplSe(r.ppl),
    pct(r.result.sparsity),
    (errorSample(r.result) ? "~" : "") + meanError(r.result).toFixed(4), // ~: an estimate
    mean(r.result, "agreeMagnitude").toFixed(3),
    mean(r.result, "agreeWanda").toFixed(3),
    sec(t.calibration),
    methodSec(r.result, "scoring"),
    methodSec(r.result, "selection"),
    sec(t.pruning),
    sec(t.evaluation),
    sec(r.evalMs),
    sec(totalMs(r)),
  ];
}

/**
 * The `--compare` table: a header, the dense model, then one row per method (the method name
 * left-aligned, every other column right-aligned, two spaces between columns).
 *
 * @param dense The dense model's perplexity.
 * @param runs The methods' runs, in the order to show.
 * @returns The table, without a final newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareTable } from "./prune_text.ts";
 * const ppl = (x: number) => ({ ppl: x, nll: Math.log(x), predicted: 62, windows: 2, windowNlls: [3, 3] });
 * const layers = [{ name: "layers.0.wq", rows: 2, cols: 2, pruned: 2, sparsity: 0.5, error: 0.25, agreeMagnitude: 1, agreeWanda: 0.5 }];
 * const result = { weights: {} as never, masks: {}, layers, sparsity: 0.5, timesMs: { calibration: 1000, pruning: 2000, evaluation: 500 }, methodTimesMs: { scoring: 20 } };
 * const runs = ["magnitude", "wanda"].map((method, i) => ({ method, options: {}, result, ppl: ppl(30 + i), evalMs: 700 }));
 * const lines = compareTable(ppl(20), runs).split("\n");
 * assert.equal(lines.length, 4);
 * assert.match(lines[0], /^method {9}ppl {4}± se  sparsity  mean err/);
 * assert.match(lines[1], /^dense {6}20\.0000  0\.0000 {5}0\.00% {9}- /);
 * assert.match(lines[3], /^wanda {6}31\.0000  0\.0000 {4}50\.00% {4}0\.2500 {6}1\.000 {8}0\.500  1\.0 s  0\.02 s {7}-  2\.0 s   0\.5 s  0\.7 s  4\.2 s$/);
 * ```
 */
export function compareTable(dense: PerplexityResult, runs: MethodRun[]): string {
  const rows = [[
    "dense",
    fmtPpl(dense.ppl),
    fmtPplSe(dense),
    pct(0),
    ...Array(COMPARE_HEAD.length - 4).fill("-"),
  ], ...runs.map(compareRow)];
  const widths = COMPARE_HEAD.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(COMPARE_HEAD), ...rows.map(line)].join("\n");
}

/**
 * The `--sweep` table printed at the end of a run: a row per method, a column per sparsity, the
 * perplexity in each cell (the same numbers as the report's `sweep` and the page's chart).
 *
 * @param dense The dense perplexity (the 0% column).
 * @param sweep The sweep's points, in the order run.
 * @returns The table, without a final newline ("" without points).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sweepTable } from "./prune_text.ts";
 * const at = (sparsity: number, ppl: number) => ({
 *   sparsity,
 *   methods: [{ method: "wanda", ppl, sparsity, pruning_ms: 1 }],
 * });
 * assert.equal(
 *   sweepTable(4, [at(0.5, 12.5), at(0.3, 5)]),
 *   "ppl by sparsity      0%     30%      50%\n" +
 *     "wanda            4.0000  5.0000  12.5000",
 * );
 * ```
 */
export function sweepTable(dense: number, sweep: SweepPoint[]): string {
  if (sweep.length === 0) return "";
  const points = [...sweep].sort((a, b) => a.sparsity - b.sparsity);
  const methods = points[0].methods.map((m) => m.method);
  const head = [
    "ppl by sparsity",
    "0%",
    ...points.map((p) => `${+(100 * p.sparsity).toFixed(2)}%`),
  ];
  const rows = methods.map((method) => [
    method,
    fmtPpl(dense),
    ...points.map((p) => {
      const m = p.methods.find((x) => x.method === method);
      return m ? fmtPpl(m.ppl) : "-";
    }),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(head), ...rows.map(line)].join("\n");
}
