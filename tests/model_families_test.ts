import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { assertAllClose } from "../src/check/all_close.ts";
import { perplexity } from "../src/eval/perplexity.ts";
import { readHfModel } from "../src/io/hf_model.ts";
import { readLlama2c } from "../src/io/llama2c.ts";
import { hfTokenizer } from "../src/io/text_tokenizer.ts";
import { readSafetensors } from "../src/io/safetensors.ts";
import { encode, readTokenizer } from "../src/io/tokenizer.ts";
import { intraLayerGroups, type Model } from "../src/model/family.ts";
import { FAMILIES, familyOf } from "../src/model/families.ts";
import { tinyGptNeoX } from "../src/model/gpt_neox.ts";
import { tinyLlama } from "../src/model/llama.ts";
import { forward, forwardReference, linearsOf } from "../src/model/model.ts";
import { tinyOpt } from "../src/model/opt.ts";
import { createPool } from "../src/parallel/pool.ts";
import { pruneModelParallel } from "../src/parallel/prune_model_parallel.ts";
import { pruneModel, type PruneModelOptions } from "../src/pipeline/prune_model.ts";
import { methodByName, methodNames } from "../src/prune/methods.ts";
import { comparable } from "./lib/comparable.ts";

const SHARED = new URL("../../shared/", import.meta.url);
const GOLDEN = new URL("./golden/hf/", import.meta.url);
const FOLDERS = ["llama2", "llama3", "qwen2", "pythia", "opt"] as const;
const bytes = (url: URL) => new Uint8Array(readFileSync(url));

/** An HF folder of ../shared/models/hf read into a model. */
function hfModel(folder: string): Promise<Model> {
  const dir = new URL(`models/hf/${folder}/`, SHARED);
  const config = JSON.parse(new TextDecoder().decode(bytes(new URL("config.json", dir))));
  return readHfModel(config, readSafetensors(bytes(new URL("model.safetensors", dir))));
}

/** transformers' (5.18, float32) logits of the golden prompt, and its ids. */
function golden(folder: string): { ids: number[]; logits: Float32Array } {
  const file = readSafetensors(bytes(new URL(`logits/${folder}.safetensors`, GOLDEN)));
  const raw = file.raw("ids");
  const ids = Array.from(new Int32Array(raw.slice().buffer));
  return { ids, logits: file.float32("logits") };
}

Deno.test("families: every HF folder's logits on the golden prompt equal transformers' within 1e-4 relative", async () => {
  const families: string[] = [];
  for (const folder of FOLDERS) {
    const model = await hfModel(folder), { ids, logits } = golden(folder);
    families.push(familyOf(model).name);
    const scale = logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const tol = { atol: 1e-4 * scale, rtol: 1e-4 }; // relative to the logits' scale
    assertAllClose(forward(model, ids).data, logits, tol, `${folder} forward`);
    assertAllClose(forwardReference(model, ids).data, logits, tol, `${folder} reference`);
  }
  assert.deepEqual(families, ["llama", "llama", "qwen2", "gpt_neox", "opt"]);
});

Deno.test("families: a wrong layout does not pass the golden comparison (the test can fail)", async () => {
  const model = await hfModel("pythia"), { ids, logits } = golden("pythia");
  const c = model.config as typeof model.config & { parallelResidual: boolean };
  const wrong = { ...model, config: { ...c, parallelResidual: !c.parallelResidual } };
  const scale = logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.throws(
    () => assertAllClose(forward(wrong, ids).data, logits, { atol: 1e-4 * scale, rtol: 1e-4 }),
    /outside atol/,
  );
});

Deno.test("families: llama2 (HF, F16) gives the README's dense perplexity and llama4m's within F16 rounding", async () => {
  // wiki.test.raw through tok512: the README says its ids equal the folder's tokenizer.json's
  const tok = readTokenizer(bytes(new URL("models/stories260K/tok512.bin", SHARED)));
  const text = new TextDecoder().decode(
    bytes(new URL("text/wikitext-2-raw/wiki.test.raw", SHARED)),
  );
  const ids = encode(tok, text.slice(0, 20000), { bos: true, eos: false }).slice(0, 16 * 256);
  assert.equal(ids.length, 16 * 256);
  const reference = JSON.parse(new TextDecoder().decode(bytes(new URL("reference.json", GOLDEN))));
  const hf = perplexity(await hfModel("llama2"), ids, { seqlen: 256 });
  assert.equal(hf.predicted, 4080);
  const relative = Math.abs(hf.ppl - reference.models.llama2.ppl) / reference.models.llama2.ppl;
  assert.ok(
    relative < 0.002,
    `llama2 ppl ${hf.ppl} vs transformers ${reference.models.llama2.ppl}`,
  );
  const l2c = readLlama2c(bytes(new URL("models/llama4m/llama4m.bin", SHARED)));
  const float32 = perplexity(l2c, ids, { seqlen: 256 });
  // the folder holds llama4m's weights rounded to F16: the same model up to that rounding
  assert.ok(
    Math.abs(hf.ppl - float32.ppl) / float32.ppl < 0.002,
    `llama2 (F16) ppl ${hf.ppl} vs llama4m (F32) ${float32.ppl}`,
  );
});

