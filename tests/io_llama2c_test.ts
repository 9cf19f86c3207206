import assert from "node:assert/strict";
import { LLAMA2C_MAGIC, readLlama2c, ropeTables, writeLlama2c } from "../src/io/llama2c.ts";
import { tinyLlama } from "../src/model/llama.ts";
import type { LlamaWeights } from "../src/model/weights.ts";
import { assertAllClose } from "../src/check/all_close.ts";

const STORIES = "../shared/models/stories260K/stories260K.bin";
const LLAMA4M = "../shared/models/llama4m/llama4m.bin";

function parameterCount(w: LlamaWeights): number {
  let n = w.tokenEmbedding.data.length + w.rmsFinal.length;
  if (!w.config.sharedClassifier) n += w.classifier.data.length;
  for (const b of w.blocks) {
    n += b.rmsAtt.length + b.rmsFfn.length;
    for (const name of ["wq", "wk", "wv", "wo", "w1", "w2", "w3"] as const) {
      n += b[name].data.length;
    }
  }
  return n;
}

function assertSameWeights(a: LlamaWeights, b: LlamaWeights): void {
  assert.deepEqual(a.config, b.config);
  assert.deepEqual(a.tokenEmbedding, b.tokenEmbedding);
  assert.deepEqual(a.classifier, b.classifier);
  assert.deepEqual(a.rmsFinal, b.rmsFinal);
  assert.deepEqual(a.blocks, b.blocks);
}

/** The ak42 version-1 layout, written here from export.py's `version1_export` order. */
function writeVersion1(w: LlamaWeights): Uint8Array {
  const c = w.config, b = w.blocks;
  const arrays = [
    ...b.map((x) => x.rmsAtt),
    ...b.map((x) => x.rmsFfn),
    w.rmsFinal,
    w.tokenEmbedding.data,
    ...(["wq", "wk", "wv", "wo", "w1", "w2", "w3"] as const).flatMap((n) =>
      b.map((x) => x[n].data)
    ),
    ...(c.sharedClassifier ? [] : [w.classifier.data]),
  ];
  const floats = arrays.reduce((s, a) => s + a.length, 0);
  const out = new Uint8Array(256 + 4 * floats), view = new DataView(out.buffer);
  view.setUint32(0, LLAMA2C_MAGIC, true);
  view.setInt32(4, 1, true);
  [c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.vocabSize, c.seqLen].forEach((v, i) =>
    view.setInt32(8 + 4 * i, v, true)
  );
  view.setUint8(36, c.sharedClassifier ? 1 : 0);
  let offset = 256;
  for (const a of arrays) for (const v of a) view.setFloat32((offset += 4) - 4, v, true);
  return out;
}

function withHeader(bytes: Uint8Array, field: number, value: number, base = 0): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setInt32(base + 4 * field, value, true);
  return copy;
}

Deno.test("llama2c: stories260K loads with the README's shapes", () => {
  const bytes = Deno.readFileSync(STORIES);
  assert.equal(bytes.length, 1_056_540);
  const w = readLlama2c(bytes);
  assert.deepEqual(w.config, {
    dim: 64,
    hiddenDim: 172,
    nLayers: 5,
    nHeads: 8,
    nKvHeads: 4,
    vocabSize: 512,
    seqLen: 512,
    normEps: 1e-5,
    ropeTheta: 10000,
    sharedClassifier: true,
  });
  assert.equal(w.blocks.length, 5);
  const b = w.blocks[4];
  assert.deepEqual([b.wq.rows, b.wq.cols, b.wk.rows, b.wv.rows, b.wo.cols], [64, 64, 32, 32, 64]);
  assert.deepEqual([b.w1.rows, b.w1.cols, b.w2.rows, b.w2.cols, b.w3.rows], [
    172,
    64,
    64,
    172,
    172,
  ]);
  assert.equal(w.classifier, w.tokenEmbedding);
  assert.equal(parameterCount(w), 260_032);
});

