// Regression: Node/Bun Buffers are Uint8Array subclasses whose slice() is a view of a shared pool.
// The parsers must read them exactly as plain Uint8Arrays.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { readLlama2c } from "../src/io/llama2c.ts";
import { readSafetensors, writeSafetensors } from "../src/io/safetensors.ts";
import { readTokenizer } from "../src/io/tokenizer.ts";

const models = new URL("../../shared/models/", import.meta.url);

Deno.test("parsers read a Node Buffer (pooled, offset view) like a plain Uint8Array", () => {
  const bin = readFileSync(new URL("stories260K/stories260K.bin", models));
  const plain = readLlama2c(new Uint8Array(bin));
  const fromBuffer = readLlama2c(bin);
  assert.equal(fromBuffer.blocks[0].wq.data.length, 64 * 64);
  assert.deepEqual(fromBuffer.blocks[4].w2.data, plain.blocks[4].w2.data);

  const tok = readFileSync(new URL("stories260K/tok512.bin", models));
  assert.deepEqual(readTokenizer(tok).pieces, readTokenizer(new Uint8Array(tok)).pieces);

  const st = writeSafetensors([{
    name: "w",
    dtype: "F32",
    shape: [2, 2],
    data: new Float32Array([1, 2, 3, 4]),
  }]);
  // Buffer.from(string) of a small size lands in Node's shared pool at a non-zero offset
  const pooled = Buffer.concat([Buffer.from("xx"), Buffer.from(st)]).subarray(2);
  assert.ok(pooled.byteOffset > 0 || pooled.buffer.byteLength > pooled.length);
  assert.deepEqual(Array.from(readSafetensors(pooled).float32("w")), [1, 2, 3, 4]);
});
