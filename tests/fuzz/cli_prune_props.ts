/**
 * Fuzz target `cli/prune`: arbitrary argv arrays given to `scripts/prune.ts`'s exported
 * `main(argv, io)` in process, on tiny fixtures so that a successful run takes milliseconds.
 *
 * Fixtures (written into the scratch folder): a llama2.c model (dim 8, 2 blocks, vocab 512 so that
 * `tok512.bin` fits, seq_len 32) and the same model as an HF folder; broken models (truncated,
 * empty, a NaN weight, vocab 16 against a 512-token tokenizer, an HF folder whose config.json is
 * cut); calibration and evaluation texts (jsonl, plain, a jsonl with a bad line, one with no
 * `text`, empty, too short for one window); an existing output file and folder; an empty folder.
 * The tokenizer is the real `tok512.bin` (read from `../shared`, never copied); other files are
 * given as tokenizers too.
 *
 * The argv is mostly a valid command with small sizes (`--nsamples`, `--seqlen`,
 * `--eval-tokens`, `--workers 1`), with fixtures swapped for broken ones, one element dropped and
 * up to two hostile flag/value pairs appended (every flag of the CLI, with bad numbers, patterns,
 * methods, select modes, sweeps, and output paths that exist, are inputs, or are folders); or the
 * valid paths followed by a random list of such pairs.
 *
 * A case passes under the contract of `cli_harness.ts` (exit 0, or exit 2 with one error line;
 * fixtures unchanged unless an existing output was replaced with `--force`; no temporary file).
 * An exit-0 run must also have printed the dense and pruned perplexity (or the comparison table,
 * or the usage), and every output it was asked for must parse: the report is JSON with a numeric
 * `dense.ppl`, the page is one HTML document, and the `--out` folder is an HF Llama model of the
 * input's shape whose masks are 0/1, zero exactly where the weights were pruned, at the printed
 * sparsity.
 *
 * @module
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { main as pruneMain } from "../../scripts/prune.ts";
import { METHOD_FLAGS } from "../../scripts/lib/method_flags.ts";
import { writeLlama2c } from "../../src/io/llama2c.ts";
import { llamaFromHf, llamaToHf } from "../../src/io/hf_llama.ts";
import { readSafetensors, writeSafetensors } from "../../src/io/safetensors.ts";
import { tinyLlama } from "../../src/model/llama.ts";
import { methodNames, METHODS } from "../../src/prune/methods.ts";
import type { FuzzTarget } from "./outcome.ts";
import {
  type CliRun,
  type FixtureDir,
  type FixtureFiles,
  runCliCase,
  writeFixtures,
} from "./cli_harness.ts";

/** The fixture model: vocab 512 for tok512.bin, everything else as small as a Llama can be. */
export const FIXTURE_MODEL = {
  seed: 7,
  vocabSize: 512,
  seqLen: 32,
  dim: 8,
  hiddenDim: 16,
  nLayers: 2,
} as const;

const enc = new TextEncoder();
const STORY =
  "Once upon a time, there was a little girl named Lily. She loved to play outside in " +
  "the sunshine. One day, she saw a big red ball in the park. She ran to it and kicked it high " +
  "into the sky. The ball came down in a tree, and her friend Tom helped her get it back. ";
const CALIB_DOCS = [
  "The cat sat on the mat and looked at the little bird in the garden.",
  "Tom had a toy car. He liked to race it down the hill with his dog, who barked and ran.",
  "A small boat sailed across the lake while the sun went down behind the green hills.",
];

