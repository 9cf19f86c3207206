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

// --- fista helper: power iteration, the FISTA LASSO solver, FISTAPruner (issue 7) ---
export { largestEigenvalue, largestEigenvalueReference } from "./src/linalg/power_iteration.ts";
export type { PowerIterationOptions } from "./src/linalg/power_iteration.ts";
export { fista, fistaReference, lassoObjective } from "./src/optim/fista.ts";
export type { FistaOptions, FistaResult } from "./src/optim/fista.ts";
export {
  fistaGramAccumulator,
  fistaPruner,
  layerErrorReference,
  roundByMagnitude,
} from "./src/prune/fistapruner.ts";
export type { FistaGrams, FistaPrunerOptions } from "./src/prune/fistapruner.ts";
