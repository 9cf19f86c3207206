// Whole-layer pruning work, two parts.
// 1. Scoring + per-row selection at 50% on layers of 256^2 to 4096^2 (filled from llama4m's linear
//    weights, tiled past 4.4M values): every layer method of the complexity registry. Baseline: the
//    sort-based selection. 4096^2 runs 2 iterations after 1 warm-up (sorting 4096 rows is slow).
// 2. End-to-end pruners (statistics of X + scores + mask, and SparseGPT's OBS update) on 256^2,
//    512^2, 1024^2 and the real llama4m shapes (256x256, 128x256, 704x256, 256x704), X = 256
//    synthetic tokens. Baseline: the first registered pruner (SwiftPrune). SparseGPT is cubic in
//    cols, so 4096^2 is left to `deno task complexity` (full run, time-budgeted).
import { channelScales, syntheticInputs, tiledMatrix } from "../src/bench/synthetic.ts";
import { createRng } from "../src/tensor/rng.ts";
import type { Matrix } from "../src/tensor/matrix.ts";
import { LAYER_METHODS, LAYER_PRUNERS, TARGET_NAMES } from "../src/bench/complexity_methods.ts";
import { defaultModelsDir, layerValuePool, readRealLayers } from "./lib/real_layers.ts";

const pool = layerValuePool(defaultModelsDir(), 1);
for (const d of [256, 1024, 4096]) {
  const { matrix: weight } = tiledMatrix(pool.values, d, d);
  const input = { weight, colNorms: channelScales(d, createRng(d)), sparsity: 0.5 };
  for (const method of LAYER_METHODS) {
    Deno.bench({
      name: `${method.name} ${d}x${d}`,
      group: `layer ${d}x${d}`,
      baseline: method.name === TARGET_NAMES.layerSort,
      ...(d >= 4096 ? { n: 2, warmup: 1 } : {}),
      fn: () => {
        method.run(input);
      },
    });
  }
}

const real = (readRealLayers(defaultModelsDir(), "llama4m") ?? []).filter((l) =>
  /^llama4m L0 (wq|wk|w1|w2)$/.test(l.label)
);
const prunerLayers: { weight: Matrix; label: string }[] = [
  ...[256, 512, 1024].map((d) => ({
    weight: tiledMatrix(pool.values, d, d).matrix,
    label: `${d}x${d}`,
  })),
  ...real.map((l) => ({ weight: l.weight, label: `${l.label} ${l.weight.rows}x${l.weight.cols}` })),
];
for (const { weight, label } of prunerLayers) {
  const x = syntheticInputs(256, weight.cols, createRng(weight.cols));
  for (const p of LAYER_PRUNERS) {
    Deno.bench({
      name: `${p.name} ${label}`,
      group: `prune ${label}`,
      baseline: p.name === TARGET_NAMES.referencePruner,
      ...(weight.cols >= 1024 ? { n: 3, warmup: 1 } : {}),
      fn: () => {
        p.run(weight, x, 0.5);
      },
    });
  }
}
