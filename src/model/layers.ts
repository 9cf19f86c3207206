/**
 * The pieces decoder blocks are built from, shared by the family files (`llama.ts`, `gpt_neox.ts`,
 * `opt.ts`): norms, biases, activations, rotary embeddings and causal multi-head attention over a
 * whole sequence, plus the token-at-a-time versions the `*Reference` forward passes use.
 *
 * Conventions: activations are `[T, width]` row-major float32 {@link Matrix}; sums over a row are
 * float64; functions that take an `out` array write into it and return a view of it.
 *
 * @module
 */
import { kernels } from "../linalg/kernels.ts";
import type { Matrix } from "../tensor/matrix.ts";
import { causalAttentionSimd } from "./attention_simd.ts";

/**
 * Throws unless every id is an integer in `[0, vocab)`.
 *
 * @param vocab Vocabulary size.
 * @param tokens Token ids.
 * @throws {RangeError} Naming the first bad id and its position.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTokens } from "./layers.ts";
 * assert.throws(() => checkTokens(4, [1, 4]), /token 4 at position 1 is outside \[0, 4\)/);
 * ```
 */
export function checkTokens(vocab: number, tokens: ArrayLike<number>): void {
  for (let t = 0; t < tokens.length; t++) {
    const id = tokens[t];
    if (!Number.isInteger(id) || id < 0 || id >= vocab) {
      throw new RangeError(
        `Cannot run the model: token ${id} at position ${t} is outside [0, ${vocab})`,
      );
    }
  }
}

/**
 * Checks a block forward's arguments: the block exists, each linear has its `[rows, cols]`, and
 * the hidden states are `[T, dim]`.
 *
 * @param config The model's `nLayers` and `dim`.
 * @param block The block (`undefined` when `layer` is out of range).
 * @param layer The block index.
 * @param shapes Each linear's name, rows and cols.
 * @param h The hidden states entering the block.
 * @throws {RangeError} If `layer` is out of range.
 * @throws {TypeError} If a linear or `h` has the wrong shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkBlockRun } from "./layers.ts";
 * const block = { w: { data: new Float32Array(6), rows: 2, cols: 3 } };
 * const h = { data: new Float32Array(3), rows: 1, cols: 3 };
 * assert.throws(() => checkBlockRun({ nLayers: 1, dim: 3 }, block, 0, [["w", 3, 2]], h), /w is \[2, 3\], expected \[3, 2\]/);
 * ```
 */
export function checkBlockRun(
  config: { nLayers: number; dim: number },
  block: object | undefined,
  layer: number,
  shapes: readonly (readonly [string, number, number])[],
  h: Matrix,
): void {
  if (!Number.isInteger(layer) || layer < 0 || layer >= config.nLayers || block === undefined) {
    throw new RangeError(`Cannot run block ${layer}: the model has ${config.nLayers} layers`);
  }
  for (const [name, rows, cols] of shapes) {
    const w = (block as Record<string, Matrix>)[name];
    if (w.rows !== rows || w.cols !== cols || w.data.length !== rows * cols) {
      throw new TypeError(
        `Cannot run block ${layer}: ${name} is [${w.rows}, ${w.cols}], expected [${rows}, ${cols}]`,
      );
    }
  }
  if (h.cols !== config.dim || h.data.length !== h.rows * h.cols) {
    throw new TypeError(
      `Cannot run block ${layer}: hidden states are [${h.rows}, ${h.cols}], expected [T, ${config.dim}]`,
    );
  }
}

/**
 * RMSNorm row by row: `out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * gain` (float64 sum).
 *
 * @param x `[T, n]`.
 * @param gain `Float32Array(n)`.
 * @param eps Added to the mean square.
 * @param out Where to write (default: a new array).
 * @returns `[T, n]` over `out`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rmsNormRows } from "./layers.ts";
 * const y = rmsNormRows({ data: new Float32Array([3, 4]), rows: 1, cols: 2 }, new Float32Array([1, 1]), 0);
 * assert.ok(Math.abs(y.data[0] - 3 / Math.sqrt(12.5)) < 1e-6);
 * ```
 */
