/**
 * Calibration data: turning a text file's contents into one string, and cutting seeded random
 * windows of token ids out of its encoding (docs/pipeline.md, "Calibration").
 *
 * Text formats ({@link corpusText}):
 *
 * - `"jsonl"`: one JSON object `{"text": "..."}` per line, the layout of the C4 shards
 *   (`c4-train.00000-of-01024.json`). The documents' texts are joined with `"\n\n"`. Blank lines
 *   are skipped; any other key of an object is ignored.
 * - `"text"`: the content as it is (TinyStories, `wiki.test.raw`).
 *
 * The format is detected from the file name (`.jsonl` / `.json` means jsonl) or, when there is
 * no name or the name says nothing, from the first non-whitespace character (`{` means jsonl).
 *
 * Window sampling ({@link sampleWindows}) follows SparseGPT's `get_c4` (datautils.py) with one
 * departure, marked OUR READING: SparseGPT draws a random document (retrying until it is longer
 * than `seqlen`), encodes it, and takes the window at a uniform start `randint(0, len - seqlen - 1)`
 * inside it. Here the whole calibration text is encoded once (BOS at its start, as the evaluation
 * protocol does) and each window starts at a uniform position of that one token stream, so a
 * window may span a document boundary (`"\n\n"`). Concretely, for sample `i = 0 .. nsamples-1`:
 * `start_i = rng.int(ids.length - seqlen + 1)` with `rng = createRng(seed)` drawn in that order,
 * and window `i` is `ids[start_i .. start_i + seqlen)`. Windows may overlap (as in SparseGPT).
 *
 * @module
 */
import { createRng } from "../tensor/rng.ts";

/** The two text layouts {@link corpusText} understands. */
export type CorpusFormat = "jsonl" | "text";

/**
 * Decides whether a file's content is C4-style jsonl or plain text.
 *
 * @param content The file's content.
 * @param fileName The file's name or path, if known (only its extension is looked at).
 * @returns `"jsonl"` when the name ends with `.jsonl`/`.json`, else `"text"` when it has another
 *   known text extension (`.txt`, `.raw`, `.md`), else `"jsonl"` when the first non-whitespace
 *   character is `{`, else `"text"`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectCorpusFormat } from "./calibration.ts";
 * assert.equal(detectCorpusFormat('{"text": "a"}'), "jsonl");
 * assert.equal(detectCorpusFormat("{curly} plain text", "notes.txt"), "text");
 * assert.equal(detectCorpusFormat("Once upon a time"), "text");
 * ```
 */
export function detectCorpusFormat(content: string, fileName?: string): CorpusFormat {
  const lower = (fileName ?? "").toLowerCase();
  if (lower.endsWith(".jsonl") || lower.endsWith(".json")) return "jsonl";
  if (/\.(txt|raw|md)$/.test(lower)) return "text";
  return content.trimStart().startsWith("{") ? "jsonl" : "text";
}

/**
 * Turns a corpus file's content into the one string that is encoded: jsonl documents' `text`
 * fields joined with `"\n\n"`, or plain text unchanged.
 *
 * @param content The file's content (already decoded from UTF-8).
 * @param options `fileName` for format detection, or `format` to force one.
 * @returns The text.
 * @throws {TypeError} If a jsonl line is not valid JSON or has no string `text` field (the
 *   message gives the 1-based line number).
 * @throws {RangeError} If a jsonl content holds no document.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { corpusText } from "./calibration.ts";
 * const jsonl = '{"text": "first doc"}\n{"text": "second", "url": "x"}\n';
 * assert.equal(corpusText(jsonl, { fileName: "c4.jsonl" }), "first doc\n\nsecond");
 * assert.equal(corpusText("plain\n\ntext"), "plain\n\ntext");
 * ```
 */
export function corpusText(
  content: string,
  options: { fileName?: string; format?: CorpusFormat } = {},
): string {
  if (typeof content !== "string") {
    throw new TypeError(`Cannot read corpus: content must be a string, got ${typeof content}`);
  }
  const format = options.format ?? detectCorpusFormat(content, options.fileName);
  if (format === "text") return content;
  const texts: string[] = [];
  const lines = content.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const text = documentOfLine(lines[i], i + 1);
    if (text !== undefined) texts.push(text);
  }
  if (texts.length === 0) throw new RangeError(NO_DOCUMENT);
  return texts.join("\n\n");
}

const NO_DOCUMENT = "Cannot read jsonl corpus: it holds no document";

/** The `text` of one jsonl line (1-based `lineNumber`), or undefined for a blank line. */
function documentOfLine(raw: string, lineNumber: number): string | undefined {
  const line = raw.trim();
  if (line === "") return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (e) {
    throw new TypeError(
      `Cannot read jsonl corpus: line ${lineNumber} is not JSON (${(e as Error).message})`,
    );
  }
  const text = (doc as { text?: unknown } | null)?.text;
  if (typeof text !== "string") {
    throw new TypeError(`Cannot read jsonl corpus: line ${lineNumber} has no string "text" field`);
  }
  return text;
}

/** Bytes decoded at a time by {@link corpusPieces} for plain text. */
const TEXT_CHUNK = 1 << 20;

