/**
 * The sort-free EWMA selector of SwiftPrune (Kang et al., arXiv:2501.16376v2): find the k smallest
 * of n scores without sorting, in a few linear passes. The paper says only that an Exponentially
 * Weighted Moving Average replaces sorting and that the cost is linear; everything below is OUR
 * READING (docs: `docs/readings.md` §2.2), and every constant is an option.
 *
 * ## Pass 1: a streaming quantile tracker (the EWMA part)
 *
 * We want a threshold `T` with a fraction `q = k / n` of the scores below it. Scores arrive one by
 * one; after each we nudge `T` (a Robbins-Monro stochastic approximation of the q-quantile):
 *
 *     below = [y < T]                      the "pruned" decision for this score
 *     p    <- p + alpha * (below - p)      EWMA of the pruned indicator (what fraction T prunes now)
 *     D    <- D + beta * (|y - T| - D)     EWMA of the deviation, TCP's RTTVAR (RFC 6298)
 *     T    <- T + alpha * D * (q - below)  step scaled by D, so it is unit-free
 *
 * In expectation the step is zero exactly when P(y < T) = q. Scaling by `D` (like TCP's timer,
 * alpha = beta = 1/8) makes the tracker indifferent to the units of the scores, and `y` is a
 * log-score, which tames heavy tails: a weight 1e6 times larger moves `D` by 20, not 1e6. With a
 * constant step `T` keeps jittering, so the estimate is the average of `T` over the second half of
 * the row (Polyak-Ruppert averaging). The tracker alone misses the target by a few percentage
 * points on some rows of 1,024-4,096 scores.
 *
 * The tracker is one serial dependency chain (`T -> |y - T| -> D -> T`), so it costs the latency
 * of that chain per score and is the slowest pass; `options.trackStride` (off by default, OUR
 * READING) runs it on every s-th score only.
 *
 * ## Passes 2-3: count and correct (at most `corrections` passes)
 *
 * One pass counts the scores in `bins` equal bins spanning `T +- band * D` (plus the two open
 * ends): the empirical CDF at `bins + 1` points around `T`, a local density estimate. The new `T`
 * is the bin edge whose count is nearest k (a secant step between the two edges bracketing k,
 * rounded to an edge so the count it achieves is known exactly). If that is not exact, a second
 * pass subdivides the bracketing bin the same way. Last pass: prune every score below `T`.
 *
 * ## Log-scores without `Math.log`: the float32 bit pattern
 *
 * The IEEE-754 bits of a positive float32, read as an integer, are `2^23 * (log2(v) + 127)` up to a
 * piecewise-linear error below 0.09 (Mitchell's approximation): so `y = bits / 2^23 - 127` is a
 * log2 that costs nothing. Flipping the bits of negatives (`key = -(bits & 0x7fffffff)`) makes the
 * key strictly increasing over every float32, zero and negatives included, so "below T in the key"
 * is exactly "below the float32 threshold" and ties stay ties.
 *
 * | idea                      | code                           |
 * | ------------------------- | ------------------------------ |
 * | target fraction `k/n`     | `q`                            |
 * | threshold `T`, deviation  | `threshold`, `deviation` (log2 units) |
 * | EWMA of pruned indicator  | `prunedFraction`               |
 * | alpha, beta               | `options.alpha`, `options.beta` |
 * | log-score `y`             | `keyOf(bits[i]) / 2^23 - 127`  |
 *
 * @module
 */

/** Parameters of the EWMA selector (all OUR READING; the paper does not publish them). */
export interface EwmaOptions {
  /** Step of the tracker as a fraction of the deviation, and weight of the pruned-indicator EWMA (1/8). */
  alpha?: number;
  /** Weight of the deviation EWMA `D` (1/8, TCP's beta). */
  beta?: number;
  /** Scores used to initialise `T` (their mean log) and `D` (their mean deviation) (16). */
  warmup?: number;
  /** Half-width of the first counting band, in units of `D` (4). */
  band?: number;
  /** Bins per counting pass, an even integer >= 2 (128). */
  bins?: number;
  /** At most this many counting passes after the tracker, >= 1 (approximate: 2; exact: 1). */
  corrections?: number;
  /**
   * The tracker reads every `trackStride`-th score (0, s, 2s, ...), an integer >= 1 (1 = every
   * score, the default). OUR READING, off by default: a speed option, not the paper's. The
   * tracker's serial update chain is the floor of the whole selector (~6 ns per score measured
   * on one AMD EPYC core); on a subsample it costs 1/s of that, while the counting and marking passes
   * still read every score, so the exact selector stays exact and the approximate one is
   * corrected as before (`deno task ewma-accuracy` and `complexity` report its accuracy
   * separately). With `s > 1` NaN scores are checked by a separate pass.
   */
  trackStride?: number;
}

