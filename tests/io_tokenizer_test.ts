import assert from "node:assert/strict";
import {
  decode,
  encode,
  encodeReference,
  encoderStream,
  readTokenizer,
} from "../src/io/tokenizer.ts";
import type { Tokenizer } from "../src/io/tokenizer.ts";
import { createRng } from "../src/tensor/rng.ts";

const TOK512 = "../shared/models/stories260K/tok512.bin";
const LLAMA2 = "../shared/models/llama2-tokenizer/tokenizer.bin";
const TINYSTORIES = "../shared/text/tinystories/TinyStories-validation-head.txt";
const WIKI = "../shared/text/wikitext-2-raw/wiki.test.raw";

// From ../shared/models/README.md (computed independently of this project).
const STORY_IDS =
  "1 301 427 309 426 301 427 309 394 265 262 415 271 422 280 295 269 336 432 313 448 327 432 410 462 362 422 432 364 420 280 295 410 293 384 268 325 428 415 413 269 280 305 303 443 436 410 462 362 422 262 423 290 266 269 410 276 427 421 417 266 432 313 434 415 303 433 364 432 301 427 309 426 359 282 414 421 293 415 312 344 363 328 426 436 13 13 447 431 413 285 337 299 335 265 280 295 432 410 462 362 422 269 301 427 309 272 411 421 413 308 315 356 422 426 342 272 277 264 261 262 423 388 282 414 264 335 280 305 295 273 413 285 426 342 279 420 303 433 265 273 413 285 269 272 411 421 413 399 393 426 342 337 266 267 428 316 386 261 306 328 269 329 429 314 411 329 356 374 419 426"
    .split(" ").map(Number);

const tok512 = readTokenizer(Deno.readFileSync(TOK512));
const llama2 = readTokenizer(Deno.readFileSync(LLAMA2));

/** A tokenizer file from [score, string] entries. */
function tokenizerFile(maxTokenLength: number, entries: [number, string][]): Uint8Array {
  const parts: number[] = [...new Uint8Array(new Int32Array([maxTokenLength]).buffer)];
  for (const [score, s] of entries) {
    const bytes = new TextEncoder().encode(s);
    parts.push(
      ...new Uint8Array(new Float32Array([score]).buffer),
      ...new Uint8Array(new Int32Array([bytes.length]).buffer),
      ...bytes,
    );
  }
  return new Uint8Array(parts);
}

Deno.test("tokenizer: tok512 reproduces the README's 171 ids of the first TinyStories story", () => {
  const text = Deno.readTextFileSync(TINYSTORIES);
  const story = text.split("\n\n").slice(0, 2).join("\n\n");
  assert.equal(tok512.pieces.length, 512);
  assert.deepEqual(Array.from(encode(tok512, story, { bos: true, eos: false })), STORY_IDS);
  assert.deepEqual(
    Array.from(encodeReference(tok512, story, { bos: true, eos: false })),
    STORY_IDS,
  );
  assert.equal(decode(tok512, STORY_IDS), story);
});

Deno.test("tokenizer: both real vocabularies are split-safe (no token has a space after a non-space)", () => {
  assert.ok(tok512.splitSafe);
  assert.ok(llama2.splitSafe);
  assert.equal(llama2.maxTokenLength, 27);
  assert.equal(llama2.pieces.length, 32000);
});

/** Random snippets of real text (cut anywhere) and random strings full of spaces, newlines, accents, emoji. */
function snippets(seed: number, count: number): string[] {
  const rng = createRng(seed);
  const sources = [Deno.readTextFileSync(TINYSTORIES), Deno.readTextFileSync(WIKI)];
  const alphabet = [
    " ",
    " ",
    "  ",
    "\n",
    "a",
    "e",
    "the",
    "The",
    ".",
    ",",
    "'",
    "é",
    "ő",
    "日本",
    "😀",
    "\t",
    "-",
    "1",
    "x",
    "\u00a0",
  ];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 3 === 2) {
      out.push(
        Array.from({ length: 1 + rng.int(40) }, () => alphabet[rng.int(alphabet.length)]).join(""),
      );
    } else {
      const src = sources[i % 2], start = rng.int(src.length - 400);
      out.push(src.slice(start, start + 1 + rng.int(300)));
    }
  }
  return out;
}

