/**
 * FISTAPruner for one linear operator (Zhao et al., "FISTAPruner: Layer-wise Post-training
 * Pruning for Large Language Models", EMNLP 2025 main; arXiv:2408.03728), derived in
 * `docs/fistapruner.md` (our readings: `docs/readings.md` §4). The block-level part (the order
 * q,k,v -> o -> w1,w3 -> w2 that makes `X*` the input of already pruned operators, workers, CLI)
 * lives with the pipeline; this file fits one operator given its Gram matrices.
 *
 * Per operator:
 *
 * 1. Gram matrices over the calibration tokens, normalised by their count:
 *    `G* = X*^T X* / tokens`, `Gx = X^T X* / tokens`, `G = X^T X / tokens`; then `C = W Gx`.
 * 2. FISTA (`src/optim/fista.ts`) on `min 1/2 tr(W* G* W*^T) - tr(W* C^T) + lambda |W*|_1`, which
 *    is `(1/tokens) * 1/2 ||X* W*^T - X W^T||_F^2 + lambda |W*|_1` up to a constant; `L` by power
 *    iteration, computed once per operator (`G*` does not change with lambda).
 * 3. Rounding to exact sparsity by magnitude: the `floor(s * rows * cols)` smallest `|w|` of the
 *    whole operator (default) or `floor(s * cols)` per row; N:M keeps the N largest `|w|` per group.
 *    No refit.
 * 4. The lambda search, T runs. After each run and rounding, with `D = W_r - W_K`:
 *
 *        E_round = ||X* D^T||_F^2                 = tokens * tr(D G* D^T)
 *        E_total = ||X* W_r^T - X W^T||_F^2      = tokens * (tr(W_r G* W_r^T) - 2 <W_r, C> + tr(W G W^T))
 *
 *    (expand the square as in fista.ts: the cross term is `tr(W_r X*^T X W^T) = <W_r, W Gx>`).
 *    `E_round / E_total > xi`: raise lambda (double until a value with ratio <= xi is known, then
 *    bisect); else lower it (bisect towards the largest lambda known to be too small, 0 at first).
 *    The best rounded solution by E_total, seeded with the rounded warm start, is kept and is the
 *    warm start of the next run, so the result is never worse on E_total than the warm start.
 *    lambda0 = 1e-3 * max|C|.
 *
 * OUR READING (the paper's text was not available; see docs/readings.md §4): "T = 3 updates" is read
 * as T = 3 FISTA runs, each followed by a lambda update (the last update is logged, not used); the
 * constant `tr(W G W^T)` needs the dense Gram `G`, so it is accumulated too (when `X* = X`, `G` is
 * `G*` and nothing extra is stored); rounding is per operator regardless of `target.group`
 * (`roundPer` selects per row); the default warm start, when none is given, is Wanda computed
 * inline (`|W_ij| * ||X_:,j||`, `||X_:,j|| = sqrt(G_jj * tokens)`, `floor(s * cols)` per row or
 * N:M), kept short on purpose: pass Wanda's or SparseGPT's result as `warmStart` to use theirs.
 *
 * | paper                  | code                                |
 * | ---------------------- | ----------------------------------- |
 * | `X`, `X*`              | `calib.inputs`, `calib.inputsPruned` |
 * | `G*`, `Gx`, `G`        | `grams.gStar`, `grams.gx`, `grams.g` |
 * | `C = W Gx`             | `linear`                            |
 * | `lambda`, `T`, `xi`, K | `lambda`, `updates`, `xi`, `iterations` |
 * | `W_K`, `W_r`           | `run.weight`, `rounded.weight`      |
 *
 * @module
 */
import { matmul } from "../linalg/matmul.ts";
import { largestEigenvalue } from "../linalg/power_iteration.ts";
import { fista } from "../optim/fista.ts";
import { applyMask, buildMask } from "../select/mask.ts";
import { checkTarget, type Target } from "../select/target.ts";
import { checkMask, checkMatrix, type Matrix, transpose } from "../tensor/matrix.ts";
import { intAtLeast, type MethodDescriptor, type MethodInfo, oneOf } from "./method.ts";
import { sparsegptMethod } from "./sparsegpt.ts";
import { wandaMethod } from "../score/wanda.ts";
import type { LayerCalibration, PruneResult } from "./types.ts";

