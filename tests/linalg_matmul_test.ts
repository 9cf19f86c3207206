import { assertAllClose } from "../src/check/all_close.ts";
import assert from "node:assert/strict";
import {
  gemmAccumulate,
  gemmAccumulateReference,
  gramAccumulate,
  gramAccumulateReference,
  matmul,
  matmulInto,
  matmulReference,
  matmulTransB,
  matmulTransBInto,
  matmulTransBReference,
} from "../src/linalg/matmul.ts";
import { createRng, randn } from "../src/tensor/rng.ts";
import { matrix } from "../src/tensor/matrix.ts";

Deno.test("matmul and matmulTransB agree with their references on odd shapes", () => {
  const rng = createRng(3);
  for (const [m, k, n] of [[1, 1, 1], [3, 5, 7], [17, 9, 4], [8, 33, 13], [2, 64, 65]]) {
    const a = matrix(m, k, randn(m * k, rng));
    const b = matrix(k, n, randn(k * n, rng));
    const bt = matrix(n, k, randn(n * k, rng));
    assertAllClose(
      matmul(a, b).data,
      matmulReference(a, b).data,
      { atol: 1e-5, rtol: 1e-5 },
      `matmul ${m}x${k}x${n}`,
    );
    assertAllClose(matmulTransB(a, bt).data, matmulTransBReference(a, bt).data, {
      atol: 1e-5,
      rtol: 1e-5,
    }, `A B^T ${m}x${k}x${n}`);
  }
});

Deno.test("matmul, matmulTransB and their Into forms are bit-identical to the references across block edges", () => {
  const rng = createRng(11);
  const shapes = [[1, 300, 1], [5, 1, 9], [4, 4, 4], [129, 7, 3], [6, 259, 261], [133, 258, 17], [
    3,
    2,
    257,
  ]];
  for (const [m, k, n] of shapes) {
    const a = matrix(m, k, randn(m * k, rng));
    const b = matrix(k, n, randn(k * n, rng));
    const bt = matrix(n, k, randn(n * k, rng));
    assert.deepEqual(matmul(a, b).data, matmulReference(a, b).data, `matmul ${m}x${k}x${n}`);
    assert.deepEqual(
      matmulTransB(a, bt).data,
      matmulTransBReference(a, bt).data,
      `A B^T ${m}x${k}x${n}`,
    );
    const out = matrix(m, n, new Float32Array(m * n).fill(7));
    assert.deepEqual(matmulInto(out, a, b).data, matmulReference(a, b).data);
    assert.deepEqual(matmulTransBInto(out, a, bt).data, matmulTransBReference(a, bt).data);
  }
});

Deno.test("gramAccumulate equals the reference bit for bit and stays symmetric, accumulating", () => {
  const rng = createRng(12);
  for (const [t, n] of [[1, 1], [3, 5], [17, 130], [300, 9], [40, 261]]) {
    const g = new Float64Array(n * n), gRef = new Float64Array(n * n);
    for (let batch = 0; batch < 2; batch++) {
      const x = matrix(t, n, randn(t * n, rng));
      gramAccumulate(g, x);
      gramAccumulateReference(gRef, x);
    }
    assert.deepEqual(g, gRef, `gram ${t}x${n}`);
  }
  assert.throws(() => gramAccumulate(new Float64Array(3), matrix(1, 2)), {
    name: "TypeError",
    message: /G has 3 values, expected 4/,
  });
});

Deno.test("gemmAccumulate on strided float64 views with alpha and upperOnly matches its reference", () => {
  const rng = createRng(13);
  for (const [m, n, k] of [[7, 9, 5], [130, 133, 260], [4, 300, 3]]) {
    // A is a window of a wider float64 array; B^T is a transposed view; C is a window with offset.
    const ld = k + 3, ldc = n + 2;
    const aData = Float64Array.from(randn((m + 1) * ld, rng)), bData = randn(n * k, rng);
    const a = { data: aData, offset: ld + 1, rowStride: ld, colStride: 1 };
    const b = { data: bData, offset: 0, rowStride: 1, colStride: k };
    const c0 = Float64Array.from(randn((m + 1) * ldc, rng));
    for (const options of [{ alpha: -1 }, { alpha: 0.5, upperOnly: true }]) {
      const c = c0.slice(), cRef = c0.slice();
      gemmAccumulate(
        { data: c, offset: ldc, rowStride: ldc, colStride: 1 },
        a,
        b,
        m,
        n,
        k,
        options,
      );
      gemmAccumulateReference(
        { data: cRef, offset: ldc, rowStride: ldc, colStride: 1 },
        a,
        b,
        m,
        n,
        k,
        options,
      );
      for (let i = 0; i < m; i++) {
        for (let j = options.upperOnly ? i : 0; j < n; j++) {
          assert.equal(
            c[ldc + i * ldc + j],
            cRef[ldc + i * ldc + j],
            `(${i}, ${j}) of ${m}x${n}x${k}`,
          );
        }
      }
      for (let j = 0; j < ldc; j++) assert.equal(c[j], c0[j], "row before the window untouched");
    }
  }
  const f32 = { data: new Float32Array(1), offset: 0, rowStride: 1, colStride: 1 };
  assert.throws(() => gemmAccumulate(f32, f32, f32, 1, 1, 1), {
    name: "TypeError",
    message: /Float64Array/,
  });
});
