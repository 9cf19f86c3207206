import assert from "node:assert/strict";
import { matmul, matmulTransB } from "../src/linalg/matmul.ts";
import { createRng, randn } from "../src/tensor/rng.ts";
import { cloneMatrix, matrix } from "../src/tensor/matrix.ts";
import { createPool, isShared, type Pool, splitRange, toShared } from "../src/parallel/pool.ts";
import {
  matmulParallel,
  matmulTransBParallel,
  ROW_ALIGN,
} from "../src/parallel/matmul_parallel.ts";

/** A task module written inline, so the tests need no fixture file. */
const TASKS = "data:text/javascript," + encodeURIComponent(`
  export const add = (a, b) => a + b;
  export const wait = (ms, value) => new Promise((r) => setTimeout(() => r(value), ms));
  export function fill(array, value) { array.fill(value); return array.length; }
  export function throwRange(v) { throw new RangeError("value out of range: " + v); }
  export function throwType() { null.x; }
  export const failAfter = (ms, tag) =>
    new Promise((_, reject) => setTimeout(() => reject(new RangeError("failed " + tag)), ms));
  export function throwCustom() { const e = new Error("custom"); e.name = "NotPositiveDefiniteError"; throw e; }
  export const returnFunction = () => () => 1;
  export async function track(counter, ms) { // counter[0] = in flight now, counter[1] = most seen
    const now = Atomics.add(counter, 0, 1) + 1;
    for (let m = Atomics.load(counter, 1); now > m; m = Atomics.load(counter, 1)) {
      if (Atomics.compareExchange(counter, 1, m, now) === m) break;
    }
    await new Promise((r) => setTimeout(r, ms));
    Atomics.sub(counter, 0, 1);
    return ms;
  }
  let calls = 0;
  export const countCalls = () => ++calls;
`);

async function withPool(size: number, body: (pool: Pool) => Promise<void>): Promise<void> {
  const pool = createPool({ size });
  try {
    await body(pool);
  } finally {
    pool.close();
  }
}

Deno.test("pool: runs exported functions of a module and shares SharedArrayBuffer memory", async () => {
  await withPool(2, async (pool) => {
    assert.equal(pool.size, 2);
    assert.equal(await pool.run(TASKS, "add", [2, 3]), 5);
    const shared = toShared(matrix(1, 5)).data;
    assert.equal(await pool.run(TASKS, "fill", [shared, 7]), 5);
    assert.deepEqual(Array.from(shared), [7, 7, 7, 7, 7]); // written by the worker, seen here
    const copied = new Float32Array(3);
    await pool.run(TASKS, "fill", [copied, 7]);
    assert.deepEqual(Array.from(copied), [0, 0, 0]); // plain arrays are copied, not shared
  });
});

Deno.test("pool: errors keep their class and message; the pool keeps working after them", async () => {
  await withPool(1, async (pool) => {
    await assert.rejects(pool.run(TASKS, "throwRange", [42]), {
      name: "RangeError",
      message: "value out of range: 42",
    });
    const typeError = await pool.run(TASKS, "throwType").catch((e) => e);
    assert.ok(typeError instanceof TypeError);
    await assert.rejects(pool.run(TASKS, "throwCustom"), {
      name: "NotPositiveDefiniteError",
      message: "custom",
    });
    await assert.rejects(pool.run(TASKS, "missing"), {
      name: "TypeError",
      message: /no exported function "missing"/,
    });
    await assert.rejects(
      pool.run(TASKS, "returnFunction"),
      /could not be cloned|DataCloneError|clone/i,
    );
    await assert.rejects(pool.run(TASKS, "add", [() => 1, 2]), /clone/i); // args cannot be cloned
    assert.equal(await pool.run(TASKS, "add", [1, 1]), 2);
    // A library function's own error type also crosses over.
    const splitUrl = new URL("../src/parallel/pool.ts", import.meta.url);
    await assert.rejects(pool.run(splitUrl, "splitRange", [5, 0]), {
      name: "RangeError",
      message: /parts must be/,
    });
  });
});