export function rmsNormRows(
  x: Matrix,
  gain: Float32Array,
  eps: number,
  out: Float32Array = new Float32Array(x.rows * x.cols),
): Matrix {
  const { rows, cols } = x;
  for (let t = 0; t < rows; t++) {
    const o = t * cols;
    let ss = 0;
    for (let i = 0; i < cols; i++) ss += x.data[o + i] * x.data[o + i];
    const scale = 1 / Math.sqrt(ss / cols + eps);
    for (let i = 0; i < cols; i++) out[o + i] = gain[i] * (scale * x.data[o + i]);
  }
  return { data: out, rows, cols };
}

/**
 * LayerNorm row by row: `out[t] = (x[t] - mean) / sqrt(var + eps) * gain + bias`, the biased
 * variance (float64 sums), as `torch.nn.LayerNorm`.
 *
 * @param x `[T, n]`.
 * @param gain `Float32Array(n)`.
 * @param bias `Float32Array(n)`.
 * @param eps Added to the variance.
 * @param out Where to write (default: a new array).
 * @returns `[T, n]` over `out`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layerNormRows } from "./layers.ts";
 * const y = layerNormRows({ data: new Float32Array([1, 3]), rows: 1, cols: 2 }, new Float32Array([1, 1]), new Float32Array([0, 5]), 0);
 * assert.deepEqual(Array.from(y.data), [-1, 6]);
 * ```
 */
export function layerNormRows(
  x: Matrix,
  gain: Float32Array,
  bias: Float32Array,
  eps: number,
  out: Float32Array = new Float32Array(x.rows * x.cols),
): Matrix {
  const { rows, cols } = x;
  for (let t = 0; t < rows; t++) {
    const o = t * cols;
    let sum = 0;
    for (let i = 0; i < cols; i++) sum += x.data[o + i];
    const mean = sum / cols;
    let ss = 0;
    for (let i = 0; i < cols; i++) ss += (x.data[o + i] - mean) ** 2;
    const scale = 1 / Math.sqrt(ss / cols + eps);
    for (let i = 0; i < cols; i++) out[o + i] = (x.data[o + i] - mean) * scale * gain[i] + bias[i];
  }
  return { data: out, rows, cols };
}

/**
 * Adds `bias` to every row of `m` in place (no-op without a bias).
 *
 * @param m `[T, n]`.
 * @param bias `Float32Array(n)` or `undefined`.
 * @returns `m`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addBias } from "./layers.ts";
 * const m = addBias({ data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 }, new Float32Array([10, 20]));
 * assert.deepEqual(Array.from(m.data), [11, 22, 13, 24]);
 * ```
 */
export function addBias(m: Matrix, bias: Float32Array | undefined): Matrix {
  if (bias === undefined) return m;
  for (let t = 0; t < m.rows; t++) {
    const o = t * m.cols;
    for (let i = 0; i < m.cols; i++) m.data[o + i] += bias[i];
  }
  return m;
}

/**
 * `target += delta`, element by element, in place.
 *
 * @param target Modified.
 * @param delta Same length.
 * @returns `target`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addInto } from "./layers.ts";
 * const a = { data: new Float32Array([1, 2]), rows: 1, cols: 2 };
 * assert.deepEqual(Array.from(addInto(a, { data: new Float32Array([3, 4]), rows: 1, cols: 2 }).data), [4, 6]);
 * ```
 */
export function addInto(target: Matrix, delta: Matrix): Matrix {
  for (let i = 0; i < target.data.length; i++) target.data[i] += delta.data[i];
  return target;
}

/**
 * `erf(x)` to about 1.2e-7 relative (Numerical Recipes' `erfcc`, a Chebyshev fit of erfc).
 *
 * @param x Any number.
 * @returns `erf(x)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { erf } from "./layers.ts";
 * assert.ok(Math.abs(erf(0.5) - 0.5204998778130465) < 1e-7);
 * ```
 */
