import assert from "node:assert/strict";
import { comparable } from "./lib/comparable.ts";
import { tinyLlama } from "../src/model/llama.ts";
import { pruneModel, type PruneModelOptions } from "../src/pipeline/prune_model.ts";
import { methodByName } from "../src/prune/methods.ts";
import type { Target } from "../src/prune/types.ts";
import { createPool, isShared } from "../src/parallel/pool.ts";
import { pruneModelParallel } from "../src/parallel/prune_model_parallel.ts";

const model = tinyLlama({ seed: 4, dim: 16, hiddenDim: 32, nLayers: 2, vocabSize: 32 });
const windows = [0, 1, 2].map((s) =>
  Int32Array.from({ length: 9 + s }, (_, i) => (i * 5 + s * 3 + 1) % 32)
);
const rowTarget: Target = { kind: "unstructured", sparsity: 0.5, group: "row" };

Deno.test("pruneModelParallel equals pruneModel bitwise (row-split and in-process methods, pipeline modes)", async () => {
  using pool = createPool({ size: 2 });
  const cases: [string, Target, Record<string, unknown>][] = [
    ["swiftprune", rowTarget, {}],
    ["wanda", { kind: "nm", n: 2, m: 4 }, { intraLayer: true }],
    ["magnitude", { kind: "unstructured", sparsity: 0.4, group: "layer" }, { denseInputs: true }],
    ["sparsegpt", rowTarget, {}],
  ];
  for (const [method, target, mode] of cases) {
    const options = {
      method: methodByName(method)!,
      target,
      methodOptions: { minWeights: 0 },
      ...mode,
    };
    const expected = comparable(pruneModel(model, windows, options));
    const got = await pruneModelParallel(pool, model, windows, options);
    assert.deepEqual(comparable(got), expected, method);
    assert.deepEqual(
      comparable(await pruneModelParallel(undefined, model, windows, options)),
      expected,
    );
    if (method === "swiftprune") assert.ok(isShared(got.masks["layers.1.w2"])); // rows were split
  }
});

Deno.test("pruneModelParallel: errors of pruneModel, times reported", async () => {
  using pool = createPool({ size: 2 });
  await assert.rejects(
    pruneModelParallel(pool, model, [], { method: methodByName("wanda")!, target: rowTarget }),
    {
      name: "RangeError",
      message: "Cannot prune model: need at least one calibration window, got 0",
    },
  );
  const r = await pruneModelParallel(pool, model, windows, {
    method: methodByName("wanda")!,
    target: rowTarget,
  });
  assert.ok(r.timesMs.calibration > 0 && r.timesMs.pruning > 0);
  assert.deepEqual(Object.keys(r.methodTimesMs).sort(), ["scoring", "selection"]);
});

/** A deep copy of the tiny model (so a run in place cannot touch the shared fixture). */
function cloneModel(m: typeof model): typeof model {
  const copy = (x: { data: Float32Array; rows: number; cols: number }) => ({
    ...x,
    data: x.data.slice(),
  });
  return {
    ...m,
    tokenEmbedding: copy(m.tokenEmbedding),
    classifier: copy(m.classifier),
    rmsFinal: m.rmsFinal.slice(),
    blocks: m.blocks.map((b) => ({
      rmsAtt: b.rmsAtt.slice(),
      rmsFfn: b.rmsFfn.slice(),
      wq: copy(b.wq),
      wk: copy(b.wk),
      wv: copy(b.wv),
      wo: copy(b.wo),
      w1: copy(b.w1),
      w2: copy(b.w2),
      w3: copy(b.w3),
    })),
  };
}

Deno.test("inPlace, releaseArrays and keepMasks: same result bitwise; the input becomes the pruned model; no masks kept (serial, steps on a pool, blocks on a pool)", async () => {
  using pool = createPool({ size: 2 });
  const cases: [string, Record<string, unknown>][] = [
    ["swiftprune", {}],
    ["wanda", { intraLayer: true }],
    ["fista", { denseInputs: true, intraLayer: true, methodOptions: { iterations: 3 } }], // blocks as tasks
  ];
  for (const [method, mode] of cases) {
    const options: PruneModelOptions = {
      method: methodByName(method)!,
      target: rowTarget,
      ...mode,
    };
    const expected = comparable(pruneModel(model, windows, options));
    for (const p of [undefined, pool]) {
      const input = cloneModel(model);
      const got = await pruneModelParallel(p, input, windows, {
        ...options,
        inPlace: true,
        releaseArrays: true, // and the arrays it is done with are freed or reused at once
      });
      assert.deepEqual(comparable(got), expected, `${method} ${p ? "pool" : "serial"}`);
      const noMasks = await pruneModelParallel(p, model, windows, { ...options, keepMasks: false });
      assert.deepEqual(
        comparable(noMasks),
        { ...expected, masks: {} },
        `${method}: keepMasks false`,
      );
      const asInput = comparable({ ...got, weights: input });
      assert.deepEqual(
        asInput.weights,
        expected.weights,
        `${method}: input now holds the pruned weights`,
      );
    }
  }
});