/**
 * {@link corpusText} straight from a file's bytes, in pieces: their concatenation is
 * `corpusText(new TextDecoder().decode(bytes), options)`, but no piece is longer than a document
 * (jsonl) or about 1 MB of text, so the corpus is never one string in memory. Feed them to
 * `encoderStream` (src/io/tokenizer.ts) to encode a large corpus in little memory.
 *
 * @param bytes The file's bytes (UTF-8; invalid sequences become U+FFFD as in `TextDecoder`).
 * @param options `fileName` for format detection, or `format` to force one.
 * @returns A generator of the pieces, in order.
 * @throws {TypeError} As {@link corpusText}, when the generator reaches the bad line.
 * @throws {RangeError} If a jsonl file holds no document (at the end).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { corpusPieces, corpusText } from "./calibration.ts";
 * const jsonl = '{"text": "first doc"}\n\n{"text": "second"}\n';
 * const bytes = new TextEncoder().encode(jsonl);
 * assert.deepEqual([...corpusPieces(bytes, { fileName: "c4.jsonl" })], ["first doc", "\n\n", "second"]);
 * assert.equal([...corpusPieces(bytes)].join(""), corpusText(jsonl));
 * ```
 */
export function* corpusPieces(
  bytes: Uint8Array,
  options: { fileName?: string; format?: CorpusFormat } = {},
): Generator<string, void, undefined> {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`Cannot read corpus: bytes must be a Uint8Array, got ${typeof bytes}`);
  }
  const format = options.format ?? detectCorpusFormat(headText(bytes), options.fileName);
  if (format === "text") {
    const decoder = new TextDecoder(); // streaming: a character cut by a chunk end is kept whole
    for (let at = 0; at < bytes.length; at += TEXT_CHUNK) {
      const piece = decoder.decode(bytes.subarray(at, at + TEXT_CHUNK), { stream: true });
      if (piece !== "") yield piece;
    }
    const rest = decoder.decode();
    if (rest !== "") yield rest;
    return;
  }
  let documents = 0;
  const decoder = new TextDecoder(); // a byte order mark it may drop is whitespace to trim() anyway
  for (let start = 0, lineNumber = 1; start <= bytes.length; lineNumber++) {
    let end = bytes.indexOf(0x0a, start); // "\n" is never inside a UTF-8 sequence
    if (end < 0) end = bytes.length;
    const text = documentOfLine(decoder.decode(bytes.subarray(start, end)), lineNumber);
    if (text !== undefined) {
      if (documents++ > 0) yield "\n\n";
      yield text;
    }
    start = end + 1;
  }
  if (documents === 0) throw new RangeError(NO_DOCUMENT);
}

/** Enough of the start of the file to detect its format as {@link detectCorpusFormat} would. */
function headText(bytes: Uint8Array): string {
  const decoder = new TextDecoder();
  for (let end = 4096;; end *= 4) { // grow while the head is only whitespace
    const head = decoder.decode(bytes.subarray(0, Math.min(end, bytes.length)));
    if (head.trim() !== "" || end >= bytes.length) return head;
  }
}

/** How many windows of how many tokens, from which seed. */
export interface WindowOptions {
  /** Number of windows (SparseGPT/Wanda: 128). */
  nsamples: number;
  /** Tokens per window (SparseGPT/Wanda: 2048). */
  seqlen: number;
  /** Seed of the `createRng` stream that draws the start positions. */
  seed: number;
}

/**
 * Draws `nsamples` windows of `seqlen` consecutive ids at seeded uniform start positions
 * (see the module header for the exact rule and how it departs from SparseGPT's `get_c4`).
 *
 * @param ids The encoded calibration text.
 * @param options `nsamples`, `seqlen`, `seed`.
 * @returns `nsamples` new `Int32Array(seqlen)` (copies; `ids` is not shared or mutated).
 * @throws {TypeError} If `ids` is not an `Int32Array` or an option is not an integer.
 * @throws {RangeError} If `nsamples < 1`, `seqlen < 2`, or the text has fewer than `seqlen` tokens.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sampleWindows } from "./calibration.ts";
 * const ids = Int32Array.from({ length: 100 }, (_, i) => i);
 * const w = sampleWindows(ids, { nsamples: 3, seqlen: 10, seed: 0 });
 * assert.equal(w.length, 3);
 * assert.equal(w[0][9] - w[0][0], 9); // consecutive ids
 * assert.deepEqual(sampleWindows(ids, { nsamples: 3, seqlen: 10, seed: 0 }), w); // seeded
 * ```
 */
export function sampleWindows(ids: Int32Array, options: WindowOptions): Int32Array[] {
  if (!(ids instanceof Int32Array)) {
    throw new TypeError(
      `Cannot sample calibration windows: ids must be an Int32Array, got ${typeof ids}`,
    );
  }
  const { nsamples, seqlen, seed } = options;
  for (const [name, v] of [["nsamples", nsamples], ["seqlen", seqlen], ["seed", seed]] as const) {
    if (!Number.isInteger(v)) {
      throw new TypeError(
        `Cannot sample calibration windows: ${name} must be an integer, got ${v}`,
      );
    }
  }
  if (nsamples < 1) {
    throw new RangeError(
      `Cannot sample calibration windows: nsamples must be >= 1, got ${nsamples}`,
    );
  }
  if (seqlen < 2) {
    throw new RangeError(`Cannot sample calibration windows: seqlen must be >= 2, got ${seqlen}`);
  }
  if (ids.length < seqlen) {
    throw new RangeError(
      `Cannot sample calibration windows of ${seqlen} tokens: the text has only ${ids.length} tokens`,
    );
  }
  const rng = createRng(seed);
  const starts = ids.length - seqlen + 1; // start positions 0 .. ids.length - seqlen
  const windows: Int32Array[] = [];
  for (let i = 0; i < nsamples; i++) {
    const start = rng.int(starts);
    windows.push(ids.slice(start, start + seqlen));
  }
  return windows;
}
