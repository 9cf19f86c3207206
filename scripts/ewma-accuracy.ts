/**
 * How close does the approximate EWMA selector get to the target sparsity? Prints, per score
 * distribution and on the real layers of `../shared/models`, the achieved-sparsity error of
 * `selectEwma` per row (worst and mean, in percentage points), and the error of the tracker alone
 * before the counting passes correct it.
 *
 *     deno task ewma-accuracy [--seeds 20] [--models ../shared/models]
 *
 * Synthetic rows are magnitude-like scores: |Gaussian|, |Laplace|, log-normal (sigma 2), and
 * |Gaussian| with 0.5% of entries multiplied by 10^3..10^6 (heavy tail with outliers). Real rows are
 * magnitude scores |W| of every linear weight (wq wk wv wo w1 w2 w3 of each block), per row.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import type { Matrix } from "../src/tensor/matrix.ts";
import { createRng, type Rng } from "../src/tensor/rng.ts";
import { selectEwma } from "../src/select/ewma.ts";
import { magnitudeScores } from "../src/score/magnitude.ts";
import { readLlama2c } from "../src/io/llama2c.ts";
import { LINEAR_NAMES } from "../src/model/weights.ts";
import { type CliIo, parseFlags, runCli } from "./lib/cli.ts";

/** Score distributions for the synthetic rows. */
export const DISTRIBUTIONS: Record<string, (rng: Rng) => number> = {
  gaussian: (rng) => Math.abs(rng.normal()),
  laplace: (rng) => Math.abs(rng.laplace()),
  lognormal: (rng) => Math.exp(2 * rng.normal()),
  "heavy+outliers": (rng) => {
    const v = Math.abs(rng.normal());
    return rng.uniform() < 0.005 ? v * 10 ** (3 + 3 * rng.uniform()) : v;
  },
};

/** Worst and mean |achieved - target| sparsity over rows, in percentage points. */
export interface AccuracyRow {
  name: string;
  rows: number;
  sizes: string;
  worst: number;
  mean: number;
  trackerWorst: number;
  trackerMean: number;
}

/** Accumulates per-row errors. */
function accumulator(name: string) {
  let rows = 0, worst = 0, sum = 0, trackerWorst = 0, trackerSum = 0;
  const sizes = new Set<number>();
  return {
    add(scores: Float32Array, sparsity: number) {
      const n = scores.length, k = Math.floor(sparsity * n);
      const r = selectEwma(scores, k);
      const err = (100 * Math.abs(r.pruned - k)) / n,
        trackerErr = (100 * Math.abs(r.trackerPruned - k)) / n;
      rows++, sizes.add(n), sum += err, trackerSum += trackerErr;
      worst = Math.max(worst, err), trackerWorst = Math.max(trackerWorst, trackerErr);
    },
    result(): AccuracyRow {
      const s = [...sizes].sort((a, b) => a - b);
      const sizeText = s.length > 3 ? `${s[0]}..${s[s.length - 1]}` : s.join(",");
      return {
        name,
        rows,
        sizes: sizeText,
        worst,
        mean: sum / rows,
        trackerWorst,
        trackerMean: trackerSum / rows,
      };
    },
  };
}

/**
 * The selector's error on synthetic rows of every size, seed and sparsity given.
 *
 * @param seeds Rows per (size, sparsity) and distribution.
 * @param sizes Row lengths.
 * @param sparsities Targets.
 * @returns One row per distribution.
 */
export function syntheticAccuracy(
  seeds = 20,
  sizes = [1024, 2048, 4096, 8192, 16384],
  sparsities = [0.3, 0.4, 0.5, 0.6, 0.7],
): AccuracyRow[] {
  return Object.entries(DISTRIBUTIONS).map(([name, draw], d) => {
    const acc = accumulator(name);
    for (const n of sizes) {
      for (let seed = 0; seed < seeds; seed++) {
        const rng = createRng(1_000_003 * d + 7919 * n + seed);
        const scores = Float32Array.from({ length: n }, () => draw(rng));
        for (const s of sparsities) acc.add(scores, s);
      }
    }
    return acc.result();
  });
}

/**
 * The linear weights of a llama2.c checkpoint, as `[out, in]` matrices.
 *
 * @param bytes The whole file.
 * @returns `{ name, weight }` for wq wk wv wo w1 w2 w3 of every block.
 * @throws {RangeError} If the checkpoint is malformed (see `readLlama2c`).
 */
export function llama2cLinears(bytes: Uint8Array): { name: string; weight: Matrix }[] {
  const model = readLlama2c(bytes);
  return model.blocks.flatMap((block, l) =>
    LINEAR_NAMES.map((name) => ({ name: `${l}.${name}`, weight: block[name] }))
  );
}

/**
 * The selector's error on every row of every linear layer of a checkpoint (magnitude scores).
 *
 * @param name Label of the row.
 * @param bytes The llama2.c checkpoint.
 * @param sparsities Targets.
 * @returns One row.
 */
export function realLayerAccuracy(
  name: string,
  bytes: Uint8Array,
  sparsities = [0.3, 0.5, 0.7],
): AccuracyRow {
  const acc = accumulator(name);
  for (const { weight } of llama2cLinears(bytes)) {
    const scores = magnitudeScores(weight);
    for (let i = 0; i < weight.rows; i++) {
      const row = scores.data.subarray(i * weight.cols, (i + 1) * weight.cols);
      for (const s of sparsities) acc.add(row, s);
    }
  }
  return acc.result();
}

/**
 * Formats rows as a plain-text table.
 *
 * @param rows The rows.
 * @returns The table, one line per row plus a header.
 */
export function formatTable(rows: AccuracyRow[]): string {
  const head =
    "scores            rows  sizes        worst pp  mean pp  | tracker alone: worst pp  mean pp";
  const lines = rows.map((r) =>
    `${r.name.padEnd(16)} ${String(r.rows).padStart(5)}  ${r.sizes.padEnd(11)} ${
      r.worst.toFixed(3).padStart(8)
    } ${r.mean.toFixed(4).padStart(8)}  | ${r.trackerWorst.toFixed(2).padStart(23)} ${
      r.trackerMean.toFixed(2).padStart(8)
    }`
  );
  return [head, ...lines].join("\n");
}

async function ewmaAccuracy(argv: string[], io: CliIo): Promise<number> {
  const flags = parseFlags(argv, {
    seeds: { type: "string", default: "20" },
    models: { type: "string" },
  });
  const seeds = Number(flags.seeds);
  if (!Number.isInteger(seeds) || seeds < 1) {
    throw new RangeError(`--seeds must be a positive integer, got ${flags.seeds}`);
  }
  const models = flags.models ?? join(import.meta.dirname ?? ".", "..", "..", "shared", "models");
  const rows = syntheticAccuracy(seeds);
  for (
    const [label, file] of [["stories260K", "stories260K/stories260K.bin"], [
      "llama4m",
      "llama4m/llama4m.bin",
    ]]
  ) {
    try {
      rows.push(
        realLayerAccuracy(`${label} |W|`, new Uint8Array(await readFile(join(models, file)))),
      );
    } catch (e) {
      io.stderr(`skipping ${label}: ${(e as Error).message}\n`);
    }
  }
  io.stdout(
    `selectEwma (defaults) achieved-sparsity error per row, sparsities 0.3..0.7\n${
      formatTable(rows)
    }\n`,
  );
  return 0;
}

if (import.meta.main) process.exitCode = await runCli(ewmaAccuracy, process.argv.slice(2));
