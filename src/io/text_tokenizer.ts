/**
 * Text to token ids for the pipeline, whatever the tokenizer's file: one small interface,
 * {@link TextTokenizer}, over the two kinds a model comes with.
 *
 * - A Hugging Face `tokenizer.json` ({@link hfTokenizer}): read and run by the npm package
 *   `@huggingface/tokenizers` (pure JavaScript, no dependencies, browser-safe), which implements
 *   the `tokenizers` pipeline: normalizer, pre-tokenizer, model (BPE, WordPiece, Unigram), added
 *   and special tokens, post-processor. A text is encoded as transformers' `tokenizer(text)`
 *   encodes it: with the special tokens the post-processor adds (a BOS for Llama 2, Llama 3 and
 *   OPT; nothing for Pythia and Qwen2). That the ids equal Python's is a test
 *   (`tests/text_tokenizer_test.ts`, on every text of `../shared/text` for five tokenizers).
 * - A llama2.c `tokenizer.bin` ({@link llama2cTextTokenizer}): `tokenizer.ts`, BOS and no EOS, as
 *   the evaluation protocol has always encoded it.
 *
 * Streaming. The pipeline feeds a corpus in pieces (`corpusPieces`: a document or about 1 MB of
 * text at a time) to {@link TextTokenizer.stream}; `finish()` returns exactly the ids of the
 * pieces' concatenation. The llama2.c stream encodes as it goes (its vocabulary allows cutting
 * the text safely, `tokenizer.ts`). A `tokenizer.json` pipeline gives no such guarantee in general
 * (a SentencePiece-style BPE without a splitting pre-tokenizer merges across any boundary), so its
 * stream keeps the pieces and encodes their concatenation once, at `finish()`: exact, at the cost
 * of holding the text (a few MB for the corpora here).
 *
 * @module
 */
import { Tokenizer as HfTokenizerJs } from "@huggingface/tokenizers";
import { parseConfigJson } from "./hf_config.ts";
import {
  decode as decodeLlama2c,
  encode as encodeLlama2c,
  type EncoderStream,
  encoderStream,
  type Tokenizer,
} from "./tokenizer.ts";

/** A tokenizer as the pipeline uses it: text in, the ids the model was trained on out. */
export interface TextTokenizer {
  /** Which file it came from. */
  readonly kind: "llama2.c" | "tokenizer.json";
  /** One more than the largest id it can produce. */
  readonly vocabSize: number;
  /** The ids of a text, with the special tokens the model expects (see the module doc). */
  encode(text: string): Int32Array;
  /** A text in pieces: `push` them in order; `finish()` equals `encode(pieces.join(""))`. */
  stream(): EncoderStream;
  /** The text of ids (special tokens included, as text). */
  decode(ids: ArrayLike<number>): string;
}

/** Parses a JSON file given as bytes, text or an already parsed object. */
function jsonOf(input: unknown, file: string): Record<string, unknown> {
  if (input instanceof Uint8Array || typeof input === "string") return parseConfigJson(input, file);
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new TypeError(`Cannot read ${file}: expected bytes, text or an object, got ${input}`);
  }
  return input as Record<string, unknown>;
}

