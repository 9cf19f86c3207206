/**
 * The settings of `deno task prune` (`scripts/prune.ts`): its flags (the method flags come from
 * the methods' descriptors), its `--help` text, the checks on flag values, and the defaults. The
 * defaults that depend on the model are `runShape` of `src/pipeline/run_shape.ts`.
 *
 * Every refusal is a `CliError`, printed as one line `error: ...` with exit status 2.
 *
 * @module
 */
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError, kernelsFlag, parseFlags } from "./cli.ts";
import type { KernelSet } from "../../src/linalg/kernels.ts";
import { METHOD_FLAGS, methodFlagsHelp, methodOptionsFromFlags } from "./method_flags.ts";
import { parseSweep } from "./report_html.ts";
import { defaultPoolSize } from "../../src/parallel/pool.ts";
import type { MethodDescriptor, MethodOptions } from "../../src/prune/method.ts";
import { methodByName, methodNames } from "../../src/prune/methods.ts";
import { DEFAULT_SPARSITY, parseTarget, type Target } from "../../src/select/target.ts";

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
  sparsity: DEFAULT_SPARSITY,
  seed: 0,
  /** Rows per linear the layer report's error is measured on (an estimate beyond; `all`: exact). */
  reportRows: 256,
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
  methods: { type: "string" },
  html: { type: "string" },
  sweep: { type: "string" },
  quiet: { type: "boolean" },
  workers: { type: "string" },
  kernels: { type: "string" },
  verbose: { type: "boolean" },
  stream: { type: "boolean" },
  "report-rows": { type: "string" },
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
  --group row|layer   which weights compete (unstructured; score-then-select methods) [row]
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
  --report-rows N|all each layer's output error on N evenly spaced rows, an estimate with a
                      standard error; all = exact, costs 2 calibration forwards [${DEFAULTS.reportRows}]
  --compare           every method on the same calibration windows, one table
  --methods A,B,...   the methods --compare runs [all: ${methodNames().join(",")}]
  --html FILE.html    write the report as a self-contained HTML page (charts in inline SVG)
  --sweep S1,S2,...   also run every method at these sparsities (the page's ppl-vs-sparsity curve)
  --allow-nonfinite   prune even if a weight or calibration input is NaN or infinite [refuse, naming it]
  --workers N         worker threads for calibration, row-parallel pruning and eval; 1 = none [all cores]
  --kernels ts|simd   matrix kernels: pure TypeScript, or WebAssembly SIMD [simd where available]
  --stream            HF folder: read each block when the pipeline reaches it, write it pruned and
                      drop it (one block in memory, not the model; one method)
  --verbose           memory after each phase; per operator, the method's diagnostics (fista: lambdas, objective, E_round/E_total, errors)
  --quiet             no progress lines (stderr: one per phase, method and sweep point, with time left)
  --debug             stack traces on errors
method options (the methods that do not have one ignore it):
${methodFlagsHelp(20)}`;

/** The run's settings after defaults (those that depend on the model: {@link runShape}). */
export interface Settings {
  model: string;
  tokenizer: string;
  /** The methods to run, in order: one, or with `--compare` those of `--methods` (default all). */
  methods: string[];
  target: Target;
  /** Method options from the method flags (`--select`, `--iterations`, `--warm-start`, ...). */
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
  /** Read, prune, evaluate and write the model block by block (an HF folder; one method). */
  stream: boolean;
  workers: number;
  /** The `--kernels` value, if given (else the fastest available). */
  kernels?: KernelSet;
  /** `--report-rows`: rows per linear the layer error is measured on (`Infinity`: all). */
  reportRows: number;
}

function intFlag(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new CliError(`--${name} must be an integer >= ${min}, got "${value}"`);
  }
  return n;
}

/** `--workers 1e9` would make a pool of 1e9 slots (out of memory): refused first. */
const MAX_WORKERS = 256;
/** `--workers`: 1 to 256, default all cores; `CliError` otherwise. */
export function workersFlag(value: string | undefined): number {
  const n = intFlag(value, "workers", 1) ?? defaultPoolSize();
  if (n > MAX_WORKERS) {
    throw new CliError(`--workers must be at most ${MAX_WORKERS}, got "${value}"`);
  }
  return n;
}

/** `--report-rows`: an integer >= 2 (a standard error needs two rows) or `all` (`Infinity`). */
function reportRowsFlag(value: string | undefined): number {
  if (value === "all") return Infinity;
  const n = Number(value ?? DEFAULTS.reportRows);
  if (!Number.isInteger(n) || n < 2) {
    throw new CliError(`--report-rows must be an integer >= 2 or "all", got "${value}"`);
  }
  return n;
}

/** The methods of the run: `--method`, or with `--compare` those of `--methods` (default all). */
function parseMethods(v: { method?: string; methods?: string; compare?: boolean }): string[] {
  const names = methodNames();
  const check = (name: string, flag: string) => {
    if (!names.includes(name)) {
      throw new CliError(`--${flag} must be one of ${names.join(", ")}, got "${name}"`);
    }
    return name;
  };
  if (!v.compare) {
    if (v.methods !== undefined) {
      throw new CliError("--methods chooses the methods of --compare; add --compare");
    }
    return [check(v.method ?? DEFAULTS.method, "method")];
  }
  if (v.methods === undefined) return names;
  const list = v.methods.split(",").map((m) => check(m.trim(), "methods"));
  if (new Set(list).size !== list.length) {
    throw new CliError(`--methods names a method twice: "${v.methods}"`);
  }
  return list;
}

/** Refuses flags that are each valid but do not go together. */
function checkFlagCombinations(s: Settings): void {
  if (s.compare && s.out) {
    throw new CliError("--out writes one pruned model; drop --compare or --out");
  }
  if (s.stream && (s.compare || s.sweep)) {
    throw new CliError("--stream prunes with one method at one target; drop --compare and --sweep");
  }
  if (s.stream && !statSync(s.model, { throwIfNoEntry: false })?.isDirectory()) {
    throw new CliError(`--stream reads an HF model folder, got --model ${s.model}`);
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
  const settings: Settings = {
    model: v.model ?? DEFAULTS.model,
    tokenizer: tokenizerFor(v.model ?? DEFAULTS.model, v.tokenizer),
    methods: parseMethods(v),
    target: parseTarget(v),
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
    stream: v.stream ?? false,
    workers: workersFlag(v.workers),
    kernels: kernelsFlag(v.kernels),
    reportRows: reportRowsFlag(v["report-rows"]),
  };
  checkFlagCombinations(settings);
  return settings;
}

/**
 * Whether `method` runs with dense inputs and the intra-layer order: the flags if given, else its
 * paper's way (the descriptor's `pipeline`; FISTAPruner: both on, the others: both off).
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
  const d = methodOf(method).pipeline;
  return { denseInputs: s.denseInputs ?? d.denseInputs, intraLayer: s.intraLayer ?? d.intraLayer };
}

/**
 * The descriptor of a method name the settings hold (checked by {@link parseSettings}).
 *
 * @param name A registered method name.
 * @returns Its descriptor.
 * @throws {CliError} If no method has that name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodOf } from "./prune_settings.ts";
 * assert.equal(methodOf("wanda").name, "wanda");
 * ```
 */
export function methodOf(name: string): MethodDescriptor {
  const method = methodByName(name);
  if (method === undefined) {
    throw new CliError(`--method must be one of ${methodNames().join(", ")}, got "${name}"`);
  }
  return method;
}
