/**
 * `deno task rank-one`: is a rank-one matrix a good stand-in for `X^T X` on a real model? Prints,
 * for every block and distinct linear input, how much of the trace of `X^T X` its top eigenvalue
 * holds, the errors of the best rank-one approximation and of SwiftPrune's two stand-ins, and how
 * often the per-row masks of magnitude, Wanda and SwiftPrune equal the mask of the full-Hessian OBS
 * saliency (`src/pipeline/rank_one_report.ts`). `--write FILE` puts the table into FILE between the
 * lines `<!-- rank-one MODEL begin -->` and `<!-- rank-one MODEL end -->` (`docs/swiftprune.md` §4,
 * whose stories260K table `tests/rank_one_report_test.ts` regenerates and compares).
 *
 *     deno task rank-one                                        # stories260K, 8 x 256 C4 tokens
 *     deno task rank-one --model ../shared/models/llama4m/llama4m.bin --write docs/swiftprune.md
 *
 * Uses `node:` built-ins only (runs on Deno and Bun).
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { basename, relative, resolve } from "node:path";
import process from "node:process";
import { CliError, type CliIo, intFlag, parseFlags, PROCESS_IO, runCli } from "./lib/cli.ts";
import { UnsafeWriteError, writeFileAtomic } from "./lib/files.ts";
import { checkSeqlen, encodeCorpus, loadModel, loadTokenizer } from "./lib/model_inputs.ts";
import { DEFAULTS, ROOT, tokenizerFor } from "./lib/prune_settings.ts";
import { sampleWindows } from "../src/pipeline/calibration.ts";
import {
  RANK_ONE_SCORES,
  rankOneReport,
  type RankOneRow,
} from "../src/pipeline/rank_one_report.ts";

const HELP =
  `deno task rank-one [flags]   how well a rank-one matrix stands in for X^T X, per layer input

  --model PATH      llama2.c .bin or HF folder [stories260K]
  --tokenizer PATH  [tok512.bin next to stories260K]
  --calib FILE      calibration text [C4 train head]
  --nsamples N      calibration windows [8]     --seqlen N   tokens per window [min(256, context)]
  --seed N          seed of the windows [0]     --sparsity S per-row masks compared [0.5]
  --write FILE      replace the table of this model in FILE (between rank-one markers)
  --debug           stack traces on errors`;

const FLAGS = {
  model: { type: "string" },
  tokenizer: { type: "string" },
  calib: { type: "string" },
  nsamples: { type: "string", default: "8" },
  seqlen: { type: "string" },
  seed: { type: "string", default: "0" },
  sparsity: { type: "string", default: "0.5" },
  write: { type: "string" },
  help: { type: "boolean", default: false },
} as const;

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * The report as a markdown table, one line per block and distinct input.
 *
 * @param rows The report.
 * @returns The table (ends with a newline).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRankOne } from "./rank-one.ts";
 * const agreement = { magnitude: 0.9, wanda: 0.95, swiftprune: 0.91, "swiftprune-mean": 0.92 };
 * const row = { block: 0, input: "wq" as const, linears: ["wq" as const, "wk" as const], cols: 64,
 *   tokens: 2048, maxChannelShare: 0.0625, topShare: 0.25, bestError: 0.5, normError: 0.75, meanShare: 0.125,
 *   meanError: 0.875, agreement };
 * assert.match(formatRankOne([row]), /\| 0 +\| wq, wk +\| +64 \| +6\.3% \| +25\.0% \| 0\.500 \| 0\.750 \| +12\.5% \| 0\.875 \| 90\.0% \| 95\.0% \| 91\.0% \| 92\.0% \|/);
 * ```
 */
