/**
 * Row-parallel scoring and selection of one layer across the workers of a {@link Pool}.
 *
 * Per-row groups and N:M patterns are row-independent: row `i` of the mask depends only on row `i`
 * of the scores (and the score of row `i` only on row `i` of `W` and on per-column statistics of the
 * calibration inputs). So each worker takes a contiguous range of rows, runs the ordinary
 * single-thread code on that block (a view of shared memory, no copy) and writes its rows of the
 * results into shared outputs. Every row is computed by the same code on the same data, so the
 * result is bitwise identical to the single-thread call (tested).
 *
 * Per-layer groups are not row-independent (one threshold over the whole layer): they run
 * in-process, as do methods whose descriptor has no `rowSplit` (SparseGPT chooses its mask over
 * blocks of columns of all rows; FISTAPruner couples rows through its lambda search). Without a
 * pool, with a pool of size 1, or without `SharedArrayBuffer`, everything runs in-process: same
 * values.
 *
 * What every row needs of the whole layer (the descriptor's `rowSplit.prepare`, e.g. Wanda's and
 * SwiftPrune's `||X_:,j||`) is computed once here, not once per worker; it is the same function
 * the method calls itself.
 *
 * @module
 */
import { reuseShared } from "../tensor/release.ts";
import type { MethodDescriptor, MethodInfo, MethodOptions } from "../prune/method.ts";
import { isRegistered, methodByName } from "../prune/methods.ts";
import type { LayerCalibration, PruneResult } from "../prune/types.ts";
import { buildMask, type MaskOptions, type MaskResult } from "../select/mask.ts";
import type { Target } from "../select/target.ts";
import { checkMatrix, type Matrix } from "../tensor/matrix.ts";
import { type Pool, sharedFloat32, sharedMemoryAvailable, splitRange, toShared } from "./pool.ts";

/** The URL workers import to find the row tasks below. */
const THIS_MODULE = import.meta.url;

/** Layers with fewer weights than this are done in-process by default (messages cost more). */
export const MIN_PARALLEL_WEIGHTS = 1 << 16;

/**
 * Row ranges per worker: a few smaller tasks instead of one per worker, so that on a shared
 * machine a worker that gets less CPU takes fewer rows (the pool hands tasks to free workers).
 */
export const TASKS_PER_WORKER = 4;

/** Options of the parallel layer functions. */
export interface RowParallelOptions {
  /** Run in-process below this many weights (default {@link MIN_PARALLEL_WEIGHTS}). */
  minWeights?: number;
}

/** Rows `[r0, r1)` of `m` as a matrix sharing `m.data`. */
function rowBlock(m: Matrix, r0: number, r1: number): Matrix {
  return { data: m.data.subarray(r0 * m.cols, r1 * m.cols), rows: r1 - r0, cols: m.cols };
}

function sharedBytes(n: number): Uint8Array {
  return new Uint8Array(reuseShared(n) ?? new SharedArrayBuffer(n)); // a released one first
}

/** Whether a target's rows are independent (per-row groups or N:M). */
function rowIndependent(target: Target): boolean {
  return typeof target === "object" && target !== null &&
    (target.kind === "nm" || (target.kind === "unstructured" && target.group === "row"));
}

/** The row ranges to hand out, or `undefined` to run in-process. */
function rowRanges(
  pool: Pool | undefined,
  m: Matrix,
  target: Target,
  options: RowParallelOptions,
): Array<[number, number]> | undefined {
  const minWeights = options.minWeights ?? MIN_PARALLEL_WEIGHTS;
  if (pool === undefined || pool.size < 2 || !sharedMemoryAvailable()) return undefined;
  if (!rowIndependent(target) || m.rows * m.cols < minWeights) return undefined;
  const ranges = splitRange(m.rows, pool.size * TASKS_PER_WORKER);
  return ranges.length < 2 ? undefined : ranges;
}

