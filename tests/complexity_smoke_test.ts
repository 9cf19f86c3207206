// Smoke test of `deno task complexity` at tiny sizes, in-process: the JSON and SVG are written, and
// every method of both sweeps has a fitted slope and every verdict a result. Timings are not checked.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { main, runComplexity } from "../scripts/complexity.ts";
import { capture } from "./lib/capture.ts";
import { LAYER_METHODS, LAYER_PRUNERS, ROW_SELECTORS } from "../src/bench/complexity_methods.ts";
import { comparePruners, sweepLayers } from "../scripts/lib/complexity_sweeps.ts";

Deno.test("complexity at tiny sizes writes a report with a slope per method", async () => {
  const dir = await Deno.makeTempDir();
  const out = join(dir, "cx.json"), svg = join(dir, "cx.svg");
  const printed: string[] = [];
  await runComplexity({
    quick: true,
    out,
    svg,
    selectLogs: [6, 7, 8],
    layerLogs: [8, 9, 10],
    measure: { minRuns: 2, minTotalMs: 1, maxTotalMs: 30, minSampleMs: 0.2, warmupMs: 0 },
    perRowRows: 2,
    errorSizes: [256],
    errorRows: 2,
    tokens: 8,
    prunerSquares: [],
    log: (t) => printed.push(t),
    progress: () => {},
  });
  const report = JSON.parse(readFileSync(out, "utf8"));
  for (
    const key of [
      "meta",
      "selection",
      "layers",
      "slopes",
      "perRow",
      "sparsityErrors",
      "pruners",
      "verdicts",
    ]
  ) {
    assert.ok(key in report, `missing ${key}`);
  }
  assert.deepEqual(
    Object.keys(report.slopes.selection).sort(),
    ROW_SELECTORS.map((s) => s.name).sort(),
  );
  assert.deepEqual(
    Object.keys(report.slopes.layers).sort(),
    LAYER_METHODS.map((m) => m.name).sort(),
  );
  for (
    const rec of [...Object.values(report.slopes.selection), ...Object.values(report.slopes.layers)]
  ) {
    assert.ok(Number.isFinite((rec as { slope: number }).slope));
  }
  assert.equal(report.selection.methods.sort.points.length, 3);
  assert.deepEqual(
    report.layers.methods["stream (floor)"].points.map((p: { shape: number[] }) => p.shape),
    [[16, 16], [16, 32], [32, 32]],
  );
  for (const v of report.verdicts) {
    assert.ok(v.pass === null || typeof v.pass === "boolean", JSON.stringify(v));
  }
  assert.ok(report.verdicts.some((v: { claim: string }) => v.claim.startsWith("target:")));
  // llama4m's four layer shapes, when ../shared is there: every pruner timed, ratio to SwiftPrune
  for (const [i, p] of report.pruners.entries()) {
    for (const name of LAYER_PRUNERS.map((q) => q.name)) {
      assert.ok(p.ms[name] > 0, `${name} at ${p.shape}`);
    }
    assert.ok(report.prunerRatios[i].ratios.sparsegpt > 0);
  }
  assert.ok(readFileSync(svg, "utf8").startsWith("<svg"));
  assert.ok(/verdict\s+claim/.test(printed.join("\n")));
  assert.deepEqual(readdirSync(dir).sort(), ["cx.json", "cx.svg"]); // no temp file left behind
  await Deno.remove(dir, { recursive: true });
});

Deno.test("complexity CLI: an unknown flag or a bad number exits 2 with one line", async () => {
  const unknown = capture();
  assert.equal(await main(["--nope"], unknown), 2);
  assert.match(unknown.err, /^error: .*nope.*\n$/);
  const badSeed = capture();
  assert.equal(await main(["--seed", "abc"], badSeed), 2);
  assert.equal(badSeed.err, "error: --seed must be a number, got abc\n");
  const badClock = capture();
  assert.equal(await main(["--clock", "sundial"], badClock), 2);
  assert.equal(badClock.err, "error: --clock must be cpu or wall, got sundial\n");
});

const tiny = {
  seed: 1,
  sparsity: 0.5,
  measure: { minRuns: 1, minTotalMs: 0, maxTotalMs: 5, minSampleMs: 0.1, warmupMs: 0 },
  progress: () => {},
};

Deno.test("sweepLayers says where the value pool had to be tiled", () => {
  const pool = { values: new Float32Array(300).map((_, i) => i - 150), source: "toy" };
  const sweep = sweepLayers([8, 9], LAYER_METHODS.slice(0, 1), pool, tiny);
  assert.match(sweep.input, /from toy; tiled \(pool repeated\) at 16x32 \(x2\)/);
  assert.deepEqual(sweep.methods["stream (floor)"].points.map((p) => p.n), [256, 512]);
});

Deno.test("comparePruners skips a pruner whose predicted time exceeds the budget", () => {
  const layer = (d: number) => ({
    weight: { data: new Float32Array(d * d), rows: d, cols: d },
    source: "zeros",
  });
  const slow = { name: "slow", costExponent: 3, run: () => 0 };
  const out = comparePruners([layer(4), layer(8)], [slow], 2, -1, tiny);
  assert.ok("slow" in out[0].ms); // nothing to predict from at the first layer
  assert.match(out[1].skipped.slow, /predicted .* > budget/);
  assert.ok(!("slow" in out[1].ms));
});