/**
 * Normalised Gram matrices of one operator's calibration inputs, all `[cols, cols]` float32:
 * `gStar = X*^T X* / tokens`, `gx = X^T X* / tokens`, `g = X^T X / tokens`. When `X* = X` all three
 * may be the same object, and `g` may be omitted (it is then `gStar`, which needs `gx === gStar`).
 */
export interface FistaGrams {
  gStar: Matrix;
  gx: Matrix;
  g?: Matrix;
  /** The number of calibration tokens the sums ran over. */
  tokens: number;
}

/** FISTAPruner's diagnostics in `PruneResult.info` (see {@link fistaPruner}). */
export interface FistaInfo extends MethodInfo {
  method: "fista";
  roundPer: "operator" | "row";
  /** L, the largest eigenvalue of G*. */
  lipschitz: number;
  /** Per run: lambda, objective per iteration, iterations used, E_round, E_total, their ratio. */
  lambdas: number[];
  objectives: number[][];
  iterations: number[];
  eRound: number[];
  eTotal: number[];
  ratio: number[];
  /** The lambda the search would try next. */
  nextLambda: number;
  /** The run kept (-1: the rounded warm start). */
  bestRun: number;
  /** Zeros in the pruned weight / its size. */
  sparsity: number;
  /** Zeros in the mask / its size. */
  maskSparsity: number;
  /** E_total of the kept solution and of the rounded warm start. */
  layerError: number;
  warmStartLayerError: number;
  /** `||X W^T||_F^2`. */
  outputEnergy: number;
  /** The method of the warm start (set by {@link fistaMethod}). */
  warmStart?: string;
}

/** Options of {@link fistaPruner}. */
export interface FistaPrunerOptions {
  /** K, the maximum FISTA iterations per run (default 20). */
  iterations?: number;
  /** FISTA's relative-change tolerance (default 1e-6). */
  tol?: number;
  /** T, the number of FISTA runs of the lambda search (default 3). */
  updates?: number;
  /** xi, the threshold on `E_round / E_total` (default 0.3). */
  xi?: number;
  /** The first lambda, on the normalised scale (default `1e-3 * max|C|`). */
  lambda0?: number;
  /** Rounding group for unstructured targets (default `"operator"`). */
  roundPer?: "operator" | "row";
  /** The warm start: a mask (applied to W) or a weight (e.g. SparseGPT's); default Wanda. */
  warmStart?: { keep?: Uint8Array; weight?: Matrix };
  /** Called after each FISTA run. */
  onProgress?: (done: number, total: number, label?: string) => void;
}

/**
 * Accumulates {@link FistaGrams} over calibration batches (float64 sums, float32 result).
 *
 * @param cols The operator's input width.
 * @returns `add(x, xStar?)` for each batch (`xStar` defaults to `x`), and `grams()` for the result.
 * @throws {RangeError} If `cols` is not a positive integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { fistaGramAccumulator } from "./fistapruner.ts";
 * const acc = fistaGramAccumulator(2);
 * acc.add(fromRows([[1, 2]]), fromRows([[1, 0]]));
 * acc.add(fromRows([[3, 4]]), fromRows([[3, 0]]));
 * const { gx, g, tokens } = acc.grams();
 * assert.equal(tokens, 2);
 * assert.deepEqual(Array.from(gx.data), [5, 0, 7, 0]); // X^T X* / 2
 * assert.deepEqual(Array.from(g!.data), [5, 7, 7, 10]); // X^T X / 2
 * ```
 */
