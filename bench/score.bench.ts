// Scoring a whole layer: every scorer of the complexity registry on layers of 256^2 to 4096^2
// filled from llama4m's linear weights (tiled past 4.4M values), with synthetic column norms, next
// to the streaming floor (read every weight once, write one byte). Baseline: magnitude (or the
// floor while no scorer is registered). The 4096^2 group runs few iterations to keep the bench short.
import { channelScales, tiledMatrix } from "../src/bench/synthetic.ts";
import { streamingThresholdPass } from "../src/bench/streaming.ts";
import { createRng } from "../src/tensor/rng.ts";
import { SCORERS } from "../src/bench/complexity_methods.ts";
import { defaultModelsDir, layerValuePool } from "./lib/real_layers.ts";

const pool = layerValuePool(defaultModelsDir(), 1);
for (const d of [256, 1024, 4096]) {
  const { matrix: weight } = tiledMatrix(pool.values, d, d);
  const colNorms = channelScales(d, createRng(d));
  const few = d >= 4096 ? { n: 5, warmup: 1 } : {};
  const group = `score ${d}x${d}`;
  Deno.bench({
    name: `stream (floor) ${d}x${d}`,
    group,
    baseline: SCORERS.length === 0,
    ...few,
    fn: () => {
      streamingThresholdPass(weight.data, 0.01);
    },
  });
  for (const [i, scorer] of SCORERS.entries()) {
    Deno.bench({
      name: `${scorer.name} ${d}x${d}`,
      group,
      baseline: i === 0,
      ...few,
      fn: () => {
        scorer.score(weight, colNorms);
      },
    });
  }
}