Deno.test("families: the dense perplexity of every HF folder on wiki.test.raw (16 x 256) equals transformers' within 0.2%", async () => {
  const reference = JSON.parse(new TextDecoder().decode(bytes(new URL("reference.json", GOLDEN))));
  // a prefix of the text holds the 16 windows with room to spare (ids of a prefix are the
  // prefix of the ids far from the cut)
  const text = new TextDecoder().decode(bytes(new URL("text/wikitext-2-raw/wiki.test.raw", SHARED)))
    .slice(0, 40000);
  for (const folder of FOLDERS) {
    const dir = new URL(`models/hf/${folder}/`, SHARED);
    const json = (name: string) => JSON.parse(new TextDecoder().decode(bytes(new URL(name, dir))));
    const tok = hfTokenizer(json("tokenizer.json"), json("tokenizer_config.json"));
    const ids = tok.encode(text).slice(0, 16 * 256);
    assert.equal(ids.length, 16 * 256, folder);
    const ours = perplexity(await hfModel(folder), ids, { seqlen: 256 });
    const want = reference.models[folder].ppl;
    assert.equal(ours.predicted, reference.models[folder].predicted);
    assert.ok(
      Math.abs(ours.ppl - want) / want < 0.002,
      `${folder}: ppl ${ours.ppl}, transformers ${want}`,
    );
  }
});

Deno.test("families: FISTAPruner's intra-layer order follows what feeds each operator's input", () => {
  const groups = (m: Model) => intraLayerGroups(linearsOf(m));
  assert.deepEqual(groups(tinyLlama({ seed: 1 })), [["wq", "wk", "wv"], ["wo"], ["w1", "w3"], [
    "w2",
  ]]);
  assert.deepEqual(groups(tinyGptNeoX({ seed: 1, parallelResidual: true })), [
    ["query_key_value", "dense_h_to_4h"],
    ["dense", "dense_4h_to_h"],
  ]);
  assert.deepEqual(groups(tinyGptNeoX({ seed: 1, parallelResidual: false })), [
    ["query_key_value"],
    ["dense"],
    ["dense_h_to_4h"],
    ["dense_4h_to_h"],
  ]);
  assert.deepEqual(groups(tinyOpt({ seed: 1 })), [["q_proj", "k_proj", "v_proj"], ["out_proj"], [
    "fc1",
  ], ["fc2"]]);
  assert.deepEqual(Object.keys(FAMILIES), ["llama", "qwen2", "gpt_neox", "opt"]);
});

/** Small random models of every family, in every variant the pipeline must handle. */
function tinyModels(): [string, Model][] {
  return [
    ["llama", tinyLlama({ seed: 3 })],
    ["gpt_neox parallel", tinyGptNeoX({ seed: 3 })],
    ["gpt_neox sequential", tinyGptNeoX({ seed: 4, parallelResidual: false })],
    ["opt pre-LN", tinyOpt({ seed: 3 })],
    ["opt post-LN, projected", tinyOpt({ seed: 4, preNorm: false, finalNorm: false, wordDim: 6 })],
  ];
}

Deno.test("families: the fast forward equals the reference twin on every variant", () => {
  for (const [name, model] of tinyModels()) {
    const ids = [1, 4, 9, 4, 15, 0, 7];
    assertAllClose(forward(model, ids).data, forwardReference(model, ids).data, {
      atol: 1e-5,
      rtol: 1e-4,
    }, name);
  }
});

Deno.test("families: all five methods prune every family; only the block linears change", () => {
  const windows = [
    Int32Array.from([1, 5, 7, 2, 9, 3, 11, 4]),
    Int32Array.from([3, 4, 9, 8, 0, 2, 6, 1]),
  ];
  for (const [name, model] of tinyModels()) {
    for (const method of methodNames()) {
      const descriptor = methodByName(method)!;
      const options: PruneModelOptions = {
        method: descriptor,
        target: { kind: "nm", n: 2, m: 4 },
        ...descriptor.pipeline,
        ...(method === "fista" ? { methodOptions: { iterations: 3 } } : {}),
      };
      const out = pruneModel(model, windows, options);
      const specs = linearsOf(model);
      assert.equal(out.layers.length, specs.length * model.config.nLayers, `${name} ${method}`);
      assert.ok(Math.abs(out.sparsity - 0.5) < 1e-12, `${name} ${method}: ${out.sparsity}`);
      const pruned = new Set(specs.map((s) => s.name));
      out.weights.blocks.forEach((block, l) => {
        for (const [key, tensor] of Object.entries(block)) {
          if (!pruned.has(key)) assert.equal(tensor, model.blocks[l][key], `${name} ${key}`);
        }
      });
    }
  }
});

Deno.test("families: on workers, every family prunes to the same masks and weights as in-process", async () => {
  const windows = [Int32Array.from([1, 5, 7, 2, 9, 3]), Int32Array.from([3, 4, 9, 8, 0, 2])];
  using pool = createPool({ size: 2 });
  for (const [name, model] of tinyModels().slice(1)) {
    for (const method of ["wanda", "fista"]) {
      const descriptor = methodByName(method)!;
      const options: PruneModelOptions = {
        method: descriptor,
        target: { kind: "unstructured", sparsity: 0.5, group: "row" },
        ...descriptor.pipeline,
        intraLayer: true,
        ...(method === "fista" ? { methodOptions: { iterations: 3 } } : {}),
      };
      const expected = comparable(pruneModel(model, windows, options));
      const got = comparable(await pruneModelParallel(pool, model, windows, options));
      assert.deepEqual(got, expected, `${name} ${method}`);
    }
  }
});
