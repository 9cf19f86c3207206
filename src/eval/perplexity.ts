/**
 * Perplexity by the field's protocol (as in the SparseGPT and Wanda evaluation code, and
 * `docs/pipeline.md`): the caller encodes the whole evaluation text ONCE (with BOS); we cut
 * non-overlapping windows of `seqlen` tokens, drop the tail that does not fill a window, and in each
 * window predict tokens 2..seqlen from their prefix (the first token of a window has no prefix inside
 * the window, so it is not predicted). `ppl = exp(mean NLL)` over all predicted tokens.
 *
 * | protocol              | code                                  |
 * | --------------------- | ------------------------------------- |
 * | window length         | `seqlen`                              |
 * | number of windows     | `floor(min(N, maxTokens) / seqlen)`   |
 * | predicted tokens      | `windows * (seqlen - 1)`              |
 * | NLL of token t+1      | `logsumexp(logits[t]) - logits[t][id]` (float64) |
 *
 * @module
 */
import type { Model } from "../model/family.ts";
import type { Matrix } from "../tensor/matrix.ts";
import { forward } from "../model/model.ts";
import { threadWorkspace } from "../model/workspace.ts";

/** Options of {@link perplexity}. */
export interface PerplexityOptions {
  /** Window length in tokens, >= 2. */
  seqlen: number;
  /** Use only the first `maxTokens` ids (default: all). */
  maxTokens?: number;
  /** Called after every window with (windows done, total windows, label). */
  onProgress?(done: number, total: number, label?: string): void;
}

/** The result of {@link perplexity}. */
export interface PerplexityResult {
  /** `exp(nll)`. */
  ppl: number;
  /** Mean negative log-likelihood per predicted token, in nats. */
  nll: number;
  /** Number of predicted tokens, `windows * (seqlen - 1)`. */
  predicted: number;
  /** Number of windows evaluated. */
  windows: number;
  /** Mean NLL of each window's predicted tokens, in window order (for a standard error). */
  windowNlls: number[];
}

/**
 * Negative log-likelihood of `target` under one row of logits, in float64:
 * `-log softmax(row)[target] = logsumexp(row) - row[target]`.
 *
 * @param row Logits `(vocab)`.
 * @param target The id whose probability is scored.
 * @returns The NLL in nats (>= 0).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenNll } from "./perplexity.ts";
 * assert.ok(Math.abs(tokenNll(new Float32Array([0, 0, 0, 0]), 2) - Math.log(4)) < 1e-12);
 * ```
 */
export function tokenNll(row: ArrayLike<number>, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return Math.log(sum) + max - row[target];
}

/**
 * Checks the input of {@link perplexity} and counts its windows: `floor(min(N, maxTokens) / seqlen)`.
 * Shared with the parallel evaluation (`src/parallel/forward_parallel.ts`).
 *
 * @param ids The whole text encoded once, with BOS.
 * @param options `seqlen` and optional `maxTokens`.
 * @returns The number of windows (>= 1).
 * @throws {TypeError} If `ids` is not an Int32Array.
 * @throws {RangeError} If `seqlen < 2`, `maxTokens < 1`, or fewer than `seqlen` tokens are available.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perplexityWindows } from "./perplexity.ts";
 * assert.equal(perplexityWindows(new Int32Array(11), { seqlen: 4 }), 2);
 * assert.throws(() => perplexityWindows(new Int32Array(3), { seqlen: 4 }), RangeError);
 * ```
 */
export function perplexityWindows(ids: Int32Array, options: PerplexityOptions): number {
  if (!(ids instanceof Int32Array)) {
    throw new TypeError(`Cannot compute perplexity: ids must be an Int32Array`);
  }
  const { seqlen, maxTokens = ids.length } = options;
  if (!Number.isInteger(seqlen) || seqlen < 2) {
    throw new RangeError(
      `Cannot compute perplexity: seqlen must be an integer >= 2, got ${seqlen}`,
    );
  }
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new RangeError(
      `Cannot compute perplexity: maxTokens must be a positive integer, got ${maxTokens}`,
    );
  }
  const available = Math.min(ids.length, maxTokens), windows = Math.floor(available / seqlen);
  if (windows === 0) {
    throw new RangeError(
      `Cannot compute perplexity: ${available} tokens do not fill one window of seqlen ${seqlen}`,
    );
  }
  return windows;
}

