import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors, writeSafetensors } from "../src/io/safetensors.ts";
import { createRng } from "../src/tensor/rng.ts";
import { buildMask } from "../src/select/mask.ts";
import { wandaScores } from "../src/score/wanda.ts";
import { magnitudeScores } from "../src/score/magnitude.ts";
import { main } from "../scripts/prune-layer.ts";
import { capture } from "./lib/capture.ts";
import { sparsegpt } from "../src/prune/sparsegpt.ts";
import { methodByName } from "../src/prune/methods.ts";

async function layerFile(
  dir: string,
  dtype: "F32" | "BF16" = "F32",
  withNorms = true,
): Promise<string> {
  const rng = createRng(11);
  const weight = Float32Array.from({ length: 8 * 16 }, () => rng.normal());
  const norms = Float32Array.from({ length: 16 }, () => 0.5 + rng.uniform());
  const entries = [{ name: "weight", dtype, shape: [8, 16], data: weight }];
  if (withNorms) entries.push({ name: "col_norms", dtype: "F32", shape: [16], data: norms });
  const path = join(dir, `layer-${dtype}-${withNorms}.safetensors`);
  await writeFile(path, writeSafetensors(entries));
  return path;
}

Deno.test("prune-layer: wanda at 50% per row writes weight, mask, scores and metadata", async () => {
  const dir = await mkdtemp(join(tmpdir(), "secateur-"));
  try {
    const input = await layerFile(dir), out = join(dir, "out.safetensors");
    const io = capture();
    const code = await main(
      ["--in", input, "--out", out, "--method", "wanda", "--sparsity", "0.5"],
      io,
    );
    assert.equal(code, 0, io.err);
    const src = readSafetensors(new Uint8Array(await readFile(input)));
    const res = readSafetensors(new Uint8Array(await readFile(out)));
    const weight = { data: src.float32("weight"), rows: 8, cols: 16 };
    const scores = wandaScores(weight, src.float32("col_norms"));
    const expected = buildMask(scores, { kind: "unstructured", sparsity: 0.5, group: "row" }, {
      select: "sort",
    });
    assert.deepEqual(res.raw("mask"), expected.keep);
    assert.deepEqual(res.float32("scores"), scores.data);
    assert.deepEqual(res.float32("weight"), weight.data.map((v, t) => (expected.keep[t] ? v : 0)));
    assert.equal(res.info("mask").dtype, "U8");
    assert.equal(res.metadata.method, "wanda"); // plain values, not JSON-encoded strings
    assert.equal(res.metadata.sparsity, "0.5");
    const options = JSON.parse(res.metadata.options);
    assert.deepEqual(options, {
      target: { kind: "unstructured", sparsity: 0.5, group: "row" },
      competes: "per row",
      select: "ewma-exact",
    });
    assert.ok(Number(res.metadata.time_ms) >= 0);
    assert.match(io.out, /wanda: pruned 64 of 128/);
  } finally {
    await rm(dir, { recursive: true });
  }
});

Deno.test("prune-layer: --repeat prunes N times, reports the first and the best time, writes the same file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "secateur-"));
  try {
    const input = await layerFile(dir),
      once = join(dir, "1.safetensors"),
      thrice = join(dir, "3.safetensors");
    const args = ["--in", input, "--method", "swiftprune", "--sparsity", "0.5", "--workers", "2"];
    const [a, b] = [capture(), capture()];
    assert.equal(await main([...args, "--out", once], a), 0, a.err);
    assert.equal(await main([...args, "--out", thrice, "--repeat", "3"], b), 0, b.err);
    const m = /in ([\d.]+) ms the first time, best of 3 ([\d.]+) ms ->/.exec(b.out);
    assert.ok(m && Number(m[2]) <= Number(m[1]), b.out);
    assert.match(a.out, /\) in [\d.]+ ms ->/);
    const [r1, r3] = [once, thrice].map(async (f) =>
      readSafetensors(new Uint8Array(await readFile(f)))
    );
    const [x, y] = await Promise.all([r1, r3]);
    for (const t of ["weight", "mask", "scores"]) assert.deepEqual(y.raw(t), x.raw(t), t);
    assert.equal(y.metadata.runs, "3");
    assert.ok(Number(y.metadata.best_time_ms) <= Number(y.metadata.time_ms));
  } finally {
    await rm(dir, { recursive: true });
  }
});

