/**
 * Hostile inputs to the CLIs (run in process through their exported `main`): one-line errors with
 * exit status 2, NaN/infinity refused unless `--allow-nonfinite`, existing outputs kept without
 * `--force`, the input never written, and no partial file under the final name when a write fails.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors, writeSafetensors } from "../src/io/safetensors.ts";
import { main as pruneLayer } from "../scripts/prune-layer.ts";
import { main as pruneModelMain } from "../scripts/prune.ts";
import { writeFileAtomic } from "../scripts/lib/files.ts";
import { capture } from "./lib/capture.ts";

/** Runs `body` in a fresh temporary folder, removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "secateur-hostile-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true });
  }
}

/** A 4x8 layer file with `weight` and `col_norms`; `bad` puts a value into one of them. */
async function layer(
  dir: string,
  bad?: { tensor: "weight" | "col_norms"; index: number; value: number },
): Promise<string> {
  const weight = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i + 1));
  const norms = new Float32Array(8).fill(1);
  if (bad) (bad.tensor === "weight" ? weight : norms)[bad.index] = bad.value;
  const path = join(dir, `layer-${bad ? `${bad.tensor}-${bad.value}` : "ok"}.safetensors`);
  await writeFile(
    path,
    writeSafetensors([
      { name: "weight", dtype: "F32", shape: [4, 8], data: weight },
      { name: "col_norms", dtype: "F32", shape: [8], data: norms },
    ]),
  );
  return path;
}

/** Runs prune-layer; returns the status and the captured output. */
async function run(args: string[]) {
  const io = capture();
  const code = await pruneLayer(args, io);
  return { code, out: io.out, err: io.err };
}

/** Asserts exit 2 with exactly one `error: ...` line matching `pattern`, no stack trace. */
function assertOneLineError(r: { code: number; err: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /^error: [^\n]+\n$/);
  assert.match(r.err, pattern);
}

const WANDA = ["--method", "wanda", "--sparsity", "0.5"];

Deno.test("prune-layer refuses NaN/infinity naming file, tensor, value, index and row/col; --allow-nonfinite proceeds", async () => {
  await inTempDir(async (dir) => {
    const input = await layer(dir, { tensor: "weight", index: 13, value: Number.NaN });
    const out = join(dir, "out.safetensors");
    assertOneLineError(
      await run(["--in", input, "--out", out, ...WANDA]),
      /Tensor "weight" has a non-finite value NaN at index 13 \(row 1, col 5\) in .*layer-weight-NaN\.safetensors/,
    );
    await assert.rejects(stat(out)); // nothing written
    // --allow-nonfinite skips the check; the selector itself cannot order a NaN score (exit 2).
    assertOneLineError(
      await run(["--in", input, "--out", out, ...WANDA, "--allow-nonfinite"]),
      /score 5 is NaN/,
    );
    // An infinite weight can be ordered: the run proceeds, and the infinite weight is kept.
    const infinite = await layer(dir, { tensor: "weight", index: 13, value: Infinity });
    assertOneLineError(
      await run(["--in", infinite, "--out", out, ...WANDA]),
      /Infinity at index 13/,
    );
    const allowed = await run(["--in", infinite, "--out", out, ...WANDA, "--allow-nonfinite"]);
    assert.equal(allowed.code, 0, allowed.err);
    assert.equal(readSafetensors(await readFile(out)).float32("weight")[13], Infinity);

    const norms = await layer(dir, { tensor: "col_norms", index: 7, value: -Infinity });
    assertOneLineError(
      await run(["--in", norms, "--out", join(dir, "o2.safetensors"), ...WANDA]),
      /Tensor "col_norms" has a non-finite value -Infinity at index 7 in /,
    );
  });
});

Deno.test("prune-layer keeps an existing output without --force (bytes unchanged) and replaces it with --force", async () => {
  await inTempDir(async (dir) => {
    const input = await layer(dir), out = join(dir, "out.safetensors");
    const precious = new TextEncoder().encode("precious results");
    await writeFile(out, precious);
    assertOneLineError(
      await run(["--in", input, "--out", out, ...WANDA]),
      /the file exists; pass --force to replace it/,
    );
    assert.deepEqual(new Uint8Array(await readFile(out)), precious);
    assert.equal((await run(["--in", input, "--out", out, ...WANDA, "--force"])).code, 0);
    assert.deepEqual(readSafetensors(await readFile(out)).info("weight").shape, [4, 8]);
    assert.deepEqual((await readdir(dir)).sort(), ["layer-ok.safetensors", "out.safetensors"]);
  });
});

