import assert from "node:assert/strict";
import { perplexity } from "../src/eval/perplexity.ts";
import { blockForward, embed, tinyLlama } from "../src/model/llama.ts";
import { LINEAR_NAMES } from "../src/model/weights.ts";
import type { Matrix } from "../src/tensor/matrix.ts";
import { createPool, isShared } from "../src/parallel/pool.ts";
import {
  blockForwardWindows,
  DISTINCT_INPUTS,
  perplexityParallel,
  shareWeights,
} from "../src/parallel/forward_parallel.ts";

/** Every float of `a` and `b` identical (bitwise, -0 and NaN included). */
function assertSameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `${what}: index ${i}`);
}

const ids = (n: number, vocab: number, seed: number) =>
  Int32Array.from({ length: n }, (_, i) => (i * 7 + seed * 13 + ((i * i) % 5)) % vocab);

Deno.test("perplexityParallel equals perplexity bitwise (pool sizes 1-3, windows 1-7, tails)", async () => {
  const w = tinyLlama({ seed: 3, dim: 16, hiddenDim: 24, nLayers: 2, vocabSize: 32 });
  for (const size of [1, 2, 3]) {
    {
      using pool = createPool({ size });
      for (const [n, seqlen, maxTokens] of [[40, 6, undefined], [9, 9, undefined], [50, 7, 30]]) {
        const text = ids(n!, 32, size), options = { seqlen: seqlen!, maxTokens };
        const single = perplexity(w, text, options);
        const parallel = await perplexityParallel(pool, w, text, options);
        assert.deepEqual(parallel, single); // deepEqual on numbers is Object.is: bitwise
        assert.deepEqual(await perplexityParallel(undefined, w, text, options), single);
      }
    }
  }
});

Deno.test("perplexityParallel: same errors as perplexity, progress per window", async () => {
  const w = tinyLlama({ seed: 1 });
  {
    using pool = createPool({ size: 2 });
    await assert.rejects(perplexityParallel(pool, w, Int32Array.from([1, 2]), { seqlen: 4 }), {
      name: "RangeError",
      message: "Cannot compute perplexity: 2 tokens do not fill one window of seqlen 4",
    });
    await assert.rejects(
      perplexityParallel(pool, w, Int32Array.from([1, 2, 99, 3]), { seqlen: 2 }),
      {
        name: "RangeError",
        message: "Cannot run the model: token 99 at position 0 is outside [0, 16)",
      },
    );
    const seen: number[] = [];
    await perplexityParallel(pool, w, ids(12, 16, 0), {
      seqlen: 4,
      onProgress: (done, total) => seen.push(done * 10 + total),
    });
    assert.deepEqual(seen, [13, 23, 33]);
  }
});

/** The pipeline's way: blockForward per window, inputs concatenated by hooks. */
function blockOneThread(w: ReturnType<typeof tinyLlama>, layer: number, h: Matrix[]) {
  const inputs: Record<string, number[]> = {};
  const outputs = h.map((hw) =>
    blockForward(w, layer, hw, {
      onLinearInput: (_l, name, x) => void (inputs[name] ??= []).push(...x.data),
    })
  );
  return { outputs, inputs };
}

Deno.test("blockForwardWindows equals blockForward per window bitwise, with captured inputs", async () => {
  const w = tinyLlama({ seed: 5, dim: 16, hiddenDim: 40, nLayers: 3, nHeads: 4, nKvHeads: 2 });
  const h = [embed(w, [1, 2, 3, 4, 5]), embed(w, [6]), embed(w, [7, 8, 9]), embed(w, [3, 3, 3, 3])];
  for (const size of [1, 2, 3]) {
    {
      using pool = createPool({ size });
      for (const layer of [0, 2]) {
        const expected = blockOneThread(w, layer, h);
        for (const p of [pool, undefined]) {
          const run = await blockForwardWindows(p, w, layer, h);
          run.outputs.forEach((o, i) =>
            assertSameBits(o.data, expected.outputs[i].data, `out ${i}`)
          );
          for (const name of DISTINCT_INPUTS) {
            const x = run.inputs[name]!;
            assert.equal(x.rows, 13);
            assertSameBits(x.data, Float32Array.from(expected.inputs[name]!), name);
          }
        }
      }
    }
  }
});

Deno.test("blockForwardWindows: a swapped-in block, capture off, shared outputs, inputs unchanged", async () => {
  const w = tinyLlama({ seed: 7 }), other = tinyLlama({ seed: 8 });
  const h = [embed(w, [1, 2]), embed(w, [3, 4, 5])];
  const before = h.map((m) => m.data.slice());
  {
    using pool = createPool({ size: 2 });
    const run = await blockForwardWindows(pool, w, 1, h, {
      capture: false,
      block: other.blocks[1],
    });
    assert.deepEqual(run.inputs, {});
    assert.ok(isShared(run.outputs[0].data));
    assertSameBits(run.outputs[1].data, blockForward(other, 1, h[1]).data, "swapped");
    await assert.rejects(blockForwardWindows(pool, w, 2, h), {
      name: "RangeError",
      message: "Cannot run block 2: the model has 2 layers",
    });
  }
  h.forEach((m, i) => assertSameBits(m.data, before[i], "input"));
  await assert.rejects(blockForwardWindows(undefined, w, 0, []), RangeError);
  await assert.rejects(
    blockForwardWindows(undefined, w, 0, [
      embed(tinyLlama({ seed: 1, dim: 4, nHeads: 2, nKvHeads: 1 }), [1]),
    ]),
    TypeError,
  );
});

Deno.test("shareWeights keeps values and tying, copies only what is not shared", () => {
  const w = tinyLlama({ seed: 2, sharedClassifier: false });
  const s = shareWeights(w);
  assert.notEqual(s.classifier, s.tokenEmbedding);
  for (const name of LINEAR_NAMES) {
    assert.ok(isShared(s.blocks[0][name].data));
    assert.deepEqual([s.blocks[0][name].rows, s.blocks[0][name].cols], [
      w.blocks[0][name].rows,
      w.blocks[0][name].cols,
    ]);
    assertSameBits(s.blocks[0][name].data, w.blocks[0][name].data, name);
  }
  assert.ok(!isShared(w.blocks[0].wq.data)); // the input is not modified
});
