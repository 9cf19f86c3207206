import assert from "node:assert/strict";
import {
  corpusPieces,
  corpusText,
  detectCorpusFormat,
  sampleWindows,
} from "../src/pipeline/calibration.ts";
import { createRng, randn } from "../src/tensor/rng.ts";
import {
  evaluateLayer,
  gramOf,
  maskAgreement,
  relativeLayerError,
  relativeLayerErrorFromGram,
} from "../src/pipeline/layer_report.ts";
import { readFileSync } from "node:fs";
import { pruneModel } from "../src/pipeline/prune_model.ts";
import { methodByName } from "../src/prune/methods.ts";
import type { MethodDescriptor } from "../src/prune/method.ts";
import type { LayerCalibration, Target } from "../src/prune/types.ts";
import type { LinearName, LlamaWeights } from "../src/model/weights.ts";
import { forward, tinyLlama } from "../src/model/llama.ts";
import { readLlama2c } from "../src/io/llama2c.ts";
import { encode, readTokenizer } from "../src/io/tokenizer.ts";
import { llamaFromHf, llamaToHf } from "../src/io/hf_llama.ts";
import { readSafetensors, writeSafetensors } from "../src/io/safetensors.ts";
import { perplexity } from "../src/eval/perplexity.ts";
import { NonFiniteInputError } from "../src/check/finite.ts";

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

Deno.test("corpusPieces: the pieces join to corpusText of the decoded file (real corpora and edge cases)", () => {
  const outcome = (f: () => string) => {
    try {
      return { text: f() };
    } catch (e) {
      return { error: `${(e as Error).name}: ${(e as Error).message}` };
    }
  };
  const check = (
    bytes: Uint8Array,
    options: { fileName?: string; format?: "jsonl" | "text" },
    label: string,
  ) => {
    const whole = outcome(() => corpusText(new TextDecoder().decode(bytes), options));
    const pieces = outcome(() => [...corpusPieces(bytes, options)].join(""));
    assert.deepEqual(pieces, whole, label);
  };
  for (
    const file of [
      "../shared/text/c4/c4-train.00000-of-01024.head1041.jsonl",
      "../shared/text/wikitext-2-raw/wiki.test.raw", // 1.3 MB: crosses a 1 MB decoding chunk
      "../shared/text/tinystories/TinyStories-validation-head.txt",
    ]
  ) {
    check(new Uint8Array(readFileSync(file)), { fileName: file }, file);
  }
  const bom = [0xef, 0xbb, 0xbf], enc = (t: string) => [...new TextEncoder().encode(t)];
  const cases: [string, number[]][] = [
    ["BOM at the start", [...bom, ...enc('{"text": "a"}\n{"text": "b"}')]],
    ["BOM starting line 2", [
      ...enc('{"text": "a"}\n'),
      ...bom,
      ...enc('{"text": "b"}'),
    ]],
    ["CRLF and blank lines", enc('\r\n{"text": "a"}\r\n\r\n  {"text": "b\\u00e9"}\r\n')],
    ["invalid UTF-8 inside a document", [...enc('{"text": "a'), 0xc3, 0x28, 0xff, ...enc('b"}')]],
    ["a cut multi-byte character before the newline", [
      ...enc('{"text": "a"}'),
      0xe2,
      0x82,
      0x0a,
      ...enc('{"text": "c"}'),
    ]],
    ["bad line 3", enc('{"text": "a"}\n\n{oops\n')],
    ["no text field", enc('{"body": "a"}')],
    ["no document", enc("\n \n")],
    ["empty", []],
    ["whitespace then jsonl", [...enc(" ".repeat(5000)), ...enc('{"text": "late"}')]],
  ];
  for (const [label, bytes] of cases) {
    for (
      const options of [{}, { fileName: "x.jsonl" }, { fileName: "x.txt" }, {
        format: "text" as const,
      }]
    ) {
      check(Uint8Array.from(bytes), options, `${label} ${JSON.stringify(options)}`);
    }
  }
  assert.throws(() => [...corpusPieces("text" as unknown as Uint8Array)], TypeError);
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
  assert.throws(() => corpusText("\n\n", { format: "jsonl" }), {
    name: "RangeError",
    message: /no document/,
  });
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
  assert.throws(() => sampleWindows(ids, { nsamples: 0, seqlen: 4, seed: 0 }), {
    name: "RangeError",
  });
  assert.throws(() => sampleWindows(ids, { nsamples: 1, seqlen: 1, seed: 0 }), {
    name: "RangeError",
  });
  assert.throws(() => sampleWindows(ids, { nsamples: 1.5, seqlen: 4, seed: 0 }), {
    name: "TypeError",
  });
  assert.throws(
    () => sampleWindows([1, 2, 3] as unknown as Int32Array, { nsamples: 1, seqlen: 2, seed: 0 }),
    {
      name: "TypeError",
    },
  );
});

