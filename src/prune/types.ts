/**
 * The shared vocabulary of every pruning method: what to reach (a `Target`, defined with the
 * selectors in `src/select/target.ts`), what a method is given about the layer's inputs
 * ({@link LayerCalibration}), and what it returns ({@link PruneResult}).
 *
 * @module
 */
import type { Matrix } from "../tensor/matrix.ts";

export type { Group, SelectMode, Target } from "../select/target.ts";

/**
 * What a method may use about a layer's inputs. `inputs` is the calibration activations `X`
 * `[tokens, cols]` seen by the layer; `inputsPruned` is `X*`, the same tokens when the operators
 * before this one in its decoder block are already pruned (FISTAPruner's intra-layer correction).
 * `colNorms` are `||X_:,j||_2` when only those are known (Wanda and SwiftPrune's `"norm"` reading).
 */
export interface LayerCalibration {
  inputs?: Matrix;
  inputsPruned?: Matrix;
  colNorms?: Float32Array;
}

/** What a pruning method returns for one layer; `I` is the method's own diagnostics. */
export interface PruneResult<I = Record<string, unknown>> {
  /** The pruned weight `[rows, cols]` (a new matrix; the input is never mutated). */
  weight: Matrix;
  /** The mask, 1 = keep, 0 = pruned, `rows * cols` entries. */
  keep: Uint8Array;
  /** The scores the mask was chosen from, when the method has them (higher = more important). */
  scores?: Matrix;
  /** Method-specific diagnostics (tracked loss, lambda trajectory, ...), JSON-serialisable. */
  info?: I;
}
