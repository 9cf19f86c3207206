/**
 * SparseGPT: one-shot pruning with Optimal Brain Surgeon weight updates.
 *
 * Frantar & Alistarh, "SparseGPT: Massive Language Models Can Be Accurately Pruned in One-Shot",
 * arXiv:2301.00774v3 (ICML 2023). Faithful to the authors' code, IST-DASLab/sparsegpt,
 * `sparsegpt.py` (`SparseGPT.add_batch` and `fasterprune`), step by step:
 *
 * 1. `H = (2/tokens) X^T X`. Dead inputs (`H_jj == 0`): `H_jj = 1` and `W_:,j = 0`.
 * 2. Dampening `damp = percdamp * mean(diag H)` added to the diagonal (default percdamp 0.01).
 * 3. `U` = upper Cholesky factor of `H^-1` (`U^T U = H^-1`).
 * 4. Columns in blocks of `blocksize` (128). At the start of a block (unstructured) or of each group
 *    of M columns (N:M) the mask is chosen by the score `w^2 / U_jj^2` (smallest pruned).
 * 5. Column by column inside the block: `q = keep ? w : 0`, `err = (w - q) / U_jj`,
 *    `W[:, j:blockEnd] -= err U[j, j:blockEnd]` (the OBS update), loss `+= (w - q)^2 / U_jj^2 / 2`.
 * 6. After the block, the lazy batch update `W[:, blockEnd:] -= Err U[block, blockEnd:]`.
 *
 * Calibration Gram matrix, precision (for the pipeline): {@link HessianAccumulator} keeps the sum
 * `G = sum_batches X^T X` in a `Float64Array` (`gramAccumulate`: float32 inputs, products exact in
 * float64, float64 sums) and the token count; `H = (2 / tokens) G` is formed once, in float64, at
 * the end. Factorisations, the working copy of W and the error blocks are float64; the returned
 * weight is rounded to float32 once. (The reference keeps a running float32 average instead.)
 *
 * Where this departs from the reference code (all deliberate, none change the method):
 * - Normalisation: the reference divides by the number of calibration *sequences*
 *   (`inp.shape[0]` of a `[batch, seq, hidden]` input), we by tokens, as `docs/readings.md` §3 says. Masks
 *   and updates do not depend on the scale of H (`percdamp` is relative; scaling H by c scales
 *   `err` by c^1/2 and U by c^-1/2); only the tracked loss scales: reference loss = seqlen x ours.
 *   One exception: a dead input's `H_jj = 1` does not scale, and enters `mean(diag H)`, so with
 *   dead inputs the dampening (hence the weights, slightly) differ. Pass `options.hessian` scaled as
 *   the reference's to reproduce it exactly (the golden test does).
 * - Unstructured count: the reference prunes `score <= sorted[floor(s * numel)]`, i.e. one weight
 *   too many per block (more with ties). We prune exactly `floor(s * rows * blockCols)` per block,
 *   ties pruning the lower flat index `r * blockCols + c` first, as `selectBySort`. The selection
 *   runs over the whole `[rows, blockCols]` block whatever `target.group` says: SparseGPT's own
 *   per-block selection (rows compete with each other, but every block has the exact sparsity).
 * - N:M: the reference's `prunen` is the number PRUNED of every `prunem`; our target `{n, m}` KEEPS
 *   n (2:4 is the same either way). Per group the n largest scores are kept, ties as `nmMask`.
 *   `blocksize % m` must be 0 (else groups would straddle blocks; a RangeError).
 * - `blocksize` is used both for mask selection (the paper's B_s) and lazy batching (B), as in
 *   the reference code. No quantisation.
 *
 * The tracked loss (exact in exact arithmetic, blocked or not): each step adds the OBS increase
 * `(w - q)^2 / (2 [H_F^-1]_jj)` of fixing column j with the later columns re-optimised, and
 * `[H_F^-1]_jj = U_jj^2`. Summed, it is the final value of `1/2 sum_rows dW H_damped dW^T`, so
 *
 *     loss = ||(W - W') X^T||_F^2 / tokens + (damp / 2) ||W - W'||_F^2
 *
 * (W with dead columns zeroed; X is `[tokens, cols]`, the spec's `||(W - W') X||^2`). With
 * `percdamp = 0` (possible when `X^T X` is nonsingular) `tokens * loss` IS the layer error.
 *
 * | paper (Alg. 1)          | code                                   |
 * | ----------------------- | -------------------------------------- |
 * | W, M (1 = pruned)       | `w` (float64 copy), `keep` (1 = kept)  |
 * | H = 2 X X^T, lambda     | `h`, `damp`                            |
 * | Cholesky(H^-1)^T        | `u` (upper)                            |
 * | B_s = B                 | `blocksize`                            |
 * | E                       | `err` (`[rows, blockCols]`)            |
 * | p                       | `target.sparsity`                      |
 *
 * @module
 */