/** What {@link selectEwma} returns: the mask and how close it came. */
export interface EwmaSelection {
  /** `Uint8Array(n)`, 1 = keep, 0 = pruned. */
  keep: Uint8Array;
  /** The number of scores pruned (the approximate mode may miss `target`). */
  pruned: number;
  /** `k`, the number asked for. */
  target: number;
  /** The final threshold as a float32 score: a score is pruned iff `Math.fround(score) < threshold`. */
  threshold: number;
  /** The tracker's threshold before any correction (float32 score). */
  trackerThreshold: number;
  /** How many scores the tracker's threshold alone would prune. */
  trackerPruned: number;
  /** Passes over the scores, the tracker and the final marking pass included. */
  passes: number;
}

/** Per-score record of the tracker's pass, for teaching (see {@link selectEwmaTrace}). */
export interface EwmaTrace {
  /** The score seen at step i. */
  score: Float32Array;
  /** `T` before step i, as a float32 score. */
  threshold: Float32Array;
  /** The decision `[y < T]` at step i (1 = would be pruned). */
  pruned: Uint8Array;
  /** The EWMA of the pruned indicator after step i (tracks `k / n`). */
  prunedFraction: Float64Array;
  /** `D` after step i, in log2 units (1 = a factor of 2). */
  deviation: Float64Array;
}

/** Default EWMA parameters (OUR READING). */
export const EWMA_DEFAULTS: Readonly<Required<EwmaOptions>> = Object.freeze({
  alpha: 1 / 8,
  beta: 1 / 8,
  warmup: 16,
  band: 4,
  bins: 128,
  corrections: 2,
  trackStride: 1,
});

const KEY_SCALE = 2 ** 23; // key units per log2 unit
const LOG2_OFFSET = 127; // float32 exponent bias
const MIN_DEVIATION = 1 / KEY_SCALE; // one key unit: keeps the step from collapsing to zero
// One shared 4-byte view for reading a float32 from its bits (stateless between calls: each use
// writes the bits and reads the float back at once).
const KEY_BITS = new Int32Array(1);
const KEY_FLOAT = new Float32Array(KEY_BITS.buffer);

/**
 * The float32 bit patterns of the scores (a zero-copy view when they already are a Float32Array).
 *
 * @param scores The scores.
 * @returns `Int32Array(n)` of IEEE-754 bit patterns.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scoreBits } from "./ewma.ts";
 * assert.equal(scoreBits([1])[0], 0x3f800000);
 * ```
 */
export function scoreBits(scores: ArrayLike<number>): Int32Array {
  const f = scores instanceof Float32Array
    ? scores
    : Float32Array.from(scores as ArrayLike<number>);
  return new Int32Array(f.buffer, f.byteOffset, f.length);
}

/**
 * The order key of a float32 bit pattern: an integer strictly increasing in the float32 value
 * (negatives flipped, -0 and +0 equal). For a positive float, `key / 2^23 - 127 ~ log2(value)`.
 *
 * @param bits An IEEE-754 float32 bit pattern as a signed 32-bit integer.
 * @returns The key.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyOf, scoreBits } from "./ewma.ts";
 * const [neg, zero, one, eight] = Array.from(scoreBits([-1, 0, 1, 8]), keyOf);
 * assert.ok(neg < zero && zero < one && one < eight);
 * assert.equal((eight - one) / 2 ** 23, 3); // log2(8) - log2(1)
 * ```
 */
export function keyOf(bits: number): number {
  // bits >= 0: the key is bits. bits < 0 (sign set): the key is -(bits & 0x7fffffff), written
  // as (bits ^ 0x7fffffff) + 1 so that it stays an int32 (no -0) and needs no branch.
  const negative = bits >> 31; // 0 or -1
  return (bits ^ (negative & 0x7fffffff)) - negative;
}

