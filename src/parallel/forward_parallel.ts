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
import { release } from "../tensor/release.ts";
import { perplexityWindows, tokenNll } from "../eval/perplexity.ts";
import type { PerplexityOptions, PerplexityResult } from "../eval/perplexity.ts";
import { blockForward, forward, threadWorkspace } from "../model/llama.ts";
import type { LinearName, LlamaBlock, LlamaWeights } from "../model/weights.ts";
import { checkMatrix, type Matrix } from "../tensor/matrix.ts";
import { isShared, type Pool, sharedFloat32, sharedMemoryAvailable, toShared } from "./pool.ts";
import { DISTINCT_INPUTS, type DistinctInput } from "../model/weights.ts";

/** The URL workers import to find the window tasks below. */
const THIS_MODULE = import.meta.url;

export { DISTINCT_INPUTS, type DistinctInput, INPUT_OF } from "../model/weights.ts";

function sharedVector(v: Float32Array): Float32Array {
  if (isShared(v)) return v;
  const out = sharedFloat32(v.length);
  out.set(v);
  return out;
}

/**
 * The model with every tensor in shared memory, so that tasks receive it without a copy. Tensors
 * already shared are kept as they are (no copy), so calling it again on its result is cheap; a tied
 * classifier stays tied.
 *
 * @param weights The model (not modified).
 * @returns The same model whose matrices and norm gains live in `SharedArrayBuffer`s.
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
export function shareWeights(weights: LlamaWeights): LlamaWeights {
  const tokenEmbedding = toShared(weights.tokenEmbedding);
  const classifier = weights.classifier === weights.tokenEmbedding
    ? tokenEmbedding
    : toShared(weights.classifier);
  const blocks = weights.blocks.map((b): LlamaBlock => ({
    rmsAtt: sharedVector(b.rmsAtt),
    wq: toShared(b.wq),
    wk: toShared(b.wk),
    wv: toShared(b.wv),
    wo: toShared(b.wo),
    rmsFfn: sharedVector(b.rmsFfn),
    w1: toShared(b.w1),
    w2: toShared(b.w2),
    w3: toShared(b.w3),
  }));
  return {
    config: weights.config,
    tokenEmbedding,
    blocks,
    rmsFinal: sharedVector(weights.rmsFinal),
    classifier,
  };
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
  weights: LlamaWeights,
  ids: Int32Array,
  seqlen: number,
  first: number,
  end: number,
): Float64Array {
  const vocab = weights.config.vocabSize, out = new Float64Array((end - first) * (seqlen - 1));
  const ws = threadWorkspace(weights.config, seqlen);
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
  weights: LlamaWeights,
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
export interface BlockWindowsOptions {
  /** Capture the inputs of the block's linears (default true). */
  capture?: boolean;
  /** Run this block instead of `weights.blocks[layer]` (e.g. one being pruned). */
  block?: LlamaBlock;
}

/** What {@link blockForwardWindows} returns. */
export interface BlockWindowsRun {
  /** The block's output `[T_w, dim]` for every window, in window order. */
  outputs: Matrix[];
  /**
   * With `capture`: the input of each distinct linear, windows concatenated in order
   * (`[sum T_w, in]`); wk and wv use `wq`'s, w3 uses `w1`'s. Empty without `capture`.
   */
  inputs: Partial<Record<DistinctInput, Matrix>>;
}

/** Where the windows are in the concatenated `[tokens, ...]` buffers. */
interface WindowRows {
  /** `starts[w]` = first row of window w; `starts[n]` = total tokens. */
  starts: number[];
}

/**
 * Worker task: runs block `layer` on windows `[first, end)` whose hidden states are rows
 * `[starts[w], starts[w+1])` of `hidden` (`[tokens, dim]`), writing the outputs at the same rows of
 * `out` and, when `captures` is given, each distinct linear input at the same rows of its buffer.
 *
 * @param weights The model (shared memory when called from a worker).
 * @param layer Block index.
 * @param hidden All windows' hidden states, concatenated, `Float32Array(tokens * dim)`.
 * @param rows Window starts (`{ starts }`, length windows + 1).
 * @param first First window.
 * @param end One past the last window.
 * @param out Output `Float32Array(tokens * dim)`; only this task's rows are written.
 * @param captures `Float32Array(tokens * in)` per distinct input, or `null` not to capture.
 * @throws {RangeError} If `layer` is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockForward, embed, tinyLlama } from "../model/llama.ts";
 * import { blockWindowsTask } from "./forward_parallel.ts";
 * const w = tinyLlama({ seed: 1 }), h = embed(w, [1, 2, 3]);
 * const out = new Float32Array(h.data.length);
 * blockWindowsTask(w, 0, h.data, { starts: [0, 3] }, 0, 1, out, null);
 * assert.deepEqual(out, blockForward(w, 0, h).data);
 * ```
 */
