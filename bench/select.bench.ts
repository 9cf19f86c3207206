// Per-row selection: every selector of the complexity registry on one row of |w| (w ~ N(0, 1),
// seeded) of 1,024 to 16,384 scores, pruning half. Baseline: the sort reference.
//   deno task bench   (or: deno bench --allow-read --allow-env bench/select.bench.ts)
import { absValues, syntheticWeights } from "../src/bench/synthetic.ts";
import { createRng } from "../src/tensor/rng.ts";
import { ROW_SELECTORS, TARGET_NAMES } from "../src/bench/complexity_methods.ts";

for (const n of [1024, 4096, 16384]) {
  const scores = absValues(syntheticWeights("gaussian", n, createRng(n)));
  const k = Math.floor(n / 2);
  for (const sel of ROW_SELECTORS) {
    Deno.bench({
      name: `${sel.name} n=${n}`,
      group: `select row n=${n}`,
      baseline: sel.name === TARGET_NAMES.sort,
      fn: () => {
        sel.select(scores, k);
      },
    });
  }
}
