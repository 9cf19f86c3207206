// The layer report's error: per-row sums, the Gram path, and the estimate from a sample of rows
// (`--report-rows`) with its standard error.
import assert from "node:assert/strict";
import {
  estimateLayerError,
  evaluateLayer,
  evenlySpacedRows,
  gramOf,
  layerErrorRows,
  layerErrorRowsFromGram,
  relativeLayerError,
} from "../src/pipeline/layer_report.ts";
import { pruneModel } from "../src/pipeline/prune_model.ts";
import { methodByName } from "../src/prune/methods.ts";
import { tinyLlama } from "../src/model/llama.ts";
import { createRng, randn } from "../src/tensor/rng.ts";
import type { Matrix } from "../src/tensor/matrix.ts";

const HALF = { kind: "unstructured", sparsity: 0.5, group: "row" } as const;

/** A layer whose rows differ in scale and in how much pruning hurts them, and its inputs. */
function layer(seed: number, rows: number, cols: number, tokens: number) {
  const rng = createRng(seed);
  const w = randn(rows * cols, rng);
  for (let i = 0; i < rows; i++) {
    const s = Math.exp(0.5 * rng.normal()); // rows of different scale (norms within ~3x)
    for (let c = 0; c < cols; c++) w[i * cols + c] *= s;
  }
  const keep = Uint8Array.from(w, (_, t) => (rng.uniform() < 0.3 + 0.4 * ((t / cols) % 1) ? 1 : 0));
  const weight: Matrix = { data: w, rows, cols };
  const pruned: Matrix = { data: w.map((v, t) => (keep[t] ? v : 0)), rows, cols };
  const inputs: Matrix = { data: randn(tokens * cols, rng), rows: tokens, cols };
  return { weight, pruned, keep, inputs };
}

Deno.test("layerErrorRows: the row sums are the rows' own errors, and the Gram path agrees", () => {
  const { weight, pruned, inputs } = layer(1, 7, 5, 11);
  const rows = layerErrorRows(weight, pruned, inputs),
    viaGram = layerErrorRowsFromGram(
      weight,
      pruned,
      gramOf(inputs),
    );
  for (let i = 0; i < 7; i++) {
    const one = (m: Matrix) => ({ data: m.data.slice(i * 5, i * 5 + 5), rows: 1, cols: 5 });
    const alone = relativeLayerError(one(weight), one(pruned), inputs);
    // row i alone: its num / den is that row's relative error
    assert.ok(Math.abs(rows.num[i] / rows.den[i] - alone) <= 1e-12 * alone, `row ${i}`);
    assert.ok(Math.abs(viaGram.num[i] - rows.num[i]) <= 1e-5 * rows.den[i], `gram num ${i}`);
    assert.ok(Math.abs(viaGram.den[i] - rows.den[i]) <= 1e-5 * rows.den[i], `gram den ${i}`);
  }
});