Deno.test("prune-layer: magnitude with layer groups; 2:4 on a BF16 weight; --force", async () => {
  const dir = await mkdtemp(join(tmpdir(), "secateur-"));
  try {
    const input = await layerFile(dir, "BF16", false), out = join(dir, "out.safetensors");
    const flags = ["--method", "magnitude", "--sparsity", "0.3", "--group", "layer"];
    assert.equal(await main(["--in", input, "--out", out, ...flags], capture()), 0);
    const src = readSafetensors(new Uint8Array(await readFile(input)));
    const scores = magnitudeScores({ data: src.float32("weight"), rows: 8, cols: 16 });
    const layer = buildMask(scores, { kind: "unstructured", sparsity: 0.3, group: "layer" }, {
      select: "sort",
    });
    let res = readSafetensors(new Uint8Array(await readFile(out)));
    assert.deepEqual(res.raw("mask"), layer.keep);
    assert.equal(JSON.parse(res.metadata.options).target.group, "layer");
    const io = capture();
    assert.equal(
      await main([
        "--in",
        input,
        "--out",
        out,
        "--method",
        "magnitude",
        "--pattern",
        "2:4",
        "--force",
      ], io),
      0,
      io.err,
    );
    res = readSafetensors(new Uint8Array(await readFile(out)));
    const mask = res.raw("mask");
    for (let g = 0; g < mask.length; g += 4) {
      assert.equal(mask[g] + mask[g + 1] + mask[g + 2] + mask[g + 3], 2);
    }
  } finally {
    await rm(dir, { recursive: true });
  }
});

Deno.test("prune-layer: bad input exits 2 with one error line and writes nothing", async () => {
  const dir = await mkdtemp(join(tmpdir(), "secateur-"));
  try {
    const input = await layerFile(dir, "F32", false), out = join(dir, "out.safetensors");
    const truncated = join(dir, "truncated.safetensors");
    await writeFile(truncated, (await readFile(input)).subarray(0, 100));
    const base = ["--in", input, "--out", out];
    const cases: [string[], RegExp][] = [
      [[...base, "--method", "wanda", "--sparsity", "0.5"], /wanda.*missing/],
      [
        [...base, "--method", "magnitude", "--sparsity", "1"],
        /--sparsity must be in \[0, 1\), got "1"/,
      ],
      [[...base, "--method", "magnitude", "--sparsity", "abc"], /got "abc"/],
      [
        [...base, "--method", "magnitude", "--pattern", "2:3"],
        /\[8, 16\]: cols must be divisible by 3/,
      ],
      [[...base, "--method", "magnitude", "--pattern", "5:4"], /got "5:4"/],
      [[...base, "--method", "magnitude", "--pattern", "two"], /got "two"/],
      [[...base, "--method", "sparsefast", "--sparsity", "0.5"], /got "sparsefast"/],
      [[...base, "--method", "magnitude", "--sparsity", "0.5", "--pattern", "2:4"], /exactly one/],
      [[...base, "--method", "swiftprune", "--sparsity", "0.5", "--x-stat", "max"], /got "max"/],
      [[...base, "--method", "magnitude", "--sparsity", "0.5", "--bogus"], /bogus/],
      [
        [...base, "--method", "magnitude", "--sparsity", "0.5", "--repeat", "0"],
        /--repeat must be an integer from 1 to 1000, got "0"/,
      ],
      [
        [...base, "--method", "magnitude", "--sparsity", "0.5", "--sparsty", "0.5"],
        /did you mean --sparsity\?/,
      ],
      [
        ["--in", input, "--out", input, "--method", "magnitude", "--sparsity", "0.5"],
        /is an input of this run/,
      ],
      [
        ["--in", truncated, "--out", out, "--method", "magnitude", "--sparsity", "0.5"],
        /truncated|expected|bytes/,
      ],
      [
        ["--in", join(dir, "missing"), "--out", out, "--method", "magnitude", "--sparsity", "0.5"],
        /cannot read/,
      ],
    ];
    for (const [argv, message] of cases) {
      const io = capture();
      assert.equal(await main(argv, io), 2, argv.join(" "));
      assert.match(io.err, message);
      assert.equal(io.err.split("\n").length, 2, `one line: ${io.err}`);
      assert.match(io.err, /^error: /);
    }
    assert.deepEqual((await readdir(dir)).sort(), [
      "layer-F32-false.safetensors",
      "truncated.safetensors",
    ]);
    await writeFile(out, "keep me");
    const io = capture();
    assert.equal(await main([...base, "--method", "magnitude", "--sparsity", "0.5"], io), 2);
    assert.match(io.err, /exists; pass --force/);
    assert.equal(await readFile(out, "utf8"), "keep me");
    const debug = capture();
    assert.equal(
      await main([...base, "--method", "magnitude", "--sparsity", "2", "--debug"], debug),
      2,
    );
    assert.ok(debug.err.split("\n").length > 2, "--debug adds the stack");
  } finally {
    await rm(dir, { recursive: true });
  }
});

Deno.test("prune-layer: no arguments prints usage", async () => {
  const io = capture();
  assert.equal(await main([], io), 0);
  assert.match(io.out, /^Prune one linear layer/);
  assert.match(io.out, /--pattern N:M/);
});

