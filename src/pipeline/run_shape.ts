/**
 * The sizes of a pruning run that depend on the model: the window length, the number of
 * calibration windows and of evaluated tokens (from a work budget in weight-token products), and
 * the check that the calibration fits in memory.
 *
 * @module
 */
import type { Model } from "../model/family.ts";
import { prunableWeights, widestLinearInput } from "../model/model.ts";

export { prunableWeights };

/** Weight-token budgets that set the default `nsamples` and `--eval-tokens` (see {@link runShape}). */
const CALIB_BUDGET = 1e9, EVAL_BUDGET = 2e9;

/** The sizes of a run: tokens per window, calibration windows, evaluated tokens (at most). */
export interface RunShape {
  seqlen: number;
  nsamples: number;
  evalTokens: number;
}

/**
 * Fills in the model-dependent defaults: `seqlen = min(256, model seq_len)`; `nsamples` and the
 * evaluation cap from the work budgets in weight-token products (prunable weights x tokens),
 * about 1e9 for calibration and 2e9 for evaluation, at least 8 windows each, at most 128
 * calibration windows.
 *
 * @param s The settings (`seqlen`, `nsamples`, `evalTokens` if given).
 * @param weights The model.
 * @returns The run's sizes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "../model/llama.ts";
 * import { runShape } from "./run_shape.ts";
 * const w = tinyLlama({ seed: 1 }); // seq_len 32, 960 prunable weights, 30,720 per window:
 * // nsamples min(128, 1e9 / 30720), eval 32 x floor(2e9 / 30720) tokens
 * assert.deepEqual(runShape({}, w), { seqlen: 32, nsamples: 128, evalTokens: 32 * 65104 });
 * assert.equal(runShape({ nsamples: 3 }, w).nsamples, 3);
 * ```
 */
export function runShape(
  s: { seqlen?: number; nsamples?: number; evalTokens?: number },
  weights: Model,
): RunShape {
  const seqlen = s.seqlen ?? Math.min(256, weights.config.seqLen);
  const perWindow = prunableWeights(weights) * seqlen;
  const nsamples = s.nsamples ?? Math.min(128, Math.max(8, Math.floor(CALIB_BUDGET / perWindow)));
  const evalTokens = s.evalTokens ?? seqlen * Math.max(8, Math.floor(EVAL_BUDGET / perWindow));
  return { seqlen, nsamples, evalTokens };
}

/**
 * Refuses, before any allocation, calibration whose largest array (one block's captured inputs:
 * every calibration token x the widest layer input, float32) would exceed 2^32 floats (16 GiB).
 *
 * @param nsamples Calibration windows.
 * @param seqlen Tokens per window.
 * @param weights The model (its `dim` and `hiddenDim`).
 * @throws {RangeError} If the captured inputs would be over 2^32 floats.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "../model/llama.ts";
 * import { checkCalibrationSize } from "./run_shape.ts";
 * const w = tinyLlama({ seed: 1 }); // widest input: hidden 12
 * checkCalibrationSize(128, 32, w);
 * assert.throws(() => checkCalibrationSize(2 ** 30, 32, w), /over 2\^32 floats/);
 * ```
 */
export function checkCalibrationSize(
  nsamples: number,
  seqlen: number,
  weights: Model,
): void {
  const widest = widestLinearInput(weights);
  if (nsamples * seqlen * widest > 2 ** 32) {
    throw new RangeError(
      `Cannot calibrate: --nsamples ${nsamples} x --seqlen ${seqlen} tokens x ${widest} (widest layer input) is over 2^32 floats (16 GiB); lower --nsamples or --seqlen`,
    );
  }
}
