/**
 * Fuzz target `cli/prune-layer`: arbitrary argv arrays given to `scripts/prune-layer.ts`'s exported
 * `main(argv, io)` in process (no process per case). `cli_prune_props.ts` does the same for
 * `scripts/prune.ts`; what they share (running, exit status, fixture checks) is `cli_harness.ts`.
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
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { readSafetensors, writeSafetensors } from "../../src/io/safetensors.ts";
import { main as pruneLayerMain } from "../../scripts/prune-layer.ts";
import type { FuzzTarget } from "./outcome.ts";
import { type CliRun, type FixtureFiles, runCliCase, writeFixtures } from "./cli_harness.ts";
import { methodNames } from "../../src/prune/methods.ts";

/** A successful run and the output file it wrote, if any. */
interface LayerRun {
  run: CliRun;
  output?: Uint8Array;
}

/** The fixtures: layer files (valid, with NaN, truncated, empty), an existing output, a folder. */
function layerFixtures(): FixtureFiles {
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
  return {
    "layer.safetensors": ok,
    "nan.safetensors": layer(nan),
    "truncated.safetensors": ok.subarray(0, ok.length - 7),
    "empty.safetensors": new Uint8Array(0),
    "exists.safetensors": new TextEncoder().encode("keep me"),
    "folder": null,
  };
}

const METHOD_VALUES = [...methodNames(), "nope", ""];
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

/**
 * `cli/prune-layer`: arbitrary argv arrays to `scripts/prune-layer.ts` `main`.
 *
 * @param dir A scratch folder for the fixtures and outputs (emptied of outputs after each case).
 */
export function pruneLayerCli(dir: string): FuzzTarget<string[], LayerRun> {
  const fixtures = writeFixtures(dir, layerFixtures());
  const readOutput = () => {
    try {
      return new Uint8Array(readFileSync(join(dir, "out.safetensors")));
    } catch {
      return undefined;
    }
  };
  return {
    name: "cli/prune-layer",
    parser: "cli flags",
    arbitrary: argvArb(dir),
    parse: (argv) =>
      runCliCase(
        pruneLayerMain,
        fixtures,
        argv,
        ["--in"],
        (run) => ({ run, output: readOutput() }),
      ),
    check(_argv, { run, output }) {
      assert.equal(run.code, 0);
      assert.ok(run.out.includes("usage:") || /pruned \d+ of 32 weights/.test(run.out), run.out);
      if (output !== undefined && run.out.includes("out.safetensors")) {
        const file = readSafetensors(output);
        assert.deepEqual(file.info("mask").shape, [4, 8]);
        assert.deepEqual(file.info("weight").shape, [4, 8]);
      }
    },
    show: (argv) => JSON.stringify(argv),
  };
}