/** The summary fields of a mask: the pruned count the workers reported, else counted in `keep`. */
function maskSummary(keep: Uint8Array, targetPruned: number, counted?: number) {
  let pruned = counted ?? 0;
  if (counted === undefined) { for (let t = 0; t < keep.length; t++) pruned += 1 - keep[t]; }
  return { pruned, targetPruned, sparsity: keep.length ? pruned / keep.length : 0 };
}

// ---------------------------------------------------------------------------------------------
// selection only

/**
 * Worker task: the mask of rows `[r0, r1)` of `scores`, written into `keep` (shared).
 *
 * @param scores Scores `[rows, cols]`.
 * @param target A per-row or N:M target.
 * @param options Selector options.
 * @param r0 First row.
 * @param r1 One past the last row.
 * @param keep Output `Uint8Array(rows * cols)`; only these rows are written.
 * @returns The rows' target count and pruned count per row (per-row groups).
 * @throws {RangeError} As `buildMask` does (bad sparsity, pattern, NaN score).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { maskRowsTask } from "./prune_parallel.ts";
 * const keep = new Uint8Array(4);
 * maskRowsTask(fromRows([[1, 2], [4, 3]]), { kind: "unstructured", sparsity: 0.5, group: "row" }, {}, 1, 2, keep);
 * assert.deepEqual(Array.from(keep), [0, 0, 1, 0]);
 * ```
 */
export function maskRowsTask(
  scores: Matrix,
  target: Target,
  options: MaskOptions,
  r0: number,
  r1: number,
  keep: Uint8Array,
): { targetPruned: number; prunedPerRow?: Uint32Array } {
  const part = buildMask(rowBlock(scores, r0, r1), target, options);
  keep.set(part.keep, r0 * scores.cols);
  return { targetPruned: part.targetPruned, prunedPerRow: part.prunedPerRow };
}

/**
 * `buildMask` of `src/select/mask.ts` with rows split across the pool's workers (per-row groups and
 * N:M); per-layer groups run in-process. Bitwise the same result as `buildMask`.
 *
 * @param pool The worker pool, or `undefined` to run in-process.
 * @param scores Scores `[rows, cols]` (not modified; pass shared memory to avoid a copy).
 * @param target The target (see `buildMask`).
 * @param options Selector options, and `minWeights` below which it runs in-process.
 * @returns The same {@link MaskResult} as `buildMask(scores, target, options)`.
 * @throws {TypeError} If `scores` is not a matrix or `target` is not a target (as a rejection).
 * @throws {RangeError} As `buildMask` (as a rejection).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRng, randn } from "../tensor/rng.ts";
 * import { matrix } from "../tensor/matrix.ts";
 * import { buildMask } from "../select/mask.ts";
 * import { createPool } from "./pool.ts";
 * import { buildMaskParallel } from "./prune_parallel.ts";
 * const scores = matrix(50, 64, randn(50 * 64, createRng(1)));
 * const target = { kind: "unstructured", sparsity: 0.5, group: "row" } as const;
 * const pool = createPool({ size: 2 });
 * try {
 *   const mask = await buildMaskParallel(pool, scores, target, { minWeights: 0 });
 *   assert.deepEqual(mask, buildMask(scores, target));
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export async function buildMaskParallel(
  pool: Pool | undefined,
  scores: Matrix,
  target: Target,
  options: MaskOptions & RowParallelOptions = {},
): Promise<MaskResult> {
  checkMatrix(scores, "scores");
  const ranges = rowRanges(pool, scores, target, options);
  if (ranges === undefined) return buildMask(scores, target, options);
  const { minWeights: _, ...maskOptions } = options;
  const shared = toShared(scores), keep = sharedBytes(scores.rows * scores.cols);
  const parts = await pool!.map<{ targetPruned: number; prunedPerRow?: Uint32Array }>(
    THIS_MODULE,
    "maskRowsTask",
    ranges.map(([r0, r1]) => [shared, target, maskOptions, r0, r1, keep]),
  );
  const targetPruned = parts.reduce((s, p) => s + p.targetPruned, 0);
  const result: MaskResult = { keep, ...maskSummary(keep, targetPruned), prunedPerRow: undefined };
  if (parts[0].prunedPerRow !== undefined) {
    result.prunedPerRow = new Uint32Array(scores.rows);
    parts.forEach((p, i) => result.prunedPerRow!.set(p.prunedPerRow!, ranges[i][0]));
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// scoring, selection and masking of a layer

/** The shared outputs a {@link pruneRowsTask} writes into. */
interface LayerOutputs {
  weight: Float32Array;
  keep: Uint8Array;
  scores: Float32Array;
}

