import assert from "node:assert/strict";
import { assertAllClose } from "../src/check/all_close.ts";
import {
  cholesky,
  choleskyInverse,
  choleskyInverseReference,
  choleskyReference,
  lowerTriangularInverse,
  lowerTriangularInverseReference,
  NotPositiveDefiniteError,
  upperCholeskyOfInverse,
  upperCholeskyOfInverseReference,
} from "../src/linalg/cholesky.ts";
import { createRng, type Rng } from "../src/tensor/rng.ts";

/** A random SPD matrix B B^T / k + ridge I (B is n x k), float64. */
function randomSpd(n: number, rng: Rng, ridge = 0.1, k = n + 3): Float64Array {
  const b = Float64Array.from({ length: n * k }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += b[i * k + p] * b[j * k + p];
      a[i * n + j] = a[j * n + i] = s / k + (i === j ? ridge : 0);
    }
  }
  return a;
}

function product(
  a: Float64Array,
  b: Float64Array,
  n: number,
  transA = false,
  transB = false,
): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) {
        s += (transA ? a[p * n + i] : a[i * n + p]) * (transB ? b[j * n + p] : b[p * n + j]);
      }
      c[i * n + j] = s;
    }
  }
  return c;
}

const identity = (n: number) =>
  Float64Array.from({ length: n * n }, (_, t) => (t % (n + 1) === 0 ? 1 : 0));
const SIZES = [1, 2, 5, 63, 64, 65, 130];

Deno.test("cholesky: blocked equals the reference, is lower triangular and L L^T reconstructs A", () => {
  const rng = createRng(21);
  for (const n of SIZES) {
    const a = randomSpd(n, rng);
    const before = a.slice();
    const l = cholesky(a, n);
    assert.deepEqual(a, before, "input not mutated");
    assertAllClose(
      l,
      choleskyReference(a, n),
      { atol: 1e-12, rtol: 1e-10 },
      `L vs reference n=${n}`,
    );
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) assert.equal(l[i * n + j], 0);
    assertAllClose(product(l, l, n, false, true), a, { atol: 1e-12, rtol: 1e-10 }, `L L^T n=${n}`);
  }
});

Deno.test("triangular inverse and choleskyInverse: blocked equal the references; A^-1 A = I", () => {
  const rng = createRng(22);
  for (const n of SIZES) {
    const a = randomSpd(n, rng);
    const l = cholesky(a, n);
    assertAllClose(lowerTriangularInverse(l, n), lowerTriangularInverseReference(l, n), {
      atol: 1e-11,
      rtol: 1e-9,
    });
    const inv = choleskyInverse(l, n);
    assertAllClose(
      inv,
      choleskyInverseReference(l, n),
      { atol: 1e-11, rtol: 1e-9 },
      `inverse n=${n}`,
    );
    assertAllClose(product(inv, a, n), identity(n), { atol: 1e-10, rtol: 0 }, `A^-1 A n=${n}`);
  }
});

Deno.test("upperCholeskyOfInverse: upper, positive diagonal, U^T U = H^-1, equals the literal three-step path", () => {
  const rng = createRng(23);
  for (const n of SIZES) {
    const h = randomSpd(n, rng, 0.01, Math.max(1, n >> 1)); // rank-deficient Gram + small ridge: ill-conditioned
    const u = upperCholeskyOfInverse(h, n);
    for (let i = 0; i < n; i++) {
      assert.ok(u[i * n + i] > 0);
      for (let j = 0; j < i; j++) assert.equal(u[i * n + j], 0);
    }
    assertAllClose(
      product(product(u, u, n, true), h, n),
      identity(n),
      { atol: 1e-8, rtol: 0 },
      `U^T U H n=${n}`,
    );
    assertAllClose(
      u,
      upperCholeskyOfInverseReference(h, n),
      { atol: 1e-10, rtol: 1e-7 },
      `U vs literal n=${n}`,
    );
  }
});

Deno.test("indefinite input raises NotPositiveDefiniteError naming pivot, value and dampening", () => {
  // [[1, 2], [2, 1]]: the second pivot is 1 - 2^2 = -3 (by hand).
  const a = new Float64Array([1, 2, 2, 1]);
  for (const f of [cholesky, choleskyReference]) {
    assert.throws(() => f(a, 2, { damp: 0.25 }), (e: unknown) => {
      assert.ok(e instanceof NotPositiveDefiniteError && e instanceof RangeError);
      assert.equal(e.pivot, 1);
      assert.equal(e.value, -3);
      assert.equal(e.damp, 0.25);
      assert.match(e.message, /not positive definite at pivot 1 \(value -3 .*dampening 0.25/);
      return true;
    });
  }
  // A large SPD matrix with one negative diagonal entry past the first block: the pivot is found.
  const n = 100, d = randomSpd(n, createRng(24));
  for (let j = 0; j < n; j++) d[70 * n + j] = d[j * n + 70] = 0;
  d[70 * n + 70] = -1;
  assert.throws(() => cholesky(d, n), {
    name: "NotPositiveDefiniteError",
    message: /pivot 70 \(value -1 /,
  });
  assert.throws(() => upperCholeskyOfInverse(d, n), {
    name: "NotPositiveDefiniteError",
    message: /pivot 70 \(value -1 /,
  });
  assert.throws(() => cholesky(new Float64Array([NaN]), 1), NotPositiveDefiniteError);
  assert.throws(() => cholesky(new Float64Array(3), 2), {
    name: "TypeError",
    message: /expected a Float64Array of 4 values/,
  });
});
