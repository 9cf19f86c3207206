import assert from "node:assert/strict";
import ndarray from "ndarray";
import { checkMatrix, fromRows, matrix, transpose } from "../src/tensor/matrix.ts";
import { fromNdarray, toNdarray } from "../src/tensor/ndarray.ts";
import { createRng } from "../src/tensor/rng.ts";
import { allClose, assertAllClose } from "../src/check/all_close.ts";

Deno.test("matrix: bad shapes throw TypeError naming the value", () => {
  assert.throws(() => matrix(2, 3, new Float32Array(5)), {
    name: "TypeError",
    message: /5 values, expected 6/,
  });
  assert.throws(() => checkMatrix({ data: [1, 2], rows: 1, cols: 2 }, "weight"), {
    name: "TypeError",
    message: /weight: data must be a Float32Array, got Array/,
  });
  assert.throws(() => matrix(-1, 2), {
    name: "TypeError",
    message: /rows must be a non-negative integer, got -1/,
  });
});

Deno.test("ndarray: contiguous view is zero-copy, transposed view is copied", () => {
  const data = new Float32Array([1, 2, 3, 4, 5, 6]);
  const m = fromNdarray(ndarray(data, [2, 3]));
  assert.equal(m.data.buffer, data.buffer);
  const t = fromNdarray(ndarray(data, [2, 3]).transpose(1, 0));
  assert.deepEqual(
    Array.from(t.data),
    Array.from(transpose(fromRows([[1, 2, 3], [4, 5, 6]])).data),
  );
  assert.notEqual(t.data.buffer, data.buffer);
  const back = toNdarray(m);
  assert.equal(back.get(1, 2), 6);
  assert.throws(() => fromNdarray(ndarray(data, [6])), {
    name: "TypeError",
    message: /expected 2 dimensions/,
  });
});

Deno.test("rng: seeded streams repeat and normals have unit variance", () => {
  const a = createRng(7), b = createRng(7);
  for (let i = 0; i < 10; i++) assert.equal(a.uniform(), b.uniform());
  const r = createRng(1);
  let s = 0, s2 = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const x = r.normal();
    s += x;
    s2 += x * x;
  }
  assert.ok(Math.abs(s / n) < 0.05, `mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.05, `variance ${s2 / n}`);
});

Deno.test("allClose reports the worst index and fails when it should", () => {
  const r = allClose([1, 2, 3.5], [1, 2, 3]);
  assert.equal(r.ok, false);
  assert.equal(r.mismatches, 1);
  assert.equal(r.maxAbsIndex, 2);
  assert.throws(() => assertAllClose([1, 5], [1, 2], {}, "w"), /w: 1 of 2 .* at index 1/);
});
