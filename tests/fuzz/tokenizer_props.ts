/**
 * Fuzz targets for the llama2.c tokenizer reader (`src/io/tokenizer.ts`).
 *
 * `tokenizer/structured` writes `tokenizer.bin` files from a list of tokens, then breaks them:
 * `max_token_length` zero, negative or too small; a token length negative, over the maximum or past
 * the end; NaN and infinite scores; truncation; trailing bytes. `tokenizer/mutated` damages valid
 * files, the real tok512.bin among them.
 *
 * A parse must account for every byte (re-serialising the tokens gives the file back), keep the
 * lowest id for repeated strings, and encode text identically with the fast and the literal
 * encoder (or make both throw the same typed error); decoding the ids must not throw.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decode,
  encode,
  encodeReference,
  readTokenizer,
  type Tokenizer,
} from "../../src/io/tokenizer.ts";
import { describeError, type FuzzTarget, isTypedError } from "./outcome.ts";
import {
  assertSameBytes,
  mutatedFileArb,
  type MutatedInput,
  sameFloat,
  showMutated,
} from "./mutate.ts";
import { rarely } from "./safetensors_props.ts";

const pieceArb = fc.oneof(
  fc.constantFrom(" ", "a", "b", "ab", " a", "a ", "  ", "<0x41>", "é", "\u{1F600}").map((s) =>
    new TextEncoder().encode(s)
  ),
  fc.uint8Array({ maxLength: 6 }),
);

const tokenizerArb = fc.record({
  maxLength: fc.oneof(
    { weight: 6, arbitrary: fc.constant(null) }, // the true maximum
    { weight: 1, arbitrary: fc.constantFrom(0, -1, 1, 3, 0x7fffffff, -0x80000000) },
  ),
  tokens: fc.array(
    fc.record({
      score: fc.oneof(
        fc.float({ noDefaultInfinity: false }),
        fc.constantFrom(0, 1, -1, Number.NaN, Infinity),
      ),
      piece: pieceArb,
      lengthOverride: rarely(fc.constantFrom(-1, -0x80000000, 7, 1000, 0x7fffffff), 12),
    }),
    { maxLength: 12 },
  ),
  cut: rarely(fc.nat(), 6),
  trailing: rarely(fc.uint8Array({ minLength: 1, maxLength: 7 }), 8),
  text: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("", " ", "ab ab  a", "a\u{1F600}é")),
});

type TokenizerModel = typeof tokenizerArb extends fc.Arbitrary<infer T> ? T : never;

/** Serialises tokens in the llama2.c format (what `export.py` writes). */
export function writeTokenizerFile(
  maxLength: number,
  tokens: { score: number; piece: Uint8Array; lengthOverride?: number | null }[],
): Uint8Array {
  const size = 4 + tokens.reduce((n, t) => n + 8 + t.piece.length, 0);
  const out = new Uint8Array(size), view = new DataView(out.buffer);
  view.setInt32(0, maxLength, true);
  let at = 4;
  for (const t of tokens) {
    view.setFloat32(at, t.score, true);
    view.setInt32(at + 4, t.lengthOverride ?? t.piece.length, true);
    out.set(t.piece, at + 8);
    at += 8 + t.piece.length;
  }
  return out;
}

/** Builds the file bytes of a model. */
export function buildTokenizer(m: TokenizerModel): Uint8Array {
  const longest = m.tokens.reduce((n, t) => Math.max(n, t.piece.length), 1);
  const bytes = writeTokenizerFile(m.maxLength ?? longest, m.tokens);
  const cut = m.cut === null ? bytes : bytes.subarray(0, m.cut % (bytes.length + 1));
  return m.trailing === null ? cut : Uint8Array.from([...cut, ...m.trailing]);
}

/** The ids, or the typed error, of one encoder run. */
function encodeOutcome(run: () => Int32Array): Int32Array | string {
  try {
    return run();
  } catch (e) {
    if (!isTypedError(e)) throw new Error(`encoder threw ${describeError(e)}`);
    return describeError(e);
  }
}