Deno.test("pool: map returns results in input order, with at most size tasks at once", async () => {
  await withPool(2, async (pool) => {
    const out = await pool.map(TASKS, "wait", [[60, "a"], [5, "b"], [30, "c"], [0, "d"], [
      10,
      "e",
    ]]);
    assert.deepEqual(out, ["a", "b", "c", "d", "e"]);
    const counter = new Int32Array(new SharedArrayBuffer(8));
    const delays = [20, 5, 15, 1, 10, 3, 8];
    const progress: string[] = [];
    const onProgress = (done: number, total: number) => progress.push(`${done}/${total}`);
    const args = delays.map((ms) => [counter, ms]);
    assert.deepEqual(await pool.map(TASKS, "track", args, { onProgress }), delays);
    assert.deepEqual(progress, ["1/7", "2/7", "3/7", "4/7", "5/7", "6/7", "7/7"]);
    assert.deepEqual(Array.from(counter), [0, 2]); // two ran at once, never more
    // The module is imported once per worker: its call counter keeps counting (fresh imports
    // would answer 1 every time, summing to 4; two workers sharing 4 calls give at least 6).
    const counts = await pool.map<number>(TASKS, "countCalls", [[], [], [], []]);
    assert.ok(counts.reduce((s, c) => s + c, 0) >= 6, `counts ${counts}`);
  });
});

Deno.test("pool: map's error is the first failing task's in input order, not the first to fail", async () => {
  await withPool(2, async (pool) => {
    // task 0 fails last, task 1 fails first: the error names task 0 whatever the timing
    const args = [[80, "task 0"], [1, "task 1"]];
    await assert.rejects(
      pool.map(TASKS, "failAfter", args),
      { name: "RangeError", message: "failed task 0" },
    );
  });
});

Deno.test("pool: close rejects queued tasks, later runs reject, and closing twice is harmless", async () => {
  const pool = createPool({ size: 1 });
  const running = pool.run(TASKS, "wait", [50, "x"]);
  const queued = pool.run(TASKS, "add", [1, 2]);
  pool.close();
  await assert.rejects(running, /pool was closed/);
  await assert.rejects(queued, /pool was closed/);
  await assert.rejects(pool.run(TASKS, "add", [1, 2]), /pool is closed/);
  pool.close();
});

Deno.test("pool: idle workers stop by themselves, and restart on the next task", async () => {
  const pool = createPool({ size: 1, idleTimeoutMs: 20 });
  try {
    assert.equal(await pool.run(TASKS, "countCalls"), 1);
    await new Promise((r) => setTimeout(r, 80)); // the worker is stopped, its module state lost
    assert.equal(await pool.run(TASKS, "countCalls"), 1);
  } finally {
    pool.close();
  }
});

Deno.test("pool: bad options throw TypeError or RangeError naming the value", () => {
  assert.throws(() => createPool({ size: 0 }), {
    name: "RangeError",
    message: /size must be an integer >= 1, got 0/,
  });
  assert.throws(() => createPool({ size: 1.5 }), { name: "RangeError", message: /got 1.5/ });
  assert.throws(() => createPool({ size: "2" as unknown as number }), { name: "TypeError" });
  assert.throws(() => createPool({ idleTimeoutMs: -1 }), { name: "RangeError", message: /got -1/ });
});

Deno.test("splitRange: covers [0, total) with aligned, balanced, non-empty ranges", () => {
  for (const total of [0, 1, 15, 16, 17, 100, 1024]) {
    for (const parts of [1, 2, 3, 8]) {
      for (const align of [1, 4, 16]) {
        const ranges = splitRange(total, parts, align);
        assert.ok(ranges.length <= parts);
        let next = 0;
        for (const [start, end] of ranges) {
          assert.equal(start, next);
          assert.ok(end > start && start % align === 0 && (end === total || end % align === 0));
          next = end;
        }
        assert.equal(next, total);
      }
    }
  }
  assert.deepEqual(splitRange(1024, 2, 16), [[0, 512], [512, 1024]]);
});

// Shapes chosen so both workers get rows, row counts are not multiples of the tile alignment, and
// k and n are odd.
const SHAPES = [[2 * ROW_ALIGN + 3, 37, 29], [67, 129, 71], [ROW_ALIGN + 1, 1, 5], [
  5 * ROW_ALIGN,
  9,
  1,
]];

