// The selectors that write into a caller's mask, and the opt-in strided tracker (OUR READING).
import assert from "node:assert/strict";
import { createRng, type Rng } from "../src/tensor/rng.ts";
import { selectBySort } from "../src/select/sort.ts";
import { checkKeep, selectEwma, selectEwmaInto, selectEwmaTrace } from "../src/select/ewma.ts";
import { selectEwmaExact, selectEwmaExactInto } from "../src/select/ewma_exact.ts";
import { buildMask } from "../src/select/mask.ts";

const KINDS: Record<string, (rng: Rng) => number> = {
  gaussian: (rng) => Math.abs(rng.normal()),
  signed: (rng) => rng.normal(),
  "few ties": (rng) => rng.int(5),
  lognormal: (rng) => Math.exp(3 * rng.normal()),
};

Deno.test("selectEwmaInto / selectEwmaExactInto write exactly what the allocating selectors return, and only their own view", () => {
  for (const [name, draw] of Object.entries(KINDS)) {
    for (const n of [1, 7, 300, 2048]) {
      const rng = createRng(n + name.length);
      const scores = Float32Array.from({ length: n }, () => draw(rng));
      for (const k of [0, 1, Math.floor(n / 3), n]) {
        const layer = new Uint8Array(3 * n).fill(7); // 7 = untouched
        const view = layer.subarray(n, 2 * n);
        const exact = selectEwmaExactInto(scores, k, view);
        assert.equal(exact.keep, view);
        assert.deepEqual(view, selectEwmaExact(scores, k).keep, `${name} n=${n} k=${k}`);
        assert.deepEqual(view, selectBySort(scores, k), `${name} n=${n} k=${k}`);
        const approx = selectEwmaInto(scores, k, view.fill(9));
        const fresh = selectEwma(scores, k);
        assert.deepEqual(view, fresh.keep);
        assert.deepEqual({ ...approx, keep: null }, { ...fresh, keep: null });
        assert.ok(
          layer.subarray(0, n).every((v) => v === 7) && layer.subarray(2 * n).every((v) => v === 7),
        );
      }
    }
  }
});

Deno.test("ewma-exact: when several edges count exactly k the band is empty and nothing is repaired", () => {
  for (const scores of [[3, 5], [5, 3], [0, 6], [6, 0]]) {
    const r = selectEwmaExact(Float32Array.from(scores), 1);
    assert.equal(r.band, 0);
    assert.deepEqual(r.keep, selectBySort(scores, 1));
  }
});

Deno.test("checkKeep: a mask of the wrong type or length is a TypeError naming what was seen", () => {
  const scores = [3, 1, 2];
  assert.throws(() => selectEwmaExactInto(scores, 1, new Uint8Array(2)), {
    name: "TypeError",
    message: /it has 2 entries, expected 3/,
  });
  assert.throws(() => selectEwmaInto(scores, 1, [1, 1, 1] as unknown as Uint8Array), TypeError);
  assert.throws(() => checkKeep(new Int8Array(3), 3), TypeError);
  checkKeep(new Uint8Array(3), 3);
});

Deno.test("trackStride (OUR READING, opt-in): exact stays equal to sort, approximate within 1 pt for n >= 1024", () => {
  for (const [name, draw] of Object.entries(KINDS)) {
    for (const n of [5, 100, 1024, 4096]) {
      const rng = createRng(3 * n + name.length);
      const scores = Float32Array.from({ length: n }, () => draw(rng));
      for (const trackStride of [2, 8, 64]) {
        for (const k of [1, Math.floor(n / 2), n - 1]) {
          const exact = selectEwmaExact(scores, k, { trackStride }).keep;
          assert.deepEqual(
            exact,
            selectBySort(scores, k),
            `${name} n=${n} k=${k} s=${trackStride}`,
          );
          if (n >= 1024 && trackStride <= 8 && name !== "few ties") { // a threshold cannot split ties
            const { pruned } = selectEwma(scores, k, { trackStride });
            assert.ok(Math.abs(pruned - k) <= n / 100, `${name} n=${n} k=${k}: ${pruned}`);
          }
        }
      }
    }
  }
});

Deno.test("trackStride: validated; NaN found even where the tracker does not look; the trace records only its steps", () => {
  const scores = Array.from({ length: 64 }, (_, i) => (i * 37) % 64 + 1);
  for (const bad of [0, 1.5, -2]) {
    assert.throws(() => selectEwma(scores, 10, { trackStride: bad }), {
      name: "RangeError",
      message: new RegExp(`trackStride must be an integer >= 1, got ${bad}`),
    });
  }
  const withNaN = scores.slice();
  withNaN[5] = NaN; // not a multiple of 4: the strided tracker never reads it
  assert.throws(() => selectEwmaExact(withNaN, 10, { trackStride: 4 }), /score 5 is NaN/);
  assert.throws(() => selectEwma(withNaN, 10, { trackStride: 4 }), /score 5 is NaN/);
  const { trace } = selectEwmaTrace(scores, 32, { trackStride: 4 });
  for (let i = 0; i < 64; i++) {
    if (i % 4 === 0) assert.ok(trace.deviation[i] > 0, `step ${i} recorded`);
    else assert.equal(trace.deviation[i], 0, `step ${i} not taken`);
  }
});

Deno.test("buildMask: row selection into the layer's mask reports per-row counts that match the mask", () => {
  const rng = createRng(4);
  const data = Float32Array.from({ length: 6 * 1500 }, () => rng.normal());
  const scores = { data, rows: 6, cols: 1500 };
  for (const select of ["sort", "ewma", "ewma-exact"] as const) {
    const m = buildMask(scores, { kind: "unstructured", sparsity: 0.4, group: "row" }, { select });
    for (let i = 0; i < 6; i++) {
      const row = m.keep.subarray(i * 1500, (i + 1) * 1500);
      assert.equal(m.prunedPerRow![i], row.length - row.reduce((a, b) => a + b, 0), select);
    }
    assert.equal(m.pruned, m.prunedPerRow!.reduce((a, b) => a + b, 0));
  }
});
