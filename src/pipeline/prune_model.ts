/**
 * Whole-model pruning, block by block (docs/pipeline.md), with a per-layer report.
 *
 * The loop, for decoder block `l = 0 .. nLayers-1`, holding one block's activations at a time:
 *
 * 1. **Calibration forward.** Run the dense block `l` on the current hidden states `h` of every
 *    calibration window and capture the inputs of its linears (hooks `onLinearInput`). Rows of all
 *    windows are concatenated into one `X [tokens, cols]` per distinct input (Llama: q, k and v
 *    share the attention input, w1 and w3 the MLP input, so there are 4: wq, wo, w1, w2).
 * 2. **Prune** each prunable linear of the block's family (`src/model/family.ts`) with the method:
 *    `method(W, {inputs: X}, target)`. With `intraLayer` (FISTAPruner's intra-layer error
 *    correction, Zhao et al. arXiv:2408.03728) an operator is pruned after the operators whose
 *    pruned outputs feed its input: the groups of `intraLayerGroups` (Llama: `q,k,v -> o -> w1,w3
 *    -> w2`), and before each group after the first the block is run again with the operators
 *    pruned so far to capture `X*`, passed as `inputsPruned` (the first group has `X* = X`:
 *    nothing before it in the block is pruned).
 * 3. **Evaluate** each layer on its calibration inputs: the relative output error
 *    `||W X - W' X||^2 / ||W X||^2` (from `G = X^T X`, shared by the linears that share an input, as
 *    `sum_i d_i^T G d_i / sum_i w_i^T G w_i` with `d = W - W'`, when that is cheaper), achieved
 *    sparsity, and the fraction of mask entries equal to the magnitude mask and to the Wanda mask
 *    at the same target (exact selection: `ewma-exact`, which equals `selectBySort`).
 * 4. **Next inputs.** Sequential (SparseGPT/Wanda default, "pruned activations propagated"): run the
 *    *pruned* block on `h`. `denseInputs` (FISTAPruner): keep the dense block's outputs from step 1,
 *    so every block sees the dense model's activations.
 *
 * Streaming (`blocks`): block `l`'s dense weights are asked for (`load`) when the loop reaches it,
 * and its pruned weights and masks handed on (`done`) once step 4 has run, after which the pipeline
 * holds no reference to them: one block's weights are in memory at a time, not the model's.
 *
 * Timing, memory release and NaN checks are kept out of this reading order: every heavy step goes
 * through {@link step} (which times it), and `free`/`checkFinite` do nothing unless the options ask.
 *
 * Embeddings, norms, biases and the head are never pruned. The result shares those tensors (and every
 * unpruned one) with the input model; the input is never mutated, unless `inPlace` asks for it.
 *
 * @module
 */
import { assertFiniteInputs } from "../check/finite.ts";
import {
  type Block,
  intraLayerGroups,
  linearOf,
  type LinearSpec,
  type Model,
} from "../model/family.ts";
import { embed, linearsOf } from "../model/model.ts";
import type { MethodDescriptor, MethodInfo, MethodOptions } from "../prune/method.ts";
import type { LayerCalibration, PruneResult } from "../prune/types.ts";
import type { Target } from "../select/target.ts";
import type { Matrix } from "../tensor/matrix.ts";
import { release, releaseTiled } from "../tensor/release.ts";
import { type BlockRun, runBlockWindows } from "./block_run.ts";
import { evaluateLayer, gramOf } from "./layer_report.ts";
import type { LayerReport } from "./layer_report.ts";

export type { LayerReport } from "./layer_report.ts";