/** Every byte accounted for; fast and literal encoders agree; decode accepts their ids. */
export function checkTokenizer(bytes: Uint8Array, tok: Tokenizer, text: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(tok.maxTokenLength, view.getInt32(0, true));
  assert.equal(tok.scores.length, tok.pieces.length);
  assert.ok(tok.pieces.every((p) => p.length <= tok.maxTokenLength));
  const again = writeTokenizerFile(
    tok.maxTokenLength,
    tok.pieces.map((piece, i) => ({ score: tok.scores[i], piece })),
  );
  assert.equal(again.length, bytes.length, "every byte read");
  for (let at = 4, i = 0; at < bytes.length; at += 8 + tok.pieces[i].length, i++) {
    assert.ok(sameFloat(tok.scores[i], view.getFloat32(at, true)), `score ${i}`);
    const end = at + 8 + tok.pieces[i].length;
    assertSameBytes(again.subarray(at + 4, end), bytes.subarray(at + 4, end), `token ${i}`);
  }
  for (const [key, id] of tok.idOf) {
    const first = tok.pieces.findIndex((p) =>
      p.length === key.length && p.every((b, j) => b === key.charCodeAt(j))
    );
    assert.equal(id, first, "idOf keeps the lowest id");
  }
  for (const options of [{ bos: true, eos: false }, { bos: false, eos: true }]) {
    const fast = encodeOutcome(() => encode(tok, text, options));
    const literal = encodeOutcome(() => encodeReference(tok, text, options));
    assert.deepEqual(fast, literal, "encode equals encodeReference");
    if (typeof fast !== "string") {
      assert.ok(fast.every((id) => id >= 0 && id < Math.max(3, tok.pieces.length)));
      if (fast.every((id) => id < tok.pieces.length)) {
        assert.equal(typeof decode(tok, fast), "string");
      } else assert.throws(() => decode(tok, fast), RangeError); // BOS/EOS ids beyond a tiny vocabulary
    }
  }
}

/** `tokenizer/structured`: token files with hostile lengths, scores and sizes. */
export const tokenizerStructured: FuzzTarget<TokenizerModel, Tokenizer> = {
  name: "tokenizer/structured",
  parser: "tokenizer",
  arbitrary: tokenizerArb,
  parse: (m) => readTokenizer(buildTokenizer(m)),
  check: (m, tok) => checkTokenizer(buildTokenizer(m), tok, m.text),
};

/** A small valid vocabulary: specials, byte fallbacks for ASCII, a few merges. */
export function validTokenizerFiles(): Uint8Array[] {
  const enc = (s: string) => new TextEncoder().encode(s);
  const pieces = ["<unk>", "\n<s>\n", "\n</s>\n"].map(enc);
  for (let b = 0; b < 128; b++) {
    pieces.push(enc(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`));
  }
  pieces.push(...[" ", "a", "b", " a", "ab", " ab"].map(enc));
  return [writeTokenizerFile(6, pieces.map((piece, i) => ({ score: i > 130 ? i : 0, piece })))];
}

/** `tokenizer/mutated`: valid tokenizer files (one built here, plus `extra`) damaged. */
export function tokenizerMutated(
  extra: Uint8Array[] = [],
): FuzzTarget<MutatedInput & { text: string }, Tokenizer> {
  const texts = fc.oneof(
    fc.string({ maxLength: 16 }),
    fc.constantFrom("Once upon a time", "ab a b"),
  );
  return {
    name: "tokenizer/mutated",
    parser: "tokenizer",
    arbitrary: fc.tuple(mutatedFileArb([...validTokenizerFiles(), ...extra], 64), texts)
      .map(([input, text]) => ({ ...input, text })),
    parse: (input) => readTokenizer(input.bytes),
    check: (input, tok) => checkTokenizer(input.bytes, tok, input.text),
    show: (input) => `${showMutated(input)}; text ${JSON.stringify(input.text)}`,
  };
}
