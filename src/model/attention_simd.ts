/**
 * Causal grouped-query attention through the float32 SIMD matrix kernel, the `"simd"` twin of the
 * scalar attention in `llama.ts` (which stays the reference). Same mathematics,
 *
 *     a_h = softmax(q_h k_g^T / sqrt(headSize) + causal mask) v_g,   g = floor(h / (nHeads / nKvHeads))
 *
 * computed by blocks of query rows so that the products become matrix products:
 *
 * 1. Per kv head g: gather `K_g` `[T, headSize]` into contiguous rows.
 * 2. For a block of query rows `t0..t1-1` only keys `0..t1-1` can be seen: gather `V_g[0:t1]^T`,
 *    then for each query head h of the group, `S = Q_h[t0:t1] K_g[0:t1]^T` (float32 SIMD product,
 *    float32 sums).
 * 3. Row by row: `P[t, j] = exp(s_tj / sqrt(headSize) - max) / sum` for `j <= t`, 0 for `j > t`
 *    (max and sum in float64; the exponentials are stored as float32, then divided).
 * 4. `a_h[t0:t1] = P V_g[0:t1]` (float32 SIMD product).
 *
 * Differences from the reference: the dot products and the weighted sum of values are float32
 * sums, and the probabilities are rounded to float32 and normalised before the weighted sum (the
 * reference divides after). The tests bound the difference; the effect on perplexity is stated in
 * `docs/performance.md`.
 *
 * @module
 */
import { linearF32Simd } from "../linalg/gemm_simd.ts";
import type { Matrix } from "../tensor/matrix.ts";
import type { LlamaConfig } from "./weights.ts";

/** Query rows per block (bounds the scores block to `ROWS x T` floats). */
const ROWS = 128;

interface Scratch {
  q: Float32Array;
  k: Float32Array;
  vT: Float32Array;
  s: Float32Array;
  a: Float32Array;
}
let scratch: Scratch | undefined;

/** This thread's gather buffers, grown to fit `T` tokens of `headSize` (reused between calls). */
function buffers(T: number, headSize: number): Scratch {
  const need = T * headSize, rows = Math.min(ROWS, T);
  if (scratch === undefined || scratch.q.length < need || scratch.s.length < rows * T) {
    scratch = {
      q: new Float32Array(rows * headSize),
      k: new Float32Array(need),
      vT: new Float32Array(need),
      s: new Float32Array(rows * T),
      a: new Float32Array(rows * headSize),
    };
  }
  return scratch;
}

/** Copies rows `r0..r0+rows`, columns `c0..c0+width` of `m` into `out` `[rows, width]`. */
function gatherColumns(
  m: Matrix,
  r0: number,
  rows: number,
  c0: number,
  width: number,
  out: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const from = (r0 + r) * m.cols + c0;
    out.set(m.data.subarray(from, from + width), r * width);
  }
}

/**
 * Causal grouped-query attention with the float32 SIMD kernel (see the module doc).
 *
 * @param q Queries `[T, dim]` (after RoPE).
 * @param k Keys `[T, kvDim]` (after RoPE).
 * @param v Values `[T, kvDim]`.
 * @param config The model's config (`dim`, `nHeads`, `nKvHeads`).
 * @param out Receives the attention output `[T, dim]`.
 * @returns `out` as a `[T, dim]` matrix.
 * @throws {TypeError} If WebAssembly SIMD is missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { simdAvailable } from "../linalg/gemm_simd.ts";
 * import { causalAttentionSimd } from "./attention_simd.ts";
 * if (simdAvailable()) {
 *   const q = fromRows([[1, 0], [0, 1]]), v = fromRows([[2, 4], [6, 8]]);
 *   const a = causalAttentionSimd(q, q, v, { dim: 2, nHeads: 1, nKvHeads: 1 }, new Float32Array(4));
 *   assert.deepEqual(Array.from(a.data.subarray(0, 2)), [2, 4]); // the first token sees only itself
 * }
 * ```
 */
export function causalAttentionSimd(
  q: Matrix,
  k: Matrix,
  v: Matrix,
  config: Pick<LlamaConfig, "dim" | "nHeads" | "nKvHeads">,
  out: Float32Array,
): Matrix {
  const T = q.rows, dim = config.dim, headSize = dim / config.nHeads;
  const group = config.nHeads / config.nKvHeads, scale = 1 / Math.sqrt(headSize);
  const b = buffers(T, headSize);
  for (let g = 0; g < config.nKvHeads; g++) {
    gatherColumns(k, 0, T, g * headSize, headSize, b.k);
    for (let t0 = 0; t0 < T; t0 += ROWS) {
      const t1 = Math.min(T, t0 + ROWS), rows = t1 - t0;
      for (let i = 0; i < headSize; i++) { // V_g[0:t1]^T, [headSize, t1]
        for (let t = 0; t < t1; t++) b.vT[i * t1 + t] = v.data[t * v.cols + g * headSize + i];
      }
      for (let h = g * group; h < (g + 1) * group; h++) {
        gatherColumns(q, t0, rows, h * headSize, headSize, b.q);
        const s = linearF32Simd( // S = Q_h[t0:t1] K_g[0:t1]^T
          { data: b.s.subarray(0, rows * t1), rows, cols: t1 },
          { data: b.q.subarray(0, rows * headSize), rows, cols: headSize },
          { data: b.k.subarray(0, t1 * headSize), rows: t1, cols: headSize },
        );
        for (let r = 0; r < rows; r++) { // P: softmax of row t = t0 + r over keys 0..t
          const o = r * t1, t = t0 + r;
          let max = -Infinity;
          for (let j = 0; j <= t; j++) max = Math.max(max, s.data[o + j] * scale);
          let sum = 0;
          for (let j = 0; j <= t; j++) sum += s.data[o + j] = Math.exp(s.data[o + j] * scale - max);
          for (let j = 0; j <= t; j++) s.data[o + j] /= sum;
          s.data.fill(0, o + t + 1, o + t1);
        }
        const a = linearF32Simd( // a_h[t0:t1] = P V_g[0:t1]
          { data: b.a.subarray(0, rows * headSize), rows, cols: headSize },
          s,
          { data: b.vT.subarray(0, headSize * t1), rows: headSize, cols: t1 },
        );
        for (let r = 0; r < rows; r++) {
          out.set(a.data.subarray(r * headSize, (r + 1) * headSize), (t0 + r) * dim + h * headSize);
        }
      }
    }
  }
  return { data: out, rows: T, cols: dim };
}