// ---------------------------------------------------------------------------------------------
// block-by-block pruning on stories260K

const SHARED = new URL("../../shared/", import.meta.url);
/** The file's bytes as a plain Uint8Array (a Node Buffer's `slice` is a view, not a copy). */
function bytesOf(path: URL): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
const stories = () => readLlama2c(bytesOf(new URL("models/stories260K/stories260K.bin", SHARED)));
const tok512 = () => readTokenizer(bytesOf(new URL("models/stories260K/tok512.bin", SHARED)));
const HALF: Target = { kind: "unstructured", sparsity: 0.5, group: "row" };

/** A method wrapper that records what the pipeline gave each call, in call order. */
function recording(
  method: MethodDescriptor,
): { method: MethodDescriptor; calls: LayerCalibration[] } {
  const calls: LayerCalibration[] = [];
  return {
    calls,
    method: {
      ...method,
      prune: (
        w,
        calib,
        target,
        options,
      ) => (calls.push(calib), method.prune(w, calib, target, options)),
    },
  };
}

/** The dense model's input of linear `name` in every block, windows' rows concatenated. */
function denseInputsOf(
  weights: LlamaWeights,
  windows: Int32Array[],
  name: LinearName,
): Float32Array[] {
  const parts: Float32Array[][] = Array.from({ length: weights.config.nLayers }, () => []);
  for (const w of windows) {
    forward(weights, w, {
      onLinearInput: (l, n, x) => void (n === name && parts[l].push(x.data.slice())),
    });
  }
  return parts.map((p) => Float32Array.from(p.flatMap((a) => Array.from(a))));
}

function calibrationWindows(nsamples: number, seqlen: number): Int32Array[] {
  const text = readFileSync(
    new URL("text/tinystories/TinyStories-validation-head.txt", SHARED),
    "utf8",
  );
  const ids = encode(tok512(), text.slice(0, 20000), { bos: true, eos: false });
  return sampleWindows(ids, { nsamples, seqlen, seed: 0 });
}

Deno.test("pruneModel: stories260K at 50% per row gives exact row counts and sane layer errors", () => {
  const weights = stories();
  const windows = calibrationWindows(4, 32);
  const progress: number[] = [];
  const out = pruneModel(weights, windows, {
    method: methodByName("swiftprune")!,
    target: HALF,
    onProgress: (done, total) => progress.push(done / total),
  });
  assert.equal(out.layers.length, 7 * weights.config.nLayers);
  assert.equal(progress.at(-1), 1);
  for (const r of out.layers) {
    const [, l, name] = r.name.split(".");
    const w = out.weights.blocks[Number(l)][name as LinearName];
    const keep = out.masks[r.name];
    for (let i = 0; i < r.rows; i++) {
      let zeros = 0;
      for (let j = 0; j < r.cols; j++) {
        if (keep[i * r.cols + j] === 0) {
          zeros++;
          assert.equal(w.data[i * r.cols + j], 0, `${r.name} (${i}, ${j}) pruned but nonzero`);
        }
      }
      assert.equal(zeros, Math.floor(r.cols / 2), `${r.name} row ${i}`);
    }
    assert.equal(r.sparsity, Math.floor(r.cols / 2) / r.cols);
    assert.ok(r.error > 0 && r.error < 1, `${r.name} error ${r.error}`);
    assert.ok(r.agreeMagnitude >= 0.5 && r.agreeMagnitude <= 1, `${r.name} ${r.agreeMagnitude}`);
    assert.ok(r.agreeWanda >= 0.5 && r.agreeWanda <= 1, `${r.name} ${r.agreeWanda}`);
  }
  // every row has an even number of columns here, so the overall sparsity is exactly 0.5
  assert.equal(out.sparsity, 0.5);
  // the input model is untouched
  assert.deepEqual(weights.blocks[0].wq.data, stories().blocks[0].wq.data);
});