Deno.test("llama2c: llama4m loads with the README's shapes", () => {
  const w = readLlama2c(Deno.readFileSync(LLAMA4M));
  const c = w.config;
  assert.deepEqual([c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.vocabSize, c.seqLen], [
    256,
    704,
    6,
    8,
    4,
    512,
    256,
  ]);
  const b = w.blocks[0];
  assert.deepEqual([[b.wq.rows, b.wq.cols], [b.wk.rows, b.wk.cols], [b.w1.rows, b.w1.cols], [
    b.w2.rows,
    b.w2.cols,
  ]], [
    [256, 256],
    [128, 256],
    [704, 256],
    [256, 704],
  ]);
  assert.ok(c.sharedClassifier);
  assert.equal(parameterCount(w), 4_558_080);
});

Deno.test("llama2c: write(read(stories260K)) gives back the file; our RoPE tables match the stored ones", () => {
  const bytes = Deno.readFileSync(STORIES);
  const again = writeLlama2c(readLlama2c(bytes));
  assert.equal(again.length, bytes.length);
  const ropeStart = 28 + 4 * 260_032, ropeFloats = 2 * 512 * 4;
  assert.deepEqual(again.subarray(0, ropeStart), bytes.subarray(0, ropeStart));
  // The stored tables were computed by llama2.c's model.py in float32: an independent check of our RoPE angles.
  const stored = new Float32Array(bytes.slice(ropeStart).buffer);
  const ours = new Float32Array(again.slice(ropeStart).buffer);
  assert.equal(stored.length, ropeFloats);
  assertAllClose(ours, stored, { atol: 2e-5, rtol: 0 }, "RoPE tables");
});

Deno.test("llama2c: legacy round trip, shared and unshared classifier, with and without RoPE tables", () => {
  for (const sharedClassifier of [true, false]) {
    const w = tinyLlama({ seed: 5, sharedClassifier, nKvHeads: 1 });
    const bytes = writeLlama2c(w);
    assert.equal(new DataView(bytes.buffer).getInt32(20, true), sharedClassifier ? 16 : -16);
    assertSameWeights(readLlama2c(bytes), w);
    const rope = 4 * ropeTables(w.config).real.length * 2,
      end = 28 + 4 * (parameterCount(w) - (sharedClassifier ? 0 : 128));
    const noRope = new Uint8Array([...bytes.subarray(0, end), ...bytes.subarray(end + rope)]);
    assertSameWeights(readLlama2c(noRope), w);
  }
});

Deno.test("llama2c: reads from an unaligned subarray and copies (input not shared)", () => {
  const bytes = writeLlama2c(tinyLlama({ seed: 6 }));
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const w = readLlama2c(shifted.subarray(1));
  assertSameWeights(w, readLlama2c(bytes));
  assert.notEqual(w.rmsFinal.buffer, shifted.buffer);
});

Deno.test("llama2c: view mode shares the file bytes when aligned, copies when not", () => {
  for (
    const bytes of [writeLlama2c(tinyLlama({ seed: 6 })), writeVersion1(tinyLlama({ seed: 6 }))]
  ) {
    const copied = readLlama2c(bytes), viewed = readLlama2c(bytes, { view: true });
    assertSameWeights(viewed, copied);
    assert.equal(viewed.blocks[0].w2.data.buffer, bytes.buffer);
    assert.notEqual(copied.blocks[0].w2.data.buffer, bytes.buffer);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const unaligned = readLlama2c(shifted.subarray(1), { view: true }); // cannot view: copies
    assertSameWeights(unaligned, copied);
    assert.notEqual(unaligned.blocks[0].w2.data.buffer, shifted.buffer);
  }
});

Deno.test("llama2c: ak42 version 1 (export.py order), shared and unshared", () => {
  for (const sharedClassifier of [true, false]) {
    const w = tinyLlama({ seed: 7, sharedClassifier });
    const read = readLlama2c(writeVersion1(w));
    assertSameWeights(read, w);
    assert.equal(read.classifier === read.tokenEmbedding, sharedClassifier);
  }
  const real = readLlama2c(Deno.readFileSync(STORIES));
  assertSameWeights(readLlama2c(writeVersion1(real)), real);
});

