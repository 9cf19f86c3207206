/**
 * `deno task prune`: prune a real Llama checkpoint end to end and report dense vs pruned perplexity.
 *
 * With no arguments: stories260K at 50% (per row) with SwiftPrune, calibrated on the C4 head and
 * evaluated on the TinyStories head (paths relative to the repository root, so any cwd works).
 * `--help` lists the flags. Protocol: docs/algorithms.md §4; the pipeline is
 * `src/pipeline/prune_model.ts`, perplexity `src/eval/perplexity.ts`.
 *
 * Defaults that depend on the model (always printed): `seqlen = min(256, model seq_len)`;
 * `nsamples` and the evaluation cap are set from a work budget in weight-token products (prunable
 * weights x tokens): about 1e9 for calibration and 2e9 for evaluation, at least 8 windows each, at
 * most 128 calibration windows. On stories260K this is 17 x 256 calibration tokens and 8,704 eval
 * tokens; on llama4m 8 x 256 and 2,048 (the models README's reference window count).
 * These are quick defaults: for comparing methods on llama4m use 64 calibration windows and the C4
 * validation head for evaluation (`docs/fista-llama4m.md`: the recipe, its runs and why).
 *
 * Uses `node:` built-ins only (runs on Deno and Bun).
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { existsSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  checkWorkerPermission,
  CliError,
  type CliIo,
  parseFlags,
  PROCESS_IO,
  progressBar,
  runCli,
} from "./lib/cli.ts";
import {
  fileByteSource,
  readBytes,
  UnsafeWriteError,
  writeDirAtomic,
  writeFileAtomic,
} from "./lib/files.ts";
import type { PerplexityResult } from "../src/eval/perplexity.ts";
import {
  pairwiseAgreement,
  parseSweep,
  renderReportHtml,
  type SweepPoint,
} from "./lib/report_html.ts";
import { perplexityParallel, shareWeights } from "../src/parallel/forward_parallel.ts";
import {
  createPool,
  defaultPoolSize,
  type Pool,
  sharedMemoryAvailable,
} from "../src/parallel/pool.ts";
import { pruneModelParallel } from "../src/parallel/prune_model_parallel.ts";
import { llamaFromHfReader, llamaToHf, permuteForHfRope } from "../src/io/hf_llama.ts";
import { readLlama2c } from "../src/io/llama2c.ts";
import { assertFiniteWeights, NonFiniteInputError } from "../src/check/finite.ts";
import { openSafetensors, safetensorsChunks } from "../src/io/safetensors.ts";
import { encoderStream, readTokenizer, type Tokenizer } from "../src/io/tokenizer.ts";
import type { LinearName, LlamaWeights } from "../src/model/weights.ts";
import { corpusPieces, sampleWindows } from "../src/pipeline/calibration.ts";
import { METHOD_FLAGS, methodFlagsHelp, methodOptionsFromFlags } from "./lib/method_flags.ts";
import { collectGarbage, megabytes, peakResidentBytes, PeakTracker } from "./lib/memory.ts";
import type { PruneModelResult } from "../src/pipeline/prune_model.ts";
import { methodNames, type MethodOptions, METHODS } from "../src/prune/methods.ts";
import type { SelectMode, Target } from "../src/prune/types.ts";

/** The repository root (this file is `scripts/prune.ts`). */
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SHARED = resolve(ROOT, "../shared");

/** Default inputs, relative to the repository root. */
export const DEFAULTS = {
  model: resolve(SHARED, "models/stories260K/stories260K.bin"),
  tokenizer: resolve(SHARED, "models/stories260K/tok512.bin"),
  calib: resolve(SHARED, "text/c4/c4-train.00000-of-01024.head1041.jsonl"),
  eval: resolve(SHARED, "text/tinystories/TinyStories-validation-head.txt"),
  method: "swiftprune",
  sparsity: 0.5,
  seed: 0,
};
/** Weight-token budgets that set the default `nsamples` and `--eval-tokens` (see the module doc). */
const CALIB_BUDGET = 1e9, EVAL_BUDGET = 2e9;
/** Methods whose paper prunes with dense inputs across blocks and intra-layer correction. */
const PIPELINE_DEFAULTS: Record<string, { denseInputs?: boolean; intraLayer?: boolean }> = {
  fista: { denseInputs: true, intraLayer: true },
};

