/**
 * The inputs every whole-model CLI reads (`prune`, `eval`, `extract-layer`): the model (a llama2.c
 * `.bin` or an HF folder), the tokenizer, and corpus files encoded to token ids; plus the checks of
 * the run's sizes against what the model and the texts allow, made before any long work.
 *
 * One loader for all of them, so that a model family one CLI reads, every CLI reads.
 *
 * @module
 */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { CliError } from "./cli.ts";
import { readBytes } from "./files.ts";
import { collectGarbage } from "./memory.ts";
import { DEFAULTS, ROOT } from "./prune_settings.ts";
import { readHfModel } from "../../src/io/hf_model.ts";
import { readLlama2c } from "../../src/io/llama2c.ts";
import { assertFiniteWeights } from "../../src/check/finite.ts";
import { openHfFolder } from "../../src/io/hf_folder.ts";
import { folderSource } from "./hf_files.ts";
import { readTokenizer } from "../../src/io/tokenizer.ts";
import {
  hfTokenizer,
  llama2cTextTokenizer,
  type TextTokenizer,
} from "../../src/io/text_tokenizer.ts";
import type { Model, ModelConfig } from "../../src/model/family.ts";
import { corpusPieces } from "../../src/pipeline/calibration.ts";

/**
 * Reads a llama2.c `.bin` or an HF folder (`config.json` + `model.safetensors`, or shards through
 * `model.safetensors.index.json`).
 *
 * @param path The `--model` path.
 * @param shared Read into shared memory (when worker threads will use the weights).
 * @returns The weights (views of the file's bytes for llama2.c: one copy in memory, not two).
 * @throws {CliError} If there is no model at `path` or an HF folder lacks a file.
 */
export async function loadModel(path: string, shared: boolean): Promise<Model> {
  if (!existsSync(path)) {
    const where = path === DEFAULTS.model
      ? `the default model was looked for at ${path} (../shared/models/stories260K/stories260K.bin from the repository root ${ROOT})`
      : `no model at ${resolve(path)}`;
    throw new CliError(
      `Cannot load the model: ${where}; pass --model PATH (a llama2.c .bin or an HF folder with config.json + model.safetensors)`,
    );
  }
  // the weights are views of the file's bytes: one copy of the model in memory, not two
  // (in shared memory when workers will use it: then sharing them with workers copies nothing)
  if (!statSync(path).isDirectory()) {
    return readLlama2c(await readBytes(path, { shared }), { view: true });
  }
  const has = (name: string) => existsSync(join(path, name));
  // one model.safetensors, or shards through model.safetensors.index.json
  for (const name of ["config.json", "model.safetensors"]) {
    if (!has(name) && !(name === "model.safetensors" && has("model.safetensors.index.json"))) {
      throw new CliError(`Cannot load the HF model folder ${path}: ${name} is missing`);
    }
  }
  const source = folderSource(path); // one shard or several (through the index), a tensor at a time
  try {
    const folder = await openHfFolder(source);
    return await readHfModel(folder.config, folder.tensors);
  } finally {
    await source.close();
  }
}

/**
 * Refuses NaN or infinity in any weight, naming the model file, the tensor and the index.
 *
 * @param weights The model.
 * @param path The model's path (for the message).
 * @throws {RangeError} At the first non-finite weight.
 */
export function checkFiniteModel(weights: Model, path: string): void {
  try {
    assertFiniteWeights(weights);
  } catch (e) {
    throw new RangeError(`${(e as Error).message} in ${path} (--allow-nonfinite prunes anyway)`);
  }
}

/**
 * The bytes of the file given to `--flag`.
 *
 * @param path The path.
 * @param flag The flag's name (for the message).
 * @returns The bytes.
 * @throws {CliError} If there is no file at `path`.
 */
export async function readInput(path: string, flag: string): Promise<Uint8Array> {
  if (!existsSync(path) || statSync(path).isDirectory()) {
    throw new CliError(`Cannot read --${flag} file: no file at ${resolve(path)}`);
  }
  return await readBytes(path);
}

