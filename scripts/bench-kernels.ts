/**
 * `deno task bench-kernels`: every kernel as reference vs fast (one thread) vs fast + workers, in
 * one process run, with speed-ups, GFLOPS where meaningful, the cores used and the load average
 * next to each line (the machine may be shared: a load above the core count means noisy numbers).
 * Then the targets with PASS/MISS.
 *
 * Kernels, each under both kernel sets (`[ts]`: pure TypeScript, `[simd]`: WebAssembly SIMD; see
 * `src/linalg/kernels.ts`) unless `--kernels` names one:
 * - `matmul` 1024 (`C = A B`) and `matmulTransB` 1024 (`Y = X W^T`): float64 sums, bit-identical
 *   under both sets;
 * - `linear` 1024 (`Y = X W^T` as the forward pass computes it, `linearInto`: float64 sums under
 *   ts, float32 sums under simd), one thread only;
 * - the llama4m forward pass on 4 windows x 256 tokens of WikiText-2 (the evaluation forward:
 *   logits and the per-token NLL); the reference is llama2.c's token-at-a-time decoder, timed on ONE
 *   window and scaled x4 (it is slow);
 * - SwiftPrune and Wanda scoring + selection (50% per row, `ewma-exact`) of a 4096x4096 layer with
 *   log-normal column norms and a few outlier channels; the reference is the element-by-element
 *   score and the sorting selector;
 * - SwiftPrune over all 42 linears of llama4m with the column norms of real calibration inputs
 *   (4 x 256 tokens; capturing them is not timed).
 *
 * FLOPs of the forward pass (stated in the output): `2 * W * tokens` for the W = 4,554,752 weights
 * in matrix products (the 42 block linears and the tied classifier), plus attention,
 * `2 * 2 * dim * T (T + 1) / 2` per layer and window (q k^T and a v over the causal prefix). RMSNorm,
 * RoPE, SiLU, softmax and the NLL are not counted.
 *
 * The column "cores busy" is the CPU time of the whole process (all threads) divided by the wall
 * time while the fast + workers variant ran: on an idle 2-core machine with 2 workers it is near 2;
 * when other processes share the cores it is lower, and so is the speed-up.
 *
 * Usage: `deno task bench-kernels [--workers N] [--kernels ts|simd] [--quick]` (`--quick`: fewer
 * repeats, smaller layer). Timings are the best of several runs after a warm-up. Runs under Bun too.
 * The targets compare `[simd]` with `[ts]` lines of the same run (ratios, same process): the two
 * kernel sets are timed alternately, run by run, so a load that changes meanwhile affects both.
 *
 * @module
 */
import { loadavg } from "node:os";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import process from "node:process";
import {
  linearInto,
  matmul,
  matmulReference,
  matmulTransB,
  matmulTransBReference,
} from "../src/linalg/matmul.ts";
import { availableKernels, type KernelSet, setKernels } from "../src/linalg/kernels.ts";
import { readLlama2c } from "../src/io/llama2c.ts";
import { encode, readTokenizer } from "../src/io/tokenizer.ts";
import { embed, referenceDecoder } from "../src/model/llama.ts";
import { LINEAR_NAMES, type LlamaWeights } from "../src/model/weights.ts";
import { perplexity } from "../src/eval/perplexity.ts";
import type { MethodDescriptor } from "../src/prune/method.ts";
import type { Target } from "../src/select/target.ts";
import { swiftpruneMethod } from "../src/score/swiftprune.ts";
import { columnNorms, wandaMethod } from "../src/score/wanda.ts";
import { selectBySort } from "../src/select/sort.ts";
import { createRng, randn } from "../src/tensor/rng.ts";
import { type Matrix, matrix } from "../src/tensor/matrix.ts";
import { createPool, defaultPoolSize, type Pool, toShared } from "../src/parallel/pool.ts";
import { matmulParallel, matmulTransBParallel } from "../src/parallel/matmul_parallel.ts";
import {
  blockForwardWindows,
  INPUT_OF,
  perplexityParallel,
  shareWeights,
} from "../src/parallel/forward_parallel.ts";
import { pruneLayerParallel } from "../src/parallel/prune_parallel.ts";
import { measureMs } from "../src/bench/measure.ts";
import { useKernelsFlag } from "./lib/cli.ts";

const SHARED = new URL("../../shared/", import.meta.url);
/** A file's bytes as a plain Uint8Array (a Node Buffer's `slice` is a view, which readLlama2c does not expect). */
const readBytes = (path: string) => new Uint8Array(readFileSync(new URL(path, SHARED)));
const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { workers: { type: "string" }, quick: { type: "boolean" }, kernels: { type: "string" } },
});
/** The kernel sets to compare: the one `--kernels` names, else every available one, ts first. */
const kernelSets: KernelSet[] = values.kernels === undefined
  ? availableKernels().reverse()
  : [useKernelsFlag(values.kernels)];
