import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INDEX_FILE, memoryFolder, openHfFolder } from "../src/io/hf_folder.ts";
import { createHfWriter, memorySink } from "../src/io/hf_write.ts";
import { llamaToHf } from "../src/io/hf_llama.ts";
import { readLlama2c } from "../src/io/llama2c.ts";
import { readSafetensors, type SafetensorsEntry, writeSafetensors } from "../src/io/safetensors.ts";
import { folderSink } from "../scripts/lib/hf_files.ts";
import { main as pruneMain } from "../scripts/prune.ts";
import { main as evalMain } from "../scripts/eval.ts";
import { capture } from "./lib/capture.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** A folder's entries split into `parts` shards with an index (tensors sorted by name, as transformers writes them). */
function sharded(
  entries: SafetensorsEntry[],
  parts: number,
  extra: Record<string, Uint8Array>,
): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = { ...extra };
  const weightMap: Record<string, string> = {};
  const sorted = [...entries].sort((a, b) => a.name < b.name ? -1 : 1);
  for (let p = 0; p < parts; p++) {
    const file = `model-0000${p + 1}-of-0000${parts}.safetensors`;
    const mine = sorted.filter((_, i) => Math.floor((i * parts) / sorted.length) === p);
    files[file] = writeSafetensors(mine, { format: "pt" });
    for (const e of mine) weightMap[e.name] = file;
  }
  files[INDEX_FILE] = enc(
    JSON.stringify({ metadata: { total_size: 1 }, weight_map: weightMap }, null, 2),
  );
  return files;
}

/** The qwen2 shared folder's tensors, as entries of raw bytes. */
function qwen2Entries(): SafetensorsEntry[] {
  const file = readSafetensors(
    new Uint8Array(readFileSync("../shared/models/hf/qwen2/model.safetensors")),
  );
  return file.names.map((name) => ({
    name,
    dtype: file.info(name).dtype as "BF16",
    shape: file.info(name).shape,
    data: file.raw(name).slice(),
  }));
}

Deno.test("createHfWriter: a sharded BF16 folder comes back with the same header bytes, index and companions; only the pruned tensors change", async () => {
  const config = new Uint8Array(readFileSync("../shared/models/hf/qwen2/config.json"));
  const files = sharded(qwen2Entries(), 3, {
    "config.json": config,
    "tokenizer.json": new Uint8Array(readFileSync("../shared/models/hf/qwen2/tokenizer.json")),
    "generation_config.json": enc('{"bos_token_id": 0}'),
    "README.md": enc("not copied"),
  });
  const src = memoryFolder(files);
  const input = await openHfFolder(src);
  const pruned = ["model.layers.0.self_attn.q_proj.weight", "model.layers.3.mlp.down_proj.weight"];
  const out: Record<string, Uint8Array> = {};
  const writer = await createHfWriter(input, src, memorySink(out), {
    pruned,
    record: { method: "magnitude", sparsity: 0.5 },
  });
  const expected = new Map<string, { values: Float32Array; mask: Uint8Array }>();
  for (const name of pruned) {
    const values = await input.tensors.float32(name);
    // zero every other weight, as a pruning method would
    const mask = Uint8Array.from(values, (_, i) => i % 2);
    const kept = values.map((v, i) => mask[i] ? v : 0);
    expected.set(name, { values: kept, mask });
  }
  await writer.put(pruned[1], expected.get(pruned[1])!.values, expected.get(pruned[1])!.mask);
  await writer.put(pruned[0], expected.get(pruned[0])!.values, expected.get(pruned[0])!.mask);
  await writer.finish();

  assert.deepEqual(
    Object.keys(out).sort(),
    [
      ...input.shards,
      INDEX_FILE,
      "config.json",
      "generation_config.json",
      "masks.safetensors",
      "tokenizer.json",
    ].sort(),
  );
  assert.deepEqual(out[INDEX_FILE], files[INDEX_FILE]);
  assert.deepEqual(out["tokenizer.json"], files["tokenizer.json"]);
  assert.deepEqual(out["generation_config.json"], files["generation_config.json"]);
  const outConfig = JSON.parse(new TextDecoder().decode(out["config.json"]));
  assert.deepEqual(outConfig.secateur, { method: "magnitude", sparsity: 0.5 });
  delete outConfig.secateur;
  assert.deepEqual(outConfig, JSON.parse(new TextDecoder().decode(config)));
  const back = await openHfFolder(memoryFolder(out));
  for (const shard of input.shards) {
    assert.equal(out[shard].length, files[shard].length, shard);
    const headerEnd = 8 + Number(new DataView(files[shard].buffer).getBigUint64(0, true));
    assert.deepEqual(out[shard].subarray(0, headerEnd), files[shard].subarray(0, headerEnd), shard);
  }
  let changed = 0;
  for (const name of input.tensors.names) {
    const raw = await back.tensors.raw(name), before = await input.tensors.raw(name);
    if (!pruned.includes(name)) {
      assert.deepEqual(raw, before, name);
      continue;
    }
    assert.deepEqual(await back.tensors.float32(name), expected.get(name)!.values, name);
    // zeroing only: every kept weight is its input bytes (BF16 widened and narrowed exactly)
    const mask = expected.get(name)!.mask;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i]) assert.ok(raw[2 * i] === before[2 * i] && raw[2 * i + 1] === before[2 * i + 1]);
      else changed += before[2 * i] !== 0 || (before[2 * i + 1] & 0x7f) !== 0 ? 1 : 0;
    }
  }
  assert.ok(changed > 0);
  const masks = readSafetensors(out["masks.safetensors"]);
  assert.deepEqual(masks.names, pruned);
  assert.deepEqual(masks.raw(pruned[0]), expected.get(pruned[0])!.mask);
  assert.equal(masks.metadata.secateur_mask, "1 = keep, 0 = pruned");
});