/** The fixture files (paths relative to the scratch folder). */
export function pruneFixtures(): FixtureFiles {
  const weights = tinyLlama(FIXTURE_MODEL);
  const model = writeLlama2c(weights);
  const withNan = tinyLlama(FIXTURE_MODEL);
  withNan.blocks[1].w2.data[5] = Number.NaN;
  const withInf = tinyLlama(FIXTURE_MODEL);
  withInf.blocks[0].wq.data[3] = Number.POSITIVE_INFINITY;
  const overflow = tinyLlama(FIXTURE_MODEL); // finite weights; block 1's MLP overflows float32
  overflow.blocks[1].rmsFfn = overflow.blocks[1].rmsFfn.map((g) => g * 1e30);
  const hf = llamaToHf(weights);
  const hfTensors = writeSafetensors(hf.entries, hf.metadata);
  const jsonl = (docs: unknown[]) =>
    enc.encode(docs.map((d) => JSON.stringify(d)).join("\n") + "\n");
  return {
    "model.bin": model,
    "nan.bin": writeLlama2c(withNan),
    "inf.bin": writeLlama2c(withInf),
    "overflow.bin": writeLlama2c(overflow),
    "vocab16.bin": writeLlama2c(tinyLlama({ ...FIXTURE_MODEL, vocabSize: 16 })),
    "truncated.bin": model.subarray(0, model.length - 10),
    "empty.bin": new Uint8Array(0),
    "hf": null,
    "hf/config.json": enc.encode(JSON.stringify(hf.config, null, 2)),
    "hf/model.safetensors": hfTensors,
    "hf-bad": null,
    "hf-bad/config.json": enc.encode('{"model_type": "llama", "hidden_size": 8,'),
    "hf-bad/model.safetensors": hfTensors,
    "calib.jsonl": jsonl(CALIB_DOCS.map((text, i) => ({ text, url: `doc${i}` }))),
    "calib.txt": enc.encode(CALIB_DOCS.join("\n\n")),
    "bad.jsonl": enc.encode(`{"text": "fine"}\n{"text": "cut\n{"text": "fine"}\n`),
    "notext.jsonl": jsonl([{ text: "a document" }, { body: "no text field" }]),
    "empty.txt": new Uint8Array(0),
    "short.txt": enc.encode("Hi."),
    "eval.txt": enc.encode(STORY + STORY.toUpperCase()),
    "exists.json": enc.encode("keep me"),
    "exists": null,
    "exists/config.json": enc.encode("keep me too"),
    "folder": null,
  };
}

/** The flags naming the run's inputs (which no output may replace, even with `--force`). */
const INPUT_FLAGS = ["--model", "--tokenizer", "--calib", "--eval"];

/** The flags that name files or folders. */
const PATH_FLAGS = ["model", "tokenizer", "calib", "eval", "out", "report", "html"] as const;

/**
 * Paths per flag (names in the fixture folder, or the tokenizer's path): valid ones, and bad ones
 * (`missing*` and `no/such/*` do not exist; outputs that exist, are inputs or are folders).
 */
function paths(
  tokenizer: string,
): Record<(typeof PATH_FLAGS)[number], Record<"valid" | "bad", string[]>> {
  return {
    model: {
      valid: ["model.bin", "hf"],
      bad: [
        "nan.bin",
        "inf.bin",
        "overflow.bin",
        "vocab16.bin",
        "truncated.bin",
        "empty.bin",
        "folder",
        "missing.bin",
        "hf-bad",
        "eval.txt",
      ],
    },
    tokenizer: {
      valid: [tokenizer],
      bad: ["model.bin", "calib.jsonl", "empty.bin", "folder", "missing.bin"],
    },
    calib: {
      valid: ["calib.jsonl", "calib.txt", "eval.txt"],
      bad: ["bad.jsonl", "notext.jsonl", "empty.txt", "short.txt", "folder", "missing.txt"],
    },
    eval: {
      valid: ["eval.txt", "calib.jsonl"],
      bad: ["empty.txt", "short.txt", "bad.jsonl", "folder", "missing.txt", "model.bin"],
    },
    out: {
      valid: ["pruned", "folder", "no/such/pruned"],
      bad: ["exists", "exists.json", "hf", "model.bin"],
    },
    report: {
      valid: ["report.json"],
      bad: [
        "exists.json",
        "folder",
        "eval.txt",
        "hf/config.json",
        "pruned/config.json",
        "no/such/r",
      ],
    },
    html: {
      valid: ["page.html"],
      bad: ["report.json", "exists.json", "folder", "calib.jsonl", "pruned/model.safetensors"],
    },
  };
}

/**
 * Values of the non-path flags: valid ones, then hostile ones. No value asks for a long run
 * (`--iterations`/`--updates` stay small): that is the user's request, not a malformed input.
 */
