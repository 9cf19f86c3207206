import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { hfTokenizer, llama2cTextTokenizer, type TextTokenizer } from "../src/io/text_tokenizer.ts";
import { readTokenizer } from "../src/io/tokenizer.ts";
import { corpusPieces } from "../src/pipeline/calibration.ts";

const HF = "../shared/models/hf";
const TEXT = "../shared/text";
const golden = JSON.parse(readFileSync("tests/golden/hf/token_ids.json", "utf8"));

/** The ids of a corpus file as the pipeline makes them: corpusPieces into the tokenizer's stream. */
function encodeFile(tok: TextTokenizer, file: string): Int32Array {
  const stream = tok.stream();
  for (const piece of corpusPieces(new Uint8Array(readFileSync(file)), { fileName: file })) {
    stream.push(piece);
  }
  return stream.finish();
}

async function sha256(ids: Int32Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", ids.slice().buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function folderTokenizer(m: string): TextTokenizer {
  return hfTokenizer(
    readFileSync(`${HF}/${m}/tokenizer.json`),
    readFileSync(`${HF}/${m}/tokenizer_config.json`),
  );
}

/**
 * Every text for every tokenizer takes minutes on a busy machine, most of it on the two C4 files
 * (4.6 MB of the 6.7): by default each tokenizer is checked on wiki.test.raw (the evaluation text
 * of the reference perplexities) and TinyStories; `SECATEUR_ALL_TEXTS=1 deno task test` adds the
 * two C4 files.
 */
const ALL_TEXTS = (() => {
  try {
    return Deno.env.get("SECATEUR_ALL_TEXTS") === "1";
  } catch {
    return false; // no --allow-env
  }
})();
const SLOW = (name: string) => name.startsWith("c4/");

for (const m of Object.keys(golden.ids)) {
  Deno.test(`hfTokenizer(${m}): the ids of every text of ../shared/text equal transformers' tokenizer(text)`, async () => {
    const tok = folderTokenizer(m);
    for (const name of golden.texts as string[]) {
      if (SLOW(name) && !ALL_TEXTS) continue;
      const want = golden.ids[m][name];
      const ids = encodeFile(tok, `${TEXT}/${name}`);
      assert.equal(ids.length, want.length, `${m} ${name}: length`);
      assert.deepEqual(
        Array.from(ids.subarray(0, golden.edge)),
        want.first,
        `${m} ${name}: first ids`,
      );
      assert.deepEqual(Array.from(ids.subarray(-golden.edge)), want.last, `${m} ${name}: last ids`);
      assert.equal(await sha256(ids), want.sha256, `${m} ${name}: sha256 of all ids`);
    }
  });
}

Deno.test("hfTokenizer: special tokens as the post-processor adds them (BOS for llama2, llama3, opt; none for pythia, qwen2)", () => {
  const reference = JSON.parse(readFileSync("tests/golden/hf/reference.json", "utf8"));
  for (const m of ["llama2", "llama3", "qwen2", "pythia", "opt"]) {
    const tok = folderTokenizer(m);
    const ids = Array.from(tok.encode("Once upon a time"));
    assert.deepEqual(ids, reference.models[m].once_upon_a_time_ids, m);
    const bos = JSON.parse(readFileSync(`${HF}/${m}/config.json`, "utf8")).bos_token_id;
    assert.equal(ids[0] === bos, ["llama2", "llama3", "opt"].includes(m), `${m}: BOS`);
    assert.equal(tok.vocabSize, m === "llama2" ? 512 : 2048, m);
    assert.equal(tok.decode(tok.encode("x")).endsWith("x"), true, m);
  }
});

Deno.test("llama2: tokenizer.json and llama2.c's tok512.bin give the same ids (the two paths of one model)", () => {
  const viaJson = folderTokenizer("llama2");
  const viaBin = llama2cTextTokenizer(
    readTokenizer(new Uint8Array(readFileSync("../shared/models/stories260K/tok512.bin"))),
  );
  for (const name of ["tinystories/TinyStories-validation-head.txt"]) {
    assert.deepEqual(
      encodeFile(viaJson, `${TEXT}/${name}`),
      encodeFile(viaBin, `${TEXT}/${name}`),
      name,
    );
  }
});

Deno.test("hfTokenizer: bad input is a TypeError naming the file; a finished stream is closed", () => {
  assert.throws(() => hfTokenizer("{"), {
    name: "TypeError",
    message: /^Cannot read tokenizer\.json: not valid JSON/,
  });
  assert.throws(
    () => hfTokenizer([1]),
    /Cannot read tokenizer\.json: expected bytes, text or an object/,
  );
  assert.throws(
    () => hfTokenizer({ model: { type: "Nonsense" } }),
    /^TypeError: Cannot read tokenizer\.json: /,
  );
  const tok = folderTokenizer("pythia");
  assert.throws(() => tok.encode(3 as unknown as string), TypeError);
  const stream = tok.stream();
  stream.push("Once");
  stream.push(" upon");
  assert.deepEqual(stream.finish(), tok.encode("Once upon"));
  assert.throws(() => stream.push("x"), RangeError);
});
