import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULTS, main } from "../scripts/prune.ts";
import { methodNames } from "../src/prune/methods.ts";
import { readSafetensors } from "../src/io/safetensors.ts";
import { llamaFromHf } from "../src/io/hf_llama.ts";

/** Runs the CLI in-process and captures its output. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const io = {
    stdout: (t: string) => void (out += t),
    stderr: (t: string) => void (err += t),
    isTTY: false,
  };
  const code = await main(argv, io);
  return { code, out, err };
}

const SMALL = ["--nsamples", "2", "--seqlen", "64", "--eval-tokens", "256", "--quiet"];

function bytesOf(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

Deno.test("prune CLI: stories260K with a small --eval-tokens writes a report with every field and an HF folder", async () => {
  const dir = mkdtempSync(join(tmpdir(), "secateur-prune-"));
  try {
    const report = join(dir, "r.json"), out = join(dir, "hf");
    const r = await run([...SMALL, "--method", "wanda", "--report", report, "--out", out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /dense {2}ppl \d+\.\d+ \(seqlen 64, 252 predicted tokens in 4 windows\)/);
    assert.match(r.out, /pruned ppl \d+\.\d+ \(wanda, sparsity 50\.00%/);
    assert.match(r.out, /2 windows x 64 tokens \(seed 0\)/);
    const j = JSON.parse(readFileSync(report, "utf8"));
    for (
      const key of [
        "model",
        "method",
        "options",
        "calibration",
        "eval",
        "dense",
        "pruned",
        "layers",
        "times_ms",
      ]
    ) {
      assert.ok(key in j, `report lacks ${key}`);
    }
    assert.equal(j.method, "wanda");
    assert.deepEqual(
      {
        file: j.calibration.file,
        nsamples: j.calibration.nsamples,
        seqlen: j.calibration.seqlen,
        seed: j.calibration.seed,
      },
      { file: DEFAULTS.calib, nsamples: 2, seqlen: 64, seed: 0 },
    );
    assert.deepEqual({ file: j.eval.file, seqlen: j.eval.seqlen, tokens: j.eval.tokens }, {
      file: DEFAULTS.eval,
      seqlen: 64,
      tokens: 256,
    });
    assert.ok(j.dense.ppl > 1 && j.pruned.ppl > j.dense.ppl);
    assert.equal(j.pruned.sparsity, 0.5);
    assert.equal(j.layers.length, 35); // 5 blocks x 7 linears
    for (
      const key of ["name", "rows", "cols", "sparsity", "error", "agree_magnitude", "agree_wanda"]
    ) {
      assert.ok(key in j.layers[0], `layer lacks ${key}`);
    }
    assert.equal(j.layers[0].name, "layers.0.wq");
    assert.equal(j.layers[0].agree_wanda, 1); // wanda's own mask (sort and ewma-exact select the same)
    for (const key of ["calibration", "pruning", "eval"]) assert.ok(j.times_ms[key] >= 0, key);

    assert.deepEqual(readdirSync(out).sort(), [
      "config.json",
      "masks.safetensors",
      "model.safetensors",
    ]);
    const model = llamaFromHf(
      JSON.parse(readFileSync(join(out, "config.json"), "utf8")),
      readSafetensors(bytesOf(join(out, "model.safetensors"))),
    );
    const masks = readSafetensors(bytesOf(join(out, "masks.safetensors")));
    assert.equal(masks.names.length, 35);
    const down = masks.raw("model.layers.4.mlp.down_proj.weight"); // w2 [64, 172]: 86 pruned per row
    assert.equal(down.length, 64 * 172);
    for (let i = 0; i < 64; i++) {
      assert.equal(down.subarray(i * 172, (i + 1) * 172).filter((k) => k === 0).length, 86);
    }
    const w2 = model.blocks[4].w2.data; // masked entries are zero in the exported weights
    for (let t = 0; t < w2.length; t++) if (down[t] === 0) assert.equal(w2[t], 0);

    const again = await run([...SMALL, "--method", "wanda", "--report", report]);
    assert.equal(again.code, 2);
    assert.match(
      again.err,
      /^error: Cannot write .*r\.json.*exists; pass --force to replace it\n$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("prune CLI: --compare runs every method on the same windows, one table and a methods array", async () => {
  const dir = mkdtempSync(join(tmpdir(), "secateur-prune-"));
  try {
    const report = join(dir, "c.json");
    const r = await run([...SMALL, "--compare", "--report", report]);
    assert.equal(r.code, 0, r.err);
    const header = r.out.split("\n").find((l) => /^method\s+ppl/.test(l));
    assert.ok(
      header?.includes("ppl") && header.includes("sparsity") && header.includes("mean err"),
      r.out,
    );
    for (const m of methodNames()) assert.match(r.out, new RegExp(`^${m} `, "m"));
    const j = JSON.parse(readFileSync(report, "utf8"));
    assert.deepEqual(j.methods.map((e: { method: string }) => e.method), methodNames());
    for (const e of j.methods) {
      assert.ok(e.pruned.ppl > 0 && e.layers.length === 35 && "times_ms" in e);
    }
    const magnitude = j.methods.find((e: { method: string }) => e.method === "magnitude");
    assert.ok(magnitude.layers.every((l: { agree_magnitude: number }) => l.agree_magnitude === 1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("prune CLI: a missing model says where the default was looked for and how to pass --model", async () => {
  const saved = DEFAULTS.model;
  DEFAULTS.model = "/nonexistent/shared/models/stories260K/stories260K.bin";
  try {
    const r = await run([]);
    assert.equal(r.code, 2);
    assert.equal(r.err.split("\n").length, 2, r.err); // one line
    assert.match(
      r.err,
      /default model was looked for at \/nonexistent\/shared\/models\/stories260K\/stories260K\.bin/,
    );
    assert.match(r.err, /pass --model PATH/);
  } finally {
    DEFAULTS.model = saved;
  }
  const other = await run(["--model", "/nonexistent/x.bin"]);
  assert.equal(other.code, 2);
  assert.match(
    other.err,
    /^error: Cannot load the model: no model at \/nonexistent\/x\.bin; pass --model PATH/,
  );
});

Deno.test("prune CLI: bad flags and too short texts exit 2 with one line", async () => {
  const dir = mkdtempSync(join(tmpdir(), "secateur-prune-"));
  const short = join(dir, "short.txt");
  writeFileSync(short, "Once upon a time there was a cat.");
  const cases: [string[], RegExp][] = [
    [["--nope"], /^error: Unknown option '--nope'/],
    [["--method", "bogus"], /^error: --method must be one of .*swiftprune.*, got "bogus"\n$/],
    [
      ["--sparsity", "0.5", "--pattern", "2:4"],
      /^error: --sparsity and --pattern exclude each other\n$/,
    ],
    [["--pattern", "4:2"], /^error: --pattern must be N:M/],
    [["--nsamples", "0"], /^error: --nsamples must be an integer >= 1, got "0"\n$/],
    [["--select", "fast"], /^error: --select must be sort, ewma or ewma-exact/],
    [
      ["--calib", "/nonexistent.jsonl", ...SMALL],
      /^error: Cannot read --calib file: no file at \/nonexistent\.jsonl\n$/,
    ],
    [
      ["--calib", short, ...SMALL],
      /^error: Cannot sample calibration windows of 64 tokens: the text has only \d+ tokens\n$/,
    ],
    [
      ["--seqlen", "512", "--eval-tokens", "300", "--nsamples", "1"],
      /^error: Cannot evaluate: 300 eval tokens .* one window of --seqlen 512\n$/,
    ],
  ];
  for (const [argv, message] of cases) {
    const r = await run(argv);
    assert.equal(r.code, 2, `${argv.join(" ")}: ${r.err}`);
    assert.match(r.err, message);
    assert.equal(r.err.split("\n").length, 2, r.err);
  }
  rmSync(dir, { recursive: true, force: true });
});