/**
 * Reads the tokenizer at `path`: a Hugging Face `tokenizer.json` (by its extension or its first
 * byte `{`; the `tokenizer_config.json` beside it is read too when there is one) or a llama2.c
 * `tokenizer.bin`.
 *
 * @param path The tokenizer's path (`tokenizerFor` in prune_settings.ts picks it).
 * @returns The tokenizer.
 * @throws {CliError} If there is no file at `path`.
 * @throws {TypeError} If a `tokenizer.json` is malformed.
 * @throws {RangeError} If a llama2.c tokenizer is malformed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadTokenizer } from "./model_inputs.ts";
 * const tok = await loadTokenizer("../shared/models/hf/opt/tokenizer.json");
 * assert.equal(tok.kind, "tokenizer.json");
 * assert.equal((await loadTokenizer("../shared/models/stories260K/tok512.bin")).kind, "llama2.c");
 * ```
 */
export async function loadTokenizer(path: string): Promise<TextTokenizer> {
  const bytes = await readInput(path, "tokenizer");
  // a llama2.c file starts with a little-endian int32: never "{" followed by a non-zero byte
  const isJson = path.toLowerCase().endsWith(".json") || (bytes[0] === 0x7b && bytes[1] !== 0);
  if (!isJson) return llama2cTextTokenizer(readTokenizer(bytes));
  const configPath = join(dirname(path), "tokenizer_config.json");
  const config = existsSync(configPath) ? await readBytes(configPath) : undefined;
  return hfTokenizer(bytes, config);
}

/**
 * Encodes a corpus file (C4 jsonl or plain text) once as the model's tokenizer encodes a text
 * (llama2.c: with BOS; tokenizer.json: with its post-processor's special tokens), fed a document
 * at a time.
 *
 * @param tok The tokenizer.
 * @param path The file.
 * @param flag Its flag (for the message when it is missing).
 * @returns The token ids.
 */
export async function encodeCorpus(
  tok: TextTokenizer,
  path: string,
  flag: string,
): Promise<Int32Array> {
  const encoder = tok.stream();
  let pieces = 0;
  for (const piece of corpusPieces(await readInput(path, flag), { fileName: path })) {
    encoder.push(piece);
    if (++pieces % 256 === 0) collectGarbage(); // JavaScriptCore (Bun) lets strings pile up
  }
  return encoder.finish();
}

/**
 * Refuses a window longer than the model's context (`seq_len` of a llama2.c header,
 * `max_position_embeddings` of an HF config): the model was never trained on positions past it,
 * and a huge value would only run for minutes before anything is learned.
 *
 * @param seqlen The `--seqlen` asked for.
 * @param config The model's config.
 * @throws {CliError} Naming the limit.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "../../src/model/llama.ts";
 * import { checkSeqlen } from "./model_inputs.ts";
 * const { config } = tinyLlama({ seed: 1 }); // context 32
 * checkSeqlen(32, config);
 * assert.throws(() => checkSeqlen(99999, config), /--seqlen 99999 is beyond the model's context of 32 tokens/);
 * ```
 */
export function checkSeqlen(seqlen: number, config: ModelConfig): void {
  if (seqlen > config.seqLen) {
    throw new CliError(
      `--seqlen ${seqlen} is beyond the model's context of ${config.seqLen} tokens; use at most ${config.seqLen}`,
    );
  }
}

/**
 * Refuses more tokens than a text holds: `--eval-tokens N` (items of 1 token) or `--nsamples N`
 * calibration windows (items of `--seqlen` tokens). Sampling more windows than fit would only
 * repeat the text; evaluating past its end would silently evaluate less than asked.
 *
 * @param flag The flag that asked, e.g. `"--nsamples"`.
 * @param count Items asked for.
 * @param perItem Tokens per item.
 * @param available Tokens in the text.
 * @param file The text (its name is in the message).
 * @throws {CliError} Naming the limit.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTextHolds } from "./model_inputs.ts";
 * checkTextHolds("--eval-tokens", 100, 1, 100, "eval.txt");
 * assert.throws(
 *   () => checkTextHolds("--nsamples", 4, 32, 100, "../calib.txt"),
 *   /--nsamples 4 windows of 32 tokens is beyond the 100 tokens of calib\.txt; use at most 3/,
 * );
 * ```
 */
export function checkTextHolds(
  flag: string,
  count: number,
  perItem: number,
  available: number,
  file: string,
): void {
  if (count * perItem > available) {
    const asked = perItem === 1 ? `${count}` : `${count} windows of ${perItem} tokens`;
    throw new CliError(
      `${flag} ${asked} is beyond the ${available} tokens of ${basename(file)}; use at most ${
        Math.floor(available / perItem)
      } (or a longer text)`,
    );
  }
}