/**
 * The float32 whose key is `key` (the inverse of {@link keyOf}; rounded to an integer key and
 * clamped to [-Infinity, Infinity]).
 *
 * @param key An order key.
 * @returns The float32 value with that key.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyOf, scoreBits, scoreOfKey } from "./ewma.ts";
 * assert.equal(scoreOfKey(keyOf(scoreBits([-2.5])[0])), -2.5);
 * ```
 */
export function scoreOfKey(key: number): number {
  const k = Math.max(-0x7f7fffff, Math.min(0x7f800000, Math.round(key)));
  KEY_BITS[0] = k >= 0 ? k : -2147483648 - k;
  return KEY_FLOAT[0];
}

function checkOptions(
  options: EwmaOptions,
  defaults: Required<EwmaOptions>,
): Required<EwmaOptions> {
  const o = { ...defaults, ...options };
  const bad = (name: string, want: string, v: unknown) =>
    new RangeError(`Cannot run the EWMA selector: ${name} must be ${want}, got ${v}`);
  if (!(o.alpha > 0 && o.alpha <= 1)) throw bad("alpha", "in (0, 1]", o.alpha);
  if (!(o.beta > 0 && o.beta <= 1)) throw bad("beta", "in (0, 1]", o.beta);
  if (!Number.isInteger(o.warmup) || o.warmup < 1) throw bad("warmup", "an integer >= 1", o.warmup);
  if (!(o.band > 0 && Number.isFinite(o.band))) throw bad("band", "a finite number > 0", o.band);
  if (!Number.isInteger(o.bins) || o.bins < 2 || o.bins % 2) {
    throw bad("bins", "an even integer >= 2", o.bins);
  }
  if (!Number.isInteger(o.corrections) || o.corrections < 1) {
    throw bad("corrections", "an integer >= 1", o.corrections);
  }
  if (!Number.isInteger(o.trackStride) || o.trackStride < 1) {
    throw bad("trackStride", "an integer >= 1", o.trackStride);
  }
  return o;
}

function checkCount(n: number, k: number): void {
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new RangeError(
      `Cannot prune ${k} of ${n} scores of row: k must be an integer in [0, ${n}]`,
    );
  }
}

/**
 * Throws a `TypeError` unless `keep` is a `Uint8Array` of length `n` (an output mask).
 *
 * @param keep The output mask to check.
 * @param n The number of scores.
 * @throws {TypeError} If `keep` is not a `Uint8Array(n)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkKeep } from "./ewma.ts";
 * assert.throws(() => checkKeep(new Uint8Array(3), 4), /has 3 entries, expected 4/);
 * ```
 */
export function checkKeep(keep: unknown, n: number): asserts keep is Uint8Array {
  if (!(keep instanceof Uint8Array) || keep.length !== n) {
    const seen = keep instanceof Uint8Array ? `${keep.length} entries` : String(keep);
    throw new TypeError(`Cannot write the keep mask of ${n} scores: it has ${seen}, expected ${n}`);
  }
}

function throwIfNaN(bits: Int32Array): void {
  for (let i = 0; i < bits.length; i++) {
    if ((bits[i] & 0x7fffffff) > 0x7f800000) {
      throw new RangeError(`Cannot select from scores of row: score ${i} is NaN`);
    }
  }
}

/**
 * Pass 1: returns the averaged threshold `T` and deviation `D`, both in log2 units.
 *
 * Speed: the loop is one serial dependency chain (T -> |y - T| -> D -> T), so its cost is the
 * chain's latency per score. The decision `below` is computed without a branch (`+(y < T)`): a
 * branch on it would be mispredicted about half the time (the point of the tracker is that `y`
 * falls on either side of `T` at random), which more than doubled the cost of the pass.
 */