import {
  choleskyInverseReference,
  choleskyReference,
  upperCholeskyOfInverse,
} from "../linalg/cholesky.ts";
import { gemmAccumulate, gramAccumulate } from "../linalg/matmul.ts";
import { nmMask } from "../select/nm.ts";
import { selectBySort } from "../select/sort.ts";
import { checkTarget, type Target } from "../select/target.ts";
import { checkMatrix, type Matrix } from "../tensor/matrix.ts";
import { finiteAtLeastZero, intAtLeast, type MethodDescriptor, type MethodInfo } from "./method.ts";
import type { LayerCalibration, PruneResult } from "./types.ts";

/** Options of {@link sparsegpt}. */
export interface SparseGptOptions {
  /** Columns per block (mask selection and lazy batch), default 128. */
  blocksize?: number;
  /** Dampening as a fraction of `mean(diag H)`, default 0.01. */
  percdamp?: number;
  /** A precomputed `H = (2/tokens) X^T X` (`cols * cols`), used instead of `calib.inputs`. */
  hessian?: Float64Array;
  /** Called after each block with (columns done, columns). */
  onProgress?: (done: number, total: number, label?: string) => void;
}

/** SparseGPT's diagnostics in `PruneResult.info`. */
export interface SparseGptInfo extends MethodInfo {
  method: "sparsegpt";
  /** The tracked OBS loss, summed over rows. */
  loss: number;
  /** The dampening added to the diagonal of H. */
  damp: number;
  blocksize: number;
  percdamp: number;
}

/** What {@link sparsegpt} returns: a {@link PruneResult} plus the tracked loss. */
export interface SparseGptResult extends PruneResult<SparseGptInfo> {
  /** The tracked OBS loss, summed over rows (see the module header for its meaning). */
  loss: number;
  /** The tracked loss of each row. */
  lossPerRow: Float64Array;
  /** The dampening added to the diagonal of H. */
  damp: number;
}

/**
 * Accumulates SparseGPT's Hessian over calibration batches: float64 `G = sum X^T X` and the token
 * count; {@link HessianAccumulator.hessian} returns `H = (2 / tokens) G`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { HessianAccumulator } from "./sparsegpt.ts";
 * const acc = new HessianAccumulator(2);
 * acc.add(fromRows([[1, 2]]));
 * acc.add(fromRows([[3, 4]]));
 * assert.deepEqual(Array.from(acc.hessian()), [10, 14, 14, 20]); // (2/2) X^T X
 * ```
 */
export class HessianAccumulator {
  /** Number of input features. */
  readonly cols: number;
  /** `sum X^T X` over every batch added so far, `cols * cols`, float64. */
  readonly gram: Float64Array;
  /** Tokens (rows of X) added so far. */
  tokens = 0;

  /**
   * @param cols Number of input features of the layer.
   * @throws {TypeError} If `cols` is not a non-negative integer.
   */
  constructor(cols: number) {
    if (!Number.isInteger(cols) || cols < 0) {
      throw new TypeError(
        `Cannot accumulate a Hessian: cols must be a non-negative integer, got ${cols}`,
      );
    }
    this.cols = cols;
    this.gram = new Float64Array(cols * cols);
  }

  /**
   * Adds a batch of inputs.
   *
   * @param x Inputs `[tokens, cols]`.
   * @throws {TypeError} If `x` is not a matrix with `cols` columns.
   */
  add(x: Matrix): void {
    checkMatrix(x, "calibration inputs");
    if (x.cols !== this.cols) {
      throw new TypeError(
        `Cannot add inputs [${x.rows}, ${x.cols}] to a Hessian of ${this.cols} columns`,
      );
    }
    gramAccumulate(this.gram, x);
    this.tokens += x.rows;
  }