/**
 * Perplexity of a model on already-encoded text (see the module doc for the protocol).
 *
 * @param weights The model, of any family.
 * @param ids The whole text encoded once, with BOS.
 * @param options `seqlen`, optional `maxTokens` and `onProgress`.
 * @returns `{ ppl, nll, predicted, windows, windowNlls }`.
 * @throws {TypeError} If `ids` is not an Int32Array.
 * @throws {RangeError} If `seqlen < 2`, `maxTokens < 1`, or fewer than `seqlen` tokens are available.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perplexity } from "./perplexity.ts";
 * import { tinyLlama } from "../model/llama.ts";
 * const ids = Int32Array.from({ length: 11 }, (_, i) => (i * 7) % 16);
 * const r = perplexity(tinyLlama({ seed: 1 }), ids, { seqlen: 4 });
 * assert.equal(r.windows, 2); // 11 tokens: two windows of 4, tail of 3 dropped
 * assert.equal(r.predicted, 6);
 * assert.ok(Math.abs(r.ppl - Math.exp(r.nll)) < 1e-9);
 * ```
 */
export function perplexity(
  weights: Model,
  ids: Int32Array,
  options: PerplexityOptions,
): PerplexityResult {
  const ws = threadWorkspace(options.seqlen); // one set of buffers for every window
  return perplexityOfLogits(ids, options, (_, window) => forward(weights, window, undefined, ws));
}

/**
 * The protocol's sums (module doc) over windows whose logits `logitsOf` gives, window by window:
 * what {@link perplexity} and a block-by-block evaluation (`perplexity_blocks.ts`) share.
 *
 * @param ids The whole text encoded once.
 * @param options As {@link perplexity}.
 * @param logitsOf The logits `[seqlen, vocab]` of window `w` (`window` = its ids); row t predicts t+1.
 * @returns As {@link perplexity}.
 * @throws {TypeError} {RangeError} As {@link perplexity}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perplexityOfLogits } from "./perplexity.ts";
 * const uniform = { data: new Float32Array(2 * 4), rows: 2, cols: 4 }; // 4 equally likely tokens
 * const r = perplexityOfLogits(Int32Array.from([0, 1, 2, 3]), { seqlen: 2 }, () => uniform);
 * assert.ok(Math.abs(r.ppl - 4) < 1e-12);
 * ```
 */
export function perplexityOfLogits(
  ids: Int32Array,
  options: PerplexityOptions,
  logitsOf: (w: number, window: Int32Array) => Matrix,
): PerplexityResult {
  const windows = perplexityWindows(ids, options), { seqlen, onProgress } = options;
  let total = 0;
  const windowNlls: number[] = [];
  for (let w = 0; w < windows; w++) {
    const window = ids.subarray(w * seqlen, (w + 1) * seqlen);
    const out = logitsOf(w, window), vocab = out.cols;
    let windowTotal = 0;
    for (let t = 0; t + 1 < seqlen; t++) {
      const nll = tokenNll(out.data.subarray(t * vocab, (t + 1) * vocab), window[t + 1]);
      total += nll;
      windowTotal += nll;
    }
    windowNlls.push(windowTotal / (seqlen - 1));
    onProgress?.(w + 1, windows, "eval");
  }
  const predicted = windows * (seqlen - 1), nll = total / predicted;
  return { ppl: Math.exp(nll), nll, predicted, windows, windowNlls };
}

/**
 * Standard error of the mean NLL over the eval windows (sample sd / sqrt(windows)); 0 for one.
 *
 * @param p A perplexity result (its `windowNlls`).
 * @returns The standard error, in nats.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nllStandardError } from "./perplexity.ts";
 * const p = { ppl: 1, nll: 2, predicted: 4, windows: 2, windowNlls: [1, 3] };
 * assert.equal(nllStandardError(p), 1); // sd sqrt(2), over sqrt(2) windows
 * assert.equal(nllStandardError({ ...p, windows: 1, windowNlls: [1] }), 0);
 * ```
 */
export function nllStandardError(p: PerplexityResult): number {
  const n = p.windowNlls.length;
  if (n < 2) return 0;
  const m = p.windowNlls.reduce((a, b) => a + b, 0) / n;
  const ss = p.windowNlls.reduce((a, b) => a + (b - m) ** 2, 0);
  return Math.sqrt(ss / (n - 1) / n);
}
