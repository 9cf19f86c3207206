/**
 * Writes `docs/hostile-inputs.md`: every kind of bad input tried, run for real, with the error it
 * produced (type and message). Regenerate with
 * `deno run --allow-read --allow-write=out/hostile tests/fuzz/hostile_table.ts > docs/hostile-inputs.md`.
 *
 * @module
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import process from "node:process";
import { join } from "node:path";
import { openSafetensors, readSafetensors, writeSafetensors } from "../../src/io/safetensors.ts";
import { readLlama2c, writeLlama2c } from "../../src/io/llama2c.ts";
import { decode, encode, readTokenizer } from "../../src/io/tokenizer.ts";
import { parseHfLlamaConfig } from "../../src/io/hf_llama_config.ts";
import { main as pruneLayer } from "../../scripts/prune-layer.ts";
import { main as pruneModel } from "../../scripts/prune.ts";
import { VALID_CONFIG } from "./config_props.ts";
import { writeTokenizerFile } from "./tokenizer_props.ts";
import { type CliMain, runMain, writeFixtures } from "./cli_harness.ts";
import { pruneFixtures } from "./cli_prune_props.ts";
import { BASE_FILE_PATHS } from "./targets.ts";

type Row = [kind: string, run: () => unknown];
const enc = new TextEncoder();

/** A safetensors file with this header text and `data` bytes of data. */
function st(header: string, data = 0, length?: bigint): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + data);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(h.length), true);
  out.set(h, 8);
  return out;
}
const t = (dtype: string, shape: string, offsets: string) =>
  `{"dtype":${dtype},"shape":${shape},"data_offsets":${offsets}}`;

/** A legacy llama2.c file: these 7 header ints, then `floats` zero floats. */
function l2c(ints: number[], floats: number): Uint8Array {
  const out = new Uint8Array(28 + 4 * floats);
  out.set(new Uint8Array(new Int32Array(ints).buffer));
  return out;
}
const OK_FLOATS = 3 * 4 + (2 * 4 + 4 * 16 + 3 * 32) + 4; // dim 4, hidden 8, 1 layer, 2+2 heads, vocab 3
function ak42(version: number, flag: number, length = 256): Uint8Array {
  const out = new Uint8Array(length), view = new DataView(out.buffer);
  view.setUint32(0, 0x616b3432, true);
  view.setInt32(4, version, true);
  [4, 8, 1, 2, 2, 3, 2].forEach((v, i) => view.setInt32(8 + 4 * i, v, true));
  out[36] = flag;
  return out;
}
const tok = (max: number, pieces: [number, string | Uint8Array, number?][]) =>
  writeTokenizerFile(
    max,
    pieces.map(([score, s, len]) => ({
      score,
      piece: typeof s === "string" ? enc.encode(s) : s,
      lengthOverride: len,
    })),
  );
const cfg = (edit: Record<string, unknown>) => ({ ...VALID_CONFIG, ...edit });

