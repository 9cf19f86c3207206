import assert from "node:assert/strict";
import { fitLogLog, pointsAboveFloor, quantile, summarize } from "../src/bench/stats.ts";
import { measureStable } from "../src/bench/measure.ts";
import { streamingThresholdPass } from "../src/bench/streaming.ts";
import {
  absValues,
  DISTRIBUTIONS,
  syntheticInputs,
  syntheticWeights,
  tiledMatrix,
} from "../src/bench/synthetic.ts";
import { createRng } from "../src/tensor/rng.ts";
import { logLogSvg, logTicks } from "../scripts/lib/svg_chart.ts";

Deno.test("fitLogLog recovers known exponents exactly on noiseless power laws", () => {
  const ns = [1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18];
  for (const [c, p] of [[1e-6, 1], [4e-3, 0.5], [2e-9, 2], [7, 3]]) {
    const fit = fitLogLog(ns, ns.map((n) => c * n ** p));
    assert.ok(Math.abs(fit.slope - p) < 1e-9, `slope ${fit.slope} for p=${p}`);
    assert.ok(Math.abs(fit.intercept - Math.log(c)) < 1e-6, `intercept ${fit.intercept}`);
    assert.ok(fit.r2 > 1 - 1e-12);
  }
});

Deno.test("fitLogLog: n log n over 2^10..2^22 fits a slope near 1.09, and seeded noise moves it little", () => {
  const ns = Array.from({ length: 13 }, (_, i) => 2 ** (10 + i));
  // Independent derivation: the chord slope of ln(n ln n) against ln n from 2^10 to 2^22 is
  // 1 + ln(22/10) / (12 ln 2) = 1.0948; the local slope 1 + 1/ln n runs from 1.144 down to 1.066.
  const fit = fitLogLog(ns, ns.map((n) => n * Math.log(n)));
  assert.ok(Math.abs(fit.slope - 1.0948) < 0.005, `slope ${fit.slope}`);
  const rng = createRng(5);
  const noisy = fitLogLog(ns, ns.map((n) => 1e-5 * n * Math.exp(0.1 * rng.normal())));
  assert.ok(Math.abs(noisy.slope - 1) < 0.05, `noisy slope ${noisy.slope}`);
  assert.ok(noisy.r2 < 1 && noisy.r2 > 0.99);
});

Deno.test("fitLogLog and quantile reject bad input with the value seen", () => {
  assert.throws(() => fitLogLog([1, 2], [1]), {
    name: "TypeError",
    message: /2 sizes but 1 times/,
  });
  assert.throws(() => fitLogLog([4], [1]), { name: "RangeError", message: /1 point/ });
  assert.throws(() => fitLogLog([1, 2], [1, 0]), {
    name: "RangeError",
    message: /point 1 is \(2, 0\)/,
  });
  assert.throws(() => fitLogLog([8, 8], [1, 2]), {
    name: "RangeError",
    message: /all 2 sizes are 8/,
  });
  assert.throws(() => quantile([], 0.5), { name: "RangeError" });
  assert.throws(() => quantile([1], 1.5), { name: "RangeError", message: /1.5/ });
});

Deno.test("summarize: median, extremes and IQR/median spread; inputs untouched", () => {
  const xs = [5, 1, 4, 2, 3];
  const s = summarize(xs);
  assert.deepEqual(s, { median: 3, min: 1, max: 5, spread: (4 - 2) / 3, count: 5 });
  assert.deepEqual(xs, [5, 1, 4, 2, 3]);
});

Deno.test("pointsAboveFloor keeps sizes above the floor, else the largest minPoints", () => {
  assert.deepEqual(pointsAboveFloor([1, 2, 4, 8, 16], [0, 0, 1, 2, 4], 0.5, 3), [2, 3, 4]);
  assert.deepEqual(pointsAboveFloor([1, 2, 4, 8, 16], [0, 0, 0, 0, 4], 0.5, 3), [2, 3, 4]);
  assert.deepEqual(pointsAboveFloor([1, 2], [0, 0], 0.5, 3), [0, 1]);
});