function track(bits: Int32Array, q: number, o: Required<EwmaOptions>, trace?: EwmaTrace) {
  const n = bits.length, { alpha, beta, trackStride: stride } = o;
  if (stride > 1) throwIfNaN(bits); // the tracker below sees only every stride-th score
  const warmEnd = Math.min(n, o.warmup * stride), warm = Math.ceil(warmEnd / stride);
  let threshold = 0, deviation = 0;
  for (let i = 0; i < warmEnd; i += stride) threshold += keyOf(bits[i]) / KEY_SCALE - LOG2_OFFSET;
  threshold /= warm;
  for (let i = 0; i < warmEnd; i += stride) {
    deviation += Math.abs(keyOf(bits[i]) / KEY_SCALE - LOG2_OFFSET - threshold);
  }
  deviation = Math.max(deviation / warm, MIN_DEVIATION);
  let prunedFraction = q, averaged = 0, averagedCount = 0;
  const half = n >> 1;
  for (let i = 0; i < n; i += stride) {
    const b = bits[i];
    if ((b & 0x7fffffff) > 0x7f800000) {
      throw new RangeError(`Cannot select from scores of row: score ${i} is NaN`);
    }
    const y = keyOf(b) / KEY_SCALE - LOG2_OFFSET; // log-score: y ~ log2(score)
    const below = +(y < threshold); // the pruned decision, 1 or 0 (branch-free)
    if (trace) {
      trace.threshold[i] = scoreOfKey((threshold + LOG2_OFFSET) * KEY_SCALE);
      trace.pruned[i] = below;
    }
    deviation += beta * (Math.abs(y - threshold) - deviation); // D <- D + beta (|y - T| - D)
    deviation = Math.max(deviation, MIN_DEVIATION);
    threshold += alpha * deviation * (q - below); // T <- T + alpha D (q - below)
    if (i >= half) averaged += (threshold - averaged) / ++averagedCount; // Polyak-Ruppert average
    if (trace) { // p is for the record only: T's update does not read it
      prunedFraction += alpha * (below - prunedFraction); // p <- p + alpha (below - p)
      trace.prunedFraction[i] = prunedFraction;
      trace.deviation[i] = deviation;
    }
  }
  return { threshold: averagedCount ? averaged : threshold, deviation };
}

/**
 * Counts of keys below each of `bins + 1` edges `lo + b * width` (b = 0..bins).
 *
 * Speed: the two open ends are counted in registers without a branch (on the narrow band of a
 * second pass most scores fall there, on either side at random, so a branch would be mispredicted
 * half the time; and incrementing one memory cell again and again waits on the previous store).
 */
function countBelowEdges(bits: Int32Array, lo: number, width: number, bins: number): number[] {
  // first the count per bin (bin b - 1 in below[b]), then summed; a plain array, since allocating
  // a typed array of this size costs about as much as counting a short row
  const below: number[] = new Array(bins + 1).fill(0);
  const top = lo + bins * width;
  let belowLo = 0;
  for (let i = 0; i < bits.length; i++) {
    const key = keyOf(bits[i]), under = +(key < lo), over = +(key >= top);
    belowLo += under; // branch-free: on a narrow band, under or over is a coin flip
    if ((under | over) === 0) below[1 + Math.floor((key - lo) / width)]++;
  }
  below[0] = belowLo; // below[b] = #{key < lo + b * width} after the running sum:
  for (let b = 1; b <= bins; b++) below[b] += below[b - 1];
  return below;
}

/** Where the k-th smallest lies: a key range `[lo, hi)` with `below(lo) <= k <= below(hi)`. */
export interface ThresholdBracket {
  /** The edge whose count is nearest k, and that count. */
  edge: number;
  edgeCount: number;
  /** The tightest bracket seen: `countLo = #{key < lo} <= k <= countHi = #{key < hi}`. */
  lo: number;
  hi: number;
  countLo: number;
  countHi: number;
  trackerThreshold: number;
  trackerPruned: number;
  passes: number;
}

/**
 * Runs the tracker and the counting passes (no marking): the shared core of the approximate and
 * exact selectors. Keys are those of {@link keyOf}; `n > 0` and `0 < k < n` are assumed.
 *
 * @param bits Float32 bit patterns of the scores (see {@link scoreBits}).
 * @param k How many to prune.
 * @param options EWMA parameters (defaults {@link EWMA_DEFAULTS}).
 * @param trace Filled with the tracker's per-step record when given.
 * @returns The best edge, the tightest bracket, and the tracker's own estimate.
 * @throws {RangeError} If a score is NaN or an option is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { locateThreshold, scoreBits } from "./ewma.ts";
 * const scores = Float32Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000 + 1);
 * const found = locateThreshold(scoreBits(scores), 300);
 * assert.equal(found.edgeCount, 300);
 * ```
 */