const SAFETENSORS: Row[] = [
  ["file shorter than the 8-byte length", () => readSafetensors(new Uint8Array(5))],
  ["header length past the end of the file", () => readSafetensors(st("{}", 0, 1000n))],
  ["huge header length (100,000,001)", () => readSafetensors(st("{}", 0, 100_000_001n))],
  ["header length 2^64 - 1", () => readSafetensors(st("{}", 0, 2n ** 64n - 1n))],
  [
    "header not UTF-8",
    () => readSafetensors(Uint8Array.from([...st("{}")].map((b, i) => i === 9 ? 0xff : b))),
  ],
  ["header not JSON (cut)", () => readSafetensors(st('{"a":{"dtype":"F32"'))],
  ["header not starting with {", () => readSafetensors(st(' {"a":1}'))],
  ["header a JSON string", () => readSafetensors(st('"{}"'))],
  ["unknown dtype", () => readSafetensors(st(`{"a":${t('"F4"', "[1]", "[0,1]")}}`, 1))],
  ["dtype not a string", () => readSafetensors(st(`{"a":${t("4", "[1]", "[0,4]")}}`, 4))],
  ["shape not integers", () => readSafetensors(st(`{"a":${t('"F32"', '["2"]', "[0,8]")}}`, 8))],
  ["negative shape", () => readSafetensors(st(`{"a":${t('"F32"', "[-1]", "[0,4]")}}`, 4))],
  ["negative offset", () => readSafetensors(st(`{"a":${t('"F32"', "[1]", "[-4,0]")}}`, 4))],
  ["non-integer offset", () => readSafetensors(st(`{"a":${t('"F32"', "[1]", "[0.5,4.5]")}}`, 8))],
  ["offsets not [begin, end]", () => readSafetensors(st(`{"a":${t('"F32"', "[1]", "[0]")}}`, 4))],
  ["begin after end", () => readSafetensors(st(`{"a":${t('"F32"', "[0]", "[4,0]")}}`, 4))],
  [
    "offset past the data (truncated file)",
    () => readSafetensors(st(`{"a":${t('"F32"', "[2]", "[0,8]")}}`, 5)),
  ],
  [
    "overlapping tensors",
    () =>
      readSafetensors(
        st(`{"a":${t('"F32"', "[2]", "[0,8]")},"b":${t('"F32"', "[1]", "[4,8]")}}`, 8),
      ),
  ],
  [
    "shape x dtype not matching the bytes",
    () => readSafetensors(st(`{"a":${t('"F16"', "[3]", "[0,4]")}}`, 4)),
  ],
  [
    "shape product past 2^53",
    () => readSafetensors(st(`{"a":${t('"U8"', "[4294967296,4294967296]", "[0,0]")}}`)),
  ],
  [
    "duplicate tensor names",
    () =>
      readSafetensors(st(`{"a":${t('"U8"', "[1]", "[0,1]")},"a":${t('"U8"', "[1]", "[1,2]")}}`, 2)),
  ],
  ["__metadata__ not an object", () => readSafetensors(st('{"__metadata__":[1]}'))],
  ["__metadata__ value not a string", () => readSafetensors(st('{"__metadata__":{"format":1}}'))],
  [
    "float32() of a U8 tensor",
    () => readSafetensors(st(`{"a":${t('"U8"', "[1]", "[0,1]")}}`, 1)).float32("a"),
  ],
  ["unknown tensor name", () => readSafetensors(st("{}")).float32("weight")],
  ["streaming: the file shrinks after open", async () => {
    const bytes = writeSafetensors([{
      name: "w",
      dtype: "F32",
      shape: [4],
      data: new Float32Array(4),
    }]);
    const headerEnd = bytes.length - 16; // reads of the tensor come back 3 bytes short
    const read = (at: number, n: number) =>
      Promise.resolve(bytes.slice(at, at + (at >= headerEnd ? n - 3 : n)));
    return (await openSafetensors({ size: bytes.length, read })).float32("w");
  }],
];

const LLAMA2C: Row[] = [
  ["file shorter than the 28-byte header", () => readLlama2c(new Uint8Array(10))],
  ["dim zero", () => readLlama2c(l2c([0, 8, 1, 2, 2, 3, 2], OK_FLOATS))],
  ["negative n_layers", () => readLlama2c(l2c([4, 8, -1, 2, 2, 3, 2], OK_FLOATS))],
  ["n_heads not dividing dim", () => readLlama2c(l2c([4, 8, 1, 3, 3, 3, 2], OK_FLOATS))],
  ["n_kv_heads not dividing n_heads", () => readLlama2c(l2c([8, 8, 1, 4, 3, 3, 2], OK_FLOATS))],
  ["odd head size", () => readLlama2c(l2c([6, 8, 1, 2, 2, 3, 2], OK_FLOATS))],
  [
    "size one float short of the header",
    () => readLlama2c(l2c([4, 8, 1, 2, 2, 3, 2], OK_FLOATS - 1)),
  ],
  [
    "huge header values (dim 2^31 - 2)",
    () => readLlama2c(l2c([0x7ffffffe, 8, 1, 2, 2, 3, 2], OK_FLOATS)),
  ],
  ["vocab_size -2^31", () => readLlama2c(l2c([4, 8, 1, 2, 2, -0x80000000, 2], OK_FLOATS))],
  ["ak42 version 2 (quantized)", () => readLlama2c(ak42(2, 1))],
  ["ak42 shared_classifier flag 7", () => readLlama2c(ak42(1, 7))],
  ["ak42 header shorter than 256 bytes", () => readLlama2c(ak42(1, 1, 100))],
  ["ak42 with a wrong size", () => readLlama2c(ak42(1, 1))],
  [
    "writing seq_len 2^31 - 1 (no RoPE tables in the input)",
    () => writeLlama2c(readLlama2c(l2c([4, 8, 1, 2, 2, 3, 0x7fffffff], OK_FLOATS))),
  ],
];