Deno.test("measureStable: batches fast calls, stops at the time cap for slow ones", () => {
  let t = 0;
  const fast = measureStable(() => (t += 0.01), {
    now: () => t,
    minRuns: 3,
    minTotalMs: 0,
    minSampleMs: 1,
  });
  assert.ok(fast.batch * 0.01 >= 1 && fast.batch <= 200, `batch ${fast.batch}`);
  assert.ok(Math.abs(fast.median - 0.01) < 1e-9);
  assert.equal(fast.count, 3);
  t = 0; // the first (cold) call is slow: the batch must still be sized on warm calls
  let calls = 0;
  const cold = measureStable(() => (t += calls++ === 0 ? 50 : 0.01), {
    now: () => t,
    minRuns: 3,
    minTotalMs: 0,
    minSampleMs: 1,
  });
  assert.ok(cold.batch >= 100, `batch ${cold.batch}`);
  assert.ok(Math.abs(cold.median - 0.01) < 1e-9);
  t = 0;
  const slow = measureStable(() => (t += 500), {
    now: () => t,
    minRuns: 5,
    minTotalMs: 0,
    maxTotalMs: 1200,
  });
  assert.equal(slow.count, 3); // 500, 1000, 1500 >= 1200: stop
  assert.equal(slow.capped, true);
  assert.throws(() => measureStable(() => 0, { minRuns: 0 }), {
    name: "RangeError",
    message: /got 0/,
  });
});

Deno.test("streamingThresholdPass equals a per-element comparison and checks its arguments", () => {
  const w = syntheticWeights("laplace", 4099, createRng(2));
  w[0] = 0.7, w[1] = -0.7, w[2] = -0, w[3] = 0, w[4] = Infinity; // the threshold itself, zeros, inf
  for (const t of [0, 0.7, 1e-30, 2.5, Infinity]) {
    const keep = streamingThresholdPass(w, t);
    const ft = Math.fround(t);
    for (let i = 0; i < w.length; i++) {
      assert.equal(keep[i], Math.abs(w[i]) >= ft ? 1 : 0, `t=${t} i=${i}`);
    }
  }
  const sub = w.subarray(5, 9); // a view with a byte offset
  assert.deepEqual(
    Array.from(streamingThresholdPass(sub, 1)),
    Array.from(sub, (v) => (Math.abs(v) >= 1 ? 1 : 0)),
  );
  assert.throws(() => streamingThresholdPass(w, 1, new Uint8Array(3)), {
    name: "TypeError",
    message: /3 entries/,
  });
  assert.throws(() => streamingThresholdPass(w, -1), { name: "RangeError", message: /got -1/ });
});

Deno.test("synthetic data: seeded, right sizes, heavy tails where promised", () => {
  for (const d of DISTRIBUTIONS) {
    const a = syntheticWeights(d, 4096, createRng(9));
    assert.deepEqual(a, syntheticWeights(d, 4096, createRng(9)));
    assert.ok(a.every(Number.isFinite));
  }
  const maxAbs = (d: (typeof DISTRIBUTIONS)[number]) =>
    Math.max(...absValues(syntheticWeights(d, 20000, createRng(4))));
  assert.ok(
    maxAbs("outliers") > 5 * maxAbs("gaussian"),
    "outliers should exceed Gaussian extremes",
  );
  assert.throws(() => syntheticWeights("cauchy" as never, 4, createRng(1)), {
    name: "RangeError",
    message: /cauchy/,
  });
  const { matrix, repeats } = tiledMatrix(new Float32Array([1, 2]), 3, 3);
  assert.deepEqual(Array.from(matrix.data), [1, 2, 1, 2, 1, 2, 1, 2, 1]);
  assert.equal(repeats, 5);
  const x = syntheticInputs(64, 200, createRng(1));
  assert.equal(x.rows, 64);
  assert.equal(x.cols, 200);
});

Deno.test("svg chart: ticks, escaping, one path per series, empty input rejected", () => {
  assert.deepEqual(logTicks(1, 1000, 10), [1, 10, 100, 1000]);
  const svg = logLogSvg([
    {
      title: "a<b",
      xLabel: "n",
      yLabel: "ms",
      series: [{ name: "x", points: [[2, 1], [4, 2]] }, { name: "y", points: [[2, 3], [4, 9]] }],
    },
    { title: "empty", xLabel: "n", yLabel: "ms", series: [] },
  ]);
  assert.equal(svg.match(/<path /g)?.length, 2);
  assert.ok(svg.includes("a&lt;b") && svg.includes("empty: no data"));
  assert.throws(() => logLogSvg([]), { name: "RangeError" });
});
