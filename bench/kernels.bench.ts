/**
 * Every kernel as reference vs fast single-thread (baseline) vs fast + workers, as `Deno.bench`
 * groups: matmul and matmulTransB at 1024, the llama4m evaluation forward pass on 4 x 256 tokens,
 * SwiftPrune and Wanda scoring + selection (50% per row) of a 4096x4096 layer.
 * `scripts/bench-kernels.ts` (task `bench-kernels`) prints the same as one table with GFLOPS,
 * tokens per second, the load average and the targets.
 *
 * Run: `deno bench --allow-read bench/kernels.bench.ts`. The references are slow: one run each.
 */
import {
  matmul,
  matmulReference,
  matmulTransB,
  matmulTransBReference,
} from "../src/linalg/matmul.ts";
import { readLlama2c } from "../src/io/llama2c.ts";
import { forwardReference } from "../src/model/llama.ts";
import { perplexity } from "../src/eval/perplexity.ts";
import { swiftpruneMethod } from "../src/score/swiftprune.ts";
import { wandaMethod } from "../src/score/wanda.ts";
import type { Target } from "../src/select/target.ts";
import { selectBySort } from "../src/select/sort.ts";
import { createRng, randn } from "../src/tensor/rng.ts";
import { type Matrix, matrix } from "../src/tensor/matrix.ts";
import { createPool, defaultPoolSize, toShared } from "../src/parallel/pool.ts";
import { matmulParallel, matmulTransBParallel } from "../src/parallel/matmul_parallel.ts";
import { perplexityParallel, shareWeights } from "../src/parallel/forward_parallel.ts";
import { pruneLayerParallel } from "../src/parallel/prune_parallel.ts";

const workers = Math.max(2, defaultPoolSize());
// Workers stop after 3 s idle, so the bench process exits without an explicit close.
const pool = createPool({ size: workers, idleTimeoutMs: 3000 });
const random = (rows: number, cols: number, seed: number): Matrix =>
  toShared(matrix(rows, cols, randn(rows * cols, createRng(seed))));
const slow = { n: 1, warmup: 0 }, fastRuns = { n: 3, warmup: 1 };

type Variant = [name: string, fn: () => unknown, runs: { n: number; warmup: number }];
function group(group: string, [reference, fast, parallel]: Variant[]): void {
  for (const [name, fn, runs] of [reference, fast, parallel]) {
    Deno.bench({
      name: `${group}: ${name}`,
      group,
      baseline: fn === fast[1],
      ...runs,
      fn: async () => void await fn(),
    });
  }
}

const a = random(1024, 1024, 1), b = random(1024, 1024, 2);
group("matmul 1024", [
  ["reference", () => matmulReference(a, b), slow],
  ["fast", () => matmul(a, b), fastRuns],
  [`fast + ${workers} workers`, () => matmulParallel(pool, a, b), fastRuns],
]);
group("matmulTransB 1024", [
  ["reference", () => matmulTransBReference(a, b), slow],
  ["fast", () => matmulTransB(a, b), fastRuns],
  [`fast + ${workers} workers`, () => matmulTransBParallel(pool, a, b), fastRuns],
]);

const model = readLlama2c(
  new Uint8Array(
    Deno.readFileSync(new URL("../../shared/models/llama4m/llama4m.bin", import.meta.url)),
  ),
);
const shared = shareWeights(model);
const ids = Int32Array.from({ length: 1024 }, (_, i) => (i * 37 + 11) % model.config.vocabSize);
group("llama4m forward 4x256", [
  ["reference (1 window)", () => forwardReference(model, ids.subarray(0, 256)), slow],
  ["fast", () => perplexity(model, ids, { seqlen: 256 }), fastRuns],
  [
    `fast + ${workers} workers`,
    () => perplexityParallel(pool, shared, ids, { seqlen: 256 }),
    fastRuns,
  ],
]);

const target: Target = { kind: "unstructured", sparsity: 0.5, group: "row" };
const w = random(4096, 4096, 3);
const colNorms = randn(4096, createRng(4)).map((v, j) =>
  Math.exp(0.5 * v) * (j % 100 === 7 ? 20 : 1)
);
for (const method of [swiftpruneMethod, wandaMethod]) {
  const scoreRef = () => method.scoreReference!(w, { colNorms });
  group(`${method.name} score+select 4096x4096`, [
    ["reference (score + sort)", () => {
      const s = scoreRef();
      for (let i = 0; i < 4096; i++) selectBySort(s.data.subarray(i * 4096, (i + 1) * 4096), 2048);
    }, slow],
    ["fast", () => method.prune(w, { colNorms }, target), fastRuns],
    [
      `fast + ${workers} workers`,
      () => pruneLayerParallel(pool, method, w, { colNorms }, target),
      fastRuns,
    ],
  ]);
}
