/**
 * Regression tests for the bugs the `cli/prune` fuzz target found in `scripts/prune.ts` (each was
 * an out-of-memory crash or a run that replaced a file it must not), on the fuzz target's tiny
 * fixtures; and a check that the target's generator knows every flag the CLI has.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { main as pruneMain } from "../scripts/prune.ts";
import { PRUNE_FLAGS, pruneCli, pruneFixtures } from "./fuzz/cli_prune_props.ts";
import { resetFixtures, runMain, writeFixtures } from "./fuzz/cli_harness.ts";

const TOKENIZER = "../shared/models/stories260K/tok512.bin";

/** Runs `body` on the fixtures in a fresh temporary folder; asserts they are unchanged after. */
async function withFixtures(body: (at: (name: string) => string) => Promise<void>) {
  const dir = Deno.makeTempDirSync({ prefix: "secateur-fuzz-prune-" });
  try {
    const fixtures = writeFixtures(dir, pruneFixtures());
    await body(fixtures.path);
    assert.deepEqual(resetFixtures(fixtures, () => false), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** A small valid command on the fixtures (`model` is `model.bin` or the HF folder `hf`). */
const command = (at: (name: string) => string, model = "model.bin") => [
  ...["--model", at(model), "--tokenizer", TOKENIZER, "--calib", at("calib.jsonl")],
  ...["--eval", at("eval.txt"), "--nsamples", "2", "--seqlen", "16", "--workers", "1", "--quiet"],
];

/** Asserts exit 2 with one `error: ...` line matching `pattern`. */
function assertRejected(r: { code: number; err: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /^error: [^\n]+\n$/);
  assert.match(r.err, pattern);
}

Deno.test("prune --workers 1e9 is refused before any pool is made (was: out of memory)", async () => {
  await withFixtures(async (at) => {
    for (const workers of ["1000000000", "1e11", "257"]) {
      const r = await runMain(pruneMain, [...command(at), "--workers", workers]);
      assertRejected(r, new RegExp(`--workers must be at most 256, got "${workers}"`));
    }
    const ok = await runMain(pruneMain, [...command(at), "--workers", "1", "--eval-tokens", "32"]);
    assert.equal(ok.code, 0, ok.err);
  });
});

Deno.test("prune --nsamples 1e9 is refused before the windows are drawn (was: out of memory)", async () => {
  await withFixtures(async (at) => {
    // 1e9 windows x 16 tokens x 16 (hidden_dim) = 2.56e11 floats > 2^32
    const r = await runMain(pruneMain, [...command(at), "--nsamples", "1000000000"]);
    assertRejected(r, /--nsamples 1000000000 x --seqlen 16 tokens x 16 .* over 2\^32 floats/);
    // 2^32 / (16 x 16) = 16,777,216 windows is the largest allowed: one more is refused
    const edge = await runMain(pruneMain, [...command(at), "--nsamples", "16777217"]);
    assertRejected(edge, /over 2\^32 floats/);
  });
});

Deno.test("prune refuses outputs that would replace each other (was: the page replaced the report)", async () => {
  await withFixtures(async (at) => {
    const same = `${at("folder")}/../report.json`; // another spelling of report.json
    const r = await runMain(pruneMain, [
      ...command(at),
      ...["--report", at("report.json"), "--html", same, "--force"],
    ]);
    assertRejected(r, /Cannot write ".*report\.json" twice: --out, --report, --html/);
    assert.throws(() => readFileSync(at("report.json")), /ENOENT/); // refused before any work
    const intoOut = await runMain(pruneMain, [
      ...command(at),
      ...["--out", at("pruned"), "--html", at("pruned/model.safetensors"), "--force"],
    ]);
    assertRejected(intoOut, /Cannot write ".*pruned\/model\.safetensors" twice/);
    // a report next to the model is fine
    const beside = await runMain(pruneMain, [
      ...command(at),
      ...["--out", at("pruned"), "--report", at("pruned/report.json"), "--eval-tokens", "32"],
    ]);
    assert.equal(beside.code, 0, beside.err);
  });
});

Deno.test("prune never replaces the files of an HF model folder it reads, even with --force (was: replaced)", async () => {
  await withFixtures(async (at) => {
    const intoModel = await runMain(pruneMain, [
      ...command(at, "hf"),
      "--out",
      at("hf"),
      "--force",
    ]);
    assertRejected(intoModel, /hf\/config\.json": it is an input of this run/);
    const report = await runMain(pruneMain, [
      ...command(at, "hf"),
      ...["--report", at("hf/model.safetensors"), "--force"],
    ]);
    assertRejected(report, /hf\/model\.safetensors": it is an input of this run/);
    // the same folder may be written when it is not this run's model
    const other = await runMain(pruneMain, [...command(at), "--out", at("pruned")]);
    assert.equal(other.code, 0, other.err);
  });
  // withFixtures asserted that hf/config.json and hf/model.safetensors are unchanged
});

Deno.test("the cli/prune generator covers every flag that prune --help lists", async () => {
  const help = await runMain(pruneMain, ["--help"]);
  assert.equal(help.code, 0);
  const listed = new Set([...help.out.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1]));
  assert.ok(listed.size > 20, [...listed].join(" "));
  assert.deepEqual([...listed].filter((f) => !PRUNE_FLAGS.includes(f)), []);
  assert.deepEqual(PRUNE_FLAGS.filter((f) => !listed.has(f) && f !== "help"), []);
});

Deno.test("the cli/prune checker rejects wrong outputs (so the property can fail)", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "secateur-fuzz-prune-" });
  try {
    const target = pruneCli(dir, TOKENIZER);
    const at = (name: string) => join(dir, name);
    const argv = [
      ...command(at),
      ...["--out", at("pruned"), "--report", at("report.json"), "--html", at("page.html")],
    ];
    const good = await target.parse(argv);
    await target.check(argv, good); // passes as written
    const tampered = (name: string, edit: (bytes: Uint8Array) => void) => {
      const files = { ...good.files, [name]: good.files[name].slice() };
      edit(files[name]);
      return { ...good, files };
    };
    const enc = new TextEncoder();
    const noPpl = { ...good, files: { ...good.files, report: enc.encode('{"dense": {}}') } };
    await assert.rejects(async () => await target.check(argv, noPpl), /dense\.ppl/);
    const cut = tampered("html", () => {});
    cut.files.html = cut.files.html.subarray(0, 100);
    await assert.rejects(async () => await target.check(argv, cut));
    // a mask value of 2, then a kept mask bit turned into "pruned" where the weight is not zero
    const masks = good.files["masks.safetensors"];
    const last = masks.length - 1; // the last byte is a mask value (U8 data ends the file)
    await assert.rejects(
      async () =>
        await target.check(argv, tampered("masks.safetensors", (b) => void (b[last] = 2))),
      /mask value 2/,
    );
    const keptAt = masks.lastIndexOf(1);
    await assert.rejects(
      async () =>
        await target.check(argv, tampered("masks.safetensors", (b) => void (b[keptAt] = 0))),
      /pruned but|masks/,
    );
    const noPruned = {
      ...good,
      run: { ...good.run, out: good.run.out.replace("pruned ppl", "x") },
    };
    await assert.rejects(async () => await target.check(argv, noPruned)); // no result line
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("cli/prune: a model with an infinite weight pruned with --allow-nonfinite is a correct run with a NaN perplexity", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "secateur-fuzz-prune-" });
  try {
    const target = pruneCli(dir, TOKENIZER);
    const at = (name: string) => join(dir, name);
    const argv = [
      ...["--model", at("inf.bin"), "--tokenizer", TOKENIZER, "--calib", at("calib.txt")],
      ...["--eval", at("calib.jsonl"), "--method", "magnitude", "--sparsity", "0.5"],
      ...["--nsamples", "2", "--seqlen", "4", "--eval-tokens", "16", "--workers", "1"],
      ...["--allow-nonfinite", "--report", at("r.json")],
    ];
    const result = await target.parse(argv);
    assert.equal(result.run.code, 0, result.run.err);
    assert.match(result.run.out, /^pruned ppl NaN/m);
    await target.check(argv, result); // was: the checker wanted a finite perplexity
    const strict = { ...result, flags: { ...result.flags, "allow-nonfinite": undefined } };
    await assert.rejects(async () => await target.check(argv, strict), /ppl/); // without the flag
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