Deno.test("matmulParallel and matmulTransBParallel equal the single-thread kernels bitwise", async () => {
  const rng = createRng(11);
  await withPool(2, async (pool) => {
    for (const [m, k, n] of SHAPES) {
      const a = matrix(m, k, randn(m * k, rng));
      const b = matrix(k, n, randn(k * n, rng));
      const bt = matrix(n, k, randn(n * k, rng));
      const before = cloneMatrix(a);
      const c = await matmulParallel(pool, a, b, { minFlops: 0 });
      assert.ok(isShared(c.data), "workers were used");
      assert.deepEqual([c.rows, c.cols], [m, n]);
      assert.deepEqual(c.data, matmul(a, b).data, `A B ${m}x${k}x${n}`);
      const y = await matmulTransBParallel(pool, a, bt, { minFlops: 0 });
      assert.ok(isShared(y.data));
      assert.deepEqual(y.data, matmulTransB(a, bt).data, `A B^T ${m}x${k}x${n}`);
      assert.deepEqual(a, before, "inputs are not modified");
      // Shared inputs are used in place and give the same values.
      const cs = await matmulTransBParallel(pool, toShared(a), toShared(bt), { minFlops: 0 });
      assert.deepEqual(cs.data, y.data);
    }
  });
});

Deno.test("parallel matmul without a pool, or with one worker, runs in-process with the same values", async () => {
  const rng = createRng(5);
  const a = matrix(33, 20, randn(660, rng)), b = matrix(20, 7, randn(140, rng));
  const alone = await matmulParallel(undefined, a, b);
  assert.ok(!isShared(alone.data));
  assert.deepEqual(alone.data, matmul(a, b).data);
  await withPool(1, async (pool) => {
    const one = await matmulTransBParallel(pool, a, a, { minFlops: 0 });
    assert.ok(!isShared(one.data));
    assert.deepEqual(one.data, matmulTransB(a, a).data);
  });
  await withPool(2, async (pool) => { // too small for the default minFlops
    assert.ok(!isShared((await matmulParallel(pool, a, b)).data));
  });
});

Deno.test("parallel matmul rejects bad shapes with a TypeError naming them", async () => {
  const a = matrix(3, 4), b = matrix(5, 2);
  await assert.rejects(matmulParallel(undefined, a, b), {
    name: "TypeError",
    message: /A \[3, 4\] and B \[5, 2\]/,
  });
  await assert.rejects(matmulTransBParallel(undefined, a, b), {
    name: "TypeError",
    message: /inner dimensions differ/,
  });
  await assert.rejects(matmulParallel(undefined, { data: [1], rows: 1, cols: 1 } as never, b), {
    name: "TypeError",
  });
});

Deno.test("pool: the library's errors keep their class and fields across workers", async () => {
  const { NonFiniteInputError } = await import("../src/check/finite.ts");
  const { NotPositiveDefiniteError, cholesky } = await import("../src/linalg/cholesky.ts");
  await withPool(1, async (pool) => {
    const url = new URL("../src/linalg/cholesky.ts", import.meta.url);
    const e = await pool.run(url, "cholesky", [new Float64Array([1, 2, 2, 1]), 2]).catch((e) => e);
    let local: unknown;
    try {
      cholesky(new Float64Array([1, 2, 2, 1]), 2);
    } catch (err) {
      local = err;
    }
    assert.ok(e instanceof NotPositiveDefiniteError && e instanceof RangeError, String(e));
    const { pivot, value, damp, message, name } = local as InstanceType<
      typeof NotPositiveDefiniteError
    >;
    assert.deepEqual([e.pivot, e.value, e.damp, e.message, e.name], [
      pivot,
      value,
      damp,
      message,
      name,
    ]);
    const finite = new URL("../src/check/finite.ts", import.meta.url);
    const inputs = { wq: { data: new Float32Array([1, NaN]), rows: 1, cols: 2 } };
    const f = await pool.run(finite, "assertFiniteInputs", [0, inputs, [1]]).catch((e) => e);
    assert.ok(f instanceof NonFiniteInputError && f instanceof RangeError, String(f));
    assert.equal(f.name, "NonFiniteInputError");
    assert.match(
      f.message,
      /^Calibration input of layers\.0\.wq has a non-finite value NaN/,
    );
  });
});