/** Options of {@link pruneModel}. */
export interface PruneModelOptions {
  /** The method that prunes one linear layer (a descriptor, e.g. `methodByName("swiftprune")`). */
  method: MethodDescriptor;
  /** Options passed to every call of `method`. */
  methodOptions?: MethodOptions;
  /** The sparsity to reach in every linear layer. */
  target: Target;
  /** Feed every block the dense model's activations (FISTAPruner) instead of the pruned ones. */
  denseInputs?: boolean;
  /** FISTAPruner's intra-layer order with `inputsPruned` (see the module header). */
  intraLayer?: boolean;
  /**
   * Write each pruned layer into the input model's own weight array (after its report is made)
   * instead of keeping both: the input model becomes the pruned one, and the pruned model needs no
   * second copy of the linear weights (for llama4m, 17.7 MB less at the peak). Default false: the
   * input is never mutated. `prune` sets it when it prunes one model and keeps no dense copy.
   */
  inPlace?: boolean;
  /**
   * Keep every layer's mask in the result (default true). A run that writes no masks may drop
   * them: 1 byte per pruned weight (4.4 MB for llama4m) less at the peak.
   */
  keepMasks?: boolean;
  /**
   * Free each block's captured inputs and hidden states, and the arrays a method returned that the
   * result does not keep (scores; with `inPlace` the pruned weight; without `keepMasks` the mask),
   * as soon as the pipeline is done with them (`src/tensor/release.ts`), instead of leaving them
   * to the garbage collector, which reclaims them tens of MB later. Only for methods that keep no
   * reference to their calibration arrays or results (the registered ones keep none). Default
   * false.
   */
  releaseArrays?: boolean;
  /**
   * Prune even if a captured calibration input holds NaN or an infinity (default false: a
   * `NonFiniteInputError` of `src/check/finite.ts` names the block, the linears, the window, the
   * token and the column).
   */
  allowNonFinite?: boolean;
  /** Compute the magnitude/Wanda mask agreement of every layer (default true). */
  agreement?: boolean;
  /**
   * Measure each layer's error on at most this many evenly spaced rows of the linear, an estimate
   * with a standard error (`evaluateLayer`; default: every row, exact). The report costs two
   * products the size of the layer's calibration forward; on a 1B model that is most of the run.
   */
  errorRows?: number;
  /**
   * Streaming: the model's blocks are not in memory; each is loaded when the loop reaches it and
   * given back pruned (module header). Only the asynchronous drivers ({@link driveAsync}) run it.
   */
  blocks?: BlockStream;
  /** Called after each step: `done` of `total` steps, with what was just done. */
  onProgress?: (done: number, total: number, label?: string) => void;
  /** Clock in milliseconds (default `performance.now`); tests may pass a fake one. */
  now?: () => number;
}

/** Where a streamed run's blocks come from and go to (`PruneModelOptions.blocks`). */
export interface BlockStream {
  /** Block `layer`'s dense tensors (float32), read when the pipeline reaches it. */
  load(layer: number): Promise<Block>;
  /**
   * Block `layer` pruned, with its masks by layer name (`"layers.<l>.<linear>"`); the pipeline
   * drops the block once this resolves (the result's `weights.blocks[layer]` stays the input's).
   */
  done(layer: number, block: Block, masks: Record<string, Uint8Array>): Promise<void>;
}

/** What {@link pruneModel} returns. */
export interface PruneModelResult<M extends Model = Model> {
  /** The pruned model (shares unpruned tensors with the input). */
  weights: M;
  /** Masks (1 = keep) by layer name, e.g. `"layers.0.wq"` (none with `keepMasks: false`). */
  masks: Record<string, Uint8Array>;
  /** One entry per linear layer, in block order then the order they were pruned in. */
  layers: LayerReport[];
  /** Fraction of the linear layers' weights pruned. */
  sparsity: number;
  /** Time per phase: block forwards, method calls, per-layer evaluation. */
  timesMs: { calibration: number; pruning: number; evaluation: number };
  /** Sums over layers of every numeric `info.timesMs` field the method reported (e.g. updates). */
  methodTimesMs: Record<string, number>;
}

/**
 * Prunes every linear layer of a Llama model block by block on calibration windows.
 *
 * @param weights The dense model (not mutated).
 * @param windows Calibration windows of token ids (e.g. from `sampleWindows`), each of length >= 1.
 * @param options Method, target, propagation mode, progress callback.
 * @returns The pruned model, masks, per-layer report and times.
 * @throws {RangeError} If there is no window or a window is empty; errors of the method propagate.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pruneModel } from "./prune_model.ts";
 * import { methodByName } from "../prune/methods.ts";
 * import { tinyLlama } from "../model/llama.ts";
 * const model = tinyLlama({ seed: 1 });
 * const windows = [Int32Array.from([1, 5, 7, 2]), Int32Array.from([3, 4, 9, 8])];
 * const target = { kind: "unstructured", sparsity: 0.5, group: "row" } as const;
 * const out = pruneModel(model, windows, { method: methodByName("magnitude")!, target });
 * assert.equal(out.layers.length, 7 * model.config.nLayers);
 * assert.equal(out.sparsity, 0.5);
 * assert.equal(out.layers[0].agreeMagnitude, 1);
 * ```
 */
