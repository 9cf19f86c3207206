/**
 * `renderReportHtml` on a fixture report (`tests/golden/report_fixture.json`: the fields of
 * `prune --compare --report` for 5 methods on 14 layers, a 4-point `--sweep` and a pairwise
 * agreement matrix; its numbers are made up, the structure is the CLI's).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  heatColor,
  methodsOf,
  type PruneReport,
  renderReportHtml,
} from "../scripts/lib/report_html.ts";
import { pairwiseAgreement } from "../src/pipeline/layer_report.ts";

const FIXTURE: PruneReport = JSON.parse(
  readFileSync(new URL("./golden/report_fixture.json", import.meta.url), "utf8"),
);

function svgs(html: string): string[] {
  return [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
}

Deno.test("report html: self-contained (no script, no external resource), one document", () => {
  const html = renderReportHtml(FIXTURE);
  assert.ok(html.startsWith("<!DOCTYPE html>") && html.trimEnd().endsWith("</html>"));
  assert.doesNotMatch(html, /<script|<link|<img|@import|url\(/i);
  assert.doesNotMatch(html, /(src|href)=/);
  assert.equal(html.match(/<svg /g)?.length, html.match(/<\/svg>/g)?.length);
});

Deno.test("report html: the method table has dense plus one row per method, with ppl ratios", () => {
  const html = renderReportHtml(FIXTURE);
  const table = html.match(/<table>[\s\S]*?<\/table>/)![0];
  assert.equal(table.match(/<tr>/g)!.length, 1 + 1 + FIXTURE.methods!.length);
  for (const m of FIXTURE.methods!) {
    const ratio = Number((m.pruned.ppl / FIXTURE.dense.ppl).toPrecision(3));
    assert.ok(table.includes(`<td>${m.pruned.ppl}</td><td>${ratio}x</td>`), m.method);
  }
  assert.ok(table.includes("wanda &lt;&amp;&gt;")); // names are escaped
  assert.ok(!html.includes("wanda <&>"));
});

Deno.test("report html: perplexity chart has one point per method and sweep sparsity, on a log axis", () => {
  const chart = svgs(renderReportHtml(FIXTURE))[0];
  const points = [
    ...chart.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"[^>]*><title>([^<]*)<\/title>/g),
  ];
  assert.equal(points.length, FIXTURE.methods!.length * FIXTURE.sweep!.length);
  assert.equal(chart.match(/<polyline /g)?.length, FIXTURE.methods!.length);
  // magnitude's points: x grows with sparsity, and higher perplexity is drawn higher (smaller y)
  const mag = points.filter((p) => p[3].startsWith("magnitude:"));
  const ppl = FIXTURE.sweep!.map((s) => s.methods.find((m) => m.method === "magnitude")!.ppl);
  for (let i = 1; i < mag.length; i++) {
    assert.ok(Number(mag[i][1]) > Number(mag[i - 1][1]));
    assert.equal(Number(mag[i][2]) < Number(mag[i - 1][2]), ppl[i] > ppl[i - 1]);
  }
  // log scale: the vertical gap between two points is proportional to log(ppl ratio)
  const gap = (a: number, b: number) => Number(mag[a][2]) - Number(mag[b][2]);
  const ratio = gap(1, 3) / gap(1, 2),
    expected = Math.log(ppl[3] / ppl[1]) / Math.log(ppl[2] / ppl[1]);
  assert.ok(Math.abs(ratio - expected) < 0.01 * expected, `${ratio} vs ${expected}`);
  assert.match(chart, /dense 22\.46/);
});

Deno.test("report html: without a sweep, one point per method at its sparsity", () => {
  const { sweep: _sweep, ...single } = FIXTURE;
  const chart = svgs(renderReportHtml(single))[0];
  assert.equal(chart.match(/<circle /g)?.length, FIXTURE.methods!.length);
  assert.equal(chart.match(/<polyline /g), null);
});

Deno.test("report html: time bars are proportional to the times", () => {
  const time = svgs(renderReportHtml(FIXTURE))[1];
  const pruning = [...time.matchAll(/width="([\d.]+)" height="20" fill="#0072b2"><title>pruning/g)]
    .map((m) => Number(m[1]));
  const ms = FIXTURE.methods!.map((m) => m.times_ms.pruning);
  assert.equal(pruning.length, ms.length);
  for (let i = 1; i < ms.length; i++) {
    assert.ok(Math.abs(pruning[i] / pruning[0] - ms[i] / ms[0]) < 0.05 * (ms[i] / ms[0]));
  }
});

Deno.test("report html: per-layer heatmaps (sparsity, error, two agreements) and the pairwise matrix", () => {
  const html = renderReportHtml(FIXTURE);
  const cells = FIXTURE.methods!.length * FIXTURE.methods![0].layers.length;
  const maps = svgs(html).slice(2);
  assert.equal(maps.length, 5); // sparsity, error, pairwise agreement, vs magnitude, vs Wanda
  for (const i of [0, 1, 3, 4]) assert.equal(maps[i].match(/<rect /g)?.length, cells);
  assert.equal(maps[2].match(/<rect /g)?.length, 25);
  // the largest error is the darkest cell of the error map
  const worst = Math.max(...FIXTURE.methods!.flatMap((m) => m.layers.map((l) => l.error)));
  const darkest = heatColor(1);
  const title = [...maps[1].matchAll(/fill="(rgb\([^)]*\))"><title>([^<]*)</g)].find((m) =>
    m[1] === darkest
  );
  assert.ok(title && title[2].endsWith(String(Number(worst.toPrecision(2)))), title?.[2]);
});

Deno.test("report html: a single-method report renders; a report without methods is a TypeError", () => {
  const entry = FIXTURE.methods![2];
  const single: PruneReport = {
    ...FIXTURE,
    methods: undefined,
    sweep: undefined,
    agreement: undefined,
    ...entry,
  };
  assert.equal(methodsOf(single).length, 1);
  const html = renderReportHtml(single);
  assert.equal(html.match(/<table>[\s\S]*?<\/table>/)![0].match(/<tr>/g)!.length, 3);
  assert.throws(
    () => renderReportHtml({ ...single, pruned: undefined, methods: undefined }),
    TypeError,
  );
});

Deno.test("heatColor: white at 0, dark blue at 1, monotone in between, NaN as 0", () => {
  assert.equal(heatColor(0), "rgb(247,251,255)");
  assert.equal(heatColor(1), "rgb(8,48,107)");
  assert.equal(heatColor(Number.NaN), heatColor(0));
  const red = (t: number) => Number(/rgb\((\d+)/.exec(heatColor(t))![1]);
  for (let t = 0.1; t <= 1; t += 0.1) assert.ok(red(t) <= red(t - 0.1));
});

Deno.test("pairwiseAgreement: fractions over all layers, symmetric, 1 on the diagonal; mismatches throw", () => {
  const a = { x: new Uint8Array([1, 1, 0, 0]), y: new Uint8Array([1, 0]) };
  const b = { x: new Uint8Array([1, 0, 0, 1]), y: new Uint8Array([1, 0]) };
  const c = { x: new Uint8Array([0, 0, 1, 1]), y: new Uint8Array([0, 1]) };
  const { matrix } = pairwiseAgreement(["a", "b", "c"], [a, b, c]);
  assert.deepEqual(matrix, [[1, 4 / 6, 0], [4 / 6, 1, 2 / 6], [0, 2 / 6, 1]]);
  assert.throws(
    () => pairwiseAgreement(["a", "d"], [a, { x: a.x }]),
    /d does not have the layers of a/,
  );
});
