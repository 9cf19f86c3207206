import assert from "node:assert/strict";
import { comparable } from "./lib/comparable.ts";
import { readLlama2c } from "../src/io/llama2c.ts";
import { encode, readTokenizer } from "../src/io/tokenizer.ts";
import { tinyLlama } from "../src/model/llama.ts";
import type { LlamaWeights } from "../src/model/weights.ts";
import { sampleWindows } from "../src/pipeline/calibration.ts";
import { pruneModel, type PruneModelOptions } from "../src/pipeline/prune_model.ts";
import { methodByName } from "../src/prune/methods.ts";
import { createPool } from "../src/parallel/pool.ts";
import { pruneModelParallel } from "../src/parallel/prune_model_parallel.ts";

/** Runs serial and on a pool of 2; asserts bitwise equality and that blocks ran as tasks. */
async function assertSerialEqualsParallel(
  model: LlamaWeights,
  windows: Int32Array[],
  options: PruneModelOptions,
  label: string,
) {
  const expected = comparable(pruneModel(model, windows, options));
  using pool = createPool({ size: 2 });
  const labels: string[] = [];
  const got = await pruneModelParallel(pool, model, windows, {
    ...options,
    onProgress: (_d, _t, label) => labels.push(label ?? ""),
  });
  assert.ok(labels.includes(`${model.config.nLayers} blocks pruned`), `${label}: ${labels}`);
  assert.deepEqual(comparable(got), expected, label);
  assert.equal(got.layers.length, 7 * model.config.nLayers);
  assert.ok(got.timesMs.pruning > 0 && got.timesMs.calibration > 0);
}

Deno.test("fista with dense inputs: blocks on workers give the serial run's weights and masks bitwise (tiny model)", async () => {
  const model = tinyLlama({ seed: 4, dim: 16, hiddenDim: 32, nLayers: 3, vocabSize: 32 });
  const windows = [0, 1, 2].map((s) =>
    Int32Array.from({ length: 9 + s }, (_, i) => (i * 5 + s * 3 + 1) % 32)
  );
  const cases: [string, PruneModelOptions][] = [
    ["fista 50% wanda warm start", {
      method: methodByName("fista")!,
      target: { kind: "unstructured", sparsity: 0.5, group: "row" },
      methodOptions: { iterations: 5 },
    }],
    ["fista 2:4 sparsegpt warm start", {
      method: methodByName("fista")!,
      target: { kind: "nm", n: 2, m: 4 },
      methodOptions: { iterations: 5, warmStart: "sparsegpt" },
    }],
    ["wanda 2:4", { method: methodByName("wanda")!, target: { kind: "nm", n: 2, m: 4 } }],
  ];
  for (const [label, options] of cases) {
    const mode = { denseInputs: true, intraLayer: true };
    await assertSerialEqualsParallel(model, windows, { ...options, ...mode }, label);
  }
});

Deno.test("fista with dense inputs: blocks on workers equal the serial run on stories260K (small settings)", async () => {
  const model = readLlama2c(Deno.readFileSync("../shared/models/stories260K/stories260K.bin"));
  const tok = readTokenizer(Deno.readFileSync("../shared/models/stories260K/tok512.bin"));
  const text = new TextDecoder().decode(
    Deno.readFileSync("../shared/text/tinystories/TinyStories-validation-head.txt"),
  ).slice(0, 20_000);
  const windows = sampleWindows(encode(tok, text, { bos: true, eos: false }), {
    nsamples: 2,
    seqlen: 32,
    seed: 1,
  });
  await assertSerialEqualsParallel(model, windows, {
    method: methodByName("fista")!,
    target: { kind: "unstructured", sparsity: 0.5, group: "row" },
    methodOptions: { iterations: 3, updates: 2 },
    denseInputs: true,
    intraLayer: true,
    agreement: false,
  }, "stories260K");
});