/**
 * A tokenizer from a Hugging Face `tokenizer.json` (and, optionally, its `tokenizer_config.json`).
 *
 * @param tokenizerJson `tokenizer.json`: bytes, text or the parsed object.
 * @param tokenizerConfig `tokenizer_config.json` likewise, if the folder has one.
 * @returns The tokenizer.
 * @throws {TypeError} If a file is not a JSON object, or the library cannot build the pipeline it
 *   describes (the message names `tokenizer.json` and the library's reason).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hfTokenizer } from "./text_tokenizer.ts";
 * // a word-level vocabulary, whitespace pre-tokenizer, and a post-processor that prepends <s>
 * const tok = hfTokenizer({
 *   model: { type: "WordLevel", vocab: { "<s>": 0, "<unk>": 1, once: 2, upon: 3 }, unk_token: "<unk>" },
 *   pre_tokenizer: { type: "Whitespace" },
 *   normalizer: null,
 *   decoder: null,
 *   post_processor: { type: "TemplateProcessing", single: [{ SpecialToken: { id: "<s>", type_id: 0 } },
 *     { Sequence: { id: "A", type_id: 0 } }], pair: [], special_tokens: { "<s>": { id: "<s>", ids: [0], tokens: ["<s>"] } } },
 *   added_tokens: [{ id: 0, content: "<s>", special: true, single_word: false, lstrip: false, rstrip: false, normalized: false }],
 * });
 * assert.deepEqual(Array.from(tok.encode("once upon")), [0, 2, 3]);
 * assert.equal(tok.vocabSize, 4);
 * ```
 */
export function hfTokenizer(tokenizerJson: unknown, tokenizerConfig?: unknown): TextTokenizer {
  const json = jsonOf(tokenizerJson, "tokenizer.json");
  const config = tokenizerConfig === undefined
    ? {}
    : jsonOf(tokenizerConfig, "tokenizer_config.json");
  let tok: HfTokenizerJs;
  try {
    tok = new HfTokenizerJs(json, config);
  } catch (e) {
    throw new TypeError(`Cannot read tokenizer.json: ${(e as Error).message}`);
  }
  let largest = -1;
  for (const id of tok.get_vocab(true).values()) largest = Math.max(largest, id);
  const encode = (text: string) => {
    if (typeof text !== "string") {
      throw new TypeError(`Cannot encode: expected a string, got ${typeof text}`);
    }
    return Int32Array.from(tok.encode(text).ids);
  };
  return {
    kind: "tokenizer.json",
    vocabSize: largest + 1,
    encode,
    stream: () => joinedStream(encode),
    decode: (ids) => tok.decode(Array.from(ids), { skip_special_tokens: false }),
  };
}

/** A stream that keeps its pieces and encodes their concatenation at the end. */
function joinedStream(encode: (text: string) => Int32Array): EncoderStream {
  let pieces: string[] | undefined = [];
  const open = () => {
    if (pieces === undefined) {
      throw new RangeError("Cannot encode: the encoder stream is already finished");
    }
    return pieces;
  };
  return {
    push(text: string) {
      if (typeof text !== "string") {
        throw new TypeError(`Cannot encode: expected a string, got ${typeof text}`);
      }
      open().push(text);
    },
    finish() {
      const text = open().join("");
      pieces = undefined; // the pieces go before the ids are made
      return encode(text);
    },
  };
}

/**
 * The llama2.c tokenizer behind the same interface: BOS, no EOS.
 *
 * @param tok A tokenizer from `readTokenizer`.
 * @returns The tokenizer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { llama2cTextTokenizer } from "./text_tokenizer.ts";
 * import { readTokenizer } from "./tokenizer.ts";
 * const s = (t: string) => [0, 0, 0, 0, t.length, 0, 0, 0, ...new TextEncoder().encode(t)];
 * const tok = llama2cTextTokenizer(readTokenizer(new Uint8Array([5, 0, 0, 0, ...s("<unk>"), ...s("<s>"), ...s("</s>"), ...s(" "), ...s("a")])));
 * assert.deepEqual(Array.from(tok.encode("aa")), [1, 3, 4, 4]);
 * const stream = tok.stream();
 * stream.push("a");
 * stream.push("a");
 * assert.deepEqual(stream.finish(), tok.encode("aa"));
 * ```
 */
export function llama2cTextTokenizer(tok: Tokenizer): TextTokenizer {
  const options = { bos: true, eos: false };
  return {
    kind: "llama2.c",
    vocabSize: tok.pieces.length,
    encode: (text) => encodeLlama2c(tok, text, options),
    stream: () => encoderStream(tok, options),
    decode: (ids) => decodeLlama2c(tok, ids),
  };
}
