/**
 * What the CLI fuzz targets share: running a script's exported `main(argv, io)` in process,
 * turning its exit status into the fuzz outcome, and a scratch folder of fixture files that is
 * checked and reset after every case.
 *
 * The outcome of a CLI run (the CLI form of the contract in `outcome.ts`):
 *
 * - exit status 0 is a correct run (the target then checks what it printed and wrote);
 * - exit status 2 with exactly one line `error: ...` on stderr (more lines only with `--debug`,
 *   which adds the stack trace) is the CLI's typed error: {@link CliRejection};
 * - any other exit status, exit 2 with another stderr, or a thrown exception is a failure.
 *
 * In every case the fixture files must be unchanged (an output that already existed may be
 * replaced only with `--force`) and no temporary file may be left anywhere in the folder.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import type { CliIo } from "../../scripts/lib/cli.ts";
import { capture } from "../lib/capture.ts";

/** A rejected command line (exit status 2 with one error line): the CLI's typed error. */
export class CliRejection extends RangeError {
  override name = "CliRejection";
}

/** What one run printed and returned. */
export interface CliRun {
  argv: string[];
  code: number;
  out: string;
  err: string;
}

/** A script's exported entry point. */
export type CliMain = (argv: string[], io: CliIo) => Promise<number>;

/**
 * Runs `main` on `argv` with captured stdout and stderr (not a terminal: no progress bars).
 *
 * @param main The script's `main`.
 * @param argv The arguments.
 * @returns The exit status and what was printed.
 */
export async function runMain(main: CliMain, argv: string[]): Promise<CliRun> {
  const io = capture();
  const code = await main(argv, io);
  return { argv, code, out: io.out, err: io.err };
}

/** A run's progress lines, `[1.2 s elapsed, about 3.0 s left] ...` (stderr off a terminal). */
const PROGRESS_LINES = /^\[[^\]\n]* elapsed, [^\]\n]*\] [^\n]*\n/gm;

/**
 * Turns a run that did not exit 0 into the fuzz outcome: a {@link CliRejection} (typed) for exit
 * status 2 with one `error: ...` line, any other error (untyped) otherwise. Returns on exit 0.
 *
 * @param run The run.
 * @throws {CliRejection} On a well-formed rejection.
 * @throws {Error} On exit 2 with a malformed stderr (unless `--debug`), or another exit status.
 */
export function throwUnlessSucceeded(run: CliRun): void {
  if (run.code === 0) return;
  // the progress lines of the steps done before the error (scripts/lib/progress.ts) come first
  const err = run.err.replace(PROGRESS_LINES, "");
  if (run.code === 2) {
    const oneLine = /^error: [^\n]+\n$/.test(err);
    if (!oneLine && !run.argv.includes("--debug")) {
      throw new Error(`exit 2 but stderr is ${JSON.stringify(run.err)}`);
    }
    throw new CliRejection(err.split("\n")[0]);
  }
  throw new Error(`exit status ${run.code}: ${err.split("\n")[0]}`);
}

/** Fixture files by path relative to the folder; `null` is a folder. */
export type FixtureFiles = Record<string, Uint8Array | null>;

/** A scratch folder holding fixtures, as written (see {@link writeFixtures}). */
export interface FixtureDir {
  dir: string;
  files: FixtureFiles;
  /** Absolute-or-relative path of a fixture (or of any name inside the folder). */
  path(name: string): string;
}

/**
 * Writes `files` into `dir` (created if needed; anything else in it is removed).
 *
 * @param dir The scratch folder.
 * @param files The fixtures (parents of nested paths are created).
 * @returns The folder and its fixtures.
 */
export function writeFixtures(dir: string, files: FixtureFiles): FixtureDir {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) {
    const path = join(dir, name);
    if (bytes === null) mkdirSync(path, { recursive: true });
    else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes);
    }
  }
  return { dir, files, path: (name) => join(dir, name) };
}

/** Every path under `dir`, relative to it (folders before their contents). */
function walk(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix)).flatMap((name) => {
    const rel = prefix === "" ? name : `${prefix}/${name}`;
    return statSync(join(dir, rel)).isDirectory() ? [rel, ...walk(dir, rel)] : [rel];
  });
}

