/**
 * The worked examples of `docs/*.md` are tests: each `example-NAME` block is parsed from the page
 * (`tests/doc_examples.ts`) and recomputed with the library, so a page cannot print a number the
 * code does not produce. The numbers in the pages were worked out by hand (or, for the EWMA trace,
 * by an independent exact-arithmetic script); this file only checks that code and page agree.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fromRows, type Matrix, transpose } from "../src/tensor/matrix.ts";
import { magnitudeScores } from "../src/score/magnitude.ts";
import { columnNorms, wandaScores } from "../src/score/wanda.ts";
import { swiftPruneScores } from "../src/score/swiftprune.ts";
import { buildMask } from "../src/select/mask.ts";
import { nmMask } from "../src/select/nm.ts";
import { selectBySort } from "../src/select/sort.ts";
import { selectEwmaTrace } from "../src/select/ewma.ts";
import { sparsegpt } from "../src/prune/sparsegpt.ts";
import { upperCholeskyOfInverse } from "../src/linalg/cholesky.ts";
import { largestEigenvalue } from "../src/linalg/power_iteration.ts";
import { fista } from "../src/optim/fista.ts";
import { fistaPruner } from "../src/prune/fistapruner.ts";
import { matmul } from "../src/linalg/matmul.ts";
import { nllStandardError } from "../src/eval/perplexity.ts";
import { type Example, numbers, parseExamples, rowsOf, scalar } from "./doc_examples.ts";

const DOCS = new URL("../docs/", import.meta.url);

/** The example `name` of page `page` (fails the test when it is missing). */
function example(page: string, name: string): Example {
  const found = parseExamples(readFileSync(new URL(page, DOCS), "utf8"), page).get(name);
  assert.ok(found, `docs/${page} has no example-${name} block`);
  return found;
}

/** Asserts |actual - expected| <= tol * max(1, |expected|) elementwise, naming the value. */
function close(actual: ArrayLike<number>, expected: number[], what: string, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const bound = tol * Math.max(1, Math.abs(expected[i]));
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= bound,
      `${what}[${i}]: page says ${expected[i]}, code gives ${actual[i]}`,
    );
  }
}

const matrixOf = (ex: Example, name: string): Matrix => fromRows(rowsOf(ex, name));
const rowTarget = (s: number) => ({
  kind: "unstructured" as const,
  sparsity: s,
  group: "row" as const,
});

Deno.test("docs/swiftprune.md example-sherman-morrison: closed form = OBS with H = x x^T + lambda I", () => {
  const ex = example("swiftprune.md", "sherman-morrison");
  const W = matrixOf(ex, "W"), X = matrixOf(ex, "X"), lambda = scalar(ex, "lambda");
  const x = numbers(ex, "x"), S = scalar(ex, "S"), n = x.length;
  close(columnNorms(X), x, "x = column norms of X");
  assert.equal(x.reduce((a, v) => a + v * v, 0), S);
  const H = rowsOf(ex, "H");
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      assert.equal(H[i][j], x[i] * x[j] + (i === j ? lambda : 0), `H[${i}][${j}]`);
    }
  }
  // Sherman-Morrison's H^-1 = (1/lambda)(I - x x^T/(lambda + S)) really inverts H: H H^-1 = I
  const inv = (i: number, j: number) => ((i === j ? 1 : 0) - (x[i] * x[j]) / (lambda + S)) / lambda;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let t = 0; t < n; t++) dot += H[i][t] * inv(t, j);
      assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-12, `(H H^-1)[${i}][${j}] = ${dot}`);
    }
  }
  close(x.map((_, j) => inv(j, j)), numbers(ex, "Hinv_diag"), "diag H^-1", 1e-12);
  const saliency = Array.from(W.data, (w, j) => (w * w) / inv(j, j));
  close(saliency, numbers(ex, "L"), "w^2 / [H^-1]_jj");
  // the library with the relative ridge eps = lambda / S gives the same scores
  close(
    swiftPruneScores(W, { inputs: X }, { eps: lambda / S }).data,
    numbers(ex, "L"),
    "library L",
  );
});

Deno.test("docs/swiftprune.md example-swiftprune: default scores and the masks of three methods", () => {
  const ex = example("swiftprune.md", "swiftprune");
  const W = matrixOf(ex, "W"), X = matrixOf(ex, "X"), target = rowTarget(scalar(ex, "sparsity"));
  const L = swiftPruneScores(W, { inputs: X });
  close(Array.from(L.data, (v, j) => v / W.data[j] ** 2), numbers(ex, "factor"), "factor");
  close(L.data, numbers(ex, "L"), "L");
  assert.deepEqual(Array.from(buildMask(L, target).keep), numbers(ex, "keep"));
  const mag = buildMask(magnitudeScores(W), target).keep;
  assert.deepEqual(Array.from(mag), numbers(ex, "keep_magnitude"));
  const wanda = buildMask(wandaScores(W, columnNorms(X)), target).keep;
  assert.deepEqual(Array.from(wanda), numbers(ex, "keep_wanda"));
});

