/**
 * The registry of pruning methods for one layer. A method maps a weight and its calibration
 * statistics to a pruned weight and its mask; the CLI (`scripts/prune-layer.ts`) and the model
 * pipeline look methods up here by name. SparseGPT and FISTAPruner add themselves to {@link METHODS}.
 *
 * The three score-then-select methods never change the kept weights; SparseGPT does:
 *
 * | method       | score (file)                                  | default group (papers) |
 * | ------------ | --------------------------------------------- | ---------------------- |
 * | `magnitude`  | `|W_ij|` (`src/score/magnitude.ts`)           | layer                  |
 * | `wanda`      | `|W_ij| ||X_:,j||` (`src/score/wanda.ts`)      | row                    |
 * | `swiftprune` | `W_ij^2 / (1 - x_j^2/(S+eps))` (`src/score/swiftprune.ts`) | row       |
 * | `sparsegpt`  | `w^2 / [U]_jj^2` per block, OBS update (`src/prune/sparsegpt.ts`) | block |
 * | `fista`      | LASSO by FISTA, rounded by `|w|` (`src/prune/fistapruner.ts`) | operator |
 *
 * @module
 */
import { checkMask, checkMatrix, type Matrix } from "../tensor/matrix.ts";
import type { LayerCalibration, PruneResult, SelectMode, Target } from "./types.ts";
import type { EwmaOptions } from "../select/ewma.ts";
import { buildMask } from "../select/mask.ts";
import { magnitudeScores } from "../score/magnitude.ts";
import { columnNorms, wandaScores } from "../score/wanda.ts";
import { swiftPruneScores, type XStat } from "../score/swiftprune.ts";
import { sparsegpt as sparsegptPrune } from "./sparsegpt.ts";
import { fistaPruner } from "./fistapruner.ts";

/** Options shared by methods; each method reads the ones it knows. */
export interface MethodOptions {
  /** Selector for unstructured targets (default `"ewma-exact"`). */
  select?: SelectMode;
  /** EWMA selector parameters. */
  ewma?: EwmaOptions;
  /** SwiftPrune's reading of `x` (default `"norm"`). */
  xStat?: XStat;
  /** SwiftPrune's relative ridge (default 1e-8). */
  eps?: number;
  /** SparseGPT: columns per block (default 128). */
  blocksize?: number;
  /** SparseGPT: dampening as a fraction of `mean(diag H)` (default 0.01). */
  percdamp?: number;
  /** FISTAPruner: K, FISTA iterations per run (default 20). */
  iterations?: number;
  /** FISTAPruner: T, runs of the lambda search (default 3). */
  updates?: number;
  /** FISTAPruner: the method whose result is the warm start (default `"wanda"`). */
  warmStart?: "wanda" | "sparsegpt";
  /** Options of other methods. */
  [option: string]: unknown;
}

/** A pruning method for one layer. Never mutates its inputs. */
export type PruneMethod = (
  weight: Matrix,
  calib: LayerCalibration,
  target: Target,
  options?: MethodOptions,
) => PruneResult;

/**
 * Zeroes the pruned weights: a new matrix equal to `weight` where `keep` is 1 and 0 elsewhere.
 *
 * @param weight `W` `[rows, cols]` (not mutated).
 * @param keep Mask `Uint8Array(rows * cols)`, 1 = keep.
 * @returns The masked weight (a new matrix).
 * @throws {TypeError} If the shapes differ or the mask holds values other than 0 and 1.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { applyMask } from "./methods.ts";
 * const w = applyMask(fromRows([[1, -2, 3]]), new Uint8Array([1, 0, 1]));
 * assert.deepEqual(Array.from(w.data), [1, 0, 3]);
 * ```
 */
export function applyMask(weight: Matrix, keep: Uint8Array): Matrix {
  checkMatrix(weight, "weight");
  checkMask(keep, weight.rows, weight.cols);
  const out = new Float32Array(weight.data.length);
  for (let t = 0; t < out.length; t++) out[t] = keep[t] ? weight.data[t] : 0;
  return { data: out, rows: weight.rows, cols: weight.cols };
}

/** Milliseconds for `info.timesMs` (`Date.now` where `performance` is missing, e.g. a bare VM). */
const clockMs = (): number => globalThis.performance?.now() ?? Date.now();

/**
 * Scores, selects from the scores and zeroes the rest: every score-then-select method. `info.timesMs`
 * gives the time of `scoring` and of `selection` (mask and masked weight), in ms.
 */
