/**
 * Builds the conformance suite in memory: for every dataset, method, target and selector, one
 * case with its input file, its expected output and its manifest entry. Expected outputs come
 * from the simple `*Reference` functions (scores element by element, selection by sorting, N:M by
 * the reference network), not from the fast paths `prune-layer` runs, so a round trip through
 * `prune-layer` checks one against the other.
 *
 * A score-then-select method of the registry gets its cases from its descriptor's `scoreReference`
 * with no entry here; a method whose options change results, or that updates weights, has its own
 * entry in {@link CONFORMANCE_METHODS}.
 *
 * @module
 */
import { type SafetensorsEntry, writeSafetensors } from "../io/safetensors.ts";
import type { SelectMode, Target } from "../select/target.ts";
import { applyMask } from "../select/mask.ts";
import { fistaMethod } from "../prune/fistapruner.ts";
import { sparsegpt, sparsegptReference } from "../prune/sparsegpt.ts";
import { METHODS } from "../prune/methods.ts";
import { columnNormsReference } from "../score/wanda.ts";
import {
  SWIFTPRUNE_DEFAULT_EPS,
  swiftPruneScoresReference,
  type XStat,
} from "../score/swiftprune.ts";
import { buildMask } from "../select/mask.ts";
import { nmMaskReference } from "../select/nm.ts";
import type { Matrix } from "../tensor/matrix.ts";
import type { Dataset } from "./datasets.ts";
import {
  type CaseOptions,
  CONFORMANCE_FORMAT,
  CONFORMANCE_VERSION,
  type ConformanceCase,
  type ConformanceManifest,
  pruneLayerArgs,
  type TensorCheck,
} from "./manifest.ts";

/** Tolerance on scores: about 80 float32 ulps, met by any float64-accumulating backend. */
export const SCORE_TOLERANCE: TensorCheck = { compare: "close", atol: 0, rtol: 1e-5 };

/** The expected outputs of one case. */
export interface ExpectedOutputs {
  weight: Matrix;
  keep: Uint8Array;
  scores?: Matrix;
}

/** A method as the suite tests it. */
export interface ConformanceMethod {
  /** Name in case names (`swiftprune-token`). */
  label: string;
  /** `prune-layer --method`. */
  method: string;
  /** SwiftPrune's statistic. */
  xStat?: XStat;
  /** True when the method needs `inputs` (not just `col_norms`). */
  needsInputs: boolean;
  /** The options of every case, at the method's defaults (written into the manifest). */
  defaults?: CaseOptions;
  /**
   * Extra option sets, each on the named datasets: the cases where an option decides the result
   * (`label` goes into the case name, e.g. `swiftprune-norm-eps1e-2-row50-sort-ridge4x8`).
   */
  variants?: Array<{ label: string; options: CaseOptions; datasets: string[] }>;
  /** The expected outputs, from reference code, for the case's options (defaults filled in). */
  expected: (data: Dataset, target: Target, options: CaseOptions) => ExpectedOutputs;
  /** Checks of the outputs for an exact selector (default: scores close, mask and weight exact). */
  checks?: Record<string, TensorCheck>;
  /** Groups of the unstructured targets (default row and layer). */
  groups?: Array<"row" | "layer">;
  /** False when the method has no selector (`--select` is not varied). */
  selects?: boolean;
  /** Skip layers wider than this (keeps the slow reference twins fast). */
  maxCols?: number;
  /** How the mask is compared: `exact` (default) or `count` (see `TensorCheck`). */
  maskCheck?: "exact" | "count";
}

function colNormsOf(data: Dataset): Float32Array {
  return data.colNorms ?? columnNormsReference(data.inputs!);
}

/** The reference mask: selection by sorting, or the reference N:M network. */
function referenceMask(scores: Matrix, target: Target): Uint8Array {
  return target.kind === "nm"
    ? nmMaskReference(scores, target.n, target.m)
    : buildMask(scores, target, { select: "sort" }).keep;
}

