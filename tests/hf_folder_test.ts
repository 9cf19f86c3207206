import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  checkNoSlidingWindow,
  configDtype,
  configHeadDim,
  type Json,
  parseConfigJson,
  readRopeSettings,
  ropeInverseFrequencies,
} from "../src/io/hf_config.ts";
import { fromFloat32, toFloat32 } from "../src/io/dtype.ts";
import {
  type FolderSource,
  INDEX_FILE,
  memoryFolder,
  openHfFolder,
  parseShardIndex,
} from "../src/io/hf_folder.ts";
import { readSafetensors, writeSafetensors } from "../src/io/safetensors.ts";
import { folderSource } from "../scripts/lib/hf_files.ts";

const HF = "../shared/models/hf";
const MODELS = ["llama2", "llama3", "qwen2", "pythia", "opt"];
const reference = JSON.parse(readFileSync("tests/golden/hf/reference.json", "utf8"));

/** The README's reference table: model -> { dtype, parameters, ppl, ids }. */
function readmeTable(): Map<
  string,
  { dtype: string; parameters: number; ppl: number; ids: number[] }
> {
  const rows = new Map();
  for (const line of readFileSync(`${HF}/README.md`, "utf8").split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 10 || !MODELS.includes(cells[1])) continue;
    if (!/^[0-9.]+$/.test(cells[7])) continue;
    rows.set(cells[1], {
      dtype: cells[3],
      parameters: Number(cells[4].replaceAll(",", "")),
      wikiTokens: Number(cells[6].replaceAll(",", "")),
      ppl: Number(cells[7]),
      ids: JSON.parse(cells[8]),
    });
  }
  return rows;
}

Deno.test("hf goldens: transformers' dense perplexities and ids (tests/golden/hf) agree with the models README", () => {
  const table = readmeTable();
  assert.deepEqual([...table.keys()].sort(), [...MODELS].sort());
  for (const m of MODELS) {
    const row = table.get(m)!, ours = reference.models[m];
    // the README gives 4 decimals: equal to within rounding
    assert.ok(Math.abs(ours.ppl - row.ppl) <= 5e-5, `${m}: ${ours.ppl} vs README ${row.ppl}`);
    assert.equal(ours.wiki_tokens, (row as unknown as { wikiTokens: number }).wikiTokens, m);
    assert.deepEqual(ours.once_upon_a_time_ids, row.ids, m);
    assert.equal(ours.stored_dtype, row.dtype, m);
    assert.equal(ours.parameters, row.parameters, m);
    const logits = readSafetensors(
      new Uint8Array(readFileSync(`tests/golden/hf/logits/${m}.safetensors`)),
    );
    const ids = logits.raw("ids");
    assert.deepEqual(
      Array.from(new Int32Array(ids.slice().buffer)),
      ours.prompt_ids,
      `${m}: the logits file's ids`,
    );
    const vocab = JSON.parse(readFileSync(`${HF}/${m}/config.json`, "utf8")).vocab_size;
    assert.deepEqual(logits.info("logits").shape, [ours.prompt_ids.length, vocab], m);
  }
});

Deno.test("openHfFolder reads the five shared folders: dtype, parameters as transformers counts them, exact widening", async () => {
  const table = readmeTable();
  for (const m of MODELS) {
    const src = folderSource(`${HF}/${m}`);
    try {
      const folder = await openHfFolder(src);
      const expectDtype = { float16: "F16", bfloat16: "BF16", float32: "F32" }[table.get(m)!.dtype];
      assert.equal(folder.dtype, expectDtype, m);
      assert.equal(configDtype(folder.config), expectDtype, m);
      assert.equal(folder.indexed, false);
      assert.deepEqual(folder.shards, ["model.safetensors"]);
      assert.deepEqual(
        folder.companions,
        ["generation_config.json", "tokenizer.json", "tokenizer_config.json"],
      );
      let count = 0;
      for (const name of folder.tensors.names) {
        const info = folder.tensors.info(name);
        count += info.shape.reduce((p, d) => p * d, 1);
        const raw = await folder.tensors.raw(name);
        const values = await folder.tensors.float32(name);
        assert.equal(values.length * (info.dtype === "F32" ? 4 : 2), raw.length, name);
        // widening is exact: narrowing back gives the stored bytes
        assert.deepEqual(fromFloat32(values, info.dtype as "F16"), raw, `${m} ${name}`);
      }
      // tied embeddings are stored once, as transformers counts them
      assert.equal(count, table.get(m)!.parameters, m);
    } finally {
      await src.close();
    }
  }
});