const TOKENIZER: Row[] = [
  ["file shorter than 4 bytes", () => readTokenizer(new Uint8Array(2))],
  ["max_token_length zero", () => readTokenizer(tok(0, [[0, "a"]]))],
  ["max_token_length negative", () => readTokenizer(tok(-5, [[0, "a"]]))],
  ["token length negative", () => readTokenizer(tok(4, [[0, "a", -1]]))],
  ["token longer than max_token_length", () => readTokenizer(tok(1, [[0, "abc"]]))],
  ["token running past the end", () => readTokenizer(tok(9, [[0, "a", 9]]))],
  ["truncated token header", () => readTokenizer(tok(4, [[0, "a"]]).subarray(0, 9))],
  [
    "encode: character with no byte-fallback token",
    () => encode(readTokenizer(tok(4, [[0, "a"]])), "b", { bos: false, eos: false }),
  ],
  ["decode: id out of range", () => decode(readTokenizer(tok(4, [[0, "a"]])), [3])],
];

const CONFIG: Row[] = [
  ["not JSON", () => parseHfLlamaConfig('{"model_type": "llama",')],
  ["duplicate key", () => parseHfLlamaConfig('{"model_type": "llama", "model_type": "llama"}')],
  ["not an object", () => parseHfLlamaConfig([1, 2])],
  ["model_type missing", () => parseHfLlamaConfig({ hidden_size: 64 })],
  ["model_type gpt2", () => parseHfLlamaConfig(cfg({ model_type: "gpt2" }))],
  ["hidden_size missing", () => parseHfLlamaConfig(cfg({ hidden_size: undefined }))],
  ["hidden_size a string", () => parseHfLlamaConfig(cfg({ hidden_size: "64" }))],
  ["hidden_size zero", () => parseHfLlamaConfig(cfg({ hidden_size: 0 }))],
  ["num_hidden_layers 1.5", () => parseHfLlamaConfig(cfg({ num_hidden_layers: 1.5 }))],
  ["vocab_size 2^53 + 2", () => parseHfLlamaConfig(cfg({ vocab_size: 2 ** 53 + 2 }))],
  ["heads not dividing hidden_size", () => parseHfLlamaConfig(cfg({ num_attention_heads: 7 }))],
  ["kv heads not dividing heads", () => parseHfLlamaConfig(cfg({ num_key_value_heads: 3 }))],
  ["rms_norm_eps negative", () => parseHfLlamaConfig(cfg({ rms_norm_eps: -1e-5 }))],
  [
    "rope_scaling of a type not implemented",
    () => parseHfLlamaConfig(cfg({ rope_scaling: { type: "yarn", factor: 2 } })),
  ],
  ["hidden_act gelu", () => parseHfLlamaConfig(cfg({ hidden_act: "gelu" }))],
  ["tie_word_embeddings a string", () => parseHfLlamaConfig(cfg({ tie_word_embeddings: "yes" }))],
  ["head_dim odd", () => parseHfLlamaConfig(cfg({ head_dim: 7 }))],
  ["sliding-window attention", () => parseHfLlamaConfig(cfg({ use_sliding_window: true }))],
];

/** Runs a CLI in process; the exit status and the error line it printed (temp names masked). */
async function run(main: CliMain, argv: string[]): Promise<string> {
  const { code, err } = await runMain(main, argv);
  const line = err.trim().replaceAll(process.cwd() + "/", "");
  return `exit ${code}: ${line.replace(/\.\d+\.[0-9a-f]{12}\.tmp/g, ".PID.RANDOM.tmp")}`;
}
const cli = (argv: string[]) => run(pruneLayer, argv);

