import assert from "node:assert/strict";
import {
  hfLlamaConfigJson,
  llamaFromHf,
  llamaFromHfReader,
  llamaToHf,
  parseHfLlamaConfig,
  permuteForHfRope,
  unpermuteFromHfRope,
} from "../src/io/hf_llama.ts";
import { openSafetensors, readSafetensors, writeSafetensors } from "../src/io/safetensors.ts";
import { bf16ToFloat32, float32ToBf16 } from "../src/io/half.ts";
import type { LlamaConfig, LlamaWeights } from "../src/model/weights.ts";
import type { Matrix } from "../src/tensor/matrix.ts";
import { createRng } from "../src/tensor/rng.ts";

function tinyConfig(sharedClassifier: boolean): LlamaConfig {
  return {
    dim: 8,
    hiddenDim: 12,
    nLayers: 2,
    nHeads: 2,
    nKvHeads: 1,
    vocabSize: 10,
    seqLen: 16,
    normEps: 1e-5,
    ropeTheta: 10000,
    sharedClassifier,
  };
}

function randomWeights(config: LlamaConfig, seed: number): LlamaWeights {
  const rng = createRng(seed);
  const vec = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const m = (rows: number, cols: number): Matrix => ({ data: vec(rows * cols), rows, cols });
  const { dim, hiddenDim } = config;
  const kvDim = (dim / config.nHeads) * config.nKvHeads;
  const tokenEmbedding = m(config.vocabSize, dim);
  const blocks = Array.from({ length: config.nLayers }, () => ({
    rmsAtt: vec(dim),
    wq: m(dim, dim),
    wk: m(kvDim, dim),
    wv: m(kvDim, dim),
    wo: m(dim, dim),
    rmsFfn: vec(dim),
    w1: m(hiddenDim, dim),
    w2: m(dim, hiddenDim),
    w3: m(hiddenDim, dim),
  }));
  const classifier = config.sharedClassifier ? tokenEmbedding : m(config.vocabSize, dim);
  return { config, tokenEmbedding, blocks, rmsFinal: vec(dim), classifier };
}

/** Deep copy, to check inputs are not mutated. */
function cloneWeights(w: LlamaWeights): LlamaWeights {
  return structuredClone(w);
}

Deno.test("permuteForHfRope: hand-checked orders, matching transformers' permute", () => {
  // one head of size 4: llama2.c pairs (r0, r1), (r2, r3) -> HF halves [r0, r2 | r1, r3]
  const col = (values: number[]): Matrix => ({
    data: new Float32Array(values),
    rows: values.length,
    cols: 1,
  });
  assert.deepEqual(Array.from(permuteForHfRope(col([0, 1, 2, 3]), 1).data), [0, 2, 1, 3]);
  // two heads of size 6; expected from numpy:
  // np.arange(12).reshape(2, 3, 2, 1).transpose(0, 2, 1, 3).reshape(12)
  const twelve = col([...Array(12).keys()]);
  assert.deepEqual(Array.from(permuteForHfRope(twelve, 2).data), [
    0,
    2,
    4,
    1,
    3,
    5,
    6,
    8,
    10,
    7,
    9,
    11,
  ]);
  // whole rows move: 2 columns
  const w = { data: new Float32Array([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]), rows: 4, cols: 2 };
  assert.deepEqual(Array.from(permuteForHfRope(w, 1).data), [0, 0.5, 2, 2.5, 1, 1.5, 3, 3.5]);
  assert.throws(() => permuteForHfRope(col([0, 1, 2]), 1), {
    name: "RangeError",
    message: /\[3, 1\].*1 heads of even size/,
  });
  assert.throws(() => unpermuteFromHfRope(col([0, 1, 2, 3]), 3), RangeError);
});

Deno.test("permute and unpermute are inverses on many shapes and seeds", () => {
  const rng = createRng(5);
  for (let trial = 0; trial < 50; trial++) {
    const nHeads = 1 + rng.int(4), headSize = 2 * (1 + rng.int(4)), cols = 1 + rng.int(5);
    const w: Matrix = {
      data: Float32Array.from({ length: nHeads * headSize * cols }, () => rng.normal()),
      rows: nHeads * headSize,
      cols,
    };
    const copy = w.data.slice();
    assert.deepEqual(unpermuteFromHfRope(permuteForHfRope(w, nHeads), nHeads), w);
    assert.deepEqual(permuteForHfRope(unpermuteFromHfRope(w, nHeads), nHeads), w);
    assert.deepEqual(w.data, copy);
  }
});

