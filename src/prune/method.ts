/**
 * The method descriptor: everything the rest of secateur knows about a pruning method, in one typed
 * value that lives in the method's own file. The pipeline, the worker tasks, both CLIs, `explain`
 * and the reports read these fields; none of them looks a method up by its name except through the
 * registry (`./methods.ts`).
 *
 * | field        | what it says                                                                 |
 * | ------------ | ---------------------------------------------------------------------------- |
 * | `name`       | the name on the command line and in reports                                  |
 * | `prune`      | the method on one layer: `(W, calibration, target, options) -> PruneResult`   |
 * | `competes`   | which weights compete for the target (per row, per layer, per block, ...)     |
 * | `rowSplit`   | present when rows are independent under per-row and N:M targets: what every  |
 * |              | block of rows needs of the layer, so workers can each take some rows          |
 * | `pipeline`   | its paper's whole-model defaults: dense inputs across blocks, intra-layer order |
 * | `options`    | its options as flags: flag, key, parser, help line, default                  |
 * | `score`      | score-then-select methods: the scores alone (for `explain`)                   |
 * | `infoLines`  | its diagnostics (`PruneResult.info`, typed per method) as text (`--verbose`)  |
 *
 * {@link scoreThenSelect} builds the descriptor of a method that scores every weight and keeps
 * the highest scores (magnitude, Wanda, SwiftPrune, RIA): such a method only says how it scores.
 *
 * @module
 */
import { applyMask, buildMask, type MaskResult } from "../select/mask.ts";
import type { EwmaOptions } from "../select/ewma.ts";
import { checkSelectMode, SELECT_MODES, type SelectMode, type Target } from "../select/target.ts";
import type { Matrix } from "../tensor/matrix.ts";
import type { LayerCalibration, PruneResult } from "./types.ts";

/** Options of any method: each method reads the keys of its {@link MethodDescriptor.options}. */
export type MethodOptions = Record<string, unknown>;

/** One option of a method, as a command-line flag and as a key of the method's options. */
export interface MethodOption {
  /** The flag without its dashes, e.g. `"x-stat"`. */
  flag: string;
  /** The key in the options object, e.g. `"xStat"`. */
  key: string;
  /** The value's placeholder in the help text, e.g. `"STAT"`. */
  arg: string;
  /** What it sets, one short line (the default is added by the help text). */
  help: string;
  /** The default, as it is written on the command line. */
  default: string;
  /**
   * Parses the flag's text into the option's value.
   * @throws {RangeError} Naming the flag and the value seen, if the text is not a valid value.
   */
  parse(text: string): unknown;
}

/** What every method may report in `PruneResult.info`: the time of its phases, in ms. */
export interface MethodInfo {
  timesMs?: Record<string, number>;
}

/**
 * How a method is split by rows across workers. Its rows are independent once the layer-wide
 * statistics they need (`prepare`, computed once for the whole layer) are known.
 */
export interface RowSplit {
  /**
   * What every block of rows needs of the whole layer: per-column statistics of the calibration
   * inputs (or of `W`). Structured-cloneable: it is sent to every worker.
   * @throws As the method does on calibration that does not fit the weight.
   */
  prepare(weight: Matrix, calib: LayerCalibration, options: MethodOptions): unknown;
  /**
   * Prunes a block of rows of `W` (a view) with the prepared statistics; with `into`, the result's
   * arrays are those (e.g. the block's rows of shared outputs), so nothing is copied afterwards.
   */
  pruneRows(
    rows: Matrix,
    prepared: unknown,
    target: Target,
    options: MethodOptions,
    into?: RowOutputs,
  ): PruneResult<MethodInfo>;
}

/** Arrays a block of rows' result is written into (`rows * cols` entries each). */
export interface RowOutputs {
  weight: Float32Array;
  keep: Uint8Array;
  scores: Float32Array;
}

/** A pruning method and what the pipeline, the workers and the CLIs need to know about it. */
export interface MethodDescriptor<I extends MethodInfo = MethodInfo> {
  /** The name on the command line and in reports. */
  readonly name: string;
  /** The method and where it comes from, one line (e.g. `"Wanda (Sun et al., arXiv:2306.11695)"`). */
  readonly title: string;
  /** What it reads of a layer's calibration, for help texts (e.g. `"inputs or col_norms"`). */
  readonly calibration: string;
  /** Prunes one layer. Never mutates its inputs. */
  prune(
    weight: Matrix,
    calib: LayerCalibration,
    target: Target,
    options?: MethodOptions,
  ): PruneResult<I>;
  /** Which weights compete with each other for `target`, e.g. `"per row"`. */
  competes(target: Target, options?: MethodOptions): string;
  /** Present when the rows are independent for per-row and N:M targets. */
  readonly rowSplit?: RowSplit;
  /** Its paper's whole-model defaults. */
  readonly pipeline: { readonly denseInputs: boolean; readonly intraLayer: boolean };
  /** Its options, as flags. */
  readonly options: readonly MethodOption[];
  /** Score-then-select methods: the scores alone (`explain` traces their selection). */
  score?(weight: Matrix, calib: LayerCalibration, options?: MethodOptions): Matrix;
  /** Score-then-select methods: the simple reference twin of `score` (benches, conformance). */
  scoreReference?(weight: Matrix, calib: LayerCalibration, options?: MethodOptions): Matrix;
  /** Lines describing one layer's `info` (`prune --verbose`), or none. */
  infoLines?(info: I): string[];
}