Deno.test("docs/swiftprune.md example-swiftprune-readings: the mean and token readings of x", () => {
  const ex = example("swiftprune.md", "swiftprune-readings");
  const W = matrixOf(ex, "W"), X = matrixOf(ex, "X");
  const mean = Array.from({ length: X.cols }, (_, j) => (X.data[j] + X.data[X.cols + j]) / 2);
  close(mean, numbers(ex, "x_mean"), "x_mean");
  close(
    swiftPruneScores(W, { inputs: X }, { xStat: "mean" }).data,
    numbers(ex, "L_mean"),
    "L_mean",
  );
  const token = swiftPruneScores(W, { inputs: X }, { xStat: "token" });
  close(
    Array.from(token.data, (v, j) => v / W.data[j] ** 2),
    numbers(ex, "factor_token"),
    "factor_token",
    1e-6,
  );
  close(token.data, numbers(ex, "L_token"), "L_token", 1e-6);
});

Deno.test("docs/swiftprune.md example-ewma: the tracker's trace step by step", () => {
  const ex = example("swiftprune.md", "ewma");
  const scores = numbers(ex, "scores"), k = scalar(ex, "k");
  const r = selectEwmaTrace(scores, k);
  close(r.trace.score, scores, "score", 0);
  const log2 = Array.from(r.trace.score, (s) => Math.log2(s));
  close(log2, numbers(ex, "y"), "y (exact for powers of two)", 0);
  close(r.trace.threshold, numbers(ex, "threshold"), "threshold", 1e-6);
  assert.deepEqual(Array.from(r.trace.pruned), numbers(ex, "decision"));
  close(r.trace.prunedFraction, numbers(ex, "p"), "p", 1e-6);
  close(r.trace.deviation, numbers(ex, "D"), "D", 1e-6);
  close([r.trackerThreshold], [scalar(ex, "tracker_threshold")], "tracker threshold", 1e-6);
  assert.equal(r.trackerPruned, scalar(ex, "tracker_pruned"));
  assert.equal(r.pruned, k);
  assert.deepEqual(Array.from(r.keep), numbers(ex, "keep"));
  assert.deepEqual(Array.from(selectBySort(scores, k)), numbers(ex, "keep"));
});

Deno.test("docs/wanda.md example-wanda: column norms, scores, per-row vs per-layer masks", () => {
  const ex = example("wanda.md", "wanda");
  const W = matrixOf(ex, "W"), X = matrixOf(ex, "X"), s = scalar(ex, "sparsity");
  const norms = columnNorms(X);
  close(norms, numbers(ex, "col_norms"), "column norms", 1e-7);
  const scores = wandaScores(W, norms);
  close(scores.data, numbers(ex, "scores"), "scores", 1e-6);
  assert.deepEqual(Array.from(buildMask(scores, rowTarget(s)).keep), numbers(ex, "keep"));
  const layer = buildMask(magnitudeScores(W), {
    kind: "unstructured",
    sparsity: s,
    group: "layer",
  });
  assert.deepEqual(Array.from(layer.keep), numbers(ex, "keep_magnitude_layer"));
  const row = buildMask(magnitudeScores(W), rowTarget(s));
  assert.deepEqual(Array.from(row.keep), numbers(ex, "keep_magnitude_row"));
});

Deno.test("docs/nm.md example-nm: 2:4 and 1:4 masks with their ties", () => {
  const ex = example("nm.md", "nm");
  const scores = magnitudeScores(matrixOf(ex, "W"));
  assert.deepEqual(Array.from(nmMask(scores, 2, 4)), numbers(ex, "keep_2_4"));
  assert.deepEqual(Array.from(nmMask(scores, 1, 4)), numbers(ex, "keep_1_4"));
  const mask = buildMask(scores, { kind: "nm", n: 2, m: 4 });
  assert.equal(mask.sparsity, scalar(ex, "sparsity_2_4"));
});

/** `1/2 dw H dw^T` for one row. */
function halfQuadratic(dw: number[], H: number[][]): number {
  let sum = 0;
  for (let a = 0; a < dw.length; a++) {
    for (let b = 0; b < dw.length; b++) sum += dw[a] * H[a][b] * dw[b];
  }
  return sum / 2;
}

