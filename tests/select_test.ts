import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createRng, type Rng } from "../src/tensor/rng.ts";
import { selectBySort } from "../src/select/sort.ts";
import {
  EWMA_DEFAULTS,
  keyOf,
  scoreBits,
  selectEwma,
  selectEwmaTrace,
} from "../src/select/ewma.ts";
import { selectEwmaExact, selectSmallest } from "../src/select/ewma_exact.ts";
import { DISTRIBUTIONS, formatTable, realLayerAccuracy } from "../scripts/ewma-accuracy.ts";

type Draw = (rng: Rng) => number;
const KINDS: Record<string, Draw> = {
  ...DISTRIBUTIONS,
  signed: (rng) => rng.normal(),
  "few ties": (rng) => rng.int(5),
  "zeros": (rng) => (rng.uniform() < 0.4 ? 0 : rng.uniform()),
  "signed zeros": (rng) => (rng.uniform() < 0.5 ? -0 : 0),
};

Deno.test("ewma-exact equals selectBySort (ties: lower index first) on many sizes, kinds and seeds", () => {
  const sizes = [1, 2, 3, 4, 5, 17, 64, 255, 1000, 4096];
  for (const [name, draw] of Object.entries(KINDS)) {
    for (const n of sizes) {
      for (let seed = 1; seed <= 3; seed++) {
        const rng = createRng(seed * 31 + n);
        const plain = Array.from({ length: n }, () => draw(rng));
        for (const scores of [plain, Float32Array.from(plain)]) {
          for (
            const k of [0, 1, rng.int(n + 1), Math.floor(n / 2), n - 1, n].filter((k) => k >= 0)
          ) {
            const got = selectEwmaExact(scores, k).keep;
            assert.deepEqual(got, selectBySort(scores, k), `${name} n=${n} k=${k} seed=${seed}`);
          }
        }
      }
    }
  }
});

Deno.test("ewma-exact: float64 values that round to one float32 are still ordered exactly", () => {
  const scores = [1 + 1e-12, 1, 1 + 2e-12, 1 - 1e-12, 1];
  assert.deepEqual(selectEwmaExact(scores, 2).keep, Uint8Array.from([1, 0, 1, 0, 1]));
  assert.deepEqual(selectEwmaExact(scores, 3).keep, selectBySort(scores, 3));
});

Deno.test("selectSmallest: brings exactly the need smallest (score, index) to the front", () => {
  const rng = createRng(9);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + rng.int(60), need = rng.int(n + 1);
    const scores = Array.from({ length: n }, () => rng.int(6));
    const band = Int32Array.from({ length: n }, (_, i) => i);
    selectSmallest(band, need, scores);
    const expected = Array.from(selectBySort(scores, need).entries()).filter(([, v]) => v === 0)
      .map(([i]) => i);
    assert.deepEqual(Array.from(band.subarray(0, need)).sort((a, b) => a - b), expected);
  }
});

Deno.test("score keys are strictly increasing over float32 values, zeros equal", () => {
  const values = [-Infinity, -3e38, -1, -1e-40, -0, 0, 1e-45, 1e-40, 1, 2, 3e38, Infinity];
  const keys = Array.from(scoreBits(values), keyOf);
  for (let i = 1; i < keys.length; i++) {
    if (i === 5) assert.equal(keys[i], keys[i - 1]);
    else {assert.ok(
        keys[i] > keys[i - 1],
        `key of ${values[i]} must exceed key of ${values[i - 1]}`,
      );}
  }
});

Deno.test("ewma: every pruned score is below every kept one, and the reported count is the mask's", () => {
  for (const [name, draw] of Object.entries(KINDS)) {
    const rng = createRng(5);
    const scores = Float32Array.from({ length: 3001 }, () => draw(rng));
    const r = selectEwma(scores, 1000);
    let maxPruned = -Infinity, minKept = Infinity, pruned = 0;
    r.keep.forEach((v, i) =>
      v
        ? (minKept = Math.min(minKept, scores[i]))
        : (pruned++, maxPruned = Math.max(maxPruned, scores[i]))
    );
    assert.equal(pruned, r.pruned, name);
    assert.ok(maxPruned < minKept || pruned === 0 || pruned === 3001, name);
    assert.ok(maxPruned < r.threshold && minKept >= r.threshold, name);
  }
});