  /**
   * @returns `H = (2 / tokens) sum X^T X`, a new `Float64Array(cols * cols)`.
   * @throws {RangeError} If no token was added.
   */
  hessian(): Float64Array {
    if (this.tokens === 0) {
      throw new RangeError("Cannot form the Hessian: no calibration tokens were added");
    }
    const scale = 2 / this.tokens;
    return this.gram.map((v) => v * scale);
  }
}

/**
 * `H = (2 / tokens) X^T X` of one or several batches of inputs, float64.
 *
 * @param inputs `[tokens, cols]`, or several such batches with the same `cols`.
 * @returns H, `Float64Array(cols * cols)`.
 * @throws {TypeError} If the batches are not matrices of equal `cols`.
 * @throws {RangeError} If there are no tokens.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { sparsegptHessian } from "./sparsegpt.ts";
 * assert.deepEqual(Array.from(sparsegptHessian(fromRows([[1, 2], [3, 4]]))), [10, 14, 14, 20]);
 * ```
 */
export function sparsegptHessian(inputs: Matrix | Matrix[]): Float64Array {
  const batches = Array.isArray(inputs) ? inputs : [inputs];
  if (batches.length === 0) throw new RangeError("Cannot form the Hessian: no calibration batches");
  checkMatrix(batches[0], "calibration inputs");
  const acc = new HessianAccumulator(batches[0].cols);
  for (const x of batches) acc.add(x);
  return acc.hessian();
}

/** The checked, dampened problem both implementations start from (steps 1-2). */
interface Prepared {
  w: Float64Array;
  h: Float64Array;
  damp: number;
  rows: number;
  cols: number;
}

function prepare(
  weight: Matrix,
  calib: LayerCalibration,
  target: Target,
  options: SparseGptOptions,
): Prepared {
  checkMatrix(weight, "weight");
  const { rows, cols } = weight;
  checkTarget(target, rows, cols);
  const percdamp = options.percdamp ?? 0.01;
  if (!(percdamp >= 0 && Number.isFinite(percdamp))) {
    throw new RangeError(
      `Cannot prune with SparseGPT: percdamp must be finite and >= 0, got ${percdamp}`,
    );
  }
  let h: Float64Array;
  if (options.hessian !== undefined) {
    if (!(options.hessian instanceof Float64Array) || options.hessian.length !== cols * cols) {
      throw new TypeError(
        `Cannot prune with SparseGPT: the Hessian must be a Float64Array of ${
          cols * cols
        } values for cols=${cols}`,
      );
    }
    h = options.hessian.slice();
  } else {
    if (calib.inputs === undefined) {
      throw new TypeError("Cannot prune with SparseGPT: needs calib.inputs (X) or options.hessian");
    }
    checkMatrix(calib.inputs, "calib.inputs");
    if (calib.inputs.cols !== cols) {
      throw new TypeError(
        `Cannot prune weight [${rows}, ${cols}] with inputs [${calib.inputs.rows}, ${calib.inputs.cols}]: columns differ`,
      );
    }
    h = sparsegptHessian(calib.inputs);
  }
  const w = Float64Array.from(weight.data);
  let trace = 0;
  for (let j = 0; j < cols; j++) {
    if (h[j * cols + j] === 0) { // dead input: H_jj = 1, W_:,j = 0
      h[j * cols + j] = 1;
      for (let r = 0; r < rows; r++) w[r * cols + j] = 0;
    }
    trace += h[j * cols + j];
  }
  const damp = cols === 0 ? 0 : percdamp * trace / cols; // damp = percdamp * mean(diag H)
  for (let j = 0; j < cols; j++) h[j * cols + j] += damp;
  return { w, h, damp, rows, cols };
}