/** A score-then-select method: the mask of the reference scores, kept weights unchanged. */
function scoreThenSelect(
  scoresOf: (data: Dataset, options: CaseOptions) => Matrix,
): (data: Dataset, target: Target, options: CaseOptions) => ExpectedOutputs {
  return (data, target, options) => {
    const scores = scoresOf(data, options);
    const keep = referenceMask(scores, target);
    return { scores, keep, weight: applyMask(data.weight, keep) };
  };
}

/** The layers where SwiftPrune's ridge and `--eps` decide masks (see `ridgeDataset`). */
const EPS_VARIANTS = [1e-4, 1e-2].map((eps) => ({
  label: `eps${eps.toExponential().replace("+", "")}`,
  options: { eps },
  datasets: ["ridge4x8"],
}));

const swiftprune = (xStat: XStat): ConformanceMethod => ({
  label: `swiftprune-${xStat}`,
  method: "swiftprune",
  xStat,
  needsInputs: xStat !== "norm",
  defaults: { xStat, eps: SWIFTPRUNE_DEFAULT_EPS },
  variants: EPS_VARIANTS,
  expected: scoreThenSelect((d, o) =>
    swiftPruneScoresReference(d.weight, { inputs: d.inputs, colNorms: d.colNorms }, {
      xStat,
      eps: o.eps,
    })
  ),
});

/** SparseGPT's default columns per block (`--blocksize`) and dampening (`--damp`). */
const SPARSEGPT_DEFAULTS = { blocksize: 128, damp: 0.01 };

/**
 * Tolerance on the weights SparseGPT and FISTAPruner update: float64 work rounded to float32 once
 * (our blocked and unblocked SparseGPT agree to this; see `tests/prune_sparsegpt_test.ts`).
 */
export const UPDATED_WEIGHT_TOLERANCE: TensorCheck = { compare: "close", atol: 1e-5, rtol: 1e-4 };

const updatedWeightChecks = {
  mask: { compare: "exact" },
  weight: UPDATED_WEIGHT_TOLERANCE,
} as const;

/**
 * SparseGPT's expected output: the unblocked explicit-inverse reference where it equals the
 * blocked method (N:M, or one block holds every column), else the blocked method itself.
 */
function sparsegptExpected(data: Dataset, target: Target, o: CaseOptions): ExpectedOutputs {
  const blocksize = o.blocksize!, percdamp = o.damp!;
  const oneBlock = target.kind === "nm" || data.weight.cols <= blocksize;
  const calib = { inputs: data.inputs };
  const r = oneBlock
    ? sparsegptReference(data.weight, calib, target, { percdamp })
    : sparsegpt(data.weight, calib, target, { blocksize, percdamp });
  return { weight: r.weight, keep: r.keep };
}

/** FISTAPruner's defaults: K, T and the warm start (`--iterations`, `--updates`, `--warm-start`). */
const FISTA_DEFAULTS: CaseOptions = { iterations: 20, updates: 3, warmStart: "wanda" };

/**
 * The methods tested with more than their defaults: SwiftPrune under each reading of `x` and with
 * `--eps` variants; SparseGPT and FISTAPruner, which change the kept weights, have no scores and
 * no selector (FISTAPruner's expected output is the method itself: its pieces have reference twins
 * in their own tests: FISTA, power iteration, rounding).
 */