Deno.test("ewma: within 1 percentage point per row for rows of 1024..16384 (4 distributions)", () => {
  for (const [name, draw] of Object.entries(DISTRIBUTIONS)) {
    for (const n of [1024, 1536, 3000, 4096, 16384]) {
      for (let seed = 1; seed <= 4; seed++) {
        const rng = createRng(seed * 1009 + n);
        const scores = Float32Array.from({ length: n }, () => draw(rng));
        for (const s of [0.3, 0.45, 0.5, 0.6, 0.7]) {
          const k = Math.floor(s * n), r = selectEwma(scores, k);
          const errPP = (100 * Math.abs(r.pruned - k)) / n;
          assert.ok(
            errPP <= 1,
            `${name} n=${n} seed=${seed} s=${s}: missed by ${errPP.toFixed(3)} pp`,
          );
          assert.ok(r.passes <= 4, `${r.passes} passes`);
        }
      }
    }
  }
});

Deno.test("ewma: one counting pass is already within 1 pp on these rows (the tracker is the pivot)", () => {
  const rng = createRng(77);
  const scores = Float32Array.from({ length: 4096 }, () => Math.abs(rng.normal()));
  const r = selectEwma(scores, 2048, { corrections: 1 });
  assert.ok(Math.abs(r.pruned - 2048) <= 41 && r.passes === 3);
});

Deno.test("ewma: the real layers of ../shared/models (error reported, not asserted)", async () => {
  const rows = [];
  for (
    const [label, file] of [["stories260K", "stories260K/stories260K.bin"], [
      "llama4m",
      "llama4m/llama4m.bin",
    ]]
  ) {
    const bytes = new Uint8Array(
      await readFile(new URL(`../../shared/models/${file}`, import.meta.url)),
    );
    rows.push(realLayerAccuracy(`${label} |W|`, bytes));
  }
  console.log(`\n${formatTable(rows)}`);
  // every row of wq wk wv wo w1 w2 w3 at three sparsities (README: dims 64/32/172, 256/128/704)
  assert.equal(rows[0].rows, 5 * (64 + 32 + 32 + 64 + 172 + 64 + 172) * 3);
  assert.equal(rows[1].rows, 6 * (256 + 128 + 128 + 256 + 704 + 256 + 704) * 3);
});

Deno.test("ewma trace: one record per score; the indicator EWMA hovers near k/n", () => {
  const rng = createRng(3);
  const scores = Float32Array.from({ length: 2048 }, () => Math.exp(rng.normal()));
  const { trace, keep } = selectEwmaTrace(scores, 614);
  assert.equal(trace.score.length, 2048);
  assert.deepEqual(trace.score, scores);
  const tail = trace.prunedFraction.subarray(1024);
  const mean = tail.reduce((a, b) => a + b, 0) / tail.length;
  assert.ok(Math.abs(mean - 0.3) < 0.05, `mean pruned fraction ${mean}`);
  assert.ok(trace.deviation.every((d) => d > 0));
  assert.deepEqual(keep, selectEwma(scores, 614).keep);
});

Deno.test("selectors: inputs are not mutated; bad input throws RangeError naming the value", () => {
  const scores = Float32Array.from([3, 1, 2, 5, 4]);
  const copy = scores.slice();
  selectEwma(scores, 2), selectEwmaExact(scores, 2), selectEwmaTrace(scores, 2);
  assert.deepEqual(scores, copy);
  for (const select of [selectEwma, selectEwmaExact]) {
    assert.throws(() => select(scores, 6), { name: "RangeError", message: /Cannot prune 6 of 5/ });
    assert.throws(() => select(scores, 1.5), {
      name: "RangeError",
      message: /Cannot prune 1.5 of 5/,
    });
    assert.throws(() => select([1, NaN, 2], 1), { name: "RangeError", message: /score 1 is NaN/ });
    assert.throws(() => select([1, NaN, 2], 0), { name: "RangeError", message: /score 1 is NaN/ });
    assert.throws(() => select(scores, 2, { alpha: 0 }), {
      name: "RangeError",
      message: /alpha must be in \(0, 1\], got 0/,
    });
    assert.throws(() => select(scores, 2, { bins: 7 }), { name: "RangeError", message: /got 7/ });
  }
  assert.equal(EWMA_DEFAULTS.alpha, 1 / 8);
});