Deno.test("prune-layer refuses --out equal to --in, even with --force and through another spelling", async () => {
  await inTempDir(async (dir) => {
    const input = await layer(dir);
    const before = await readFile(input);
    const spellings = [
      input,
      join(dir, ".", "layer-ok.safetensors"),
      join(dir, "x", "..", "layer-ok.safetensors"),
    ];
    for (const out of spellings) {
      const r = await run(["--in", input, "--out", out, ...WANDA, "--force"]);
      assertOneLineError(r, /it is an input of this run/);
    }
    assert.deepEqual(await readFile(input), before);
  });
});

Deno.test("a failed write leaves no partial file under the final name and no temporary file", async () => {
  await inTempDir(async (dir) => {
    const input = await layer(dir);
    // The final name is a folder: refused before the work, naming it.
    const folder = join(dir, "out.safetensors");
    await mkdir(folder);
    const r = await run(["--in", input, "--out", folder, ...WANDA, "--force"]);
    assertOneLineError(r, /out\.safetensors": it is a folder; name a file/);
    assert.ok((await stat(folder)).isDirectory());
    assert.deepEqual((await readdir(dir)).sort(), ["layer-ok.safetensors", "out.safetensors"]);
    // A file where a folder should be: exit 2, named, nothing created.
    assertOneLineError(
      await run(["--in", input, "--out", join(dir, "layer-ok.safetensors", "o.st"), ...WANDA]),
      /layer-ok\.safetensors" is a file, not a folder/,
    );
    // A run interrupted in the middle of writing (the data source fails after the first chunk).
    const target = join(dir, "interrupted.bin");
    async function* failing() {
      yield new Uint8Array(1024);
      throw new Error("simulated crash while writing");
    }
    await assert.rejects(writeFileAtomic(target, failing()), /simulated crash/);
    await assert.rejects(stat(target));
    assert.deepEqual((await readdir(dir)).sort(), ["layer-ok.safetensors", "out.safetensors"]);
  });
});

Deno.test("prune-layer: bad files and flags give one line and exit 2; --debug adds the stack", async () => {
  await inTempDir(async (dir) => {
    const input = await layer(dir);
    const bytes = await readFile(input);
    const truncated = join(dir, "truncated.safetensors");
    await writeFile(truncated, bytes.subarray(0, bytes.length - 5));
    const out = join(dir, "o.safetensors");
    const cases: [string[], RegExp][] = [
      [
        ["--in", truncated, "--out", out, ...WANDA],
        /truncated\.safetensors.*end past the data section/,
      ],
      [["--in", join(dir, "missing"), "--out", out, ...WANDA], /cannot read .*missing/],
      [["--in", dir, "--out", out, ...WANDA], /EISDIR|directory/],
      [["--in", input, "--out", out, "--method", "wanda", "--sparsity", "1.5"], /1\.5/],
      [["--in", input, "--out", out, "--method", "wanda", "--sparsity", "NaN"], /NaN/],
      [["--in", input, "--out", out, "--method", "nope", "--sparsity", "0.5"], /--method must be/],
      [["--in", input, "--out", out, "--method", "wanda", "--pattern", "2:3"], /2:3|divisible|3/],
      [["--in", input, "--out", out, "--bogus"], /bogus/],
    ];
    for (const [args, pattern] of cases) assertOneLineError(await run(args), pattern);
    await assert.rejects(stat(out));
    const debug = await run(["--in", truncated, "--out", out, ...WANDA, "--debug"]);
    assert.equal(debug.code, 2);
    assert.match(debug.err, /^error: .*\n(RangeError|Error)[^]*\n\s+at /);
    assert.deepEqual(await readFile(input), bytes); // the input is never modified
  });
});

Deno.test("prune-layer runs with read/write limited to its files; a write outside them is exit 2, one line", async () => {
  await inTempDir(async (dir) => {
    const input = await layer(dir), outDir = join(dir, "results");
    await mkdir(outDir);
    const run = async (out: string) => {
      const command = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          `--allow-read=${input},${outDir}`,
          `--allow-write=${outDir}`,
          "scripts/prune-layer.ts",
          ...["--in", input, "--out", out, ...WANDA],
        ],
        stdout: "piped",
        stderr: "piped",
      });
      const { code, stderr } = await command.output();
      return { code, err: new TextDecoder().decode(stderr) };
    };
    const ok = await run(join(outDir, "o.safetensors"));
    assert.equal(ok.code, 0, ok.err);
    const outside = await run(join(dir, "o.safetensors"));
    assert.equal(outside.code, 2);
    assert.match(outside.err, /^[^\n]*Requires write access[^\n]*\n$/);
    assert.deepEqual((await readdir(dir)).sort(), ["layer-ok.safetensors", "results"]);
  });
});

