/**
 * The settings of `deno task prune` (`scripts/prune.ts`): its flags, its `--help` text, the checks
 * on flag values, and the defaults, including those that depend on the model (`runShape`: the
 * window length and the number of calibration and evaluation windows, from a work budget).
 *
 * Every refusal is a `CliError`, printed as one line `error: ...` with exit status 2.
 *
 * @module
 */
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError, parseFlags } from "./cli.ts";
import { METHOD_FLAGS, methodFlagsHelp, methodOptionsFromFlags } from "./method_flags.ts";
import { parseSweep } from "./report_html.ts";
import { defaultPoolSize } from "../../src/parallel/pool.ts";
import { LINEAR_NAMES, type LlamaWeights } from "../../src/model/weights.ts";
import { methodNames, type MethodOptions } from "../../src/prune/methods.ts";
import type { SelectMode, Target } from "../../src/prune/types.ts";

/** The repository root (this file is `scripts/lib/prune_settings.ts`). */
export const ROOT: string = fileURLToPath(new URL("../..", import.meta.url));
const SHARED = resolve(ROOT, "../shared");

/**
 * Default inputs (absolute paths into `../shared` from the repository root), method, sparsity and
 * seed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULTS } from "./prune_settings.ts";
 * assert.equal(DEFAULTS.method, "swiftprune");
 * assert.ok(DEFAULTS.model.endsWith("stories260K.bin"));
 * ```
 */
export const DEFAULTS = {
  model: resolve(SHARED, "models/stories260K/stories260K.bin"),
  tokenizer: resolve(SHARED, "models/stories260K/tok512.bin"),
  calib: resolve(SHARED, "text/c4/c4-train.00000-of-01024.head1041.jsonl"),
  eval: resolve(SHARED, "text/tinystories/TinyStories-validation-head.txt"),
  method: "swiftprune",
  sparsity: 0.5,
  seed: 0,
};

/**
 * The tokenizer a run reads: `--tokenizer` when given; else, for a Hugging Face model folder,
 * its `tokenizer.json`; else the default llama2.c `tok512.bin`.
 *
 * @param model The `--model` path.
 * @param flag The `--tokenizer` value, if given.
 * @returns The tokenizer's path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULTS, tokenizerFor } from "./prune_settings.ts";
 * assert.equal(tokenizerFor(DEFAULTS.model), DEFAULTS.tokenizer);
 * assert.equal(tokenizerFor("../shared/models/hf/opt"), "../shared/models/hf/opt/tokenizer.json");
 * assert.equal(tokenizerFor("../shared/models/hf/opt", "t.bin"), "t.bin");
 * ```
 */
export function tokenizerFor(model: string, flag?: string): string {
  if (flag !== undefined) return flag;
  const json = join(model, "tokenizer.json");
  if (existsSync(model) && statSync(model).isDirectory() && existsSync(json)) return json;
  return DEFAULTS.tokenizer;
}

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

/**
 * The `--help` text: every flag with its default.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HELP } from "./prune_settings.ts";
 * assert.match(HELP, /--sparsity S +unstructured sparsity in \[0, 1\)/);
 * ```
 */
export const HELP: string =
  `deno task prune [flags]   prune a Llama checkpoint and compare dense vs pruned perplexity
  --model PATH        llama2.c .bin or HF folder (config.json + model.safetensors) [stories260K]
  --tokenizer PATH    HF tokenizer.json or llama2.c tokenizer.bin [the model folder's
                      tokenizer.json, else tok512.bin next to stories260K]
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

/** The run's settings after defaults (those that depend on the model: {@link runShape}). */
export interface Settings {
  model: string;
  tokenizer: string;
  /** The methods to run, in order: one, or every registered method with `--compare`. */
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
/** `--workers`: 1 to 256, default all cores; `CliError` otherwise. */
export function workersFlag(value: string | undefined): number {
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

/** Refuses flags that are each valid but do not go together. */
function checkFlagCombinations(s: Settings): void {
  if (s.compare && s.out) {
    throw new CliError("--out writes one pruned model; drop --compare or --out");
  }
  if (s.sweep && s.target.kind !== "unstructured") {
    throw new CliError("--sweep varies the unstructured sparsity; drop --pattern");
  }
}

/**
 * Parses the command line of `deno task prune` into settings, with the defaults filled in.
 *
 * @param argv The arguments after the script name.
 * @returns The settings, or `undefined` for `--help`.
 * @throws {CliError} For an unknown flag, a value out of range, or flags that exclude each other.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSettings } from "./prune_settings.ts";
 * const s = parseSettings(["--pattern", "2:4", "--workers", "1"])!;
 * assert.deepEqual(s.target, { kind: "nm", n: 2, m: 4 });
 * assert.deepEqual([s.methods, s.workers], [["swiftprune"], 1]);
 * assert.equal(parseSettings(["--help"]), undefined);
 * assert.throws(() => parseSettings(["--compare", "--out", "dir"]), /drop --compare or --out/);
 * ```
 */