const workers = Number(values.workers ?? defaultPoolSize());
const quick = values.quick === true;
const runs = { minRuns: quick ? 1 : 3, minMs: quick ? 0 : 1500 };
const ROW_TARGET: Target = { kind: "unstructured", sparsity: 0.5, group: "row" };

const load = () => loadavg()[0].toFixed(2);
const ms = (t: number) => t >= 1000 ? `${(t / 1000).toFixed(2)} s` : `${t.toFixed(1)} ms`;

/** One table line: times of reference / fast / workers, their ratios, GFLOPS and notes. */
interface Line {
  kernel: string;
  reference?: number;
  fast: number;
  parallel?: number;
  /** CPU time of the process (all threads) / wall time while the workers ran: cores really busy. */
  busy?: number;
  flops?: number;
  note?: string;
}

function printLine(l: Line): void {
  const gf = (t: number | undefined) => (l.flops && t ? (l.flops / (t * 1e6)).toFixed(2) : "-");
  const cells = [
    l.kernel,
    l.reference ? ms(l.reference) : "-",
    ms(l.fast),
    l.parallel ? ms(l.parallel) : "-",
    l.reference ? `${(l.reference / l.fast).toFixed(1)}x` : "-",
    l.parallel ? `${(l.fast / l.parallel).toFixed(2)}x` : "-",
    `${gf(l.reference)} / ${gf(l.fast)} / ${gf(l.parallel)}`,
    String(workers),
    l.busy?.toFixed(2) ?? "-",
    load(),
    l.note ?? "",
  ];
  console.log(`| ${cells.join(" | ")} |`);
}

/**
 * {@link measureMs} of the parallel variant, and how many cores the process kept busy meanwhile
 * (CPU time of all its threads / wall time; below the worker count means the machine is shared).
 */
async function measureParallel(fn: () => unknown): Promise<{ parallel: number; busy: number }> {
  const cpu0 = process.cpuUsage(), wall0 = performance.now();
  const parallel = await measureMs(fn, runs);
  const cpu = process.cpuUsage(cpu0), wall = performance.now() - wall0;
  return { parallel, busy: (cpu.user + cpu.system) / 1000 / wall };
}

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  return matrix(rows, cols, randn(rows * cols, createRng(seed)));
}

/** Reference timings, measured once per run and shown on the line of every kernel set. */
const referenceMs = new Map<string, number>();
async function referenceOnce(name: string, fn: () => unknown): Promise<number> {
  if (!referenceMs.has(name)) referenceMs.set(name, await measureMs(fn, { minRuns: 1, minMs: 0 }));
  return referenceMs.get(name)!;
}

/**
 * The best time of `fn` under each kernel set, the sets alternating run by run (ts, simd, ts, ...),
 * so that a load that changes during the measurement affects both alike; and the cores the
 * process kept busy meanwhile (see {@link measureParallel}).
 */
async function bestPerKernel(
  fn: () => unknown,
): Promise<{ best: Record<string, number>; busy: number }> {
  const best: Record<string, number> = {};
  for (const ks of kernelSets) {
    setKernels(ks);
    await fn(); // warm-up
    best[ks] = Infinity;
  }
  const cpu0 = process.cpuUsage(), wall0 = performance.now();
  let spent = 0;
  for (let run = 0; run < runs.minRuns || spent < runs.minMs * kernelSets.length; run++) {
    for (const ks of kernelSets) {
      setKernels(ks);
      const start = performance.now();
      await fn();
      const ms = performance.now() - start;
      best[ks] = Math.min(best[ks], ms);
      spent += ms;
    }
  }
  const cpu = process.cpuUsage(cpu0), wall = performance.now() - wall0;
  return { best, busy: (cpu.user + cpu.system) / 1000 / wall };
}

async function benchMatmul(pool: Pool, transB: boolean): Promise<Line[]> {
  const n = 1024, a = randomMatrix(n, n, 1), b = toShared(randomMatrix(n, n, 2));
  const [reference, fast, parallel] = transB
    ? [matmulTransBReference, matmulTransB, matmulTransBParallel]
    : [matmulReference, matmul, matmulParallel];
  const as = toShared(a);
  const kernel = transB ? "matmulTransB 1024 (X W^T)" : "matmul 1024";
  const ref = await referenceOnce(kernel, () => reference(a, b));
  const one = await bestPerKernel(() => fast(a, b));
  const workers = await bestPerKernel(() => parallel(pool, as, b));
  return kernelSets.map((ks) => ({
    kernel: `${kernel} [${ks}]`,
    reference: ref,
    fast: one.best[ks],
    parallel: workers.best[ks],
    busy: workers.busy,
    flops: 2 * n ** 3,
  }));
}

