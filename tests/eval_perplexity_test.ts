import assert from "node:assert/strict";
import { perplexity, tokenNll } from "../src/eval/perplexity.ts";
import { readLlama2c } from "../src/io/llama2c.ts";
import { encode, readTokenizer } from "../src/io/tokenizer.ts";
import { forwardReference, tinyLlama } from "../src/model/llama.ts";

const tok = readTokenizer(Deno.readFileSync("../shared/models/stories260K/tok512.bin"));

Deno.test("perplexity: llama4m on wikitext-2 test, 8 windows of 256, is the README's 22.4588", () => {
  const model = readLlama2c(Deno.readFileSync("../shared/models/llama4m/llama4m.bin"));
  // The whole file, read as-is and encoded once with BOS (split encoding makes this ~0.2 s).
  const ids = encode(tok, Deno.readTextFileSync("../shared/text/wikitext-2-raw/wiki.test.raw"), {
    bos: true,
    eos: false,
  });
  const progress: number[] = [];
  const r = perplexity(model, ids, {
    seqlen: 256,
    maxTokens: 8 * 256,
    onProgress: (done) => void progress.push(done),
  });
  assert.equal(r.windows, 8);
  assert.equal(r.predicted, 2040);
  assert.ok(Math.abs(r.ppl - 22.4588) < 1e-3, `ppl ${r.ppl}`);
  assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7, 8]);
});

Deno.test("perplexity: one window over the 171-id story gives the README's NLL 1.2977", () => {
  const model = readLlama2c(Deno.readFileSync("../shared/models/stories260K/stories260K.bin"));
  const text = Deno.readTextFileSync("../shared/text/tinystories/TinyStories-validation-head.txt");
  const ids = encode(tok, text.split("\n\n").slice(0, 2).join("\n\n"), { bos: true, eos: false });
  const r = perplexity(model, ids, { seqlen: 171 });
  assert.deepEqual([r.windows, r.predicted], [1, 170]);
  assert.ok(Math.abs(r.nll - 1.2977) < 1e-4, `nll ${r.nll}`);
});

Deno.test("perplexity: windows, tail, maxTokens and NLL follow the protocol (checked with the reference pass)", () => {
  const w = tinyLlama({ seed: 3 });
  const ids = Int32Array.from({ length: 23 }, (_, i) => (i * 11 + 1) % 16);
  // By hand: windows [0,5) [5,10) [10,15) [15,20) (tail of 3 dropped), each predicting 4 tokens.
  let total = 0;
  for (let start = 0; start + 5 <= 20; start += 5) {
    const window = Array.from(ids.subarray(start, start + 5)), out = forwardReference(w, window);
    for (let t = 0; t < 4; t++) {
      total += tokenNll(out.data.subarray(t * 16, (t + 1) * 16), window[t + 1]);
    }
  }
  const r = perplexity(w, ids, { seqlen: 5 });
  assert.deepEqual([r.windows, r.predicted], [4, 16]);
  assert.ok(Math.abs(r.nll - total / 16) < 1e-6);
  assert.equal(r.ppl, Math.exp(r.nll));
  const capped = perplexity(w, ids, { seqlen: 5, maxTokens: 14 });
  assert.deepEqual([capped.windows, capped.predicted], [2, 8]);
  // tokenNll is -log softmax: a uniform row gives log(vocab); probabilities sum to 1.
  const row = new Float32Array([3, -1, 0.5, 2]);
  const p = Array.from(row.keys()).map((i) => Math.exp(-tokenNll(row, i)));
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

Deno.test("perplexity: bad options are typed errors naming the value", () => {
  const w = tinyLlama({ seed: 1 }), ids = new Int32Array(10);
  assert.throws(() => perplexity(w, ids, { seqlen: 1 }), {
    name: "RangeError",
    message: /seqlen must be an integer >= 2, got 1/,
  });
  assert.throws(() => perplexity(w, ids, { seqlen: 11 }), {
    name: "RangeError",
    message: /10 tokens do not fill one window of seqlen 11/,
  });
  assert.throws(() => perplexity(w, ids, { seqlen: 4, maxTokens: 0 }), {
    name: "RangeError",
    message: /maxTokens must be a positive integer, got 0/,
  });
  assert.throws(() => perplexity(w, [1, 2, 3] as unknown as Int32Array, { seqlen: 2 }), {
    name: "TypeError",
    message: /ids must be an Int32Array/,
  });
});
