/**
 * `deno task prune`: prune a real Llama checkpoint end to end and report dense vs pruned perplexity.
 *
 * With no arguments: stories260K at 50% (per row) with SwiftPrune, calibrated on the C4 head and
 * evaluated on the TinyStories head (paths relative to the repository root, so any cwd works).
 * `--help` lists the flags. Protocol: docs/pipeline.md; the pipeline is
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
 * The flags and their checks are in `lib/prune_settings.ts`, these defaults in
 * `src/pipeline/run_shape.ts`, the printed text in `lib/prune_text.ts`, the files written in
 * `lib/prune_output.ts`. This file reads
 * the inputs, runs the methods and, in `prune`, puts the phases of a run in order.
 *
 * Uses `node:` built-ins only (runs on Deno and Bun).
 *
 * @module
 */
import { statSync } from "node:fs";
import { basename } from "node:path";
import process from "node:process";
import {
  checkWorkerPermission,
  CliError,
  type CliIo,
  PROCESS_IO,
  runCli,
  useKernelsFlag,
} from "./lib/cli.ts";
import {
  checkFiniteModel,
  checkSeqlen,
  checkTextHolds,
  encodeCorpus,
  loadModel,
  loadTokenizer,
} from "./lib/model_inputs.ts";
import { collectGarbage, megabytes, peakResidentBytes, PeakTracker } from "./lib/memory.ts";
import type { SweepPoint } from "./lib/report_html.ts";
import {
  HELP,
  methodOf,
  parseSettings,
  pipelineMode,
  type Settings,
} from "./lib/prune_settings.ts";
import {
  compareProgressText,
  compareTable,
  denseText,
  type Evaluation,
  infoLines,
  type MethodRun,
  prunedText,
  runHeaderText,
  sweepTable,
  sweepText,
} from "./lib/prune_text.ts";
import { checkOutputs, openPrunedFolder, writeOutputs } from "./lib/prune_output.ts";
import { folderSource } from "./lib/hf_files.ts";
import { type BlockPerplexity, blockPerplexity } from "../src/eval/perplexity_blocks.ts";
import { openHfFolder } from "../src/io/hf_folder.ts";
import { openHfModelByBlocks } from "../src/io/hf_model.ts";
import { createProgress, type Progress } from "./lib/progress.ts";
import {
  blockForwardWindows,
  perplexityParallel,
  shareWeights,
} from "../src/parallel/forward_parallel.ts";
import {
  createPool,
  defaultPoolSize,
  type Pool,
  sharedCopy,
  sharedMemoryAvailable,
} from "../src/parallel/pool.ts";
import { pruneModelParallel } from "../src/parallel/prune_model_parallel.ts";
import { NonFiniteInputError } from "../src/check/finite.ts";
import type { TextTokenizer } from "../src/io/text_tokenizer.ts";
import type { Block, Model } from "../src/model/family.ts";
import { sampleWindows } from "../src/pipeline/calibration.ts";
import {
  checkCalibrationSize,
  prunableWeights,
  type RunShape,
  runShape,
} from "../src/pipeline/run_shape.ts";
import { appliedOptions } from "../src/prune/method.ts";
import type { Target } from "../src/select/target.ts";

export { DEFAULTS } from "./lib/prune_settings.ts";

// ---------------------------------------------------------------------------------------------
// reporting as the run goes

/**
 * Where a run reports as it goes: a line per phase, method and sweep point with the time elapsed
 * and left, live bars on a terminal (`lib/progress.ts`), `--verbose` memory lines.
 */
interface RunConsole extends Progress {
  /** `--verbose`: the resident set now and its peak, after `phase`. */
  memory: (phase: string) => void;
}

/**
 * Units of work of a run, for the estimate of the time left: the dense evaluation is 1, each
 * method run 3 (calibration forwards, pruning: 2; its evaluation: 1), at the target and at each
 * other sweep point.
 */
function runUnits(s: Settings): number {
  const same = (x: number) => s.target.kind === "unstructured" && s.target.sparsity === x;
  const points = 1 + (s.sweep ?? []).filter((x) => !same(x)).length;
  return 1 + 3 * s.methods.length * points;
}

/** The console of a run with settings `s`. */
function runConsole(s: Settings, io: CliIo): RunConsole {
  return {
    ...createProgress(io, { quiet: s.quiet, units: runUnits(s) }),
    memory: (phase) =>
      void (s.verbose && io.stdout(
        `memory after ${phase}: resident ${megabytes(process.memoryUsage().rss)}, peak ${
          megabytes(peakResidentBytes())
        }\n`,
      )),
  };
}

