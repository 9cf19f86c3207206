import assert from "node:assert/strict";
import { type CliMain, runMain as runCaptured } from "./fuzz/cli_harness.ts";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main as extractMain } from "../scripts/extract-layer.ts";
import { main as pruneLayerMain } from "../scripts/prune-layer.ts";
import { main as pruneMain } from "../scripts/prune.ts";
import { readSafetensors } from "../src/io/safetensors.ts";
import { readLlama2c } from "../src/io/llama2c.ts";
import { forward } from "../src/model/llama.ts";
import { DEFAULTS } from "../scripts/lib/prune_settings.ts";
import { encodeCorpus } from "../scripts/lib/model_inputs.ts";
import { readTokenizer } from "../src/io/tokenizer.ts";
import { llama2cTextTokenizer } from "../src/io/text_tokenizer.ts";
import { sampleWindows } from "../src/pipeline/calibration.ts";

const bytesOf = (p: string) => new Uint8Array(readFileSync(p));
const WINDOWS = ["--nsamples", "2", "--seqlen", "64", "--quiet"];

Deno.test("extract-layer writes what prune-layer takes; its mask equals the whole-model prune's mask of that layer", async () => {
  const dir = mkdtempSync(join(tmpdir(), "secateur-extract-"));
  try {
    const layer = join(dir, "new", "layer.safetensors"); // a missing folder is created
    const x = await runCaptured(extractMain, [
      ...WINDOWS,
      "--layer",
      "layers.0.w1",
      "--out",
      layer,
    ]);
    assert.equal(x.code, 0, x.err);
    const file = readSafetensors(bytesOf(layer));
    assert.deepEqual(file.names.sort(), ["inputs", "weight"]);
    assert.deepEqual(file.info("weight").shape, [172, 64]);
    assert.deepEqual(file.info("inputs").shape, [2 * 64, 64]);
    assert.equal(file.metadata.layer, "layers.0.w1");

    // the first window's rows are what the model's full forward gives layers.0.w1 on the first
    // window prune draws (same text, seed, nsamples and seqlen)
    const weights = readLlama2c(bytesOf(DEFAULTS.model));
    const ids = await encodeCorpus(
      llama2cTextTokenizer(readTokenizer(bytesOf(DEFAULTS.tokenizer))),
      DEFAULTS.calib,
      "c",
    );
    const [first] = sampleWindows(ids, { nsamples: 2, seqlen: 64, seed: 0 });
    let seen: Float32Array | undefined;
    forward(weights, first, {
      onLinearInput: (l, name, x) => void (l === 0 && name === "w1" && (seen = x.data.slice())),
    });
    assert.deepEqual(file.float32("inputs").subarray(0, 64 * 64), seen);
    assert.deepEqual(file.float32("weight"), weights.blocks[0].w1.data);

    // prune-layer on it, and the whole-model prune with the same windows: the same mask
    const pruned = join(dir, "pruned.safetensors");
    const p = await runCaptured(pruneLayerMain, [
      "--in",
      layer,
      "--out",
      pruned,
      "--method",
      "wanda",
      "--sparsity",
      "0.5",
      "--quiet",
    ]);
    assert.equal(p.code, 0, p.err);
    const hf = join(dir, "hf");
    const whole = await runCaptured(pruneMain, [
      ...WINDOWS,
      "--eval-tokens",
      "128",
      "--method",
      "wanda",
      "--workers",
      "1",
      "--out",
      hf,
    ]);
    assert.equal(whole.code, 0, whole.err);
    const layerMask = readSafetensors(bytesOf(pruned)).raw("mask");
    const modelMask = readSafetensors(bytesOf(join(hf, "masks.safetensors")))
      .raw("model.layers.0.mlp.gate_proj.weight");
    assert.equal(layerMask.length, 172 * 64);
    assert.deepEqual(layerMask, modelMask);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("extract-layer and prune-layer: bad names, values past the model, not-safetensors files: one line, exit 2", async () => {
  const dir = mkdtempSync(join(tmpdir(), "secateur-extract-"));
  try {
    const text = join(dir, "notes.safetensors");
    writeFileSync(text, "# these are notes, not tensors\n");
    const out = join(dir, "o.safetensors");
    const cases: [CliMain, string[], RegExp][] = [
      [extractMain, ["--out", out], /^error: --layer is required/],
      [extractMain, ["--layer", "layers.0.w1"], /^error: --out is required/],
      [extractMain, ["--layer", "layers.9.w1", "--out", out], /the model has blocks 0 to 4\n$/],
      [
        extractMain,
        ["--layer", "blocks.0.w1", "--out", out],
        /OP one of wq, wk, wv, wo, w1, w3, w2, got "blocks\.0\.w1"\n$/,
      ],
      [
        extractMain,
        ["--layer", "layers.0.wq", "--out", out, "--seqlen", "99999"],
        /beyond the model's context of 512 tokens/,
      ],
      [
        extractMain,
        ["--layer", "layers.0.wq", "--out", out, "--nsamples", "99999999"],
        /over 2\^32 floats/,
      ],
      [
        extractMain,
        ["--layer", "layers.0.wq", "--out", join(text, "x")],
        /notes\.safetensors" is a file, not a folder\n$/,
      ],
      [
        pruneLayerMain,
        ["--in", text, "--out", out, "--method", "wanda", "--sparsity", "0.5"],
        /not a safetensors file: header length \d+ bytes/,
      ],
    ];
    for (const [main, argv, message] of cases) {
      const r = await runCaptured(main, [...argv, "--quiet"]);
      assert.equal(r.code, 2, `${argv.join(" ")}: ${r.err}`);
      assert.match(r.err, message);
      assert.equal(r.err.split("\n").length, 2, r.err);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