export function pruneModel<M extends Model>(
  weights: M,
  windows: Int32Array[],
  options: PruneModelOptions,
): PruneModelResult<M> {
  return drive(pruneModelSteps(weights, windows, options), runPruneStep);
}

/**
 * Runs a generator of pipeline steps to its end, doing each step with `run`: the one loop every
 * driver uses (in-process, on workers by step, on workers by block).
 *
 * @param steps From {@link pruneModelSteps} or {@link pruneBlockSteps}.
 * @param run Does one step (e.g. {@link runPruneStep}).
 * @returns The generator's return value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drive, pruneModelSteps, runPruneStep } from "./prune_model.ts";
 * import { methodByName } from "../prune/methods.ts";
 * import { tinyLlama } from "../model/llama.ts";
 * const target = { kind: "nm", n: 2, m: 4 } as const, windows = [Int32Array.from([1, 2, 3])];
 * const steps = pruneModelSteps(tinyLlama({ seed: 1 }), windows, { method: methodByName("magnitude")!, target });
 * assert.equal(drive(steps, runPruneStep).sparsity, 0.5);
 * ```
 */
export function drive<R>(
  steps: Generator<PipelineStep, R, PruneStepResult>,
  run: (step: PipelineStep) => PruneStepResult, // runPruneStep refuses a streamed block's io
): R {
  for (let next = steps.next();;) {
    if (next.done) return next.value;
    next = steps.next(run(next.value));
  }
}

/**
 * {@link drive} with a step runner that may be asynchronous (workers).
 *
 * @param steps From {@link pruneModelSteps}.
 * @param run Does one step.
 * @returns The generator's return value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { driveAsync, pruneModelSteps, runPruneStep } from "./prune_model.ts";
 * import { methodByName } from "../prune/methods.ts";
 * import { tinyLlama } from "../model/llama.ts";
 * const target = { kind: "nm", n: 2, m: 4 } as const, windows = [Int32Array.from([1, 2, 3])];
 * const steps = pruneModelSteps(tinyLlama({ seed: 1 }), windows, { method: methodByName("wanda")!, target });
 * assert.equal((await driveAsync(steps, async (s) => runPruneStep(s))).sparsity, 0.5);
 * ```
 */
export async function driveAsync<R>(
  steps: Generator<PipelineStep, R, PruneStepResult>,
  run: (step: PruneStep) => PruneStepResult | Promise<PruneStepResult>,
): Promise<R> {
  for (let next = steps.next();;) {
    if (next.done) return next.value;
    const s = next.value;
    next = steps.next(s.kind === "io" ? (await s.run()) as PruneStepResult : await run(s));
  }
}

/** A block forward over all windows (`runBlockWindows`). */
export interface BlockStep {
  kind: "block";
  weights: Model;
  layer: number;
  /** The block to run in place of `weights.blocks[layer]`. */
  block: Block;
  h: Matrix[];
  /** Capture the linears' inputs. */
  capture: boolean;
}

/** One method call on one linear layer. */
export interface LayerStep {
  kind: "prune";
  method: MethodDescriptor;
  weight: Matrix;
  calib: LayerCalibration;
  target: Target;
  options: MethodOptions;
}

/** The heavy work {@link pruneModelSteps} hands to its driver. */
export type PruneStep = BlockStep | LayerStep;

/** A streamed block's load or hand-over (`BlockStream`), awaited by {@link driveAsync} itself. */
export interface IoStep {
  kind: "io";
  run: () => Promise<unknown>;
}

/** Every step {@link pruneModelSteps} yields. */
export type PipelineStep = PruneStep | IoStep;
/** What a driver answers: a {@link BlockRun} for a block step, a `PruneResult` for a layer step. */
export type PruneStepResult = BlockRun | PruneResult<MethodInfo>;

/**
 * Does one step in-process: the block forward, or the method call.
 *
 * @param step A step yielded by {@link pruneModelSteps}.
 * @returns Its result, to pass back with `steps.next(result)`.
 * @throws Errors of the block forward or of the method.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runPruneStep } from "./prune_model.ts";
 * import { methodByName } from "../prune/methods.ts";
 * import { fromRows } from "../tensor/matrix.ts";
 * const target = { kind: "nm", n: 1, m: 2 } as const;
 * const r = runPruneStep({ kind: "prune", method: methodByName("magnitude")!, weight: fromRows([[1, -3]]), calib: {}, target, options: {} });
 * assert.deepEqual(Array.from((r as { keep: Uint8Array }).keep), [0, 1]);
 * ```
 */