Deno.test("llama2c: every bad legacy header is a RangeError naming the value", () => {
  const good = writeLlama2c(tinyLlama({ seed: 8 }));
  const names = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"];
  names.forEach((name, field) => {
    if (field !== 5) {
      assert.throws(() => readLlama2c(withHeader(good, field, -3)), {
        name: "RangeError",
        message: new RegExp(`${name} must be positive, got -3`),
      });
    }
    assert.throws(() => readLlama2c(withHeader(good, field, 0)), {
      name: "RangeError",
      message: new RegExp(`${name} must be positive, got 0`),
    });
  });
  assert.throws(() => readLlama2c(withHeader(good, 3, 3)), {
    name: "RangeError",
    message: /dim 8 is not divisible by n_heads 3/,
  });
  assert.throws(() => readLlama2c(withHeader(good, 4, 3)), {
    name: "RangeError",
    message: /n_heads 4 is not divisible by n_kv_heads 3/,
  });
  assert.throws(() => readLlama2c(withHeader(good, 3, 8)), {
    name: "RangeError",
    message: /head size 1 must be even/,
  });
  assert.throws(() => readLlama2c(good.subarray(0, 20)), {
    name: "RangeError",
    message: /20 bytes is shorter than the 28-byte header/,
  });
  for (const length of [good.length - 4, good.length + 4, 100]) {
    const bad = new Uint8Array(length);
    bad.set(good.subarray(0, Math.min(length, good.length)));
    assert.throws(() => readLlama2c(bad), {
      name: "RangeError",
      message: new RegExp(
        `file has ${length} bytes, the header implies \\d+ or \\d+ \\(with RoPE tables\\)`,
      ),
    });
  }
  assert.throws(() => readLlama2c(withHeader(good, 1, 9)), {
    name: "RangeError",
    message: /file has \d+ bytes/,
  });
  assert.throws(() => readLlama2c([1, 2, 3] as unknown as Uint8Array), {
    name: "TypeError",
    message: /expected a Uint8Array, got Array/,
  });
});

Deno.test("llama2c: every bad ak42 header is a RangeError naming the value", () => {
  const good = writeVersion1(tinyLlama({ seed: 9 }));
  assert.throws(() => readLlama2c(withHeader(good, 1, 2)), {
    name: "RangeError",
    message: /ak42 version 2 is not supported/,
  });
  assert.throws(() => readLlama2c(withHeader(good, 5 + 2, -16)), {
    name: "RangeError",
    message: /vocab_size must be positive, got -16/,
  });
  assert.throws(() => readLlama2c(withHeader(good, 2, 0)), {
    name: "RangeError",
    message: /dim must be positive, got 0/,
  });
  const flag = good.slice();
  flag[36] = 2;
  assert.throws(() => readLlama2c(flag), {
    name: "RangeError",
    message: /shared_classifier flag is 2/,
  });
  assert.throws(() => readLlama2c(good.subarray(0, 200)), {
    name: "RangeError",
    message: /200 bytes is shorter than the 256-byte ak42 header/,
  });
  assert.throws(() => readLlama2c(good.subarray(0, good.length - 4)), {
    name: "RangeError",
    message: new RegExp(`file has ${good.length - 4} bytes, the header implies ${good.length}$`),
  });
});

Deno.test("llama2c: the writer rejects weights that do not match their config", () => {
  const w = tinyLlama({ seed: 10 });
  const bad = { ...w, blocks: [{ ...w.blocks[0], wk: w.blocks[0].wq }, w.blocks[1]] };
  assert.throws(() => writeLlama2c(bad), {
    name: "TypeError",
    message: /blocks\[0\]\.wk has 64 values, expected 32/,
  });
  assert.throws(() => writeLlama2c({ ...w, config: { ...w.config, nKvHeads: 3 } }), {
    name: "RangeError",
    message: /not divisible by n_kv_heads 3/,
  });
});
