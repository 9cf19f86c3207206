/**
 * Shared helpers of the command-line scripts: flag parsing, one-line errors with exit status 2,
 * and a progress bar on stderr. Scripts use `node:` built-ins only (never `Deno.*`) so they also
 * run under Bun.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import process from "node:process";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UnsafeWriteError } from "./files.ts";
import { kernels, type KernelSet, setKernels } from "../../src/linalg/kernels.ts";

/** Bad command-line input (an unknown flag, a missing file, ...): exit status 2, no stack trace. */
export class CliError extends Error {
  override name = "CliError";
}

/**
 * File-system error codes caused by the paths a user gave (a missing file or folder, a folder
 * where a file is expected, no permission): bad input, like a `CliError`.
 */
const BAD_PATH_CODES = new Set([
  "ENOENT",
  "ENOTDIR",
  "EISDIR",
  "EACCES",
  "EPERM",
  "EEXIST",
  "ENAMETOOLONG",
  "ELOOP",
  "EROFS",
]);

/** Where a script writes its messages; tests pass their own to capture them. */
export interface CliIo {
  /** Writes one chunk to stdout (results). */
  stdout: (text: string) => void;
  /** Writes one chunk to stderr (errors, progress). */
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress bars are drawn only then). */
  isTTY: boolean;
}

/** The process's stderr. */
export const PROCESS_IO: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  isTTY: Boolean(process.stderr.isTTY),
};

/** Edit distance (insertions, deletions, substitutions) between two short strings. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

/**
 * The known name closest to `name`, if it is close: at most 2 edits, and fewer than a third of
 * its letters; or a name that starts with it.
 *
 * @param name What was typed, e.g. `"x-sta"`.
 * @param known The names it may have meant.
 * @returns The suggestion, or `undefined`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closest } from "./cli.ts";
 * assert.equal(closest("sparsty", ["sparsity", "seed"]), "sparsity");
 * assert.equal(closest("x-sta", ["x-stat", "eps"]), "x-stat");
 * assert.equal(closest("zzz", ["sparsity", "seed"]), undefined);
 * ```
 */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined, bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  if (best !== undefined && bestDistance <= Math.min(2, Math.ceil(name.length / 3))) return best;
  return name.length >= 3 ? known.find((k) => k.startsWith(name)) : undefined;
}

/**
 * Parses flags with `node:util` `parseArgs` (strict: unknown flags and stray arguments are errors).
 * An unknown flag close to a known one gets a "did you mean".
 *
 * @param argv The arguments after the script name.
 * @param options The flags, as `parseArgs` takes them.
 * @returns The parsed values.
 * @throws {CliError} On an unknown flag, a missing flag value, or a positional argument.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags } from "./cli.ts";
 * const v = parseFlags(["--in", "a.safetensors"], { in: { type: "string" } });
 * assert.equal(v.in, "a.safetensors");
 * assert.throws(() => parseFlags(["--nope"], {}), { name: "CliError" });
 * assert.throws(() => parseFlags(["--inn", "a"], { in: { type: "string" } }), /did you mean --in\?/);
 * ```
 */
export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: T,
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    const message = (e as Error).message.split("\n")[0];
    const unknown = /^Unknown option '--?([^']+)'/.exec(message)?.[1];
    const guess = unknown === undefined ? undefined : closest(unknown, Object.keys(options));
    throw new CliError(guess === undefined ? message : `${message}; did you mean --${guess}?`);
  }
}

/**
 * A `--sparsity` value for the tools that take one fraction (explain, rank-one): a number in [0, 1).
 *
 * @param value The text given.
 * @returns The fraction.
 * @throws {CliError} If the text is empty, not a number, or outside [0, 1).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sparsityFlag } from "./cli.ts";
 * assert.equal(sparsityFlag("0.5"), 0.5);
 * assert.throws(() => sparsityFlag("1"), /--sparsity must be a number in \[0, 1\), got "1"/);
 * assert.throws(() => sparsityFlag(" "), /got " "/);
 * ```
 */
export function sparsityFlag(value: string): number {
  const sparsity = Number(value);
  if (value.trim() === "" || !(sparsity >= 0 && sparsity < 1)) {
    throw new CliError(`--sparsity must be a number in [0, 1), got "${value}"`);
  }
  return sparsity;
}

/**
 * An integer flag value, at least `min`.
 *
 * @param value The text given.
 * @param name The flag, for the message.
 * @param min The smallest value allowed.
 * @returns The integer.
 * @throws {CliError} If the text is not an integer >= `min`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intFlag } from "./cli.ts";
 * assert.equal(intFlag("8", "nsamples", 1), 8);
 * assert.throws(() => intFlag("0.5", "nsamples", 1), /--nsamples must be an integer >= 1, got "0.5"/);
 * ```
 */
export function intFlag(value: string, name: string, min: number): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min) {
    throw new CliError(`--${name} must be an integer >= ${min}, got "${value}"`);
  }
  return n;
}

