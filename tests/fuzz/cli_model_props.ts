/**
 * Fuzz targets `cli/eval` and `cli/extract-layer`: arbitrary argv arrays to the `main` of
 * `scripts/eval.ts` and `scripts/extract-layer.ts`, in process, over `cli/prune`'s fixtures (a tiny
 * Llama as llama2.c and HF, hostile models, texts too short or malformed, outputs that exist or
 * are folders). The argv is a valid command with up to four flags added (hostile values,
 * booleans, an unknown flag), which replace the valid ones when they repeat them.
 *
 * A case passes when the exit status is 0 with the expected output, or 2 with one `error: ...`
 * line; the fixtures are unchanged (unless `--force` may replace them) and no temporary file is
 * left (`cli_harness.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { main as evalMain } from "../../scripts/eval.ts";
import { main as extractMain } from "../../scripts/extract-layer.ts";
import { readSafetensors } from "../../src/io/safetensors.ts";
import type { FuzzTarget } from "./outcome.ts";
import { type CliMain, type CliRun, runCliCase, writeFixtures } from "./cli_harness.ts";
import { FIXTURE_MODEL, pruneFixtures } from "./cli_prune_props.ts";

const MODELS = [
  "model.bin",
  "hf",
  "nan.bin",
  "truncated.bin",
  "empty.bin",
  "folder",
  "missing.bin",
];
const TEXTS = ["calib.jsonl", "eval.txt", "calib.txt", "short.txt", "empty.txt", "bad.jsonl"];
const COUNTS = ["2", "4", "16", "32", "33", "0", "1", "-1", "1.5", "1e9", "NaN", "", "abc"];
const LAYERS = ["layers.0.wq", "layers.1.w2", "layers.2.w1", "layers.0.up", "w1", ""];
const OUTPUTS = ["o.json", "o.safetensors", "exists.json", "folder", "no/such/o", "model.bin"];

/** One target over a CLI of whole models. */
function modelCli(
  name: string,
  main: CliMain,
  valid: string[],
  pairs: Record<string, string[]>,
  check: (run: CliRun, output: Uint8Array | undefined) => void,
  dir: string,
  tokenizer: string,
): FuzzTarget<string[], { run: CliRun; output?: Uint8Array }> {
  const fixtures = writeFixtures(dir, pruneFixtures());
  const at = (v: string, flag: string) =>
    flag === "--model" || flag === "--eval" || flag === "--calib" || flag === "--out" ||
      flag === "--report"
      ? fixtures.path(v)
      : v;
  const pair = fc.constantFrom(...Object.keys(pairs)).chain((flag) =>
    fc.constantFrom(...pairs[flag]).map((v) =>
      v.startsWith("-") || v === "" ? [`${flag}=${at(v, flag)}`] : [flag, at(v, flag)]
    )
  );
  const boolean = fc.constantFrom("--force", "--quiet", "--help", "--debug", "--bogus");
  const base = ["--tokenizer", tokenizer, ...valid.map((v, i) => at(v, valid[i - 1] ?? ""))];
  // always on the fixture model and text (pairs may replace them): the defaults are real models
  const extra = fc.oneof({ weight: 4, arbitrary: pair }, {
    weight: 1,
    arbitrary: boolean.map((b) => [b]),
  });
  const argv = fc.oneof(
    { weight: 1, arbitrary: fc.constant(base) },
    { weight: 4, arbitrary: fc.array(extra, { maxLength: 4 }).map((e) => [...base, ...e.flat()]) },
  );
  return {
    name,
    parser: "cli flags",
    arbitrary: argv,
    parse: (args) =>
      runCliCase(main, fixtures, args, ["--model", "--tokenizer", "--eval", "--calib"], (run) => {
        const out = args.lastIndexOf("--out"), report = args.lastIndexOf("--report");
        const i = Math.max(out, report);
        const last = i >= 0 ? args[i + 1] : "";
        let output: Uint8Array | undefined;
        try {
          output = last === "" ? undefined : new Uint8Array(readFileSync(last));
        } catch { /* not written (e.g. --help) */ }
        return { run, output };
      }),
    check: (_args, { run, output }) => check(run, output),
    show: (args) => JSON.stringify(args),
  };
}

/**
 * `cli/eval`.
 *
 * @param dir A scratch folder (reset after each case).
 * @param tokenizer Path of `tok512.bin`.
 */
export function evalCli(dir: string, tokenizer: string): ReturnType<typeof modelCli> {
  return modelCli(
    "cli/eval",
    evalMain,
    ["--model", "model.bin", "--eval", "eval.txt", "--seqlen", "16", "--workers", "1"],
    {
      "--model": MODELS,
      "--eval": TEXTS,
      "--seqlen": COUNTS,
      "--eval-tokens": COUNTS,
      "--workers": ["1", "0", "1e9", ""], // no pool: cli/prune covers starting workers
      "--report": OUTPUTS,
    },
    (run, output) => {
      assert.equal(run.code, 0);
      if (run.out.startsWith("deno task eval")) return; // --help
      assert.match(run.out, /^ppl (\d|NaN|Infinity)/m, run.out);
      assert.match(run.out, /prunable weights, \d+\.\d\d% of them zero/);
      if (run.out.includes("wrote ")) {
        const report = JSON.parse(new TextDecoder().decode(output));
        assert.equal(report.sparsity.operators.length, 7 * FIXTURE_MODEL.nLayers);
      }
    },
    dir,
    tokenizer,
  );
}

/**
 * `cli/extract-layer`.
 *
 * @param dir A scratch folder (reset after each case).
 * @param tokenizer Path of `tok512.bin`.
 */
export function extractLayerCli(dir: string, tokenizer: string): ReturnType<typeof modelCli> {
  return modelCli(
    "cli/extract-layer",
    extractMain,
    [
      "--model",
      "model.bin",
      "--calib",
      "eval.txt",
      "--layer",
      "layers.1.w2",
      "--out",
      "o.safetensors",
      "--seqlen",
      "16",
      "--nsamples",
      "2",
    ],
    {
      "--model": MODELS,
      "--calib": TEXTS,
      "--layer": LAYERS,
      "--seqlen": COUNTS,
      "--nsamples": COUNTS,
      "--seed": ["0", "1", "-1", "1e20", ""],
      "--out": OUTPUTS,
    },
    (run, output) => {
      assert.equal(run.code, 0);
      if (run.out.startsWith("deno task extract-layer")) return; // --help
      const file = readSafetensors(output!);
      const [rows, cols] = file.info("weight").shape;
      const [tokens, inputCols] = file.info("inputs").shape;
      assert.equal(inputCols, cols);
      assert.match(
        run.out,
        new RegExp(`weight \\[${rows}, ${cols}\\].*inputs \\[${tokens}, ${cols}\\]`),
      );
      assert.equal(tokens, Number(file.metadata.nsamples) * Number(file.metadata.seqlen));
    },
    dir,
    tokenizer,
  );
}