export function runPruneStep(step: PipelineStep): PruneStepResult {
  if (step.kind === "io") {
    throw new TypeError("Cannot prune a streamed model synchronously: use driveAsync");
  }
  if (step.kind === "block") {
    const { weights, layer, block, h, capture } = step;
    return runBlockWindows(weights, layer, h, { block, capture });
  }
  return step.method.prune(step.weight, step.calib, step.target, step.options);
}

/**
 * The loop of {@link pruneModel} as a generator: it yields every block forward and every method
 * call as a {@link PruneStep} and takes the step's result back (`steps.next(result)`), so that a
 * driver may run the steps elsewhere (e.g. on workers, `src/parallel/prune_model_parallel.ts`).
 * Times are measured around each `yield`. Its return value is {@link pruneModel}'s result.
 *
 * @param weights The dense model (not mutated).
 * @param windows Calibration windows of token ids.
 * @param options As {@link pruneModel}.
 * @returns A generator of steps whose return value is the {@link PruneModelResult}.
 * @throws {RangeError} (at the first `next()`) If there is no window or a window is empty.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pruneModelSteps, runPruneStep } from "./prune_model.ts";
 * import { methodByName } from "../prune/methods.ts";
 * import { tinyLlama } from "../model/llama.ts";
 * const target = { kind: "unstructured", sparsity: 0.5, group: "row" } as const;
 * const steps = pruneModelSteps(tinyLlama({ seed: 1 }), [Int32Array.from([1, 2, 3])], { method: methodByName("wanda")!, target });
 * const kinds: string[] = [];
 * let next = steps.next();
 * while (!next.done) {
 *   kinds.push(next.value.kind);
 *   next = steps.next(runPruneStep(next.value));
 * }
 * assert.equal(kinds.filter((k) => k === "prune").length, 14); // 7 linears x 2 blocks
 * assert.equal(next.value.sparsity, 0.5);
 * ```
 */
export function* pruneModelSteps<M extends Model>(
  weights: M,
  windows: Int32Array[],
  options: PruneModelOptions,
): Generator<PipelineStep, PruneModelResult<M>, PruneStepResult> {
  checkWindows(windows);
  const nLayers = weights.config.nLayers, specs = linearsOf(weights);
  const progress = progressCounter(nLayers * stepsPerBlock(specs, options), options.onProgress);
  const acc = blockAccumulator(progress, options.now);
  const blocks = weights.blocks.slice();
  const pruned: M = { ...weights, blocks };
  const stream = options.blocks;
  // streamed: the dense model's blocks are filled in as they are read, and emptied once pruned
  const denseModel: M = stream ? { ...weights, blocks: weights.blocks.slice() } : weights;
  const blockOptions = stream ? { ...options, keepMasks: true } : options; // `done` gets them
  let h = windows.map((w) => embed(weights, w));

  for (let l = 0; l < nLayers; l++) {
    if (stream) denseModel.blocks[l] = blocks[l] = (yield* io(() => stream.load(l))) as Block;
    const { block, dense } = yield* pruneBlockSteps(denseModel, l, h, blockOptions, acc);
    blocks[l] = block;
    const previous = h;
    if (options.denseInputs) h = dense; // FISTAPruner: every block sees the dense activations
    else {
      h = (yield* step(acc, blockStep(pruned, l, block, h, false))).outputs;
      free(options, { outputs: dense, inputs: {} }); // the dense outputs are not used
      progress(`block ${l}: pruned outputs`);
    }
    free(options, { outputs: previous, inputs: {} }); // block l's inputs
    if (stream) {
      const names = specs.map((s) => `layers.${l}.${s.name}`);
      const masks = Object.fromEntries(names.map((n) => [n, acc.masks[n]]));
      if (!(options.keepMasks ?? true)) names.forEach((n) => delete acc.masks[n]);
      yield* io(() => stream.done(l, block, masks));
      denseModel.blocks[l] = blocks[l] = weights.blocks[l]; // the block is released
    }
  }
  return modelResult(pruned, acc);
}

