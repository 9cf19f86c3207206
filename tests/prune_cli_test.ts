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
    assert.match(
      r.out,
      /dense {2}ppl \d+\.\d+ ± \d+\.\d+ \(seqlen 64, 252 predicted tokens in 4 windows\)/,
    );
    assert.match(r.out, /pruned ppl \d+\.\d+ ± \d+\.\d+ \(wanda, sparsity 50\.00%/);
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
    for (const p of [j.dense, j.pruned]) { // the standard error over the 4 windows, recomputed here
      assert.equal(p.window_nlls.length, 4);
      const m = p.window_nlls.reduce((a: number, b: number) => a + b, 0) / 4;
      assert.ok(Math.abs(m - p.nll) < 1e-12); // equal windows: the mean of means is the mean
      const sd = Math.sqrt(p.window_nlls.reduce((a: number, b: number) => a + (b - m) ** 2, 0) / 3);
      assert.ok(p.nll_se > 0 && Math.abs(p.nll_se - sd / 2) < 1e-12);
    }
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

Deno.test("prune CLI: --report-rows estimates the layer errors on that many rows, and says so", async () => {
  const dir = mkdtempSync(join(tmpdir(), "secateur-prune-"));
  try {
    const reports = ["16", "all"].map((k) => join(dir, `${k}.json`));
    const [sampled, exact] = [
      await run([...SMALL, "--method", "wanda", "--report-rows", "16", "--report", reports[0]]),
      await run([...SMALL, "--method", "wanda", "--report-rows", "all", "--report", reports[1]]),
    ];
    assert.equal(sampled.code + exact.code, 0, sampled.err + exact.err);
    assert.match(sampled.out, /mean layer error \d\.\d{4} \(estimated on 16 rows per linear\)/);
    assert.match(exact.out, /mean layer error \d\.\d{4}, agreement/);
    const [s, e] = reports.map((f) => JSON.parse(readFileSync(f, "utf8")).layers);
    for (let i = 0; i < s.length; i++) {
      assert.equal(s[i].error_rows, 16, s[i].name); // every stories260K linear has more rows
      assert.ok(s[i].error_se > 0, s[i].name);
      assert.equal(e[i].error_rows, undefined, e[i].name);
      assert.ok(Math.abs(s[i].error - e[i].error) < 6 * s[i].error_se + 1e-9, s[i].name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
    [
      ["--report-rows", "1"],
      /^error: --report-rows must be an integer >= 2 or "all", got "1"\n$/,
    ],
    [["--select", "fast"], /^error: --select must be sort, ewma or ewma-exact/],
    [
      ["--warm-start", "magnitude"],
      /^error: --warm-start must be wanda or sparsegpt, got "magnitude"\n$/,
    ],
    [["--iterations", "0"], /^error: --iterations must be an integer >= 1, got "0"\n$/],
    [["--updates", "1.5"], /^error: --updates must be an integer >= 1, got "1\.5"\n$/],
    [["--blocksize", "x"], /^error: --blocksize must be an integer >= 1, got "x"\n$/],
    [["--damp=-0.1"], /^error: --damp must be a finite number >= 0, got "-0\.1"\n$/],
    [["--damp", ""], /^error: --damp must be a finite number >= 0, got ""\n$/],
    [
      ["--calib", "/nonexistent.jsonl", ...SMALL],
      /^error: Cannot read --calib file: no file at \/nonexistent\.jsonl\n$/,
    ],
    [
      ["--calib", short, ...SMALL],
      /^error: --nsamples 2 windows of 64 tokens is beyond the \d+ tokens of short\.txt; use at most 0 \(or a longer text\)\n$/,
    ],
    [
      ["--seqlen", "99999"],
      /^error: --seqlen 99999 is beyond the model's context of 512 tokens; use at most 512\n$/,
    ],
    [
      ["--eval-tokens", "99999999", "--nsamples", "1"],
      /^error: --eval-tokens 99999999 is beyond the \d+ tokens of TinyStories-validation-head\.txt; use at most \d+ \(or a longer text\)\n$/,
    ],
    [
      ["--seqlen", "512", "--eval-tokens", "300", "--nsamples", "1"],
      /^error: Cannot evaluate: 300 eval tokens .* one window of --seqlen 512\n$/,
    ],
  ];
  for (const [argv, message] of cases) {
    const r = await run([...argv, "--quiet"]); // the error alone, without the progress lines
    assert.equal(r.code, 2, `${argv.join(" ")}: ${r.err}`);
    assert.match(r.err, message);
    assert.equal(r.err.split("\n").length, 2, r.err);
  }
  rmSync(dir, { recursive: true, force: true });
});

Deno.test("prune CLI: fista with method flags reports each operator (info in --report, --verbose lines)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "secateur-prune-"));
  try {
    const report = join(dir, "r.json");
    const argv = ["--method", "fista", "--iterations", "3", "--updates", "2", "--warm-start"];
    const r = await run([...SMALL, ...argv, "sparsegpt", "--verbose", "--report", report]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split("\n").filter((l) => /^ {2}layers\.\d\.w/.test(l));
    assert.equal(lines.length, 35, r.out);
    assert.match(
      lines[0],
      /^ {2}layers\.0\.wq +sparsity 50\.00%, rel err [\d.]+ vs warm start [\d.]+ /,
    );
    assert.equal(lines[0].split("Er/Et").length, 3); // one per lambda run
    const j = JSON.parse(readFileSync(report, "utf8"));
    assert.equal(j.options.iterations, 3);
    assert.equal(j.options.warmStart, "sparsegpt");
    // what competes, and only FISTAPruner's own options (no selector, no SwiftPrune statistic)
    assert.equal(j.options.competes, "per operator");
    assert.ok(!("select" in j.options) && !("xStat" in j.options), JSON.stringify(j.options));
    assert.match(r.out, /^method fista, target 50\.00% unstructured per operator,/m);
    for (const l of j.layers) {
      assert.equal(l.info.warmStart, "sparsegpt");
      assert.equal(l.info.lambdas.length, 2);
      assert.equal(l.info.objectives.length, 2);
      assert.ok(l.info.iterations.every((k: number) => k >= 1 && k <= 3));
      // the objective at the start, then after each iteration
      l.info.objectives.forEach((o: number[], r: number) => {
        assert.equal(o.length, l.info.iterations[r] + 1);
      });
      assert.equal(l.info.ratio.length, 2);
      assert.equal(l.info.sparsity, 0.5); // 50% per operator, exactly
      assert.ok(l.info.layerError <= l.info.warmStartLayerError);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