export function formatRankOne(rows: RankOneRow[]): string {
  const head = [
    "| block | input of   | cols | top channel | λ1 / trace | best rank-1 error | norm x xᵀ error | mean's share |" +
    " mean error | magnitude | Wanda | SwiftPrune | SwiftPrune mean |",
    "| ----- | ---------- | ---: | ----------: | ---------: | ----------------: | --------------: | -----------: |" +
    " ---------: | --------: | ----: | ---------: | --------------: |",
  ];
  const lines = rows.map((r) =>
    `| ${String(r.block).padEnd(5)} | ${r.linears.join(", ").padEnd(10)} | ${
      String(r.cols).padStart(4)
    } | ${pct(r.maxChannelShare).padStart(11)} | ${pct(r.topShare).padStart(10)} | ${
      r.bestError.toFixed(3)
    } | ${r.normError.toFixed(3)} | ${pct(r.meanShare).padStart(12)} | ${
      r.meanError.toFixed(3)
    } | ${RANK_ONE_SCORES.map((s) => pct(r.agreement[s])).join(" | ")} |`
  );
  return [...head, ...lines].join("\n") + "\n";
}

/**
 * Replaces the text between `<!-- rank-one NAME begin -->` and `<!-- rank-one NAME end -->`.
 *
 * @param page The page.
 * @param name The model's name.
 * @param body The new text between the markers (ends with a newline).
 * @returns The new page.
 * @throws {CliError} If the markers are missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replaceBlock } from "./rank-one.ts";
 * const page = "a\n<!-- rank-one m begin -->\nold\n<!-- rank-one m end -->\nb\n";
 * assert.equal(replaceBlock(page, "m", "new\n"), "a\n<!-- rank-one m begin -->\nnew\n<!-- rank-one m end -->\nb\n");
 * ```
 */
export function replaceBlock(page: string, name: string, body: string): string {
  const begin = `<!-- rank-one ${name} begin -->\n`, end = `<!-- rank-one ${name} end -->`;
  const from = page.indexOf(begin), to = page.indexOf(end);
  if (from < 0 || to < from) {
    throw new CliError(`--write: the file has no "${begin.trim()}" ... "${end}" block`);
  }
  return page.slice(0, from + begin.length) + body + page.slice(to);
}

/**
 * The block a page holds for a model: the command that made the table, then the table.
 *
 * @param argv The flags given (they are printed as the command).
 * @param rows The report.
 * @returns The text.
 */
export function pageBlock(argv: string[], rows: RankOneRow[]): string {
  const shown = argv.filter((_, i) => argv[i] !== "--write" && argv[i - 1] !== "--write");
  return `\`deno task rank-one${shown.map((a) => ` ${a}`).join("")}\` (${
    rows[0]?.tokens ?? 0
  } calibration tokens; agreement: the fraction of mask entries equal to the full-Hessian OBS mask, per row at 50%):\n\n${
    formatRankOne(rows)
  }`;
}

async function rankOne(argv: string[], io: CliIo): Promise<number> {
  const v = parseFlags(argv, FLAGS);
  if (v.help) {
    io.stdout(`${HELP}\n`);
    return 0;
  }
  const sparsity = Number(v.sparsity);
  if (v.sparsity.trim() === "" || !(sparsity >= 0 && sparsity < 1)) {
    throw new CliError(`--sparsity must be a number in [0, 1), got "${v.sparsity}"`);
  }
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
  const rows = rankOneReport(weights, windows, { sparsity });
  const block = pageBlock(argv, rows);
  io.stdout(block);
  if (v.write) {
    const name = basename(model).replace(/\.[^.]*$/, "");
    const page = replaceBlock(await readFile(v.write, "utf8"), name, block);
    try {
      await writeFileAtomic(v.write, new TextEncoder().encode(page), { force: true });
    } catch (e) {
      if (e instanceof UnsafeWriteError) throw new CliError(e.message);
      throw e;
    }
    io.stdout(`wrote the ${name} table into ${relative(ROOT, resolve(v.write))}\n`);
  }
  return 0;
}

/**
 * Runs `rank-one` on `argv` and returns the exit status (0; 2 on bad input, one line on stderr).
 *
 * @param argv Command-line arguments.
 * @param io Where the table and errors go (default: the process's).
 * @returns The exit status.
 */
export function main(argv: string[], io: CliIo = PROCESS_IO): Promise<number> {
  return runCli(rankOne, argv, io);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