/** Keep mask of a block: prune exactly the k smallest scores, ties pruning the lower index. */
function keepAllButSmallest(scores: Float64Array, k: number): Uint8Array {
  const keep = new Uint8Array(scores.length).fill(1);
  if (k === 0) return keep;
  const threshold = scores.slice().sort()[k - 1];
  let below = 0;
  for (let t = 0; t < scores.length; t++) if (scores[t] < threshold) below++;
  let equalToPrune = k - below;
  for (let t = 0; t < scores.length; t++) {
    if (scores[t] < threshold) keep[t] = 0;
    else if (scores[t] === threshold && equalToPrune > 0) keep[t] = 0, equalToPrune--;
  }
  return keep;
}

function blocksizeOf(options: SparseGptOptions, target: Target): number {
  const blocksize = options.blocksize ?? 128;
  if (!Number.isInteger(blocksize) || blocksize < 1) {
    throw new RangeError(
      `Cannot prune with SparseGPT: blocksize must be a positive integer, got ${blocksize}`,
    );
  }
  if (target.kind === "nm" && blocksize % target.m !== 0) {
    throw new RangeError(
      `Cannot prune ${target.n}:${target.m} with SparseGPT: blocksize ${blocksize} must be a multiple of ${target.m}`,
    );
  }
  return blocksize;
}

/**
 * SparseGPT for one layer (a `PruneMethod`): the blocked algorithm of the module header.
 *
 * @param weight `[rows, cols]` (not mutated).
 * @param calib `inputs` X `[tokens, cols]` (or pass `options.hessian`).
 * @param target Unstructured (exact per-block sparsity; `group` is ignored, see the header) or N:M.
 * @param options `blocksize` (128), `percdamp` (0.01), `hessian`, `onProgress`.
 * @returns `{weight, keep, loss, lossPerRow, damp, info}`; `info` holds loss, damp, blocksize, percdamp.
 * @throws {TypeError} If shapes are wrong or neither inputs nor a Hessian is given.
 * @throws {RangeError} If sparsity, N:M, blocksize or percdamp are out of range.
 * @throws {NotPositiveDefiniteError} If the dampened Hessian is not positive definite.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRng, randn } from "../tensor/rng.ts";
 * import { matrix } from "../tensor/matrix.ts";
 * import { sparsegpt } from "./sparsegpt.ts";
 * const rng = createRng(1);
 * const w = matrix(4, 8, randn(32, rng)), x = matrix(16, 8, randn(128, rng));
 * const r = sparsegpt(w, { inputs: x }, { kind: "nm", n: 2, m: 4 });
 * for (let g = 0; g < 32; g += 4) assert.equal(r.keep.slice(g, g + 4).reduce((a, b) => a + b), 2);
 * assert.ok(r.keep.every((k, t) => k === 1 || r.weight.data[t] === 0) && r.loss > 0);
 * ```
 */
export function sparsegpt(
  weight: Matrix,
  calib: LayerCalibration,
  target: Target,
  options: SparseGptOptions = {},
): SparseGptResult {
  const blocksize = blocksizeOf(options, target);
  const { w, h, damp, rows, cols } = prepare(weight, calib, target, options);
  const u = upperCholeskyOfInverse(h, cols, { damp }); // U^T U = (H + damp I)^-1
  const keep = new Uint8Array(rows * cols).fill(1);
  const lossPerRow = new Float64Array(rows);
  for (let i1 = 0; i1 < cols; i1 += blocksize) {
    const i2 = Math.min(i1 + blocksize, cols), count = i2 - i1;
    const err = new Float64Array(rows * count);
    const segment = target.kind === "nm" ? target.m : count; // where a mask is chosen
    for (let s0 = i1; s0 < i2; s0 += segment) {
      const segKeep = chooseMask(w, u, rows, cols, s0, Math.min(segment, i2 - s0), target);
      const len = Math.min(segment, i2 - s0);
      for (let r = 0; r < rows; r++) {
        const rw = r * cols;
        for (let c = 0; c < len; c++) {
          const j = s0 + c, d = u[j * cols + j], wj = w[rw + j];
          const q = segKeep[r * len + c] === 1 ? wj : 0;
          keep[rw + j] = segKeep[r * len + c];
          const e = (wj - q) / d; // err = (w - q) / [U]_jj
          lossPerRow[r] += e * e / 2; // (w - q)^2 / [U]_jj^2 / 2
          err[r * count + (j - i1)] = e;
          w[rw + j] = q;
          for (let t = j + 1; t < i2; t++) w[rw + t] -= e * u[j * cols + t]; // OBS update in the block
        }
      }
    }
    if (i2 < cols) { // lazy batch update: W[:, i2:] -= Err U[i1:i2, i2:]
      gemmAccumulate(
        { data: w, offset: i2, rowStride: cols, colStride: 1 },
        { data: err, offset: 0, rowStride: count, colStride: 1 },
        { data: u, offset: i1 * cols + i2, rowStride: cols, colStride: 1 },
        rows,
        cols - i2,
        count,
        { alpha: -1 },
      );
    }
    options.onProgress?.(i2, cols, "sparsegpt");
  }
  return finish(w, keep, lossPerRow, damp, rows, cols, blocksize, options);
}

