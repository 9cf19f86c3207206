import assert from "node:assert/strict";
import { assertFinite, assertFiniteWeights, findNonFinite } from "../src/check/finite.ts";
import { tinyLlama } from "../src/model/llama.ts";
import { createRng } from "../src/tensor/rng.ts";

Deno.test("findNonFinite: first NaN/+Inf/-Inf index, -1 when all finite (extremes included)", () => {
  assert.equal(findNonFinite(new Float32Array(0)), -1);
  const finite = [0, -0, 1e-45, -3.4028234663852886e38, 3.4028234663852886e38, Number.MIN_VALUE];
  assert.equal(findNonFinite(new Float32Array(finite)), -1);
  assert.equal(findNonFinite(Float64Array.from(finite)), -1);
  for (const bad of [NaN, Infinity, -Infinity]) {
    for (const at of [0, 3, 6]) {
      const data = new Float32Array(7).fill(1);
      data[at] = bad;
      data[6] = NaN; // a later bad value must not win
      assert.equal(findNonFinite(data), at);
    }
  }
  assert.throws(() => findNonFinite(null as never), TypeError);
});

Deno.test("findNonFinite agrees with a Number.isFinite scan on random arrays", () => {
  const rng = createRng(5).uniform;
  for (let trial = 0; trial < 200; trial++) {
    const data = new Float32Array(1 + Math.floor(rng() * 50)).map(() => rng() - 0.5);
    if (rng() < 0.7) data[Math.floor(rng() * data.length)] = [NaN, Infinity, -Infinity][trial % 3];
    assert.equal(findNonFinite(data), data.findIndex((v) => !Number.isFinite(v)));
  }
});

Deno.test("assertFinite names the tensor, the value, the index and row/col", () => {
  const m = { data: new Float32Array(12).fill(0.5), rows: 3, cols: 4 };
  assertFinite(m, "w");
  const bad = { ...m, data: m.data.slice() };
  bad.data[9] = Infinity;
  assert.throws(() => assertFinite(bad, "blocks[1].w2"), {
    name: "RangeError",
    message: 'Tensor "blocks[1].w2" has a non-finite value Infinity at index 9 (row 2, col 1)',
  });
  assert.equal(m.data[9], 0.5); // input not mutated
  assert.throws(() => assertFinite(new Float32Array([1, NaN]), "rmsFinal"), {
    name: "RangeError",
    message: 'Tensor "rmsFinal" has a non-finite value NaN at index 1',
  });
});

Deno.test("assertFiniteWeights checks every tensor of a model, the unshared classifier too", () => {
  const w = tinyLlama({ seed: 2 });
  assertFiniteWeights(w);
  const last = w.blocks.length - 1;
  const w3 = { ...w.blocks[last].w3, data: w.blocks[last].w3.data.slice() };
  w3.data[w3.cols + 2] = -Infinity;
  const blocks = w.blocks.map((b, l) => (l === last ? { ...b, w3 } : b));
  assert.throws(() => assertFiniteWeights({ ...w, blocks }), {
    message: `Tensor "blocks[${last}].w3" has a non-finite value -Infinity at index ${
      w3.cols + 2
    } (row 1, col 2)`,
  });
  const classifier = { ...w.tokenEmbedding, data: w.tokenEmbedding.data.slice() };
  classifier.data[0] = NaN;
  const unshared = { ...w, config: { ...w.config, sharedClassifier: false }, classifier };
  assert.throws(
    () => assertFiniteWeights(unshared),
    /"classifier" has a non-finite value NaN at index 0 \(row 0, col 0\)/,
  );
});