const WITH_OPTIONS: ConformanceMethod[] = [
  swiftprune("norm"),
  swiftprune("token"),
  swiftprune("mean"),
  {
    label: "sparsegpt",
    method: "sparsegpt",
    needsInputs: true,
    groups: ["layer"], // SparseGPT selects per block of columns whatever the group
    selects: false,
    maxCols: 256,
    checks: updatedWeightChecks,
    defaults: SPARSEGPT_DEFAULTS,
    variants: [
      { label: "damp0.1", options: { damp: 0.1 }, datasets: ["odd3x12", "ridge4x8"] },
      { label: "damp1e-4", options: { damp: 1e-4 }, datasets: ["odd3x12", "ridge4x8"] },
      { label: "bs4", options: { blocksize: 4 }, datasets: ["odd3x12", "ridge4x8"] },
      { label: "bs8", options: { blocksize: 8 }, datasets: ["odd3x12"] },
    ],
    expected: sparsegptExpected,
  },
  {
    label: "fista",
    method: "fista",
    needsInputs: true,
    selects: false, // the group still matters: it is the Wanda warm start's
    maxCols: 256,
    checks: updatedWeightChecks,
    maskCheck: "count", // rounding |W_K| may swap nearly tied tiny weights in float32
    defaults: FISTA_DEFAULTS,
    variants: [
      { label: "k5", options: { iterations: 5 }, datasets: ["odd3x12"] },
      { label: "t1", options: { updates: 1 }, datasets: ["odd3x12"] },
      { label: "warmsgpt", options: { warmStart: "sparsegpt" }, datasets: ["odd3x12"] },
    ],
    expected: (d, target, o) =>
      fistaMethod.prune(d.weight, { inputs: d.inputs }, target, {
        iterations: o.iterations,
        updates: o.updates,
        warmStart: o.warmStart,
      }),
  },
];

/**
 * Every other score-then-select method of the registry, at its defaults: its descriptor's
 * reference scores (from the column norms `||X_:,j||`), selected by sorting.
 */
const PLAIN_SCORE_METHODS: ConformanceMethod[] = METHODS.filter((m) =>
  m.scoreReference !== undefined && !WITH_OPTIONS.some((c) => c.method === m.name)
).map((m) => ({
  label: m.name,
  method: m.name,
  needsInputs: false,
  expected: scoreThenSelect((d) => m.scoreReference!(d.weight, { colNorms: colNormsOf(d) })),
}));

/** The methods of the suite: the plain score-then-select ones first, in registry order. */
export const CONFORMANCE_METHODS: ConformanceMethod[] = [...PLAIN_SCORE_METHODS, ...WITH_OPTIONS];

/** The targets tried on a dataset: 50% per row and per layer (+ extras), 2:4 and 4:8 when they fit. */
function targetsOf(
  data: Dataset,
  groups: Array<"row" | "layer"> = ["row", "layer"],
): Array<{ label: string; target: Target }> {
  const out: Array<{ label: string; target: Target }> = [];
  for (const s of [0.5, ...(data.extraSparsities ?? [])]) {
    for (const group of groups) {
      out.push({
        label: `${group}${Math.round(s * 100)}`,
        target: { kind: "unstructured", sparsity: s, group },
      });
    }
  }
  for (const [n, m] of [[2, 4], [4, 8]]) {
    if (data.weight.cols % m === 0) out.push({ label: `${n}of${m}`, target: { kind: "nm", n, m } });
  }
  return out;
}

/**
 * Smallest relative gap between the largest pruned and the smallest kept score over the groups
 * of a target (rows, the layer, or N:M blocks); 0 when a tie was broken; null when no group has
 * both a pruned and a kept entry.
 *
 * @param scores Scores `[rows, cols]`.
 * @param keep The mask.
 * @param target The target whose groups are compared.
 * @returns The gap, or null.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { boundaryGap } from "./cases.ts";
 * const t = { kind: "unstructured", sparsity: 0.5, group: "row" } as const;
 * assert.equal(boundaryGap(fromRows([[1, 4, 2, 3]]), new Uint8Array([0, 1, 0, 1]), t), 1 / 3);
 * ```
 */
export function boundaryGap(scores: Matrix, keep: Uint8Array, target: Target): number | null {
  const { rows, cols } = scores;
  const size = target.kind === "nm" ? target.m : target.group === "row" ? cols : rows * cols;
  let gap: number | null = null;
  for (let start = 0; start < rows * cols; start += size) {
    let maxPruned = -Infinity, minKept = Infinity;
    for (let t = start; t < start + size; t++) {
      if (keep[t]) minKept = Math.min(minKept, scores.data[t]);
      else maxPruned = Math.max(maxPruned, scores.data[t]);
    }
    if (maxPruned === -Infinity || minKept === Infinity) continue;
    const g = minKept === 0 ? 0 : (minKept - maxPruned) / Math.abs(minKept);
    gap = gap === null ? g : Math.min(gap, g);
  }
  return gap;
}