Deno.test("pruneModel: the magnitude method agrees with the magnitude mask everywhere", () => {
  const out = pruneModel(stories(), calibrationWindows(2, 16), {
    method: methodByName("magnitude")!,
    target: HALF,
  });
  for (const r of out.layers) assert.equal(r.agreeMagnitude, 1, r.name);
});

Deno.test("pruneModel: denseInputs changes the inputs of blocks >= 1 only", () => {
  const weights = stories(), windows = calibrationWindows(2, 16);
  const seq = recording(methodByName("wanda")!), dense = recording(methodByName("wanda")!);
  pruneModel(weights, windows, { method: seq.method, target: HALF });
  pruneModel(weights, windows, { method: dense.method, target: HALF, denseInputs: true });
  const expected = denseInputsOf(weights, windows, "wq"); // independent: the dense forward's own hooks
  for (let l = 0; l < weights.config.nLayers; l++) {
    const call = 7 * l; // wq is the first call of each block
    assert.deepEqual(dense.calls[call].inputs!.data, expected[l], `dense inputs of block ${l}`);
    if (l === 0) assert.deepEqual(seq.calls[call].inputs!.data, expected[0]);
    else {assert.notDeepEqual(
        seq.calls[call].inputs!.data,
        expected[l],
        `sequential inputs of block ${l}`,
      );}
  }
});

Deno.test("pruneModel: intraLayer passes X* from the operators already pruned", () => {
  const weights = stories(), windows = calibrationWindows(2, 16);
  const rec = recording(methodByName("magnitude")!);
  const out = pruneModel(weights, windows, {
    method: rec.method,
    target: HALF,
    intraLayer: true,
    denseInputs: true,
  });
  assert.equal(out.layers[3].name, "layers.0.wo"); // calls in the order q, k, v, o, w1, w3, w2
  assert.equal(rec.calls[0].inputsPruned, rec.calls[0].inputs); // q,k,v: nothing before them
  // independent X* of wo in block 0: the dense model with only q, k, v of block 0 pruned
  const b0 = {
    ...weights.blocks[0],
    wq: out.weights.blocks[0].wq,
    wk: out.weights.blocks[0].wk,
    wv: out.weights.blocks[0].wv,
  };
  const partly = { ...weights, blocks: [b0, ...weights.blocks.slice(1)] };
  assert.deepEqual(rec.calls[3].inputsPruned!.data, denseInputsOf(partly, windows, "wo")[0]);
  // and X* of w2 in block 1: block 1 with every operator but w2 pruned (inputs are dense across blocks)
  const b1 = { ...out.weights.blocks[1], w2: weights.blocks[1].w2 };
  const partly1 = { ...weights, blocks: [weights.blocks[0], b1, ...weights.blocks.slice(2)] };
  assert.deepEqual(rec.calls[7 + 6].inputsPruned!.data, denseInputsOf(partly1, windows, "w2")[1]);
  assert.notDeepEqual(rec.calls[3].inputsPruned!.data, rec.calls[3].inputs!.data);
  // the magnitude method ignores inputs, so the masks equal the ones without intraLayer
  const plain = pruneModel(weights, windows, {
    method: methodByName("magnitude")!,
    target: HALF,
    denseInputs: true,
  });
  for (const name of Object.keys(plain.masks)) {
    assert.deepEqual(out.masks[name], plain.masks[name], name);
  }
  const wo = out.layers[3];
  assert.ok(wo.errorPruned !== undefined && wo.errorPruned > 0);
});

