/**
 * The fuzz contract shared by every parser target, and the tallies the fuzz task prints.
 *
 * A target has a generator (`arbitrary`), a `parse` that runs the parser under test, and a `check`
 * that verifies a successful parse (round trip, sizes, every value read). The outcome of one case
 * is acceptable when it is either
 *
 * - a parse that passes `check`, or
 * - a `TypeError` or `RangeError` (or a subclass) with a non-empty message, thrown by `parse`.
 *
 * Anything else is an untyped failure: another error type, an empty message, a stack overflow
 * (V8 reports it as a `RangeError`, but it is a crash, not a designed error), a `check` that fails,
 * or a case slower than {@link SLOW_CASE_MS} (a hang). An out-of-memory kills the process, which
 * the fuzz task reports by exiting abnormally.
 *
 * @module
 */
import fc from "fast-check";

/** A case that takes longer than this is reported as a (probable) hang. */
export const SLOW_CASE_MS = 5_000;

/** One parser under fuzz: how to generate inputs, parse them, and verify a successful parse. */
export interface FuzzTarget<I, R> {
  /** Name printed in the summary, e.g. `safetensors/structured`. */
  name: string;
  /** The parser this target exercises (the summary groups targets by it). */
  parser: string;
  /** Generates inputs. */
  arbitrary: fc.Arbitrary<I>;
  /** Runs the parser; may throw (typed errors are an acceptable outcome). */
  parse(input: I): R | Promise<R>;
  /** Verifies a successful parse; throws (any error) when the result is wrong. */
  check(input: I, result: R): void | Promise<void>;
  /** A short description of an input for failure reports. */
  show?(input: I): string;
  /**
   * A case slower than this is a probable hang (default {@link SLOW_CASE_MS}). A whole CLI run
   * that does real work (`--compare --sweep` prunes with every method several times) needs more.
   */
  slowCaseMs?: number;
}

/** Tallies of one target's run. */
export interface FuzzStats {
  cases: number;
  parsed: number;
  /** Typed errors by constructor name (`TypeError`, `RangeError`, or a documented subclass). */
  typed: Record<string, number>;
  /** Untyped failures (must stay 0), with the first few inputs and errors. */
  untyped: number;
  examples: string[];
  slowestMs: number;
}

/** An empty tally. */
export function newStats(): FuzzStats {
  return { cases: 0, parsed: 0, typed: {}, untyped: 0, examples: [], slowestMs: 0 };
}

/** True for the errors the parsers are allowed to throw on bad input. */
export function isTypedError(e: unknown): e is TypeError | RangeError {
  if (!(e instanceof TypeError || e instanceof RangeError)) return false;
  if (typeof e.message !== "string" || e.message.trim() === "") return false;
  return !/Maximum call stack size exceeded|Invalid array length|Array buffer allocation failed/
    .test(e.message);
}

/** `name: message` of anything thrown. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`;
  return `non-Error thrown: ${String(e)}`;
}

/** What one case produced. */
export type CaseOutcome =
  | { kind: "parsed" }
  | { kind: "typed"; type: string; message: string }
  | { kind: "untyped"; reason: string };

/** Runs one case of a target and classifies it (never throws). */
export async function runCase<I, R>(target: FuzzTarget<I, R>, input: I): Promise<CaseOutcome> {
  const started = performance.now();
  let outcome: CaseOutcome;
  let result: R;
  try {
    result = await target.parse(input);
    try {
      await target.check(input, result);
      outcome = { kind: "parsed" };
    } catch (e) {
      outcome = { kind: "untyped", reason: `parsed, but check failed: ${describeError(e)}` };
    }
  } catch (e) {
    outcome = isTypedError(e)
      ? { kind: "typed", type: e.constructor.name, message: e.message }
      : { kind: "untyped", reason: `parser threw ${describeError(e)}` };
  }
  const ms = performance.now() - started;
  if (ms > (target.slowCaseMs ?? SLOW_CASE_MS) && outcome.kind !== "untyped") {
    outcome = { kind: "untyped", reason: `case took ${ms.toFixed(0)} ms (hang?)` };
  }
  return outcome;
}

/** Adds one outcome to a tally. */
export function record(stats: FuzzStats, outcome: CaseOutcome, shown: () => string): void {
  stats.cases++;
  if (outcome.kind === "parsed") stats.parsed++;
  else if (outcome.kind === "typed") {
    stats.typed[outcome.type] = (stats.typed[outcome.type] ?? 0) + 1;
  } else {
    stats.untyped++;
    if (stats.examples.length < 5) stats.examples.push(`${outcome.reason}\n    input: ${shown()}`);
  }
}

/** Shows an input briefly: bytes as length + hex head, other values as JSON. */
export function showInput(input: unknown): string {
  if (input instanceof Uint8Array) {
    const head = Array.from(input.subarray(0, 48), (b) => b.toString(16).padStart(2, "0"));
    return `Uint8Array(${input.length}) ${head.join(" ")}${input.length > 48 ? " ..." : ""}`;
  }
  try {
    const text = JSON.stringify(input, (_k, v) => v instanceof Uint8Array ? showInput(v) : v);
    return text.length > 400 ? text.slice(0, 400) + "..." : text;
  } catch {
    return String(input);
  }
}

/**
 * The fast-check property of a target: every case is acceptable. With `stats`, outcomes are
 * tallied; with `throwOnFailure` (the test suite), an untyped failure fails the property so
 * fast-check shrinks it to a minimal input.
 */
export function targetProperty<I, R>(
  target: FuzzTarget<I, R>,
  stats: FuzzStats,
  throwOnFailure: boolean,
): fc.IAsyncProperty<[I]> {
  return fc.asyncProperty(target.arbitrary, async (input) => {
    const started = performance.now();
    const outcome = await runCase(target, input);
    stats.slowestMs = Math.max(stats.slowestMs, performance.now() - started);
    const shown = () => (target.show ?? showInput)(input);
    record(stats, outcome, shown);
    if (throwOnFailure && outcome.kind === "untyped") {
      throw new Error(`${target.name}: ${outcome.reason}`);
    }
  });
}

/** Runs a target for `numRuns` cases and returns its tally (never throws on untyped failures). */
export async function fuzzTarget<I, R>(
  // deno-lint-ignore no-explicit-any
  target: FuzzTarget<I, R> | FuzzTarget<any, any>,
  numRuns: number,
  seed?: number,
): Promise<FuzzStats> {
  const stats = newStats();
  await fc.assert(targetProperty(target, stats, false), { numRuns, seed, endOnFailure: true });
  return stats;
}