/** Hands a streamed block's load or hand-over to the driver and takes its result back. */
function* io(run: () => Promise<unknown>): Generator<IoStep, unknown, unknown> {
  return yield { kind: "io", run };
}

/** Number of progress steps per block of {@link pruneModelSteps}. */
function stepsPerBlock(specs: readonly LinearSpec[], options: PruneModelOptions): number {
  const reruns = options.intraLayer ? intraLayerGroups(specs).length - 1 : 0;
  return 1 + specs.length + reruns + (options.denseInputs ? 0 : 1);
}

function blockStep(
  model: Model,
  layer: number,
  block: Block,
  h: Matrix[],
  capture = true,
): BlockStep {
  return { kind: "block", weights: model, layer, block, h, capture };
}

/** What a step of each kind gives back. */
type ResultOf<S extends PruneStep> = S extends BlockStep ? BlockRun : PruneResult<MethodInfo>;

/**
 * Hands one step to the driver and takes its result back, adding the time it took to the phase
 * it belongs to (block forwards: calibration; method calls: pruning).
 */
function* step<S extends PruneStep>(
  acc: BlockAccumulator,
  s: S,
): Generator<PruneStep, ResultOf<S>, PruneStepResult> {
  const t0 = acc.now();
  const result = (yield s) as ResultOf<S>;
  acc.times[s.kind === "block" ? "calibration" : "pruning"] += acc.now() - t0;
  return result;
}

/** Runs `f`, adding the time it took to the layer reports' phase. */
function measured<T>(acc: BlockAccumulator, f: () => T): T {
  const t0 = acc.now();
  const value = f();
  acc.times.evaluation += acc.now() - t0;
  return value;
}

/**
 * What the blocks pruned so far have produced: masks, layer reports (block order), times. Filled
 * by {@link pruneBlockSteps}; one per run of the pipeline (or per block on a worker, then merged).
 */
export interface BlockAccumulator {
  masks: Record<string, Uint8Array>;
  layers: LayerReport[];
  times: { calibration: number; pruning: number; evaluation: number };
  methodTimesMs: Record<string, number>;
  progress: (label: string) => void;
  /** The clock of the step times, in milliseconds. */
  now: () => number;
}

/**
 * An empty {@link BlockAccumulator}.
 *
 * @param progress Called with a label after each step (default: nothing).
 * @param now The clock (default `performance.now`).
 * @returns The accumulator.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockAccumulator } from "./prune_model.ts";
 * assert.deepEqual(blockAccumulator().layers, []);
 * ```
 */
export function blockAccumulator(
  progress: (label: string) => void = () => {},
  now: () => number = () => performance.now(),
): BlockAccumulator {
  const times = { calibration: 0, pruning: 0, evaluation: 0 };
  return { masks: {}, layers: [], times, methodTimesMs: {}, progress, now };
}

/**
 * The pipeline's result from the pruned model and what its blocks produced.
 *
 * @param pruned The model with every pruned block in place.
 * @param acc Masks, layer reports and times of all blocks.
 * @returns The {@link PruneModelResult}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockAccumulator, modelResult } from "./prune_model.ts";
 * import { tinyLlama } from "../model/llama.ts";
 * assert.equal(modelResult(tinyLlama({ seed: 1 }), blockAccumulator()).sparsity, 0);
 * ```
 */
export function modelResult<M extends Model>(
  pruned: M,
  acc: BlockAccumulator,
): PruneModelResult<M> {
  return {
    weights: pruned,
    masks: acc.masks,
    layers: acc.layers,
    sparsity: overallSparsity(acc.layers),
    timesMs: acc.times,
    methodTimesMs: acc.methodTimesMs,
  };
}

