/**
 * One decoder block over many calibration windows, capturing the inputs of its prunable linears:
 * the pipeline's calibration forward, written once. In-process ({@link runBlockWindows}) the task
 * runs over all windows; on workers (`src/parallel/forward_parallel.ts`) the same task runs one
 * window per worker task, writing into shared buffers. Either way every window is computed by the
 * family's `blockForward` on the same data, so the results are bitwise the same.
 *
 * Layout: the windows' rows are concatenated, window w at rows `[starts[w], starts[w+1])`, both in
 * the output `[tokens, dim]` and in each captured input `[tokens, in]` (one per distinct input of
 * the family: linears that read the same tensor share it).
 *
 * @module
 */
import { type Block, distinctInputs, linearOf, type Model } from "../model/family.ts";
import { familyOf } from "../model/families.ts";
import { threadWorkspace } from "../model/workspace.ts";
import { checkMatrix, type Matrix } from "../tensor/matrix.ts";

/** The URL workers import to find {@link blockWindowsTask}. */
export const BLOCK_TASK_MODULE = import.meta.url;

/** The block's outputs per window and (when captured) its linears' inputs, windows concatenated. */
export interface BlockRun {
  /** The block's output `[T_w, dim]` for every window, in window order. */
  outputs: Matrix[];
  /**
   * The input of each distinct linear input (by the first linear reading it), `[sum T_w, in]`;
   * empty without capture.
   */
  inputs: Partial<Record<string, Matrix>>;
}

/** Options of {@link runBlockWindows}. */
export interface BlockRunOptions {
  /** Capture the inputs of the block's linears (default true). */
  capture?: boolean;
  /** Run this block instead of `model.blocks[layer]` (e.g. one being pruned). */
  block?: Block;
}

/**
 * Task: runs block `layer` on windows `[first, end)` of `h`, writing window w's output at rows
 * `[starts[w], starts[w+1])` of `out` (`[tokens, dim]`) and, when `captures` is given, each
 * distinct linear input at the same rows of its buffer.
 *
 * @param model The model (shared memory when called from a worker).
 * @param layer Block index.
 * @param h The hidden states entering the block, one `[T_w, dim]` matrix per window.
 * @param starts Window starts (length windows + 1).
 * @param first First window.
 * @param end One past the last window.
 * @param out Output `Float32Array(tokens * dim)`; only these windows' rows are written.
 * @param captures `Float32Array(tokens * in)` per distinct input, or `null` not to capture.
 * @throws {RangeError} If `layer` is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockForward, embed, tinyLlama } from "../model/llama.ts";
 * import { blockWindowsTask } from "./block_run.ts";
 * const w = tinyLlama({ seed: 1 }), h = embed(w, [1, 2, 3]);
 * const out = new Float32Array(h.data.length);
 * blockWindowsTask(w, 0, [h], [0, 3], 0, 1, out, null);
 * assert.deepEqual(out, blockForward(w, 0, h).data);
 * ```
 */
export function blockWindowsTask(
  model: Model,
  layer: number,
  h: Matrix[],
  starts: number[],
  first: number,
  end: number,
  out: Float32Array,
  captures: Record<string, Float32Array> | null,
): void {
  const family = familyOf(model), dim = model.config.dim;
  for (let w = first; w < end; w++) {
    const r0 = starts[w];
    const hooks = captures === null ? {} : {
      onLinearInput(_layer: number, name: string, x: Matrix) {
        captures[name]?.set(x.data, r0 * x.cols); // linears sharing an input: only the first's
      },
    };
    const y = family.blockForward(model, layer, h[w], hooks, threadWorkspace(h[w].rows));
    out.set(y.data, r0 * dim);
  }
}

/** A block run being prepared: the task's arguments per window range, and its result after. */
export interface PreparedBlockRun {
  /** The model with the block to run in place. */
  model: Model;
  /** The arguments of {@link blockWindowsTask} for windows `[first, end)`. */
  args(first: number, end: number): Parameters<typeof blockWindowsTask>;
  /** The run's result, once the task has run over every window. */
  finish(): BlockRun;
}

