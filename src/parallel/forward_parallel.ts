/**
 * Forward passes over many windows, split across the workers of a {@link Pool}: perplexity
 * evaluation and the pipeline's block-by-block calibration forward.
 *
 * Windows are independent sequences (each starts at position 0), so a worker can run whole windows
 * with the ordinary single-thread code (`forward`, `blockForward` of `src/model/llama.ts`); nothing
 * inside a window is split. The model is put in shared memory once ({@link shareWeights}) and every
 * task receives it without a copy; big results (hidden states, captured linear inputs) are written
 * into shared buffers at the rows of their window, small ones (per-token NLLs) are returned.
 *
 * Same results as one thread, bitwise (tested):
 * - every window is computed by the same code on the same data as in the single-thread path;
 * - {@link perplexityParallel} gets the per-token NLLs of every window back and adds them in token
 *   order, exactly as `perplexity` does (a float sum depends on its order, so the workers must not
 *   pre-sum);
 * - without a pool, with a pool of size 1 or without `SharedArrayBuffer`, the same task functions
 *   run in-process.
 *
 * Work is handed out one window per task, so a slow worker (on a busy machine) takes fewer.
 *
 * @module
 */
import { perplexityWindows, tokenNll } from "../eval/perplexity.ts";
import type { PerplexityOptions, PerplexityResult } from "../eval/perplexity.ts";
import type { Block, Model, Tensor } from "../model/family.ts";
import { forward } from "../model/model.ts";
import { threadWorkspace } from "../model/workspace.ts";
import {
  BLOCK_TASK_MODULE,
  type BlockRun,
  type BlockRunOptions,
  prepareBlockRun,
  runBlockWindows,
} from "../pipeline/block_run.ts";
import type { Matrix } from "../tensor/matrix.ts";
import { release } from "../tensor/release.ts";
import {
  isShared,
  type Pool,
  sharedCopy,
  sharedFloat32,
  sharedMemoryAvailable,
  toShared,
} from "./pool.ts";

/** The URL workers import to find the window tasks below. */
const THIS_MODULE = import.meta.url;

export { DISTINCT_INPUTS, type DistinctInput, INPUT_OF } from "../model/weights.ts";

/** A tensor in shared memory; a streamed model's placeholder (shape, no values) as it is. */
function shareTensor(t: Tensor): Tensor {
  if (t instanceof Float32Array) return sharedCopy(t);
  return t.data.length === 0 ? t : toShared(t);
}

function isTensor(v: unknown): v is Tensor {
  return v instanceof Float32Array ||
    (typeof v === "object" && v !== null && (v as Matrix).data instanceof Float32Array &&
      typeof (v as Matrix).rows === "number");
}

/**
 * The model with every tensor in shared memory, so that tasks receive it without a copy. Tensors
 * already shared are kept as they are (no copy), so calling it again on its result is cheap; a tied
 * head stays tied (the same object in, the same object out). Works for a model of any family: every
 * tensor field of the model and of its blocks is shared.
 *
 * @param weights The model (not modified).
 * @returns The same model whose matrices and vectors live in `SharedArrayBuffer`s.
 * @throws {TypeError} If shared memory is not available.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "../model/llama.ts";
 * import { isShared } from "./pool.ts";
 * import { shareWeights } from "./forward_parallel.ts";
 * const w = shareWeights(tinyLlama({ seed: 1 }));
 * assert.ok(isShared(w.blocks[0].wq.data) && isShared(w.rmsFinal));
 * assert.equal(w.classifier, w.tokenEmbedding); // still tied
 * assert.equal(shareWeights(w).blocks[1].w2.data, w.blocks[1].w2.data); // no second copy
 * ```
 */
export function shareWeights<M extends Model>(weights: M): M {
  const done = new Map<Tensor, Tensor>();
  const share = <T>(t: T): T => {
    if (!isTensor(t)) return t;
    let s = done.get(t);
    if (s === undefined) done.set(t, s = shareTensor(t));
    return s as T;
  };
  const shared = Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, share(v)])) as M;
  shared.blocks = weights.blocks.map((b) =>
    Object.fromEntries(Object.entries(b).map(([k, t]) => [k, share(t)]))
  );
  return shared;
}