export function fistaGramAccumulator(cols: number): {
  add(x: Matrix, xStar?: Matrix): void;
  grams(): FistaGrams;
} {
  if (!Number.isInteger(cols) || cols < 1) {
    throw new RangeError(
      `Cannot accumulate Gram matrices: cols must be a positive integer, got ${cols}`,
    );
  }
  const sums = {
    gStar: new Float64Array(cols * cols),
    gx: new Float64Array(cols * cols),
    g: new Float64Array(cols * cols),
  };
  let tokens = 0, allDense = true;
  const addTo = (sum: Float64Array, p: Float32Array) => {
    for (let i = 0; i < sum.length; i++) sum[i] += p[i];
  };
  const product = (a: Matrix, b: Matrix) => matmul(transpose(a), b).data; //   A^T B, [cols, cols]
  return {
    add(x: Matrix, xStar?: Matrix) {
      checkMatrix(x, "inputs");
      if (x.cols !== cols) {
        throw new TypeError(
          `Cannot accumulate inputs [${x.rows}, ${x.cols}]: expected ${cols} cols`,
        );
      }
      const xx = product(x, x);
      addTo(sums.g, xx); //                                                      X^T X
      if (!xStar || xStar === x) (addTo(sums.gStar, xx), addTo(sums.gx, xx));
      else {
        checkMatrix(xStar, "inputsPruned");
        if (xStar.rows !== x.rows || xStar.cols !== cols) {
          throw new TypeError(
            `Cannot accumulate inputsPruned [${xStar.rows}, ${xStar.cols}]: expected [${x.rows}, ${cols}] like inputs`,
          );
        }
        allDense = false;
        addTo(sums.gStar, product(xStar, xStar)); //                             X*^T X*
        addTo(sums.gx, product(x, xStar)); //                                    X^T X*
      }
      tokens += x.rows;
    },
    grams(): FistaGrams {
      if (tokens === 0) {
        throw new RangeError("Cannot form Gram matrices: no calibration tokens were added");
      }
      const finish = (s: Float64Array): Matrix => ({
        data: Float32Array.from(s, (v) => v / tokens),
        rows: cols,
        cols,
      });
      if (allDense) {
        const g = finish(sums.g);
        return { gStar: g, gx: g, g, tokens };
      }
      return { gStar: finish(sums.gStar), gx: finish(sums.gx), g: finish(sums.g), tokens };
    },
  };
}

function gramsOf(calib: LayerCalibration | FistaGrams, cols: number): Required<FistaGrams> {
  let grams: FistaGrams;
  if ("gStar" in calib) grams = calib;
  else {
    if (!calib.inputs) {
      throw new TypeError(
        "Cannot run FISTAPruner: calibration needs inputs X or Gram matrices {gStar, gx, tokens}",
      );
    }
    const acc = fistaGramAccumulator(cols);
    acc.add(calib.inputs, calib.inputsPruned);
    grams = acc.grams();
  }
  const g = grams.g ?? grams.gStar;
  for (const [name, m] of [["gStar", grams.gStar], ["gx", grams.gx], ["g", g]] as const) {
    checkMatrix(m, name);
    if (m.rows !== cols || m.cols !== cols) {
      throw new TypeError(
        `Cannot run FISTAPruner: ${name} is [${m.rows}, ${m.cols}], expected [${cols}, ${cols}] for weight cols`,
      );
    }
  }
  if (!grams.g && grams.gx !== grams.gStar) {
    throw new TypeError(
      "Cannot run FISTAPruner: g (X^T X / tokens) is needed when gx is not gStar (X* != X)",
    );
  }
  if (!(grams.tokens > 0)) {
    throw new RangeError(`Cannot run FISTAPruner: tokens must be > 0, got ${grams.tokens}`);
  }
  return { ...grams, g };
}