/** The mask of columns `s0 .. s0+len` for every row, from the scores `w^2 / U_jj^2`. */
function chooseMask(
  w: Float64Array,
  u: Float64Array,
  rows: number,
  cols: number,
  s0: number,
  len: number,
  target: Target,
): Uint8Array {
  const scores = new Float64Array(rows * len);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < len; c++) {
      const j = s0 + c, d = u[j * cols + j];
      scores[r * len + c] = w[r * cols + j] ** 2 / (d * d);
    }
  }
  // nmMask takes float32 scores (as the reference below does): ties are decided after rounding.
  if (target.kind === "nm") {
    return nmMask({ data: Float32Array.from(scores), rows, cols: len }, target.n, target.m);
  }
  return keepAllButSmallest(scores, Math.floor(target.sparsity * rows * len));
}

function finish(
  w: Float64Array,
  keep: Uint8Array,
  lossPerRow: Float64Array,
  damp: number,
  rows: number,
  cols: number,
  blocksize: number,
  options: SparseGptOptions,
): SparseGptResult {
  const loss = lossPerRow.reduce((a, b) => a + b, 0);
  return {
    weight: { data: Float32Array.from(w), rows, cols },
    keep,
    loss,
    lossPerRow,
    damp,
    info: { method: "sparsegpt", loss, damp, blocksize, percdamp: options.percdamp ?? 0.01 },
  };
}

/**
 * The most literal SparseGPT: one block (all columns), column by column, with the paper's OBS
 * formulas on an explicit inverse instead of the Cholesky shortcut. `Hinv = (H + damp I)^-1`;
 * eliminating column j (Gaussian elimination, paper Sec. 3.2) gives `Hinv_F <- Hinv_F -
 * Hinv_F[:, j] Hinv_F[j, :] / Hinv_F[j, j]`; the OBS step of a row is `delta = -(w_j - q_j) /
 * Hinv_F[j, j] * Hinv_F[j, :]` with loss `(w_j - q_j)^2 / (2 Hinv_F[j, j])`. Masks: unstructured by
 * `selectBySort` over the whole layer, N:M by `nmMask` per group, both on `w^2 / Hinv_F[j, j]`.
 * O(cols^3 + rows cols^2); for tests. Equals {@link sparsegpt} with `blocksize = cols`.
 *
 * @param weight `[rows, cols]` (not mutated).
 * @param calib `inputs` X `[tokens, cols]` (or pass `options.hessian`).
 * @param target Unstructured or N:M.
 * @param options `percdamp` (0.01), `hessian`; `blocksize` is ignored.
 * @returns As {@link sparsegpt}.
 * @throws {TypeError} If shapes are wrong or neither inputs nor a Hessian is given.
 * @throws {RangeError} If sparsity, N:M or percdamp are out of range.
 * @throws {NotPositiveDefiniteError} If the dampened Hessian is not positive definite.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { sparsegptReference } from "./sparsegpt.ts";
 * // H = (2/2) X^T X = I: nothing to compensate with, the smaller weight goes, loss = 1^2 / 2
 * const x = fromRows([[1, 0], [0, 1]]);
 * const r = sparsegptReference(fromRows([[3, -1]]), { inputs: x }, { kind: "unstructured", sparsity: 0.5, group: "row" }, { percdamp: 0 });
 * assert.deepEqual(Array.from(r.keep), [1, 0]);
 * assert.ok(Math.abs(r.loss - 0.5) < 1e-6);
 * ```
 */