function assertSplitEqualsLiteral(tok: Tokenizer, texts: string[]): void {
  for (const [i, text] of texts.entries()) {
    for (const bos of [true, false]) {
      const fast = encode(tok, text, { bos, eos: !bos }),
        literal = encodeReference(tok, text, { bos, eos: !bos });
      assert.deepEqual(
        Array.from(fast),
        Array.from(literal),
        `snippet ${i}: ${JSON.stringify(text)}`,
      );
    }
  }
}

Deno.test("tokenizer: split-and-cache encoding equals the literal run.c loop on random snippets (tok512)", () => {
  assertSplitEqualsLiteral(tok512, snippets(11, 150));
});

Deno.test("tokenizer: split-and-cache encoding equals the literal run.c loop on random snippets (Llama 2, 32k)", () => {
  assertSplitEqualsLiteral(llama2, snippets(12, 90));
});

Deno.test("tokenizer: the integer merge table equals the string merges with duplicate pieces, byte fallbacks and ties", () => {
  // duplicate strings ("ab" twice, "b" twice), a merge through a byte-fallback string "<0x63>",
  // equal scores (first pair wins), and an empty piece that must never merge
  const bytes = Array.from(
    { length: 256 },
    (_, b) => [0, `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`] as [number, string],
  );
  const tok = readTokenizer(
    tokenizerFile(12, [
      [0, "<unk>"],
      [0, "<s>"],
      [0, "</s>"],
      ...bytes,
      [0, " "],
      [0, "a"],
      [0, "b"],
      [0, "b"],
      [3, "ab"],
      [3, "ab"],
      [3, "ba"],
      [1, " a"],
      [2, "bab"],
      [4, "a<0x63>"],
      [0, ""],
      [5, " ab"],
      [1, "abab"],
    ]),
  );
  assert.equal(tok.splitSafe, true);
  const rng = createRng(3), letters = ["a", "b", "c", " ", "é"];
  for (let i = 0; i < 400; i++) {
    const text = Array.from({ length: 1 + rng.int(16) }, () => letters[rng.int(letters.length)])
      .join("");
    assertSplitEqualsLiteral(tok, [text]);
  }
});

Deno.test("tokenizer: a vocabulary with a space after a non-space is not split (still equals the literal loop)", () => {
  const tok = readTokenizer(
    tokenizerFile(5, [
      [0, "<unk>"],
      [0, "<s>"],
      [0, "</s>"],
      [0, " "],
      [0, "a"],
      [0, "b"],
      [5, "a b"],
      [1, " a"],
      [2, "a "],
    ]),
  );
  assert.equal(tok.splitSafe, false);
  const ids = encode(tok, "a b", { bos: false, eos: false });
  // literal: " ", "a", " ", "b" -> "a " (2) beats " a" (1) -> " ", "a ", "b" -> "a b" (5) -> " ", "a b".
  // Split at " b" it would have been " a", " ", "b": the fallback to the literal loop matters.
  assert.deepEqual(Array.from(ids), [3, 6]);
  assert.deepEqual(Array.from(encodeReference(tok, "a b", { bos: false, eos: false })), [3, 6]);
});

Deno.test("tokenizer: Llama 2 vocabulary encodes known ids and round-trips real text", () => {
  // "Hello world" -> BOS, "▁Hello", "▁world" in the public Llama 2 SentencePiece model.
  assert.deepEqual(Array.from(encode(llama2, "Hello world", { bos: true, eos: true })), [
    1,
    15043,
    3186,
    2,
  ]);
  const wiki = Deno.readTextFileSync(WIKI).slice(0, 60_000);
  const stories = Deno.readTextFileSync(TINYSTORIES).slice(0, 60_000);
  for (const text of [wiki, stories, "naïve café 日本語 😀 tab\there"]) {
    const ids = encode(llama2, text, { bos: true, eos: false });
    assert.equal(decode(llama2, ids), text);
    assert.ok(ids.length < new TextEncoder().encode(text).length); // merges happened
  }
});

