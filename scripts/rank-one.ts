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
import process from "node:process";
import { type CliIo, parseFlags, PROCESS_IO, runCli, sparsityFlag } from "./lib/cli.ts";
import {
  CALIBRATION_FLAGS,
  CALIBRATION_HELP,
  calibrationOf,
  commandText,
  writeBlock,
} from "./lib/page_tables.ts";
import {
  RANK_ONE_SCORES,
  rankOneReport,
  type RankOneRow,
} from "../src/pipeline/rank_one_report.ts";

const HELP =
  `deno task rank-one [flags]   how well a rank-one matrix stands in for X^T X, per layer input

${CALIBRATION_HELP}
  --sparsity S      per-row masks compared [0.5]
  --debug           stack traces on errors`;

const FLAGS = {
  ...CALIBRATION_FLAGS,
  sparsity: { type: "string", default: "0.5" },
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
    } | ${RANK_ONE_SCORES.map((s) => pct(r.agreement[s.label])).join(" | ")} |`
  );
  return [...head, ...lines].join("\n") + "\n";
}

/**
 * The block a page holds for a model: the command that made the table, then the table.
 *
 * @param argv The flags given (printed as the command, without `--write`).
 * @param rows The report.
 * @returns The text.
 */
export function pageBlock(argv: string[], rows: RankOneRow[]): string {
  return `${commandText("rank-one", argv)} (${
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
  const sparsity = sparsityFlag(v.sparsity);
  const { weights, name, windows } = await calibrationOf(v);
  const rows = rankOneReport(weights, windows, { sparsity });
  const block = pageBlock(argv, rows);
  io.stdout(block);
  if (v.write) io.stdout(await writeBlock(v.write, `rank-one ${name}`, block));
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