// ---------------------------------------------------------------------------------------------
// option parsers: each throws a RangeError naming the flag and the value seen

/**
 * A parser of integers `>= min`.
 *
 * @param flag The flag, for the message.
 * @param min The smallest value allowed.
 * @returns The parser.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intAtLeast } from "./method.ts";
 * assert.equal(intAtLeast("updates", 1)("3"), 3);
 * assert.throws(() => intAtLeast("updates", 1)("0"), /--updates must be an integer >= 1, got "0"/);
 * ```
 */
export function intAtLeast(flag: string, min: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isInteger(n) || n < min) {
      throw new RangeError(`--${flag} must be an integer >= ${min}, got "${text}"`);
    }
    return n;
  };
}

/**
 * A parser of finite numbers `>= 0`.
 *
 * @param flag The flag, for the message.
 * @returns The parser.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { finiteAtLeastZero } from "./method.ts";
 * assert.equal(finiteAtLeastZero("damp")("0.1"), 0.1);
 * assert.throws(() => finiteAtLeastZero("damp")("-1"), /--damp must be a finite number >= 0, got "-1"/);
 * ```
 */
export function finiteAtLeastZero(flag: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || n < 0) {
      throw new RangeError(`--${flag} must be a finite number >= 0, got "${text}"`);
    }
    return n;
  };
}

/**
 * A parser of one of a few words.
 *
 * @param flag The flag, for the message.
 * @param allowed The words.
 * @returns The parser.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oneOf } from "./method.ts";
 * assert.equal(oneOf("x-stat", ["norm", "token"])("token"), "token");
 * assert.throws(() => oneOf("x-stat", ["norm", "token"])("max"), /--x-stat must be norm or token, got "max"/);
 * ```
 */
export function oneOf<T extends string>(flag: string, allowed: readonly T[]): (text: string) => T {
  return (text) => {
    if (!allowed.includes(text as T)) {
      const list = allowed.length > 1
        ? `${allowed.slice(0, -1).join(", ")} or ${allowed[allowed.length - 1]}`
        : allowed[0];
      throw new RangeError(`--${flag} must be ${list}, got "${text}"`);
    }
    return text as T;
  };
}

/**
 * The options a method's flags set: each of `method.options` whose flag is in `flags`, parsed.
 * Flags the method does not have are ignored (another method may use them).
 *
 * @param method The method.
 * @param flags Flag values by flag name (e.g. from `parseArgs`), strings when given.
 * @returns The options, by key (only those given).
 * @throws {RangeError} If a value does not parse.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodByName } from "./methods.ts";
 * import { optionsFromFlags } from "./method.ts";
 * const fista = methodByName("fista")!;
 * assert.deepEqual(optionsFromFlags(fista, { iterations: "50", damp: "0.1" }), { iterations: 50 });
 * ```
 */
export function optionsFromFlags(
  method: MethodDescriptor,
  flags: Record<string, unknown>,
): MethodOptions {
  const options: MethodOptions = {};
  for (const o of method.options) {
    const text = flags[o.flag];
    if (typeof text === "string") options[o.key] = o.parse(text);
  }
  return options;
}

/**
 * The options that apply to `method`, with the defaults of those not given: what a report records.
 *
 * @param method The method.
 * @param options Options given (keys of other methods are left out).
 * @returns Every option of the method, by key.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodByName } from "./methods.ts";
 * import { appliedOptions } from "./method.ts";
 * assert.deepEqual(appliedOptions(methodByName("sparsegpt")!, { blocksize: 64, select: "sort" }), {
 *   blocksize: 64,
 *   percdamp: 0.01,
 * });
 * ```
 */
export function appliedOptions(method: MethodDescriptor, options: MethodOptions): MethodOptions {
  const out: MethodOptions = {};
  for (const o of method.options) out[o.key] = options[o.key] ?? o.parse(o.default);
  return out;
}

// ---------------------------------------------------------------------------------------------
// score-then-select methods

/** The selector option of every score-then-select method. */
export const SELECT_OPTION: MethodOption = {
  flag: "select",
  key: "select",
  arg: "MODE",
  help: "selector of unstructured targets: sort | ewma | ewma-exact",
  default: "ewma-exact",
  parse: oneOf<SelectMode>("select", SELECT_MODES),
};

/** What a score-then-select method reports: its mask's counts and the time of its two phases. */
export interface ScoreSelectInfo extends MethodInfo {
  pruned: number;
  targetPruned: number;
  sparsity: number;
  timesMs: { scoring: number; selection: number };
}