// ---------------------------------------------------------------------------------------------
// inputs

/**
 * Encodes the calibration and evaluation texts and keeps only what the run uses: the sampled
 * windows and the evaluated prefix (the texts and full id arrays can be collected on return).
 */
async function tokenize(
  s: Settings,
  tok: TextTokenizer,
  shape: RunShape,
): Promise<{ windows: Int32Array[]; calibTokens: number; evalIds: Int32Array; evalTotal: number }> {
  const { seqlen, nsamples, evalTokens } = shape;
  const calibIds = await encodeCorpus(tok, s.calib, "calib");
  // a count asked for that the text cannot hold is refused, not silently cut or repeated
  if (s.nsamples !== undefined) {
    checkTextHolds("--nsamples", nsamples, seqlen, calibIds.length, s.calib);
  }
  const windows = sampleWindows(calibIds, { nsamples, seqlen, seed: s.seed });
  const allEval = await encodeCorpus(tok, s.eval, "eval");
  if (s.evalTokens !== undefined) {
    checkTextHolds("--eval-tokens", evalTokens, 1, allEval.length, s.eval);
  }
  const evalIds = allEval.slice(0, evalTokens); // perplexity reads only the first evalTokens ids
  if (evalIds.length < seqlen) {
    throw new CliError(
      `Cannot evaluate: ${evalIds.length} eval tokens (--eval-tokens ${evalTokens}, text ${allEval.length}) do not fill one window of --seqlen ${seqlen}`,
    );
  }
  return { windows, calibTokens: calibIds.length, evalIds, evalTotal: allEval.length };
}

/** The inputs of a run: the model, the run's sizes, the calibration windows, the evaluated ids. */
interface Inputs {
  weights: Model;
  shape: RunShape;
  windows: Int32Array[];
  /** Tokens of the whole calibration text. */
  calibTokens: number;
  /** The first `shape.evalTokens` ids of the evaluation text. */
  evalIds: Int32Array;
  /** Tokens of the whole evaluation text. */
  evalTotal: number;
}

/**
 * Loads the model (refusing NaN or infinity unless `--allow-nonfinite`) and the tokenizer, fills
 * in the sizes, and encodes the texts.
 */
async function loadInputs(s: Settings, say: RunConsole): Promise<Inputs> {
  const weights = await loadModel(s.model, s.workers > 1 && sharedMemoryAvailable());
  say.memory("loading the model");
  if (!s.allowNonfinite) checkFiniteModel(weights, s.model);
  const tok = await loadTokenizer(s.tokenizer);
  const shape = runShape(s, weights);
  checkSeqlen(shape.seqlen, weights.config);
  checkCalibrationSize(shape.nsamples, shape.seqlen, weights);
  say.step(`loaded ${basename(s.model)}; encoding ${basename(s.calib)} and ${basename(s.eval)}`, 0);
  const texts = await tokenize(s, tok, shape);
  say.step(
    `encoded: ${texts.windows.length} calibration windows, ${texts.evalIds.length} eval tokens`,
    0,
  );
  return { weights, shape, ...texts };
}

// ---------------------------------------------------------------------------------------------
// running

/** A NaN or infinity among the calibration inputs: the error, with the flag that proceeds. */
async function nonFiniteHint<T>(run: Promise<T>): Promise<T> {
  try {
    return await run;
  } catch (e) {
    if (!(e instanceof NonFiniteInputError)) throw e;
    throw new NonFiniteInputError(`${e.message} (--allow-nonfinite prunes anyway)`);
  }
}

/** Perplexity of a model on the evaluated ids, timed; `label` names its progress bar. */
type Evaluate = (w: Model, label: string) => Promise<Evaluation>;

/** The run's {@link Evaluate}: on the workers if any, up to `shape.evalTokens` tokens. */
function evaluator(pool: Pool | undefined, inputs: Inputs, say: RunConsole): Evaluate {
  const { evalIds, shape: { seqlen, evalTokens } } = inputs;
  return async (w, label) => {
    const t0 = performance.now();
    const ppl = await perplexityParallel(pool, w, evalIds, {
      seqlen,
      maxTokens: evalTokens,
      onProgress: (d, t) => say.bar(d, t, label),
    });
    return { ppl, ms: performance.now() - t0 };
  };
}

