/**
 * The llama2.c tokenizer (Karpathy, github.com/karpathy/llama2.c, `run.c` `encode`/`decode`): a
 * SentencePiece-style BPE vocabulary stored as `tokenizer.bin`.
 *
 * File format (little-endian): int32 `max_token_length`, then for every token float32 `score`,
 * int32 `len`, `len` raw bytes. Ids 0, 1, 2 are `<unk>`, BOS, EOS; ids 3..258 are the byte fallbacks
 * `<0x00>`..`<0xFF>`.
 *
 * Encoding, exactly as `run.c`: optional BOS; if the text is not empty a dummy-prefix `" "` token;
 * one token per UTF-8 character (its leading byte plus up to 3 continuation bytes), or, when that
 * character is not in the vocabulary, one byte-fallback token `byte + 3` per byte; then, repeatedly,
 * merge the adjacent pair whose concatenated string is a vocabulary token with the highest score
 * (the first such pair on ties) until no pair merges; optional EOS.
 *
 * Why {@link encode} may split the text (and still equal {@link encodeReference} exactly):
 * call a "split point" a position where a space follows a non-space byte. The token left of a split
 * point ends with a non-space byte (a text piece ending in that character, or a byte-fallback
 * string ending in ">"), and the token right of it starts with `" "` (the space is its own vocabulary
 * token). So every candidate pair across the split point contains "non-space, space". When NO
 * vocabulary token contains that pattern (checked when the file is read: `splitSafe`), no candidate
 * across a split point is ever in the vocabulary. Merges on either side then never interact: the
 * globally best pair always lies in one segment and is that segment's own best (first on ties), so
 * each segment goes through exactly the merges it would go through alone. Hence encoding the
 * segments independently and concatenating gives the same ids, and equal segments (repeated words)
 * can be cached. The same argument covers BOS ("\n<s>\n", ends in a non-space) before the dummy
 * prefix. Without `splitSafe` we run the literal quadratic loop over the whole text.
 *
 * @module
 */
import { copyBytes } from "./bytes.ts";

/** A llama2.c tokenizer read from `tokenizer.bin`. Treat as read-only. */
export interface Tokenizer {
  /** The longest token in bytes, as stored in the file. */
  maxTokenLength: number;
  /** Token strings as raw bytes, by id. */
  pieces: Uint8Array[];
  /** Merge scores, by id (higher merges first). */
  scores: Float32Array;
  /** Token string (one JS char per byte) -> id; on duplicate strings the lowest id. */
  idOf: Map<string, number>;
  /** True when no token contains a space after a non-space byte and `" "` is a token (see module doc). */
  splitSafe: boolean;
}

/** Id of the BOS token. */
export const BOS_ID = 1;
/** Id of the EOS token. */
export const EOS_ID = 2;
const BYTE_FALLBACK_OFFSET = 3;
const SPACE = 0x20;