/** The qwen2 folder with its weights split into `parts` shards and an index, in memory. */
async function shardedCopy(parts: number): Promise<Record<string, Uint8Array>> {
  const dir = `${HF}/qwen2`;
  const single = readSafetensors(readFileSync(`${dir}/model.safetensors`));
  const files: Record<string, Uint8Array> = {
    "config.json": readFileSync(`${dir}/config.json`),
    "tokenizer.json": readFileSync(`${dir}/tokenizer.json`),
  };
  const weightMap: Record<string, string> = {};
  const names = [...single.names].sort();
  for (let p = 0; p < parts; p++) {
    const file = `model-0000${p + 1}-of-0000${parts}.safetensors`;
    const mine = names.filter((_, i) => i % parts === p);
    files[file] = writeSafetensors(
      mine.map((name) => ({
        name,
        dtype: single.info(name).dtype as "BF16",
        shape: single.info(name).shape,
        data: single.raw(name),
      })),
      { format: "pt" },
    );
    for (const name of mine) weightMap[name] = file;
  }
  files[INDEX_FILE] = new TextEncoder().encode(
    JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }),
  );
  return await Promise.resolve(files);
}

Deno.test("openHfFolder: a sharded checkpoint reads the same tensors as the single file", async () => {
  const files = await shardedCopy(3);
  const sharded = await openHfFolder(memoryFolder(files));
  const src = folderSource(`${HF}/qwen2`);
  try {
    const single = await openHfFolder(src);
    assert.equal(sharded.indexed, true);
    assert.equal(sharded.shards.length, 3);
    assert.deepEqual([...sharded.tensors.names].sort(), [...single.tensors.names].sort());
    for (const name of single.tensors.names) {
      assert.deepEqual(await sharded.tensors.float32(name), await single.tensors.float32(name));
    }
    assert.match(sharded.tensors.info("model.norm.weight").shard, /^model-0000\d-of-00003/);
  } finally {
    await src.close();
  }
});

Deno.test("openHfFolder: an index that disagrees with its shards is refused, naming the tensor", async () => {
  const files = await shardedCopy(2);
  const index = JSON.parse(new TextDecoder().decode(files[INDEX_FILE]));
  const [first] = Object.keys(index.weight_map);
  const shards = [...new Set(Object.values(index.weight_map))];
  const wrong = shards.find((f) => f !== index.weight_map[first]);
  const moved = { ...index, weight_map: { ...index.weight_map, [first]: wrong } };
  const bad = (json: Json): FolderSource =>
    memoryFolder({ ...files, [INDEX_FILE]: new TextEncoder().encode(JSON.stringify(json)) });
  await assert.rejects(
    () => openHfFolder(bad(moved)),
    new RegExp(`maps "${first.replaceAll(".", "\\.")}"`),
  );
  const dropped = { ...index, weight_map: { ...index.weight_map } };
  delete dropped.weight_map[first];
  await assert.rejects(
    () => openHfFolder(bad(dropped)),
    /which model\.safetensors\.index\.json maps nowhere/,
  );
  const missing = { ...files };
  delete missing["model-00002-of-00002.safetensors"];
  await assert.rejects(
    () => openHfFolder(memoryFolder(missing)),
    /model-00002-of-00002\.safetensors is missing/,
  );
  const none = { "config.json": files["config.json"] };
  await assert.rejects(() => openHfFolder(memoryFolder(none)), /neither model\.safetensors nor/);
  await assert.rejects(() => openHfFolder(memoryFolder({})), /config\.json is missing/);
  assert.throws(() => parseShardIndex('{"weight_map": {"w": "sub/x.safetensors"}}'), TypeError);
  assert.throws(() => parseShardIndex('{"weight_map": []}'), /"weight_map" must be an object/);
});

Deno.test("readRopeSettings: the shared configs, and the transformers 5 form (rope_parameters) gives the same", () => {
  for (const m of MODELS.filter((m) => m !== "opt")) {
    const config = JSON.parse(readFileSync(`${HF}/${m}/config.json`, "utf8"));
    const headDim = configHeadDim(config);
    const defaults = { headDim, defaultPartial: m === "pythia" ? 0.25 : 1 };
    const old = readRopeSettings(config, defaults);
    // the same model in transformers 5's form: rope_parameters as transformers normalised it
    const v5 = { ...config, rope_parameters: reference.models[m].rope_parameters };
    for (const key of ["rope_theta", "rope_scaling", "rotary_pct", "rotary_emb_base"]) {
      delete v5[key];
    }
    assert.deepEqual(readRopeSettings(v5, defaults), old, m);
    // the inverse frequencies transformers computed (float32)
    const expected = reference.models[m].inv_freq as number[];
    const ours = Array.from(ropeInverseFrequencies(old));
    assert.equal(ours.length, expected.length, m);
    ours.forEach((f, i) => {
      assert.ok(
        Math.abs(f - expected[i]) <= 2 ** -22 * expected[i],
        `${m} inv_freq[${i}]: ${f} vs ${expected[i]}`,
      );
    });
  }
  const llama3 = readRopeSettings(JSON.parse(readFileSync(`${HF}/llama3/config.json`, "utf8")), {
    headDim: 32,
  });
  assert.deepEqual(llama3.scaling, {
    type: "llama3",
    factor: 8,
    lowFreqFactor: 1,
    highFreqFactor: 4,
    originalMaxPositionEmbeddings: 256,
  });
  assert.equal(llama3.theta, 500000);
});