/** llama2.c's RoPE on one head: rotate adjacent pairs (x[2i], x[2i+1]) by pos * theta^(-2i/d). */
function ropeAdjacentPairs(x: number[], pos: number, theta: number): number[] {
  const out = x.slice(), d = x.length;
  for (let i = 0; i < d / 2; i++) {
    const a = pos * theta ** (-2 * i / d), c = Math.cos(a), s = Math.sin(a);
    out[2 * i] = x[2 * i] * c - x[2 * i + 1] * s;
    out[2 * i + 1] = x[2 * i] * s + x[2 * i + 1] * c;
  }
  return out;
}

/** HF's RoPE on one head: `x * cos + rotate_half(x) * sin`, pairs (x[i], x[i + d/2]). */
function ropeHalfSplit(x: number[], pos: number, theta: number): number[] {
  const out = x.slice(), d = x.length, h = d / 2;
  for (let i = 0; i < h; i++) {
    const a = pos * theta ** (-2 * i / d), c = Math.cos(a), s = Math.sin(a);
    out[i] = x[i] * c - x[i + h] * s;
    out[i + h] = x[i + h] * c + x[i] * s;
  }
  return out;
}

Deno.test("the permutation makes HF's half-split RoPE give llama2.c's attention scores", () => {
  const rng = createRng(9);
  const headSize = 8, cols = 5;
  const m = (): Matrix => ({
    data: Float32Array.from({ length: headSize * cols }, () => rng.normal()),
    rows: headSize,
    cols,
  });
  const wq = m(), wk = m();
  const x = Array.from({ length: cols }, () => rng.normal()),
    y = Array.from({ length: cols }, () => rng.normal());
  const apply = (w: Matrix, v: number[]) =>
    Array.from(
      { length: w.rows },
      (_, r) => v.reduce((s, vj, j) => s + w.data[r * cols + j] * vj, 0),
    );
  const dot = (a: number[], b: number[]) => a.reduce((s, ai, i) => s + ai * b[i], 0);
  const llamaScore = dot(
    ropeAdjacentPairs(apply(wq, x), 3, 10000),
    ropeAdjacentPairs(apply(wk, y), 1, 10000),
  );
  const hfQ = permuteForHfRope(wq, 1), hfK = permuteForHfRope(wk, 1);
  const hfScore = dot(
    ropeHalfSplit(apply(hfQ, x), 3, 10000),
    ropeHalfSplit(apply(hfK, y), 1, 10000),
  );
  assert.ok(
    Math.abs(llamaScore - hfScore) < 1e-9 * (1 + Math.abs(llamaScore)),
    `${llamaScore} vs ${hfScore}`,
  );
  // and without the permutation the scores differ (the test can fail)
  const wrong = dot(ropeHalfSplit(apply(wq, x), 3, 10000), ropeHalfSplit(apply(wk, y), 1, 10000));
  assert.ok(Math.abs(llamaScore - wrong) > 1e-3);
});

for (const shared of [true, false]) {
  Deno.test(`export then import is bitwise identical (${shared ? "tied" : "separate"} classifier)`, async () => {
    const weights = randomWeights(tinyConfig(shared), shared ? 1 : 2);
    const before = cloneWeights(weights);
    const hf = llamaToHf(weights);
    const bytes = writeSafetensors(hf.entries, hf.metadata);
    const file = readSafetensors(bytes);
    assert.equal(file.has("lm_head.weight"), !shared);
    assert.deepEqual(file.metadata, { format: "pt" });
    const back = llamaFromHf(JSON.parse(JSON.stringify(hf.config)), file);
    assert.deepEqual(back, weights);
    assert.equal(back.classifier === back.tokenEmbedding, shared);
    const source = {
      size: bytes.length,
      read: (at: number, n: number) => Promise.resolve(bytes.slice(at, at + n)),
    };
    assert.deepEqual(
      await llamaFromHfReader(JSON.stringify(hf.config), await openSafetensors(source)),
      weights,
    );
    assert.deepEqual(weights, before);
  });
}

