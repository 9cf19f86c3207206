import assert from "node:assert/strict";
import { corpusText, detectCorpusFormat, sampleWindows } from "../src/pipeline/calibration.ts";
import { createRng } from "../src/tensor/rng.ts";

// ---------------------------------------------------------------------------------------------
// calibration text and windows

Deno.test("corpusText: jsonl joins documents with a blank line, plain text is unchanged", () => {
  const jsonl = '{"text": "a\\nb", "timestamp": 1}\n\n{"text": "c"}\n';
  assert.equal(corpusText(jsonl, { fileName: "x/c4.head.jsonl" }), "a\nb\n\nc");
  assert.equal(corpusText(jsonl), "a\nb\n\nc"); // detected from the first character
  assert.equal(corpusText(jsonl, { format: "text" }), jsonl);
  assert.equal(corpusText(" Once upon\n\na time"), " Once upon\n\na time");
  assert.equal(detectCorpusFormat("{not json", "wiki.test.raw"), "text");
});

Deno.test("corpusText: bad jsonl lines name the line", () => {
  assert.throws(() => corpusText('{"text": "a"}\n{oops', { fileName: "a.jsonl" }), {
    name: "TypeError",
    message: /line 2 is not JSON/,
  });
  assert.throws(() => corpusText('{"text": "a"}\n{"body": "b"}'), {
    name: "TypeError",
    message: /line 2 has no string "text" field/,
  });
  assert.throws(() => corpusText("\n\n", { format: "jsonl" }), { name: "RangeError", message: /no document/ });
});

Deno.test("sampleWindows: seeded, consecutive, in range, starts drawn as documented", () => {
  const n = 1000, seqlen = 37;
  const ids = Int32Array.from({ length: n }, (_, i) => i); // id == position, so window[0] == start
  const a = sampleWindows(ids, { nsamples: 50, seqlen, seed: 3 });
  assert.deepEqual(sampleWindows(ids, { nsamples: 50, seqlen, seed: 3 }), a);
  assert.notDeepEqual(sampleWindows(ids, { nsamples: 50, seqlen, seed: 4 }), a);
  const rng = createRng(3);
  for (const w of a) {
    assert.equal(w.length, seqlen);
    assert.ok(w[0] >= 0 && w[0] <= n - seqlen, `start ${w[0]}`);
    for (let t = 1; t < seqlen; t++) assert.equal(w[t], w[0] + t);
    assert.equal(w[0], rng.int(n - seqlen + 1)); // the rule stated in the module header
  }
  a[0][0] = -5; // windows are copies
  assert.equal(ids[0], 0);
  // the text exactly one window long: every window is the whole text
  const one = sampleWindows(ids.subarray(0, seqlen), { nsamples: 4, seqlen, seed: 9 });
  for (const w of one) assert.deepEqual(w, ids.subarray(0, seqlen));
});

Deno.test("sampleWindows: too short a text and bad options are typed errors", () => {
  const ids = new Int32Array(10);
  assert.throws(() => sampleWindows(ids, { nsamples: 1, seqlen: 11, seed: 0 }), {
    name: "RangeError",
    message: "Cannot sample calibration windows of 11 tokens: the text has only 10 tokens",
  });
  assert.throws(() => sampleWindows(ids, { nsamples: 0, seqlen: 4, seed: 0 }), { name: "RangeError" });
  assert.throws(() => sampleWindows(ids, { nsamples: 1, seqlen: 1, seed: 0 }), { name: "RangeError" });
  assert.throws(() => sampleWindows(ids, { nsamples: 1.5, seqlen: 4, seed: 0 }), { name: "TypeError" });
  assert.throws(() => sampleWindows([1, 2, 3] as unknown as Int32Array, { nsamples: 1, seqlen: 2, seed: 0 }), {
    name: "TypeError",
  });
});
