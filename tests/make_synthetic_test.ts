import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "../scripts/make-synthetic.ts";
import { parseHfLlamaConfig } from "../src/io/hf_llama_config.ts";
import { hfLlamaTensorSpecs } from "../src/io/hf_llama.ts";
import { readSafetensors } from "../src/io/safetensors.ts";
import { SYNTHETIC_SHAPES, syntheticTensor } from "../src/model/synthetic.ts";
import { float32ToBf16 } from "../src/io/half.ts";
import { capture } from "./lib/capture.ts";
import { readLlama2c } from "../src/io/llama2c.ts";

Deno.test("make-synthetic writes an HF folder: config of the shape, two BF16 shards that the index maps, every tensor regenerable", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "secateur-synthetic-" });
  try {
    const io = capture();
    assert.equal(await main(["--shape", "tiny-test", "--out", dir, "--seed", "3"], io), 0, io.err);
    const shape = SYNTHETIC_SHAPES["tiny-test"];
    assert.deepEqual(parseHfLlamaConfig(readFileSync(join(dir, "config.json"), "utf8")), shape);
    const index = JSON.parse(readFileSync(join(dir, "model.safetensors.index.json"), "utf8"));
    const specs = hfLlamaTensorSpecs(shape);
    assert.deepEqual(Object.keys(index.weight_map), specs.map((s) => s.name));
    const shards = [...new Set(Object.values(index.weight_map) as string[])];
    assert.deepEqual(shards, [
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
    ]);
    let total = 0;
    for (const shard of shards) {
      const file = readSafetensors(new Uint8Array(readFileSync(join(dir, shard))));
      for (const [i, spec] of specs.entries()) {
        if (index.weight_map[spec.name] !== shard) continue;
        const t = file.info(spec.name);
        assert.equal(t.dtype, "BF16");
        assert.deepEqual(t.shape, spec.shape);
        const raw = file.raw(spec.name);
        total += raw.length;
        const expected = float32ToBf16(syntheticTensor(spec.shape, 3 * 1000 + i));
        assert.deepEqual(raw, new Uint8Array(expected.buffer), spec.name);
      }
    }
    assert.equal(index.metadata.total_size, total);
    assert.ok(readFileSync(join(dir, "tokenizer.json")).length > 1000);
    assert.equal(await main(["--shape", "tiny-test", "--out", dir], capture()), 2); // exists, no --force
    assert.equal(await main(["--shape", "gpt-5", "--out", dir], capture()), 2);
    // the same model as one llama2.c file
    const bin = join(dir, "tiny.bin");
    assert.equal(
      await main(["--shape", "tiny-test", "--llama2c", bin, "--seed", "3"], capture()),
      0,
    );
    const w = readLlama2c(new Uint8Array(readFileSync(bin)));
    assert.deepEqual(w.config, { ...shape, normEps: w.config.normEps });
    const raw = (name: string, file: string) =>
      readSafetensors(new Uint8Array(readFileSync(join(dir, file)))).float32(name);
    const wv = index.weight_map["model.layers.1.self_attn.v_proj.weight"];
    assert.deepEqual(w.blocks[1].wv.data, raw("model.layers.1.self_attn.v_proj.weight", wv));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
