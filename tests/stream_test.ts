import assert from "node:assert/strict";
import { folderSource } from "../scripts/lib/hf_files.ts";
import { blockPerplexity } from "../src/eval/perplexity_blocks.ts";
import { perplexity } from "../src/eval/perplexity.ts";
import { openHfFolder } from "../src/io/hf_folder.ts";
import { openHfModelByBlocks, readHfModel } from "../src/io/hf_model.ts";
import type { Block } from "../src/model/family.ts";
import { tinyLlama } from "../src/model/llama.ts";
import { pruneModelParallel } from "../src/parallel/prune_model_parallel.ts";
import { pruneModel } from "../src/pipeline/prune_model.ts";
import { methodByName } from "../src/prune/methods.ts";

const HF = new URL("../../shared/models/hf", import.meta.url).pathname;

/** The whole model and the model read block by block, from one folder. */
async function bothWays(name: string) {
  const src = folderSource(`${HF}/${name}`);
  try {
    const folder = await openHfFolder(src);
    const whole = await readHfModel(folder.config, folder.tensors);
    const lazy = await openHfModelByBlocks(folder.config, folder.tensors);
    const blocks: Block[] = [];
    for (let l = 0; l < whole.config.nLayers; l++) blocks.push(await lazy.block(l));
    return { whole, lazy: lazy.model, blocks };
  } finally {
    await src.close();
  }
}

Deno.test("openHfModelByBlocks: every block read alone equals the whole model's, on all five folders", async () => {
  for (const name of ["llama2", "llama3", "qwen2", "pythia", "opt"]) {
    const { whole, lazy, blocks } = await bothWays(name);
    assert.deepEqual(blocks, whole.blocks, name);
    assert.deepEqual({ ...lazy, blocks: [] }, { ...whole, blocks: [] }, name);
    // the placeholders keep only the linears' shapes
    const b0 = lazy.blocks[0] as Record<string, { rows: number; cols: number; data: Float32Array }>;
    for (const [k, m] of Object.entries(b0)) {
      const w = whole.blocks[0][k] as { rows: number; cols: number };
      assert.deepEqual([m.rows, m.cols, m.data.length], [w.rows, w.cols, 0], `${name} ${k}`);
    }
  }
});

for (const [name, method] of [["llama3", "sparsegpt"], ["pythia", "wanda"]] as const) {
  Deno.test(`streamed pipeline on ${name} (${method}): the whole model's masks, weights and perplexities`, async () => {
    const { whole, lazy, blocks } = await bothWays(name);
    const vocab = whole.config.vocabSize;
    const windows = [0, 1, 2].map((w) =>
      Int32Array.from({ length: 32 }, (_, i) => (i * 37 + w * 101) % vocab)
    );
    const ids = Int32Array.from({ length: 96 }, (_, i) => (i * 53 + 7) % vocab);
    const target = { kind: "unstructured", sparsity: 0.5, group: "row" } as const;
    const options = { method: methodByName(method)!, target };
    const expected = pruneModel(whole, windows, options);

    const dense = blockPerplexity(lazy, ids, { seqlen: 32 });
    const pruned = blockPerplexity(lazy, ids, { seqlen: 32 });
    const got: Block[] = [], masks: Record<string, Uint8Array> = {};
    const loads: number[] = [];
    const result = await pruneModelParallel(undefined, lazy, windows, {
      ...options,
      keepMasks: false,
      inPlace: true,
      releaseArrays: true,
      blocks: {
        load: (l) => {
          loads.push(l);
          const b = structuredClone(blocks[l]); // a fresh read, as from the file
          dense.advance(l, b);
          return Promise.resolve(b);
        },
        done: (l, block, m) => {
          assert.deepEqual(loads, Array.from({ length: l + 1 }, (_, i) => i)); // never read ahead
          pruned.advance(l, block);
          got.push(block);
          Object.assign(masks, m);
          return Promise.resolve();
        },
      },
    });
    assert.deepEqual(result.masks, {}); // keepMasks: false, yet `done` had them
    assert.deepEqual(masks, expected.masks);
    assert.deepEqual(got, expected.weights.blocks);
    const untimed = (r: object) => JSON.stringify(r, (k, v) => k === "timesMs" ? undefined : v);
    assert.deepEqual(result.layers.map(untimed), expected.layers.map(untimed));
    assert.deepEqual(dense.finish(), perplexity(whole, ids, { seqlen: 32 }));
    assert.deepEqual(pruned.finish(), perplexity(expected.weights, ids, { seqlen: 32 }));
  });
}

Deno.test("pruneModel (synchronous) refuses a streamed model, naming driveAsync", () => {
  const target = { kind: "nm", n: 2, m: 4 } as const;
  const blocks = { load: () => Promise.resolve({}), done: () => Promise.resolve() };
  assert.throws(
    () =>
      pruneModel(tinyLlama({ seed: 1 }), [Int32Array.from([1])], {
        method: methodByName("magnitude")!,
        target,
        blocks,
      }),
    /driveAsync/,
  );
});
