import assert from "node:assert/strict";
import { forwardWorkspace } from "../src/model/workspace.ts";
import { readLlama2c } from "../src/io/llama2c.ts";
import { decode, encode, readTokenizer } from "../src/io/tokenizer.ts";
import {
  blockForward,
  embed,
  forward,
  forwardReference,
  logits,
  referenceDecoder,
  tinyLlama,
} from "../src/model/llama.ts";
import type { LinearName, LlamaWeights } from "../src/model/weights.ts";
import type { Matrix } from "../src/tensor/matrix.ts";
import { assertAllClose } from "../src/check/all_close.ts";
import { tokenNll } from "../src/eval/perplexity.ts";

const stories = readLlama2c(Deno.readFileSync("../shared/models/stories260K/stories260K.bin"));
const tok = readTokenizer(Deno.readFileSync("../shared/models/stories260K/tok512.bin"));
const text = Deno.readTextFileSync("../shared/text/tinystories/TinyStories-validation-head.txt");
const storyIds = encode(tok, text.split("\n\n").slice(0, 2).join("\n\n"), {
  bos: true,
  eos: false,
});

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

Deno.test("llama: stories260K top-5 logits after BOS match the README", () => {
  const row = forward(stories, [1]).data;
  const top = Array.from(row.keys()).sort((a, b) => row[b] - row[a]).slice(0, 5);
  assert.deepEqual(top, [403, 385, 410, 317, 407]);
  assert.deepEqual(top.map((id) => decode(tok, [id])), [" Once", " One", " ", " Lily", " upon"]);
  assertAllClose(top.map((id) => row[id]), [17.0235, 15.4062, 13.1083, 12.7692, 12.4181], {
    atol: 1e-3,
    rtol: 0,
  }, "top-5 logits");
});

Deno.test("llama: stories260K mean NLL of the 171-id story is the README's 1.2977 (ppl 3.661)", () => {
  assert.equal(storyIds.length, 171);
  const out = forward(stories, storyIds), vocab = stories.config.vocabSize;
  let total = 0;
  for (let t = 0; t + 1 < storyIds.length; t++) {
    total += tokenNll(out.data.subarray(t * vocab, (t + 1) * vocab), storyIds[t + 1]);
  }
  const nll = total / 170;
  assert.ok(Math.abs(nll - 1.2977) < 1e-4, `nll ${nll}`);
  assert.ok(Math.abs(Math.exp(nll) - 3.661) < 1e-3, `ppl ${Math.exp(nll)}`);
});

Deno.test("llama: stories260K greedy decoding from BOS starts with the README's sentence", () => {
  const decoder = referenceDecoder(stories), ids = [1];
  for (let step = 0; step < 200 && (ids.length === 1 || ids.at(-1) !== 1); step++) {
    ids.push(argmax(decoder.next(ids.at(-1)!)));
  }
  assert.ok(
    decode(tok, ids).startsWith(
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
    ),
  );
  // The whole-sequence pass agrees with the cached decoder on the generated text.
  const out = forward(stories, ids.slice(0, 40));
  for (let t = 0; t < 39; t++) {
    assert.equal(argmax(out.data.subarray(t * 512, (t + 1) * 512)), ids[t + 1]);
  }
});

Deno.test("llama: forward equals the token-at-a-time reference on stories260K", () => {
  assertAllClose(forward(stories, storyIds).data, forwardReference(stories, storyIds).data, {
    atol: 1e-4,
    rtol: 1e-5,
  }, "logits");
});

Deno.test("llama: forward equals the reference on tiny models (MHA, GQA, MQA, unshared classifier, T=1)", () => {
  const configs = [
    { nHeads: 2, nKvHeads: 2 },
    { nHeads: 4, nKvHeads: 2 },
    { nHeads: 4, nKvHeads: 1 },
    { dim: 12, nHeads: 3, nKvHeads: 1, sharedClassifier: false },
    { nLayers: 1, hiddenDim: 5 },
  ];
  for (const [i, config] of configs.entries()) {
    for (const seed of [1, 2, 3]) {
      const w = tinyLlama({ seed: 10 * i + seed, ...config });
      for (const length of [1, 2, 9]) {
        const tokens = Array.from({ length }, (_, t) => (t * 5 + seed) % w.config.vocabSize);
        assertAllClose(forward(w, tokens).data, forwardReference(w, tokens).data, {
          atol: 1e-5,
          rtol: 1e-4,
        }, `config ${i} seed ${seed} T ${length}`);
      }
    }
  }
});

Deno.test("llama: causal (a prefix's logits do not depend on later tokens) and composable block by block", () => {
  const w = tinyLlama({ seed: 4 });
  const tokens = [1, 3, 8, 2, 15, 7];
  const full = forward(w, tokens), prefix = forward(w, tokens.slice(0, 3));
  assertAllClose(
    full.data.subarray(0, prefix.data.length),
    prefix.data,
    { atol: 1e-6, rtol: 1e-6 },
    "prefix logits",
  );
  let h = embed(w, tokens);
  for (let layer = 0; layer < w.config.nLayers; layer++) h = blockForward(w, layer, h);
  assert.deepEqual(logits(w, h).data, full.data);
});

