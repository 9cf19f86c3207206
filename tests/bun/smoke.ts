/**
 * Bun smoke test (plain top-level code, not a Deno.test). CI runs it from the repository root:
 *
 *     npx -y bun@1.4.5 tests/bun/smoke.ts
 *
 * It writes the small conformance suite under Bun and checks that every file is byte-identical to
 * the suite Deno writes (`tests/golden/conformance-small.sha256`), runs `prune-layer` on the
 * hand-checkable 2x4 layer and checks the mask and weight worked out by hand, then round-trips
 * `verify --run` over the suite. Prints `bun smoke ok` on success; throws (exit 1) otherwise.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { readSafetensors } from "../../src/io/safetensors.ts";
import { main as conformance } from "../../scripts/conformance.ts";
import { main as pruneLayer } from "../../scripts/prune-layer.ts";
import { main as verify } from "../../scripts/verify.ts";
import { suiteDigests } from "./digests.ts";
import { createHash } from "node:crypto";
import { encodeCorpus, loadTokenizer } from "../../scripts/lib/model_inputs.ts";
import { folderSource } from "../../scripts/lib/hf_files.ts";
import { openHfFolder } from "../../src/io/hf_folder.ts";
import { capture } from "../lib/capture.ts";

const runtime = typeof (globalThis as { Bun?: unknown }).Bun === "object" ? "bun" : "not bun";
const io = capture();
const log = () => io.out + io.err;

const dir = await mkdtemp(join(tmpdir(), "secateur-bun-"));
try {
  const suite = join(dir, "suite"), outputs = join(dir, "outputs");
  assert.equal(await conformance(["--out", suite, "--small"], io), 0, log());
  const golden = await readFile("tests/golden/conformance-small.sha256", "utf8");
  assert.equal(await suiteDigests(suite), golden, "the small suite differs from Deno's");

  // wanda 50% per row on W = [[1,-4,2,3],[.5,-.25,8,-2]], col_norms [1,1,4,2] (by hand: scores
  // 1,4,8,6 / .5,.25,32,4 -> keep 0011 0011)
  const out = join(dir, "hand.safetensors");
  const args = ["--method", "wanda", "--sparsity", "0.5", "--select", "ewma-exact", "--quiet"];
  assert.equal(
    await pruneLayer(
      ["--in", join(suite, "inputs/hand2x4.safetensors"), "--out", out, ...args],
      io,
    ),
    0,
    log(),
  );
  const result = readSafetensors(new Uint8Array(await readFile(out)));
  assert.deepEqual(Array.from(result.raw("mask")), [0, 0, 1, 1, 0, 0, 1, 1]);
  assert.deepEqual(Array.from(result.float32("weight")), [0, 0, 2, 3, 0, 0, 8, -2]);
  assert.deepEqual(Array.from(result.float32("scores")), [1, 4, 8, 6, 0.5, 0.25, 32, 4]);

  // Hugging Face: qwen2's tokenizer.json (npm @huggingface/tokenizers) gives transformers' ids of
  // wiki.test.raw, and the folder reader widens its BF16 weights
  const wiki = "wikitext-2-raw/wiki.test.raw";
  const want = JSON.parse(await readFile("tests/golden/hf/token_ids.json", "utf8")).ids.qwen2[wiki];
  const tok = await loadTokenizer("../shared/models/hf/qwen2/tokenizer.json");
  const ids = await encodeCorpus(tok, `../shared/text/${wiki}`, "eval");
  assert.equal(ids.length, want.length);
  assert.equal(createHash("sha256").update(new Uint8Array(ids.buffer)).digest("hex"), want.sha256);
  const src = folderSource("../shared/models/hf/qwen2");
  try {
    const folder = await openHfFolder(src);
    assert.equal(folder.dtype, "BF16");
    assert.equal((await folder.tensors.float32("model.embed_tokens.weight")).length, 2048 * 256);
  } finally {
    await src.close();
  }

  io.out = "";
  assert.equal(await verify(["--suite", suite, "--outputs", outputs, "--run"], io), 0, log());
  const summary = /verify: (\d+) of (\d+) cases passed/.exec(io.out);
  assert.ok(summary && summary[1] === summary[2], log());
  process.stdout.write(
    `bun smoke ok (${runtime}; ${summary[2]} cases, suite identical to Deno's)\n`,
  );
} finally {
  await rm(dir, { recursive: true });
}