function cliRows(dir: string): [string, () => Promise<string>][] {
  const weight = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i + 1));
  const layer = (w: Float32Array, dtype: "F32" | "U8" = "F32") =>
    writeSafetensors([{
      name: "weight",
      dtype,
      shape: [4, 8],
      data: dtype === "U8" ? new Uint8Array(32) : w,
    }, {
      name: "col_norms",
      dtype: "F32",
      shape: [8],
      data: new Float32Array(8).fill(1),
    }]);
  const nan = weight.slice();
  nan[13] = NaN;
  const files: Record<string, Uint8Array> = {
    "layer.safetensors": layer(weight),
    "nan.safetensors": layer(nan),
    "u8.safetensors": layer(weight, "U8"),
    "truncated.safetensors": layer(weight).subarray(0, 100),
    "exists.safetensors": enc.encode("results"),
    "noweight.safetensors": writeSafetensors([{
      name: "w",
      dtype: "F32",
      shape: [1],
      data: new Float32Array(1),
    }]),
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  mkdirSync(join(dir, "folder"));
  const p = (name: string) => join(dir, name);
  const base = (
    input: string,
    out = "o.safetensors",
  ) => ["--in", p(input), "--out", p(out), "--method", "wanda"];
  const S = ["--sparsity", "0.5"];
  return [
    ["unknown flag", () => cli([...base("layer.safetensors"), ...S, "--bogus"])],
    ["--in missing", () => cli(["--out", p("o.safetensors"), "--method", "wanda", ...S])],
    ["--sparsity 1.5", () => cli([...base("layer.safetensors"), "--sparsity", "1.5"])],
    ["--sparsity abc", () => cli([...base("layer.safetensors"), "--sparsity", "abc"])],
    ["--pattern 2:3 on 8 columns", () => cli([...base("layer.safetensors"), "--pattern", "2:3"])],
    [
      "--method unknown",
      () => cli(["--in", p("layer.safetensors"), "--out", p("o"), "--method", "obs", ...S]),
    ],
    [
      "--iterations 0 (fista)",
      () => cli([...base("layer.safetensors"), ...S, "--method", "fista", "--iterations", "0"]),
    ],
    ["input file missing", () => cli([...base("missing.safetensors"), ...S])],
    ["input is a folder", () => cli([...base("folder"), ...S])],
    ["input truncated", () => cli([...base("truncated.safetensors"), ...S])],
    ["input without a weight tensor", () => cli([...base("noweight.safetensors"), ...S])],
    ["weight of dtype U8", () => cli([...base("u8.safetensors"), ...S])],
    ["NaN in the weight", () => cli([...base("nan.safetensors"), ...S])],
    [
      "NaN in the weight, --allow-nonfinite",
      () => cli([...base("nan.safetensors"), ...S, "--allow-nonfinite"]),
    ],
    [
      "output exists, no --force",
      () => cli([...base("layer.safetensors", "exists.safetensors"), ...S]),
    ],
    [
      "--out equal to --in (with --force)",
      () => cli([...base("layer.safetensors", "layer.safetensors"), ...S, "--force"]),
    ],
    [
      "output is a folder (with --force)",
      () => cli([...base("layer.safetensors", "folder"), ...S, "--force"]),
    ],
    ["output folder missing", () => cli([...base("layer.safetensors", "no/o.safetensors"), ...S])],
  ];
}