/**
 * One block with every tensor in shared memory (tensors already shared are kept): a block read
 * when a streamed run reaches it, shared once for all the tasks that read it.
 *
 * @param block The block (not modified).
 * @returns The block whose tensors live in `SharedArrayBuffer`s.
 * @throws {TypeError} If shared memory is not available.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "../model/llama.ts";
 * import { isShared } from "./pool.ts";
 * import { shareBlock } from "./forward_parallel.ts";
 * const b = shareBlock(tinyLlama({ seed: 1 }).blocks[0]);
 * assert.ok(isShared(b.wq.data) && isShared(b.rmsAtt));
 * assert.equal(shareBlock(b).w2.data, b.w2.data); // no second copy
 * ```
 */
export function shareBlock<B extends object = Block>(block: B): B {
  const share = (t: unknown) => isTensor(t) ? shareTensor(t) : t;
  return Object.fromEntries(Object.entries(block).map(([k, t]) => [k, share(t)])) as B;
}

/** Whether work should go to the pool (else it runs in-process, with the same results). */
function usePool(pool: Pool | undefined, tasks: number): pool is Pool {
  return pool !== undefined && pool.size > 1 && tasks > 1 && sharedMemoryAvailable();
}

// ---------------------------------------------------------------------------------------------
// perplexity

/**
 * Worker task: the NLL of every predicted token of windows `[first, end)` of `ids` (window `w` is
 * `ids[w * seqlen, (w + 1) * seqlen)`; tokens 2..seqlen of it are predicted), in token order.
 *
 * @param weights The model (shared memory when called from a worker).
 * @param ids The encoded text.
 * @param seqlen Window length, >= 2.
 * @param first First window.
 * @param end One past the last window.
 * @returns `Float64Array((end - first) * (seqlen - 1))` of NLLs in nats.
 * @throws {RangeError} If a token id is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "../model/llama.ts";
 * import { windowNllsTask } from "./forward_parallel.ts";
 * const nlls = windowNllsTask(tinyLlama({ seed: 1 }), Int32Array.from([1, 2, 3, 4, 5, 6]), 3, 1, 2);
 * assert.equal(nlls.length, 2);
 * assert.ok(nlls.every((v) => v > 0));
 * ```
 */
export function windowNllsTask(
  weights: Model,
  ids: Int32Array,
  seqlen: number,
  first: number,
  end: number,
): Float64Array {
  const vocab = weights.config.vocabSize, out = new Float64Array((end - first) * (seqlen - 1));
  const ws = threadWorkspace(seqlen);
  for (let w = first, o = 0; w < end; w++) {
    const window = ids.subarray(w * seqlen, (w + 1) * seqlen);
    const logits = forward(weights, window, undefined, ws); // row t predicts token t+1
    for (let t = 0; t + 1 < seqlen; t++, o++) {
      out[o] = tokenNll(logits.data.subarray(t * vocab, (t + 1) * vocab), window[t + 1]);
    }
  }
  return out;
}

