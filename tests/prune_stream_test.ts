import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../scripts/prune.ts";
import { capture } from "./lib/capture.ts";

const HF = new URL("../../shared/models/hf", import.meta.url).pathname;

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capture();
  return { code: await main(argv, io), out: io.out, err: io.err };
}

/** sha256 of every file of a folder, by name. */
function digests(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir).sort().map((
      n,
    ) => [n, createHash("sha256").update(readFileSync(join(dir, n))).digest("hex")]),
  );
}

/** The lines that carry results (not times, paths or the memory peak). */
const results = (out: string) =>
  out.split("\n").filter((l) => /^(dense|pruned) +ppl/.test(l)).map((l) =>
    l.replace(/\) [\d.]+ s$/, ")")
  );

for (const [name, method] of [["llama3", "sparsegpt"], ["pythia", "wanda"]] as const) {
  Deno.test(`prune --stream on ${name} (${method}): the whole-model run's perplexities and --out files, input unchanged`, async () => {
    const model = join(HF, name), before = digests(model);
    const tmp = mkdtempSync(join(tmpdir(), "secateur-stream-"));
    try {
      const args = [
        "--model",
        model,
        "--method",
        method,
        "--nsamples",
        "2",
        "--seqlen",
        "64",
        "--eval-tokens",
        "512",
        "--quiet",
        "--workers",
        "1",
      ];
      const whole = await run([...args, "--out", join(tmp, "whole")]);
      const streamed = await run([...args, "--out", join(tmp, "streamed"), "--stream"]);
      // the same on two workers: blocks read into shared memory, forwards and pruning on the pool
      const pooled = await run([
        ...args.slice(0, -1),
        "2",
        "--out",
        join(tmp, "pooled"),
        "--stream",
      ]);
      assert.equal(whole.code, 0, whole.err);
      assert.equal(streamed.code, 0, streamed.err);
      assert.equal(pooled.code, 0, pooled.err);
      assert.equal(results(streamed.out).length, 2);
      assert.deepEqual(results(streamed.out), results(whole.out));
      assert.deepEqual(results(pooled.out), results(whole.out));
      assert.match(pooled.out, /^workers 2 /m);
      assert.match(streamed.out, /peak memory /);
      assert.deepEqual(digests(join(tmp, "streamed")), digests(join(tmp, "whole")));
      assert.deepEqual(digests(join(tmp, "pooled")), digests(join(tmp, "whole")));
      assert.deepEqual(digests(model), before);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

Deno.test("prune --stream refuses a llama2.c file and --compare, in one line", async () => {
  const a = await run(["--stream", "--quiet"]);
  assert.equal(a.code, 2);
  assert.match(
    a.err,
    /^error: --stream reads an HF model folder, got --model .*stories260K\.bin\n$/,
  );
  const b = await run(["--stream", "--compare", "--model", join(HF, "llama3")]);
  assert.equal(b.code, 2);
  assert.match(
    b.err,
    /^error: --stream prunes with one method at one target; drop --compare and --sweep\n$/,
  );
});