Deno.test("llama: hooks see every linear input in order; inputs are not mutated; swapped blocks are used", () => {
  const w = tinyLlama({ seed: 5 });
  const h = embed(w, [1, 2, 3]), before = h.data.slice();
  const seen: [number, string, Matrix][] = [];
  const out = blockForward(w, 1, h, {
    onLinearInput: (layer, name, x) => void seen.push([layer, name, x]),
  });
  assert.deepEqual(seen.map(([l, n, x]) => `${l}${n}[${x.rows},${x.cols}]`), [
    "1wq[3,8]",
    "1wk[3,8]",
    "1wv[3,8]",
    "1wo[3,8]",
    "1w1[3,8]",
    "1w3[3,8]",
    "1w2[3,12]",
  ]);
  assert.equal(seen[0][2], seen[1][2]);
  assert.equal(seen[1][2], seen[2][2]);
  assert.equal(seen[4][2], seen[5][2]);
  assert.deepEqual(h.data, before);
  // The captured inputs reproduce the MLP: out - h' = w2(x_w2), with h' = h + wo(x_wo).
  const mv = (m: Matrix, x: Float32Array, r: number) =>
    Array.from(
      { length: m.rows },
      (_, i) =>
        x.subarray(r * m.cols, (r + 1) * m.cols).reduce(
          (s, v, j) => s + v * m.data[i * m.cols + j],
          0,
        ),
    );
  const [xWo, xW2] = [seen[3][2], seen[6][2]], b = w.blocks[1];
  for (let r = 0; r < 3; r++) {
    const expected = mv(b.wo, xWo.data, r).map((v, i) =>
      v + h.data[r * 8 + i] + mv(b.w2, xW2.data, r)[i]
    );
    assertAllClose(
      out.data.subarray(r * 8, r * 8 + 8),
      expected,
      { atol: 1e-5, rtol: 1e-5 },
      `row ${r}`,
    );
  }
  // A block whose output projections are zero is the identity: the swapped-in block is what runs.
  const zero = (m: Matrix): Matrix => ({ ...m, data: new Float32Array(m.data.length) });
  const pruned: LlamaWeights = {
    ...w,
    blocks: w.blocks.map((x, l) => (l === 1 ? { ...x, wo: zero(x.wo), w2: zero(x.w2) } : x)),
  };
  assert.deepEqual(blockForward(pruned, 1, h).data, h.data);
});

Deno.test("llama: bad inputs throw typed errors naming the value", () => {
  const w = tinyLlama({ seed: 6 });
  assert.throws(() => forward(w, [1, 16]), {
    name: "RangeError",
    message: /token 16 at position 1 is outside \[0, 16\)/,
  });
  assert.throws(() => forward(w, [0.5]), {
    name: "RangeError",
    message: /token 0.5 at position 0/,
  });
  assert.throws(() => referenceDecoder(w).next(-1), { name: "RangeError", message: /token -1/ });
  const h = embed(w, [1]);
  assert.throws(() => blockForward(w, 2, h), {
    name: "RangeError",
    message: /Cannot run block 2: the model has 2 layers/,
  });
  assert.throws(() => blockForward(w, 0, { data: new Float32Array(4), rows: 1, cols: 4 }), {
    name: "TypeError",
    message: /hidden states are \[1, 4\], expected \[T, 8\]/,
  });
  assert.throws(() => logits(w, { data: new Float32Array(4), rows: 1, cols: 4 }), {
    name: "TypeError",
    message: /hidden states are \[1, 4\]/,
  });
  const bad: LlamaWeights = { ...w, blocks: [{ ...w.blocks[0], w2: w.blocks[0].w1 }, w.blocks[1]] };
  assert.throws(() => blockForward(bad, 0, h), {
    name: "TypeError",
    message: /w2 is \[12, 8\], expected \[8, 12\]/,
  });
});

Deno.test("llama: a forward workspace gives bitwise the same logits and hook inputs, reused across lengths", () => {
  const ws = forwardWorkspace(64);
  const windows = [storyIds.subarray(0, 64), storyIds.subarray(64, 101), storyIds.subarray(3, 67)];
  for (const window of windows) {
    const seen = (into: string[]) => ({
      onLinearInput: (l: number, name: LinearName, x: Matrix) =>
        void into.push(
          `${l}.${name}:${Array.from(x.data.subarray(0, 3)).join(",")}:${x.data.length}`,
        ),
    });
    const fresh: string[] = [], reused: string[] = [];
    const expected = forward(stories, window, seen(fresh));
    const actual = forward(stories, window, seen(reused), ws);
    assert.deepEqual(actual.data, expected.data);
    assert.equal(actual.data.buffer, ws.buffers.logits.buffer); // a view of the workspace
    assert.deepEqual(reused, fresh);
  }
  // blockForward never writes its output over its input
  const h = embed(stories, windows[0]);
  const once = blockForward(stories, 0, h, {}, ws), twice = blockForward(stories, 1, once, {}, ws);
  assert.notEqual(twice.data.buffer, once.data.buffer);
  assert.deepEqual(twice.data, blockForward(stories, 1, blockForward(stories, 0, h)).data);
  assert.throws(() => forward(stories, storyIds.subarray(0, 65), undefined, ws), {
    name: "RangeError",
    message: /65 tokens do not fit a workspace of 64/,
  });
  assert.throws(() => forwardWorkspace(0), RangeError);
});