/** `<A, B> = sum_ij A_ij B_ij` in float64. */
function inner(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** `tr(A G A^T) = <A G, A>`. */
function quadratic(a: Matrix, g: Matrix): number {
  return inner(matmul(a, g).data, a.data);
}

/**
 * Rounds a weight to exact sparsity by magnitude: prunes the smallest `|w|` (per operator, per row,
 * or the M - N smallest of each N:M group); ties prune the lower (flat) index first. No refit.
 *
 * @param weight The weight `[rows, cols]` (not mutated).
 * @param target Unstructured sparsity or N:M.
 * @param roundPer Group for unstructured targets (default `"operator"`; ignores `target.group`).
 * @returns The rounded weight (pruned entries set to 0) and its mask `keep` (1 = keep).
 * @throws {RangeError} If the sparsity is outside [0, 1] or the N:M pattern does not fit.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { roundByMagnitude } from "./fistapruner.ts";
 * const w = fromRows([[4, -1], [0.5, 3]]);
 * const op = roundByMagnitude(w, { kind: "unstructured", sparsity: 0.5, group: "layer" });
 * assert.deepEqual(Array.from(op.weight.data), [4, 0, 0, 3]);
 * const row = roundByMagnitude(fromRows([[1, 2], [3, 4]]), { kind: "unstructured", sparsity: 0.5, group: "row" }, "row");
 * assert.deepEqual(Array.from(row.keep), [0, 1, 0, 1]);
 * ```
 */
export function roundByMagnitude(
  weight: Matrix,
  target: Target,
  roundPer: "operator" | "row" = "operator",
): { weight: Matrix; keep: Uint8Array } {
  const { rows, cols } = weight;
  const magnitude = { data: weight.data.map(Math.abs), rows, cols };
  // buildMask prunes the k smallest exactly ("ewma-exact"), ties to the lower (flat) index
  const group = roundPer === "operator" ? "layer" : "row";
  const keep = buildMask(magnitude, target.kind === "nm" ? target : { ...target, group }).keep;
  return { weight: applyMask(weight, keep), keep };
}

/** Wanda's mask from the Gram diagonal: `|W_ij| * sqrt(G_jj * tokens)`, per row or N:M. */
function wandaWarmStart(weight: Matrix, grams: Required<FistaGrams>, target: Target): Matrix {
  const { rows, cols } = weight;
  const norms = Array.from(
    { length: cols },
    (_, j) => Math.sqrt(Math.max(0, grams.g.data[j * cols + j]) * grams.tokens),
  );
  const scores = { data: weight.data.map((v, i) => Math.abs(v) * norms[i % cols]), rows, cols };
  return applyMask(weight, roundByMagnitude(scores, target, "row").keep);
}

function checkOptions(o: FistaPrunerOptions): void {
  const int = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) {
      throw new RangeError(`Cannot run FISTAPruner: ${name} must be an integer >= 1, got ${v}`);
    }
  };
  int("iterations (K)", o.iterations);
  int("updates (T)", o.updates);
  if (o.xi !== undefined && !(o.xi > 0 && Number.isFinite(o.xi))) {
    throw new RangeError(`Cannot run FISTAPruner: xi must be finite and > 0, got ${o.xi}`);
  }
  if (o.lambda0 !== undefined && !(o.lambda0 >= 0 && Number.isFinite(o.lambda0))) {
    throw new RangeError(
      `Cannot run FISTAPruner: lambda0 must be finite and >= 0, got ${o.lambda0}`,
    );
  }
  if (o.roundPer !== undefined && o.roundPer !== "operator" && o.roundPer !== "row") {
    throw new RangeError(
      `Cannot run FISTAPruner: roundPer must be "operator" or "row", got ${o.roundPer}`,
    );
  }
}

function warmStartOf(
  weight: Matrix,
  grams: Required<FistaGrams>,
  target: Target,
  o: FistaPrunerOptions,
): Matrix {
  const { rows, cols } = weight;
  if (o.warmStart?.weight) {
    checkMatrix(o.warmStart.weight, "warmStart.weight");
    if (o.warmStart.weight.rows !== rows || o.warmStart.weight.cols !== cols) {
      throw new TypeError(
        `Cannot warm-start from weight [${o.warmStart.weight.rows}, ${o.warmStart.weight.cols}]: expected [${rows}, ${cols}]`,
      );
    }
    return o.warmStart.weight;
  }
  const keep = o.warmStart?.keep;
  if (keep) {
    checkMask(keep, rows, cols, "warmStart.keep");
    return applyMask(weight, keep);
  }
  return wandaWarmStart(weight, grams, target);
}

