/**
 * The shared vocabulary of every pruning method: what to reach (a {@link Target}), what a method
 * is given about the layer's inputs ({@link LayerCalibration}), and what it returns
 * ({@link PruneResult}).
 *
 * @module
 */
import type { Matrix } from "../tensor/matrix.ts";

/** Which weights compete with each other when choosing what to prune. */
export type Group = "row" | "layer";

/** How the k smallest scores of a group are found. */
export type SelectMode = "sort" | "ewma" | "ewma-exact";

/**
 * The sparsity to reach.
 *
 * - `unstructured`: prune `floor(sparsity * cols)` weights of every row (`group: "row"`) or
 *   `floor(sparsity * rows * cols)` of the whole layer (`group: "layer"`).
 * - `nm`: keep at most `n` of every `m` consecutive weights of a row (2:4 is NVIDIA's pattern).
 */
export type Target =
  | { kind: "unstructured"; sparsity: number; group: Group }
  | { kind: "nm"; n: number; m: number };

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

/** What a pruning method returns for one layer. */
export interface PruneResult {
  /** The pruned weight `[rows, cols]` (a new matrix; the input is never mutated). */
  weight: Matrix;
  /** The mask, 1 = keep, 0 = pruned, `rows * cols` entries. */
  keep: Uint8Array;
  /** The scores the mask was chosen from, when the method has them (higher = more important). */
  scores?: Matrix;
  /** Method-specific diagnostics (tracked loss, lambda trajectory, ...), JSON-serialisable. */
  info?: Record<string, unknown>;
}