export function blockWindowsTask(
  weights: LlamaWeights,
  layer: number,
  hidden: Float32Array,
  rows: WindowRows,
  first: number,
  end: number,
  out: Float32Array,
  captures: Record<DistinctInput, Float32Array> | null,
): void {
  const dim = weights.config.dim, { starts } = rows;
  for (let w = first; w < end; w++) {
    const r0 = starts[w], r1 = starts[w + 1];
    const h = { data: hidden.subarray(r0 * dim, r1 * dim), rows: r1 - r0, cols: dim };
    const hooks = captures === null ? {} : {
      onLinearInput(_layer: number, name: LinearName, x: Matrix) {
        const buffer = captures[name as DistinctInput];
        if (buffer !== undefined) buffer.set(x.data, r0 * x.cols);
      },
    };
    out.set(
      blockForward(weights, layer, h, hooks, threadWorkspace(weights.config, r1 - r0)).data,
      r0 * dim,
    );
  }
}

/** The input width of each distinct linear input of a block. */
function inputWidths(weights: LlamaWeights): Record<DistinctInput, number> {
  const { dim, hiddenDim } = weights.config;
  return { wq: dim, wo: dim, w1: dim, w2: hiddenDim };
}

function checkHidden(weights: LlamaWeights, h: Matrix[]): void {
  if (!Array.isArray(h) || h.length === 0) {
    throw new RangeError(`Cannot run a block over windows: need at least one window, got ${h}`);
  }
  h.forEach((m, w) => {
    checkMatrix(m, `hidden states of window ${w}`);
    if (m.cols !== weights.config.dim) {
      throw new TypeError(
        `Cannot run a block over windows: window ${w} is [${m.rows}, ${m.cols}], expected [T, ${weights.config.dim}]`,
      );
    }
  });
}

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
  weights: LlamaWeights,
  layer: number,
  h: Matrix[],
  options: BlockWindowsOptions = {},
): Promise<BlockWindowsRun> {
  checkHidden(weights, h);
  let model = weights;
  if (options.block !== undefined) {
    const blocks = weights.blocks.slice();
    blocks[layer] = options.block;
    model = { ...weights, blocks };
  }
  const parallel = usePool(pool, h.length);
  const alloc = (n: number) => parallel ? sharedFloat32(n) : new Float32Array(n);
  const starts = [0];
  for (const m of h) starts.push(starts[starts.length - 1] + m.rows);
  const tokens = starts[h.length], dim = weights.config.dim;
  const hidden = alloc(tokens * dim), out = alloc(tokens * dim);
  h.forEach((m, w) => hidden.set(m.data, starts[w] * dim));
  const widths = inputWidths(weights);
  const captures = options.capture === false ? null : Object.fromEntries(
    DISTINCT_INPUTS.map((name) => [name, alloc(tokens * widths[name])]),
  ) as Record<DistinctInput, Float32Array>;
  if (parallel) {
    const shared = shareWeights(model);
    const args = h.map((_, w) => [shared, layer, hidden, { starts }, w, w + 1, out, captures]);
    await pool.map(THIS_MODULE, "blockWindowsTask", args);
  } else {
    blockWindowsTask(model, layer, hidden, { starts }, 0, h.length, out, captures);
  }
  release(hidden); // our copy of the inputs: done
  const outputs = h.map((_, w) => ({
    data: out.subarray(starts[w] * dim, starts[w + 1] * dim),
    rows: starts[w + 1] - starts[w],
    cols: dim,
  }));
  const inputs: Partial<Record<DistinctInput, Matrix>> = {};
  if (captures !== null) {
    for (const name of DISTINCT_INPUTS) {
      inputs[name] = { data: captures[name], rows: tokens, cols: widths[name] };
    }
  }
  return { outputs, inputs };
}