/** `deno task prune` on the `cli/prune` fuzz target's tiny fixtures (written into `dir`). */
function pruneRows(dir: string): [string, () => Promise<string>][] {
  const p = writeFixtures(dir, pruneFixtures()).path;
  const inputs = (model = "model.bin", calib = "calib.jsonl", evalText = "eval.txt") => [
    ...["--model", p(model), "--tokenizer", BASE_FILE_PATHS.tokenizer],
    ...["--calib", p(calib), "--eval", p(evalText)],
  ];
  const small = ["--nsamples", "2", "--seqlen", "16", "--workers", "1", "--quiet"];
  const ok = (...extra: string[]) => () => run(pruneModel, [...inputs(), ...small, ...extra]);
  const file = (flag: "model" | "calib" | "eval", name: string, ...extra: string[]) => () => {
    const args = flag === "model"
      ? inputs(name)
      : flag === "calib"
      ? inputs(undefined, name)
      : inputs(undefined, undefined, name);
    return run(pruneModel, [...args, ...small, ...extra]);
  };
  const tokenizer = (name: string) => () =>
    run(pruneModel, [...inputs(), ...small, "--tokenizer", p(name)]);
  return [
    ["unknown flag", ok("--bogus")],
    [
      "model that overflows on the calibration text (finite weights)",
      file("model", "overflow.bin"),
    ],
    [
      "the same with --allow-nonfinite, SwiftPrune (NaN scores)",
      file("model", "overflow.bin", "--allow-nonfinite"),
    ],
    ["--sparsity 1.5", ok("--sparsity", "1.5")],
    ["--sparsity NaN", ok("--sparsity", "NaN")],
    ["--sparsity=-1", ok("--sparsity=-1")],
    ["--sparsity -1 (a value that looks like a flag)", ok("--sparsity", "-1")],
    ["--pattern 0:4", ok("--pattern", "0:4")],
    ["--pattern 5:4", ok("--pattern", "5:4")],
    ["--pattern a:b", ok("--pattern", "a:b")],
    ["--pattern 2:3 on 8 columns", ok("--pattern", "2:3")],
    ["--sparsity and --pattern", ok("--sparsity", "0.5", "--pattern", "2:4")],
    ["--method unknown", ok("--method", "obs")],
    ["--select unknown", ok("--select", "heap")],
    ["--group column", ok("--group", "column")],
    ["--nsamples 0", ok("--nsamples", "0")],
    ["--nsamples 1e9", ok("--nsamples", "1e9")],
    ["--seqlen 1", ok("--seqlen", "1")],
    ["--seqlen 1e9", ok("--seqlen", "1e9", "--nsamples", "1")],
    ["--seqlen 200 (longer than the calibration text)", ok("--seqlen", "200")],
    ["--eval-tokens 2.5", ok("--eval-tokens", "2.5")],
    ["--eval-tokens 8 (less than one window)", ok("--eval-tokens", "8")],
    ["--seed=-1", ok("--seed=-1")],
    ["--workers 0", ok("--workers", "0")],
    ["--workers 1e9", ok("--workers", "1e9")],
    ["--blocksize 0", ok("--blocksize", "0")],
    ["--damp=-1", ok("--damp=-1")],
    ["--iterations 1.5", ok("--iterations", "1.5")],
    ["--warm-start magnitude", ok("--warm-start", "magnitude")],
    ["--sweep 0.2,1.5", ok("--sweep", "0.2,1.5")],
    ["--sweep with --pattern", ok("--sweep", "0.2,0.7", "--pattern", "2:4")],
    ["--compare with --out", ok("--compare", "--out", p("pruned"))],
    ["--model missing", file("model", "missing.bin")],
    ["--model truncated llama2.c", file("model", "truncated.bin")],
    ["--model empty file", file("model", "empty.bin")],
    ["--model a text file", file("model", "eval.txt")],
    ["--model a folder without config.json", file("model", "folder")],
    ["--model HF folder, config.json cut", file("model", "hf-bad")],
    ["--model with a NaN weight", file("model", "nan.bin")],
    ["--model with an infinite weight", file("model", "inf.bin")],
    [
      "--model with an infinite weight, --allow-nonfinite",
      file("model", "inf.bin", "--allow-nonfinite"),
    ],
    ["--model vocab 16, tokenizer vocab 512", file("model", "vocab16.bin")],
    ["--tokenizer a model file", tokenizer("model.bin")],
    ["--tokenizer a jsonl file", tokenizer("calib.jsonl")],
    ["--tokenizer empty", tokenizer("empty.bin")],
    ["--tokenizer a folder", tokenizer("folder")],
    ["--calib jsonl with a bad line", file("calib", "bad.jsonl")],
    ["--calib jsonl line without text", file("calib", "notext.jsonl")],
    ["--calib empty", file("calib", "empty.txt")],
    ["--calib shorter than one window", file("calib", "short.txt")],
    ["--eval empty", file("eval", "empty.txt")],
    ["--eval shorter than one window", file("eval", "short.txt")],
    ["--eval missing", file("eval", "missing.txt")],
    ["--report exists, no --force", ok("--report", p("exists.json"))],
    ["--report equal to --eval (with --force)", ok("--report", p("eval.txt"), "--force")],
    ["--report is a folder (with --force)", ok("--report", p("folder"), "--force")],
    ["--report in a missing folder", ok("--report", p("no/such/report.json"))],
    ["--report and --html the same file", ok("--report", p("r.json"), "--html", p("r.json"))],
    [
      "--html a file of the --out folder",
      ok("--out", p("pruned"), "--html", p("pruned/model.safetensors")),
    ],
    ["--out an existing file (with --force)", ok("--out", p("exists.json"), "--force")],
    ["--out folder holding config.json, no --force", ok("--out", p("exists"))],
    [
      "--out the HF model folder read (with --force)",
      () => run(pruneModel, [...inputs("hf"), ...small, "--out", p("hf"), "--force"]),
    ],
  ];
}

