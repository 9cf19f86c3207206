/**
 * `prune --html FILE` and `--sweep`: the page is written next to (or without) the JSON report, the
 * sweep reruns every method at each sparsity, and the pairwise mask agreement of `--compare` agrees
 * with the per-layer agreement the layer report computes independently.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../scripts/prune.ts";
import { methodNames } from "../src/prune/methods.ts";
import { capture } from "./lib/capture.ts";

const SMALL = ["--nsamples", "2", "--seqlen", "64", "--eval-tokens", "256", "--quiet"];

async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "secateur-html-"));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

Deno.test("prune --html --sweep: one method at two sparsities, the page and the JSON agree", async () => {
  await inTempDir(async (dir) => {
    const html = join(dir, "r.html"), json = join(dir, "r.json"), io = capture();
    const args = [
      ...SMALL,
      "--method",
      "wanda",
      "--sweep",
      "0.5,0.3",
      "--html",
      html,
      "--report",
      json,
    ];
    assert.equal(await main(args, io), 0, io.err);
    assert.match(
      io.out,
      new RegExp(`wrote ${json.replace(/\./g, "\\.")}\nwrote ${html.replace(/\./g, "\\.")}\n`),
    );
    const report = JSON.parse(readFileSync(json, "utf8"));
    assert.deepEqual(report.sweep.map((p: { sparsity: number }) => p.sparsity), [0.3, 0.5]);
    const [low, same] = report.sweep.map((p: { methods: { ppl: number; sparsity: number }[] }) =>
      p.methods[0]
    );
    assert.equal(same.ppl, report.pruned.ppl); // 0.5 is the main run, reused
    assert.ok(Math.abs(low.sparsity - 0.3) < 0.01, `achieved ${low.sparsity}`);
    assert.equal(report.agreement, undefined); // one method: nothing to compare
    const page = readFileSync(html, "utf8");
    assert.ok(page.startsWith("<!DOCTYPE html>") && page.includes("(30.0%, 50.0%)"));
    assert.equal(await main(args, capture()), 2); // both exist: refused without --force
  });
});

Deno.test("prune --compare --html: agreement with magnitude equals the layer report's, weighted by size", async () => {
  await inTempDir(async (dir) => {
    const html = join(dir, "c.html"), json = join(dir, "c.json"), io = capture();
    assert.equal(
      await main([...SMALL, "--compare", "--html", html, "--report", json], io),
      0,
      io.err,
    );
    const report = JSON.parse(readFileSync(json, "utf8"));
    const names = methodNames();
    assert.deepEqual(report.agreement.methods, names);
    // The layer report compares each method's mask with a magnitude mask of the same weights:
    // inputs do not matter, so over all layers it is exactly the pairwise agreement with the
    // magnitude method. (Its Wanda reference uses each method's own propagated inputs, so the
    // pairwise agreement with the wanda method differs after block 0: not compared here.)
    type Layer = { rows: number; cols: number; agree_magnitude: number };
    const weighted = (layers: Layer[]) =>
      layers.reduce((s, l) => s + l.agree_magnitude * l.rows * l.cols, 0) /
      layers.reduce((s, l) => s + l.rows * l.cols, 0);
    const mag = names.indexOf("magnitude");
    report.methods.forEach((m: { layers: Layer[] }, i: number) => {
      assert.ok(Math.abs(report.agreement.matrix[mag][i] - weighted(m.layers)) < 1e-9, names[i]);
      assert.equal(report.agreement.matrix[i][i], 1);
      for (let j = 0; j < names.length; j++) {
        assert.equal(report.agreement.matrix[i][j], report.agreement.matrix[j][i]);
      }
    });
    assert.ok(readFileSync(html, "utf8").includes("Between methods (all layers)"));
  });
});

Deno.test("prune --sweep: bad lists and --pattern exit 2 with one line", async () => {
  for (
    const [args, message] of [
      [["--sweep", "0.1,1.2"], /^error: --sweep: 1\.2 is not a sparsity in \[0, 1\)\n$/],
      [["--sweep", "0.3", "--pattern", "2:4"], /^error: --sweep varies the unstructured sparsity/],
    ] as const
  ) {
    const io = capture();
    assert.equal(await main([...SMALL, ...args], io), 2);
    assert.match(io.err, message);
  }
});
