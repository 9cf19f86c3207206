/**
 * Matrix products split by rows of the output across the workers of a {@link Pool}.
 *
 * `C = A B` (and `C = A B^T`) row `i` depends only on row `i` of A and on all of B, so each worker
 * takes a contiguous range of rows `[r0, r1)`: it runs the single-thread kernel of
 * `src/linalg/matmul.ts` on the view `A[r0:r1]` (a subarray of shared memory, no copy) and the
 * shared B, and writes its rows into the shared output C. Every row is computed by the same code
 * on the same data as in the single-thread call, so the result is bitwise identical to
 * `matmul(a, b)` (tested), provided the kernel's row tiles divide {@link ROW_ALIGN}: range
 * boundaries are multiples of it, so no row changes from a full tile to a tail path.
 *
 * Without a pool, with a pool of size 1, without `SharedArrayBuffer`, or for products too small
 * to pay for the messages (`minFlops`), the single-thread kernel runs in-process: same values.
 *
 * Inputs not already in shared memory are copied there once per call (O(mk + kn), small next to
 * the O(mkn) product); pass weights through {@link toShared} once to avoid that copy.
 *
 * @module
 */
import { matmul, matmulTransB } from "../linalg/matmul.ts";
import { checkMatrix, type Matrix } from "../tensor/matrix.ts";
import { type Pool, sharedFloat32, sharedMemoryAvailable, splitRange, toShared } from "./pool.ts";

/** Row ranges given to workers start at multiples of this (a multiple of the kernels' row tiles). */
export const ROW_ALIGN = 16;

/** Products with fewer floating-point operations (`2 m k n`) than this run in-process by default. */
export const MIN_PARALLEL_FLOPS = 1 << 21;

/** Options for {@link matmulParallel} and {@link matmulTransBParallel}. */
export interface ParallelMatmulOptions {
  /** Run in-process below this many flops `2 m k n` (default {@link MIN_PARALLEL_FLOPS}). */
  minFlops?: number;
}

/** The URL workers import to find the row tasks below. */
const THIS_MODULE = import.meta.url;

type Kernel = (a: Matrix, b: Matrix) => Matrix;

/** Rows `[rowStart, rowEnd)` of `a` as a matrix sharing `a.data` (no copy). */
function rowBlock(a: Matrix, rowStart: number, rowEnd: number): Matrix {
  return {
    data: a.data.subarray(rowStart * a.cols, rowEnd * a.cols),
    rows: rowEnd - rowStart,
    cols: a.cols,
  };
}

/**
 * Worker task: writes rows `[rowStart, rowEnd)` of `C = A B` into `out` (`[m, n]` row-major).
 * Called by {@link matmulParallel} inside a worker; exported so that a worker can find it.
 *
 * @param a Left factor `[m, k]` (shared memory when called from a worker).
 * @param b Right factor `[k, n]`.
 * @param out Output `Float32Array(m * n)`; only rows `[rowStart, rowEnd)` are written.
 * @param rowStart First row of C to compute.
 * @param rowEnd One past the last row.
 * @throws {TypeError} If `a.cols !== b.rows`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { matmulRowsTask } from "./matmul_parallel.ts";
 * const out = new Float32Array(4);
 * matmulRowsTask(fromRows([[1, 2], [3, 4]]), fromRows([[1, 0], [0, 1]]), out, 1, 2);
 * assert.deepEqual(Array.from(out), [0, 0, 3, 4]);
 * ```
 */
export function matmulRowsTask(
  a: Matrix,
  b: Matrix,
  out: Float32Array,
  rowStart: number,
  rowEnd: number,
): void {
  out.set(matmul(rowBlock(a, rowStart, rowEnd), b).data, rowStart * b.cols);
}

/**
 * Worker task: writes rows `[rowStart, rowEnd)` of `C = A B^T` into `out` (`[m, n]` row-major).
 * Called by {@link matmulTransBParallel} inside a worker; exported so that a worker can find it.
 *
 * @param a Left factor `[m, k]`.
 * @param b Right factor, transposed, `[n, k]`.
 * @param out Output `Float32Array(m * n)`; only rows `[rowStart, rowEnd)` are written.
 * @param rowStart First row of C to compute.
 * @param rowEnd One past the last row.
 * @throws {TypeError} If `a.cols !== b.cols`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { matmulTransBRowsTask } from "./matmul_parallel.ts";
 * const out = new Float32Array(2);
 * matmulTransBRowsTask(fromRows([[1, 2]]), fromRows([[3, 4], [5, 6]]), out, 0, 1);
 * assert.deepEqual(Array.from(out), [11, 17]);
 * ```
 */