/**
 * Worker task: prunes rows `[r0, r1)` of `weight` with the registered method `method` (its
 * `rowSplit.pruneRows`, given what `rowSplit.prepare` computed for the whole layer) and writes the
 * rows' pruned weight, mask and scores into `out` (shared).
 *
 * @param method The name of a registered method with a `rowSplit`.
 * @param weight `W` `[rows, cols]`.
 * @param prepared What every block of rows needs (`rowSplit.prepare` of the whole layer).
 * @param target A per-row or N:M target.
 * @param options Method options.
 * @param r0 First row.
 * @param r1 One past the last row.
 * @param out `{ weight, keep, scores }` buffers of `rows * cols`; only these rows are written.
 * @returns The rows' `info` (e.g. `targetPruned`).
 * @throws {RangeError} If `method` is not a registered method with a `rowSplit`; errors of the
 *   method propagate.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { pruneRowsTask } from "./prune_parallel.ts";
 * const out = { weight: new Float32Array(4), keep: new Uint8Array(4), scores: new Float32Array(4) };
 * const target = { kind: "unstructured", sparsity: 0.5, group: "row" } as const;
 * pruneRowsTask("magnitude", fromRows([[1, 2], [-4, 3]]), undefined, target, {}, 1, 2, out);
 * assert.deepEqual(Array.from(out.weight), [0, 0, -4, 0]);
 * ```
 */
export function pruneRowsTask(
  method: string,
  weight: Matrix,
  prepared: unknown,
  target: Target,
  options: MethodOptions,
  r0: number,
  r1: number,
  out: LayerOutputs,
): MethodInfo | undefined {
  const split = methodByName(method)?.rowSplit;
  if (split === undefined) {
    throw new RangeError(`Cannot prune rows with ${method}: it is not a row-separable method`);
  }
  const from = r0 * weight.cols, to = r1 * weight.cols; // this block's rows of the outputs
  const into = {
    weight: out.weight.subarray(from, to),
    keep: out.keep.subarray(from, to),
    scores: out.scores.subarray(from, to),
  };
  const part = split.pruneRows(rowBlock(weight, r0, r1), prepared, target, options, into);
  // a method that does not write into the outputs gave its own arrays: copied here
  if (part.weight.data !== into.weight) into.weight.set(part.weight.data);
  if (part.keep !== into.keep) into.keep.set(part.keep);
  if (part.scores && part.scores.data !== into.scores) into.scores.set(part.scores.data);
  return part.info;
}

/**
 * What `rowSplit.prepare` computed, with every matrix in it moved to shared memory (so that the
 * tasks do not each receive a copy).
 */
function shareMatrices(prepared: unknown): unknown {
  if (typeof prepared !== "object" || prepared === null || ArrayBuffer.isView(prepared)) {
    return prepared;
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(prepared)) {
    const isMatrix = typeof v === "object" && v !== null && "rows" in v && "cols" in v &&
      (v as Matrix).data instanceof Float32Array;
    out[key] = isMatrix ? toShared(v as Matrix) : v;
  }
  return out;
}

