/**
 * The conformance suite's manifest: what each case runs (the exact `prune-layer` flags), where its
 * input and expected output are, and how each output tensor is compared. Written as
 * `manifest.json` at the top of a suite folder by `scripts/conformance.ts`, read by
 * `scripts/verify.ts` and by other backends. See `docs/conformance.md` for the conventions.
 *
 * Suite layout:
 *
 * ```text
 * manifest.json
 * inputs/<dataset>.safetensors    weight [rows, cols] F32, and inputs [tokens, cols] or col_norms [cols]
 * expected/<case>.safetensors     weight (pruned, F32), mask (U8, 1 = keep), scores (F32)
 * ```
 *
 * A backend writes `<outputs>/<case>.safetensors` with the same tensor names.
 *
 * @module
 */
import type { Group, SelectMode, Target } from "../select/target.ts";
import type { XStat } from "../score/swiftprune.ts";

/** The manifest's `format` field. */
export const CONFORMANCE_FORMAT = "secateur-conformance";
/**
 * The manifest's `version`: bumped whenever a file, field or convention changes meaning.
 * Version 2 added `options` to every case (and cases that vary them); version 3 the `count` check
 * of FISTAPruner's masks.
 */
export const CONFORMANCE_VERSION = 3;

/**
 * Every option that changes a case's result, with its value (defaults written out), so a backend
 * need not parse `args`. Which ones a case has depends on its method.
 */
export interface CaseOptions {
  /** SwiftPrune's statistic `x` (`--x-stat`). */
  xStat?: XStat;
  /** SwiftPrune's relative ridge: `eps * S` is added to `S` (`--eps`). */
  eps?: number;
  /** SparseGPT's columns per block, for mask selection and the lazy update (`--blocksize`). */
  blocksize?: number;
  /** SparseGPT's dampening, a fraction of `mean(diag H)` (`--damp`). */
  damp?: number;
  /** FISTAPruner's K, the most FISTA iterations per run (`--iterations`). */
  iterations?: number;
  /** FISTAPruner's T, the runs of the lambda search (`--updates`). */
  updates?: number;
  /** FISTAPruner's warm start (`--warm-start`). */
  warmStart?: "wanda" | "sparsegpt";
}

/** The `prune-layer` flag of each option (`--x-stat` is written by {@link pruneLayerArgs}). */
const OPTION_FLAGS: Record<Exclude<keyof CaseOptions, "xStat">, string> = {
  eps: "--eps",
  blocksize: "--blocksize",
  damp: "--damp",
  iterations: "--iterations",
  updates: "--updates",
  warmStart: "--warm-start",
};

/**
 * How one output tensor is compared with the expected one.
 *
 * - `exact`: every value equal (masks; the kept weights of score-then-select methods).
 * - `close`: `|actual - expected| <= atol + rtol * |expected|` elementwise (scores; weights that a
 *   method updates).
 * - `threshold` (masks of the approximate `ewma` selector): in every group (a row, or the whole
 *   layer) the pruned count is within `countTolerance` of `pruneCount`, and no pruned entry has
 *   a larger expected score than a kept entry of its group (the mask is a threshold mask).
 * - `masked` (weights of the approximate selector): the input weight where the output's own mask
 *   is 1, and 0 where it is 0.
 * - `count` (FISTAPruner's masks): every group of `groupSize` consecutive entries (an N:M group,
 *   or the whole operator) prunes as many as the expected mask; entries may differ, and the
 *   weight check (`close`) then bounds them: a weight kept by one mask and pruned by the other
 *   must be within the weight tolerance of 0. A float32 port's rounding can swap two nearly tied
 *   tiny weights (measured, `docs/conformance.md`).
 */
export type TensorCheck =
  | { compare: "exact" }
  | { compare: "masked" }
  | { compare: "close"; atol: number; rtol: number }
  | { compare: "threshold"; group: Group; pruneCount: number; countTolerance: number }
  | { compare: "count"; groupSize: number };

/** One input layer, shared by the cases that prune it. */
export interface DatasetEntry {
  /** Path of the input safetensors, relative to the suite folder. */
  file: string;
  /** `[rows, cols]` of `weight`. */
  shape: [number, number];
  /** Which calibration tensor the file holds. */
  calibration: "inputs" | "col_norms" | "none";
  /** Where the values come from, and what to check by hand. */
  description: string;
}

/** One case: a layer, the flags to prune it, and how to compare the result. */
export interface ConformanceCase {
  /** Unique name; also the file name of the expected and actual output (`<name>.safetensors`). */
  name: string;
  /** Key into {@link ConformanceManifest.datasets}. */
  dataset: string;
  /** Path of the expected output, relative to the suite folder. */
  expected: string;
  /** The method name, as `prune-layer --method` takes it. */
  method: string;
  /** What to reach. */
  target: Target;
  /** The selector (unstructured targets only). */
  select?: SelectMode;
  /** SwiftPrune's statistic (swiftprune only; also in `options`). */
  xStat?: XStat;
  /** Every option that affects the result, defaults included (see {@link CaseOptions}). */
  options: CaseOptions;
  /** Exactly the `prune-layer` flags (besides `--in` and `--out`) that reproduce the case. */
  args: string[];
  /** How each expected tensor is compared (a tensor not listed is not compared). */
  checks: Record<string, TensorCheck>;
  /**
   * Smallest relative gap `(kept - pruned) / kept` between the largest pruned and the smallest
   * kept score of any group (0 for exact ties, which the tie rule decides). A backend whose scores
   * differ by more than this may legitimately pick a different mask. `null` when the method has
   * no scores (SparseGPT, FISTAPruner: their masks come from updated weights) or no group has both
   * a pruned and a kept entry.
   */
  minBoundaryGap: number | null;
}

