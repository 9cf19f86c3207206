/**
 * Prints GFLOPS of the three matrix products (reference, fast single-thread, fast + workers) for
 * square sizes, measured in one process, with the speed-up of workers over one thread.
 *
 * Usage: `deno task bench-matmul [--sizes 256,512,1024] [--workers N] [--transb]`
 * (`--transb` measures `C = A B^T` instead of `C = A B`). Each timing is the best of several runs
 * (at least 3 and at least 1 s of runs; the reference: at least 1 run), after one warm-up run.
 * Also runs under Bun: `bun scripts/bench-matmul.ts`.
 */
import { parseArgs } from "node:util";
import {
  matmul,
  matmulReference,
  matmulTransB,
  matmulTransBReference,
} from "../src/linalg/matmul.ts";
import { createRng, randn } from "../src/tensor/rng.ts";
import { type Matrix, matrix } from "../src/tensor/matrix.ts";
import { createPool, defaultPoolSize } from "../src/parallel/pool.ts";
import { matmulParallel, matmulTransBParallel } from "../src/parallel/matmul_parallel.ts";
import { allClose } from "../src/check/all_close.ts";

const { values } = parseArgs({
  args: typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2),
  options: {
    sizes: { type: "string", default: "256,512,1024" },
    workers: { type: "string" },
    transb: { type: "boolean" },
  },
});
const sizes = values.sizes.split(",").map(Number);
const workers = Number(values.workers ?? Math.max(2, defaultPoolSize()));
const transB = values.transb === true;
const [reference, fast, parallel] = transB
  ? [matmulTransBReference, matmulTransB, matmulTransBParallel]
  : [matmulReference, matmul, matmulParallel];

/** Best wall time in ms of `fn` over at least `minRuns` runs and `minMs` ms, after one warm-up. */
async function bestMs(fn: () => unknown, minRuns: number, minMs: number): Promise<number> {
  await fn();
  let best = Infinity, spent = 0, runs = 0;
  while (runs < minRuns || spent < minMs) {
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    best = Math.min(best, ms);
    spent += ms;
    runs++;
  }
  return best;
}

const pool = createPool({ size: workers });
const op = transB ? "C = A B^T" : "C = A B";
const cores = defaultPoolSize();
console.log(`${op}, float32, best of runs; ${workers} workers; ${cores} logical cores reported`);
console.log(
  "| size | reference GFLOPS | fast GFLOPS | fast + workers GFLOPS | workers / fast | cores used |",
);
console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
try {
  const rng = createRng(2024);
  for (const n of sizes) {
    const a = matrix(n, n, randn(n * n, rng)), b: Matrix = matrix(n, n, randn(n * n, rng));
    const gflops = (ms: number) => (2 * n ** 3) / (ms * 1e6);
    const single = fast(a, b), split = await parallel(pool, a, b);
    if (!split.data.every((v, i) => Object.is(v, single.data[i]))) {
      throw new Error(`workers differ from fast at ${n}`);
    }
    let refCell = "-";
    if (n <= 512) {
      if (!allClose(single.data, reference(a, b).data, { atol: 1e-3, rtol: 1e-3 }).ok) {
        throw new Error(`fast differs from reference at ${n}`);
      }
      refCell = gflops(await bestMs(() => reference(a, b), 1, 0)).toFixed(2);
    }
    const fastMs = await bestMs(() => fast(a, b), 3, 1000);
    const poolMs = await bestMs(() => parallel(pool, a, b), 3, 1000);
    const cells = [
      n,
      refCell,
      gflops(fastMs).toFixed(2),
      gflops(poolMs).toFixed(2),
      (fastMs / poolMs).toFixed(2) + "x",
      workers,
    ];
    console.log(`| ${cells.join(" | ")} |`);
  }
} finally {
  pool.close();
}
