/**
 * The methods `deno task complexity` and the benches time, as plain `{name, role, run}` entries.
 * The sweeps are generic over these lists, so a method is measured exactly when its entry is here.
 *
 * Roles: `"linear"` methods carry a claim checked by the report (log-log slope <= 1.15: the EWMA
 * selectors and the scorers); `"contrast"` is the O(n log n) sort, printed for comparison; `"floor"`
 * is the memory-bound streaming pass; `"measured"` is timed and fitted without a verdict (N:M).
 *
 * @module
 */
import type { Matrix } from "../tensor/matrix.ts";
import type { Target } from "../select/target.ts";
import { selectBySort } from "../select/sort.ts";
import { nmMask } from "../select/nm.ts";
import { selectEwma } from "../select/ewma.ts";
import { selectEwmaExact } from "../select/ewma_exact.ts";
import { buildMask } from "../select/mask.ts";
import { swiftpruneMethod, swiftPruneScores } from "../score/swiftprune.ts";
import { sparsegptMethod } from "../prune/sparsegpt.ts";
import { METHODS } from "../prune/methods.ts";
import { streamingThresholdPass } from "./streaming.ts";

/** What a method's timing is evidence for. */
export type Role = "linear" | "contrast" | "floor" | "measured";

/** A per-row selector: prune the `k` smallest of one row of scores. */
export interface RowSelector {
  name: string;
  role: Role;
  /** True when the count pruned may differ from `k` (its achieved sparsity is then reported). */
  approximate?: boolean;
  /** Returns `keep` for the row (1 = keep). */
  select(scores: Float32Array, k: number): Uint8Array;
}

/**
 * Selects every row of a score matrix with `select`, pruning `floor(sparsity * cols)` per row.
 *
 * @param scores Scores `[rows, cols]`.
 * @param sparsity Fraction to prune per row, in `[0, 1]`.
 * @param select The per-row selector.
 * @returns `keep`, `rows * cols` entries.
 * @throws {RangeError} Whatever `select` throws for a bad row.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectBySort } from "../select/sort.ts";
 * import { selectRows } from "./complexity_methods.ts";
 * const keep = selectRows({ data: new Float32Array([3, 1, 2, 5, 4, 0]), rows: 2, cols: 3 }, 0.5, selectBySort);
 * assert.deepEqual(Array.from(keep), [1, 0, 1, 1, 1, 0]);
 * ```
 */
export function selectRows(
  scores: Matrix,
  sparsity: number,
  select: RowSelector["select"],
): Uint8Array {
  const keep = new Uint8Array(scores.rows * scores.cols);
  const k = Math.floor(sparsity * scores.cols);
  for (let i = 0; i < scores.rows; i++) {
    keep.set(
      select(scores.data.subarray(i * scores.cols, (i + 1) * scores.cols), k),
      i * scores.cols,
    );
  }
  return keep;
}

/** The per-row selectors, sort first (the baseline). */
export const ROW_SELECTORS: readonly RowSelector[] = [
  { name: "sort", role: "contrast", select: selectBySort },
  { name: "ewma", role: "linear", approximate: true, select: (s, k) => selectEwma(s, k).keep },
  { name: "ewma-exact", role: "linear", select: (s, k) => selectEwmaExact(s, k).keep },
  // N:M ignores k: it keeps 2 of every 4 (50%), the paper's structured extension.
  {
    name: "nm-2:4",
    role: "measured",
    select: (s) => nmMask({ data: s, rows: 1, cols: s.length }, 2, 4),
  },
];

/** A layer and what scoring needs about its inputs. */
export interface LayerInput {
  weight: Matrix;
  /** `||X_:,j||_2` per input feature (synthetic here; see the report's notes). */
  colNorms: Float32Array;
  /** Fraction to prune per row. */
  sparsity: number;
}

/** Whole-layer work: scoring, or scoring plus selection, over `rows * cols` weights. */
export interface LayerMethod {
  name: string;
  role: Role;
  run(input: LayerInput): unknown;
}