/**
 * The approximate selector's bound: within 1 percentage point of the group's size (the spec's
 * bound for rows of 1,024 or more), and at least 1.
 *
 * @param groupSize Entries in the group (a row, or the whole layer).
 * @returns The largest allowed `|pruned - k|` per group.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ewmaCountTolerance } from "./cases.ts";
 * assert.equal(ewmaCountTolerance(4096), 41);
 * assert.equal(ewmaCountTolerance(8), 1);
 * ```
 */
export function ewmaCountTolerance(groupSize: number): number {
  return Math.max(1, Math.ceil(0.01 * groupSize));
}

/** The checks of a case: the method's for exact selectors; count and threshold for `ewma`. */
function checksOf(
  m: ConformanceMethod,
  target: Target,
  shape: Matrix,
  select?: string,
): Record<string, TensorCheck> {
  const exact: Record<string, TensorCheck> = m.checks ??
    { scores: SCORE_TOLERANCE, mask: { compare: "exact" }, weight: { compare: "exact" } };
  if (m.maskCheck === "count") {
    const groupSize = target.kind === "nm" ? target.m : shape.rows * shape.cols;
    return { ...exact, mask: { compare: "count", groupSize } };
  }
  if (select !== "ewma" || target.kind !== "unstructured") return exact;
  const size = target.group === "row" ? shape.cols : shape.rows * shape.cols;
  return {
    ...exact,
    mask: {
      compare: "threshold",
      group: target.group,
      pruneCount: Math.floor(target.sparsity * size),
      countTolerance: ewmaCountTolerance(size),
    },
    weight: { compare: "masked" },
  };
}

function inputEntries(data: Dataset): SafetensorsEntry[] {
  const { weight, inputs, colNorms } = data;
  const entries: SafetensorsEntry[] = [
    { name: "weight", dtype: "F32", shape: [weight.rows, weight.cols], data: weight.data },
  ];
  if (inputs) {
    entries.push({
      name: "inputs",
      dtype: "F32",
      shape: [inputs.rows, inputs.cols],
      data: inputs.data,
    });
  } else if (colNorms) {
    entries.push({ name: "col_norms", dtype: "F32", shape: [colNorms.length], data: colNorms });
  }
  return entries;
}

function expectedEntries(out: ExpectedOutputs): SafetensorsEntry[] {
  const shape = [out.weight.rows, out.weight.cols];
  const entries: SafetensorsEntry[] = [
    { name: "weight", dtype: "F32", shape, data: out.weight.data },
    { name: "mask", dtype: "U8", shape, data: out.keep },
  ];
  if (out.scores) entries.push({ name: "scores", dtype: "F32", shape, data: out.scores.data });
  return entries;
}

/** A suite in memory: the manifest and every file's bytes by path. */
export interface Suite {
  manifest: ConformanceManifest;
  /** Path relative to the suite folder -> bytes (`manifest.json` included). */
  files: Map<string, Uint8Array>;
}

/** Options of {@link buildSuite}. */
export interface SuiteOptions {
  /** Methods to include (default {@link CONFORMANCE_METHODS}). */
  methods?: ConformanceMethod[];
  /** Selectors for unstructured targets (default sort, ewma-exact, ewma). */
  selectors?: SelectMode[];
  /** Written into the manifest's `generator`. */
  generator?: string;
}

/** The option sets a method runs on a dataset: its defaults, then the variants for that dataset. */
function optionSetsOf(m: ConformanceMethod, data: Dataset) {
  const sets = [{ label: "", options: { ...m.defaults } }];
  for (const v of m.variants ?? []) {
    if (v.datasets.includes(data.name)) {
      sets.push({ label: v.label, options: { ...m.defaults, ...v.options } });
    }
  }
  return sets;
}