/** `linearInto` on 1024 tokens of a 1024 x 1024 layer, one thread (the forward pass's product). */
async function benchLinear(): Promise<Line[]> {
  const n = 1024, x = randomMatrix(n, n, 1), w = randomMatrix(n, n, 2), out = matrix(n, n);
  const ref = await referenceOnce("matmulTransB 1024 (X W^T)", () => matmulTransBReference(x, w));
  const one = await bestPerKernel(() => linearInto(out, x, w));
  return kernelSets.map((ks) => ({
    kernel: `linear 1024 (X W^T, forward) [${ks}]`,
    reference: ref,
    fast: one.best[ks],
    flops: 2 * n ** 3,
    note: ks === "simd" ? "float32 sums" : "float64 sums (= matmulTransB)",
  }));
}

/** FLOPs of a forward pass over `windows` windows of `T` tokens (see the module doc). */
function forwardFlops(
  w: LlamaWeights,
  windows: number,
  T: number,
): { total: number; text: string } {
  const linears = w.blocks.reduce(
    (s, b) => s + LINEAR_NAMES.reduce((t, n) => t + b[n].data.length, 0),
    0,
  );
  const matmulWeights = linears + w.classifier.data.length;
  const attention = w.config.nLayers * windows * 2 * w.config.dim * T * (T + 1);
  const total = 2 * matmulWeights * windows * T + attention;
  const text = `2 x ${matmulWeights.toLocaleString("en")} weights x ${
    windows * T
  } tokens + attention ${(attention / 1e9).toFixed(3)} GFLOP = ${(total / 1e9).toFixed(2)} GFLOP`;
  return { total, text };
}

async function benchForward(pool: Pool, w: LlamaWeights, ids: Int32Array): Promise<Line[]> {
  const T = 256, windows = 4, text = ids.slice(0, windows * T), shared = shareWeights(w);
  const flops = forwardFlops(w, windows, T);
  const reference = await referenceOnce("forward", () => {
    const d = referenceDecoder(w);
    for (let t = 0; t < T; t++) d.next(text[t]);
  }) * windows;
  const one = await bestPerKernel(() => perplexity(w, text, { seqlen: T }));
  const workers = await bestPerKernel(() => perplexityParallel(pool, shared, text, { seqlen: T }));
  const tps = (t: number) => Math.round((windows * T) / (t / 1000)).toLocaleString("en");
  return kernelSets.map((ks) => ({
    kernel: `llama4m forward 4x256 [${ks}]`,
    reference,
    fast: one.best[ks],
    parallel: workers.best[ks],
    busy: workers.busy,
    flops: flops.total,
    note: `${tps(one.best[ks])} / ${
      tps(workers.best[ks])
    } tokens/s; FLOPs ${flops.text}; reference: 1 window x4`,
  }));
}

/** Log-normal column norms with 1% outlier channels x20 (what LLM activations look like). */
function realisticColNorms(cols: number, seed: number): Float32Array {
  const z = randn(cols, createRng(seed));
  return z.map((v, j) => Math.exp(0.5 * v) * (j % 100 === 7 ? 20 : 1));
}

async function benchScoreSelect(pool: Pool, method: MethodDescriptor): Promise<Line> {
  const n = quick ? 1024 : 4096,
    w = toShared(randomMatrix(n, n, 3)),
    colNorms = realisticColNorms(n, 4);
  const scoreRef = () => method.scoreReference!(w, { colNorms });
  const reference = await measureMs(() => {
    const s = scoreRef(), k = Math.floor(0.5 * n);
    for (let i = 0; i < n; i++) selectBySort(s.data.subarray(i * n, (i + 1) * n), k);
  }, { minRuns: 1, minMs: 0 });
  const fast = await measureMs(() => method.prune(w, { colNorms }, ROW_TARGET), runs);
  const { parallel, busy } = await measureParallel(() =>
    pruneLayerParallel(pool, method, w, { colNorms }, ROW_TARGET)
  );
  return {
    kernel: `${method.name} score+select ${n}x${n}`,
    reference,
    fast,
    parallel,
    busy,
    note: "50% per row, ewma-exact (reference: element-wise score + sort); includes masking",
  };
}

