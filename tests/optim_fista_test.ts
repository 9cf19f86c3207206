import assert from "node:assert/strict";
import { assertAllClose } from "../src/check/all_close.ts";
import { matmul, matmulReference } from "../src/linalg/matmul.ts";
import { largestEigenvalueReference } from "../src/linalg/power_iteration.ts";
import { fista, fistaReference, lassoObjective } from "../src/optim/fista.ts";
import { fromRows, type Matrix, matrix } from "../src/tensor/matrix.ts";
import { createRng, randn } from "../src/tensor/rng.ts";

/** A LASSO problem from random data: G* = X^T X / m, C = W X^T X / m; `spread` scales channels. */
function problem(rows: number, cols: number, tokens: number, seed: number, spread = 0) {
  const rng = createRng(seed);
  const x = matrix(tokens, cols, randn(tokens * cols, rng));
  for (let t = 0; t < tokens; t++) {
    for (let j = 0; j < cols; j++) x.data[t * cols + j] *= Math.exp(spread * j / cols);
  }
  const xt: Matrix = { data: new Float32Array(cols * tokens), rows: cols, cols: tokens };
  for (let t = 0; t < tokens; t++) {
    for (let j = 0; j < cols; j++) xt.data[j * tokens + t] = x.data[t * cols + j];
  }
  const gram = matmulReference(xt, x);
  gram.data.forEach((v, i) => (gram.data[i] = v / tokens));
  const w = matrix(rows, cols, randn(rows * cols, rng));
  const linear = matmulReference(w, gram);
  let maxC = 0;
  for (const v of linear.data) maxC = Math.max(maxC, Math.abs(v));
  return { gram, linear, maxC };
}

/** grad f = W G - C in float64. */
function gradient(w: Matrix, gram: Matrix, linear: Matrix): Float64Array {
  const n = gram.cols, g = new Float64Array(w.rows * n);
  for (let i = 0; i < w.rows; i++) {
    for (let j = 0; j < n; j++) {
      let s = -linear.data[i * n + j];
      for (let p = 0; p < n; p++) s += w.data[i * n + p] * gram.data[p * n + j];
      g[i * n + j] = s;
    }
  }
  return g;
}

Deno.test("fista agrees with fistaReference (FISTA and ISTA, several shapes, seeds and warm starts)", () => {
  for (let seed = 0; seed < 8; seed++) {
    const rows = 1 + seed * 3,
      cols = 2 + (seed % 4) * 5,
      tokens = seed % 2 ? 3 * cols : Math.max(2, cols >> 1);
    const { gram, linear, maxC } = problem(rows, cols, tokens, seed, seed % 3);
    const lambda = 0.05 * maxC;
    const start = seed % 2
      ? matrix(rows, cols, randn(rows * cols, createRng(100 + seed)))
      : undefined;
    const lipschitz = largestEigenvalueReference(gram.data, cols);
    for (const accelerate of [true, false]) {
      const opts = { iterations: 20, start, lipschitz, accelerate, tol: 0 };
      const fast = fista(gram, linear, lambda, opts),
        ref = fistaReference(gram, linear, lambda, opts);
      const what = `seed ${seed} [${rows}, ${cols}] accelerate ${accelerate}`;
      assertAllClose(fast.weight.data, ref.weight.data, { atol: 1e-4 * maxC, rtol: 1e-4 }, what);
      assertAllClose(fast.objective, ref.objective, { atol: 1e-5 * maxC * maxC, rtol: 1e-4 }, what);
      assert.equal(fast.iterations, 20);
    }
  }
});

Deno.test("fista: with G* = I the solution is the soft-threshold of C", () => {
  const rng = createRng(5), rows = 4, cols = 6;
  const eye = matrix(cols, cols);
  for (let j = 0; j < cols; j++) eye.data[j * cols + j] = 1;
  const linear = matrix(rows, cols, randn(rows * cols, rng));
  const lambda = 0.7;
  const expected = Array.from(linear.data, (c) => Math.sign(c) * Math.max(Math.abs(c) - lambda, 0));
  for (const solve of [fista, fistaReference]) {
    const r = solve(eye, linear, lambda, { start: matrix(rows, cols, randn(rows * cols, rng)) });
    assertAllClose(r.weight.data, expected, { atol: 1e-6, rtol: 1e-6 }, solve.name);
  }
});