/**
 * Prunes one linear operator with FISTAPruner (module doc): FISTA runs with a lambda search,
 * each rounded to the exact target, keeping the rounded solution with the lowest layer error
 * `E_total = ||X* W_r^T - X W^T||_F^2` (the rounded warm start included). A `PruneMethod`.
 *
 * @param weight The dense weight W `[rows, cols]` (not mutated).
 * @param calib Inputs `X` (and `X*` as `inputsPruned`, default X), or precomputed {@link FistaGrams}.
 * @param target Unstructured sparsity (rounded per operator unless `roundPer: "row"`) or N:M.
 * @param options K, tol, T, xi, lambda0, roundPer, warmStart, onProgress.
 * @returns The pruned weight, its mask, and `info`: `lambdas`, `objectives` (per run, per iteration,
 *   as `1/2 ||X* W_k^T - X W^T||^2 + tokens lambda |W_k|_1`), `iterations`, `eRound`, `eTotal`,
 *   `ratio`, `bestRun` (-1: the warm start), `sparsity` (zeros in the weight), `maskSparsity`,
 *   `layerError`, `warmStartLayerError`, `outputEnergy` (`||X W^T||^2`), `lipschitz`, `roundPer`.
 * @throws {TypeError} If shapes do not match or no calibration is given.
 * @throws {RangeError} If the sparsity, N:M pattern, K, T, xi or lambda0 are out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrix } from "../tensor/matrix.ts";
 * import { createRng, randn } from "../tensor/rng.ts";
 * import { fistaPruner } from "./fistapruner.ts";
 * const rng = createRng(1);
 * const weight = matrix(4, 8, randn(32, rng)), inputs = matrix(64, 8, randn(512, rng));
 * const r = fistaPruner(weight, { inputs }, { kind: "nm", n: 2, m: 4 });
 * assert.equal(r.keep.reduce((s, k) => s + k, 0), 16);
 * assert.ok((r.info!.layerError as number) <= (r.info!.warmStartLayerError as number));
 * ```
 */
export function fistaPruner(
  weight: Matrix,
  calib: LayerCalibration | FistaGrams,
  target: Target,
  options: FistaPrunerOptions = {},
): PruneResult<FistaInfo> {
  checkMatrix(weight, "weight");
  checkTarget(target, weight.rows, weight.cols);
  checkOptions(options);
  const grams = gramsOf(calib, weight.cols);
  const problem: Problem = {
    grams,
    target,
    roundPer: options.roundPer ?? "operator",
    iterations: options.iterations ?? 20,
    tol: options.tol ?? 1e-6,
    linear: matmul(weight, grams.gx), //                                        C = W Gx
    constant: quadratic(weight, grams.g), //                                    tr(W G W^T)
    lipschitz: largestEigenvalue(grams.gStar.data, weight.cols), //             L = lambda_max(G*)
  };
  const updates = options.updates ?? 3, xi = options.xi ?? 0.3;
  let best = roundByMagnitude(
    warmStartOf(weight, grams, target, options),
    target,
    problem.roundPer,
  );
  const warmStartLayerError = layerError(problem, best.weight);
  let bestError = warmStartLayerError, bestRun = -1;
  let lambda = options.lambda0 ??
    1e-3 * problem.linear.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const bracket = { tooSmall: 0, tooLarge: Infinity };
  const log: Record<"lambdas" | "iterations" | "eRound" | "eTotal" | "ratio", number[]> & {
    objectives: number[][];
  } = { lambdas: [], objectives: [], iterations: [], eRound: [], eTotal: [], ratio: [] };
  for (let run = 0; run < updates; run++) {
    const r = fitAndRound(problem, best.weight, lambda); //                     warm start: the best so far
    log.lambdas.push(lambda);
    log.objectives.push(r.objective);
    log.iterations.push(r.iterations);
    log.eRound.push(r.eRound);
    log.eTotal.push(r.eTotal);
    log.ratio.push(r.ratio);
    if (r.eTotal < bestError) [best, bestError, bestRun] = [r.rounded, r.eTotal, run];
    lambda = nextLambda(bracket, lambda, r.ratio, xi);
    options.onProgress?.(run + 1, updates, `lambda ${log.lambdas[run].toExponential(3)}`);
  }
  const size = Math.max(1, weight.rows * weight.cols);
  return {
    weight: best.weight,
    keep: best.keep,
    info: {
      method: "fista" as const,
      roundPer: problem.roundPer,
      lipschitz: problem.lipschitz,
      ...log,
      nextLambda: lambda,
      bestRun,
      sparsity: best.weight.data.reduce((s, v) => s + (v === 0 ? 1 : 0), 0) / size,
      maskSparsity: best.keep.reduce((s, k) => s + (k === 0 ? 1 : 0), 0) / size,
      layerError: bestError,
      warmStartLayerError,
      outputEnergy: grams.tokens * problem.constant,
    },
  };
}

/** Everything about one operator that does not change with lambda. */
interface Problem {
  grams: Required<FistaGrams>;
  target: Target;
  roundPer: "operator" | "row";
  iterations: number;
  tol: number;
  linear: Matrix;
  constant: number;
  lipschitz: number;
}