const VALUES: Record<string, string[]> = {
  method: [...methodNames(), "nope", "", "Wanda"],
  sparsity: ["0", "0.5", "0.9", "0.99", ".3", "1", "-1", "1.5", "NaN", "1e400", "-0", "", "abc"],
  pattern: ["2:4", "4:8", "1:1", "1:2", "0:4", "5:4", "a:b", "2:3", "16:32", "2:4:8", "", " 2:4"],
  group: ["row", "layer", "column", ""],
  select: ["sort", "ewma", "ewma-exact", "bogus", ""],
  "warm-start": ["wanda", "sparsegpt", "magnitude", ""],
  "x-stat": ["norm", "token", "mean", "max", ""],
  eps: ["1e-8", "0.5", "0", "-1", "NaN", ""],
  methods: ["wanda,magnitude", "fista", "wanda,wanda", "nope", ""],
  sweep: ["0.2,0.7", "0.5", "0,0.9", "0.7,0.2,0.7", "", "a", "1.5", "0.2,,0.3", "-0.1", "NaN"],
  nsamples: ["1", "2", "4", "0", "-1", "1.5", "NaN", "1e400", "1e9", "1e20", "", "abc"],
  seqlen: ["2", "4", "16", "32", "33", "64", "0", "1", "-1", "1.5", "1e9", "NaN", "", "0x10"],
  "eval-tokens": ["2", "16", "64", "1000", "1e15", "0", "1", "-5", "2.5", "NaN", ""],
  seed: ["0", "1", "42", "1e20", "-1", "0.5", "NaN", ""],
  workers: ["1", "2", "0", "-1", "1.5", "1e9", "1e20", "NaN", "", "abc"],
  kernels: ["ts", "simd", "", "gpu", "SIMD"],
  "report-rows": ["2", "16", "256", "all", "1", "0", "-3", "1.5", "ALL", "NaN", ""],
  blocksize: ["1", "4", "128", "1e15", "0", "-2", "1.5", "NaN", ""],
  damp: ["0", "0.01", "1", "1e300", "-1", "NaN", "Infinity", "", "x"],
  iterations: ["1", "2", "20", "0", "-1", "1.5", "NaN", ""],
  updates: ["1", "2", "3", "0", "-1", "2.5", "NaN", ""],
};
// a method option without values of its own above: its default, an empty and a junk value
for (const f of Object.keys(METHOD_FLAGS)) {
  VALUES[f] ??= [METHODS.flatMap((m) => m.options).find((o) => o.flag === f)!.default, "", "x"];
}
/** The boolean flags (`--debug` is handled by `runCli` before parsing). */
const BOOLEAN_FLAGS = [
  "dense-inputs",
  "intra-layer",
  "force",
  "compare",
  "quiet",
  "verbose",
  "help",
  "allow-nonfinite",
  "stream",
];
/** Every flag of `scripts/prune.ts` (its `--help` lists the same; the smoke test checks it). */
export const PRUNE_FLAGS: string[] = [
  ...PATH_FLAGS,
  ...Object.keys(VALUES),
  ...BOOLEAN_FLAGS,
  "debug",
];

/** The CLI's flag table, to read back the values of a run that succeeded. */
const FLAG_TABLE = Object.fromEntries([
  ...[...PATH_FLAGS, ...Object.keys(VALUES)].map((f) => [f, { type: "string" as const }]),
  ...BOOLEAN_FLAGS.map((f) => [f, { type: "boolean" as const }]),
]);

/** A valid path `validWeight` times as often as a bad one. */
const weighted = ({ valid, bad }: Record<"valid" | "bad", string[]>, validWeight: number) =>
  fc.oneof(
    { weight: validWeight, arbitrary: fc.constantFrom(...valid) },
    { weight: 1, arbitrary: fc.constantFrom(...bad) },
  );
const maybe = (weight: number, argv: fc.Arbitrary<string[]>) =>
  fc.oneof({ weight: 100 - weight, arbitrary: fc.constant([]) }, { weight, arbitrary: argv });