function pruneByScores(
  weight: Matrix,
  score: () => Matrix,
  target: Target,
  options: MethodOptions,
): PruneResult {
  const t0 = clockMs();
  const scores = score();
  const t1 = clockMs();
  const mask = buildMask(scores, target, { select: options.select, ewma: options.ewma });
  const pruned = applyMask(weight, mask.keep);
  const info: Record<string, unknown> = {
    pruned: mask.pruned,
    targetPruned: mask.targetPruned,
    sparsity: mask.sparsity,
    timesMs: { scoring: t1 - t0, selection: clockMs() - t1 },
  };
  return { weight: pruned, keep: mask.keep, scores, info };
}

function wandaColNorms(weight: Matrix, calib: LayerCalibration): Float32Array {
  if (calib?.colNorms !== undefined) return calib.colNorms;
  if (calib?.inputs !== undefined) {
    checkMatrix(calib.inputs, "inputs");
    if (calib.inputs.cols !== weight.cols) {
      throw new TypeError(
        `Cannot prune with wanda: inputs are [${calib.inputs.rows}, ${calib.inputs.cols}], expected [tokens, ${weight.cols}]`,
      );
    }
    return columnNorms(calib.inputs);
  }
  throw new TypeError("Cannot prune with wanda: calibration inputs or colNorms are missing");
}

/** Magnitude pruning: scores `|W_ij|`; needs no calibration. */
const magnitude: PruneMethod = (weight, _calib, target, options = {}) =>
  pruneByScores(weight, () => magnitudeScores(weight), target, options);

/** Wanda: scores `|W_ij| ||X_:,j||_2` from `calib.colNorms` or `calib.inputs`. */
const wanda: PruneMethod = (weight, calib, target, options = {}) =>
  pruneByScores(weight, () => wandaScores(weight, wandaColNorms(weight, calib)), target, options);

/** SwiftPrune: scores `W_ij^2 / (1 - x_j^2 / (S + eps))` (OUR READING), mask only. */
const swiftprune: PruneMethod = (weight, calib, target, options = {}) =>
  pruneByScores(
    weight,
    () =>
      swiftPruneScores(weight, { inputs: calib?.inputs, colNorms: calib?.colNorms }, {
        xStat: options.xStat,
        eps: options.eps,
      }),
    target,
    options,
  );

/**
 * SparseGPT (Frantar & Alistarh, arXiv:2301.00774): OBS updates over the Cholesky factor of H^-1;
 * changes the kept weights. For unstructured targets it selects per block of columns, whatever
 * `target.group` says (see `src/prune/sparsegpt.ts`).
 */
const sparsegpt: PruneMethod = (weight, calib, target, options = {}) =>
  sparsegptPrune(weight, calib, target, {
    blocksize: options.blocksize,
    percdamp: options.percdamp,
  });

/**
 * FISTAPruner (Zhao et al., arXiv:2408.03728): per-operator LASSO solved by FISTA, rounded to the
 * exact target, with the lambda search. The warm start is Wanda's (Llama-style default) or
 * SparseGPT's result, computed here on the inputs the pruned operator will see: `inputsPruned`
 * (X*) when given, else `inputs` (OUR READING; the paper runs the warm-start method as usual).
 */
const fista: PruneMethod = (weight, calib, target, options = {}) => {
  const warmCalib = { inputs: calib?.inputsPruned ?? calib?.inputs, colNorms: calib?.colNorms };
  const warmName = options.warmStart ?? "wanda";
  if (warmName !== "wanda" && warmName !== "sparsegpt") {
    throw new RangeError(`Cannot prune with fista: warmStart must be wanda or sparsegpt, got ${warmName}`);
  }
  const warm = METHODS[warmName](weight, warmCalib, target, options);
  const result = fistaPruner(weight, calib, target, {
    iterations: options.iterations,
    updates: options.updates,
    warmStart: { weight: warm.weight, keep: warm.keep },
  });
  return { ...result, info: { ...result.info, warmStart: warmName } };
};

/**
 * Every pruning method by name. A plain object: later methods are added as new entries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { METHODS } from "./methods.ts";
 * const r = METHODS.magnitude(fromRows([[1, -4, 2, 3]]), {}, { kind: "nm", n: 2, m: 4 });
 * assert.deepEqual(Array.from(r.weight.data), [0, -4, 0, 3]);
 * ```
 */
export const METHODS: Record<string, PruneMethod> = {
  magnitude,
  wanda,
  swiftprune,
  sparsegpt,
  fista,
};

/**
 * The names of the registered methods.
 *
 * @returns The keys of {@link METHODS}, in registration order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodNames } from "./methods.ts";
 * assert.ok(methodNames().includes("swiftprune"));
 * ```
 */
export function methodNames(): string[] {
  return Object.keys(METHODS);
}