// ---------------------------------------------------------------------------------------------
// export, import, perplexity

Deno.test("HF export then import gives identical logits (pruned stories260K)", () => {
  const weights = stories();
  const out = pruneModel(weights, calibrationWindows(2, 16), {
    method: methodByName("wanda")!,
    target: HALF,
  });
  const { config, entries } = llamaToHf(out.weights);
  const back = llamaFromHf(
    JSON.parse(JSON.stringify(config)),
    readSafetensors(writeSafetensors(entries)),
  );
  const ids = calibrationWindows(1, 40)[0];
  assert.deepEqual(forward(back, ids).data, forward(out.weights, ids).data);
  assert.deepEqual(back.blocks[2].wq.data, out.weights.blocks[2].wq.data); // RoPE permutation undone
});

Deno.test("perplexity smoke test: the first TinyStories story gives the reference NLL 1.2977", () => {
  const weights = stories();
  const text = readFileSync(
    new URL("text/tinystories/TinyStories-validation-head.txt", SHARED),
    "utf8",
  );
  const story = text.split("\n\n").slice(0, 2).join("\n\n");
  const ids = encode(tok512(), story, { bos: true, eos: false });
  assert.equal(ids.length, 171); // models README
  const one = perplexity(weights, ids, { seqlen: 171 });
  assert.equal(one.windows, 1);
  assert.equal(one.predicted, 170);
  assert.ok(Math.abs(one.nll - 1.2977) < 5e-4, `nll ${one.nll}`);
  assert.ok(Math.abs(one.ppl - Math.exp(one.nll)) < 1e-9);
  // non-overlapping windows of 50, tail of 21 dropped: 3 windows, 49 predictions each
  const cut = perplexity(weights, ids, { seqlen: 50 });
  assert.equal(cut.windows, 3);
  assert.equal(cut.predicted, 3 * 49);
  const pruned = pruneModel(weights, calibrationWindows(4, 32), {
    method: methodByName("magnitude")!,
    target: HALF,
  });
  assert.ok(
    perplexity(pruned.weights, ids, { seqlen: 171 }).ppl > one.ppl,
    "50% magnitude pruning should hurt",
  );
});

Deno.test("relativeLayerErrorFromGram agrees with relativeLayerError on many shapes and seeds", () => {
  for (let seed = 0; seed < 12; seed++) {
    const rng = createRng(seed);
    const rows = 1 + rng.int(9), cols = 1 + rng.int(9), tokens = 1 + rng.int(20);
    const w = { data: randn(rows * cols, rng), rows, cols };
    const keep = Uint8Array.from({ length: rows * cols }, () => (rng.uniform() < 0.5 ? 1 : 0));
    const wp = { data: w.data.map((v, i) => (keep[i] ? v : 0)), rows, cols };
    const x = { data: randn(tokens * cols, rng), rows: tokens, cols };
    const direct = relativeLayerError(w, wp, x),
      viaGram = relativeLayerErrorFromGram(w, wp, gramOf(x));
    assert.ok(
      Math.abs(direct - viaGram) <= 1e-5 * Math.max(1, direct),
      `seed ${seed}: ${direct} vs ${viaGram}`,
    );
    assert.equal(relativeLayerError(w, w, x), 0);
    assert.equal(relativeLayerErrorFromGram(w, w, gramOf(x)), 0);
  }
  const zero = { data: new Float32Array(4), rows: 2, cols: 2 };
  assert.equal(relativeLayerError(zero, zero, zero), 0);
  assert.throws(() => relativeLayerErrorFromGram(zero, zero, new Float64Array(3)), {
    name: "TypeError",
  });
});

