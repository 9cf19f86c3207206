/**
 * secateur: post-training pruning of large language models in pure TypeScript.
 *
 * The public surface is re-exported here by name. Each group points at the folder that holds it.
 *
 * @module
 */

// tensor: the Matrix type, ndarray bridge, seeded RNG
export { checkMask, checkMatrix, cloneMatrix, fromRows, matrix, rowView, transpose } from "./src/tensor/matrix.ts";
export type { Matrix } from "./src/tensor/matrix.ts";
export { fromNdarray, toNdarray } from "./src/tensor/ndarray.ts";
export { createRng, randn } from "./src/tensor/rng.ts";
export type { Rng } from "./src/tensor/rng.ts";

// check: numeric comparison for tests and other backends
export { allClose, assertAllClose } from "./src/check/all_close.ts";
export type { AllCloseReport, Tolerance } from "./src/check/all_close.ts";

// linalg + SparseGPT (branch sgpt): fast matmul/Gram kernels, Cholesky family, SparseGPT
export {
  gemmAccumulate,
  gemmAccumulateReference,
  gramAccumulate,
  gramAccumulateReference,
  matmul,
  matmulInto,
  matmulReference,
  matmulTransB,
  matmulTransBInto,
  matmulTransBReference,
  stridedView,
} from "./src/linalg/matmul.ts";
export type { GemmOptions, StridedMatrix } from "./src/linalg/matmul.ts";
export {
  cholesky,
  choleskyInverse,
  choleskyInverseReference,
  choleskyReference,
  lowerTriangularInverse,
  lowerTriangularInverseReference,
  NotPositiveDefiniteError,
  upperCholeskyOfInverse,
  upperCholeskyOfInverseReference,
} from "./src/linalg/cholesky.ts";
export type { CholeskyOptions } from "./src/linalg/cholesky.ts";
export { HessianAccumulator, sparsegpt, sparsegptHessian, sparsegptReference } from "./src/prune/sparsegpt.ts";
export type { SparseGptOptions, SparseGptResult } from "./src/prune/sparsegpt.ts";
