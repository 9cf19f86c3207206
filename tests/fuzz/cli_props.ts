/**
 * Fuzz target for the CLIs' flag handling: arbitrary argv arrays given to a script's exported
 * `main(argv, io)` in process (no process per case).
 *
 * The argv is either a valid command with edits (a flag dropped, repeated, or given a hostile
 * value) or a random list of flags and values. Paths only ever point into the fixture folder:
 * layer files (valid, with NaN, truncated, empty), an existing output, a folder, a missing file.
 *
 * A case passes when the exit status is 0 (and then the output is a valid pruned layer, or the
 * usage was printed) or 2 with exactly one `error: ...` line on stderr (a stack trace only with
 * `--debug`); and, in every case, the input files are unchanged and no temporary file is left.
 * Exit status 1 (an unexpected error), a thrown exception or a hang is a failure.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { readSafetensors, writeSafetensors } from "../../src/io/safetensors.ts";
import { main as pruneLayerMain } from "../../scripts/prune-layer.ts";
import type { CliIo } from "../../scripts/lib/cli.ts";
import type { FuzzTarget } from "./outcome.ts";

/** A rejected command line (exit status 2 with one error line): the CLI's typed error. */
export class CliRejection extends RangeError {
  override name = "CliRejection";
}

/** What one run printed and returned. */
interface CliRun {
  argv: string[];
  code: number;
  out: string;
  err: string;
}

/** Writes the fixture files into `dir` (created if needed); returns name -> path. */
function writeFixtures(dir: string): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const weight = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i + 1));
  const inputs = Float32Array.from({ length: 48 }, (_, i) => Math.cos(i));
  const layer = (w: Float32Array) =>
    writeSafetensors([
      { name: "weight", dtype: "F32", shape: [4, 8], data: w },
      { name: "inputs", dtype: "F32", shape: [6, 8], data: inputs },
      { name: "col_norms", dtype: "F32", shape: [8], data: new Float32Array(8).fill(1) },
    ]);
  const nan = weight.slice();
  nan[9] = Number.NaN;
  const ok = layer(weight);
  const files: Record<string, Uint8Array> = {
    "layer.safetensors": ok,
    "nan.safetensors": layer(nan),
    "truncated.safetensors": ok.subarray(0, ok.length - 7),
    "empty.safetensors": new Uint8Array(0),
    "exists.safetensors": new TextEncoder().encode("keep me"),
  };
  const paths: Record<string, string> = {};
  for (const [name, bytes] of Object.entries(files)) {
    paths[name] = join(dir, name);
    writeFileSync(paths[name], bytes);
  }
  mkdirSync(join(dir, "folder"), { recursive: true });
  return paths;
}

const METHOD_VALUES = ["magnitude", "wanda", "swiftprune", "sparsegpt", "fista", "nope", ""];
/** Hostile values for numeric and enum flags (no huge counts: a big --updates is a long run, not an error). */
const VALUES = [
  "0",
  "0.5",
  "0.9",
  "1",
  "-1",
  "1.5",
  "NaN",
  "Infinity",
  "1e400",
  "-0",
  "",
  "abc",
  "2:4",
  "4:8",
  "0:4",
  "3:2",
  "2:3",
  "1:1",
  "row",
  "layer",
  "sort",
  "ewma",
  "ewma-exact",
  "norm",
  "token",
  "mean",
  "wanda",
  "sparsegpt",
  "2",
  "8",
  "0x10",
];
const VALUE_FLAGS = [
  "--method",
  "--sparsity",
  "--pattern",
  "--select",
  "--group",
  "--x-stat",
  "--eps",
  "--blocksize",
  "--damp",
  "--iterations",
  "--updates",
  "--warm-start",
];
const BOOLEAN_FLAGS = ["--force", "--quiet", "--debug", "--help", "--allow-nonfinite"];