Deno.test("evenlySpacedRows: all rows, or a spread sample; bad limits are RangeErrors", () => {
  assert.deepEqual(Array.from(evenlySpacedRows(5, Infinity)), [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(evenlySpacedRows(5, 5)), [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(evenlySpacedRows(2048, 256)).slice(0, 3), [4, 12, 20]);
  const s = evenlySpacedRows(5632, 256);
  assert.equal(new Set(s).size, 256);
  assert.ok(s[0] >= 0 && s[255] < 5632);
  for (const bad of [0, -1, 2.5, NaN]) {
    assert.throws(() => evenlySpacedRows(10, bad), {
      name: "RangeError",
      message: new RegExp(`positive integer, got ${bad}`),
    });
  }
});

Deno.test("estimateLayerError: exact with every row; on samples the standard error covers the exact error as it should", () => {
  const N = 512, k = 48;
  let within1 = 0, within2 = 0;
  const seeds = 60;
  for (let seed = 0; seed < seeds; seed++) {
    const { weight, pruned, inputs } = layer(100 + seed, N, 24, 40);
    const all = layerErrorRows(weight, pruned, inputs);
    const exact = relativeLayerError(weight, pruned, inputs);
    assert.deepEqual(estimateLayerError(all, N).stdErr, 0);
    assert.ok(Math.abs(estimateLayerError(all, N).error - exact) <= 1e-12 * exact);
    // a random sample of k rows (the formula's model; the report itself takes evenly spaced rows)
    const rng = createRng(seed), pick = new Set<number>();
    while (pick.size < k) pick.add(rng.int(N));
    const idx = [...pick];
    const sample = {
      num: Float64Array.from(idx, (i) => all.num[i]),
      den: Float64Array.from(idx, (i) => all.den[i]),
    };
    const { error, stdErr } = estimateLayerError(sample, N);
    assert.ok(stdErr > 0 && Number.isFinite(stdErr));
    if (Math.abs(error - exact) <= stdErr) within1++;
    if (Math.abs(error - exact) <= 2 * stdErr) within2++;
  }
  // a normal estimate: about 68% within one standard error and 95% within two
  assert.ok(within1 / seeds > 0.5 && within1 / seeds < 0.9, `within 1 se: ${within1}/${seeds}`);
  assert.ok(within2 / seeds > 0.85, `within 2 se: ${within2}/${seeds}`);
  assert.throws(
    () => estimateLayerError({ num: new Float64Array(3), den: new Float64Array(3) }, 2),
    {
      name: "RangeError",
      message: /3 sampled rows of 2/,
    },
  );
});

Deno.test("evaluateLayer with errorRows: the exact error of the sampled rows, marked as an estimate", () => {
  const { weight, pruned, keep, inputs } = layer(7, 40, 16, 30);
  const result = { weight: pruned, keep };
  const exact = evaluateLayer("l", weight, result, { inputs }, HALF);
  assert.equal(exact.errorRows, undefined);
  assert.equal(exact.errorStdErr, undefined);
  assert.deepEqual(evaluateLayer("l", weight, result, { inputs }, HALF, { errorRows: 40 }), exact);
  const est = evaluateLayer("l", weight, result, { inputs }, HALF, { errorRows: 8 });
  const rows = evenlySpacedRows(40, 8);
  const take = (m: Matrix) => ({
    data: Float32Array.from([...rows].flatMap((r) => [...m.data.subarray(r * 16, r * 16 + 16)])),
    rows: 8,
    cols: 16,
  });
  assert.equal(est.errorRows, 8);
  assert.ok(est.errorStdErr! > 0);
  assert.ok(Math.abs(est.error - relativeLayerError(take(weight), take(pruned), inputs)) < 1e-12);
  assert.ok(est.error !== exact.error);
  // the rest of the line does not depend on the sample
  assert.deepEqual({ ...est, error: 0, errorRows: 0, errorStdErr: 0 }, {
    ...exact,
    error: 0,
    errorRows: 0,
    errorStdErr: 0,
  });
});

Deno.test("pruneModel with errorRows: same masks and weights, estimates only on the linears with more rows", () => {
  const model = tinyLlama({ seed: 3 });
  const windows = [Int32Array.from([1, 5, 7, 2, 9, 4]), Int32Array.from([3, 4, 9, 8, 1, 6])];
  const options = { method: methodByName("wanda")!, target: HALF };
  const exact = pruneModel(model, windows, options);
  const limit = Math.min(...exact.layers.map((l) => l.rows)) + 1; // below the widest, above others
  const est = pruneModel(model, windows, { ...options, errorRows: limit });
  assert.deepEqual(est.masks, exact.masks);
  let sampled = 0;
  for (const [i, l] of est.layers.entries()) {
    if (l.rows > limit) {
      sampled++;
      assert.equal(l.errorRows, limit, l.name);
      assert.ok(Number.isFinite(l.errorStdErr), l.name);
    } else {
      assert.equal(l.error, exact.layers[i].error, l.name);
      assert.equal(l.errorRows, undefined, l.name);
    }
  }
  assert.ok(sampled > 0 && sampled < est.layers.length, `${sampled} sampled`);
});