/**
 * `perplexity` of `src/eval/perplexity.ts` with the windows split across the pool's workers; the
 * same protocol, options, errors and (bitwise) result.
 *
 * @param pool The worker pool, or `undefined` to run in-process.
 * @param weights The model (not modified; shared once with {@link shareWeights} to avoid a copy
 *   per call).
 * @param ids The whole text encoded once, with BOS.
 * @param options `seqlen`, optional `maxTokens` and `onProgress` (called per finished window, in
 *   the order windows finish).
 * @returns `{ ppl, nll, predicted, windows }`, equal to `perplexity(weights, ids, options)`.
 * @throws {TypeError} If `ids` is not an Int32Array.
 * @throws {RangeError} If `seqlen < 2`, `maxTokens < 1`, fewer than `seqlen` tokens are
 *   available, or a token id is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perplexity } from "../eval/perplexity.ts";
 * import { tinyLlama } from "../model/llama.ts";
 * import { createPool } from "./pool.ts";
 * import { perplexityParallel } from "./forward_parallel.ts";
 * const w = tinyLlama({ seed: 1 }), ids = Int32Array.from({ length: 20 }, (_, i) => (i * 7) % 16);
 * const pool = createPool({ size: 2 });
 * try {
 *   assert.deepEqual(await perplexityParallel(pool, w, ids, { seqlen: 5 }), perplexity(w, ids, { seqlen: 5 }));
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export async function perplexityParallel(
  pool: Pool | undefined,
  weights: Model,
  ids: Int32Array,
  options: PerplexityOptions,
): Promise<PerplexityResult> {
  const windows = perplexityWindows(ids, options), seqlen = options.seqlen;
  const used = ids.slice(0, windows * seqlen);
  let parts: Float64Array[];
  if (usePool(pool, windows)) {
    const shared = shareWeights(weights);
    const args = Array.from({ length: windows }, (_, w) => [shared, used, seqlen, w, w + 1]);
    parts = await pool.map<Float64Array>(THIS_MODULE, "windowNllsTask", args, {
      onProgress: (done, total) => options.onProgress?.(done, total, "eval"),
    });
  } else {
    parts = [];
    for (let w = 0; w < windows; w++) {
      parts.push(windowNllsTask(weights, used, seqlen, w, w + 1));
      options.onProgress?.(w + 1, windows, "eval");
    }
  }
  let total = 0;
  const windowNlls: number[] = [];
  for (const part of parts) {
    let windowTotal = 0;
    for (const nll of part) {
      total += nll; // token order, as perplexity
      windowTotal += nll;
    }
    windowNlls.push(windowTotal / (seqlen - 1));
  }
  const predicted = windows * (seqlen - 1), nll = total / predicted;
  return { ppl: Math.exp(nll), nll, predicted, windows, windowNlls };
}

// ---------------------------------------------------------------------------------------------
// one decoder block over many windows (the pipeline's calibration forward)

/** Options of {@link blockForwardWindows}. */
export type BlockWindowsOptions = BlockRunOptions;

/** What {@link blockForwardWindows} returns. */
export type BlockWindowsRun = BlockRun;

/**
 * One decoder block over many windows (each a sequence starting at position 0), split by windows
 * across the pool's workers, capturing the inputs of its linears: the pipeline's calibration
 * forward. Bitwise equal to calling `blockForward` on every window in turn.
 *
 * @param pool The worker pool, or `undefined` to run in-process.
 * @param weights The model (not modified; share it once with {@link shareWeights}).
 * @param layer Block index in `[0, nLayers)`.
 * @param h Hidden states entering the block, one `[T_w, dim]` matrix per window (not modified).
 * @param options `capture` (default true) and `block` to run instead of `weights.blocks[layer]`.
 * @returns The outputs per window and the captured inputs (see {@link BlockWindowsRun}); with a
 *   pool they live in shared memory.
 * @throws {RangeError} If there is no window or `layer` is out of range.
 * @throws {TypeError} If a window is not a `[T, dim]` matrix.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockForward, embed, tinyLlama } from "../model/llama.ts";
 * import { createPool } from "./pool.ts";
 * import { blockForwardWindows } from "./forward_parallel.ts";
 * const w = tinyLlama({ seed: 1 }), h = [embed(w, [1, 2, 3]), embed(w, [4, 5])];
 * const pool = createPool({ size: 2 });
 * try {
 *   const run = await blockForwardWindows(pool, w, 1, h);
 *   assert.deepEqual(run.outputs[1].data, blockForward(w, 1, h[1]).data);
 *   assert.deepEqual([run.inputs.w2!.rows, run.inputs.w2!.cols], [5, w.config.hiddenDim]);
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export async function blockForwardWindows(
  pool: Pool | undefined,
  weights: Model,
  layer: number,
  h: Matrix[],
  options: BlockWindowsOptions = {},
): Promise<BlockWindowsRun> {
  if (!usePool(pool, h.length)) return runBlockWindows(weights, layer, h, options);
  let model = weights;
  if (options.block !== undefined) { // swapped in before sharing, so the block is shared too
    const blocks = weights.blocks.slice();
    blocks[layer] = options.block;
    model = { ...weights, blocks };
  }
  const windows = h.map((m) => (isShared(m.data) ? m : toShared(m))); // workers read them in place
  const capture = options.capture;
  const run = prepareBlockRun(shareWeights(model), layer, windows, { capture }, sharedFloat32);
  await pool.map(BLOCK_TASK_MODULE, "blockWindowsTask", h.map((_, w) => run.args(w, w + 1)));
  windows.forEach((m, w) => m !== h[w] && release(m.data)); // our shared copies: done
  return run.finish();
}