const FLAGS = {
  model: { type: "string" },
  tokenizer: { type: "string" },
  method: { type: "string" },
  sparsity: { type: "string" },
  pattern: { type: "string" },
  group: { type: "string" },
  select: { type: "string" },
  calib: { type: "string" },
  eval: { type: "string" },
  "eval-tokens": { type: "string" },
  nsamples: { type: "string" },
  seqlen: { type: "string" },
  seed: { type: "string" },
  "dense-inputs": { type: "boolean" },
  "intra-layer": { type: "boolean" },
  out: { type: "string" },
  force: { type: "boolean" },
  report: { type: "string" },
  compare: { type: "boolean" },
  html: { type: "string" },
  sweep: { type: "string" },
  quiet: { type: "boolean" },
  workers: { type: "string" },
  verbose: { type: "boolean" },
  ...METHOD_FLAGS,
  help: { type: "boolean" },
  "allow-nonfinite": { type: "boolean" },
} as const;

const HELP =
  `deno task prune [flags]   prune a Llama checkpoint and compare dense vs pruned perplexity
  --model PATH        llama2.c .bin or HF folder (config.json + model.safetensors) [stories260K]
  --tokenizer PATH    llama2.c tokenizer.bin [tok512.bin next to stories260K]
  --method NAME       ${methodNames().join(" | ")} [${DEFAULTS.method}]
  --sparsity S        unstructured sparsity in [0, 1) [0.5]      --pattern N:M   e.g. 2:4
  --group row|layer   which weights compete (unstructured) [row]
  --select MODE       sort | ewma | ewma-exact (score-then-select methods) [method default]
  --calib FILE        calibration text, C4 jsonl or plain [C4 train head]
  --eval FILE         evaluation text [TinyStories validation head]
  --eval-tokens N     evaluate on the first N tokens [budget: 2e9 / prunable weights]
  --nsamples N        calibration windows [budget: 1e9 / (prunable weights x seqlen)]
  --seqlen N          tokens per calibration and evaluation window [min(256, model seq_len)]
  --seed N            seed of the calibration windows [0]
  --dense-inputs      feed each block the dense model's activations [fista: on, others: off]
  --intra-layer       q,k,v -> o -> w1,w3 -> w2 with inputs X* from the pruned operators [fista: on]
  --out DIR           write HF Llama config.json + model.safetensors + masks.safetensors
  --force             replace existing files in --out / --report / --html
  --report FILE.json  write the run (and per-layer numbers) as JSON
  --compare           every method on the same calibration windows, one table
  --html FILE.html    write the report as a self-contained HTML page (charts in inline SVG)
  --sweep S1,S2,...   also run every method at these sparsities (the page's ppl-vs-sparsity curve)
  --allow-nonfinite   prune even if a weight or calibration input is NaN or infinite [refuse, naming it]
  --workers N         worker threads for calibration, row-parallel pruning and eval; 1 = none [all cores]
  --verbose           memory after each phase; one line per operator for fista (lambdas, objective, E_round/E_total, errors)
  --quiet             no progress bars or info lines      --debug   stack traces on errors
method options (the methods that do not use one ignore it):
${methodFlagsHelp(20)}`;

/** The run's settings after defaults. */
interface Settings {
  model: string;
  tokenizer: string;
  methods: string[];
  target: Target;
  select?: SelectMode;
  /** Method options from the method flags (`--iterations`, `--warm-start`, ...). */
  methodOptions: MethodOptions;
  calib: string;
  eval: string;
  evalTokens?: number;
  nsamples?: number;
  seqlen?: number;
  seed: number;
  denseInputs?: boolean;
  intraLayer?: boolean;
  out?: string;
  force: boolean;
  report?: string;
  compare: boolean;
  html?: string;
  sweep?: number[];
  allowNonfinite: boolean;
  quiet: boolean;
  verbose: boolean;
  workers: number;
}

function intFlag(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new CliError(`--${name} must be an integer >= ${min}, got "${value}"`);
  }
  return n;
}

/** Fuzz-found (#8): `--workers 1e9` made a pool of 1e9 slots (out of memory); refuse it first. */
const MAX_WORKERS = 256;
function workersFlag(value: string | undefined): number {
  const n = intFlag(value, "workers", 1) ?? defaultPoolSize();
  if (n > MAX_WORKERS) {
    throw new CliError(`--workers must be at most ${MAX_WORKERS}, got "${value}"`);
  }
  return n;
}

function parseTarget(v: { sparsity?: string; pattern?: string; group?: string }): Target {
  if (v.pattern !== undefined) {
    if (v.sparsity !== undefined) throw new CliError("--sparsity and --pattern exclude each other");
    const m = /^(\d+):(\d+)$/.exec(v.pattern);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) {
      throw new CliError(`--pattern must be N:M with 1 <= N <= M, e.g. 2:4, got "${v.pattern}"`);
    }
    return { kind: "nm", n: Number(m[1]), m: Number(m[2]) };
  }
  const sparsity = v.sparsity === undefined ? DEFAULTS.sparsity : Number(v.sparsity);
  if (!(sparsity >= 0 && sparsity < 1)) {
    throw new CliError(`--sparsity must be in [0, 1), got "${v.sparsity}"`);
  }
  const group = v.group ?? "row";
  if (group !== "row" && group !== "layer") {
    throw new CliError(`--group must be row or layer, got "${group}"`);
  }
  return { kind: "unstructured", sparsity, group };
}