Deno.test("docs/sparsegpt.md example-sparsegpt: two blocks, the OBS and lazy updates, the loss", () => {
  const ex = example("sparsegpt.md", "sparsegpt");
  const H = rowsOf(ex, "H"), n = H.length, W = matrixOf(ex, "W");
  close(upperCholeskyOfInverse(Float64Array.from(H.flat()), n), numbers(ex, "U"), "U", 1e-12);
  const r = sparsegpt(W, {}, rowTarget(scalar(ex, "sparsity")), {
    hessian: Float64Array.from(H.flat()),
    percdamp: 0,
    blocksize: scalar(ex, "blocksize"),
  });
  assert.deepEqual(Array.from(r.keep), numbers(ex, "keep"));
  close(r.weight.data, numbers(ex, "W_pruned"), "W_pruned", 1e-6);
  close([r.loss], [scalar(ex, "loss")], "loss", 1e-9);
  // the loss is 1/2 dW H dW^T; masking alone (no update) costs more
  const w = numbers(ex, "W"), keep = numbers(ex, "keep");
  close(
    [halfQuadratic(w.map((v, j) => v - r.weight.data[j]), H)],
    [scalar(ex, "loss")],
    "1/2 dW H dW^T",
    1e-6,
  );
  close(
    [halfQuadratic(w.map((v, j) => (keep[j] ? 0 : v)), H)],
    [scalar(ex, "loss_mask_only")],
    "mask only",
    1e-12,
  );
});

Deno.test("docs/fistapruner.md example-fista: three FISTA steps by hand, then the lambda search", () => {
  const ex = example("fistapruner.md", "fista");
  const X = matrixOf(ex, "X"), W = matrixOf(ex, "W"), tokens = X.rows;
  const xtx = matmul(transpose(X), X);
  const G = { ...xtx, data: xtx.data.map((v) => v / tokens) };
  close(G.data, numbers(ex, "G"), "G* = X^T X / tokens", 1e-7);
  const C = matmul(W, G);
  close(C.data, numbers(ex, "C"), "C = W G*", 1e-6);
  close([largestEigenvalue(G.data, G.cols)], [scalar(ex, "L")], "L = lambda_max(G*)", 1e-5);
  const start = matrixOf(ex, "start"), lambda = scalar(ex, "lambda");
  for (const k of [1, 2, 3]) {
    const r = fista(G, C, lambda, { iterations: k, start, lipschitz: scalar(ex, "L") });
    close(r.weight.data, numbers(ex, `x${k}`), `x_${k}`, 1e-5);
  }
  const r = fistaPruner(W, { inputs: X }, rowTarget(scalar(ex, "sparsity")), { lambda0: lambda });
  const info = r.info!;
  close([info.warmStartLayerError], [scalar(ex, "warm_error")], "warm start E_total", 1e-5);
  close(info.lambdas, numbers(ex, "lambdas"), "lambdas", 1e-12);
  close(info.eRound, numbers(ex, "e_round"), "E_round", 1e-4);
  close(info.eTotal, numbers(ex, "e_total"), "E_total", 1e-4);
  close([info.nextLambda], [scalar(ex, "next_lambda")], "next lambda", 1e-12);
  assert.equal(info.bestRun, scalar(ex, "best_run"));
  assert.deepEqual(Array.from(r.keep), numbers(ex, "keep"));
});

/** Asserts |actual - expected| <= tol elementwise (absolute), naming the value. */
function closeAbs(actual: ArrayLike<number>, expected: number[], what: string, tol: number): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `${what}[${i}]: page says ${expected[i]}, code gives ${actual[i]}`,
    );
  }
}

/** `G* = X^T X / tokens` of an example's `X`. */
function gramOf(X: Matrix): Matrix {
  const xtx = matmul(transpose(X), X);
  return { ...xtx, data: xtx.data.map((v) => v / X.rows) };
}

