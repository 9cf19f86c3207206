/**
 * The whole-model pruning pipeline (`pruneModel` of `src/pipeline/prune_model.ts`) with its work
 * split across the workers of a {@link Pool}:
 *
 * - every calibration forward (the dense block, the block with some operators pruned, the pruned
 *   block's outputs) runs the windows in parallel ({@link blockForwardWindows});
 * - every layer of a row-separable method (magnitude, Wanda, SwiftPrune) with a per-row or N:M
 *   target is scored and selected with its rows split across the workers ({@link pruneLayerParallel});
 *   other methods and per-layer groups run in-process;
 * - with `denseInputs` (FISTAPruner) the blocks are independent: each block, with all its steps,
 *   runs as one task on a worker instead (`./prune_blocks_parallel.ts`);
 * - a streamed model (`options.blocks`) runs the steps above on the pool, each block copied to
 *   shared memory once when it is read (unless its loader already reads into shared memory);
 *   its blocks are never all in memory, so it never runs one block per task.
 *
 * The pipeline's loop is written once, as a generator of steps (`pruneModelSteps`); `pruneModel`
 * runs each step in-process, this driver runs them on the pool. Same masks, pruned weights and
 * layer reports, bitwise (tested); only the times differ. Without a pool (or a pool of size 1)
 * it is `pruneModel`.
 *
 * @module
 */
import {
  driveAsync,
  type PruneModelOptions,
  type PruneModelResult,
  pruneModelSteps,
  type PruneStep,
  type PruneStepResult,
  runPruneStep,
} from "../pipeline/prune_model.ts";
import { linearOf, type Model } from "../model/family.ts";
import { linearsOf } from "../model/model.ts";
import { blockForwardWindows, shareBlock, shareWeights } from "./forward_parallel.ts";
import { type Pool, sharedMemoryAvailable } from "./pool.ts";
import { pruneLayerParallel } from "./prune_parallel.ts";
import { blocksRunInParallel, pruneBlocksParallel } from "./prune_blocks_parallel.ts";

/** Runs one step of the pipeline on the pool. */
async function runStepOnPool(pool: Pool, step: PruneStep): Promise<PruneStepResult> {
  if (step.kind === "block") {
    const { weights, layer, block, h, capture } = step;
    return await blockForwardWindows(pool, weights, layer, h, { block, capture });
  }
  return await pruneLayerParallel(
    pool,
    step.method,
    step.weight,
    step.calib,
    step.target,
    step.options,
  );
}

/**
 * `pruneModel` with the calibration forwards split by windows and row-separable layers split by
 * rows across the pool's workers. Same result as `pruneModel(weights, windows, options)` except
 * the times (and `info.timesMs` of the methods: per phase the slowest worker).
 *
 * @param pool The worker pool, or `undefined` to run in-process (then it is `pruneModel`).
 * @param weights The dense model (not mutated; its tensors are copied to shared memory once).
 * @param windows Calibration windows of token ids.
 * @param options As `pruneModel`.
 * @returns As `pruneModel`.
 * @throws As `pruneModel` (as a rejection).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pruneModel } from "../pipeline/prune_model.ts";
 * import { methodByName } from "../prune/methods.ts";
 * import { tinyLlama } from "../model/llama.ts";
 * import { createPool } from "./pool.ts";
 * import { pruneModelParallel } from "./prune_model_parallel.ts";
 * const model = tinyLlama({ seed: 1 });
 * const windows = [Int32Array.from([1, 5, 7, 2]), Int32Array.from([3, 4, 9, 8])];
 * const options = { method: methodByName("wanda")!, target: { kind: "nm", n: 2, m: 4 } } as const;
 * using pool = createPool({ size: 2 });
 * const parallel = await pruneModelParallel(pool, model, windows, options);
 * assert.deepEqual(parallel.masks, pruneModel(model, windows, options).masks);
 * ```
 */
export async function pruneModelParallel<M extends Model>(
  pool: Pool | undefined,
  weights: M,
  windows: Int32Array[],
  options: PruneModelOptions,
): Promise<PruneModelResult<M>> {
  const parallel = pool !== undefined && pool.size > 1 && sharedMemoryAvailable();
  const streamed = options.blocks;
  if (parallel && !streamed && blocksRunInParallel(pool, options)) { // dense inputs: block per task
    return await pruneBlocksParallel(pool, weights, windows, options);
  }
  const model = parallel ? shareWeights(weights) : weights; // no copy if already shared
  if (parallel && streamed) { // each block read is shared once, for every task that reads it
    options = {
      ...options,
      blocks: { ...streamed, load: async (l) => shareBlock(await streamed.load(l)) },
    };
  }
  const steps = pruneModelSteps(model, windows, options);
  const result = await driveAsync(
    steps,
    (step) => parallel ? runStepOnPool(pool, step) : runPruneStep(step),
  );
  if (options.inPlace && model !== weights) copyLinears(result.weights, weights);
  return result;
}

/**
 * `inPlace` when the pipeline ran on a shared copy (the input was not in shared memory): the
 * pruned linears are copied into the input's arrays, so the input is the pruned model either way.
 * (Pass `shareWeights(model)` to avoid both the copy and this.)
 */
function copyLinears(from: Model, to: Model): void {
  const specs = linearsOf(to);
  from.blocks.forEach((block, l) => {
    for (const { name } of specs) {
      const source = linearOf(block, name).data, target = linearOf(to.blocks[l], name).data;
      if (target !== source) target.set(source);
    }
  });
}