export function parseSettings(argv: string[]): Settings | undefined {
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
  const settings: Settings = {
    model: v.model ?? DEFAULTS.model,
    tokenizer: tokenizerFor(v.model ?? DEFAULTS.model, v.tokenizer),
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
  checkFlagCombinations(settings);
  return settings;
}

/** Methods whose paper prunes with dense inputs across blocks and intra-layer correction. */
const PIPELINE_DEFAULTS: Record<string, { denseInputs?: boolean; intraLayer?: boolean }> = {
  fista: { denseInputs: true, intraLayer: true },
};

/**
 * Whether `method` runs with dense inputs and the intra-layer order: the flags if given, else its
 * paper's way (FISTAPruner: both on; the others: both off).
 *
 * @param s The settings (`denseInputs`, `intraLayer`).
 * @param method A registered method name.
 * @returns The two switches.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pipelineMode } from "./prune_settings.ts";
 * assert.deepEqual(pipelineMode({}, "fista"), { denseInputs: true, intraLayer: true });
 * assert.deepEqual(pipelineMode({ intraLayer: true }, "wanda"), { denseInputs: false, intraLayer: true });
 * ```
 */
export function pipelineMode(
  s: Pick<Settings, "denseInputs" | "intraLayer">,
  method: string,
): { denseInputs: boolean; intraLayer: boolean } {
  const d = PIPELINE_DEFAULTS[method] ?? {};
  return {
    denseInputs: s.denseInputs ?? d.denseInputs ?? false,
    intraLayer: s.intraLayer ?? d.intraLayer ?? false,
  };
}

// ---------------------------------------------------------------------------------------------
// defaults that depend on the model

/** Weight-token budgets that set the default `nsamples` and `--eval-tokens` (see {@link runShape}). */
const CALIB_BUDGET = 1e9, EVAL_BUDGET = 2e9;

/** The sizes of a run: tokens per window, calibration windows, evaluated tokens (at most). */
export interface RunShape {
  seqlen: number;
  nsamples: number;
  evalTokens: number;
}

/**
 * Number of weights in the linear layers that are pruned (the seven of every block).
 *
 * @param weights The model.
 * @returns The count.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "../../src/model/llama.ts";
 * import { prunableWeights } from "./prune_settings.ts";
 * // dim 8, kv_dim 4, hidden 12, 2 blocks: (8*8 + 2*4*8 + 8*8 + 3*12*8) * 2
 * assert.equal(prunableWeights(tinyLlama({ seed: 1 })), 960);
 * ```
 */
export function prunableWeights(weights: LlamaWeights): number {
  return weights.blocks.reduce(
    (s, b) => s + LINEAR_NAMES.reduce((t, n) => t + b[n].data.length, 0),
    0,
  );
}

/**
 * Fills in the model-dependent defaults: `seqlen = min(256, model seq_len)`; `nsamples` and the
 * evaluation cap from the work budgets in weight-token products (prunable weights x tokens),
 * about 1e9 for calibration and 2e9 for evaluation, at least 8 windows each, at most 128
 * calibration windows.
 *
 * @param s The settings (`seqlen`, `nsamples`, `evalTokens` if given).
 * @param weights The model.
 * @returns The run's sizes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "../../src/model/llama.ts";
 * import { runShape } from "./prune_settings.ts";
 * const w = tinyLlama({ seed: 1 }); // seq_len 32, 960 prunable weights, 30,720 per window:
 * // nsamples min(128, 1e9 / 30720), eval 32 x floor(2e9 / 30720) tokens
 * assert.deepEqual(runShape({}, w), { seqlen: 32, nsamples: 128, evalTokens: 32 * 65104 });
 * assert.equal(runShape({ nsamples: 3 }, w).nsamples, 3);
 * ```
 */
export function runShape(
  s: Pick<Settings, "seqlen" | "nsamples" | "evalTokens">,
  weights: LlamaWeights,
): RunShape {
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
 *
 * @param nsamples Calibration windows.
 * @param seqlen Tokens per window.
 * @param weights The model (its `dim` and `hiddenDim`).
 * @throws {CliError} If the captured inputs would be over 2^32 floats.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "../../src/model/llama.ts";
 * import { checkCalibrationSize } from "./prune_settings.ts";
 * const w = tinyLlama({ seed: 1 }); // widest input: hidden 12
 * checkCalibrationSize(128, 32, w);
 * assert.throws(() => checkCalibrationSize(2 ** 30, 32, w), /over 2\^32 floats/);
 * ```
 */
export function checkCalibrationSize(
  nsamples: number,
  seqlen: number,
  weights: LlamaWeights,
): void {
  const widest = Math.max(weights.config.dim, weights.config.hiddenDim);
  if (nsamples * seqlen * widest > 2 ** 32) {
    throw new CliError(
      `Cannot calibrate: --nsamples ${nsamples} x --seqlen ${seqlen} tokens x ${widest} (widest layer input) is over 2^32 floats (16 GiB); lower --nsamples or --seqlen`,
    );
  }
}