/** A scorer: importance scores of a layer from its weight and input column norms. */
export interface Scorer {
  name: string;
  score(weight: Matrix, colNorms: Float32Array): Matrix;
}

/** The scorers: every score-then-select method, in registry order (magnitude, the baseline, first). */
export const SCORERS: readonly Scorer[] = METHODS.filter((m) => m.score !== undefined).map((m) => ({
  name: m.name,
  score: (w, colNorms) => m.score!(w, { colNorms }),
}));

const rowTarget = (sparsity: number): Target => ({ kind: "unstructured", sparsity, group: "row" });
const swiftScores = ({ weight, colNorms }: LayerInput) => swiftPruneScores(weight, { colNorms });

/** The whole-layer methods: the floor, each scorer, and SwiftPrune scoring + each selection. */
export const LAYER_METHODS: readonly LayerMethod[] = [
  {
    name: "stream (floor)",
    role: "floor",
    run: ({ weight }) => streamingThresholdPass(weight.data, 0.01),
  },
  ...SCORERS.map((sc): LayerMethod => ({
    name: `${sc.name} scores`,
    role: "linear",
    run: ({ weight, colNorms }) => sc.score(weight, colNorms),
  })),
  {
    name: "swiftprune + sort",
    role: "contrast",
    run: (x) => buildMask(swiftScores(x), rowTarget(x.sparsity), { select: "sort" }),
  },
  {
    name: "swiftprune + ewma",
    role: "linear",
    run: (x) => buildMask(swiftScores(x), rowTarget(x.sparsity), { select: "ewma" }),
  },
  {
    name: "swiftprune + ewma-exact",
    role: "linear",
    run: (x) => buildMask(swiftScores(x), rowTarget(x.sparsity), { select: "ewma-exact" }),
  },
  {
    name: "swiftprune + 2:4",
    role: "measured",
    run: (x) => buildMask(swiftScores(x), { kind: "nm", n: 2, m: 4 }),
  },
];

/**
 * A whole-layer pruner timed end to end from the calibration inputs: statistics of `X`, scores and
 * mask (and, for SparseGPT, the weight update). `costExponent` is the power of `cols` its time grows
 * with at fixed `rows / cols` (2 = linear in `rows * cols`, 3 = SparseGPT's `rows * cols^2 + cols^3`),
 * used only to predict whether a larger layer fits the time budget.
 */
export interface LayerPruner {
  name: string;
  costExponent: number;
  run(weight: Matrix, inputs: Matrix, sparsity: number): unknown;
}

/** The pruners compared end to end; the first is the one the others' time ratios are taken to. */
export const LAYER_PRUNERS: readonly LayerPruner[] = [
  // SwiftPrune: column norms of X, SwiftPrune scores, exact EWMA per row, masked weight.
  {
    name: swiftpruneMethod.name,
    costExponent: 2,
    run: (w, inputs, s) => swiftpruneMethod.prune(w, { inputs }, rowTarget(s)),
  },
  // SparseGPT: H = (2/tokens) X^T X, dampening, upper Cholesky of H^-1, blocked OBS updates.
  {
    name: sparsegptMethod.name,
    costExponent: 3,
    run: (w, inputs, s) => sparsegptMethod.prune(w, { inputs }, rowTarget(s)),
  },
];

/** The method names the report's targets refer to. */
export const TARGET_NAMES = {
  sort: "sort",
  exact: "ewma-exact",
  scoreSelect: "swiftprune + ewma-exact",
  floor: "stream (floor)",
  referencePruner: "swiftprune",
  layerSort: "swiftprune + sort",
} as const;

/** The scores the per-row target selects from, and how the report describes them. */
export const PER_ROW_SCORES = {
  description: "SwiftPrune scores (synthetic column norms)",
  scoresOf: (weight: Matrix, colNorms: Float32Array): Matrix =>
    swiftPruneScores(weight, { colNorms }),
};
