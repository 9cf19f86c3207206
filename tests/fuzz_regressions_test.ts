/**
 * Regression tests for the parser bugs that fuzzing found (one test per fix, with the input that
 * showed it, reduced by hand).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { readLlama2c, writeLlama2c } from "../src/io/llama2c.ts";
import { readSafetensors, writeSafetensors } from "../src/io/safetensors.ts";
import { readTokenizer } from "../src/io/tokenizer.ts";

/** A legacy checkpoint without RoPE tables: dim 4, hidden 8, 1 layer, 2+2 heads, vocab 3. */
function checkpointWithSeqLen(seqLen: number): Uint8Array {
  const floats = 3 * 4 + (2 * 4 + 4 * 16 + 3 * 32) + 4; // embedding, one block, final norm
  const bytes = new Uint8Array(28 + 4 * floats);
  bytes.set(new Uint8Array(new Int32Array([4, 8, 1, 2, 2, 3, seqLen]).buffer));
  return bytes;
}

Deno.test("writeLlama2c refuses RoPE tables larger than the weights before allocating (seq_len 2^31-1 ran for minutes)", () => {
  // Without RoPE tables the file size does not bound seq_len, so the reader accepts it; the writer
  // used to allocate 17 GB of tables for this 764-byte file and compute 4.3e9 cos/sin.
  const weights = readLlama2c(checkpointWithSeqLen(0x7fffffff));
  assert.equal(weights.config.seqLen, 0x7fffffff);
  assert.throws(() => writeLlama2c(weights), {
    name: "RangeError",
    message:
      "Cannot write llama2.c checkpoint: seq_len 2147483647 makes the RoPE tables 4294967294 floats, more than the 184 floats of weights",
  });
  // At the bound (seq_len * head size = 2 * 92 = 184 floats) it still writes and reads back.
  const atBound = readLlama2c(writeLlama2c(readLlama2c(checkpointWithSeqLen(92))));
  assert.equal(atBound.config.seqLen, 92);
});

Deno.test("readers copy tensors out of a Node Buffer correctly (Buffer.slice is a view: float32 read the whole pool)", () => {
  // Before the fix: readSafetensors(buffer).float32("w") returned 18 garbage floats for 2 values,
  // and readLlama2c(buffer) a token embedding of 191 floats instead of 12.
  const st = writeSafetensors([{
    name: "w",
    dtype: "F32",
    shape: [2],
    data: new Float32Array([1, 2]),
  }]);
  const pooled = Buffer.from(st); // small Buffers live in a shared pool, at byteOffset > 0
  assert.deepEqual(Array.from(readSafetensors(pooled).float32("w")), [1, 2]);

  const bytes = checkpointWithSeqLen(2);
  new Float32Array(bytes.buffer, 28).fill(0.5);
  const w = readLlama2c(Buffer.from(bytes));
  assert.equal(w.tokenEmbedding.data.length, 12);
  assert.deepEqual(Array.from(w.rmsFinal), [0.5, 0.5, 0.5, 0.5]);

  const file = Buffer.from([2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x61]); // max 2; "a" score 0
  const tok = readTokenizer(file);
  file[12] = 0x62; // the caller reuses its buffer: the tokenizer keeps its own copy
  assert.deepEqual(Array.from(tok.pieces[0]), [0x61]);
});