/**
 * One layer of a method, with rows split across the pool's workers when the method has a
 * `rowSplit` (magnitude, Wanda, SwiftPrune) and the target is per row or N:M. Any other method or
 * target runs in-process (`method.prune`). Bitwise the same result (weight, mask, scores, info) as
 * `method.prune`, except `info.timesMs`: with workers, per phase the slowest worker's time.
 *
 * @param pool The worker pool, or `undefined` to run in-process.
 * @param method A method descriptor (a registered one, to be split).
 * @param weight `W` `[rows, cols]` (not modified; shared memory avoids a copy).
 * @param calib The layer's calibration.
 * @param target The target.
 * @param options Method options, and `minWeights` below which it runs in-process.
 * @returns The method's {@link PruneResult}; with workers its arrays are in shared memory.
 * @throws Errors of the method propagate (as rejections).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRng, randn } from "../tensor/rng.ts";
 * import { matrix } from "../tensor/matrix.ts";
 * import { methodByName } from "../prune/methods.ts";
 * import { createPool } from "./pool.ts";
 * import { pruneLayerParallel } from "./prune_parallel.ts";
 * const rng = createRng(2);
 * const w = matrix(40, 32, randn(40 * 32, rng)), x = matrix(10, 32, randn(320, rng));
 * const target = { kind: "nm", n: 2, m: 4 } as const;
 * const pool = createPool({ size: 2 });
 * try {
 *   const wanda = methodByName("wanda")!;
 *   const r = await pruneLayerParallel(pool, wanda, w, { inputs: x }, target, { minWeights: 0 });
 *   const single = wanda.prune(w, { inputs: x }, target);
 *   assert.deepEqual(r.keep, single.keep);
 *   assert.deepEqual(r.weight, single.weight);
 *   assert.deepEqual(r.scores, single.scores);
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export async function pruneLayerParallel(
  pool: Pool | undefined,
  method: MethodDescriptor,
  weight: Matrix,
  calib: LayerCalibration,
  target: Target,
  options: MethodOptions & RowParallelOptions = {},
): Promise<PruneResult<MethodInfo>> {
  checkMatrix(weight, "weight");
  const { minWeights, ...methodOptions } = options;
  const split = isRegistered(method) ? method.rowSplit : undefined;
  const ranges = split && rowRanges(pool, weight, target, { minWeights: minWeights as number });
  if (split === undefined || ranges === undefined) {
    return method.prune(weight, calib, target, methodOptions);
  }
  const prepared = shareMatrices(split.prepare(weight, calib, methodOptions));
  const n = weight.rows * weight.cols;
  const out = { weight: sharedFloat32(n), keep: sharedBytes(n), scores: sharedFloat32(n) };
  const shared = toShared(weight);
  const infos = await pool!.map<
    MethodInfo & { targetPruned?: number; pruned?: number } | undefined
  >(
    THIS_MODULE,
    "pruneRowsTask",
    ranges.map(([r0, r1]) => [method.name, shared, prepared, target, methodOptions, r0, r1, out]),
  );
  const targetPruned = infos.reduce((s, info) => s + (info?.targetPruned ?? 0), 0);
  // the workers counted their rows' pruned weights; a method that did not report it is counted here
  const counted = infos.every((info) => typeof info?.pruned === "number");
  const pruned = counted ? infos.reduce((s, info) => s + info!.pruned!, 0) : undefined;
  const { rows, cols } = weight;
  return {
    weight: { data: out.weight, rows, cols },
    keep: out.keep,
    scores: { data: out.scores, rows, cols },
    info: { ...maskSummary(out.keep, targetPruned, pruned), timesMs: slowestTimes(infos) },
  };
}

/**
 * Per phase, the longest time any worker reported (`info.timesMs`): the workers run at the same
 * time, so the slowest one is what the caller waits for.
 */
function slowestTimes(infos: (MethodInfo | undefined)[]): Record<string, number> {
  const times: Record<string, number> = {};
  for (const info of infos) {
    for (const [phase, ms] of Object.entries(info?.timesMs ?? {})) {
      times[phase] = Math.max(times[phase] ?? 0, ms);
    }
  }
  return times;
}