export function matmulTransBRowsTask(
  a: Matrix,
  b: Matrix,
  out: Float32Array,
  rowStart: number,
  rowEnd: number,
): void {
  out.set(matmulTransB(rowBlock(a, rowStart, rowEnd), b).data, rowStart * b.rows);
}

/** Shared driver: checks, then either the in-process kernel or one row-range task per worker. */
async function rowParallel(
  pool: Pool | undefined,
  kernel: Kernel,
  task: string,
  a: Matrix,
  b: Matrix,
  n: number,
  options: ParallelMatmulOptions,
): Promise<Matrix> {
  const minFlops = options.minFlops ?? MIN_PARALLEL_FLOPS;
  const ranges = splitRange(a.rows, pool?.size ?? 1, ROW_ALIGN);
  const flops = 2 * a.rows * a.cols * n;
  if (pool === undefined || ranges.length < 2 || flops < minFlops || !sharedMemoryAvailable()) {
    return kernel(a, b);
  }
  const as = toShared(a), bs = toShared(b), out = sharedFloat32(a.rows * n);
  await pool.map(THIS_MODULE, task, ranges.map(([r0, r1]) => [as, bs, out, r0, r1]));
  return { data: out, rows: a.rows, cols: n };
}

function checkOperands(op: string, a: Matrix, b: Matrix, ak: number, bk: number): void {
  checkMatrix(a, "A");
  checkMatrix(b, "B");
  if (ak !== bk) {
    throw new TypeError(
      `Cannot compute ${op}: inner dimensions differ, A [${a.rows}, ${a.cols}] and B [${b.rows}, ${b.cols}]`,
    );
  }
}

/**
 * `C = A B` with C's rows split across the pool's workers. A `[m, k]`, B `[k, n]`, C `[m, n]`.
 * Bitwise equal to `matmul(a, b)` of `src/linalg/matmul.ts`.
 *
 * @param pool The worker pool, or `undefined` to compute in-process.
 * @param a Left factor `[m, k]` (not modified).
 * @param b Right factor `[k, n]` (not modified).
 * @param options `minFlops`: below this `2 m k n` the product runs in-process.
 * @returns The product `[m, n]`; its `data` is in shared memory when workers were used.
 * @throws {TypeError} If an operand is not a Matrix or `a.cols !== b.rows` (as a rejection).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matmul } from "../linalg/matmul.ts";
 * import { createRng, randn } from "../tensor/rng.ts";
 * import { matrix } from "../tensor/matrix.ts";
 * import { createPool } from "./pool.ts";
 * import { matmulParallel } from "./matmul_parallel.ts";
 * const rng = createRng(1);
 * const a = matrix(40, 30, randn(1200, rng)), b = matrix(30, 20, randn(600, rng));
 * const pool = createPool({ size: 2 });
 * try {
 *   const c = await matmulParallel(pool, a, b, { minFlops: 0 });
 *   assert.deepEqual(c.data, matmul(a, b).data);
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export async function matmulParallel(
  pool: Pool | undefined,
  a: Matrix,
  b: Matrix,
  options: ParallelMatmulOptions = {},
): Promise<Matrix> {
  checkOperands("A B", a, b, a?.cols, b?.rows); // async function: a throw here is a rejection
  return await rowParallel(pool, matmul, "matmulRowsTask", a, b, b.cols, options);
}

/**
 * `C = A B^T` with C's rows split across the pool's workers. A `[m, k]`, B `[n, k]`, C `[m, n]`:
 * a linear layer `Y = X W^T` on a batch of tokens. Bitwise equal to `matmulTransB(a, b)`.
 *
 * @param pool The worker pool, or `undefined` to compute in-process.
 * @param a Left factor `[m, k]` (not modified).
 * @param b Right factor, transposed, `[n, k]` (not modified).
 * @param options `minFlops`: below this `2 m k n` the product runs in-process.
 * @returns The product `[m, n]`; its `data` is in shared memory when workers were used.
 * @throws {TypeError} If an operand is not a Matrix or `a.cols !== b.cols` (as a rejection).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { matmulTransBParallel } from "./matmul_parallel.ts";
 * const y = await matmulTransBParallel(undefined, fromRows([[1, 2]]), fromRows([[3, 4], [5, 6]]));
 * assert.deepEqual(Array.from(y.data), [11, 17]);
 * ```
 */
export async function matmulTransBParallel(
  pool: Pool | undefined,
  a: Matrix,
  b: Matrix,
  options: ParallelMatmulOptions = {},
): Promise<Matrix> {
  checkOperands("A B^T", a, b, a?.cols, b?.cols); // async function: a throw here is a rejection
  return await rowParallel(pool, matmulTransB, "matmulTransBRowsTask", a, b, b.rows, options);
}