Deno.test("the file holds HF names, HF shapes and q/k rows in HF order (k with n_kv_heads)", () => {
  const weights = randomWeights(tinyConfig(true), 3);
  const file = readSafetensors(writeSafetensors(llamaToHf(weights).entries));
  const b = weights.blocks[1];
  assert.deepEqual(file.info("model.layers.1.self_attn.k_proj.weight").shape, [4, 8]);
  // k: one kv head of size 4 -> rows [r0, r2, r1, r3]
  const k = file.float32("model.layers.1.self_attn.k_proj.weight");
  const row = (m: Matrix, r: number) => Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols));
  assert.deepEqual(
    [0, 1, 2, 3].map((r) => Array.from(k.subarray(r * 8, r * 8 + 8))),
    [0, 2, 1, 3].map((r) => row(b.wk, r)),
  );
  // q: two heads of size 4 -> [0, 2, 1, 3, 4, 6, 5, 7]
  const q = file.float32("model.layers.1.self_attn.q_proj.weight");
  assert.deepEqual(
    [...Array(8).keys()].map((r) => Array.from(q.subarray(r * 8, r * 8 + 8))),
    [0, 2, 1, 3, 4, 6, 5, 7].map((r) => row(b.wq, r)),
  );
  assert.deepEqual(file.float32("model.layers.1.mlp.gate_proj.weight"), b.w1.data);
  assert.deepEqual(file.float32("model.layers.1.mlp.up_proj.weight"), b.w3.data);
  assert.deepEqual(file.float32("model.layers.1.mlp.down_proj.weight"), b.w2.data);
  assert.deepEqual(file.float32("model.layers.1.post_attention_layernorm.weight"), b.rmsFfn);
});

Deno.test("BF16 export rounds every tensor to nearest even and reads back as those values", () => {
  const weights = randomWeights(tinyConfig(false), 4);
  const hf = llamaToHf(weights, { dtype: "BF16" });
  assert.equal(hf.config.torch_dtype, "bfloat16");
  const back = llamaFromHf(hf.config, readSafetensors(writeSafetensors(hf.entries, hf.metadata)));
  const rounded = (a: Float32Array) => bf16ToFloat32(float32ToBf16(a));
  assert.deepEqual(back.blocks[0].w2.data, rounded(weights.blocks[0].w2.data));
  assert.deepEqual(back.blocks[1].wq.data, rounded(weights.blocks[1].wq.data));
  assert.deepEqual(back.classifier.data, rounded(weights.classifier.data));
});