export function locateThreshold(
  bits: Int32Array,
  k: number,
  options: EwmaOptions = {},
  trace?: EwmaTrace,
): ThresholdBracket {
  const o = checkOptions(options, EWMA_DEFAULTS);
  const n = bits.length;
  const { threshold, deviation } = track(bits, k / n, o, trace);
  const half = o.bins / 2;
  const centre = Math.round((threshold + LOG2_OFFSET) * KEY_SCALE);
  let width = Math.max(1, Math.ceil((o.band * deviation * KEY_SCALE) / half));
  let lo = centre - half * width;
  // the tightest bracket seen: #{key < bracketLo} = countLo <= k <= countHi = #{key < bracketHi}
  let bracketLo = -Infinity, bracketHi = Infinity, countLo = 0, countHi = n;
  let bestEdge = centre, bestCount = -1, trackerPruned = -1, passes = 1;
  for (let pass = 0; pass < o.corrections; pass++) {
    const below = countBelowEdges(bits, lo, width, o.bins);
    passes++;
    if (pass === 0) trackerPruned = below[half];
    for (let b = 0; b <= o.bins; b++) {
      const edge = lo + b * width, c = below[b];
      if (bestCount < 0 || Math.abs(c - k) < Math.abs(bestCount - k)) {
        bestEdge = edge;
        bestCount = c;
      }
      if (c <= k && edge > bracketLo) {
        bracketLo = edge;
        countLo = c;
      }
      if (c >= k && edge < bracketHi) {
        bracketHi = edge;
        countHi = c;
      }
    }
    if (bestCount === k) break;
    // refine the bracketing range (an open end is bounded by the extreme float32 keys)
    const from = Math.max(bracketLo, -0x7f800000), to = Math.min(bracketHi, 0x7f800001);
    if (to - from <= 1) break; // one key value: ties cannot be split by a threshold
    width = Math.max(1, Math.ceil((to - from) / o.bins));
    lo = from;
  }
  return {
    edge: bestEdge,
    edgeCount: bestCount,
    lo: bracketLo,
    hi: bracketHi,
    countLo,
    countHi,
    trackerThreshold: scoreOfKey((threshold + LOG2_OFFSET) * KEY_SCALE),
    trackerPruned,
    passes,
  };
}

function emptyTrace(n: number): EwmaTrace {
  return {
    score: new Float32Array(n),
    threshold: new Float32Array(n),
    pruned: new Uint8Array(n),
    prunedFraction: new Float64Array(n),
    deviation: new Float64Array(n),
  };
}

function selectApproximate(
  scores: ArrayLike<number>,
  k: number,
  options: EwmaOptions,
  trace?: EwmaTrace,
  keep?: Uint8Array,
): EwmaSelection {
  const n = scores.length;
  checkCount(n, k);
  if (keep === undefined) keep = new Uint8Array(n);
  else checkKeep(keep, n);
  const bits = scoreBits(scores);
  if (trace) trace.score.set(new Float32Array(bits.buffer, bits.byteOffset, n));
  if (k === 0 || k === n) {
    checkOptions(options, EWMA_DEFAULTS);
    throwIfNaN(bits);
    const threshold = k === 0 ? -Infinity : Infinity;
    keep.fill(k === 0 ? 1 : 0);
    return {
      keep,
      pruned: k,
      target: k,
      threshold,
      trackerThreshold: threshold,
      trackerPruned: k,
      passes: 1,
    };
  }
  const found = locateThreshold(bits, k, options, trace);
  let pruned = 0;
  for (let i = 0; i < n; i++) { // last pass: prune every score below T
    const kept = +(keyOf(bits[i]) >= found.edge); // branch-free: the outcome is a coin flip
    keep[i] = kept;
    pruned += 1 - kept;
  }
  return {
    keep,
    pruned,
    target: k,
    threshold: scoreOfKey(found.edge),
    trackerThreshold: found.trackerThreshold,
    trackerPruned: found.trackerPruned,
    passes: found.passes + 1,
  };
}

