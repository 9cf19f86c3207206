/**
 * Reusable buffers for the forward pass of any model family: a forward pass over many windows
 * writes every intermediate tensor into the same named buffers instead of allocating tens of MB
 * of garbage per window, which the collector would reclaim late (docs/memory.md).
 *
 * A buffer is made the first time a tensor of that name is asked for, `maxTokens` rows of the
 * width asked for, and replaced by a wider one if a later call needs more columns; so a family's
 * forward pass names its tensors (`"q"`, `"gate"`, ...) and never sizes the workspace itself.
 *
 * @module
 */
import type { Matrix } from "../tensor/matrix.ts";

/**
 * Preallocated buffers for forward passes over sequences of up to `maxTokens` tokens. Pass one to
 * a family's `embed`, `blockForward` and `logits` (or `forward`) to run many windows without
 * allocating: every intermediate tensor (and the result) is then a view of these buffers, valid
 * until the next call with the same workspace. Not for concurrent use (each worker has its own).
 */
export interface ForwardWorkspace {
  /** The longest sequence the buffers hold. */
  readonly maxTokens: number;
  /** The buffers by tensor name, each `maxTokens` rows wide enough for the widest use so far. */
  readonly buffers: Record<string, Float32Array>;
  /** Attention scores of one query row (float64). */
  readonly scores: Float64Array;
}

/**
 * A {@link ForwardWorkspace} for sequences of up to `maxTokens` tokens (buffers are made on use).
 *
 * @param maxTokens The longest sequence it will run, >= 1.
 * @returns The workspace.
 * @throws {RangeError} If `maxTokens` is not a positive integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forwardWorkspace } from "./workspace.ts";
 * import { forward, tinyLlama } from "./llama.ts";
 * const w = tinyLlama({ seed: 2 }), ws = forwardWorkspace(4);
 * const fresh = forward(w, [1, 4, 9]);
 * assert.deepEqual(forward(w, [1, 4, 9], undefined, ws).data, fresh.data); // same numbers
 * ```
 */
export function forwardWorkspace(maxTokens: number): ForwardWorkspace {
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new RangeError(
      `Cannot make a forward workspace: maxTokens must be a positive integer, got ${maxTokens}`,
    );
  }
  return { maxTokens, buffers: {}, scores: new Float64Array(maxTokens) };
}

/**
 * `ws` if it holds `tokens` tokens, else a new workspace that does (a cache helper for callers
 * that keep one workspace across calls).
 *
 * @param ws The workspace kept so far, if any.
 * @param tokens The sequence length to run.
 * @returns A workspace holding at least `tokens` tokens.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fittingWorkspace } from "./workspace.ts";
 * const ws = fittingWorkspace(undefined, 8);
 * assert.equal(fittingWorkspace(ws, 5), ws);
 * assert.equal(fittingWorkspace(ws, 9).maxTokens, 9);
 * ```
 */
export function fittingWorkspace(
  ws: ForwardWorkspace | undefined,
  tokens: number,
): ForwardWorkspace {
  return ws !== undefined && ws.maxTokens >= tokens ? ws : forwardWorkspace(tokens);
}

let threadCache: ForwardWorkspace | undefined;

/**
 * This thread's reusable workspace (each worker has its own), kept between calls so that passes
 * over many windows, blocks and evaluations allocate their buffers once; replaced when a longer
 * sequence comes. Callers must not hold its views across another call that uses it.
 *
 * @param tokens The sequence length to run.
 * @returns The workspace.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { threadWorkspace } from "./workspace.ts";
 * assert.equal(threadWorkspace(4), threadWorkspace(3)); // kept
 * ```
 */
export function threadWorkspace(tokens: number): ForwardWorkspace {
  return threadCache = fittingWorkspace(threadCache, tokens);
}

/**
 * A `[rows, cols]` matrix over the start of buffer `name` of `ws` (made or widened as needed), or
 * a new matrix without `ws`.
 *
 * @param ws The workspace, or `undefined` to allocate.
 * @param name The buffer's name; two live tensors must not share one.
 * @param rows Rows (tokens), at most `ws.maxTokens`.
 * @param cols Columns.
 * @returns The matrix (its contents are whatever the buffer held).
 * @throws {RangeError} If `rows` exceeds the workspace.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forwardWorkspace, workspaceTensor } from "./workspace.ts";
 * const ws = forwardWorkspace(4);
 * const a = workspaceTensor(ws, "x", 3, 2);
 * assert.equal(a.data.buffer, workspaceTensor(ws, "x", 4, 2).data.buffer); // reused
 * ```
 */
export function workspaceTensor(
  ws: ForwardWorkspace | undefined,
  name: string,
  rows: number,
  cols: number,
): Matrix {
  if (ws === undefined) return { data: new Float32Array(rows * cols), rows, cols };
  if (rows > ws.maxTokens) {
    throw new RangeError(
      `Cannot run the model: ${rows} tokens do not fit a workspace of ${ws.maxTokens}`,
    );
  }
  let buffer = ws.buffers[name];
  if (buffer === undefined || buffer.length < ws.maxTokens * cols) {
    buffer = ws.buffers[name] = new Float32Array(ws.maxTokens * cols);
  }
  return { data: buffer.subarray(0, rows * cols), rows, cols };
}