Deno.test("prune-layer: sparsegpt with --blocksize/--damp matches the library call and updates weights", async () => {
  const dir = await mkdtemp(join(tmpdir(), "secateur-"));
  try {
    const rng = createRng(5);
    const rows = 6, cols = 16, tokens = 40;
    const weight = {
      data: Float32Array.from({ length: rows * cols }, () => rng.normal()),
      rows,
      cols,
    };
    const inputs = {
      data: Float32Array.from({ length: tokens * cols }, () => rng.normal()),
      rows: tokens,
      cols,
    };
    const input = join(dir, "layer.safetensors"), out = join(dir, "out.safetensors");
    await writeFile(
      input,
      writeSafetensors([
        { name: "weight", dtype: "F32", shape: [rows, cols], data: weight.data },
        { name: "inputs", dtype: "F32", shape: [tokens, cols], data: inputs.data },
      ]),
    );
    const io = capture();
    const argv = ["--in", input, "--out", out, "--method", "sparsegpt", "--pattern", "2:4"];
    const code = await main([...argv, "--blocksize", "8", "--damp", "0.05"], io);
    assert.equal(code, 0, io.err);
    const res = readSafetensors(new Uint8Array(await readFile(out)));
    const expected = sparsegpt(weight, { inputs }, { kind: "nm", n: 2, m: 4 }, {
      blocksize: 8,
      percdamp: 0.05,
    });
    assert.deepEqual(res.raw("mask"), expected.keep);
    assert.deepEqual(res.float32("weight"), expected.weight.data);
    // SparseGPT changes kept weights (OBS update), unlike the score-then-select methods
    const kept = Array.from(expected.keep.keys()).filter((t) => expected.keep[t] === 1);
    assert.ok(kept.some((t) => res.float32("weight")[t] !== weight.data[t]));
    // a bad blocksize is a one-line error with status 2
    const bad = capture();
    assert.equal(await main([...argv, "--blocksize", "abc", "--force"], bad), 2);
    assert.match(bad.err, /^error: .*blocksize/);
  } finally {
    await rm(dir, { recursive: true });
  }
});

Deno.test("prune-layer: fista reads inputs_pruned and is never worse than its warm start", async () => {
  const dir = await mkdtemp(join(tmpdir(), "secateur-"));
  try {
    const rng = createRng(9);
    const rows = 8, cols = 16, tokens = 64;
    const weight = {
      data: Float32Array.from({ length: rows * cols }, () => rng.normal()),
      rows,
      cols,
    };
    const x = Float32Array.from({ length: tokens * cols }, () => rng.normal());
    const xStar = x.map((v) => v + 0.1 * rng.normal());
    const input = join(dir, "layer.safetensors"), out = join(dir, "out.safetensors");
    await writeFile(
      input,
      writeSafetensors([
        { name: "weight", dtype: "F32", shape: [rows, cols], data: weight.data },
        { name: "inputs", dtype: "F32", shape: [tokens, cols], data: x },
        { name: "inputs_pruned", dtype: "F32", shape: [tokens, cols], data: xStar },
      ]),
    );
    for (const warm of ["wanda", "sparsegpt"]) {
      const io = capture();
      const argv = ["--in", input, "--out", out, "--method", "fista", "--sparsity", "0.5"];
      assert.equal(
        await main([...argv, "--warm-start", warm, "--iterations", "30", "--force"], io),
        0,
        io.err,
      );
      const res = readSafetensors(new Uint8Array(await readFile(out)));
      const keep = res.raw("mask");
      assert.equal(keep.reduce((a, b) => a + b, 0), rows * cols / 2);
      const options = JSON.parse(res.metadata.options);
      assert.equal(options.warmStart, warm);
      assert.equal(options.iterations, 30);
      // never worse than the warm start on ||W_r X*^T - W X^T||^2, measured directly here
      const err = (w: Float32Array) => {
        let e = 0;
        for (let t = 0; t < tokens; t++) {
          for (let i = 0; i < rows; i++) {
            let d = 0;
            for (let j = 0; j < cols; j++) {
              d += w[i * cols + j] * xStar[t * cols + j] -
                weight.data[i * cols + j] * x[t * cols + j];
            }
            e += d * d;
          }
        }
        return e;
      };
      const warmResult = methodByName(warm)!.prune(weight, {
        inputs: { data: xStar, rows: tokens, cols },
      }, { kind: "unstructured", sparsity: 0.5, group: "row" }); // the CLI default group
      assert.ok(err(res.float32("weight")) <= err(warmResult.weight.data) * (1 + 1e-6), warm);
    }
  } finally {
    await rm(dir, { recursive: true });
  }
});
