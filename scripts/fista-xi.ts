/**
 * `deno task fista-xi`: how much FISTAPruner's result depends on `xi`, the threshold of its lambda
 * search. Every linear operator of the model (dense inputs, `X* = X`) is pruned at 50% once per
 * `xi`, from the same Wanda warm start (`src/pipeline/fista_xi_report.ts`); the table gives, per
 * `xi`, the mean relative layer error, the geometric mean of its ratio to the warm start's, and on
 * how many operators that `xi` gave the lowest error. `--write FILE` puts the table into FILE
 * between `<!-- fista-xi MODEL begin -->` and `<!-- fista-xi MODEL end -->` (`docs/fistapruner.md`
 * §3, whose stories260K table `tests/fista_xi_test.ts` regenerates and compares).
 *
 *     deno task fista-xi                                   # stories260K, xi 0.05,0.1,0.3,0.5,0.9
 *
 * @module
 */
import process from "node:process";
import { CliError, type CliIo, parseFlags, PROCESS_IO, runCli } from "./lib/cli.ts";
import {
  CALIBRATION_FLAGS,
  CALIBRATION_HELP,
  calibrationOf,
  commandText,
  writeBlock,
} from "./lib/page_tables.ts";
import { fistaXiReport, type FistaXiRow } from "../src/pipeline/fista_xi_report.ts";

const HELP =
  `deno task fista-xi [flags]   FISTAPruner's layer error for several xi (lambda-search threshold)

${CALIBRATION_HELP}
  --xi LIST         thresholds compared [0.05,0.1,0.3,0.5,0.9]
  --debug           stack traces on errors`;

const FLAGS = {
  ...CALIBRATION_FLAGS,
  xi: { type: "string", default: "0.05,0.1,0.3,0.5,0.9" },
  help: { type: "boolean", default: false },
} as const;

/**
 * The table: per `xi`, the mean relative error, the geometric mean of error / warm start, and the
 * number of operators on which it was lowest (ties counted for each).
 *
 * @param xis The thresholds, in the rows' order.
 * @param rows The report.
 * @returns A markdown table (ends with a newline).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatFistaXi } from "./fista-xi.ts";
 * const text = formatFistaXi([0.1, 0.3], [{ label: "L0 wq", warm: 0.2, errors: [0.1, 0.05] }]);
 * assert.match(text, /\| warm start \(Wanda\) \| 0\.20000 \|/);
 * assert.match(text, /\| 0\.3 +\| 0\.05000 \| 0\.250 \| 1 of 1 \|/);
 * ```
 */
export function formatFistaXi(xis: number[], rows: FistaXiRow[]): string {
  const n = rows.length;
  const mean = (f: (r: FistaXiRow) => number) => rows.reduce((s, r) => s + f(r), 0) / n;
  const geo = (f: (r: FistaXiRow) => number) =>
    Math.exp(rows.reduce((s, r) => s + Math.log(f(r)), 0) / n);
  const best = xis.map((_, k) => rows.filter((r) => r.errors[k] <= Math.min(...r.errors)).length);
  const lines = [
    "| xi | mean E_total / ‖X Wᵀ‖² | geometric mean of E_total / warm start's | lowest on |",
    "| -- | ----------: | ---------: | --------: |",
    `| warm start (Wanda) | ${mean((r) => r.warm).toFixed(5)} | 1 | |`,
    ...xis.map((xi, k) =>
      `| ${String(xi).padEnd(4)} | ${mean((r) => r.errors[k]).toFixed(5)} | ${
        geo((r) => r.errors[k] / r.warm).toFixed(3)
      } | ${best[k]} of ${n} |`
    ),
  ];
  return lines.join("\n") + "\n";
}

async function fistaXi(argv: string[], io: CliIo): Promise<number> {
  const v = parseFlags(argv, FLAGS);
  if (v.help) {
    io.stdout(`${HELP}\n`);
    return 0;
  }
  const xis = v.xi.split(",").map((t) => {
    const x = Number(t);
    if (t.trim() === "" || !(x > 0 && Number.isFinite(x))) {
      throw new CliError(`--xi must be a list of numbers > 0, got "${v.xi}"`);
    }
    return x;
  });
  const { weights, name, windows } = await calibrationOf(v);
  const rows = fistaXiReport(weights, windows, xis);
  const block = `${commandText("fista-xi", argv)} (${
    windows.reduce((s, w) => s + w.length, 0)
  } calibration tokens, ${rows.length} operators, 50% rounded per operator, dense inputs):\n\n${
    formatFistaXi(xis, rows)
  }`;
  io.stdout(block);
  if (v.write) io.stdout(await writeBlock(v.write, `fista-xi ${name}`, block));
  return 0;
}

/**
 * Runs `fista-xi` on `argv` and returns the exit status (0; 2 on bad input, one line on stderr).
 *
 * @param argv Command-line arguments.
 * @param io Where the table and errors go (default: the process's).
 * @returns The exit status.
 */
export function main(argv: string[], io: CliIo = PROCESS_IO): Promise<number> {
  return runCli(fistaXi, argv, io);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