Deno.test("maskAgreement and evaluateLayer: exact fractions and the missing-inputs error", () => {
  assert.equal(maskAgreement(new Uint8Array([1, 1, 0, 0]), new Uint8Array([1, 0, 1, 0])), 0.5);
  assert.throws(() => maskAgreement(new Uint8Array(2), new Uint8Array(3)), { name: "TypeError" });
  const w = { data: new Float32Array([4, -1, 2, 3]), rows: 1, cols: 4 };
  // pruning the two smallest |w| (-1 and 2) is the magnitude mask: agreement 1; the opposite mask: 0
  const inputs = { data: new Float32Array([1, 1, 1, 1]), rows: 1, cols: 4 };
  const pruned = (keep: number[]) => ({
    weight: { ...w, data: w.data.map((v, i) => keep[i] * v) },
    keep: Uint8Array.from(keep),
  });
  assert.equal(evaluateLayer("l", w, pruned([1, 0, 0, 1]), { inputs }, HALF).agreeMagnitude, 1);
  assert.equal(evaluateLayer("l", w, pruned([0, 1, 1, 0]), { inputs }, HALF).agreeMagnitude, 0);
  assert.ok(
    Number.isNaN(
      evaluateLayer("l", w, pruned([1, 0, 0, 1]), { inputs }, HALF, { agreement: false })
        .agreeWanda,
    ),
  );
  assert.throws(() => evaluateLayer("l", w, pruned([1, 0, 0, 1]), {}, HALF), {
    name: "TypeError",
    message: /inputs are missing/,
  });
});

Deno.test("pruneModel runs FISTAPruner the paper's way: dense inputs, intra-layer X*", () => {
  const weights = stories(), windows = calibrationWindows(2, 16);
  const rec = recording(methodByName("fista")!);
  const out = pruneModel(weights, windows, {
    method: rec.method,
    target: HALF,
    denseInputs: true,
    intraLayer: true,
  });
  assert.equal(rec.calls.length, 35);
  for (const [i, r] of out.layers.entries()) {
    assert.ok(Math.abs(r.sparsity - 0.5) < 0.01, `${r.name} sparsity ${r.sparsity}`);
    assert.ok(Number.isFinite(r.error) && r.error < 1, `${r.name} error ${r.error}`);
    // q, k, v see X* = X; every later operator gets its own X* and reports the error against it
    if (i % 7 < 3) assert.equal(rec.calls[i].inputsPruned, rec.calls[i].inputs);
    else assert.ok(r.errorPruned !== undefined && Number.isFinite(r.errorPruned), r.name);
  }
});

Deno.test("pruneModel: a non-finite calibration input is a NonFiniteInputError naming block, linears, window, token and column; allowNonFinite prunes anyway", () => {
  const model = tinyLlama({ seed: 9, nLayers: 2, vocabSize: 16 });
  const blocks = model.blocks.slice();
  blocks[1] = { ...blocks[1], rmsFfn: blocks[1].rmsFfn.map((g) => g * 1e30) }; // overflows in w1, w3
  const overflowing = { ...model, blocks };
  const windows = [Int32Array.from([1, 5, 7]), Int32Array.from([3, 4, 9, 8])];
  const options = { method: methodByName("wanda")!, target: { kind: "nm", n: 2, m: 4 } } as const;
  assert.throws(() => pruneModel(overflowing, windows, options), (e: Error) => {
    assert.ok(e instanceof NonFiniteInputError && e instanceof RangeError);
    assert.match(
      e.message,
      /^Calibration input of layers\.1\.w2 has a non-finite value -?Infinity at window [01], token \d, column \d+ \(row \d\)/,
    );
    return true;
  });
  const r = pruneModel(overflowing, windows, { ...options, allowNonFinite: true });
  assert.equal(r.layers.length, 14);
  pruneModel(model, windows, options); // the same model without the overflow: no error
});
