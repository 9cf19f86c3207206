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