/** The whole manifest. */
export interface ConformanceManifest {
  format: typeof CONFORMANCE_FORMAT;
  version: number;
  /** Which program wrote the suite. */
  generator: string;
  /** Where the conventions are written down. */
  conventions: string;
  datasets: Record<string, DatasetEntry>;
  cases: ConformanceCase[];
}

/**
 * The `prune-layer` flags of a case (everything but `--in` and `--out`): the options that differ
 * from the method's defaults (`defaults`), so the common cases read as short commands.
 *
 * @param c The method, target and options.
 * @param defaults The method's default options (left out of the flags).
 * @returns The flags, e.g. `["--method", "wanda", "--sparsity", "0.5", "--group", "row", "--select", "sort"]`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pruneLayerArgs } from "./manifest.ts";
 * assert.deepEqual(pruneLayerArgs({ method: "magnitude", target: { kind: "nm", n: 2, m: 4 } }), [
 *   "--method", "magnitude", "--pattern", "2:4",
 * ]);
 * const options = { xStat: "norm", eps: 1e-4 } as const;
 * const c = { method: "swiftprune", target: { kind: "nm", n: 2, m: 4 }, options } as const;
 * assert.deepEqual(pruneLayerArgs(c, { eps: 1e-8 }).slice(4), ["--eps", "0.0001"]);
 * ```
 */
export function pruneLayerArgs(
  c: Pick<ConformanceCase, "method" | "target" | "select" | "xStat"> & { options?: CaseOptions },
  defaults: CaseOptions = {},
): string[] {
  const args = ["--method", c.method];
  if (c.target.kind === "nm") args.push("--pattern", `${c.target.n}:${c.target.m}`);
  else args.push("--sparsity", String(c.target.sparsity), "--group", c.target.group);
  if (c.select !== undefined) args.push("--select", c.select);
  if (c.xStat !== undefined) args.push("--x-stat", c.xStat);
  for (const [key, flag] of Object.entries(OPTION_FLAGS)) {
    const value = c.options?.[key as keyof typeof OPTION_FLAGS];
    if (value !== undefined && value !== defaults[key as keyof typeof OPTION_FLAGS]) {
      args.push(flag, String(value));
    }
  }
  return args;
}

function fail(what: string): never {
  throw new TypeError(`Cannot read conformance manifest: ${what}`);
}

/**
 * Parses and checks `manifest.json` (format, version, and that every case names a dataset, an
 * expected file and its checks).
 *
 * @param text The JSON text.
 * @returns The manifest.
 * @throws {TypeError} If it is not JSON, not a secateur conformance manifest, or a case is malformed.
 * @throws {RangeError} If its version is newer than this reader's.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseManifest } from "./manifest.ts";
 * const m = parseManifest(JSON.stringify({
 *   format: "secateur-conformance", version: 1, generator: "x", conventions: "y", datasets: {}, cases: [],
 * }));
 * assert.equal(m.cases.length, 0);
 * assert.throws(() => parseManifest("{}"), TypeError);
 * ```
 */
export function parseManifest(text: string): ConformanceManifest {
  let m: ConformanceManifest;
  try {
    m = JSON.parse(text);
  } catch (e) {
    fail(`not JSON (${(e as Error).message})`);
  }
  if (typeof m !== "object" || m === null || m.format !== CONFORMANCE_FORMAT) {
    fail(`format must be "${CONFORMANCE_FORMAT}", got ${JSON.stringify(m?.format)}`);
  }
  if (!Number.isInteger(m.version) || m.version < 1) fail(`bad version ${m.version}`);
  if (m.version > CONFORMANCE_VERSION) {
    throw new RangeError(
      `Cannot read conformance manifest version ${m.version}: this reader knows up to ${CONFORMANCE_VERSION}`,
    );
  }
  if (typeof m.datasets !== "object" || m.datasets === null) fail("datasets is missing");
  if (!Array.isArray(m.cases)) fail("cases must be an array");
  const names = new Set<string>();
  for (const c of m.cases) {
    if (typeof c?.name !== "string" || !/^[\w.-]+$/.test(c.name)) {
      fail(`bad case name ${JSON.stringify(c?.name)}`);
    }
    if (names.has(c.name)) fail(`case ${c.name} appears twice`);
    names.add(c.name);
    if (!(c.dataset in m.datasets)) fail(`case ${c.name} names unknown dataset ${c.dataset}`);
    if (typeof c.expected !== "string") fail(`case ${c.name} has no expected file`);
    if (!Array.isArray(c.args) || typeof c.checks !== "object" || c.checks === null) {
      fail(`case ${c.name} needs args and checks`);
    }
    if (m.version >= 2 && (typeof c.options !== "object" || c.options === null)) {
      fail(`case ${c.name} has no options object`);
    }
  }
  return m;
}