Deno.test("docs/fistapruner.md example-fista-step: step 1/L converges, step 2.5/L diverges", () => {
  const ex = example("fistapruner.md", "fista-step");
  const X = matrixOf(ex, "X"), W = matrixOf(ex, "W"), G = gramOf(X), C = matmul(W, G);
  const L = largestEigenvalue(G.data, G.cols);
  close([L], [scalar(ex, "L")], "L = lambda_max(G*)", 1e-6);
  // the page's eigenvalues: G* v = mu v has a non-zero solution, det(G* - mu I) = 0
  for (const mu of numbers(ex, "eigenvalues")) {
    const g = (i: number, j: number) => G.data[i * 3 + j] - (i === j ? mu : 0);
    const det = g(0, 0) * (g(1, 1) * g(2, 2) - g(1, 2) * g(2, 1)) -
      g(0, 1) * (g(1, 0) * g(2, 2) - g(1, 2) * g(2, 0)) +
      g(0, 2) * (g(1, 0) * g(2, 1) - g(1, 1) * g(2, 0));
    assert.ok(Math.abs(det) < 1e-5, `det(G* - ${mu} I) = ${det}`);
  }
  const fMin = -quadraticForm(W, G) / 2;
  close([fMin], [scalar(ex, "f_min")], "f* = -1/2 tr(W G* W^T)", 1e-6);
  for (const [c, name] of [[1, "objective_step_1"], [2.5, "objective_step_2_5"]] as const) {
    const r = fista(G, C, 0, { iterations: 5, accelerate: false, lipschitz: L / c, tol: 0 });
    close(r.objective, numbers(ex, name), name, 1e-5);
  }
});

/** `tr(W G W^T)` for a one-row `W`. */
function quadraticForm(W: Matrix, G: Matrix): number {
  let sum = 0;
  for (let a = 0; a < W.cols; a++) {
    for (let b = 0; b < W.cols; b++) sum += W.data[a] * G.data[a * W.cols + b] * W.data[b];
  }
  return sum;
}

Deno.test("docs/fistapruner.md example-fista-wins: the search beats the warm start by moving kept weights", () => {
  const ex = example("fistapruner.md", "fista-wins");
  const X = matrixOf(ex, "X"), W = matrixOf(ex, "W"), G = gramOf(X);
  close(G.data, numbers(ex, "G"), "G* = X^T X / tokens", 1e-7);
  close(matmul(W, G).data, numbers(ex, "C"), "C = W G*", 1e-6);
  close([largestEigenvalue(G.data, G.cols)], [scalar(ex, "L")], "L", 1e-6);
  const target = rowTarget(scalar(ex, "sparsity"));
  const warm = buildMask(wandaScores(W, columnNorms(X)), target).keep;
  assert.deepEqual(Array.from(warm), numbers(ex, "warm_keep"));
  const r = fistaPruner(W, { inputs: X }, target);
  const info = r.info!;
  // E_total comes from float32 Grams by expanding the square: float32 noise of about 2e-6
  closeAbs([info.warmStartLayerError], [scalar(ex, "warm_error")], "warm start E_total", 3e-6);
  close(info.lambdas, numbers(ex, "lambdas"), "lambdas", 1e-5);
  closeAbs(info.eRound, numbers(ex, "e_round"), "E_round", 3e-6);
  closeAbs(info.eTotal, numbers(ex, "e_total"), "E_total", 3e-6);
  assert.deepEqual(info.iterations, numbers(ex, "iterations"));
  close([info.nextLambda], [scalar(ex, "next_lambda")], "next lambda", 1e-5);
  assert.equal(info.bestRun, scalar(ex, "best_run"));
  assert.deepEqual(Array.from(r.keep), numbers(ex, "keep"));
  const weight = numbers(ex, "weight");
  for (let j = 0; j < weight.length; j++) {
    const bound = 2e-6 * Math.abs(weight[j]);
    assert.ok(Math.abs(r.weight.data[j] - weight[j]) <= bound, `weight[${j}]: ${r.weight.data[j]}`);
  }
  assert.ok(info.layerError < info.warmStartLayerError / 1000, "FISTA beats its warm start");
  // the LASSO on the kept support, solved by hand: [2.25, 0.25] - lambda G_S^-1 [1, 1]
  const lambda = info.lambdas[scalar(ex, "best_run")];
  const support = numbers(ex, "lasso_support");
  close([2.25 - 0.3 * lambda, 0.25 - 0.3 * lambda], support, "LASSO on the support", 1e-6);
  close(Array.from(r.weight.data.subarray(0, 2)), support, "FISTA reaches it", 3e-5);
});

Deno.test("docs/pipeline.md example-perplexity-se: the standard error over windows, carried to ppl", () => {
  const ex = example("pipeline.md", "perplexity-se");
  const windowNlls = numbers(ex, "window_nlls"), n = windowNlls.length;
  const nll = windowNlls.reduce((a, b) => a + b, 0) / n;
  close([nll], [scalar(ex, "nll")], "nll", 1e-12);
  close([Math.exp(nll)], [scalar(ex, "ppl")], "ppl", 1e-6);
  const p = { ppl: Math.exp(nll), nll, predicted: 4 * n, windows: n, windowNlls };
  close([nllStandardError(p)], [scalar(ex, "se_nll")], "se(NLL)", 1e-5);
  close([p.ppl * nllStandardError(p)], [scalar(ex, "se_ppl")], "se(ppl)", 1e-6);
});