/** `E_total = tokens * (tr(W_r G* W_r^T) - 2 <W_r, C> + tr(W G W^T))` (module doc). */
function layerError(p: Problem, rounded: Matrix): number {
  const perToken = quadratic(rounded, p.grams.gStar) - 2 * inner(rounded.data, p.linear.data) +
    p.constant;
  return p.grams.tokens * Math.max(0, perToken); // >= 0 up to rounding
}

/** One FISTA run from `start` at `lambda`, rounded to the target, with its errors. */
function fitAndRound(p: Problem, start: Matrix, lambda: number) {
  const { iterations, tol, lipschitz, grams } = p;
  const solved = fista(grams.gStar, p.linear, lambda, { iterations, tol, start, lipschitz }); // W_K
  const rounded = roundByMagnitude(solved.weight, p.target, p.roundPer); //                     W_r
  const difference = {
    ...solved.weight,
    data: rounded.weight.data.map((v, i) => v - solved.weight.data[i]),
  };
  const eRound = grams.tokens * Math.max(0, quadratic(difference, grams.gStar)); // ||X* (W_r - W_K)^T||^2
  const eTotal = layerError(p, rounded.weight);
  return {
    rounded,
    eRound,
    eTotal,
    ratio: eTotal > 0 ? eRound / eTotal : eRound > 0 ? Infinity : 0,
    iterations: solved.iterations,
    // as 1/2 ||X* W_k^T - X W^T||^2 + tokens lambda |W_k|_1
    objective: solved.objective.map((f) => grams.tokens * (f + p.constant / 2)),
  };
}

/**
 * The lambda update: ratio above xi means rounding costs too much, so the solution must be
 * sparser: raise lambda (double until a too-large lambda is known, then bisect); else lower it
 * (bisect towards the largest lambda known to be too small, 0 at first). Updates `bracket`.
 */
function nextLambda(
  bracket: { tooSmall: number; tooLarge: number },
  lambda: number,
  ratio: number,
  xi: number,
): number {
  if (ratio > xi) {
    bracket.tooSmall = lambda;
    return bracket.tooLarge === Infinity ? 2 * lambda : (bracket.tooSmall + bracket.tooLarge) / 2;
  }
  bracket.tooLarge = lambda;
  return (bracket.tooSmall + bracket.tooLarge) / 2;
}

/**
 * The reference layer error `||X* Wp^T - X W^T||_F^2`, computed directly from the inputs (the
 * Gram-matrix formula in {@link fistaPruner} is tested against it).
 *
 * @param pruned The pruned weight `Wp` `[rows, cols]`.
 * @param weight The dense weight `W` `[rows, cols]`.
 * @param inputs `X` `[tokens, cols]`.
 * @param inputsPruned `X*` `[tokens, cols]` (default `X`).
 * @returns The squared Frobenius norm, accumulated in float64.
 * @throws {TypeError} If the shapes do not match.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { layerErrorReference } from "./fistapruner.ts";
 * // (1*1 + 0*2 - (1*1 + 1*2))^2 = 4
 * assert.equal(layerErrorReference(fromRows([[1, 0]]), fromRows([[1, 1]]), fromRows([[1, 2]])), 4);
 * ```
 */
export function layerErrorReference(
  pruned: Matrix,
  weight: Matrix,
  inputs: Matrix,
  inputsPruned: Matrix = inputs,
): number {
  const { rows, cols } = weight;
  if (
    pruned.rows !== rows || pruned.cols !== cols || inputs.cols !== cols ||
    inputsPruned.cols !== cols || inputsPruned.rows !== inputs.rows
  ) {
    throw new TypeError(
      `Cannot compute layer error: pruned [${pruned.rows}, ${pruned.cols}], weight [${rows}, ${cols}], inputs [${inputs.rows}, ${inputs.cols}], inputsPruned [${inputsPruned.rows}, ${inputsPruned.cols}] do not match`,
    );
  }
  let e = 0;
  for (let t = 0; t < inputs.rows; t++) {
    for (let i = 0; i < rows; i++) {
      let d = 0;
      for (let j = 0; j < cols; j++) {
        d += pruned.data[i * cols + j] * inputsPruned.data[t * cols + j] -
          weight.data[i * cols + j] * inputs.data[t * cols + j];
      }
      e += d * d;
    }
  }
  return e;
}

