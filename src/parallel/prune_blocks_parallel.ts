/**
 * Whole-model pruning with dense inputs (FISTAPruner's mode, Zhao et al. arXiv:2408.03728): every
 * block is fed the DENSE model's hidden states, so the blocks are independent and
 * each one, with its whole intra-layer sequence of method calls, runs as one task on a worker.
 *
 * 1. **Dense pass.** Embed the calibration windows and run the dense blocks `0 .. L-2` on them
 *    (each block's windows split across the workers), keeping the hidden states entering every
 *    block in shared memory: `h_0, ..., h_{L-1}` (L x tokens x dim floats at once).
 * 2. **Blocks.** One task per block ({@link pruneBlockTask}): it runs `pruneBlockSteps` of
 *    `src/pipeline/prune_model.ts` in-process on `h_l` (the same code as the serial pipeline: the
 *    dense calibration forward, the method calls in order with `X*`, the layer reports) and sends
 *    back the pruned linears, masks, layer reports and its times.
 * 3. **Merge** in block order.
 *
 * The weights, masks and reports equal `pruneModel`'s bitwise (tested): every float is computed by
 * the same functions on the same inputs in the same order (the dense outputs of step 1 equal those
 * of the serial calibration forward, which the serial loop passes on with `denseInputs`).
 *
 * Times: `methodTimesMs` are summed over blocks (work). `timesMs.calibration` starts with the dense
 * pass's wall time; the wall time of the block phase is then split across calibration, pruning and
 * evaluation in the proportion of their per-block sums (the phases overlap on the workers), so the
 * three add up to the wall time.
 *
 * @module
 */
import { type Block, linearOf, type Model } from "../model/family.ts";
import { embed, linearsOf } from "../model/model.ts";
import {
  blockAccumulator,
  drive,
  modelResult,
  pruneBlockSteps,
  pruneModel,
  type PruneModelOptions,
  type PruneModelResult,
  pruneModelSteps,
  runPruneStep,
} from "../pipeline/prune_model.ts";
import type { LayerReport } from "../pipeline/layer_report.ts";
import type { MethodOptions } from "../prune/method.ts";
import { isRegistered, methodByName } from "../prune/methods.ts";
import type { Target } from "../select/target.ts";
import type { Matrix } from "../tensor/matrix.ts";
import { blockForwardWindows, shareWeights } from "./forward_parallel.ts";
import { type Pool, sharedMemoryAvailable, toShared } from "./pool.ts";

/** The URL workers import to find {@link pruneBlockTask}. */
const THIS_MODULE = import.meta.url;

/** The part of `PruneModelOptions` a worker needs (functions cannot be sent: the method by name). */
export interface BlockTaskOptions {
  /** The name of a registered method. */
  method: string;
  methodOptions: MethodOptions;
  target: Target;
  intraLayer: boolean;
  agreement: boolean;
  /** As `PruneModelOptions.errorRows` (default: every row). */
  errorRows?: number;
  /** As `PruneModelOptions.allowNonFinite` (default false). */
  allowNonFinite?: boolean;
}

/** What {@link pruneBlockTask} sends back. */
export interface BlockTaskResult {
  /** The pruned linears of the block. */
  linears: Record<string, Matrix>;
  masks: Record<string, Uint8Array>;
  layers: LayerReport[];
  times: { calibration: number; pruning: number; evaluation: number };
  methodTimesMs: Record<string, number>;
}

/**
 * Worker task: prunes block `layer` of `weights` fed with the hidden states `h` (the serial
 * pipeline's per-block steps, run in-process).
 *
 * @param weights The dense model (shared memory, so nothing is copied).
 * @param layer The block index.
 * @param h The hidden states entering the block, one `[T_w, dim]` matrix per window.
 * @param options Method name, method options, target, `intraLayer`, `agreement`.
 * @returns The pruned linears, masks, layer reports and the block's times.
 * @throws {RangeError} If `options.method` is not a registered method; errors of the method.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embed, tinyLlama } from "../model/llama.ts";
 * import { pruneBlockTask } from "./prune_blocks_parallel.ts";
 * const w = tinyLlama({ seed: 1 });
 * const target = { kind: "nm", n: 2, m: 4 } as const;
 * const options = { method: "wanda", methodOptions: {}, target, intraLayer: true, agreement: false };
 * const r = pruneBlockTask(w, 0, [embed(w, [1, 2, 3])], options);
 * assert.equal(r.layers.length, 7);
 * assert.equal(r.masks["layers.0.w2"].length, w.blocks[0].w2.data.length);
 * ```
 */
export function pruneBlockTask(
  weights: Model,
  layer: number,
  h: Matrix[],
  options: BlockTaskOptions,
): BlockTaskResult {
  const method = methodByName(options.method);
  if (method === undefined) {
    throw new RangeError(`Cannot prune block ${layer}: no method named "${options.method}"`);
  }
  const acc = blockAccumulator();
  // a registered method keeps no references: the block's arrays are freed as soon as they are done
  const steps = pruneBlockSteps(
    weights,
    layer,
    h,
    { ...options, method, releaseArrays: true },
    acc,
  );
  const { block } = drive(steps, runPruneStep);
  const linears: Record<string, Matrix> = {};
  for (const { name } of linearsOf(weights)) linears[name] = linearOf(block, name);
  const { masks, layers, times, methodTimesMs } = acc;
  return { linears, masks, layers, times, methodTimesMs };
}