export function erf(x: number): number {
  const z = Math.abs(x), t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(
    -z * z - 1.26551223 +
      t * (1.00002368 +
          t * (0.37409196 +
              t * (0.09678418 +
                  t * (-0.18628806 +
                      t * (0.27886807 +
                          t *
                            (-1.13520398 +
                              t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return x >= 0 ? 1 - erfc : erfc - 1;
}

/** The activations the families use, by their `config.json` names (exact GELU, not tanh). */
export const ACTIVATIONS: Readonly<Record<string, (x: number) => number>> = {
  silu: (x) => x / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 ? x : 0),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
};

/**
 * Rotates pairs `(2i, 2i+1)` of every head of `m` `[T, heads * headSize]` in place by angle
 * `t * freqs[i]` at row (position) t: the adjacent-pair RoPE of Meta's Llama code and llama2.c.
 *
 * @param m Queries or keys, modified.
 * @param headSize Width of one head (even).
 * @param freqs `headSize / 2` inverse frequencies.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ropeAdjacent } from "./layers.ts";
 * const m = { data: new Float32Array([1, 0, 1, 0]), rows: 2, cols: 2 };
 * ropeAdjacent(m, 2, [Math.PI / 2]);
 * assert.ok(Math.abs(m.data[3] - 1) < 1e-6); // row 1 rotated by 90 degrees
 * ```
 */
export function ropeAdjacent(m: Matrix, headSize: number, freqs: ArrayLike<number>): void {
  const half = headSize / 2;
  for (let t = 0; t < m.rows; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * freqs[i], c = Math.cos(angle), s = Math.sin(angle);
      for (let o = t * m.cols + 2 * i; o < (t + 1) * m.cols; o += headSize) {
        const x0 = m.data[o], x1 = m.data[o + 1];
        m.data[o] = x0 * c - x1 * s;
        m.data[o + 1] = x0 * s + x1 * c;
      }
    }
  }
}

/**
 * transformers' `rotate_half` RoPE on the first `rotaryDims` of every head: pairs
 * `(i, i + rotaryDims/2)` rotated by `t * freqs[i]`; the rest of the head passes through (GPT-NeoX's
 * partial rotary). `m` is `[T, nHeads * stride]` where head h starts at column `h * stride + offset`.
 *
 * @param m Modified in place.
 * @param nHeads Heads.
 * @param stride Columns from one head to the next.
 * @param offset Column of the head's first element within its stride.
 * @param rotaryDims Rotated dims per head (even).
 * @param freqs `rotaryDims / 2` inverse frequencies.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ropeHalf } from "./layers.ts";
 * const m = { data: new Float32Array([1, 0, 7, 1, 0, 7]), rows: 2, cols: 3 };
 * ropeHalf(m, 1, 3, 0, 2, [Math.PI / 2]);
 * assert.ok(Math.abs(m.data[4] - 1) < 1e-6 && m.data[5] === 7);
 * ```
 */
export function ropeHalf(
  m: Matrix,
  nHeads: number,
  stride: number,
  offset: number,
  rotaryDims: number,
  freqs: ArrayLike<number>,
): void {
  const half = rotaryDims / 2;
  for (let t = 0; t < m.rows; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * freqs[i], c = Math.cos(angle), s = Math.sin(angle);
      for (let h = 0; h < nHeads; h++) {
        const o = t * m.cols + h * stride + offset + i;
        const x0 = m.data[o], x1 = m.data[o + half];
        m.data[o] = x0 * c - x1 * s;
        m.data[o + half] = x1 * c + x0 * s;
      }
    }
  }
}

/** Where the heads of q, k and v are in their matrices (for fused projections). */
export interface HeadLayout {
  nHeads: number;
  /** Heads of k and v (grouped-query attention when fewer than `nHeads`). */
  nKvHeads: number;
  headSize: number;
  /** Columns from one head to the next in q (default `headSize`). */
  qStride?: number;
  /** Columns from one head to the next in k and v (default `headSize`). */
  kvStride?: number;
}

/**
 * Causal multi-head attention over a sequence: per query head h (reading kv head
 * `floor(h / (nHeads / nKvHeads))`), `softmax(q k^T / sqrt(headSize) + causal mask) v`, scores and
 * sums in float64.
 *
 * @param q Queries, head h at columns `h * qStride ..`.
 * @param k Keys, kv head g at columns `g * kvStride ..`.
 * @param v Values, same layout as `k`.
 * @param layout Heads and strides.
 * @param out `Float32Array(T * nHeads * headSize)` for the result `[T, nHeads * headSize]`.
 * @param scores Float64 scratch of at least T.
 * @returns The attention output over `out`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { causalAttention } from "./layers.ts";
 * const q = { data: new Float32Array([1, 1]), rows: 2, cols: 1 }, v = { data: new Float32Array([2, 4]), rows: 2, cols: 1 };
 * const a = causalAttention(q, q, v, { nHeads: 1, nKvHeads: 1, headSize: 1 });
 * assert.deepEqual(Array.from(a.data), [2, 3]); // equal scores: token 1 averages both values
 * ```
 */
export function causalAttention(
  q: Matrix,
  k: Matrix,
  v: Matrix,
  layout: HeadLayout,
  out: Float32Array = new Float32Array(q.rows * layout.nHeads * layout.headSize),
  scores: Float64Array = new Float64Array(q.rows),
): Matrix {
  const { nHeads, nKvHeads, headSize } = layout;
  const qStride = layout.qStride ?? headSize, kvStride = layout.kvStride ?? headSize;
  const T = q.rows, width = nHeads * headSize, qCols = q.cols, kvCols = k.cols;
  const group = nHeads / nKvHeads, scale = 1 / Math.sqrt(headSize);
  for (let h = 0; h < nHeads; h++) {
    const qo = h * qStride, kvo = Math.floor(h / group) * kvStride, oo = h * headSize;
    for (let t = 0; t < T; t++) {
      let max = -Infinity;
      for (let j = 0; j <= t; j++) {
        let s = 0;
        for (let i = 0; i < headSize; i++) {
          s += q.data[t * qCols + qo + i] * k.data[j * kvCols + kvo + i];
        }
        scores[j] = s * scale;
        if (scores[j] > max) max = scores[j];
      }
      let sum = 0;
      for (let j = 0; j <= t; j++) sum += scores[j] = Math.exp(scores[j] - max);
      for (let i = 0; i < headSize; i++) {
        let acc = 0;
        for (let j = 0; j <= t; j++) acc += scores[j] * v.data[j * kvCols + kvo + i];
        out[t * width + oo + i] = acc / sum;
      }
    }
  }
  return { data: out, rows: T, cols: width };
}

/**
 * {@link causalAttention} through the float32 SIMD kernel (`attention_simd.ts`) when this thread's
 * kernels are `"simd"` and the heads are contiguous (no strides), else the float64 reference.
 *
 * @param q Queries.
 * @param k Keys.
 * @param v Values.
 * @param layout Heads and strides.
 * @param out Output `Float32Array(T * nHeads * headSize)`.
 * @param scores Float64 scratch of at least T (reference path).
 * @returns The attention output over `out`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attention } from "./layers.ts";
 * const q = { data: new Float32Array([1, 1]), rows: 2, cols: 1 }, v = { data: new Float32Array([2, 4]), rows: 2, cols: 1 };
 * const a = attention(q, q, v, { nHeads: 1, nKvHeads: 1, headSize: 1 });
 * assert.ok(Math.abs(a.data[1] - 3) < 1e-6);
 * ```
 */
export function attention(
  q: Matrix,
  k: Matrix,
  v: Matrix,
  layout: HeadLayout,
  out: Float32Array = new Float32Array(q.rows * layout.nHeads * layout.headSize),
  scores?: Float64Array,
): Matrix {
  const { nHeads, nKvHeads, headSize } = layout;
  const contiguous = (layout.qStride ?? headSize) === headSize &&
    (layout.kvStride ?? headSize) === headSize;
  if (kernels() === "simd" && contiguous) {
    return causalAttentionSimd(q, k, v, { dim: nHeads * headSize, nHeads, nKvHeads }, out);
  }
  return causalAttention(q, k, v, layout, out, scores);
}

// ---------------------------------------------------------------------------------------------
// token at a time, for the reference forward passes

/**
 * Plain `W x + b` for one vector (float64 accumulation).
 *
 * @param w `[rows, cols]`.
 * @param x `Float32Array(cols)`.
 * @param bias Optional `Float32Array(rows)`.
 * @returns `Float32Array(rows)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matvec } from "./layers.ts";
 * const y = matvec({ data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 }, new Float32Array([1, 1]), new Float32Array([0, 1]));
 * assert.deepEqual(Array.from(y), [3, 8]);
 * ```
 */
export function matvec(w: Matrix, x: Float32Array, bias?: Float32Array): Float32Array {
  const out = new Float32Array(w.rows);
  for (let i = 0; i < w.rows; i++) {
    let s = bias === undefined ? 0 : bias[i];
    for (let j = 0; j < w.cols; j++) s += w.data[i * w.cols + j] * x[j];
    out[i] = s;
  }
  return out;
}

/**
 * One query row's attention over the keys and values of positions 0..pos (the reference's
 * KV-cache step): for each head h, `softmax(q_h . k_h(j) / sqrt(headSize)) v_h(j)`.
 *
 * @param q The query `Float32Array`, head h at `h * qStride`.
 * @param keys Keys of positions 0..pos, kv head g at `g * kvStride`.
 * @param values Values, same layout.
 * @param layout Heads and strides.
 * @returns `Float32Array(nHeads * headSize)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attendOne } from "./layers.ts";
 * const k = [new Float32Array([1]), new Float32Array([1])], v = [new Float32Array([2]), new Float32Array([4])];
 * assert.deepEqual(Array.from(attendOne(new Float32Array([1]), k, v, { nHeads: 1, nKvHeads: 1, headSize: 1 })), [3]);
 * ```
 */
export function attendOne(
  q: Float32Array,
  keys: Float32Array[],
  values: Float32Array[],
  layout: HeadLayout,
): Float32Array {
  const { nHeads, nKvHeads, headSize } = layout;
  const qStride = layout.qStride ?? headSize, kvStride = layout.kvStride ?? headSize;
  const group = nHeads / nKvHeads, att = new Float32Array(nHeads * headSize);
  for (let h = 0; h < nHeads; h++) {
    const qo = h * qStride, kvo = Math.floor(h / group) * kvStride;
    const scores = keys.map((key) => {
      let s = 0;
      for (let i = 0; i < headSize; i++) s += q[qo + i] * key[kvo + i];
      return s / Math.sqrt(headSize);
    });
    const max = Math.max(...scores), e = scores.map((s) => Math.exp(s - max));
    const sum = e.reduce((a, b) => a + b, 0);
    for (let i = 0; i < headSize; i++) {
      let acc = 0;
      for (let t = 0; t < keys.length; t++) acc += (e[t] / sum) * values[t][kvo + i];
      att[h * headSize + i] = acc;
    }
  }
  return att;
}

/**
 * RMSNorm of one vector (the reference's).
 *
 * @param x The vector.
 * @param gain The gain.
 * @param eps Added to the mean square.
 * @returns A new vector.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rmsNorm } from "./layers.ts";
 * assert.ok(Math.abs(rmsNorm(new Float32Array([2, 2]), new Float32Array([1, 1]), 0)[0] - 1) < 1e-7);
 * ```
 */
export function rmsNorm(x: Float32Array, gain: Float32Array, eps: number): Float32Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  const scale = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => gain[i] * (scale * v));
}

/**
 * LayerNorm of one vector (the reference's).
 *
 * @param x The vector.
 * @param gain The gain.
 * @param bias The bias.
 * @param eps Added to the variance.
 * @returns A new vector.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layerNorm } from "./layers.ts";
 * assert.deepEqual(Array.from(layerNorm(new Float32Array([1, 3]), new Float32Array([1, 1]), new Float32Array([0, 0]), 0)), [-1, 1]);
 * ```
 */
export function layerNorm(
  x: Float32Array,
  gain: Float32Array,
  bias: Float32Array,
  eps: number,
): Float32Array {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * gain[i] + bias[i]);
}