/**
 * Steps 1-3 of the loop for one block (module header): the dense calibration forward on `h`, the
 * method on each linear (in the intra-layer order with `X*` when `options.intraLayer`), and the
 * layer reports, added to `acc`. A sub-generator of {@link pruneModelSteps}; with `denseInputs`
 * blocks are independent, and `src/parallel/prune_model_parallel.ts` runs one per worker.
 *
 * @param weights The dense model.
 * @param l The block index.
 * @param h The hidden states entering block `l`, one matrix per window.
 * @param options As {@link pruneModel} (`method`, `methodOptions`, `target`, `intraLayer`, `agreement`).
 * @param acc Receives the block's masks, layer reports and times.
 * @returns A generator of steps returning the pruned block and the dense block's outputs.
 * @throws Errors of the method propagate.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockAccumulator, pruneBlockSteps, runPruneStep } from "./prune_model.ts";
 * import { methodByName } from "../prune/methods.ts";
 * import { embed, tinyLlama } from "../model/llama.ts";
 * const w = tinyLlama({ seed: 1 }), acc = blockAccumulator();
 * const target = { kind: "nm", n: 2, m: 4 } as const;
 * const steps = pruneBlockSteps(w, 1, [embed(w, [1, 2, 3])], { method: methodByName("wanda")!, target }, acc);
 * let next = steps.next();
 * while (!next.done) next = steps.next(runPruneStep(next.value));
 * assert.equal(acc.layers.length, 7);
 * assert.equal(acc.layers[0].name, "layers.1.wq");
 * ```
 */
export function* pruneBlockSteps(
  weights: Model,
  l: number,
  h: Matrix[],
  options: PruneModelOptions,
  acc: BlockAccumulator,
): Generator<PruneStep, { block: Block; dense: Matrix[] }, PruneStepResult> {
  const specs = linearsOf(weights), spec = new Map(specs.map((s) => [s.name, s]));
  const windowRows = h.map((m) => m.rows), dense = weights.blocks[l];
  // 1. the dense block's calibration forward: X of every distinct input
  const run = yield* step(acc, blockStep(weights, l, dense, h));
  checkFinite(options, specs, l, run.inputs, windowRows);
  acc.progress(`block ${l}: calibration forward`);

  // 2-3. each linear pruned and reported, group by group in the intra-layer order
  const block: Block = { ...dense };
  const report = layerReporter(l, dense, specs, options);
  const groups = options.intraLayer ? intraLayerGroups(specs) : [specs.map((s) => s.name)];
  for (let g = 0; g < groups.length; g++) {
    let inputsPruned: BlockRun["inputs"] | undefined; // X*: the block's inputs with groups < g pruned
    if (options.intraLayer && g === 0) inputsPruned = run.inputs; // nothing before is pruned
    else if (options.intraLayer) {
      const rerun = yield* step(acc, blockStep(weights, l, block, h));
      const kept = new Set(groups[g].map((name) => spec.get(name)!.input));
      inputsPruned = Object.fromEntries(Object.entries(rerun.inputs).filter(([n]) => kept.has(n)));
      checkFinite(options, specs, l, inputsPruned, windowRows);
      free(options, rerun, inputsPruned); // all but X* of this group
      acc.progress(`block ${l}: forward with ${groups.slice(0, g).flat().join(",")} pruned`);
    }
    for (const name of groups[g]) {
      const w = linearOf(dense, name), input = spec.get(name)!.input;
      const calib: LayerCalibration = { inputs: run.inputs[input] };
      if (inputsPruned) calib.inputsPruned = inputsPruned[input];
      const result = yield* step(acc, {
        kind: "prune",
        method: options.method,
        weight: w,
        calib,
        target: options.target,
        options: options.methodOptions ?? {},
      });
      addMethodTimes(acc.methodTimesMs, result.info);
      const layer = measured(acc, () => report(name, w, result, calib));
      block[name] = adopt(options, w, result);
      if (options.keepMasks ?? true) acc.masks[layer.name] = result.keep;
      acc.layers.push(layer);
      acc.progress(`${layer.name} pruned`);
    }
    if (g > 0) free(options, { outputs: [], inputs: inputsPruned ?? {} });
  }
  free(options, { outputs: [], inputs: run.inputs }); // the block is done
  return { block, dense: run.outputs };
}

/**
 * The pruned weight the block keeps: `result.weight`, or with `inPlace` the dense weight's own
 * array overwritten with it. Frees (with `releaseArrays`) what the result holds that is not kept.
 */
function adopt(options: PruneModelOptions, w: Matrix, result: PruneResult<MethodInfo>): Matrix {
  const release_ = options.releaseArrays ? release : () => 0;
  if (options.inPlace && result.weight.data !== w.data) {
    w.data.set(result.weight.data); // W <- W'; the block keeps W's array
    release_(result.weight.data);
  }
  release_(result.scores?.data, (options.keepMasks ?? true) ? undefined : result.keep);
  return options.inPlace ? w : result.weight;
}

