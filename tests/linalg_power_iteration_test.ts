import assert from "node:assert/strict";
import { largestEigenvalue, largestEigenvalueReference } from "../src/linalg/power_iteration.ts";
import { createRng } from "../src/tensor/rng.ts";

/** G = A^T A / m with A [m, n] Gaussian, plus `spike` on channel 0: a random PSD matrix. */
function randomPsd(n: number, m: number, seed: number, spike = 0): Float64Array {
  const rng = createRng(seed);
  const a = Array.from({ length: m * n }, () => rng.normal());
  for (let t = 0; t < m; t++) a[t * n] *= 1 + spike;
  const g = new Float64Array(n * n);
  for (let t = 0; t < m; t++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) g[i * n + j] += a[t * n + i] * a[t * n + j] / m;
    }
  }
  return g;
}

Deno.test("largestEigenvalue: diagonal matrices give their largest entry", () => {
  for (const diag of [[1], [3, 1, 2], [0.5, 7, 7, 0], [1e-3, 2e-3, 5e-4]]) {
    const n = diag.length, g = new Float64Array(n * n);
    diag.forEach((d, i) => (g[i * n + i] = d));
    const expected = Math.max(...diag);
    assert.ok(
      Math.abs(largestEigenvalue(g, n, { tol: 1e-12, iterations: 500 }) - expected) <=
        1e-9 * expected,
    );
    assert.equal(largestEigenvalueReference(g, n), expected);
  }
  assert.equal(largestEigenvalue(new Float64Array(9), 3), 0);
});

Deno.test("Jacobi reference: a hand-checked 3x3, and the input is not mutated", () => {
  // [[2,-1,0],[-1,2,-1],[0,-1,2]] has eigenvalues 2 - sqrt2, 2, 2 + sqrt2
  assert.ok(
    Math.abs(largestEigenvalueReference([2, -1, 0, -1, 2, -1, 0, -1, 2], 3) - (2 + Math.SQRT2)) <
      1e-12,
  );
  const g = randomPsd(5, 3, 9); // rank 3: two zero eigenvalues
  const input = g.slice();
  largestEigenvalueReference(g, 5);
  assert.deepEqual(g, input, "input not mutated");
});

Deno.test("largestEigenvalue agrees with the Jacobi reference on random PSD matrices", () => {
  for (let seed = 0; seed < 12; seed++) {
    const n = 2 + (seed % 5) * 5, m = seed % 2 === 0 ? 3 * n : Math.max(1, n >> 1);
    const g = randomPsd(n, m, seed, seed % 3 === 0 ? 4 : 0);
    const expected = largestEigenvalueReference(g, n);
    const got = largestEigenvalue(g, n, { tol: 1e-12, iterations: 5000, seed });
    assert.ok(
      got <= expected * (1 + 1e-12),
      `Rayleigh quotient never exceeds lambda_max (seed ${seed})`,
    );
    assert.ok(
      Math.abs(got - expected) <= 1e-6 * expected,
      `seed ${seed} n ${n}: ${got} vs ${expected}`,
    );
    // float32 input gives the same answer to float32 precision
    const got32 = largestEigenvalue(Float32Array.from(g), n, {
      tol: 1e-12,
      iterations: 5000,
      seed,
    });
    assert.ok(Math.abs(got32 - expected) <= 1e-5 * expected);
  }
});

Deno.test("largestEigenvalue: bad inputs throw typed errors naming the value", () => {
  assert.throws(() => largestEigenvalue(new Float64Array(5), 2), {
    name: "TypeError",
    message: /5 values, expected 4/,
  });
  assert.throws(() => largestEigenvalue(new Float64Array(0), 0), {
    name: "RangeError",
    message: /got 0/,
  });
  assert.throws(() => largestEigenvalue(new Float64Array(4), 2, { iterations: 0 }), {
    name: "RangeError",
    message: /iterations must be a positive integer, got 0/,
  });
  assert.throws(() => largestEigenvalueReference([1, 2, 3], 2), {
    name: "TypeError",
    message: /3 values/,
  });
});