/** Milliseconds for `info.timesMs` (`Date.now` where `performance` is missing, e.g. a bare VM). */
const clockMs = (): number => globalThis.performance?.now() ?? Date.now();

/**
 * Scores, selects from the scores and zeroes the rest. `info.timesMs` gives the time of `scoring`
 * and of `selection` (mask and masked weight), in ms.
 */
function pruneByScores(
  weight: Matrix,
  score: () => Matrix,
  target: Target,
  options: MethodOptions,
  into?: RowOutputs,
): PruneResult<ScoreSelectInfo> {
  const t0 = clockMs();
  let scores = score();
  if (into) scores = { ...scores, data: copyInto(into.scores, scores.data) };
  const t1 = clockMs();
  if (options.select !== undefined) checkSelectMode(options.select);
  const mask: MaskResult = buildMask(scores, target, {
    select: options.select as SelectMode | undefined,
    ewma: options.ewma as EwmaOptions | undefined,
    into: into?.keep,
  });
  const pruned = applyMask(weight, mask.keep, into?.weight);
  const info: ScoreSelectInfo = {
    pruned: mask.pruned,
    targetPruned: mask.targetPruned,
    sparsity: mask.sparsity,
    timesMs: { scoring: t1 - t0, selection: clockMs() - t1 },
  };
  return { weight: pruned, keep: mask.keep, scores, info };
}

/** `values` copied into `into` (same length), which is returned. */
function copyInto(into: Float32Array, values: Float32Array): Float32Array {
  if (into.length !== values.length) {
    throw new TypeError(
      `Cannot write scores: into has ${into.length} entries, not ${values.length}`,
    );
  }
  into.set(values);
  return into;
}

/**
 * What a score-then-select method says about itself: how it scores. `columns` gathers what every
 * row's scores need of the whole layer (per-column statistics); `score` scores rows given them.
 * Rows are then independent, so the method splits by rows across workers.
 */
export interface ScoreMethodSpec<C> {
  name: string;
  title: string;
  calibration: string;
  /** Options besides the selector. */
  options?: readonly MethodOption[];
  /**
   * The per-column statistics the scores of any row need (e.g. `||X_:,j||_2`), computed from the
   * whole layer. Structured-cloneable.
   */
  columns(weight: Matrix, calib: LayerCalibration, options: MethodOptions): C;
  /** The scores of rows of `W` (a block of rows or the whole layer), higher = more important. */
  score(weight: Matrix, columns: C, options: MethodOptions): Matrix;
  /** The same scores from the whole layer, computed the simple way (the reference twin). */
  scoreReference(weight: Matrix, calib: LayerCalibration, options: MethodOptions): Matrix;
}

/**
 * The descriptor of a score-then-select method: it scores, keeps the highest scores of every row
 * (or layer, or N:M group) with the chosen selector, and never changes the kept weights. Pruned
 * with pruned inputs across blocks and no intra-layer order by default, as in Wanda's pipeline.
 *
 * @param spec The method's name, how it scores, and its options.
 * @returns The descriptor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { scoreThenSelect } from "./method.ts";
 * const square = scoreThenSelect({
 *   name: "square",
 *   title: "w^2",
 *   calibration: "none",
 *   columns: () => undefined,
 *   score: (w) => ({ ...w, data: w.data.map((v) => v * v) }),
 *   scoreReference: (w) => ({ ...w, data: w.data.map((v) => v ** 2) }),
 * });
 * const r = square.prune(fromRows([[1, -3, 2, 0.5]]), {}, { kind: "nm", n: 2, m: 4 });
 * assert.deepEqual(Array.from(r.keep), [0, 1, 1, 0]);
 * assert.equal(square.competes({ kind: "unstructured", sparsity: 0.5, group: "layer" }), "per layer");
 * ```
 */
export function scoreThenSelect<C>(spec: ScoreMethodSpec<C>): MethodDescriptor<ScoreSelectInfo> {
  const score = (weight: Matrix, calib: LayerCalibration, options: MethodOptions = {}) =>
    spec.score(weight, spec.columns(weight, calib, options), options);
  return {
    name: spec.name,
    title: spec.title,
    calibration: spec.calibration,
    prune: (weight, calib, target, options = {}) =>
      pruneByScores(weight, () => score(weight, calib, options), target, options),
    competes: (target) =>
      target.kind === "nm" ? `per ${target.m} consecutive weights of a row` : `per ${target.group}`,
    rowSplit: {
      prepare: (weight, calib, options) => spec.columns(weight, calib, options),
      pruneRows: (rows, prepared, target, options, into) =>
        pruneByScores(rows, () => spec.score(rows, prepared as C, options), target, options, into),
    },
    pipeline: { denseInputs: false, intraLayer: false },
    options: [SELECT_OPTION, ...(spec.options ?? [])],
    score,
    scoreReference: (weight, calib, options = {}) => spec.scoreReference(weight, calib, options),
  };
}