/** An argv: a valid command with edits, or a random list of flags and values. */
function argvArb(dir: string): fc.Arbitrary<string[]> {
  const inputs = [
    "layer.safetensors",
    "nan.safetensors",
    "truncated.safetensors",
    "empty.safetensors",
    "folder",
    "missing.safetensors",
  ].map((n) => join(dir, n));
  const outputs = [
    "out.safetensors",
    "exists.safetensors",
    "folder",
    "layer.safetensors",
    "no/such/out.safetensors",
  ]
    .map((n) => join(dir, n));
  const value = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...VALUES) },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }).filter((s) => !s.startsWith("-")) },
  );
  const pair = fc.oneof(
    fc.tuple(fc.constant("--in"), fc.constantFrom(...inputs)),
    fc.tuple(fc.constant("--out"), fc.constantFrom(...outputs)),
    fc.tuple(fc.constantFrom(...VALUE_FLAGS), value),
    fc.tuple(fc.constantFrom(...BOOLEAN_FLAGS)),
    fc.tuple(fc.constantFrom("--bogus", "-x", "--sparsity=0.5", "--method=wanda", "positional")),
  );
  const edited = fc.record({
    method: fc.constantFrom(...METHOD_VALUES.slice(0, 5)),
    target: fc.constantFrom(["--sparsity", "0.5"], ["--pattern", "2:4"], ["--sparsity", "0"]),
    input: fc.constantFrom(inputs[0], inputs[0], inputs[0], inputs[1], inputs[2]),
    output: fc.constantFrom(outputs[0], outputs[0], outputs[0], outputs[1], outputs[2]),
    drop: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, {
      weight: 1,
      arbitrary: fc.nat({ max: 7 }),
    }),
    extra: fc.oneof(fc.constant([]), fc.array(pair, { maxLength: 2 })),
  }).map(({ method, target, input, output, drop, extra }) => {
    const argv = ["--in", input, "--out", output, "--method", method, ...target];
    if (drop !== undefined) argv.splice(drop, 1);
    return [...argv, ...extra.flat()];
  });
  return fc.oneof(
    { weight: 3, arbitrary: edited },
    { weight: 1, arbitrary: fc.array(pair, { maxLength: 8 }).map((pairs) => pairs.flat()) },
  );
}

/** Removes what a run wrote (outputs), keeping the fixtures. */
function cleanOutputs(dir: string, fixtures: Record<string, string>): string[] {
  const leftovers: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name in fixtures || name === "folder") continue;
    if (name.endsWith(".tmp")) leftovers.push(name);
    rmSync(join(dir, name), { recursive: true, force: true });
  }
  return leftovers;
}

/**
 * `cli/prune-layer`: arbitrary argv arrays to `scripts/prune-layer.ts` `main`.
 *
 * @param dir A scratch folder for the fixtures and outputs (emptied of outputs after each case).
 */
export function pruneLayerCli(dir: string): FuzzTarget<string[], CliRun> {
  const fixtures = writeFixtures(dir);
  const original = Object.fromEntries(
    Object.entries(fixtures).map(([name, path]) => [name, readFileSync(path)]),
  );
  return {
    name: "cli/prune-layer",
    parser: "cli flags",
    arbitrary: argvArb(dir),
    async parse(argv) {
      let out = "", err = "";
      const io: CliIo = {
        stdout: (t) => void (out += t),
        stderr: (t) => void (err += t),
        isTTY: false,
      };
      const code = await pruneLayerMain(argv, io);
      const run = { argv, code, out, err };
      const outputBytes = (() => {
        try {
          return readFileSync(join(dir, "out.safetensors"));
        } catch {
          return undefined;
        }
      })();
      const leftovers = cleanOutputs(dir, fixtures);
      for (const [name, path] of Object.entries(fixtures)) {
        const same = readFileSync(path).equals(original[name]);
        if (name === "exists.safetensors" && argv.includes("--force")) {
          writeFileSync(path, original[name]); // an output replaced with --force: put it back
        } else assert.ok(same, `${name} was modified`);
      }
      assert.deepEqual(leftovers, [], "temporary files left behind");
      if (code === 2) {
        const oneLine = /^error: [^\n]+\n$/.test(err);
        if (!oneLine && !argv.includes("--debug")) {
          throw new Error(`exit 2 but stderr is ${JSON.stringify(err)}`);
        }
        throw new CliRejection(err.split("\n")[0]);
      }
      if (code !== 0) throw new Error(`exit status ${code}: ${err.split("\n")[0]}`);
      if (outputBytes !== undefined && out.includes("out.safetensors")) {
        const file = readSafetensors(new Uint8Array(outputBytes));
        assert.deepEqual(file.info("mask").shape, [4, 8]);
        assert.deepEqual(file.info("weight").shape, [4, 8]);
      }
      return run;
    },
    check(_argv, run) {
      assert.equal(run.code, 0);
      assert.ok(run.out.includes("usage:") || /pruned \d+ of 32 weights/.test(run.out), run.out);
    },
    show: (argv) => JSON.stringify(argv),
  };
}