/** What the phases after loading share. */
interface RunContext {
  s: Settings;
  io: CliIo;
  say: RunConsole;
  /** Workers for the calibration forwards, row-parallel pruning and evaluation (none: one thread). */
  pool: Pool | undefined;
  /** The dense model (in shared memory when there are workers). */
  weights: Model;
  windows: Int32Array[];
  evaluate: Evaluate;
}

/** A method run's options as the report records them (`MethodRun.options`). */
function runOptions(s: Settings, method: string, target: Target): Record<string, unknown> {
  const descriptor = methodOf(method), { denseInputs, intraLayer } = pipelineMode(s, method);
  return {
    target,
    competes: descriptor.competes(target, s.methodOptions),
    ...appliedOptions(descriptor, s.methodOptions), // only the options this method has
    dense_inputs: denseInputs,
    intra_layer: intraLayer,
  };
}

/** What every run of a method gives the pipeline from the settings (its paper's mode by default). */
function pipelineOptions(s: Settings, method: string, target: Target) {
  const { denseInputs, intraLayer } = pipelineMode(s, method);
  return {
    allowNonFinite: s.allowNonfinite,
    errorRows: s.reportRows,
    method: methodOf(method),
    methodOptions: s.methodOptions,
    target,
    denseInputs,
    intraLayer,
  };
}

/**
 * Prunes the dense model with `method` at `target` and evaluates the pruned model. With `inPlace`
 * the dense model is pruned in place (its arrays become the pruned model's).
 */
async function runMethod(
  ctx: RunContext,
  method: string,
  target: Target = ctx.s.target,
  inPlace = false,
): Promise<MethodRun> {
  const s = ctx.s;
  const result = await nonFiniteHint(pruneModelParallel(ctx.pool, ctx.weights, ctx.windows, {
    ...pipelineOptions(s, method, target),
    inPlace, // the dense model is not needed after this run: prune it in place
    keepMasks: s.out !== undefined || (s.html !== undefined && s.methods.length > 1),
    releaseArrays: true, // the registered methods keep no references
    onProgress: (done, total, label) => {
      // between blocks, what release() did not free goes now, not 64 MB later (scripts/lib/memory.ts)
      if (label?.startsWith("block")) collectGarbage();
      ctx.say.bar(done, total, `${method}: ${label ?? ""}`, 2);
    },
  }));
  collectGarbage();
  const at = target.kind === "nm"
    ? `${target.n}:${target.m}`
    : `${(100 * target.sparsity).toFixed(0)}%`;
  ctx.say.step(`${method} at ${at}: pruned, sparsity ${(100 * result.sparsity).toFixed(2)}%`, 2);
  const { ppl, ms } = await ctx.evaluate(result.weights, `eval ${method}`);
  const run = { method, options: runOptions(s, method, target), result, ppl, evalMs: ms };
  ctx.say.step(`${compareProgressText(run)} (at ${at})`);
  return run;
}

// ---------------------------------------------------------------------------------------------
// the phases of a run

/** Evaluates the dense model and prints its line. */
async function evaluateDense(ctx: RunContext, seqlen: number): Promise<Evaluation> {
  const dense = await ctx.evaluate(ctx.weights, "eval dense");
  collectGarbage();
  ctx.say.memory("the dense eval");
  ctx.say.step(`dense ppl ${dense.ppl.ppl.toFixed(4)}`);
  ctx.io.stdout(denseText(dense, seqlen));
  return dense;
}

/**
 * Runs every method of the settings at the target and prints each one's result (with `--compare`,
 * an info line each, then the table). Keeps the masks only for the page's pairwise agreement.
 */
async function runMethods(
  ctx: RunContext,
  dense: Evaluation,
): Promise<{ runs: MethodRun[]; masks: Record<string, Uint8Array>[] }> {
  const { s, io, say } = ctx;
  const runs: MethodRun[] = [];
  const masks: Record<string, Uint8Array>[] = [];
  for (const method of s.methods) {
    // one method and no sweep: nothing needs the dense weights after this run
    const inPlace = s.methods.length === 1 && s.sweep === undefined;
    const run = await runMethod(ctx, method, s.target, inPlace);
    runs.push(run);
    say.memory(`${method} (pruning and eval)`);
    if (!s.compare) io.stdout(prunedText(run, dense.ms));
    if (s.html && s.methods.length > 1) masks.push(run.result.masks);
    if (s.verbose) {
      const lines = infoLines(run);
      if (lines.length) io.stdout(`${method} per operator:\n${lines.join("\n")}\n`);
    }
    // --compare: keep the report, drop the pruned model
    if (s.compare) run.result = { ...run.result, weights: ctx.weights, masks: {} };
  }
  if (s.compare) io.stdout(`${compareTable(dense.ppl, runs)}\n`);
  return { runs, masks };
}