/** SwiftPrune on every linear of the model with column norms of real inputs (not timed). */
async function benchSwiftPruneModel(pool: Pool, w: LlamaWeights, ids: Int32Array): Promise<Line> {
  const shared = shareWeights(w), T = 256;
  let h = Array.from({ length: 4 }, (_, i) => embed(w, ids.subarray(i * T, (i + 1) * T)));
  const layers: { weight: Matrix; colNorms: Float32Array }[] = [];
  for (let l = 0; l < w.config.nLayers; l++) {
    const run = await blockForwardWindows(pool, shared, l, h);
    for (const name of LINEAR_NAMES) {
      layers.push({
        weight: shared.blocks[l][name],
        colNorms: columnNorms(run.inputs[INPUT_OF[name]]!),
      });
    }
    h = run.outputs;
  }
  const all = (p: Pool | undefined) => async () => {
    for (const { weight, colNorms } of layers) {
      await pruneLayerParallel(p, swiftpruneMethod, weight, { colNorms }, ROW_TARGET);
    }
  };
  return {
    kernel: `swiftprune all ${layers.length} llama4m linears`,
    fast: await measureMs(all(undefined), runs),
    ...await measureParallel(all(pool)),
    note: "score+select+mask, 50% per row, ewma-exact, norms of 4x256 real tokens (not timed)",
  };
}

function targetLine(name: string, value: number, goal: number, unit: string, line: Line): void {
  const higher = unit !== " s", pass = higher ? value >= goal : value < goal;
  const rel = higher ? ">=" : "<";
  const busy = line.busy === undefined
    ? ""
    : `cores busy while the workers ran ${line.busy.toFixed(2)}, `;
  console.log(
    `${pass ? "PASS" : "MISS"}  ${name}: ${
      value.toFixed(2)
    }${unit} (target ${rel} ${goal}${unit}; ${busy}load ${load()})`,
  );
}

const pool = createPool({ size: workers, idleTimeoutMs: 5000 });
try {
  const model = readLlama2c(readBytes("models/llama4m/llama4m.bin"));
  const tok = readTokenizer(readBytes("models/stories260K/tok512.bin"));
  const wiki = readFileSync(new URL("text/wikitext-2-raw/wiki.test.raw", SHARED), "utf8");
  const ids = encode(tok, wiki.slice(0, 40_000), { bos: true, eos: false });
  console.log(
    `bench-kernels: ${workers} workers, ${defaultPoolSize()} logical cores reported; load average (1 min) at start ${load()}` +
      (quick ? "; --quick" : ""),
  );
  console.log(
    "| kernel | reference | fast | fast + workers | fast / ref | workers / fast | GFLOPS ref / fast / workers | workers | cores busy | load | notes |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |");
  const byKernels: Partial<Record<KernelSet, Line[]>> = {};
  for (
    const bench of [
      () => benchMatmul(pool, false),
      () => benchMatmul(pool, true),
      () => benchLinear(),
      () => benchForward(pool, model, ids),
    ]
  ) {
    const lines = await bench();
    for (const [i, ks] of kernelSets.entries()) {
      printLine(lines[i]);
      (byKernels[ks] ??= []).push(lines[i]);
    }
  }
  const fastest = kernelSets[kernelSets.length - 1];
  setKernels(fastest);
  const others: Line[] = [];
  for (
    const bench of [
      () => benchScoreSelect(pool, swiftpruneMethod),
      () => benchScoreSelect(pool, wandaMethod),
      () => benchSwiftPruneModel(pool, model, ids),
    ]
  ) {
    const line = await bench();
    line.kernel += ` [${fastest}]`;
    printLine(line);
    others.push(line);
  }
  console.log("\ntargets (2-core machine):");
  const [mm, , , fwd] = byKernels[fastest]!, [, , swift] = others;
  targetLine("matmul 1024, workers vs 1 thread", mm.fast / mm.parallel!, 1.7, "x", mm);
  targetLine("forward pass GFLOPS (with workers)", fwd.flops! / (fwd.parallel! * 1e6), 4, "", fwd);
  targetLine(
    "SwiftPrune all llama4m layers (with workers)",
    swift.parallel! / 1000,
    2,
    " s",
    swift,
  );
  const ts = byKernels.ts, simd = byKernels.simd;
  if (ts && simd) {
    targetLine(
      "matmul 1024 simd vs ts GFLOPS, 1 thread (float64, bit-identical)",
      ts[0].fast / simd[0].fast,
      3,
      "x",
      simd[0],
    );
    targetLine(
      "linear 1024 simd vs ts GFLOPS, 1 thread (forward pass product)",
      ts[2].fast / simd[2].fast,
      3,
      "x",
      simd[2],
    );
    targetLine(
      `llama4m forward simd vs ts tokens/s, ${workers} workers`,
      ts[3].parallel! / simd[3].parallel!,
      3,
      "x",
      simd[3],
    );
  } else {
    console.log("(simd vs ts targets: run without --kernels to compare both)");
  }
} finally {
  pool.close();
}