/** Unless `allowNonFinite`: refuses NaN or infinity in captured inputs (`NonFiniteInputError`). */
function checkFinite(
  options: PruneModelOptions,
  specs: readonly LinearSpec[],
  layer: number,
  inputs: BlockRun["inputs"],
  windowRows: number[],
): void {
  if (options.allowNonFinite) return;
  const readers: Record<string, string[]> = {};
  for (const s of specs) (readers[s.input] ??= []).push(s.name);
  assertFiniteInputs(layer, inputs, windowRows, readers);
}

/**
 * The layer report of block `l`'s linears (`evaluateLayer`), computing each distinct input's
 * `G = X^T X` once when the errors are cheaper through it (see {@link gramPays}).
 */
function layerReporter(
  l: number,
  dense: Block,
  specs: readonly LinearSpec[],
  options: PruneModelOptions,
): (
  name: string,
  w: Matrix,
  result: PruneResult<MethodInfo>,
  calib: LayerCalibration,
) => LayerReport {
  const grams = new Map<string, Float64Array | undefined>(); // X^T X per distinct input
  return (name, w, result, calib) => {
    const input = specs.find((s) => s.name === name)!.input;
    if (!grams.has(input)) {
      const readers = specs.filter((s) => s.input === input);
      const pays = gramPays(dense, readers, calib.inputs!, options.errorRows ?? Infinity);
      grams.set(input, pays ? gramOf(calib.inputs!) : undefined);
    }
    return evaluateLayer(`layers.${l}.${name}`, w, result, calib, options.target, {
      agreement: options.agreement ?? true,
      gram: grams.get(input),
      errorRows: options.errorRows,
    });
  };
}

export type { BlockRun } from "./block_run.ts";

/**
 * With `releaseArrays`: frees the arrays of a block run that nothing will read again, all but the
 * inputs in `keep`, at once rather than at the next garbage collection (`src/tensor/release.ts`;
 * shared arrays are kept for reuse, views into a larger buffer left to the collector).
 */
function free(options: PruneModelOptions, run: BlockRun, keep: BlockRun["inputs"] = {}): void {
  if (!options.releaseArrays) return;
  const kept = new Set(Object.values(keep));
  for (const m of Object.values(run.inputs)) if (m !== undefined && !kept.has(m)) release(m.data);
  releaseTiled(run.outputs.map((m) => m.data)); // per-window views of one buffer, or one each
}

/**
 * Whether the errors of the linears reading `input` are cheaper through `G = X^T X`
 * (`tokens * cols^2 + 2 * rows * cols^2`, rows summed over the linears sharing it, at most
 * `errorRows` each) than through the two products `X W^T`, `X (W - W')^T` of each
 * (`2 * tokens * rows * cols`). Multiply-adds.
 */
function gramPays(block: Block, readers: LinearSpec[], x: Matrix, errorRows: number): boolean {
  const rows = readers.reduce((s, r) => s + Math.min(errorRows, linearOf(block, r.name).rows), 0);
  return x.rows * x.cols + 2 * rows * x.cols < 2 * x.rows * rows; // both sides divided by cols
}

function checkWindows(windows: Int32Array[]): void {
  if (!Array.isArray(windows) || windows.length === 0) {
    throw new RangeError(
      `Cannot prune model: need at least one calibration window, got ${windows?.length}`,
    );
  }
  windows.forEach((w, i) => {
    if (!(w instanceof Int32Array)) {
      throw new TypeError(`Cannot prune model: window ${i} is not an Int32Array`);
    }
    if (w.length === 0) throw new RangeError(`Cannot prune model: window ${i} is empty`);
  });
}

function progressCounter(
  total: number,
  onProgress?: PruneModelOptions["onProgress"],
): (label: string) => void {
  let done = 0;
  return (label) => onProgress?.(++done, total, label);
}

function addMethodTimes(sums: Record<string, number>, info: MethodInfo | undefined): void {
  const t = info?.timesMs;
  if (typeof t !== "object" || t === null) return;
  for (const [k, v] of Object.entries(t)) if (typeof v === "number") sums[k] = (sums[k] ?? 0) + v;
}

function overallSparsity(layers: LayerReport[]): number {
  let prunedCount = 0, total = 0;
  for (const r of layers) {
    prunedCount += r.pruned;
    total += r.rows * r.cols;
  }
  return total === 0 ? 0 : prunedCount / total;
}