/** `--sweep`: every method again at each sparsity (the target's own sparsity reuses `runs`). */
async function runSweep(ctx: RunContext, runs: MethodRun[]): Promise<SweepPoint[]> {
  const s = ctx.s;
  const sweep: SweepPoint[] = [];
  for (const sparsity of s.sweep ?? []) {
    const target = { ...s.target, sparsity } as Target;
    const point: SweepPoint = { sparsity, methods: [] };
    for (const method of s.methods) {
      const same = s.target.kind === "unstructured" && s.target.sparsity === sparsity;
      const run = same
        ? runs.find((r) => r.method === method)!
        : await runMethod(ctx, method, target);
      const { sparsity: achieved, timesMs } = run.result;
      point.methods.push({
        method,
        ppl: run.ppl.ppl,
        sparsity: achieved,
        pruning_ms: timesMs.pruning,
      });
    }
    sweep.push(point);
    ctx.say.step(sweepText(point), 0);
  }
  return sweep;
}

/**
 * `--stream`: the run of {@link prune} with one method, block by block (docs/memory.md). The
 * embeddings and head are read at the start; block `l` is read (by safetensors offsets, widened
 * to float32) when the pipeline reaches it, the dense evaluation's windows are advanced through it,
 * it is pruned, the pruned evaluation's windows are advanced through the pruned block, it goes to
 * `--out`, and it is dropped. Both perplexities are finished after the last block: the model's
 * weights are read once and never held whole. With workers, every tensor is read into shared
 * memory, and the forwards and row-parallel pruning run on them as in a whole-model run.
 */
async function pruneStreamed(s: Settings, io: CliIo, say: RunConsole, peak: PeakTracker) {
  const src = folderSource(s.model);
  using pool = s.workers > 1 && sharedMemoryAvailable()
    ? createPool({ size: s.workers })
    : undefined;
  const keep = pool ? { keep: sharedCopy } : {}; // each tensor is shared once, as it is read
  try {
    const folder = await openHfFolder(src);
    const lazy = await openHfModelByBlocks(folder.config, folder.tensors, keep);
    const weights = lazy.model, config = weights.config;
    if (!s.allowNonfinite) checkFiniteModel(weights, s.model); // the global tensors
    const shape = runShape(s, weights);
    checkSeqlen(shape.seqlen, config);
    checkCalibrationSize(shape.nsamples, shape.seqlen, weights);
    const texts = await tokenize(s, await loadTokenizer(s.tokenizer), shape);
    const { windows, evalIds, calibTokens } = texts;
    collectGarbage(); // the texts and full id arrays
    say.memory("loading the embeddings and head, tokenizing");
    io.stdout(runHeaderText({ ...s, workers: pool?.size ?? 1 }, {
      config,
      prunable: prunableWeights(weights),
      shape,
      calibTokens,
      evaluated: evalIds.length,
      evalTotal: texts.evalTotal,
      cores: defaultPoolSize(),
    }));
    const method = s.methods[0], target = s.target;
    const evalOptions = { seqlen: shape.seqlen, maxTokens: shape.evalTokens };
    const denseEval = blockPerplexity(weights, evalIds, evalOptions);
    const prunedEval = blockPerplexity(weights, evalIds, evalOptions);
    const evalMs = { dense: 0, pruned: 0 };
    const timed = async <T>(k: keyof typeof evalMs, f: () => T | Promise<T>): Promise<T> => {
      const t0 = performance.now();
      const value = await f();
      evalMs[k] += performance.now() - t0;
      return value;
    };
    // an evaluation's windows through block l (on the workers if any: the same outputs)
    const advance = (ev: BlockPerplexity, l: number, block: Block) =>
      ev.advanceWith(
        l,
        async (h) =>
          (await blockForwardWindows(pool, weights, l, h, { block, capture: false })).outputs,
      );
    const out = s.out ? await openPrunedFolder(s.out, weights, method, s) : undefined;
    try {
      const result = await nonFiniteHint(pruneModelParallel(pool, weights, windows, {
        ...pipelineOptions(s, method, target),
        inPlace: true, // the block read is the block pruned
        keepMasks: false, // each block's go to `done`
        releaseArrays: true,
        blocks: {
          load: async (l) => {
            const block = await lazy.block(l);
            if (!s.allowNonfinite) {
              checkFiniteModel({ ...weights, blocks: weights.blocks.with(l, block) }, s.model);
            }
            await timed("dense", () => advance(denseEval, l, block));
            return block;
          },
          done: async (l, block, masks) => {
            await timed("pruned", () => advance(prunedEval, l, block));
            await out?.put(l, block, masks);
            collectGarbage();
            say.memory(`block ${l}`);
          },
        },
        onProgress: (done, total, label) => say.bar(done, total, `${method}: ${label ?? ""}`, 2),
      }));
      const dense = { ppl: await timed("dense", () => denseEval.finish()), ms: evalMs.dense };
      const ppl = await timed("pruned", () => prunedEval.finish());
      io.stdout(denseText(dense, shape.seqlen));
      const options = runOptions(s, method, target);
      const run: MethodRun = { method, options, result, ppl, evalMs: evalMs.pruned };
      io.stdout(prunedText(run, dense.ms));
      if (out) io.stdout(`wrote ${(await out.finish(run)).join(", ")}\n`);
      const facts = { config, shape, calibTokens, dense, runs: [run], sweep: [], masks: [], peak };
      await writeOutputs({ ...s, out: undefined }, facts, io); // --report, --html
    } catch (e) {
      await out?.abort();
      throw e;
    }
  } finally {
    await src.close();
  }
  io.stdout(`peak memory ${peak.text()}\n`);
  return 0;
}