/**
 * Checks the windows and allocates the run's buffers (with `alloc`, e.g. shared memory for
 * workers): the shared part of {@link runBlockWindows} and its parallel twin.
 *
 * @param model The model (not modified).
 * @param layer Block index.
 * @param h Hidden states entering the block, one `[T_w, dim]` matrix per window.
 * @param options `capture` and `block`.
 * @param alloc Allocates a float32 buffer (default `new Float32Array`).
 * @returns The prepared run.
 * @throws {RangeError} If there is no window.
 * @throws {TypeError} If a window is not a `[T, dim]` matrix.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embed, tinyLlama } from "../model/llama.ts";
 * import { blockWindowsTask, prepareBlockRun } from "./block_run.ts";
 * const w = tinyLlama({ seed: 1 });
 * const run = prepareBlockRun(w, 0, [embed(w, [1, 2]), embed(w, [3])]);
 * blockWindowsTask(...run.args(0, 2));
 * assert.deepEqual(Object.keys(run.finish().inputs), ["wq", "wo", "w1", "w2"]);
 * ```
 */
export function prepareBlockRun(
  model: Model,
  layer: number,
  h: Matrix[],
  options: BlockRunOptions = {},
  alloc: (n: number) => Float32Array = (n) => new Float32Array(n),
): PreparedBlockRun {
  checkHidden(model, h);
  const nLayers = model.config.nLayers;
  if (!Number.isInteger(layer) || layer < 0 || layer >= nLayers) {
    throw new RangeError(`Cannot run block ${layer}: the model has ${nLayers} layers`);
  }
  if (options.block !== undefined) {
    const blocks = model.blocks.slice();
    blocks[layer] = options.block;
    model = { ...model, blocks };
  }
  const starts = [0];
  for (const m of h) starts.push(starts[starts.length - 1] + m.rows);
  const tokens = starts[h.length], dim = model.config.dim, out = alloc(tokens * dim);
  const block = model.blocks[layer];
  const widths = Object.fromEntries(
    distinctInputs(familyOf(model).linears(model.config)).map((n) => [n, linearOf(block, n).cols]),
  );
  const captures = options.capture === false ? null : Object.fromEntries(
    Object.entries(widths).map(([name, cols]) => [name, alloc(tokens * cols)]),
  );
  return {
    model,
    args: (first, end) => [model, layer, h, starts, first, end, out, captures],
    finish: () => ({
      outputs: h.map((_, w) => ({
        data: out.subarray(starts[w] * dim, starts[w + 1] * dim),
        rows: starts[w + 1] - starts[w],
        cols: dim,
      })),
      inputs: captures === null ? {} : Object.fromEntries(
        Object.entries(captures).map(([n, data]) => [n, { data, rows: tokens, cols: widths[n] }]),
      ),
    }),
  };
}

/**
 * One decoder block over many windows (each a sequence starting at position 0), in-process,
 * capturing the inputs of its linears: bitwise equal to the family's `blockForward` on every
 * window in turn.
 *
 * @param model The model (not modified).
 * @param layer Block index in `[0, nLayers)`.
 * @param h Hidden states entering the block, one `[T_w, dim]` matrix per window (not modified).
 * @param options `capture` (default true) and `block` to run instead of `model.blocks[layer]`.
 * @returns The outputs per window (views of one buffer) and the captured inputs.
 * @throws {RangeError} If there is no window or `layer` is out of range.
 * @throws {TypeError} If a window is not a `[T, dim]` matrix.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockForward, embed, tinyLlama } from "../model/llama.ts";
 * import { runBlockWindows } from "./block_run.ts";
 * const w = tinyLlama({ seed: 1 }), h = [embed(w, [1, 2, 3]), embed(w, [4, 5])];
 * const run = runBlockWindows(w, 1, h);
 * assert.deepEqual(run.outputs[1].data, blockForward(w, 1, h[1]).data);
 * assert.deepEqual([run.inputs.w2!.rows, run.inputs.w2!.cols], [5, w.config.hiddenDim]);
 * ```
 */
export function runBlockWindows(
  model: Model,
  layer: number,
  h: Matrix[],
  options: BlockRunOptions = {},
): BlockRun {
  const run = prepareBlockRun(model, layer, h, options);
  blockWindowsTask(...run.args(0, h.length));
  return run.finish();
}

function checkHidden(model: Model, h: Matrix[]): void {
  if (!Array.isArray(h) || h.length === 0) {
    throw new RangeError(`Cannot run a block over windows: need at least one window, got ${h}`);
  }
  h.forEach((m, w) => {
    checkMatrix(m, `hidden states of window ${w}`);
    if (m.cols !== model.config.dim) {
      throw new TypeError(
        `Cannot run a block over windows: window ${w} is [${m.rows}, ${m.cols}], expected [T, ${model.config.dim}]`,
      );
    }
  });
}