Deno.test("fista run to convergence satisfies the LASSO optimality conditions", () => {
  for (let seed = 0; seed < 5; seed++) {
    const { gram, linear, maxC } = problem(3 + seed, 8, 40, seed, 1);
    for (const fraction of [0.01, 0.1, 0.4]) {
      const lambda = fraction * maxC;
      const r = fista(gram, linear, lambda, { iterations: 3000, tol: 0 });
      const g = gradient(r.weight, gram, linear), eps = 2e-4 * maxC;
      let zeros = 0;
      for (let i = 0; i < g.length; i++) {
        const w = r.weight.data[i];
        if (w === 0) {
          zeros++;
          assert.ok(
            Math.abs(g[i]) <= lambda + eps,
            `|grad| ${Math.abs(g[i])} > lambda ${lambda} at zero ${i}`,
          );
        } else {
          assert.ok(
            Math.abs(g[i] + lambda * Math.sign(w)) <= eps,
            `grad ${g[i]} != -lambda sign(w) at ${i}`,
          );
        }
      }
      if (fraction === 0.4) assert.ok(zeros > 0, "a large lambda produces zeros");
    }
  }
});

Deno.test("fista and ista obey Beck-Teboulle's rates; FISTA ends below ISTA and below the start", () => {
  // Badly conditioned (channel scales over e^4), so ISTA is slow.
  const { gram, linear, maxC } = problem(6, 12, 60, 11, 4);
  const lambda = 0.02 * maxC, L = largestEigenvalueReference(gram.data, 12);
  const best = fista(gram, linear, lambda, { iterations: 20000, tol: 0, lipschitz: L });
  const fStar = best.objective.at(-1)!;
  const start = matrix(6, 12);
  // ||x_0 - x*||^2 with x_0 = 0
  const r2 = best.weight.data.reduce((s, v) => s + v * v, 0);
  const fast = fista(gram, linear, lambda, { iterations: 50, tol: 0, lipschitz: L, start });
  const slow = fista(gram, linear, lambda, {
    iterations: 50,
    tol: 0,
    lipschitz: L,
    start,
    accelerate: false,
  });
  const slack = 1e-5 * maxC * maxC;
  for (let k = 1; k <= 50; k++) {
    // Theorem 4.4 (FISTA): F(x_k) - F* <= 2 L ||x_0 - x*||^2 / (k + 1)^2
    assert.ok(
      fast.objective[k] - fStar <= 2 * L * r2 / (k + 1) ** 2 + slack,
      `FISTA bound at k=${k}`,
    );
    // Theorem 3.1 (ISTA): F(x_k) - F* <= L ||x_0 - x*||^2 / (2 k); ISTA is monotone
    assert.ok(slow.objective[k] - fStar <= L * r2 / (2 * k) + slack, `ISTA bound at k=${k}`);
    assert.ok(slow.objective[k] <= slow.objective[k - 1] + slack, `ISTA monotone at k=${k}`);
  }
  assert.ok(fast.objective[50] < fast.objective[0]);
  assert.ok(
    fast.objective[50] < slow.objective[50],
    `${fast.objective[50]} vs ISTA ${slow.objective[50]}`,
  );
  assert.ok(
    Math.abs(lassoObjective(fast.weight, gram, linear, lambda) - fast.objective[50]) <= slack,
  );
});

Deno.test("fista: stops on the relative change, and inputs are not mutated", () => {
  const { gram, linear, maxC } = problem(4, 5, 30, 2);
  const start = matrix(4, 5, randn(20, createRng(1)));
  const copies = [gram.data.slice(), linear.data.slice(), start.data.slice()];
  const r = fista(gram, linear, 0.01 * maxC, { iterations: 10000, tol: 1e-5, start });
  assert.ok(r.converged && r.iterations < 10000, `iterations ${r.iterations}`);
  assert.deepEqual([gram.data, linear.data, start.data], copies);
  assert.notEqual(r.weight.data, start.data);
  // the product used by fista is matmul's
  assertAllClose(matmul(r.weight, gram).data, matmulReference(r.weight, gram).data, { atol: 1e-5 });
});

Deno.test("fista: bad inputs throw typed errors naming the value", () => {
  const g = fromRows([[1, 0], [0, 1]]), c = fromRows([[1, 2]]);
  assert.throws(() => fista(fromRows([[1, 0, 0]]), c, 1), {
    name: "TypeError",
    message: /got \[1, 3\]/,
  });
  assert.throws(() => fista(g, c, 1, { start: fromRows([[1]]) }), {
    name: "TypeError",
    message: /start is \[1, 1\]/,
  });
  assert.throws(() => fista(g, c, -1), { name: "RangeError", message: /lambda .* got -1/ });
  assert.throws(() => fista(g, c, 1, { iterations: 0 }), {
    name: "RangeError",
    message: /K\) must be an integer >= 1, got 0/,
  });
  assert.throws(() => fista(g, c, 1, { tol: -1 }), {
    name: "RangeError",
    message: /tol must be >= 0, got -1/,
  });
  assert.throws(() => fista(fromRows([[0, 0], [0, 0]]), c, 1), {
    name: "RangeError",
    message: /largest eigenvalue 0/,
  });
  assert.throws(() => fistaReference(g, c, 1, { iterations: 1.5 }), {
    name: "RangeError",
    message: /got 1.5/,
  });
});