function parseSettings(argv: string[]): Settings | undefined {
  const v = parseFlags(argv, FLAGS);
  if (v.help) return undefined;
  const names = methodNames();
  const method = v.method ?? DEFAULTS.method;
  if (!v.compare && !names.includes(method)) {
    throw new CliError(`--method must be one of ${names.join(", ")}, got "${method}"`);
  }
  if (v.select !== undefined && !["sort", "ewma", "ewma-exact"].includes(v.select)) {
    throw new CliError(`--select must be sort, ewma or ewma-exact, got "${v.select}"`);
  }
  return {
    model: v.model ?? DEFAULTS.model,
    tokenizer: v.tokenizer ?? DEFAULTS.tokenizer,
    methods: v.compare ? names : [method],
    target: parseTarget(v),
    select: v.select as SelectMode | undefined,
    methodOptions: methodOptionsFromFlags(v),
    calib: v.calib ?? DEFAULTS.calib,
    eval: v.eval ?? DEFAULTS.eval,
    evalTokens: intFlag(v["eval-tokens"], "eval-tokens", 2),
    nsamples: intFlag(v.nsamples, "nsamples", 1),
    seqlen: intFlag(v.seqlen, "seqlen", 2),
    seed: intFlag(v.seed, "seed", 0) ?? DEFAULTS.seed,
    denseInputs: v["dense-inputs"],
    intraLayer: v["intra-layer"],
    out: v.out,
    force: v.force ?? false,
    report: v.report,
    compare: v.compare ?? false,
    html: v.html,
    sweep: v.sweep === undefined ? undefined : parseSweep(v.sweep),
    allowNonfinite: v["allow-nonfinite"] ?? false,
    quiet: v.quiet ?? false,
    verbose: v.verbose ?? false,
    workers: workersFlag(v.workers),
  };
}

// ---------------------------------------------------------------------------------------------
// inputs

async function loadModel(path: string, shared: boolean): Promise<LlamaWeights> {
  if (!existsSync(path)) {
    const where = path === DEFAULTS.model
      ? `the default model was looked for at ${path} (../shared/models/stories260K/stories260K.bin from the repository root ${ROOT})`
      : `no model at ${resolve(path)}`;
    throw new CliError(
      `Cannot load the model: ${where}; pass --model PATH (a llama2.c .bin or an HF folder with config.json + model.safetensors)`,
    );
  }
  // the weights are views of the file's bytes: one copy of the model in memory, not two (item 6)
  // (in shared memory when workers will use it: then shareWeights below copies nothing)
  if (!statSync(path).isDirectory()) {
    return readLlama2c(await readBytes(path, { shared }), { view: true });
  }
  const configPath = join(path, "config.json"), tensorsPath = join(path, "model.safetensors");
  for (const p of [configPath, tensorsPath]) {
    if (!existsSync(p)) {
      throw new CliError(`Cannot load the HF model folder ${path}: ${basename(p)} is missing`);
    }
  }
  let config: unknown;
  try {
    config = JSON.parse(await readFile(configPath, "utf8"));
  } catch (e) {
    throw new CliError(`Cannot load ${configPath}: ${(e as Error).message}`);
  }
  const source = await fileByteSource(tensorsPath); // tensors are read one at a time (item 6)
  try {
    return await llamaFromHfReader(config, await openSafetensors(source, { source: tensorsPath }));
  } finally {
    await source.close();
  }
}

/** Refuses NaN or infinity in any weight, naming the model file, the tensor and the index. */
function checkFiniteModel(weights: LlamaWeights, path: string): void {
  try {
    assertFiniteWeights(weights);
  } catch (e) {
    throw new RangeError(`${(e as Error).message} in ${path} (--allow-nonfinite prunes anyway)`);
  }
}

async function readInput(path: string, flag: string): Promise<Uint8Array> {
  if (!existsSync(path) || statSync(path).isDirectory()) {
    throw new CliError(`Cannot read --${flag} file: no file at ${resolve(path)}`);
  }
  return await readBytes(path);
}

/** Encodes a corpus file (C4 jsonl or plain text) once, with BOS, a document at a time. */
async function encodeCorpus(tok: Tokenizer, path: string, flag: string): Promise<Int32Array> {
  const encoder = encoderStream(tok, { bos: true, eos: false });
  let pieces = 0;
  for (const piece of corpusPieces(await readInput(path, flag), { fileName: path })) {
    encoder.push(piece); // the corpus is never one string: memory (issue #8 item 6)
    if (++pieces % 256 === 0) collectGarbage(); // JavaScriptCore (Bun) lets strings pile up
  }
  return encoder.finish();
}

