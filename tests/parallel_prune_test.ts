import assert from "node:assert/strict";
import type { MethodInfo } from "../src/prune/method.ts";
import { methodByName } from "../src/prune/methods.ts";
import type { PruneResult, Target } from "../src/prune/types.ts";
import { buildMask } from "../src/select/mask.ts";
import { createRng, randn } from "../src/tensor/rng.ts";
import { type Matrix, matrix } from "../src/tensor/matrix.ts";
import { createPool, isShared } from "../src/parallel/pool.ts";
import { buildMaskParallel, pruneLayerParallel } from "../src/parallel/prune_parallel.ts";

const TARGETS: Target[] = [
  { kind: "unstructured", sparsity: 0.5, group: "row" },
  { kind: "unstructured", sparsity: 0.3, group: "row" },
  { kind: "unstructured", sparsity: 0.6, group: "layer" }, // in-process fallback
  { kind: "nm", n: 2, m: 4 },
  { kind: "nm", n: 1, m: 8 },
];

/** The result without `info.timesMs` (wall times differ from run to run). */
function withoutTimes(r: PruneResult<MethodInfo>): PruneResult<MethodInfo> {
  const { timesMs: _, ...info } = r.info ?? {};
  return { ...r, info };
}

/** The bytes of a float array (deepEqual compares floats with ===, which equates 0 and -0). */
const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();

/** Scores with ties (rounded) so that the tie order is exercised too. */
function scoresOf(rows: number, cols: number, seed: number): Matrix {
  const data = randn(rows * cols, createRng(seed)).map((v) => Math.round(Math.abs(v) * 8) / 8);
  return matrix(rows, cols, data);
}

Deno.test("buildMaskParallel equals buildMask bitwise: per-row, N:M, layer fallback, every selector", async () => {
  for (const size of [2, 3]) {
    {
      using pool = createPool({ size });
      for (const [rows, cols, seed] of [[1, 16, 1], [7, 32, 2], [33, 64, 3]]) {
        const scores = scoresOf(rows, cols, seed);
        for (const target of TARGETS) {
          for (const select of ["sort", "ewma", "ewma-exact"] as const) {
            const options = { select };
            const expected = buildMask(scores, target, options);
            const got = await buildMaskParallel(pool, scores, target, {
              ...options,
              minWeights: 0,
            });
            assert.deepEqual(got, expected, `${rows}x${cols} ${JSON.stringify(target)} ${select}`);
          }
        }
      }
    }
  }
});

Deno.test("buildMaskParallel: errors of buildMask, in-process below minWeights", async () => {
  {
    using pool = createPool({ size: 2 });
    const scores = scoresOf(8, 8, 4);
    scores.data[13] = NaN;
    await assert.rejects(
      buildMaskParallel(pool, scores, { kind: "unstructured", sparsity: 0.5, group: "row" }, {
        minWeights: 0,
      }),
      { name: "RangeError", message: "Cannot select from scores of row: score 5 is NaN" },
    );
    await assert.rejects(
      buildMaskParallel(pool, scoresOf(4, 6, 1), { kind: "nm", n: 2, m: 4 }, { minWeights: 0 }),
      RangeError,
    );
    const small = await buildMaskParallel(pool, scoresOf(4, 8, 1), TARGETS[0]);
    assert.ok(!isShared(small.keep)); // 32 weights: below the default minWeights
  }
});

Deno.test("pruneLayerParallel equals METHODS bitwise: magnitude, wanda, swiftprune (all xStats)", async () => {
  const rng = createRng(9);
  const w = matrix(45, 32, randn(45 * 32, rng)), x = matrix(20, 32, randn(20 * 32, rng));
  x.data[5] *= 30; // an outlier channel, so SwiftPrune's factor matters
  const before = w.data.slice();
  {
    using pool = createPool({ size: 3 });
    const cases: [string, Record<string, unknown>][] = [
      ["magnitude", {}],
      ["wanda", {}],
      ["swiftprune", {}],
      ["swiftprune", { xStat: "token" }],
      ["swiftprune", { xStat: "mean", eps: 1e-3 }],
      ["swiftprune", { select: "ewma" }],
    ];
    for (const [method, options] of cases) {
      for (const target of TARGETS) {
        for (
          const calib of [{ inputs: x }, { inputs: x, colNorms: new Float32Array(32).fill(1) }]
        ) {
          const expected = methodByName(method)!.prune(w, calib, target, options);
          const got = await pruneLayerParallel(pool, methodByName(method)!, w, calib, target, {
            ...options,
            minWeights: 0,
          });
          const what = `${method} ${JSON.stringify(options)} ${JSON.stringify(target)}`;
          assert.deepEqual(withoutTimes(got), withoutTimes(expected), what);
          assert.deepEqual(Object.keys(got.info!.timesMs as object), ["scoring", "selection"]);
          assert.deepEqual(bytes(got.weight.data), bytes(expected.weight.data), what); // -0 too
          assert.deepEqual(bytes(got.scores!.data), bytes(expected.scores!.data), what);
        }
      }
    }
    const parallel = await pruneLayerParallel(
      pool,
      methodByName("wanda")!,
      w,
      { inputs: x },
      TARGETS[0],
      {
        minWeights: 0,
      },
    );
    assert.ok(isShared(parallel.keep) && isShared(parallel.weight.data));
  }
  assert.deepEqual(w.data, before);
});

Deno.test("pruneLayerParallel: an unregistered descriptor runs in-process; shape errors as the method's", async () => {
  const rng = createRng(3);
  const w = matrix(16, 8, randn(128, rng)), x = matrix(4, 6, randn(24, rng));
  {
    using pool = createPool({ size: 2 });
    const wanda = methodByName("wanda")!, copy = { ...wanda }; // not registered: no worker finds it
    const xw = matrix(4, 8, randn(32, rng));
    assert.deepEqual(
      (await pruneLayerParallel(pool, copy, w, { inputs: xw }, TARGETS[0], { minWeights: 0 })).keep,
      wanda.prune(w, { inputs: xw }, TARGETS[0]).keep,
    );
    let expected: unknown;
    try {
      methodByName("wanda")!.prune(w, { inputs: x }, TARGETS[0]);
    } catch (e) {
      expected = e;
    }
    assert.ok(expected instanceof TypeError);
    await assert.rejects(
      pruneLayerParallel(pool, methodByName("wanda")!, w, { inputs: x }, TARGETS[0], {
        minWeights: 0,
      }),
      { name: "TypeError", message: (expected as Error).message },
    );
  }
});