/** One JS char per byte ("binary string"): exact byte concatenation and Map keys. */
function bytesToBinary(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

function hasSpaceAfterNonSpace(b: Uint8Array): boolean {
  for (let i = 1; i < b.length; i++) if (b[i] === SPACE && b[i - 1] !== SPACE) return true;
  return false;
}

/**
 * Reads a llama2.c `tokenizer.bin`.
 *
 * @param bytes The whole file. Not modified.
 * @returns The tokenizer (every token up to the end of the file).
 * @throws {TypeError} If `bytes` is not a Uint8Array.
 * @throws {RangeError} If the file is truncated (inside a header or a token), `max_token_length` is
 *   not positive, or a token length is negative or larger than `max_token_length`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTokenizer } from "./tokenizer.ts";
 * const file = new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x61]); // max 2; "a" score 0
 * const tok = readTokenizer(file);
 * assert.equal(tok.idOf.get("a"), 0);
 * assert.throws(() => readTokenizer(file.subarray(0, 12)), RangeError);
 * ```
 */
export function readTokenizer(bytes: Uint8Array): Tokenizer {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`Cannot read tokenizer: expected a Uint8Array, got ${typeof bytes}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) {
    throw new RangeError(`Cannot read tokenizer: ${bytes.length} bytes, need a 4-byte header`);
  }
  const maxTokenLength = view.getInt32(0, true);
  if (maxTokenLength <= 0) {
    throw new RangeError(
      `Cannot read tokenizer: max_token_length must be positive, got ${maxTokenLength}`,
    );
  }
  const pieces: Uint8Array[] = [], scoreList: number[] = [];
  let offset = 4;
  while (offset < bytes.length) {
    const id = pieces.length;
    if (offset + 8 > bytes.length) {
      throw new RangeError(
        `Cannot read tokenizer: truncated header of token ${id} at byte ${offset}`,
      );
    }
    const len = view.getInt32(offset + 4, true);
    if (len < 0 || len > maxTokenLength) {
      throw new RangeError(
        `Cannot read tokenizer: token ${id} has length ${len}, expected 0..${maxTokenLength} (max_token_length)`,
      );
    }
    if (offset + 8 + len > bytes.length) {
      throw new RangeError(
        `Cannot read tokenizer: token ${id} of ${len} bytes runs past the end (${bytes.length})`,
      );
    }
    scoreList.push(view.getFloat32(offset, true));
    pieces.push(copyBytes(bytes, offset + 8, offset + 8 + len));
    offset += 8 + len;
  }
  const idOf = new Map<string, number>();
  pieces.forEach((p, id) => {
    const key = bytesToBinary(p);
    if (!idOf.has(key)) idOf.set(key, id);
  });
  const splitSafe = idOf.has(" ") && !pieces.some(hasSpaceAfterNonSpace);
  return { maxTokenLength, pieces, scores: Float32Array.from(scoreList), idOf, splitSafe };
}

/** run.c's byte fallback: byte `b` is token `b + 3`. */
function fallbackId(tok: Tokenizer, byte: number): number {
  if (byte + BYTE_FALLBACK_OFFSET >= tok.pieces.length) {
    throw new RangeError(
      `Cannot encode byte ${byte}: no byte-fallback token in a vocabulary of ${tok.pieces.length}`,
    );
  }
  return byte + BYTE_FALLBACK_OFFSET;
}

/** One token per UTF-8 character, byte fallback `byte + 3` (run.c's first pass). */
function characterTokens(tok: Tokenizer, text: string): number[] {
  const ids: number[] = [];
  for (let i = 0; i < text.length;) {
    let end = i + 1; // a leading byte plus at most 3 continuation bytes (0b10xxxxxx)
    while (end < text.length && end - i < 4 && (text.charCodeAt(end) & 0xc0) === 0x80) end++;
    const id = tok.idOf.get(text.slice(i, end));
    if (id !== undefined) ids.push(id);
    else for (let j = i; j < end; j++) ids.push(fallbackId(tok, text.charCodeAt(j)));
    i = end;
  }
  return ids;
}

/** run.c's merge loop: merge the best-scoring adjacent pair (first on ties) until none merges. */
function mergePairs(tok: Tokenizer, ids: number[]): number[] {
  const strings = ids.map((id) => bytesToBinary(tok.pieces[id]));
  for (;;) {
    let bestScore = -1e10, bestIndex = -1, bestId = -1;
    for (let i = 0; i + 1 < ids.length; i++) {
      const id = tok.idOf.get(strings[i] + strings[i + 1]);
      if (id !== undefined && tok.scores[id] > bestScore) {
        bestScore = tok.scores[id];
        bestIndex = i;
        bestId = id;
      }
    }
    if (bestIndex < 0) return ids;
    ids.splice(bestIndex, 2, bestId);
    strings.splice(bestIndex, 2, strings[bestIndex] + strings[bestIndex + 1]);
  }
}

/**
 * The merge table: for every token `t` and every way to cut its string into two vocabulary
 * tokens `a + b`, the pair `(a, b)` maps to `t` (ids as `idOf` returns them; `canon[id]` is that id
 * for any id's string). {@link mergePairs} asks `idOf.get(str(a) + str(b))`, which is this table's
 * entry for `(canon[a], canon[b])`; asking with integers instead of concatenated strings makes
 * {@link encode} allocate no strings while it merges. Built once per tokenizer.
 */
interface MergeTable {
  canon: Int32Array;
  pairs: Map<number, number>;
}
const MERGE_TABLES = new WeakMap<Tokenizer, MergeTable>();

function mergeTable(tok: Tokenizer): MergeTable {
  let table = MERGE_TABLES.get(tok);
  if (table !== undefined) return table;
  const vocab = tok.pieces.length, canon = new Int32Array(vocab), pairs = new Map<number, number>();
  tok.pieces.forEach((piece, id) => {
    const str = bytesToBinary(piece), target = tok.idOf.get(str)!;
    canon[id] = target;
    for (let cut = 1; cut < str.length; cut++) {
      const a = tok.idOf.get(str.slice(0, cut)), b = tok.idOf.get(str.slice(cut));
      if (a !== undefined && b !== undefined) pairs.set(a * vocab + b, target);
    }
  });
  MERGE_TABLES.set(tok, table = { canon, pairs });
  return table;
}

/** {@link mergePairs} through the {@link MergeTable}: the same merges, without strings. */
function mergePairIds(tok: Tokenizer, ids: number[]): number[] {
  const { canon, pairs } = mergeTable(tok), vocab = tok.pieces.length;
  for (;;) {
    let bestScore = -1e10, bestIndex = -1, bestId = -1;
    for (let i = 0; i + 1 < ids.length; i++) {
      const id = pairs.get(canon[ids[i]] * vocab + canon[ids[i + 1]]);
      if (id !== undefined && tok.scores[id] > bestScore) {
        bestScore = tok.scores[id];
        bestIndex = i;
        bestId = id;
      }
    }
    if (bestIndex < 0) return ids;
    ids.splice(bestIndex, 2, bestId);
  }
}

/** Options of {@link encode}. */
export interface EncodeOptions {
  /** Prepend BOS (id 1). */
  bos: boolean;
  /** Append EOS (id 2). */
  eos: boolean;
}

function utf8Binary(text: string): string {
  if (typeof text !== "string") {
    throw new TypeError(`Cannot encode: expected a string, got ${typeof text}`);
  }
  return bytesToBinary(new TextEncoder().encode(text));
}

function withSpecials(body: number[], { bos, eos }: EncodeOptions): Int32Array {
  return Int32Array.from([...(bos ? [BOS_ID] : []), ...body, ...(eos ? [EOS_ID] : [])]);
}

/**
 * Encodes text literally as llama2.c's `run.c` does: one merge loop over the whole text (quadratic
 * in its length). The correctness reference for {@link encode}.
 *
 * @param tok The tokenizer.
 * @param text The text (encoded to UTF-8).
 * @param options Whether to add BOS and EOS.
 * @returns The token ids.
 * @throws {TypeError} If `text` is not a string.
 * @throws {RangeError} If a character is not in the vocabulary and its byte-fallback id is not either.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeReference, readTokenizer } from "./tokenizer.ts";
 * const s = (t: string) => [0, 0, 0, 0, t.length, 0, 0, 0, ...new TextEncoder().encode(t)];
 * const tok = readTokenizer(new Uint8Array([5, 0, 0, 0, ...s("<unk>"), ...s("<s>"), ...s("</s>"), ...s(" "), ...s("a")]));
 * assert.deepEqual(Array.from(encodeReference(tok, "aa", { bos: true, eos: true })), [1, 3, 4, 4, 2]);
 * assert.deepEqual(Array.from(encodeReference(tok, "", { bos: true, eos: false })), [1]); // no dummy prefix
 * ```
 */
export function encodeReference(tok: Tokenizer, text: string, options: EncodeOptions): Int32Array {
  const bin = utf8Binary(text);
  if (bin.length === 0) return withSpecials([], options);
  return withSpecials(mergePairs(tok, characterTokens(tok, " " + bin)), options);
}

/**
 * Encodes text exactly like {@link encodeReference}, fast: when `tok.splitSafe`, the text is cut where
 * a space follows a non-space, the segments are encoded independently, and repeated segments come
 * from a cache (why this is identical: see the module doc).
 *
 * @param tok The tokenizer.
 * @param text The text (encoded to UTF-8).
 * @param options Whether to add BOS and EOS.
 * @returns The token ids.
 * @throws {TypeError} If `text` is not a string.
 * @throws {RangeError} If a character is not in the vocabulary and its byte-fallback id is not either.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decode, encode, readTokenizer } from "./tokenizer.ts";
 * // vocabulary: <unk>, BOS, EOS, then " ", "a", " a" (higher score merges first)
 * const entries: [number, string][] = [[0, "<unk>"], [0, "<s>"], [0, "</s>"], [0, " "], [0, "a"], [1, " a"]];
 * const parts = entries.flatMap(([score, s]) => [
 *   ...new Uint8Array(new Float32Array([score]).buffer), ...new Uint8Array(new Int32Array([s.length]).buffer),
 *   ...new TextEncoder().encode(s)]);
 * const tok = readTokenizer(new Uint8Array([5, 0, 0, 0, ...parts]));
 * const ids = encode(tok, "a a", { bos: true, eos: false });
 * assert.deepEqual(Array.from(ids), [1, 5, 5]); // BOS, " a" (dummy prefix merged), " a"
 * assert.equal(decode(tok, ids), "a a");
 * ```
 */
export function encode(tok: Tokenizer, text: string, options: EncodeOptions): Int32Array {
  const encoder = encoderStream(tok, options);
  encoder.push(text);
  return encoder.finish();
}

/** An encoder fed a text in pieces: see {@link encoderStream}. */
export interface EncoderStream {
  /** Appends the next piece of the text. */
  push(text: string): void;
  /** Ends the text and returns its ids (then the stream may not be used again). */
  finish(): Int32Array;
}

/**
 * {@link encode} for a text that arrives in pieces (a corpus document by document): `push` the
 * pieces in order, then `finish` returns exactly `encode(tok, pieces.join(""), options)`. With a
 * split-safe vocabulary (module doc) each push encodes every segment completed so far and keeps
 * only the text after the last split point, so the whole text never needs to be in memory as one
 * string (memory: docs/memory.md). Without `splitSafe` the pieces are kept and encoded literally
 * at `finish`.
 *
 * @param tok The tokenizer.
 * @param options Whether to add BOS and EOS.
 * @returns The stream.
 * @throws {TypeError} (from `push`) If a piece is not a string.
 * @throws {RangeError} As {@link encode}; `push` and `finish` throw when used after `finish`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encode, encoderStream, readTokenizer } from "./tokenizer.ts";
 * const entries: [number, string][] = [[0, "<unk>"], [0, "<s>"], [0, "</s>"], [0, " "], [0, "a"], [1, " a"]];
 * const parts = entries.flatMap(([score, s]) => [
 *   ...new Uint8Array(new Float32Array([score]).buffer), ...new Uint8Array(new Int32Array([s.length]).buffer),
 *   ...new TextEncoder().encode(s)]);
 * const tok = readTokenizer(new Uint8Array([5, 0, 0, 0, ...parts]));
 * const stream = encoderStream(tok, { bos: true, eos: false });
 * for (const piece of ["a", " a", "a", " "]) stream.push(piece);
 * assert.deepEqual(stream.finish(), encode(tok, "a aa ", { bos: true, eos: false }));
 * ```
 */
export function encoderStream(tok: Tokenizer, options: EncodeOptions): EncoderStream {
  // Few allocations per segment: ids go to growable Int32Arrays, a segment's merged ids are cached
  // once in `store` as [count, ...ids], keyed by the segment.
  const out = new IdList(), store = new IdList();
  const cache = new Map<string, number>(); // segment -> its [count, ...ids] offset in store
  const literal: string[] | undefined = tok.splitSafe ? undefined : [];
  let started = false; // whether a byte has arrived (the dummy prefix goes before the first)
  let pending = ""; // the bytes (one char each) after the last split point
  let carry = ""; // a high surrogate that ended the last piece: its pair may start the next one
  let finished = false;
  if (options.bos) out.push(BOS_ID);

  const emit = (segment: string) => {
    let at = cache.get(segment);
    if (at === undefined) {
      const ids = mergePairIds(tok, segmentTokens(tok, segment, 0, segment.length));
      at = store.length;
      store.push(ids.length);
      for (const id of ids) store.push(id);
      cache.set(segment, at);
    }
    out.append(store.data, at + 1, at + 1 + store.data[at]);
  };
  /** Appends bytes and encodes every segment they complete; the last one stays pending. */
  const feed = (bin: string) => {
    if (bin.length === 0) return;
    // the dummy prefix: " " is a token (splitSafe), so this is run.c's first token
    pending = started ? pending + bin : " " + bin;
    started = true;
    let start = 0;
    for (let i = 1; i < pending.length; i++) { // split points: a space after a non-space
      if (pending.charCodeAt(i) === SPACE && pending.charCodeAt(i - 1) !== SPACE) {
        emit(pending.slice(start, i));
        start = i;
      }
    }
    pending = pending.slice(start);
  };
  const checkOpen = () => {
    if (finished) throw new RangeError("Cannot encode: the encoder stream is already finished");
  };
  return {
    push(text: string) {
      checkOpen();
      if (typeof text !== "string") {
        throw new TypeError(`Cannot encode: expected a string, got ${typeof text}`);
      }
      if (literal !== undefined) return void literal.push(text);
      let piece = carry + text; // carry is usually ""
      carry = "";
      if (endsInHighSurrogate(piece)) [piece, carry] = [piece.slice(0, -1), piece.slice(-1)];
      feed(utf8Binary(piece));
    },
    finish() {
      checkOpen();
      finished = true;
      if (literal !== undefined) return encodeReference(tok, literal.join(""), options);
      feed(utf8Binary(carry)); // a lone high surrogate: U+FFFD, as TextEncoder encodes it
      if (pending.length > 0) emit(pending); // the last segment ends with the text
      if (options.eos) out.push(EOS_ID);
      return out.take();
    },
  };
}

function endsInHighSurrogate(text: string): boolean {
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff;
}

/** Ids as a growable Int32Array (capacity doubles): no number[] and no spread copies. */
class IdList {
  data: Int32Array = new Int32Array(1024);
  length = 0;
  push(id: number): void {
    if (this.length === this.data.length) this.grow(1);
    this.data[this.length++] = id;
  }
  /** Appends `src[from..to)`. */
  append(src: Int32Array, from: number, to: number): void {
    if (this.length + to - from > this.data.length) this.grow(to - from);
    this.data.set(src.subarray(from, to), this.length);
    this.length += to - from;
  }
  /** The ids, exactly `length` of them (the list must not be used afterwards). */
  take(): Int32Array {
    return resized(this.data, this.length);
  }
  private grow(extra: number): void {
    this.data = resized(this.data, Math.max(2 * this.data.length, this.length + extra));
  }
}

/**
 * `data`'s first values in an array of `length` (zeros after them). With ES2024's
 * `ArrayBuffer.prototype.transfer` the old memory is released at once, not at the next garbage
 * collection (megabytes for a corpus' ids); `data` is then detached and must not be used.
 */
function resized(data: Int32Array, length: number): Int32Array {
  const buffer = data.buffer as { transfer?: (bytes: number) => ArrayBuffer };
  if (typeof buffer.transfer === "function" && data.byteOffset === 0) {
    return new Int32Array(buffer.transfer(length * Int32Array.BYTES_PER_ELEMENT));
  }
  const out = new Int32Array(length);
  out.set(data.subarray(0, Math.min(length, data.length)));
  return out;
}

/** Id of each single-byte string (-1: not a token), built once per tokenizer. */
const BYTE_IDS = new WeakMap<Tokenizer, Int32Array>();

function byteIds(tok: Tokenizer): Int32Array {
  let table = BYTE_IDS.get(tok);
  if (table === undefined) {
    table = new Int32Array(256).map((_, b) => tok.idOf.get(String.fromCharCode(b)) ?? -1);
    BYTE_IDS.set(tok, table);
  }
  return table;
}

/** {@link characterTokens} of `text[start..end)`, slicing only multi-byte characters. */
function segmentTokens(tok: Tokenizer, text: string, start: number, end: number): number[] {
  const single = byteIds(tok), ids: number[] = [];
  for (let i = start; i < end;) {
    let stop = i + 1; // a leading byte plus at most 3 continuation bytes (0b10xxxxxx)
    while (stop < end && stop - i < 4 && (text.charCodeAt(stop) & 0xc0) === 0x80) stop++;
    const id = stop === i + 1 ? single[text.charCodeAt(i)] : tok.idOf.get(text.slice(i, stop));
    if (id !== undefined && id >= 0) ids.push(id);
    else for (let j = i; j < stop; j++) ids.push(fallbackId(tok, text.charCodeAt(j)));
    i = stop;
  }
  return ids;
}

/**
 * Decodes ids to text as llama2.c's `run.c` prints them: BOS and EOS print nothing, the leading space
 * of the token right after BOS is dropped, `<0xXX>` tokens are the raw byte; the bytes are then read
 * as UTF-8 (invalid sequences become U+FFFD).
 *
 * @param tok The tokenizer.
 * @param ids Token ids.
 * @returns The text.
 * @throws {RangeError} If an id is not an integer in `[0, vocab)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decode, readTokenizer } from "./tokenizer.ts";
 * const s = (t: string) => [0, 0, 0, 0, t.length, 0, 0, 0, ...new TextEncoder().encode(t)];
 * const tok = readTokenizer(new Uint8Array([6, 0, 0, 0, ...s("<unk>"), ...s("<s>"), ...s("</s>"), ...s("<0x41>"), ...s(" hi")]));
 * assert.equal(decode(tok, [1, 4, 3, 2]), "hiA");
 * assert.throws(() => decode(tok, [5]), RangeError);
 * ```
 */
export function decode(tok: Tokenizer, ids: ArrayLike<number>): string {
  const out: number[] = [];
  let previous = -1;
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n];
    if (!Number.isInteger(id) || id < 0 || id >= tok.pieces.length) {
      throw new RangeError(
        `Cannot decode: id ${id} at index ${n} is outside [0, ${tok.pieces.length})`,
      );
    }
    const piece = tok.pieces[id];
    if (id !== BOS_ID && id !== EOS_ID) {
      const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(bytesToBinary(piece));
      if (byte) out.push(parseInt(byte[1], 16));
      else {for (let i = previous === BOS_ID && piece[0] === SPACE ? 1 : 0; i < piece.length; i++) {
          out.push(piece[i]);
        }}
    }
    previous = id;
  }
  return new TextDecoder().decode(new Uint8Array(out));
}