/** An argv: a valid command with edits, or the valid paths and a random list of pairs. */
function argvArb(fixtures: FixtureDir, tokenizer: string): fc.Arbitrary<string[]> {
  const p = paths(tokenizer);
  const at = (name: string) => name === tokenizer ? name : fixtures.path(name);
  const pair = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(...PATH_FLAGS).chain((f) =>
        fc.constantFrom(...p[f].valid, ...p[f].bad).map((v) => [`--${f}`, at(v)])
      ),
    },
    {
      weight: 8,
      arbitrary: fc.constantFrom(...Object.keys(VALUES)).chain((f) =>
        fc.tuple(
          fc.oneof(
            { weight: 6, arbitrary: fc.constantFrom(...VALUES[f]) },
            { weight: 1, arbitrary: fc.string({ maxLength: 5 }) },
          ),
          fc.boolean(),
        ).map(([v, joined]) =>
          // `--flag -1` is refused by parseArgs as ambiguous: `--flag=-1` reaches the CLI's checks
          joined || v.startsWith("-") ? [`--${f}=${v}`] : [`--${f}`, v]
        )
      ),
    },
    { weight: 3, arbitrary: fc.constantFrom(...BOOLEAN_FLAGS, "debug").map((f) => [`--${f}`]) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ["--bogus"],
        ["-x"],
        ["positional"],
        ["--sparsity=0.5"],
        ["--method=wanda"],
        ["--"],
        ["--no-quiet"],
        ["--seqlen=-1"],
      ),
    },
  );
  const inputs = fc.tuple(
    weighted(p.model, 12),
    weighted(p.tokenizer, 20),
    weighted(p.calib, 12),
    weighted(p.eval, 12),
  ).map(([model, tok, calib, evalText]) => [
    ...["--model", at(model), "--tokenizer", at(tok)],
    ...["--calib", at(calib), "--eval", at(evalText)],
  ]);
  const size = (flag: string, values: string[]) =>
    fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...values).map((v) => [flag, v]) }, {
      weight: 1,
      arbitrary: fc.constant([]),
    });
  const outputs = fc.tuple(
    maybe(8, weighted(p.out, 2).map((o) => ["--out", at(o)])),
    maybe(10, weighted(p.report, 2).map((o) => ["--report", at(o)])),
    maybe(5, weighted(p.html, 2).map((o) => ["--html", at(o)])),
    maybe(30, fc.constant(["--force"])),
  ).map((parts) => parts.flat());
  const options = fc.tuple(
    fc.constantFrom(...methodNames()).map((m) => ["--method", m]),
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom("0.5", "0.3", "0.9", "0").map((s) => ["--sparsity", s]),
      },
      { weight: 1, arbitrary: fc.constantFrom("2:4", "1:2", "4:8").map((n) => ["--pattern", n]) },
      { weight: 1, arbitrary: fc.constant([]) },
    ),
    size("--nsamples", ["1", "2", "3", "4"]),
    size("--seqlen", ["4", "8", "16", "32"]),
    size("--eval-tokens", ["16", "32", "64", "100"]),
    fc.oneof(
      { weight: 60, arbitrary: fc.constant(["--workers", "1"]) },
      { weight: 1, arbitrary: fc.constant(["--workers", "2"]) },
    ),
    maybe(70, fc.constant(["--quiet"])),
    maybe(5, fc.constant(["--compare"])),
    maybe(5, fc.constantFrom("0.2,0.7", "0.5").map((s) => ["--sweep", s])),
    maybe(10, fc.constantFrom("sort", "ewma", "ewma-exact").map((s) => ["--select", s])),
    maybe(
      10,
      fc.constantFrom("--dense-inputs", "--intra-layer", "--verbose", "--allow-nonfinite").map((
        f,
      ) => [f]),
    ),
  ).map((parts) => parts.flat());
  const edited = fc.record({
    inputs,
    options,
    outputs,
    drop: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, {
      weight: 1,
      arbitrary: fc.nat({ max: 19 }),
    }),
    extra: fc.oneof(
      { weight: 2, arbitrary: fc.constant([]) },
      { weight: 1, arbitrary: fc.array(pair, { minLength: 1, maxLength: 2 }) },
    ),
  }).map(({ inputs, options, outputs, drop, extra }) => {
    const rest = [...options, ...outputs];
    if (drop !== undefined) rest.splice(drop % rest.length, 1);
    return [...inputs, ...rest, ...extra.flat()];
  });
  const random = fc.array(pair, { maxLength: 8 }).map((pairs) => [
    ...["--model", at("model.bin"), "--tokenizer", tokenizer],
    ...["--calib", at("calib.jsonl"), "--eval", at("eval.txt"), "--workers", "1"],
    ...pairs.flat(),
  ]);
  return fc.oneof({ weight: 3, arbitrary: edited }, { weight: 1, arbitrary: random });
}

/** What a successful run wrote, read before the folder is reset. */
interface PruneOutputs {
  run: CliRun;
  flags: Record<string, string | boolean | undefined>;
  files: Record<string, Uint8Array>;
}

/** Reads the outputs the flags asked for (those that exist). */
function readOutputs(flags: PruneOutputs["flags"]): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const out = typeof flags.out === "string" ? flags.out : undefined;
  const wanted = [
    ["report", flags.report],
    ["html", flags.html],
    ...(out
      ? ["config.json", "model.safetensors", "masks.safetensors"].map((n) => [n, join(out, n)])
      : []),
  ];
  for (const [key, path] of wanted) {
    if (typeof path !== "string") continue;
    try {
      files[key as string] = new Uint8Array(readFileSync(path));
    } catch { /* missing: check() fails it */ }
  }
  return files;
}