Deno.test("config.json: round trip, defaults, and every rejection", () => {
  const config = tinyConfig(true);
  assert.deepEqual(parseHfLlamaConfig(hfLlamaConfigJson(config)), config);
  const base = hfLlamaConfigJson(config);
  const bad: [Record<string, unknown>, string, RegExp][] = [
    [{ hidden_size: undefined }, "TypeError", /"hidden_size" is missing/],
    [{ hidden_size: "8" }, "TypeError", /"hidden_size" must be an integer, got "8"/],
    [{ num_hidden_layers: 0 }, "RangeError", /"num_hidden_layers" must be positive, got 0/],
    [{ model_type: "gpt2" }, "RangeError", /model_type "gpt2" is not "llama" or "qwen2"/],
    [{ model_type: undefined }, "TypeError", /"model_type" is missing/],
    [{ architectures: ["MistralForCausalLM"] }, "RangeError", /lacks "LlamaForCausalLM"/],
    [
      { hidden_size: 10, head_dim: undefined },
      "RangeError",
      /hidden_size 10 must split into 2 heads of even size/,
    ],
    [
      { num_key_value_heads: 3, num_attention_heads: 4, hidden_size: 8 },
      "RangeError",
      /4 is not a multiple of num_key_value_heads 3/,
    ],
    [{ rms_norm_eps: -1 }, "RangeError", /"rms_norm_eps" must be positive and finite, got -1/],
    [{ rope_theta: "big" }, "TypeError", /"rope_theta" must be a number/],
    [{ tie_word_embeddings: 1 }, "TypeError", /"tie_word_embeddings" must be a boolean, got 1/],
    [{ rope_scaling: { type: "linear" } }, "RangeError", /rope_scaling type "linear" is not/],
    [{ rope_parameters: { rope_type: "yarn" } }, "RangeError", /rope_parameters type "yarn"/],
    [{ attention_bias: "yes" }, "TypeError", /"attention_bias" must be a boolean, got "yes"/],
    [{ use_sliding_window: true }, "RangeError", /use_sliding_window true is not supported/],
    [{ hidden_act: "gelu" }, "RangeError", /hidden_act "gelu"/],
    [{ head_dim: 3 }, "RangeError", /head_dim 3 must be even/],
  ];
  for (const [change, name, message] of bad) {
    assert.throws(
      () => parseHfLlamaConfig({ ...base, ...change }),
      { name, message },
      JSON.stringify(change),
    );
  }
  const minimal = parseHfLlamaConfig({
    model_type: "llama",
    hidden_size: 8,
    intermediate_size: 4,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    vocab_size: 5,
  });
  assert.deepEqual([
    minimal.nKvHeads,
    minimal.seqLen,
    minimal.normEps,
    minimal.ropeTheta,
    minimal.sharedClassifier,
  ], [2, 2048, 1e-6, 10000, false]);
  assert.throws(
    () => parseHfLlamaConfig('{"model_type": "llama", "hidden_size": 8, "hidden_size": 16}'),
    {
      name: "TypeError",
      message: 'Cannot read config.json: duplicate key "hidden_size"',
    },
  );
  assert.throws(() => parseHfLlamaConfig("{oops"), {
    name: "TypeError",
    message: /not valid JSON/,
  });
  assert.throws(() => parseHfLlamaConfig([1]), {
    name: "TypeError",
    message: /expected a JSON object, got \[1\]/,
  });
});

Deno.test("checkpoint rejections: missing tensor, wrong shape, non-float dtype, streaming reader to the sync loader", async () => {
  const weights = randomWeights(tinyConfig(false), 6);
  const hf = llamaToHf(weights);
  const without = hf.entries.filter((e) => e.name !== "lm_head.weight");
  assert.throws(() => llamaFromHf(hf.config, readSafetensors(writeSafetensors(without))), {
    name: "RangeError",
    message: 'Cannot read HF Llama checkpoint: tensor "lm_head.weight" is missing',
  });
  const reshaped = hf.entries.map((e) =>
    e.name === "model.norm.weight" ? { ...e, shape: [2, 4] } : e
  );
  assert.throws(() => llamaFromHf(hf.config, readSafetensors(writeSafetensors(reshaped))), {
    name: "TypeError",
    message:
      'Cannot read HF Llama checkpoint: tensor "model.norm.weight" has shape [2, 4], config.json implies [8]',
  });
  const ints = hf.entries.map((e) =>
    e.name === "model.norm.weight" ? { ...e, dtype: "I32" as const, data: new Int32Array(8) } : e
  );
  assert.throws(() => llamaFromHf(hf.config, readSafetensors(writeSafetensors(ints))), {
    name: "TypeError",
    message: /dtype I32, not a float/,
  });
  const bytes = writeSafetensors(hf.entries);
  const reader = await openSafetensors({
    size: bytes.length,
    read: (at, n) => Promise.resolve(bytes.slice(at, at + n)),
  });
  assert.throws(() => llamaFromHf(hf.config, reader), {
    name: "TypeError",
    message: /use llamaFromHfReader/,
  });
  const twoLayers = { ...hf.config, num_hidden_layers: 3 };
  assert.throws(() => llamaFromHf(twoLayers, readSafetensors(bytes)), {
    name: "RangeError",
    message: /"model.layers.2.input_layernorm.weight" is missing/,
  });
  assert.throws(() => llamaToHf({ ...weights, blocks: weights.blocks.slice(1) }), {
    name: "TypeError",
    message: /1 blocks, config says 2/,
  });
});