Deno.test("config helpers: unsupported features are one-line errors naming the key and the value", () => {
  const rope = (block: Json) => () => readRopeSettings({ rope_scaling: block }, { headDim: 64 });
  assert.throws(rope({ rope_type: "yarn", factor: 4 }), {
    name: "RangeError",
    message:
      'Cannot use config.json: rope_scaling.rope_type "yarn" is not supported (supported: default, linear, llama3)',
  });
  assert.throws(
    rope({ type: "dynamic", factor: 2 }),
    /rope_scaling\.type "dynamic" is not supported/,
  );
  assert.throws(rope({ rope_type: "linear" }), /"rope_scaling\.factor" is missing/);
  assert.throws(
    () =>
      readRopeSettings({
        rope_parameters: {
          rope_type: "llama3",
          factor: 8,
          low_freq_factor: 4,
          high_freq_factor: 1,
          original_max_position_embeddings: 8,
        },
      }, { headDim: 64 }),
    /rope_parameters\.high_freq_factor 1 must be above rope_parameters\.low_freq_factor 4/,
  );
  assert.throws(
    () => readRopeSettings({ rotary_pct: 1.5 }, { headDim: 64 }),
    /"rotary_pct" must be in \(0, 1\], got 1.5/,
  );
  assert.throws(
    () => readRopeSettings({ partial_rotary_factor: 0.1 }, { headDim: 32 }),
    /3 rotating dimensions/,
  );
  assert.equal(
    readRopeSettings({ rope_scaling: null, rope_theta: 1e6 }, { headDim: 64 }).theta,
    1e6,
  );
  assert.deepEqual(
    readRopeSettings({ rope_scaling: { type: "linear", factor: 2 } }, {
      headDim: 8,
      defaultTheta: 100,
    }),
    { theta: 100, partialFactor: 1, rotaryDim: 8, scaling: { type: "linear", factor: 2 } },
  );
  assert.throws(
    () => checkNoSlidingWindow({ layer_types: ["full_attention", "sliding_attention"] }),
    {
      name: "RangeError",
      message:
        'Cannot use config.json: layer_types[1] "sliding_attention" is not supported (supported: "full_attention")',
    },
  );
  checkNoSlidingWindow(JSON.parse(readFileSync(`${HF}/qwen2/config.json`, "utf8")));
  assert.throws(() => configDtype({ dtype: "int8" }), /dtype "int8" is not supported/);
  assert.throws(() => parseConfigJson("[1]"), /expected a JSON object, got \[1\]/);
  assert.throws(() => parseConfigJson(new Uint8Array([0xff])), /not valid UTF-8/);
});

Deno.test("toFloat32 / fromFloat32: exact widening, round to nearest even, errors name the tensor", () => {
  // BF16 0x3f81 is 1 + 2^-7; 1 + 2^-8 is halfway to 1 and rounds to the even pattern 0x3f80
  assert.deepEqual(Array.from(toFloat32(new Uint8Array([0x81, 0x3f]), "BF16")), [1 + 2 ** -7]);
  assert.deepEqual(Array.from(fromFloat32(new Float32Array([1 + 2 ** -8]), "BF16")), [0x80, 0x3f]);
  assert.deepEqual(Array.from(fromFloat32(new Float32Array([1 + 3 * 2 ** -8]), "BF16")), [
    0x82,
    0x3f,
  ]);
  assert.deepEqual(Array.from(toFloat32(fromFloat32(new Float32Array([0.1]), "F32"), "F32")), [
    Math.fround(0.1),
  ]);
  assert.throws(() => toFloat32(new Uint8Array(3), "F16", "w"), /"w" as float32: 3 bytes/);
  assert.throws(
    () => toFloat32(new Uint8Array(4), "I32", "w"),
    /dtype I32 is not F32, F16, BF16 or F64/,
  );
});
