/**
 * `rankOneFit` (how well `x x^T` stands in for `X^T X`) and `obsDiagonalScores` (the full-Hessian
 * OBS saliency SwiftPrune, Wanda and magnitude approximate), against independent oracles: closed
 * forms, the Jacobi eigenvalue reference and an explicit Gauss-Jordan inverse.
 */
import assert from "node:assert/strict";
import { rankOneFit } from "../src/linalg/rank_one.ts";
import { largestEigenvalueReference } from "../src/linalg/power_iteration.ts";
import { obsDiagonalScores } from "../src/score/obs_diagonal.ts";
import { swiftPruneScores } from "../src/score/swiftprune.ts";
import { createRng } from "../src/tensor/rng.ts";
import { fromRows } from "../src/tensor/matrix.ts";
import { invert } from "./lib/invert.ts";

/** `X^T X` of rows `x` (float64). */
function gramOf(x: number[][]): Float64Array {
  const n = x[0].length, g = new Float64Array(n * n);
  for (const row of x) {
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i * n + j] += row[i] * row[j];
  }
  return g;
}

const randomRows = (seed: number, tokens: number, n: number) => {
  const rng = createRng(seed);
  return Array.from({ length: tokens }, () => Array.from({ length: n }, () => rng.normal()));
};

Deno.test("rankOneFit: an exactly rank-one Gram is fitted exactly; the identity is not", () => {
  const v = [3, -1, 2, 0.5];
  const one = rankOneFit(gramOf([v]), 4, v);
  assert.ok(Math.abs(one.topShare - 1) < 1e-12, `topShare ${one.topShare}`);
  assert.ok(one.bestError < 1e-6, `bestError ${one.bestError}`);
  assert.ok(one.standInError < 1e-12);
  const identity = new Float64Array(16).map((_, k) => (k % 5 === 0 ? 1 : 0));
  const id = rankOneFit(identity, 4, [1, 1, 1, 1]); // column norms of X = I
  assert.ok(Math.abs(id.topShare - 0.25) < 1e-9);
  assert.ok(Math.abs(id.bestError - Math.sqrt(3 / 4)) < 1e-9);
  assert.ok(Math.abs(id.standInError - Math.sqrt(3)) < 1e-12); // 12 off-diagonal ones over ||I|| = 2
  assert.equal(id.xShare, 1);
});

Deno.test("rankOneFit: lambda_1 equals the Jacobi reference; column norms give xShare 1", () => {
  for (const seed of [1, 2, 3]) {
    const x = randomRows(seed, 40, 7).map((r) => r.map((v, j) => v + (j === 2 ? 3 : 0))); // a mean
    const g = gramOf(x);
    const norms = Array.from({ length: 7 }, (_, j) => Math.sqrt(g[j * 7 + j]));
    const fit = rankOneFit(g, 7, norms);
    const jacobi = largestEigenvalueReference(g, 7);
    assert.ok(Math.abs(fit.topEigenvalue - jacobi) <= 1e-9 * jacobi, `seed ${seed}`);
    assert.ok(Math.abs(fit.xShare - 1) < 1e-12);
    assert.ok(fit.bestError < fit.standInError, "the best rank-one fit beats any other");
  }
  assert.throws(() => rankOneFit(new Float64Array(3), 2, [1, 1]), TypeError);
  assert.throws(() => rankOneFit(new Float64Array(4), 2, [1]), /x has 1 values, expected 2/);
});

Deno.test("obsDiagonalScores: w^2 / [H^-1]_jj with H = G + damp I, against an explicit inverse", () => {
  const x = randomRows(4, 30, 6), g = gramOf(x), n = 6;
  const w = fromRows([randomRows(5, 1, n)[0], randomRows(6, 1, n)[0]]);
  const meanDiag = Array.from({ length: n }, (_, j) => g[j * n + j]).reduce((a, b) => a + b) / n;
  const h = Array.from(
    { length: n },
    (_, i) => Array.from({ length: n }, (_, j) => g[i * n + j] + (i === j ? 0.01 * meanDiag : 0)),
  );
  const inv = invert(h);
  const scores = obsDiagonalScores(w, g);
  for (let t = 0; t < w.data.length; t++) {
    const expected = w.data[t] ** 2 / inv[t % n][t % n];
    assert.ok(Math.abs(scores.data[t] - expected) <= 1e-5 * expected, `score ${t}`);
  }
  assert.throws(() => obsDiagonalScores(w, new Float64Array(5)), /gram has 5 values, expected 36/);
  assert.throws(() => obsDiagonalScores(w, g, { percdamp: -1 }), RangeError);
});

Deno.test("obsDiagonalScores on a rank-one G is SwiftPrune's metric times the ridge", () => {
  // H = x x^T + damp I with damp = p * S / n is SwiftPrune's H with eps = damp / S = p / n
  const x = [3, 1, 1, 1], n = 4, p = 0.01, S = 12, damp = (p * S) / n;
  const w = fromRows([[1.2, 2, -2, 1.5], [0.5, -1, 0.25, 3]]);
  const obs = obsDiagonalScores(w, gramOf([x]), { percdamp: p });
  const swift = swiftPruneScores(w, { colNorms: Float32Array.from(x) }, { eps: p / n });
  for (let t = 0; t < w.data.length; t++) {
    assert.ok(Math.abs(obs.data[t] - damp * swift.data[t]) <= 1e-5 * obs.data[t], `score ${t}`);
  }
});