/** The cases of one dataset, with their expected outputs. */
function casesOf(
  data: Dataset,
  methods: ConformanceMethod[],
  selectors: string[],
): Array<{ c: ConformanceCase; out: ExpectedOutputs }> {
  const cases: Array<{ c: ConformanceCase; out: ExpectedOutputs }> = [];
  for (const m of methods) {
    if ((m.needsInputs && !data.inputs) || data.weight.cols > (m.maxCols ?? Infinity)) continue;
    for (const variant of optionSetsOf(m, data)) {
      for (const { label, target } of targetsOf(data, m.groups)) {
        const blocksize = variant.options.blocksize;
        if (target.kind === "nm" && blocksize !== undefined && blocksize % target.m !== 0) continue;
        const out = m.expected(data, target, variant.options);
        const gap = out.scores ? boundaryGap(out.scores, out.keep, target) : null;
        const noSelect = target.kind === "nm" || m.selects === false;
        for (const select of noSelect ? [undefined] : selectors) {
          const name = [m.label, variant.label, label, select, data.name].filter(Boolean).join("-");
          const spec = {
            method: m.method,
            target,
            ...(select ? { select: select as SelectMode } : {}),
            ...(m.xStat ? { xStat: m.xStat } : {}),
            options: variant.options,
          };
          cases.push({
            out,
            c: {
              name,
              dataset: data.name,
              expected: `expected/${name}.safetensors`,
              ...spec,
              args: pruneLayerArgs(spec, m.defaults),
              checks: checksOf(m, target, data.weight, select),
              minBoundaryGap: gap,
            },
          });
        }
      }
    }
  }
  return cases;
}

/**
 * Builds a whole suite in memory: the input of every dataset, the expected output of every case,
 * and `manifest.json`. Deterministic: the same datasets give the same bytes.
 *
 * @param datasets The layers (see `datasets.ts`).
 * @param options Methods, selectors and the generator string.
 * @returns The manifest and the files by relative path.
 * @throws {TypeError} If two datasets share a name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildSuite } from "./cases.ts";
 * import { handDataset } from "./datasets.ts";
 * const { manifest, files } = buildSuite([handDataset()], { selectors: ["sort"] });
 * const c = manifest.cases.find((c) => c.name === "wanda-row50-sort-hand2x4")!;
 * assert.deepEqual(c.args, ["--method", "wanda", "--sparsity", "0.5", "--group", "row", "--select", "sort"]);
 * assert.ok(files.has("inputs/hand2x4.safetensors") && files.has(c.expected));
 * ```
 */
export function buildSuite(datasets: Dataset[], options: SuiteOptions = {}): Suite {
  const methods = options.methods ?? CONFORMANCE_METHODS;
  const selectors = options.selectors ?? ["sort", "ewma-exact", "ewma"]; // the suite's order
  const files = new Map<string, Uint8Array>();
  const manifest: ConformanceManifest = {
    format: CONFORMANCE_FORMAT,
    version: CONFORMANCE_VERSION,
    generator: options.generator ?? "secateur",
    conventions: "docs/conformance.md",
    datasets: {},
    cases: [],
  };
  for (const data of datasets) {
    if (data.name in manifest.datasets) {
      throw new TypeError(`Cannot build the suite: dataset ${data.name} appears twice`);
    }
    const file = `inputs/${data.name}.safetensors`;
    files.set(file, writeSafetensors(inputEntries(data), { dataset: data.name }));
    manifest.datasets[data.name] = {
      file,
      shape: [data.weight.rows, data.weight.cols],
      calibration: data.inputs ? "inputs" : data.colNorms ? "col_norms" : "none",
      description: data.description,
    };
    for (const { c, out } of casesOf(data, methods, selectors)) {
      files.set(c.expected, writeSafetensors(expectedEntries(out), { case: c.name }));
      manifest.cases.push(c);
    }
  }
  files.set("manifest.json", new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n"));
  return { manifest, files };
}