/** Hand-written notes appended to the generated tables. */
const NOTES = [
  "## Bugs the fuzzing found (fixed, each with a regression test in `tests/fuzz_regressions_test.ts`)",
  "",
  "- `writeLlama2c` on a checkpoint whose header says `seq_len` 2^31 - 1 (a file without RoPE tables,",
  "  so the size check cannot bound it) allocated 17 GB and computed 4.3e9 cos/sin (minutes). It now",
  "  refuses RoPE tables larger than the weights before allocating (row above).",
  "- `readSafetensors(...).float32`, `readLlama2c` (and, harmlessly, `readTokenizer`) copied bytes with",
  "  `.slice()`, which on a Node `Buffer` (what `fs.readFile` returns on Node, Bun and Deno's `node:fs`)",
  "  is a view: the floats were read from the start of the whole underlying pool, wrong values of the",
  "  wrong length, silently. The fuzzer found it once inputs also came as Buffers; the same fix",
  "  landed on main independently (`src/io/bytes.ts` `copyBytes`), which is the code kept.",
  "- CLI: a missing output folder, a folder as output, or a path outside the granted permissions",
  "  exited 1 with the runtime's error; these are bad input and now exit 2 (`scripts/lib/cli.ts`).",
  "  Later: a missing output folder is created, and a folder as output is refused before the run,",
  "  naming the output rather than a temporary file (`scripts/lib/files.ts`).",
  "",
  "Found by the `cli/prune` target (fixed in `scripts/prune.ts`, regression tests in",
  "`tests/fuzz_cli_prune_test.ts`):",
  "",
  "- `--workers 1e9` created a pool of 1e9 slots: V8 ran out of memory and killed the process",
  "  (`--workers 1e11`: exit 2 with V8's `Invalid array length`, naming nothing). `--workers` is now",
  "  at most 256.",
  "- `--nsamples 1e9` drew 1e9 calibration windows up front: out of memory. The run is now refused",
  "  before anything is allocated when one block's captured inputs (calibration tokens x the widest",
  "  layer input) would exceed 2^32 floats (16 GiB).",
  "- `--report F --html F --force` wrote the report, then replaced it with the page (exit 0, no",
  "  report). Outputs that would replace each other (also `--html` on a file `--out` writes) are",
  "  now refused before the run.",
  "- With an HF folder as `--model`, `--out` on that folder (or `--report` on a file in it) with",
  "  `--force` replaced the input model's `config.json` and `model.safetensors`: only the folder",
  "  was listed as an input. Its two files are now inputs too.",
  "",
  "Found, not fixed (outside the CLI): with `--allow-read` not covering `src/`, `--workers 2` exits",
  "1 with `Worker failed: Requires read access to .../src/parallel/worker.ts` (the pool wraps the",
  "worker's permission error in a plain `Error`). `deno task fuzz` therefore also reads `src/`.",
  "",
  "## Limits and permissions",
  "",
  "- The safetensors header is capped at 100,000,000 bytes (the reference implementation's",
  "  `MAX_HEADER_SIZE`), checked before the header is read. Every size from a header (safetensors",
  "  offsets, llama2.c dimensions, token lengths) is checked against the file's length before anything",
  "  is allocated, so a small hostile file cannot make a reader allocate more than the file's size.",
  "- Not capped: flag values that ask for a long run (`--updates 1000000000` runs FISTA that many",
  "  times). That is the user's request, not a malformed input. Capped: what `prune` would allocate",
  "  before any work (`--workers` at most 256; calibration of at most 2^32 floats per captured input).",
  "- `deno task fuzz` runs with `--allow-read=tests/golden,../shared/models,out/fuzz-cli,src",
  "  --allow-write=out/fuzz-cli --allow-env=FUZZ_RUNS` (`src` for the worker threads' modules). The CLI tasks (`prune`, `prune-layer`) keep",
  "  plain `--allow-read --allow-write`: their files are named on the command line, and Deno fixes",
  "  permissions before the script sees its arguments, so a task cannot name them. The scripts",
  "  themselves never write anything but the output (temporary file in the output's folder, then",
  "  rename). For the narrowest run, call the script directly, e.g.",
  "  `deno run --allow-read=in.safetensors,out --allow-write=out scripts/prune-layer.ts --in",
  "  in.safetensors --out out/pruned.safetensors ...` (tested in `tests/hostile_cli_test.ts`); a write",
  "  outside `out` is then refused with exit status 2. `deno task test` needs broad permissions",
  "  (temporary folders, subprocesses).",
  "",
  "## Memory of `prune` on llama4m (measured separately: `deno task memory`, docs/memory.md)",
  "",
  "Peak resident set of `deno task prune --model ../shared/models/llama4m/llama4m.bin`: 125 to 132 MB",
  "with `--workers 1` and 164 MB with the default two workers (364 MB and 530 MB before the memory",
  "work), against the bound of 3 x 18.3 MB (the checkpoint) + 38.3 MB (one block's activations over",
  "the 2,048 calibration tokens) = 93.1 MB. What the run allocates above the runtime's own 50 MB is",
  "77 MB with one worker (within the bound; `tests/memory_test.ts`) and 113 MB with two. On a 157 MB",
  "checkpoint the total peak is 287 MB (one worker) and 350 MB (two), within its 500 MB bound.",
];

