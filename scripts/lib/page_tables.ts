/**
 * What the measurement scripts that fill a docs page share (`deno task rank-one`, `fista-xi`):
 * their calibration flags and windows, the command line printed above a table, and `--write`,
 * which puts the table into a page between `<!-- TAG begin -->` and `<!-- TAG end -->` so that a
 * test can regenerate it and compare.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { basename, relative, resolve } from "node:path";
import { CliError, intFlag } from "./cli.ts";
import { UnsafeWriteError, writeFileAtomic } from "./files.ts";
import { checkSeqlen, encodeCorpus, loadModel, loadTokenizer } from "./model_inputs.ts";
import { DEFAULTS, ROOT, tokenizerFor } from "./prune_settings.ts";
import type { LlamaWeights } from "../../src/model/weights.ts";
import { sampleWindows } from "../../src/pipeline/calibration.ts";

/** The calibration flags (with `parseFlags`'s option format). */
export const CALIBRATION_FLAGS = {
  model: { type: "string" },
  tokenizer: { type: "string" },
  calib: { type: "string" },
  nsamples: { type: "string", default: "8" },
  seqlen: { type: "string" },
  seed: { type: "string", default: "0" },
  write: { type: "string" },
} as const;

/** Help lines of {@link CALIBRATION_FLAGS}. */
export const CALIBRATION_HELP = `  --model PATH      llama2.c .bin or HF folder [stories260K]
  --tokenizer PATH  [tok512.bin next to stories260K]
  --calib FILE      calibration text [C4 train head]
  --nsamples N      calibration windows [8]     --seqlen N   tokens per window [min(256, context)]
  --seed N          seed of the windows [0]
  --write FILE      replace this model's table in FILE (between its markers)`;

/**
 * Loads the model and cuts the calibration windows the flags ask for (as `prune` does).
 *
 * @param v The parsed flags.
 * @returns The model, its name (file name without extension) and the windows.
 * @throws {CliError} If a file is missing or a value is out of range.
 */
export async function calibrationOf(v: {
  model?: string;
  tokenizer?: string;
  calib?: string;
  nsamples: string;
  seqlen?: string;
  seed: string;
}): Promise<{ weights: LlamaWeights; name: string; windows: Int32Array[] }> {
  const model = v.model ?? DEFAULTS.model;
  const weights = await loadModel(model, false);
  const seqlen = v.seqlen === undefined
    ? Math.min(256, weights.config.seqLen)
    : intFlag(v.seqlen, "seqlen", 2);
  checkSeqlen(seqlen, weights.config);
  const tok = await loadTokenizer(tokenizerFor(model, v.tokenizer));
  const ids = await encodeCorpus(tok, v.calib ?? DEFAULTS.calib, "calib");
  const windows = sampleWindows(ids, {
    nsamples: intFlag(v.nsamples, "nsamples", 1),
    seqlen,
    seed: intFlag(v.seed, "seed", 0),
  });
  // the pages measure Llama blocks (llama2.c and HF Llama checkpoints)
  return {
    weights: weights as LlamaWeights,
    name: basename(model).replace(/\.[^.]*$/, ""),
    windows,
  };
}

/**
 * The command as a page prints it above its table: the task and the flags given, without `--write`.
 *
 * @param task The task name.
 * @param argv The flags given.
 * @returns E.g. `` `deno task rank-one --model m.bin` ``.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commandText } from "./page_tables.ts";
 * assert.equal(commandText("rank-one", ["--model", "m.bin", "--write", "p.md"]), "`deno task rank-one --model m.bin`");
 * ```
 */
export function commandText(task: string, argv: string[]): string {
  const shown = argv.filter((_, i) => argv[i] !== "--write" && argv[i - 1] !== "--write");
  return `\`deno task ${task}${shown.map((a) => ` ${a}`).join("")}\``;
}

/**
 * Replaces the text between `<!-- TAG begin -->` and `<!-- TAG end -->`.
 *
 * @param page The page.
 * @param tag The block's tag, e.g. `rank-one stories260K`.
 * @param body The new text between the markers (ends with a newline).
 * @returns The new page.
 * @throws {CliError} If the markers are missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replaceBlock } from "./page_tables.ts";
 * const page = "a\n<!-- t m begin -->\nold\n<!-- t m end -->\nb\n";
 * assert.equal(replaceBlock(page, "t m", "new\n"), "a\n<!-- t m begin -->\nnew\n<!-- t m end -->\nb\n");
 * ```
 */
export function replaceBlock(page: string, tag: string, body: string): string {
  const begin = `<!-- ${tag} begin -->\n`, end = `<!-- ${tag} end -->`;
  const from = page.indexOf(begin), to = page.indexOf(end);
  if (from < 0 || to < from) {
    throw new CliError(`--write: the file has no "${begin.trim()}" ... "${end}" block`);
  }
  return page.slice(0, from + begin.length) + body + page.slice(to);
}

/**
 * Writes `body` into the page `path` between the markers of `tag` (atomically).
 *
 * @param path The page.
 * @param tag The block's tag.
 * @param body The text.
 * @returns A line saying what was written.
 * @throws {CliError} If the markers are missing or the write is refused.
 */
export async function writeBlock(path: string, tag: string, body: string): Promise<string> {
  const page = replaceBlock(await readFile(path, "utf8"), tag, body);
  try {
    await writeFileAtomic(path, new TextEncoder().encode(page), { force: true });
  } catch (e) {
    if (e instanceof UnsafeWriteError) throw new CliError(e.message);
    throw e;
  }
  return `wrote the ${tag} table into ${relative(ROOT, resolve(path))}\n`;
}