function prunableWeights(weights: LlamaWeights): number {
  const names: LinearName[] = ["wq", "wk", "wv", "wo", "w1", "w3", "w2"];
  return weights.blocks.reduce((s, b) => s + names.reduce((t, n) => t + b[n].data.length, 0), 0);
}

/** Fills in the model-dependent defaults (see the module doc). */
function runShape(
  s: Settings,
  weights: LlamaWeights,
): { seqlen: number; nsamples: number; evalTokens: number } {
  const seqlen = s.seqlen ?? Math.min(256, weights.config.seqLen);
  const perWindow = prunableWeights(weights) * seqlen;
  const nsamples = s.nsamples ?? Math.min(128, Math.max(8, Math.floor(CALIB_BUDGET / perWindow)));
  const evalTokens = s.evalTokens ?? seqlen * Math.max(8, Math.floor(EVAL_BUDGET / perWindow));
  return { seqlen, nsamples, evalTokens };
}

/**
 * Fuzz-found (#8): `--nsamples 1e9` ran out of memory drawing the windows. Refuse, before any
 * allocation, calibration whose largest array (one block's captured inputs: every calibration
 * token x the widest layer input, float32) would exceed 2^32 floats (16 GiB).
 */
function checkCalibrationSize(nsamples: number, seqlen: number, weights: LlamaWeights): void {
  const widest = Math.max(weights.config.dim, weights.config.hiddenDim);
  if (nsamples * seqlen * widest > 2 ** 32) {
    throw new CliError(
      `Cannot calibrate: --nsamples ${nsamples} x --seqlen ${seqlen} tokens x ${widest} (widest layer input) is over 2^32 floats (16 GiB); lower --nsamples or --seqlen`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// running

/** One method's pruning and evaluation. */
interface MethodRun {
  method: string;
  options: Record<string, unknown>;
  result: PruneModelResult;
  ppl: PerplexityResult;
  evalMs: number;
}

/** A NaN or infinity among the calibration inputs: the error, with the flag that proceeds. */
async function nonFiniteHint<T>(run: Promise<T>): Promise<T> {
  try {
    return await run;
  } catch (e) {
    if (!(e instanceof NonFiniteInputError)) throw e;
    throw new NonFiniteInputError(`${e.message} (--allow-nonfinite prunes anyway)`);
  }
}

async function runMethod(
  pool: Pool | undefined,
  method: string,
  weights: LlamaWeights,
  windows: Int32Array[],
  s: Settings,
  evaluate: (w: LlamaWeights, label: string) => Promise<{ ppl: PerplexityResult; ms: number }>,
  bar: (done: number, total: number, label?: string) => void,
  inPlace = false,
): Promise<MethodRun> {
  const { denseInputs, intraLayer } = pipelineMode(s, method);
  const methodOptions: MethodOptions = {
    ...(s.select ? { select: s.select } : {}),
    ...s.methodOptions,
  };
  const result = await nonFiniteHint(pruneModelParallel(pool, weights, windows, {
    allowNonFinite: s.allowNonfinite,
    method: METHODS[method],
    methodOptions,
    target: s.target,
    denseInputs,
    intraLayer,
    inPlace, // the dense model is not needed after this run: prune it in place (item 6)
    keepMasks: s.out !== undefined || (s.html !== undefined && s.methods.length > 1),
    releaseArrays: true, // the registered methods keep no references
    onProgress: (done, total, label) => {
      // between blocks, what release() did not free goes now, not 64 MB later (scripts/lib/memory.ts)
      if (label?.startsWith("block")) collectGarbage();
      bar(done, total, `${method}: ${label ?? ""}`);
    },
  }));
  collectGarbage();
  const { ppl, ms } = await evaluate(result.weights, `eval ${method}`);
  const options = {
    target: s.target,
    ...methodOptions,
    dense_inputs: denseInputs,
    intra_layer: intraLayer,
  };
  return { method, options, result, ppl, evalMs: ms };
}

function meanError(r: PruneModelResult): number {
  return r.layers.reduce((s, l) => s + l.error, 0) / (r.layers.length || 1);
}

function mean(r: PruneModelResult, key: "agreeMagnitude" | "agreeWanda"): number {
  return r.layers.reduce((s, l) => s + l[key], 0) / (r.layers.length || 1);
}

// ---------------------------------------------------------------------------------------------
// outputs

function methodEntry(run: MethodRun): Record<string, unknown> {
  const r = run.result;
  return {
    method: run.method,
    options: run.options,
    pruned: {
      ppl: run.ppl.ppl,
      nll: run.ppl.nll,
      nll_se: nllStandardError(run.ppl),
      window_nlls: run.ppl.windowNlls,
      sparsity: r.sparsity,
    },
    layers: r.layers.map((l) => ({
      name: l.name,
      rows: l.rows,
      cols: l.cols,
      sparsity: l.sparsity,
      error: l.error,
      ...(l.errorPruned === undefined ? {} : { error_pruned: l.errorPruned }),
      agree_magnitude: l.agreeMagnitude,
      agree_wanda: l.agreeWanda,
      ...(l.info === undefined ? {} : { info: l.info }),
    })),
    times_ms: {
      calibration: r.timesMs.calibration,
      pruning: r.timesMs.pruning,
      eval: run.evalMs,
      layer_report: r.timesMs.evaluation,
      ...(Object.keys(r.methodTimesMs).length ? { method: r.methodTimesMs } : {}),
    },
  };
}

/** HF names of the linears inside `model.layers.N.` (transformers' LlamaForCausalLM). */
const HF_LINEAR: Record<LinearName, string> = {
  wq: "self_attn.q_proj",
  wk: "self_attn.k_proj",
  wv: "self_attn.v_proj",
  wo: "self_attn.o_proj",
  w1: "mlp.gate_proj",
  w3: "mlp.up_proj",
  w2: "mlp.down_proj",
};

/** Masks under the HF weight names, U8 (1 = keep), q/k rows permuted like the weights. */
function hfMaskEntries(weights: LlamaWeights, masks: Record<string, Uint8Array>) {
  const c = weights.config;
  return weights.blocks.flatMap((b, l) =>
    (Object.keys(HF_LINEAR) as LinearName[]).map((name) => {
      const { rows, cols } = b[name];
      let keep = masks[`layers.${l}.${name}`];
      if (name === "wq" || name === "wk") {
        const asFloat = { data: Float32Array.from(keep), rows, cols };
        keep = Uint8Array.from(
          permuteForHfRope(asFloat, name === "wq" ? c.nHeads : c.nKvHeads).data,
        );
      }
      return {
        name: `model.layers.${l}.${HF_LINEAR[name]}.weight`,
        dtype: "U8" as const,
        shape: [rows, cols],
        data: keep,
      };
    })
  );
}

async function writeOut(
  dir: string,
  run: MethodRun,
  s: Settings,
  inputs: string[],
): Promise<string[]> {
  const hf = llamaToHf(run.result.weights);
  const meta = {
    format: "pt",
    secateur_mask: "1 = keep, 0 = pruned",
    method: run.method,
    target: JSON.stringify(s.target),
  };
  const files = {
    "config.json": new TextEncoder().encode(JSON.stringify(hf.config, null, 2) + "\n"),
    "model.safetensors": safetensorsChunks(hf.entries, hf.metadata),
    "masks.safetensors": safetensorsChunks(
      hfMaskEntries(run.result.weights, run.result.masks),
      meta,
    ),
  };
  return await safeWrite(() => writeDirAtomic(dir, files, { force: s.force, inputs }));
}

async function safeWrite<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (e instanceof UnsafeWriteError) throw new CliError(e.message);
    throw e;
  }
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const fmtPpl = (x: number) => x.toFixed(x < 100 ? 4 : 2);

/** Standard error of the mean NLL over the eval windows (sample sd / sqrt(windows)); 0 for one. */
function nllStandardError(p: PerplexityResult): number {
  const n = p.windowNlls.length;
  if (n < 2) return 0;
  const m = p.windowNlls.reduce((a, b) => a + b, 0) / n;
  const ss = p.windowNlls.reduce((a, b) => a + (b - m) ** 2, 0);
  return Math.sqrt(ss / (n - 1) / n);
}
/** The standard error carried to perplexity (delta method: `ppl * se(nll)`), as text. */
const fmtPplSe = (p: PerplexityResult) =>
  (p.ppl * nllStandardError(p)).toFixed(p.ppl < 100 ? 4 : 2);

function targetText(t: Target, select?: SelectMode): string {
  if (t.kind === "nm") return `${t.n}:${t.m}`;
  return `${pct(t.sparsity)} unstructured per ${t.group}${select ? `, select ${select}` : ""}`;
}

/** Whether `method` runs with dense inputs and the intra-layer order (flags, else its paper's way). */
function pipelineMode(s: Settings, method: string): { denseInputs: boolean; intraLayer: boolean } {
  const d = PIPELINE_DEFAULTS[method] ?? {};
  return {
    denseInputs: s.denseInputs ?? d.denseInputs ?? false,
    intraLayer: s.intraLayer ?? d.intraLayer ?? false,
  };
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

/** A phase the method reported in `info.timesMs` (summed over layers), or "-". */
function methodSec(r: PruneModelResult, phase: string): string {
  const ms = r.methodTimesMs[phase];
  return ms === undefined ? "-" : `${(ms / 1000).toFixed(2)} s`; // short phases: 10 ms steps
}

/**
 * One line per FISTAPruner operator (from `layers[].info`): the lambdas of the T runs, the
 * objective at the first and last iteration of each run (iterations used), `E_round / E_total`
 * per run, the achieved sparsity, and the relative layer error against the warm start's.
 */
function fistaLines(run: MethodRun): string[] {
  const e = (x: number) => x.toExponential(2);
  return run.result.layers.flatMap((l) => {
    const i = l.info as Record<string, unknown> | undefined;
    if (i?.method !== "fista") return [];
    const lambdas = i.lambdas as number[], objectives = i.objectives as number[][];
    const iterations = i.iterations as number[], ratio = i.ratio as number[];
    const energy = (i.outputEnergy as number) || 1;
    const runs = lambdas.map((lam, r) => {
      const o = objectives[r];
      return `${e(lam)}: obj ${e(o[0])}->${e(o[o.length - 1])} (${iterations[r]} it), ` +
        `Er/Et ${ratio[r].toFixed(3)}`;
    });
    return [
      `  ${l.name.padEnd(14)} sparsity ${pct(i.sparsity as number)}, rel err ${
        ((i.layerError as number) / energy).toFixed(5)
      } vs warm start ${
        ((i.warmStartLayerError as number) / energy).toFixed(5)
      } (best run ${i.bestRun}); lambda ${runs.join("; ")}`,
    ];
  });
}

function compareTable(dense: PerplexityResult, runs: MethodRun[]): string {
  const head = [
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
  const rows = [[
    "dense",
    fmtPpl(dense.ppl),
    fmtPplSe(dense),
    pct(0),
    ...Array(head.length - 4).fill("-"),
  ]];
  for (const r of runs) {
    const t = r.result.timesMs;
    rows.push([
      r.method,
      fmtPpl(r.ppl.ppl),
      fmtPplSe(r.ppl),
      pct(r.result.sparsity),
      meanError(r.result).toFixed(4),
      mean(r.result, "agreeMagnitude").toFixed(3),
      mean(r.result, "agreeWanda").toFixed(3),
      sec(t.calibration),
      methodSec(r.result, "scoring"),
      methodSec(r.result, "selection"),
      sec(t.pruning),
      sec(t.evaluation),
      sec(r.evalMs),
      sec(t.calibration + t.pruning + t.evaluation + r.evalMs),
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(head), ...rows.map(line)].join("\n");
}

/**
 * Encodes the calibration and evaluation texts and keeps only what the run uses: the sampled
 * windows and the evaluated prefix (the texts and full id arrays can be collected on return).
 */
async function tokenize(
  s: Settings,
  tok: Tokenizer,
  shape: { seqlen: number; nsamples: number; evalTokens: number },
): Promise<{ windows: Int32Array[]; calibTokens: number; evalIds: Int32Array; evalTotal: number }> {
  const { seqlen, nsamples, evalTokens } = shape;
  const calibIds = await encodeCorpus(tok, s.calib, "calib");
  const windows = sampleWindows(calibIds, { nsamples, seqlen, seed: s.seed });
  const allEval = await encodeCorpus(tok, s.eval, "eval");
  const evalIds = allEval.slice(0, evalTokens); // perplexity reads only the first evalTokens ids
  if (evalIds.length < seqlen) {
    throw new CliError(
      `Cannot evaluate: ${evalIds.length} eval tokens (--eval-tokens ${evalTokens}, text ${allEval.length}) do not fill one window of --seqlen ${seqlen}`,
    );
  }
  return { windows, calibTokens: calibIds.length, evalIds, evalTotal: allEval.length };
}

// ---------------------------------------------------------------------------------------------
// main

async function prune(argv: string[], io: CliIo): Promise<number> {
  const s = parseSettings(argv);
  if (s === undefined) {
    io.stdout(`${HELP}\n`);
    return 0;
  }
  if (s.compare && s.out) {
    throw new CliError("--out writes one pruned model; drop --compare or --out");
  }
  if (s.sweep && s.target.kind !== "unstructured") {
    throw new CliError("--sweep varies the unstructured sparsity; drop --pattern");
  }
  checkWorkerPermission(s.workers); // before any work: workers load their code from src/
  // fuzz-found (#8): one output must not replace another (--report F --html F lost the report)
  const hfOut = ["config.json", "model.safetensors", "masks.safetensors"];
  const outputs = [...(s.out ? hfOut.map((n) => join(s.out!, n)) : []), s.report, s.html]
    .filter((f) => f !== undefined).map((f) => resolve(f));
  const twice = outputs.find((f, i) => outputs.indexOf(f) !== i);
  if (twice) {
    throw new CliError(
      `Cannot write "${twice}" twice: --out, --report, --html name different files`,
    );
  }
  const bar = progressBar(io, s.quiet);
  const memory = (phase: string) =>
    // --verbose: where the memory goes (resident now and peak)
    void (s.verbose && io.stdout(
      `memory after ${phase}: resident ${megabytes(process.memoryUsage().rss)}, peak ${
        megabytes(peakResidentBytes())
      }\n`,
    ));
  const info = (text: string) => void (!s.quiet && io.isTTY && io.stderr(`${text}\n`)); // like the bars
  const peak = new PeakTracker(); // notes the resident set at start: the runtime and the modules
  memory("start");
  let weights = await loadModel(s.model, s.workers > 1 && sharedMemoryAvailable());
  memory("loading the model");
  if (!s.allowNonfinite) checkFiniteModel(weights, s.model);
  const tok = readTokenizer(await readInput(s.tokenizer, "tokenizer"));
  const { seqlen, nsamples, evalTokens } = runShape(s, weights);
  checkCalibrationSize(nsamples, seqlen, weights);
  info(`encoding ${basename(s.calib)} and ${basename(s.eval)} ...`);
  const { windows, calibTokens, evalIds, evalTotal } = await tokenize(s, tok, {
    seqlen,
    nsamples,
    evalTokens,
  });

  const c = weights.config;
  io.stdout(
    `model ${s.model}\n  ${c.nLayers} blocks, dim ${c.dim}, hidden ${c.hiddenDim}, ${
      prunableWeights(weights).toLocaleString("en")
    } prunable weights\n` +
      `${s.compare ? "methods" : "method"} ${s.methods.join(", ")}, target ${
        targetText(s.target, s.select)
      }, ${propagationText(s)}\n` +
      `calibration ${
        basename(s.calib)
      }: ${nsamples} windows x ${seqlen} tokens (seed ${s.seed}) of ${
        calibTokens.toLocaleString("en")
      } tokens\n` +
      `eval ${basename(s.eval)}: seqlen ${seqlen}, first ${
        evalIds.length.toLocaleString("en")
      } of ${evalTotal.toLocaleString("en")} tokens (--eval-tokens ${evalTokens})\n` +
      `workers ${s.workers} (${defaultPoolSize()} logical cores)\n`,
  );
  // workers for the calibration forwards, row-parallel pruning and evaluation; closed on return
  using pool = s.workers > 1 ? createPool({ size: s.workers }) : undefined;
  if (pool) weights = shareWeights(weights); // once, so that no task copies it (the bytes go now)
  collectGarbage(); // the texts, the full id arrays, the unshared model
  memory("tokenizing");
  const evaluate = async (w: LlamaWeights, label: string) => {
    const t0 = performance.now();
    const ppl = await perplexityParallel(pool, w, evalIds, {
      seqlen,
      maxTokens: evalTokens,
      onProgress: (d, t) => bar(d, t, label),
    });
    return { ppl, ms: performance.now() - t0 };
  };
  const dense = await evaluate(weights, "eval dense");
  collectGarbage();
  memory("the dense eval");
  io.stdout(
    `dense  ppl ${fmtPpl(dense.ppl.ppl)} ± ${fmtPplSe(dense.ppl)} (seqlen ${seqlen}, ${
      dense.ppl.predicted.toLocaleString("en")
    } predicted tokens in ${dense.ppl.windows} windows) ${sec(dense.ms)}\n`,
  );

  const runs: MethodRun[] = [];
  const masks: Record<string, Uint8Array>[] = []; // kept for the page's pairwise agreement
  for (const method of s.methods) {
    // one method and no sweep: nothing needs the dense weights after this run
    const inPlace = s.methods.length === 1 && s.sweep === undefined;
    const run = await runMethod(pool, method, weights, windows, s, evaluate, bar, inPlace);
    runs.push(run);
    memory(`${method} (pruning and eval)`);
    const t = run.result.timesMs;
    if (!s.compare) {
      io.stdout(
        `pruned ppl ${fmtPpl(run.ppl.ppl)} ± ${fmtPplSe(run.ppl)} (${method}, sparsity ${
          pct(run.result.sparsity)
        }, mean layer error ${meanError(run.result).toFixed(4)}, ` +
          `agreement with magnitude ${mean(run.result, "agreeMagnitude").toFixed(3)}, with wanda ${
            mean(run.result, "agreeWanda").toFixed(3)
          })\n` +
          `times: calibration forward ${sec(t.calibration)}, pruning ${sec(t.pruning)} (scoring ${
            methodSec(run.result, "scoring")
          }, selection ${methodSec(run.result, "selection")}), layer report ${
            sec(t.evaluation)
          }, eval ${sec(run.evalMs)} + dense eval ${sec(dense.ms)}\n`,
      );
    } else {info(
        `${method}: ppl ${fmtPpl(run.ppl.ppl)} in ${
          sec(t.calibration + t.pruning + t.evaluation + run.evalMs)
        }`,
      );}
    if (s.html && s.methods.length > 1) masks.push(run.result.masks);
    if (s.verbose) {
      const lines = fistaLines(run);
      if (lines.length) io.stdout(`${method} per operator:\n${lines.join("\n")}\n`);
    }
    if (s.compare) run.result = { ...run.result, weights, masks: {} }; // keep the report, drop the model
  }
  if (s.compare) io.stdout(`${compareTable(dense.ppl, runs)}\n`);
  const sweep: SweepPoint[] = [];
  for (const sparsity of s.sweep ?? []) { // every method again at each sparsity of --sweep
    const target = { ...s.target, sparsity } as Target;
    const point: SweepPoint = { sparsity, methods: [] };
    for (const method of s.methods) {
      const same = s.target.kind === "unstructured" && s.target.sparsity === sparsity;
      const run = same
        ? runs.find((r) => r.method === method)!
        : await runMethod(pool, method, weights, windows, { ...s, target }, evaluate, bar);
      const { sparsity: achieved, timesMs } = run.result;
      point.methods.push({
        method,
        ppl: run.ppl.ppl,
        sparsity: achieved,
        pruning_ms: timesMs.pruning,
      });
    }
    sweep.push(point);
    info(
      `sweep ${pct(sparsity)}: ${
        point.methods.map((m) => `${m.method} ${fmtPpl(m.ppl)}`).join(", ")
      }`,
    );
  }

  // fuzz-found (#8): the files of an HF model folder are inputs too (--out on it replaced them)
  const hfFiles = statSync(s.model).isDirectory() ? ["config.json", "model.safetensors"] : [];
  const inputs = [s.model, ...hfFiles.map((n) => join(s.model, n)), s.tokenizer, s.calib, s.eval];
  if (s.out) {
    const written = await writeOut(s.out, runs[0], s, inputs);
    io.stdout(`wrote ${written.join(", ")}\n`);
  }
  if (s.report || s.html) {
    const report = {
      model: s.model,
      model_config: c,
      method: s.compare ? "compare" : runs[0].method,
      options: s.compare
        ? { target: s.target, select: s.select ?? null, ...s.methodOptions }
        : runs[0].options,
      calibration: { file: s.calib, nsamples, seqlen, seed: s.seed, tokens: calibTokens },
      eval: {
        file: s.eval,
        seqlen,
        tokens: dense.ppl.windows * seqlen,
        predicted: dense.ppl.predicted,
        max_tokens: evalTokens,
      },
      dense: {
        ppl: dense.ppl.ppl,
        nll: dense.ppl.nll,
        nll_se: nllStandardError(dense.ppl),
        window_nlls: dense.ppl.windowNlls,
        times_ms: { eval: dense.ms },
      },
      ...(s.compare ? { methods: runs.map(methodEntry) } : methodEntry(runs[0])),
      ...(sweep.length ? { sweep } : {}),
      ...(masks.length ? { agreement: pairwiseAgreement(s.methods, masks) } : {}),
      memory: {
        start_resident_bytes: peak.startBytes,
        peak_resident_bytes: peak.peakBytes() ?? null, // null: the parent's peak hides it
      },
    };
    const writeText = async (file: string, text: string) => {
      const bytes = new TextEncoder().encode(text);
      await safeWrite(() => writeFileAtomic(file, bytes, { force: s.force, inputs }));
      io.stdout(`wrote ${file}\n`);
    };
    if (s.report) await writeText(s.report, JSON.stringify(report, null, 2) + "\n");
    if (s.html) await writeText(s.html, renderReportHtml(report));
  }
  io.stdout(`peak memory ${peak.text()}\n`);
  return 0;
}

/**
 * Runs `prune` on `argv` (the arguments after the script name) and returns the exit status:
 * 0 on success, 2 on bad input (one line `error: ...` on stderr), 1 on any other failure.
 *
 * @param argv Command-line arguments, e.g. `["--method", "wanda", "--eval-tokens", "1024"]`.
 * @param io Where results (stdout) and progress/errors (stderr) go (default: the process's).
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./prune.ts";
 * let err = "";
 * const io = { stdout: () => {}, stderr: (t: string) => void (err += t), isTTY: false };
 * assert.equal(await main(["--sparsity", "1.5"], io), 2);
 * assert.equal(err, 'error: --sparsity must be in [0, 1), got "1.5"\n');
 * ```
 */
export function main(argv: string[], io: CliIo = PROCESS_IO): Promise<number> {
  return runCli(prune, argv, io);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
