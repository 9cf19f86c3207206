/**
 * `deno task make-synthetic --shape NAME --out DIR`: writes a random checkpoint with the exact
 * shapes of a real model, in the Hugging Face layout (`config.json`, BF16 weights in two shards
 * with `model.safetensors.index.json`, the tokenizer of `../shared/models/hf/llama3`, whose 2,048
 * ids are a subset of every shape's vocabulary). For measuring time and memory at sizes we have no
 * weights for (docs/performance.md); the weights are drawn as `src/model/synthetic.ts` says.
 *
 * Shapes: `tinyllama-1.1b` (hidden 2048, 22 layers, 32 heads, 4 kv heads, intermediate 5632,
 * vocab 32000, untied), `mid-200m`, `tiny-test`. Tensors are generated one at a time and streamed
 * to the shard files (temporary names, renamed when complete), so memory stays near one tensor.
 * Write it under `out/` (ignored by git): the 1.1B checkpoint is 2.2 GB.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { CliError, type CliIo, parseFlags, runCli } from "./lib/cli.ts";
import { writeDirAtomic, writeFileAtomic } from "./lib/files.ts";
import { writeLlama2c } from "../src/io/llama2c.ts";
import { hfLlamaTensorSpecs } from "../src/io/hf_llama.ts";
import { hfLlamaConfigJson } from "../src/io/hf_llama_config.ts";
import { float32ToBf16 } from "../src/io/half.ts";
import { safetensorsHeader } from "../src/io/safetensors_write.ts";
import { SYNTHETIC_SHAPES, syntheticLlama, syntheticTensor } from "../src/model/synthetic.ts";

const TOKENIZER_DIR = resolve(
  fileURLToPath(new URL("..", import.meta.url)),
  "../shared/models/hf/llama3",
);

const HELP = `deno task make-synthetic --shape NAME --out DIR [--seed N] [--force]
  --shape NAME   ${Object.keys(SYNTHETIC_SHAPES).join(" | ")}
  --out DIR      the checkpoint folder (config.json, two BF16 shards + index, tokenizer)
  --llama2c FILE instead, the same model as one float32 llama2.c file (held in memory to write:
                 4 bytes per parameter, twice); use it with --tokenizer of a llama2.c tokenizer
  --seed N       seed of the weights [0]
  --force        replace existing files in DIR`;

const FLAGS = {
  shape: { type: "string" },
  out: { type: "string" },
  llama2c: { type: "string" },
  seed: { type: "string", default: "0" },
  force: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

/** A shard's bytes, produced lazily: the header, then each tensor drawn and narrowed to BF16. */
function* shardChunks(
  specs: { name: string; shape: number[]; seed: number }[],
  say: (line: string) => void,
): Generator<Uint8Array> {
  yield safetensorsHeader(specs.map((s) => ({ name: s.name, dtype: "BF16", shape: s.shape })), {
    format: "pt",
  });
  for (const s of specs) {
    say(s.name);
    yield new Uint8Array(float32ToBf16(syntheticTensor(s.shape, s.seed)).buffer);
  }
}

async function makeSynthetic(argv: string[], io: CliIo): Promise<number> {
  const v = parseFlags(argv, FLAGS);
  if (v.help) {
    io.stdout(`${HELP}\n`);
    return 0;
  }
  if (v.shape === undefined || !Object.hasOwn(SYNTHETIC_SHAPES, v.shape)) {
    throw new CliError(
      `--shape must be one of ${Object.keys(SYNTHETIC_SHAPES).join(", ")}, got "${v.shape}"`,
    );
  }
  if ((v.out === undefined) === (v.llama2c === undefined)) {
    throw new CliError("give exactly one of --out DIR or --llama2c FILE");
  }
  const seed = Number(v.seed);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new CliError(`--seed must be a non-negative integer, got "${v.seed}"`);
  }
  const config = SYNTHETIC_SHAPES[v.shape];
  if (v.llama2c !== undefined) {
    const bytes = writeLlama2c(syntheticLlama(config, seed));
    await writeFileAtomic(resolve(v.llama2c), bytes, { force: v.force });
    io.stdout(`${v.shape}: ${(bytes.length / 1e9).toFixed(2)} GB llama2.c -> ${v.llama2c}\n`);
    return 0;
  }
  const out = v.out!;
  const specs = hfLlamaTensorSpecs(config).map((s, i) => ({ ...s, seed: seed * 1000 + i }));
  const bytesOf = (s: { shape: number[] }) => 2 * s.shape.reduce((p, d) => p * d, 1);
  const total = specs.reduce((n, s) => n + bytesOf(s), 0);
  // two shards of about half the bytes each, tensors in file order
  let acc = 0;
  const split = specs.findIndex((s) => (acc += bytesOf(s)) >= total / 2) + 1;
  const shards = [specs.slice(0, split), specs.slice(split)];
  const names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
  const weightMap = Object.fromEntries(
    shards.flatMap((shard, i) => shard.map((s) => [s.name, names[i]])),
  );
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
  const tokenizer = async (name: string) =>
    await readFile(join(TOKENIZER_DIR, name)).catch(() => {
      throw new CliError(`Cannot read the tokenizer: no ${name} in ${TOKENIZER_DIR}`);
    });
  let done = 0;
  const started = performance.now();
  const say = (name: string) => {
    const elapsed = (performance.now() - started) / 1000;
    const eta = done === 0
      ? ""
      : `, ~${(elapsed / done * (specs.length - done)).toFixed(0)} s left`;
    if (!io.isTTY || done % 10 === 0) {
      io.stderr(`  ${++done}/${specs.length} ${name} (${elapsed.toFixed(0)} s${eta})\n`);
    } else done++;
  };
  const written = await writeDirAtomic(resolve(out), {
    "config.json": json({ ...hfLlamaConfigJson(config, "BF16"), bos_token_id: 0, eos_token_id: 1 }),
    "model.safetensors.index.json": json({
      metadata: { total_size: total },
      weight_map: weightMap,
    }),
    "tokenizer.json": await tokenizer("tokenizer.json"),
    "tokenizer_config.json": await tokenizer("tokenizer_config.json"),
    [names[0]]: shardChunks(shards[0], say),
    [names[1]]: shardChunks(shards[1], say),
  }, { force: v.force });
  const params = specs.reduce((n, s) => n + bytesOf(s) / 2, 0);
  io.stdout(
    `${v.shape}: ${(params / 1e9).toFixed(3)}B parameters, ${
      (total / 1e9).toFixed(2)
    } GB BF16 in 2 shards, ${written.length} files in ${out} (${
      ((performance.now() - started) / 1000).toFixed(0)
    } s)\n`,
  );
  return 0;
}

/**
 * Runs `make-synthetic` on `argv` and returns the exit status (0, or 2 on bad input).
 *
 * @param argv Command-line arguments.
 * @param io Where output and errors go.
 * @returns The exit status.
 */
export function main(argv: string[], io?: CliIo): Promise<number> {
  return runCli(makeSynthetic, argv, io);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