/** `| kind | TypeError | message |` for one library call. */
async function libraryRow([kind, run]: Row): Promise<string> {
  try {
    await run();
    return `| ${kind} | (no error) | |`;
  } catch (e) {
    const err = e as Error;
    return `| ${kind} | ${err.constructor.name} | ${err.message.replaceAll("|", "\\|")} |`;
  }
}

async function main(): Promise<void> {
  const out: string[] = [];
  out.push(
    "# Hostile inputs: what was tried and the error it produced",
    "",
    "Generated by `tests/fuzz/hostile_table.ts` from a real run (regenerate it with the command at the",
    "top of that file). Every library error is a `TypeError` (wrong structure or type) or a `RangeError`",
    "(a value out of range); the CLI turns any of them into one line on stderr and exit status 2.",
    "Beyond these hand-picked cases, `deno task fuzz` runs 10,000 generated cases per target (see",
    "`tests/fuzz/`) and requires the same: a correct parse or a typed error.",
    "",
  );
  for (
    const [title, rows] of [
      ["safetensors (`readSafetensors`, `openSafetensors`)", SAFETENSORS],
      ["llama2.c checkpoints (`readLlama2c`, `writeLlama2c`)", LLAMA2C],
      ["tokenizer.bin (`readTokenizer`, `encode`, `decode`)", TOKENIZER],
      ["config.json (`parseHfLlamaConfig`)", CONFIG],
    ] as const
  ) {
    out.push(`## ${title}`, "", "| bad input | error | message |", "| --- | --- | --- |");
    for (const row of rows) out.push(await libraryRow(row));
    out.push("");
  }
  const dir = "out/hostile";
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const cliSections = [
    ["## CLI (`deno task prune-layer`)", cliRows],
    [
      "## CLI (`deno task prune`, on the tiny fixtures of `tests/fuzz/cli_prune_props.ts`)",
      (d: string) => pruneRows(join(d, "prune")),
    ],
  ] as const;
  for (const [title, rows] of cliSections) {
    out.push(title, "", "| bad input | exit status and stderr |", "| --- | --- |");
    for (const [kind, run] of rows(dir)) {
      out.push(`| ${kind} | \`${(await run()).replaceAll("|", "\\|")}\` |`);
    }
    out.push("");
  }
  rmSync(dir, { recursive: true, force: true });
  out.push(...NOTES);
  console.log(out.join("\n"));
}

await main();