/** The HF folder written by `--out`: the input's shape; masks 0/1, zero where weights are. */
function checkHfOut(files: Record<string, Uint8Array>, printed: string): void {
  const config = JSON.parse(new TextDecoder().decode(files["config.json"]));
  const weights = readSafetensors(files["model.safetensors"]);
  const c = llamaFromHf(config, weights).config;
  assert.deepEqual(
    [c.dim, c.hiddenDim, c.nLayers, c.vocabSize],
    [FIXTURE_MODEL.dim, FIXTURE_MODEL.hiddenDim, FIXTURE_MODEL.nLayers, FIXTURE_MODEL.vocabSize],
  );
  const masks = readSafetensors(files["masks.safetensors"]);
  let pruned = 0, total = 0;
  for (const name of masks.names) {
    const mask = masks.raw(name), w = weights.float32(name);
    assert.equal(mask.length, w.length, name);
    for (let i = 0; i < mask.length; i++) {
      assert.ok(mask[i] === 0 || mask[i] === 1, `${name}: mask value ${mask[i]}`);
      if (mask[i] === 0) assert.equal(w[i], 0, `${name}[${i}] pruned but ${w[i]}`);
    }
    pruned += mask.length - mask.reduce((s, m) => s + m, 0);
    total += mask.length;
  }
  assert.equal(masks.names.length, 7 * FIXTURE_MODEL.nLayers);
  const sparsity = Number(/pruned ppl .*sparsity ([\d.]+)%/.exec(printed)?.[1]);
  assert.ok(
    Math.abs((100 * pruned) / total - sparsity) <= 0.005 + 1e-9,
    `masks ${pruned}/${total}`,
  );
}

/**
 * `cli/prune`: arbitrary argv arrays to `scripts/prune.ts` `main`.
 *
 * @param dir A scratch folder for the fixtures and outputs (reset after each case).
 * @param tokenizer Path of `tok512.bin` (a 512-token llama2.c tokenizer).
 */
export function pruneCli(dir: string, tokenizer: string): FuzzTarget<string[], PruneOutputs> {
  const fixtures = writeFixtures(dir, pruneFixtures());
  return {
    name: "cli/prune",
    parser: "cli flags",
    arbitrary: argvArb(fixtures, tokenizer),
    parse: (argv) =>
      runCliCase(pruneMain, fixtures, argv, INPUT_FLAGS, (run) => {
        const args = argv.filter((a) => a !== "--debug"); // runCli takes it out before parsing
        const { values } = parseArgs({ args, options: FLAG_TABLE, strict: true });
        const flags = values as PruneOutputs["flags"];
        return { run, flags, files: readOutputs(flags) };
      }),
    check(_argv, { run, flags, files }) {
      if (flags.help) {
        assert.match(run.out, /^deno task prune /);
        return;
      }
      // a model with NaN or infinity pruned anyway (--allow-nonfinite) has a NaN perplexity
      const nonfinite = flags["allow-nonfinite"] === true;
      const ppl = nonfinite ? String.raw`(\d|NaN|Infinity)` : String.raw`\d`;
      assert.match(run.out, new RegExp(`^dense {2}ppl ${ppl}`, "m"), run.out);
      const methods = typeof flags.methods === "string" ? flags.methods.split(",") : methodNames();
      assert.match(
        run.out,
        new RegExp(flags.compare ? `^${methods.at(-1)} +${ppl}` : `^pruned ppl ${ppl}`, "m"),
        run.out,
      );
      if (typeof flags.report === "string") {
        const report = JSON.parse(new TextDecoder().decode(files.report));
        const isPpl = (v: unknown) => typeof v === "number" || (nonfinite && v === null); // NaN
        assert.ok(isPpl(report.dense.ppl), `report dense.ppl ${report.dense.ppl}`);
        if (flags.compare) assert.equal(report.methods.length, methods.length);
        else assert.ok(isPpl(report.pruned.ppl), `report pruned.ppl ${report.pruned.ppl}`);
      }
      if (typeof flags.html === "string") {
        const html = new TextDecoder().decode(files.html);
        assert.match(html, /^<!DOCTYPE html>\n[^]*<\/html>\n?$/);
      }
      if (typeof flags.out === "string") checkHfOut(files, run.out);
    },
    show: (argv) => JSON.stringify(argv),
    // --compare --sweep runs all five methods at several sparsities: 10 s on 2 cores, not a hang
    slowCaseMs: 60_000,
  };
}