Deno.test("tokenizer: byte fallback for characters not in the vocabulary, and back", () => {
  // "😀" is not in tok512: its 4 UTF-8 bytes F0 9F 98 80 become ids byte + 3.
  const ids = encode(tok512, "😀", { bos: true, eos: false });
  assert.deepEqual(Array.from(ids).slice(-4), [0xf0 + 3, 0x9f + 3, 0x98 + 3, 0x80 + 3]);
  assert.equal(decode(tok512, ids), "😀");
  assert.deepEqual(Array.from(encode(tok512, "", { bos: true, eos: true })), [1, 2]);
  assert.equal(decode(tok512, [403]), " Once"); // leading space kept when not after BOS
  assert.equal(decode(tok512, [1, 403]), "Once");
  assert.throws(() => decode(tok512, [512]), {
    name: "RangeError",
    message: /id 512 at index 0 is outside \[0, 512\)/,
  });
  assert.throws(() => encode(tok512, 5 as unknown as string, { bos: true, eos: false }), {
    name: "TypeError",
    message: /expected a string, got number/,
  });
});

Deno.test("tokenizer: truncated or inconsistent files are RangeErrors naming the value", () => {
  const good = tokenizerFile(3, [[0, "<unk>".slice(0, 3)], [-1, "ab"]]);
  assert.equal(readTokenizer(good).pieces.length, 2);
  assert.throws(() => readTokenizer(good.subarray(0, 3)), {
    name: "RangeError",
    message: /3 bytes, need a 4-byte header/,
  });
  assert.throws(() => readTokenizer(good.subarray(0, 4 + 8 + 3 + 5)), {
    name: "RangeError",
    message: /truncated header of token 1 at byte 15/,
  });
  assert.throws(() => readTokenizer(good.subarray(0, good.length - 1)), {
    name: "RangeError",
    message: /token 1 of 2 bytes runs past the end/,
  });
  const negative = good.slice();
  new DataView(negative.buffer).setInt32(4 + 4, -2, true);
  assert.throws(() => readTokenizer(negative), {
    name: "RangeError",
    message: /token 0 has length -2/,
  });
  const tooLong = good.slice();
  new DataView(tooLong.buffer).setInt32(0, 2, true);
  assert.throws(() => readTokenizer(tooLong), {
    name: "RangeError",
    message: /token 0 has length 3, expected 0\.\.2/,
  });
  const zeroMax = good.slice();
  new DataView(zeroMax.buffer).setInt32(0, 0, true);
  assert.throws(() => readTokenizer(zeroMax), {
    name: "RangeError",
    message: /max_token_length must be positive, got 0/,
  });
  assert.throws(() => readTokenizer("abc" as unknown as Uint8Array), {
    name: "TypeError",
    message: /expected a Uint8Array, got string/,
  });
});

Deno.test("encoderStream: pieces cut anywhere (inside words, spaces, surrogate pairs) give encode's ids of the whole", () => {
  const unsafe = readTokenizer(
    tokenizerFile(5, [[0, "<unk>"], [0, "<s>"], [0, "</s>"], [0, " "], [0, "a"], [0, "b"], [
      5,
      "a b",
    ], [1, " a"]]),
  );
  const rng = createRng(21);
  const texts = [...snippets(22, 60), "😀😀 a😀", "end in a lone \ud83d", "\ud83d", "", "   ", "x"];
  const ab = Array.from(
    { length: 30 },
    () => Array.from({ length: rng.int(20) }, () => "ab "[rng.int(3)]).join(""),
  );
  for (const [tok, cases] of [[tok512, texts], [llama2, texts], [unsafe, ab]] as const) {
    for (const text of cases) {
      for (const options of [{ bos: true, eos: false }, { bos: false, eos: true }]) {
        const stream = encoderStream(tok, options);
        for (let at = 0; at < text.length;) { // random cuts, some of them inside a surrogate pair
          const next = Math.min(text.length, at + rng.int(12));
          stream.push(text.slice(at, next));
          at = next;
        }
        if (rng.int(2) === 0) stream.push("");
        assert.deepEqual(
          Array.from(stream.finish()),
          Array.from(encode(tok, text, options)),
          JSON.stringify(text),
        );
      }
    }
  }
  const done = encoderStream(tok512, { bos: true, eos: false });
  done.finish();
  assert.throws(() => done.push("a"), { name: "RangeError", message: /already finished/ });
  assert.throws(
    () => encoderStream(tok512, { bos: true, eos: false }).push(3 as unknown as string),
    TypeError,
  );
});