/**
 * The approximate EWMA selector: prunes about the `k` smallest scores without sorting (a
 * streaming tracker, at most `corrections` counting passes, one marking pass).
 *
 * @param scores The scores of one group (higher = more important), length n.
 * @param k How many to prune, an integer in `[0, n]`.
 * @param options EWMA parameters (defaults {@link EWMA_DEFAULTS}; all OUR READING).
 * @returns The mask, the achieved count `pruned` (may differ from `k`), the threshold, diagnostics.
 * @throws {RangeError} If `k` is out of range, a score is NaN, or an option is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRng } from "../tensor/rng.ts";
 * import { selectEwma } from "./ewma.ts";
 * const rng = createRng(1);
 * const scores = Float32Array.from({ length: 4096 }, () => Math.abs(rng.normal()));
 * const { keep, pruned } = selectEwma(scores, 2048);
 * assert.ok(Math.abs(pruned - 2048) <= 41); // within 1 percentage point
 * assert.equal(keep.reduce((a, b) => a + b, 0), 4096 - pruned);
 * ```
 */
export function selectEwma(
  scores: ArrayLike<number>,
  k: number,
  options: EwmaOptions = {},
): EwmaSelection {
  return selectApproximate(scores, k, options);
}

/**
 * {@link selectEwma} writing its mask into `keep` (for example a row's view of a layer's mask,
 * `layerKeep.subarray(i * cols, (i + 1) * cols)`), so selecting many rows allocates no masks.
 *
 * @param scores The scores of one group (higher = more important), length n.
 * @param k How many to prune, an integer in `[0, n]`.
 * @param keep The output, a `Uint8Array(n)`: every entry is overwritten (1 = keep, 0 = pruned).
 * @param options EWMA parameters (defaults {@link EWMA_DEFAULTS}; all OUR READING).
 * @returns The selection of {@link selectEwma}, its `keep` being the array given.
 * @throws {TypeError} If `keep` is not a `Uint8Array(n)`.
 * @throws {RangeError} As {@link selectEwma}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectEwma, selectEwmaInto } from "./ewma.ts";
 * const scores = Float32Array.from({ length: 2048 }, (_, i) => ((i * 7919) % 2048) + 1);
 * const layerKeep = new Uint8Array(3 * 2048);
 * const row = layerKeep.subarray(2048, 4096);
 * const r = selectEwmaInto(scores, 1000, row);
 * assert.equal(r.keep, row);
 * assert.deepEqual(row, selectEwma(scores, 1000).keep);
 * ```
 */
export function selectEwmaInto(
  scores: ArrayLike<number>,
  k: number,
  keep: Uint8Array,
  options: EwmaOptions = {},
): EwmaSelection {
  return selectApproximate(scores, k, options, undefined, keep);
}

/**
 * {@link selectEwma} that also records the tracker's pass step by step (score, threshold before
 * the step, decision, EWMA of the pruned indicator, deviation), for teaching and plots.
 *
 * @param scores The scores (higher = more important), length n.
 * @param k How many to prune, an integer in `[0, n]`.
 * @param options EWMA parameters.
 * @returns The selection of {@link selectEwma} plus `trace` (arrays of length n; when `k` is 0 or
 *   n only `trace.score` is filled, since the tracker does not run; with `trackStride` s > 1 only
 *   the steps the tracker takes, every s-th, are recorded and the others stay 0).
 * @throws {RangeError} As {@link selectEwma}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectEwmaTrace } from "./ewma.ts";
 * const scores = Array.from({ length: 64 }, (_, i) => (i * 37) % 64 + 1);
 * const { trace, pruned } = selectEwmaTrace(scores, 32);
 * assert.equal(trace.threshold.length, 64);
 * assert.ok(trace.pruned.every((d) => d === 0 || d === 1));
 * assert.equal(pruned, 32);
 * ```
 */
export function selectEwmaTrace(
  scores: ArrayLike<number>,
  k: number,
  options: EwmaOptions = {},
): EwmaSelection & { trace: EwmaTrace } {
  const trace = emptyTrace(scores.length);
  return { ...selectApproximate(scores, k, options, trace), trace };
}