Deno.test("prune refuses a model with NaN naming file, tensor and index; --allow-nonfinite runs on", async () => {
  const stories = "../shared/models/stories260K/stories260K.bin";
  const bytes = new Uint8Array(await readFile(stories));
  await inTempDir(async (dir) => {
    // token_embedding [512, 64] starts at byte 28: row 3 (the <0x00> byte token), col 5.
    new DataView(bytes.buffer).setFloat32(28 + 4 * (3 * 64 + 5), Number.NaN, true);
    const model = join(dir, "nan.bin");
    await writeFile(model, bytes);
    const small = ["--nsamples", "2", "--seqlen", "32", "--eval-tokens", "64", "--quiet"];
    const io = capture();
    const code = await pruneModelMain(["--model", model, ...small], io);
    assertOneLineError(
      { code, err: io.err },
      /Tensor "tokenEmbedding" has a non-finite value NaN at index 197 \(row 3, col 5\) in .*nan\.bin/,
    );
    const allowed = capture();
    await pruneModelMain(["--model", model, ...small, "--allow-nonfinite"], allowed);
    assert.doesNotMatch(allowed.err, /non-finite/);
    assert.match(allowed.out, /dense {2}ppl/); // the run went past the check and evaluated
  });
});

Deno.test("prune with workers but no read access to src/: exit 2, one line naming the folder and the way out", async () => {
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read=../shared",
      "--allow-env",
      "scripts/prune.ts",
      ...["--workers", "2", "--quiet", "--nsamples", "1", "--eval-tokens", "256"],
    ],
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stderr } = await command.output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 2, err);
  assert.match(
    err,
    /^error: --workers 2 needs read access to \S+src\/parallel\/ [^\n]*--workers 1\n$/,
  );
});

Deno.test("prune refuses a model that overflows on the calibration text, naming block, linear, window, token, column; --allow-nonfinite skips the check", async () => {
  const bytes = new Uint8Array(await readFile("../shared/models/stories260K/stories260K.bin"));
  await inTempDir(async (dir) => {
    // legacy layout in floats: embedding 512x64, rms_att 5x64, wq 5x64x64, wk, wv 5x32x64, wo
    // 5x64x64, then rms_ffn 5x64: multiply block 2's gains by 1e30 (every weight stays finite)
    const rmsFfn = 512 * 64 + 5 * 64 + 5 * 4096 + 2 * 5 * 2048 + 5 * 4096;
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < 64; i++) {
      const at = 28 + 4 * (rmsFfn + 2 * 64 + i);
      view.setFloat32(at, view.getFloat32(at, true) * 1e30, true);
    }
    const model = join(dir, "overflow.bin");
    await writeFile(model, bytes);
    const small = ["--nsamples", "2", "--seqlen", "32", "--eval-tokens", "64", "--quiet"];
    const io = capture();
    const code = await pruneModelMain(["--model", model, "--workers", "1", ...small], io);
    assertOneLineError(
      { code, err: io.err },
      /Calibration input of layers\.2\.w2 has a non-finite value -?Infinity at window [01], token \d+, column \d+ \(row \d+\): the model overflows on the calibration text \(--allow-nonfinite prunes anyway\)/,
    );
    // the same on two workers, where FISTAPruner prunes each block on a worker: the error keeps
    // its class across the pool, so the CLI still adds its hint
    for (const method of ["fista", "swiftprune"]) {
      const two = capture();
      const argv = ["--model", model, "--method", method, "--workers", "2", ...small];
      assertOneLineError(
        { code: await pruneModelMain(argv, two), err: two.err },
        /Calibration input of layers\.2\.w2 has a non-finite value .*\(--allow-nonfinite prunes anyway\)$/m,
      );
    }
    // --allow-nonfinite skips the check: magnitude (scores |W|, finite) prunes anyway; SwiftPrune's
    // scores of an infinite column are NaN, which its selection cannot rank: its own typed error
    const allowed = capture(), flags = [...small, "--allow-nonfinite", "--workers", "1"];
    const magnitude = await pruneModelMain(
      ["--model", model, "--method", "magnitude", ...flags],
      allowed,
    );
    assert.equal(magnitude, 0, allowed.err);
    assert.match(allowed.out, /pruned ppl/);
    const swift = capture();
    assertOneLineError(
      { code: await pruneModelMain(["--model", model, ...flags], swift), err: swift.err },
      /is NaN/,
    );
  });
});