/**
 * Whether {@link pruneBlocksParallel} can run these options: dense inputs, a registered method,
 * a pool of 2 or more workers, shared memory.
 *
 * @param pool The pool, if any.
 * @param options The pipeline's options.
 * @returns True when the blocks can be pruned one per task.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodByName } from "../prune/methods.ts";
 * import { blocksRunInParallel } from "./prune_blocks_parallel.ts";
 * const target = { kind: "nm", n: 2, m: 4 } as const;
 * assert.equal(blocksRunInParallel(undefined, { method: methodByName("fista")!, target, denseInputs: true }), false);
 * ```
 */
export function blocksRunInParallel(
  pool: Pool | undefined,
  options: PruneModelOptions,
): boolean {
  return pool !== undefined && pool.size > 1 && options.denseInputs === true &&
    isRegistered(options.method) && sharedMemoryAvailable();
}

/**
 * `pruneModel` with dense inputs, one block per worker task (module doc). Falls back to the
 * in-process pipeline when {@link blocksRunInParallel} is false.
 *
 * @param pool The worker pool (or `undefined`: in-process).
 * @param weights The dense model (not mutated; copied to shared memory once).
 * @param windows Calibration windows of token ids.
 * @param options As `pruneModel`; `denseInputs` must be on for the parallel path.
 * @returns As `pruneModel` (same weights, masks, reports; times as in the module doc).
 * @throws As `pruneModel` (as a rejection).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pruneModel } from "../pipeline/prune_model.ts";
 * import { methodByName } from "../prune/methods.ts";
 * import { tinyLlama } from "../model/llama.ts";
 * import { createPool } from "./pool.ts";
 * import { pruneBlocksParallel } from "./prune_blocks_parallel.ts";
 * const model = tinyLlama({ seed: 1 });
 * const windows = [Int32Array.from([1, 5, 7, 2]), Int32Array.from([3, 4, 9, 8])];
 * const target = { kind: "nm", n: 2, m: 4 } as const;
 * const options = { method: methodByName("fista")!, target, denseInputs: true, intraLayer: true };
 * using pool = createPool({ size: 2 });
 * const parallel = await pruneBlocksParallel(pool, model, windows, options);
 * assert.deepEqual(parallel.masks, pruneModel(model, windows, options).masks);
 * ```
 */
export async function pruneBlocksParallel<M extends Model>(
  pool: Pool | undefined,
  weights: M,
  windows: Int32Array[],
  options: PruneModelOptions,
): Promise<PruneModelResult<M>> {
  if (pool === undefined || !blocksRunInParallel(pool, options)) {
    return pruneModel(weights, windows, options);
  }
  pruneModelSteps(weights, windows, options).next(); // the serial pipeline's input checks
  const now = options.now ?? (() => performance.now());
  const shared = shareWeights(weights), nLayers = weights.config.nLayers;
  const t0 = now();
  const hs: Matrix[][] = [windows.map((w) => toShared(embed(weights, w)))]; //       h_0
  for (let l = 0; l + 1 < nLayers; l++) {
    const run = await blockForwardWindows(pool, shared, l, hs[l], { capture: false });
    hs.push(run.outputs); //                                                        h_{l+1}, shared
  }
  const densePassMs = now() - t0;
  const taskOptions: BlockTaskOptions = {
    method: options.method.name,
    methodOptions: options.methodOptions ?? {},
    target: options.target,
    intraLayer: options.intraLayer ?? false,
    agreement: options.agreement ?? true,
    ...(options.errorRows === undefined ? {} : { errorRows: options.errorRows }),
    allowNonFinite: options.allowNonFinite ?? false,
  };
  const t1 = now();
  const results = await pool.map<BlockTaskResult>(
    THIS_MODULE,
    "pruneBlockTask",
    hs.map((h, l) => [shared, l, h, taskOptions]),
    { onProgress: (done, total) => options.onProgress?.(done, total, `${done} blocks pruned`) },
  );
  return merge(weights, results, densePassMs, now() - t1, options);
}

/** The blocks' results in block order, as `pruneModel`'s result (times: module doc). */
function merge<M extends Model>(
  weights: M,
  results: BlockTaskResult[],
  densePassMs: number,
  blockPhaseMs: number,
  options: Pick<PruneModelOptions, "inPlace" | "keepMasks">,
): PruneModelResult<M> {
  const acc = blockAccumulator();
  const blocks: Block[] = results.map((r, l) => {
    if (!options.inPlace) return { ...weights.blocks[l], ...r.linears };
    for (const [name, m] of Object.entries(r.linears)) {
      linearOf(weights.blocks[l], name).data.set(m.data); // the input becomes the pruned model
    }
    return { ...weights.blocks[l] };
  });
  const work = { calibration: 0, pruning: 0, evaluation: 0 };
  for (const r of results) {
    if (options.keepMasks ?? true) Object.assign(acc.masks, r.masks);
    acc.layers.push(...r.layers);
    for (const k of ["calibration", "pruning", "evaluation"] as const) work[k] += r.times[k];
    for (const [k, v] of Object.entries(r.methodTimesMs)) {
      acc.methodTimesMs[k] = (acc.methodTimesMs[k] ?? 0) + v;
    }
  }
  const scale = blockPhaseMs / Math.max(1e-9, work.calibration + work.pruning + work.evaluation);
  acc.times.calibration = densePassMs + work.calibration * scale;
  acc.times.pruning = work.pruning * scale;
  acc.times.evaluation = work.evaluation * scale;
  return modelResult({ ...weights, blocks }, acc);
}