/** The methods whose result can be FISTAPruner's warm start. */
const WARM_STARTS = { wanda: wandaMethod, sparsegpt: sparsegptMethod } as const;
type WarmStart = keyof typeof WARM_STARTS;

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const exp = (x: number) => x.toExponential(2);

/**
 * The FISTAPruner method, for the pipeline and the CLIs: {@link fistaPruner} warm-started from
 * Wanda's (the default) or SparseGPT's result, computed here on the inputs the pruned operator
 * will see: `inputsPruned` (X*) when given, else `inputs` (OUR READING; the paper runs the
 * warm-start method as usual). Rounds per operator: all weights of the operator compete. Its
 * paper's pipeline: dense inputs across blocks and the intra-layer order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrix } from "../tensor/matrix.ts";
 * import { createRng, randn } from "../tensor/rng.ts";
 * import { fistaMethod } from "./fistapruner.ts";
 * const rng = createRng(1);
 * const weight = matrix(4, 8, randn(32, rng)), inputs = matrix(64, 8, randn(512, rng));
 * const r = fistaMethod.prune(weight, { inputs }, { kind: "nm", n: 2, m: 4 }, { warmStart: "sparsegpt" });
 * assert.equal(r.info!.warmStart, "sparsegpt");
 * assert.match(fistaMethod.infoLines!(r.info!)[0], /^sparsity 50\.00%, rel err /);
 * ```
 */
export const fistaMethod: MethodDescriptor<FistaInfo> = {
  name: "fista",
  title: "FISTAPruner, LASSO by FISTA (Zhao et al., arXiv:2408.03728)",
  calibration: "inputs (and inputs_pruned, X*)",
  prune(weight, calib, target, options = {}) {
    const warmName = (options.warmStart ?? "wanda") as WarmStart;
    if (!Object.hasOwn(WARM_STARTS, warmName)) {
      throw new RangeError(
        `Cannot prune with fista: warmStart must be wanda or sparsegpt, got ${warmName}`,
      );
    }
    const warmCalib = { inputs: calib?.inputsPruned ?? calib?.inputs, colNorms: calib?.colNorms };
    const warm = WARM_STARTS[warmName].prune(weight, warmCalib, target, options);
    const result = fistaPruner(weight, calib, target, {
      iterations: options.iterations as number | undefined,
      updates: options.updates as number | undefined,
      warmStart: { weight: warm.weight, keep: warm.keep },
    });
    return { ...result, info: { ...result.info!, warmStart: warmName } };
  },
  competes: (target) =>
    target.kind === "nm" ? `per ${target.m} consecutive weights of a row` : "per operator",
  pipeline: { denseInputs: true, intraLayer: true },
  options: [
    {
      flag: "iterations",
      key: "iterations",
      arg: "K",
      help: "fista's FISTA iterations per run",
      default: "20",
      parse: intAtLeast("iterations", 1),
    },
    {
      flag: "updates",
      key: "updates",
      arg: "T",
      help: "fista's lambda-search runs",
      default: "3",
      parse: intAtLeast("updates", 1),
    },
    {
      flag: "warm-start",
      key: "warmStart",
      arg: "M",
      help: "fista's warm start: wanda | sparsegpt",
      default: "wanda",
      parse: oneOf<WarmStart>("warm-start", ["wanda", "sparsegpt"]),
    },
  ],
  /** The lambdas of the T runs, each run's objective at its first and last iteration (iterations
   * used) and `E_round / E_total`, the sparsity, and the relative layer error against the warm
   * start's. */
  infoLines(i) {
    const energy = i.outputEnergy || 1;
    const runs = i.lambdas.map((lam, r) => {
      const o = i.objectives[r];
      return `${exp(lam)}: obj ${exp(o[0])}->${exp(o[o.length - 1])} (${i.iterations[r]} it), ` +
        `Er/Et ${i.ratio[r].toFixed(3)}`;
    });
    return [
      `sparsity ${pct(i.sparsity)}, rel err ${(i.layerError / energy).toFixed(5)} vs warm start ${
        (i.warmStartLayerError / energy).toFixed(5)
      } (best run ${i.bestRun}); lambda ${runs.join("; ")}`,
    ];
  },
};