/**
 * Runs a script's main function and turns failures into an exit status: bad input
 * (`CliError`, `TypeError`, `RangeError`, a refused write, a file-system error about a given path
 * such as `ENOENT` or `EISDIR`) prints one line `error: ...` and gives 2; anything else
 * prints `error: ...` and gives 1. `--debug` anywhere in `argv` adds the stack trace.
 *
 * @param main The script body; returns an exit status (default 0).
 * @param argv The arguments after the script name.
 * @param io Where messages go (default: the process's stderr).
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CliError, runCli } from "./cli.ts";
 * let err = "";
 * const io = { stdout: () => {}, stderr: (t: string) => void (err += t), isTTY: false };
 * const code = await runCli(() => { throw new CliError("no --in given"); }, [], io);
 * assert.equal(code, 2);
 * assert.equal(err, "error: no --in given\n");
 * ```
 */
export async function runCli(
  main: (argv: string[], io: CliIo) => number | void | Promise<number | void>,
  argv: string[],
  io: CliIo = PROCESS_IO,
): Promise<number> {
  const debug = argv.includes("--debug");
  try {
    return (await main(argv.filter((a) => a !== "--debug"), io)) ?? 0;
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const badInput = err instanceof CliError || err instanceof TypeError ||
      err instanceof RangeError || err instanceof UnsafeWriteError ||
      BAD_PATH_CODES.has((err as { code?: unknown }).code as string) ||
      err.name === "NotCapable" || err.name === "PermissionDenied"; // a path outside --allow-*
    io.stderr(`error: ${err.message.split("\n")[0]}\n`);
    if (debug && err.stack) io.stderr(`${err.stack}\n`);
    return badInput ? 2 : 1;
  }
}

/**
 * A progress callback that draws a bar on stderr, or does nothing when stderr is not a terminal
 * or `quiet` is set.
 *
 * @param io Where to draw.
 * @param quiet Draw nothing when true.
 * @returns `onProgress(done, total, label?)`; it ends the line when `done === total`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressBar } from "./cli.ts";
 * let out = "";
 * const bar = progressBar({ stdout: () => {}, stderr: (t) => void (out += t), isTTY: true });
 * bar(1, 2, "layer");
 * assert.ok(out.includes("1/2"));
 * ```
 */
export function progressBar(
  io: CliIo,
  quiet = false,
): (done: number, total: number, label?: string) => void {
  if (quiet || !io.isTTY) return () => {};
  return (done, total, label = "") => {
    const width = 30, filled = total > 0 ? Math.round((width * done) / total) : width;
    io.stderr(
      `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ${label}\x1b[K`,
    );
    if (done >= total) io.stderr("\n");
  };
}

/**
 * Refuses to start worker threads that could not load their code: under Deno, a worker reads its
 * modules from `src/` and needs read permission for them (`--allow-read` naming only the data
 * files is not enough). Without this check the run would fail later, with the runtime's own
 * messages. Does nothing on other runtimes.
 *
 * @param workers The `--workers` value (1 starts no worker).
 * @throws {CliError} If Deno denies reading `src/parallel/`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkWorkerPermission } from "./cli.ts";
 * checkWorkerPermission(1); // no worker: nothing to check
 * assert.ok(true);
 * ```
 */
export function checkWorkerPermission(workers: number): void {
  if (workers <= 1 || workersCanStart()) return;
  throw new CliError(
    `--workers ${workers} needs read access to ${PARALLEL_DIR} (worker threads load their code from it); allow it with --allow-read or use --workers 1`,
  );
}

const PARALLEL_DIR = fileURLToPath(new URL("../../src/parallel/", import.meta.url));

/**
 * Whether worker threads could load their code: false only under Deno without read permission
 * for `src/parallel/` (a CLI whose `--workers` defaults to all cores then uses none).
 *
 * @returns True when workers can start.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { workersCanStart } from "./cli.ts";
 * assert.equal(typeof workersCanStart(), "boolean");
 * ```
 */
export function workersCanStart(): boolean {
  const deno = (globalThis as {
    Deno?: { permissions?: { querySync?(d: { name: "read"; path: string }): { state: string } } };
  }).Deno;
  const state = deno?.permissions?.querySync?.({ name: "read", path: PARALLEL_DIR }).state;
  return state === undefined || state === "granted";
}

/**
 * Checks a `--kernels` value.
 *
 * @param value The flag's value, if given.
 * @returns The value, typed.
 * @throws {CliError} If it is not `ts` or `simd`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kernelsFlag } from "./cli.ts";
 * assert.equal(kernelsFlag(undefined), undefined);
 * ```
 */
export function kernelsFlag(value: string | undefined): KernelSet | undefined {
  if (value !== undefined && value !== "ts" && value !== "simd") {
    throw new CliError(`--kernels must be ts or simd, got "${value}"`);
  }
  return value;
}

/**
 * Parses `--kernels ts|simd` and selects that kernel set for this thread and the workers it
 * starts (absent: the fastest available, `src/linalg/kernels.ts`).
 *
 * @param value The flag's value, if given.
 * @returns The kernel set in use.
 * @throws {CliError} If the value is not `ts` or `simd`, or `simd` where WebAssembly SIMD is missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { useKernelsFlag } from "./cli.ts";
 * assert.equal(useKernelsFlag("ts"), "ts");
 * assert.throws(() => useKernelsFlag("gpu"), /--kernels must be ts or simd, got "gpu"/);
 * useKernelsFlag(undefined);
 * ```
 */
export function useKernelsFlag(value: string | undefined): KernelSet {
  const name = kernelsFlag(value) ?? "auto";
  try {
    setKernels(name);
  } catch (e) {
    throw new CliError(`--kernels ${value}: ${(e as Error).message}`);
  }
  return kernels();
}