/** Above this many prunable weights (1 GB in float32) a whole-model run suggests `--stream`. */
const STREAM_HINT_WEIGHTS = 250e6;

/** Whether the run could have streamed: an HF folder, one method, no sweep. */
function streamable(s: Settings): boolean {
  return !s.stream && s.methods.length === 1 && s.sweep === undefined &&
    statSync(s.model, { throwIfNoEntry: false })?.isDirectory() === true;
}

/**
 * A whole run: settings, inputs, header, dense evaluation, the methods, the sweep, the files, the
 * peak memory. The order matters for memory (docs/memory.md): the model is read once (into shared
 * memory when workers will use it), the texts are dropped before the first evaluation.
 */
async function prune(argv: string[], io: CliIo): Promise<number> {
  const s = parseSettings(argv);
  if (s === undefined) {
    io.stdout(`${HELP}\n`);
    return 0;
  }
  checkWorkerPermission(s.workers); // before any work: workers load their code from src/
  useKernelsFlag(s.kernels);
  await checkOutputs(s); // every output, before any work
  const say = runConsole(s, io);
  const peak = new PeakTracker(); // notes the resident set at start: the runtime and the modules
  say.memory("start");
  if (s.stream) return await pruneStreamed(s, io, say, peak);
  const inputs = await loadInputs(s, say);
  const { config } = inputs.weights, { shape, calibTokens } = inputs;
  io.stdout(runHeaderText(s, {
    config,
    prunable: prunableWeights(inputs.weights),
    shape,
    calibTokens,
    evaluated: inputs.evalIds.length,
    evalTotal: inputs.evalTotal,
    cores: defaultPoolSize(),
  }));
  if (!s.quiet && streamable(s) && prunableWeights(inputs.weights) > STREAM_HINT_WEIGHTS) {
    io.stderr(
      "hint: --stream reads this model block by block, with the same results in a fraction of " +
        "the memory (docs/memory.md)\n",
    );
  }
  // workers for the calibration forwards, row-parallel pruning and evaluation; closed on return
  using pool = s.workers > 1 ? createPool({ size: s.workers }) : undefined;
  // once, so that no task copies it (the bytes go now)
  if (pool) inputs.weights = shareWeights(inputs.weights);
  collectGarbage(); // the texts, the full id arrays, the unshared model
  say.memory("tokenizing");
  const { weights, windows } = inputs;
  const ctx: RunContext = {
    s,
    io,
    say,
    pool,
    weights,
    windows,
    evaluate: evaluator(pool, inputs, say),
  };
  const dense = await evaluateDense(ctx, shape.seqlen);
  const { runs, masks } = await runMethods(ctx, dense);
  const sweep = await runSweep(ctx, runs);
  if (sweep.length) io.stdout(`${sweepTable(dense.ppl.ppl, sweep)}\n`);
  await writeOutputs(s, { config, shape, calibTokens, dense, runs, sweep, masks, peak }, io);
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
