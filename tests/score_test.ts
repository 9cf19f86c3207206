import assert from "node:assert/strict";
import { assertAllClose } from "../src/check/all_close.ts";
import { fromRows, type Matrix } from "../src/tensor/matrix.ts";
import { createRng, randn } from "../src/tensor/rng.ts";
import { magnitudeScores, magnitudeScoresReference } from "../src/score/magnitude.ts";
import {
  columnNorms,
  columnNormsReference,
  wandaScores,
  wandaScoresReference,
} from "../src/score/wanda.ts";
import {
  swiftPruneScores,
  swiftPruneScoresReference,
  type XStat,
} from "../src/score/swiftprune.ts";
import { invert } from "./lib/invert.ts";

const SHAPES: [number, number][] = [[1, 1], [1, 7], [1, 64], [3, 5], [7, 33], [2, 4096], [16, 17]];

function random(rows: number, cols: number, seed: number, scale = 1): Matrix {
  return { data: randn(rows * cols, createRng(seed), scale), rows, cols };
}

Deno.test("magnitude and wanda: fast equals reference exactly on many shapes and seeds", () => {
  for (const [rows, cols] of SHAPES) {
    for (let seed = 1; seed <= 3; seed++) {
      const w = random(rows, cols, seed), x = random(5 + seed, cols, seed + 100);
      assert.deepEqual(magnitudeScores(w).data, magnitudeScoresReference(w).data);
      const norms = columnNorms(x);
      assert.deepEqual(norms, columnNormsReference(x));
      assert.deepEqual(wandaScores(w, norms).data, wandaScoresReference(w, norms).data);
    }
  }
});

Deno.test("wanda: scores are |W| times the column norms computed by hand", () => {
  const x = fromRows([[3, 0, 1], [4, 0, 1], [0, 2, 1], [0, 0, 1]]); // norms 5, 2, 2
  const s = wandaScores(fromRows([[-1, 1, 0.5]]), columnNorms(x));
  assert.deepEqual(Array.from(s.data), [5, 2, 1]);
});

Deno.test("swiftprune: fast agrees with reference for every xStat, shape and seed", () => {
  for (const xStat of ["norm", "token", "mean"] as XStat[]) {
    for (const [rows, cols] of SHAPES.filter(([, c]) => c <= 64 || xStat !== "token")) {
      for (let seed = 1; seed <= 3; seed++) {
        const w = random(rows, cols, seed), x = random(4 + seed, cols, seed + 50, 3);
        for (const eps of [1e-8, 0.1]) {
          const fast = swiftPruneScores(w, { inputs: x }, { xStat, eps });
          const ref = swiftPruneScoresReference(w, { inputs: x }, { xStat, eps });
          assertAllClose(
            fast.data,
            ref.data,
            { rtol: 1e-5, atol: 0 },
            `${xStat} [${rows},${cols}] seed ${seed}`,
          );
        }
      }
    }
  }
});

Deno.test("swiftprune: norm from inputs equals norm from column norms, and is unit-free", () => {
  const w = random(4, 9, 1), x = random(6, 9, 2);
  const fromInputs = swiftPruneScores(w, { inputs: x });
  assert.deepEqual(fromInputs.data, swiftPruneScores(w, { colNorms: columnNorms(x) }).data);
  const scaled = { ...x, data: x.data.map((v) => v * 1024) }; // exact power-of-two scaling
  assert.deepEqual(swiftPruneScores(w, { inputs: scaled }).data, fromInputs.data);
});

/** OBS saliency w_j^2 / [H^-1]_jj with H = x x^T + ridge I, by an explicit inverse. */
function obsSaliency(w: ArrayLike<number>, x: ArrayLike<number>, ridge: number): number[] {
  const n = x.length;
  const h = Array.from(
    { length: n },
    (_, i) => Array.from({ length: n }, (_, j) => x[i] * x[j] + (i === j ? ridge : 0)),
  );
  const inv = invert(h);
  return Array.from(w, (wj, j) => (wj * wj) / inv[j][j]);
}