Deno.test("createHfWriter: wrong puts and a missing tensor are refused, and nothing is committed", async () => {
  const files = {
    "config.json": enc("{}"),
    "model.safetensors": writeSafetensors([{
      name: "w",
      dtype: "F16",
      shape: [2, 2],
      data: new Float32Array(4),
    }]),
  };
  const src = memoryFolder(files);
  const input = await openHfFolder(src);
  await assert.rejects(
    () => createHfWriter(input, src, memorySink({}), { pruned: ["v"], record: {} }),
    /no tensor named "v"/,
  );
  const out: Record<string, Uint8Array> = {};
  const writer = await createHfWriter(input, src, memorySink(out), { pruned: ["w"], record: {} });
  await assert.rejects(
    () => writer.put("x", new Float32Array(4), new Uint8Array(4)),
    /not among the pruned/,
  );
  await assert.rejects(
    () => writer.put("w", new Float32Array(3), new Uint8Array(4)),
    /expected 4 float32 values \[2, 2\], got 3/,
  );
  const again = await createHfWriter(input, src, memorySink(out), { pruned: ["w"], record: {} });
  await assert.rejects(() => again.finish(), /"w" was never written/);
  assert.deepEqual(out, {});
});

Deno.test("prune --out from a sharded F16 HF folder: a pruned copy of it that eval scores as prune did; the input is untouched; --out on the input is refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "secateur-hfout-"));
  try {
    // stories260K as an HF Llama folder in F16, in two shards
    const weights = readLlama2c(
      new Uint8Array(readFileSync("../shared/models/stories260K/stories260K.bin")),
    );
    const hf = llamaToHf(weights, { dtype: "F16" });
    const model = join(dir, "model");
    await mkdir(model);
    const files = sharded(hf.entries, 2, {
      "config.json": enc(JSON.stringify(hf.config)),
      "generation_config.json": enc("{}"),
    });
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(model, name), bytes);
    const small = ["--seqlen", "64", "--eval-tokens", "256", "--workers", "1", "--quiet"];
    const out = join(dir, "pruned");
    const io = capture();
    const code = await pruneMain([
      ...small,
      "--model",
      model,
      "--nsamples",
      "2",
      "--method",
      "wanda",
      "--out",
      out,
    ], io);
    assert.equal(code, 0, io.err);
    const prunedPpl = io.out.match(/^pruned ppl (\S+) ± (\S+)/m)!;
    // the input folder is as it was
    for (const [name, bytes] of Object.entries(files)) {
      assert.deepEqual(new Uint8Array(readFileSync(join(model, name))), bytes, name);
    }
    assert.deepEqual(
      readdirSync(out).sort(),
      [
        "config.json",
        "generation_config.json",
        "masks.safetensors",
        INDEX_FILE,
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
      ].sort(),
    );
    assert.deepEqual(new Uint8Array(readFileSync(join(out, INDEX_FILE))), files[INDEX_FILE]);
    const record = JSON.parse(readFileSync(join(out, "config.json"), "utf8")).secateur;
    assert.equal(record.method, "wanda");
    assert.equal(record.eval.ppl.toFixed(4), prunedPpl[1]);
    // every tensor but the 7 linears of each block is byte-identical
    const input = await openHfFolder(memoryFolder(files));
    const back = await openHfFolder(
      memoryFolder(
        Object.fromEntries(
          readdirSync(out).map((f) => [f, new Uint8Array(readFileSync(join(out, f)))]),
        ),
      ),
    );
    let same = 0;
    for (const name of input.tensors.names) {
      if (/_proj\.weight$/.test(name)) continue;
      assert.deepEqual(await back.tensors.raw(name), await input.tensors.raw(name), name);
      same++;
    }
    assert.equal(same, 2 + 2 * weights.blocks.length);
    // eval reads the pruned folder (sharded, F16) and gives prune's pruned perplexity
    const ev = capture();
    assert.equal(await evalMain([...small, "--model", out], ev), 0, ev.err);
    assert.match(ev.out, new RegExp(`^ppl ${prunedPpl[1]} ± ${prunedPpl[2]} `, "m"));
    // --out into the input folder is refused before any work
    const refused = capture();
    assert.equal(
      await pruneMain([...small, "--model", model, "--out", model, "--force"], refused),
      2,
    );
    assert.match(refused.err, /^error: Cannot write ".*config\.json": it is an input/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("folderSink: refuses an existing file without force and an input; abort leaves nothing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "secateur-sink-"));
  try {
    writeFileSync(join(dir, "a.bin"), "x");
    await assert.rejects(() => folderSink(dir).create("a.bin"), /the file exists; pass --force/);
    await assert.rejects(
      () => folderSink(dir, { force: true, inputs: [join(dir, "a.bin")] }).create("a.bin"),
      /it is an input/,
    );
    const sink = folderSink(dir, { force: true });
    await (await sink.create("b.bin")).write(0, new Uint8Array([1]));
    await sink.abort();
    assert.deepEqual(readdirSync(dir), ["a.bin"]);
    await assert.rejects(() => folderSink(dir).create("../c.bin"), /not a plain file name/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