/**
 * The fixtures a run may replace: with `--force`, any fixture that is not one of the run's inputs
 * (the last value of each of `inputFlags` in `argv`; an input folder protects what it holds).
 *
 * @param fixtures The folder.
 * @param argv The run's arguments.
 * @param inputFlags The flags that name inputs, e.g. `["--in"]`.
 * @returns Whether the run may have replaced a fixture (by its name in the folder).
 */
export function replaceableBy(
  fixtures: FixtureDir,
  argv: string[],
  inputFlags: string[],
): (name: string) => boolean {
  if (!argv.includes("--force")) return () => false;
  const inputs = inputFlags.map((flag) => argv.lastIndexOf(flag))
    .filter((i) => i >= 0 && i + 1 < argv.length)
    .map((i) => resolve(argv[i + 1]));
  return (name) => {
    const path = resolve(fixtures.path(name));
    return !inputs.some((input) => path === input || path.startsWith(input + sep));
  };
}

/**
 * After a case: removes everything that is not a fixture (the outputs), puts back every fixture
 * that was modified or removed, and then asserts that those were `replaceable`.
 *
 * @param fixtures The folder.
 * @param replaceable Whether this fixture may have been replaced by the run (see
 *   {@link replaceableBy}).
 * @returns The temporary files (`*.tmp`) that were left behind (and are now removed).
 * @throws {AssertionError} If a fixture was modified or removed and may not have been (the
 *   folder is reset all the same, so the next case starts clean).
 */
export function resetFixtures(
  fixtures: FixtureDir,
  replaceable: (name: string) => boolean,
): string[] {
  const outputs = walk(fixtures.dir).filter((rel) => !(rel in fixtures.files));
  const leftovers = outputs.filter((rel) => rel.endsWith(".tmp"));
  for (const rel of outputs) rmSync(fixtures.path(rel), { recursive: true, force: true });
  const modified: string[] = [];
  for (const [name, original] of Object.entries(fixtures.files)) {
    const path = fixtures.path(name);
    const same = original === null
      ? statSync(path, { throwIfNoEntry: false })?.isDirectory() === true
      : (() => {
        try {
          return readFileSync(path).equals(original);
        } catch {
          return false;
        }
      })();
    if (same) continue;
    modified.push(name);
    rmSync(path, { recursive: true, force: true });
    if (original === null) mkdirSync(path, { recursive: true });
    else writeFileSync(path, original);
  }
  const forbidden = modified.filter((name) => !replaceable(name));
  assert.deepEqual(forbidden, [], `fixtures modified: ${forbidden.join(", ")}`);
  return leftovers;
}

/**
 * Runs one fuzz case of a CLI: `main` on `argv`; on exit 0, `collect` reads what the run wrote;
 * then the folder is reset ({@link resetFixtures}, inputs named by `inputFlags` protected); then
 * the exit status becomes the outcome ({@link throwUnlessSucceeded}).
 *
 * @param main The script's `main`.
 * @param fixtures The folder the paths in `argv` point into.
 * @param argv The arguments.
 * @param inputFlags The flags that name the run's inputs.
 * @param collect Reads the outputs of a successful run (before they are removed).
 * @returns What `collect` returned.
 * @throws {CliRejection} On a well-formed rejection (exit 2, one line).
 * @throws {Error} On any other failure, a modified fixture or a leftover temporary file.
 */
export async function runCliCase<T>(
  main: CliMain,
  fixtures: FixtureDir,
  argv: string[],
  inputFlags: string[],
  collect: (run: CliRun) => T,
): Promise<T> {
  const run = await runMain(main, argv);
  let result: T | undefined;
  try {
    if (run.code === 0) result = collect(run);
  } finally {
    const leftovers = resetFixtures(fixtures, replaceableBy(fixtures, argv, inputFlags));
    assert.deepEqual(leftovers, [], "temporary files left behind");
  }
  throwUnlessSucceeded(run);
  return result!;
}