export function sparsegptReference(
  weight: Matrix,
  calib: LayerCalibration,
  target: Target,
  options: SparseGptOptions = {},
): SparseGptResult {
  const { w, h, damp, rows, cols } = prepare(weight, calib, target, options);
  const hinv = choleskyInverseReference(choleskyReference(h, cols, { damp }), cols);
  const pivotRows: Float64Array[] = []; // Hinv_F[j, :] just before column j is eliminated
  for (let j = 0; j < cols; j++) {
    const row = hinv.slice(j * cols, (j + 1) * cols), pjj = row[j];
    pivotRows.push(row);
    for (let a = j; a < cols; a++) {
      for (let b = j; b < cols; b++) hinv[a * cols + b] -= row[a] * row[b] / pjj;
    }
  }
  const pivot = (j: number) => pivotRows[j][j];
  let keep: Uint8Array = new Uint8Array(rows * cols).fill(1);
  if (target.kind === "unstructured") {
    const scores = Array.from({ length: rows * cols }, (_, t) => w[t] ** 2 / pivot(t % cols));
    keep = selectBySort(scores, Math.floor(target.sparsity * rows * cols));
  }
  const lossPerRow = new Float64Array(rows);
  for (let j = 0; j < cols; j++) {
    if (target.kind === "nm" && j % target.m === 0) {
      const scores = new Float32Array(rows * target.m);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < target.m; c++) {
          scores[r * target.m + c] = w[r * cols + j + c] ** 2 / pivot(j + c);
        }
      }
      const groupKeep = nmMask({ data: scores, rows, cols: target.m }, target.n, target.m);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < target.m; c++) keep[r * cols + j + c] = groupKeep[r * target.m + c];
      }
    }
    for (let r = 0; r < rows; r++) {
      const wj = w[r * cols + j], q = keep[r * cols + j] ? wj : 0;
      lossPerRow[r] += (wj - q) ** 2 / (2 * pivot(j));
      const scale = (wj - q) / pivot(j);
      for (let t = j + 1; t < cols; t++) w[r * cols + t] -= scale * pivotRows[j][t];
      w[r * cols + j] = q;
    }
  }
  return finish(w, keep, lossPerRow, damp, rows, cols, cols, options);
}

/**
 * The SparseGPT method, for the pipeline and the CLIs: {@link sparsegpt} with `blocksize` and
 * `percdamp` from the options. Unstructured targets select per block of columns (all rows of the
 * block compete), whatever `target.group` says; N:M per group of M of a row. Rows are coupled
 * through the OBS updates, so it is not split by rows. Pruned inputs across blocks, as in the
 * paper.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sparsegptMethod } from "./sparsegpt.ts";
 * const target = { kind: "unstructured", sparsity: 0.5, group: "row" } as const;
 * assert.equal(sparsegptMethod.competes(target, { blocksize: 64 }), "per block of 64 columns (all rows)");
 * ```
 */
export const sparsegptMethod: MethodDescriptor<SparseGptInfo> = {
  name: "sparsegpt",
  title: "SparseGPT, OBS updates (Frantar & Alistarh, arXiv:2301.00774)",
  calibration: "inputs",
  prune: (weight, calib, target, options = {}) =>
    sparsegpt(weight, calib, target, {
      blocksize: options.blocksize as number | undefined,
      percdamp: options.percdamp as number | undefined,
    }),
  competes: (target, options = {}) =>
    target.kind === "nm"
      ? `per ${target.m} consecutive weights of a row`
      : `per block of ${options.blocksize ?? 128} columns (all rows)`,
  pipeline: { denseInputs: false, intraLayer: false },
  options: [
    {
      flag: "blocksize",
      key: "blocksize",
      arg: "B",
      help: "sparsegpt's columns per block",
      default: "128",
      parse: intAtLeast("blocksize", 1),
    },
    {
      flag: "damp",
      key: "percdamp",
      arg: "D",
      help: "sparsegpt's dampening, fraction of mean(diag H)",
      default: "0.01",
      parse: finiteAtLeastZero("damp"),
    },
  ],
};