Deno.test("swiftprune: closed form equals the OBS saliency of H = x x^T + eps I (explicit inverse)", () => {
  for (let seed = 1; seed <= 5; seed++) {
    const cols = 3 + seed;
    const w = random(1, cols, seed), x = random(1, cols, seed + 10).data.map(Math.abs);
    const energy = x.reduce((s, v) => s + v * v, 0);
    for (const eps of [0.5, 0.01]) {
      const ridge = eps * energy; // our eps is relative: the ridge is eps * S
      const obs = obsSaliency(w.data, x, ridge).map((v) => v / ridge); // the dropped constant factor eps
      const closed = swiftPruneScores(w, { colNorms: x }, { eps });
      assertAllClose(closed.data, obs, { rtol: 1e-5, atol: 0 }, `seed ${seed} eps ${eps}`);
    }
  }
});

Deno.test("swiftprune: token reading sums the per-token OBS saliencies (explicit inverses)", () => {
  const w = random(1, 4, 3), x = random(3, 4, 4), eps = 0.2;
  const expected = new Array(4).fill(0);
  for (let t = 0; t < x.rows; t++) {
    const xt = x.data.subarray(t * 4, t * 4 + 4);
    const ridge = eps * xt.reduce((s, v) => s + v * v, 0);
    obsSaliency(w.data, xt, ridge).forEach((v, j) => (expected[j] += v / ridge));
  }
  assertAllClose(swiftPruneScores(w, { inputs: x }, { xStat: "token", eps }).data, expected, {
    rtol: 1e-5,
    atol: 0,
  });
});

Deno.test("swiftprune: zero inputs give magnitude squared; an outlier channel is boosted", () => {
  const w = fromRows([[1, -2, 3]]);
  assert.deepEqual(Array.from(swiftPruneScores(w, { inputs: fromRows([[0, 0, 0]]) }).data), [
    1,
    4,
    9,
  ]);
  const s = swiftPruneScores(fromRows([[1, 1, 1]]), { colNorms: new Float32Array([1, 1, 10]) });
  assert.ok(s.data[2] > 50 * s.data[0]);
});

Deno.test("scores: inputs are not mutated", () => {
  const w = random(3, 8, 1), x = random(5, 8, 2), norms = columnNorms(x);
  const before = [w.data.slice(), x.data.slice(), norms.slice()];
  magnitudeScores(w), wandaScores(w, norms);
  for (const xStat of ["norm", "token", "mean"] as XStat[]) {
    swiftPruneScores(w, { inputs: x, colNorms: norms }, { xStat });
  }
  assert.deepEqual([w.data, x.data, norms], before);
});

Deno.test("scores: bad input throws the specified error naming the value", () => {
  const w = random(2, 3, 1);
  assert.throws(() => magnitudeScores({ data: [1], rows: 1, cols: 1 } as unknown as Matrix), {
    name: "TypeError",
    message: /got Array/,
  });
  assert.throws(() => wandaScores(w, new Float32Array(4)), {
    name: "TypeError",
    message: /got 4 column norms, expected 3/,
  });
  assert.throws(() => swiftPruneScores(w, { inputs: random(2, 4, 1) }), {
    name: "TypeError",
    message: /inputs are \[2, 4\]/,
  });
  assert.throws(() => swiftPruneScores(w, {}, { xStat: "token" }), {
    name: "TypeError",
    message: /"token": calibration inputs are missing/,
  });
  assert.throws(() => swiftPruneScores(w, {}), {
    name: "TypeError",
    message: /inputs or colNorms/,
  });
  assert.throws(() => swiftPruneScores(w, { colNorms: new Float32Array(3) }, { xStat: "mean" }), {
    name: "TypeError",
    message: /"mean"/,
  });
  assert.throws(
    () => swiftPruneScores(w, { colNorms: new Float32Array(3) }, { xStat: "max" as XStat }),
    { name: "RangeError", message: /got max/ },
  );
  assert.throws(() => swiftPruneScores(w, { colNorms: new Float32Array(3) }, { eps: 0 }), {
    name: "RangeError",
    message: /got 0/,
  });
  assert.throws(() => swiftPruneScores(w, { colNorms: new Float32Array(3) }, { eps: NaN }), {
    name: "RangeError",
    message: /got NaN/,
  });
});
