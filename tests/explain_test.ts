/**
 * `scripts/explain.ts` and its pure views (`scripts/lib/trace_view.ts`). The expected trace values
 * are those of `docs/swiftprune.md` example-ewma, derived there by hand and by an independent
 * exact-arithmetic script.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selectEwmaTrace } from "../src/select/ewma.ts";
import { selectBySort } from "../src/select/sort.ts";
import {
  COLORS,
  formatTrace,
  maskText,
  traceSvg,
  type TraceView,
} from "../scripts/lib/trace_view.ts";
import { main } from "../scripts/explain.ts";
import { capture } from "./lib/capture.ts";

const ROW = [8, 1, 16, 2, 32, 4, 64, 0.5];
const view = (scores: number[], k: number, title = "t"): TraceView => ({
  title,
  selection: selectEwmaTrace(scores, k),
  sortKeep: selectBySort(scores, k),
});

Deno.test("formatTrace: one table line per step with the hand-derived thresholds and decisions", () => {
  const text = formatTrace(view(ROW, 4));
  const lines = text.split("\n").filter((l) => /^ +\d+ +\S+ +\S+ +(keep|prune)$/.test(l));
  assert.equal(lines.length, 8);
  const thresholds = ["6", "6.453", "5.975", "6.44", "5.983", "6.461", "6.023", "6.516"];
  lines.forEach((line, i) => {
    const [step, score, threshold, decision] = line.trim().split(/ +/);
    assert.equal(Number(step), i);
    assert.equal(Number(score), ROW[i]);
    assert.equal(threshold, thresholds[i]);
    assert.equal(decision, i % 2 ? "prune" : "keep");
  });
  assert.match(text, /averaged threshold 6\.243 would prune 4/);
  assert.match(text, /mask ewma: 1\.1\.1\.1\.\nmask sort: 1\.1\.1\.1\./);
});

Deno.test("formatTrace: --steps limits the table; k = 0 and k = n skip the tracker", () => {
  assert.match(formatTrace(view(ROW, 4), 2), /\.\.\. 6 more steps/);
  assert.equal(
    formatTrace(view(ROW, 4), 2).split("\n").filter((l) => /(keep|prune)$/.test(l)).length,
    2,
  );
  const none = formatTrace(view(ROW, 0));
  assert.match(none, /nothing to track/);
  assert.match(none, /achieved 0 of 8 pruned \(0\.00%\)/);
  assert.match(formatTrace(view(ROW, 8)), /mask ewma: \.{8}/);
});

Deno.test("formatTrace: reports a miss of the approximate selector against sort", () => {
  const scores = Array.from({ length: 300 }, (_, i) => 1 + (i % 3)); // three values: ties at the border
  const v = view(scores, 150);
  const agree = v.selection.keep.reduce((a, k, i) => a + (k === v.sortKeep[i] ? 1 : 0), 0);
  const text = formatTrace(v);
  assert.match(text, new RegExp(`achieved ${v.selection.pruned} of 300 pruned`));
  assert.match(text, new RegExp(`masks agree on ${agree} of 300`));
  assert.ok(v.selection.pruned !== 150, "a threshold cannot split the tie at the border");
});

Deno.test("maskText: groups of 8, 64 per line", () => {
  const keep = new Uint8Array(130).map((_, i) => i % 2);
  const lines = maskText(keep, "  ").split("\n");
  assert.equal(lines.length, 3);
  assert.equal(lines[0], Array(8).fill(".1.1.1.1").join(" "));
  assert.equal(lines[2], "  .1");
});

Deno.test("traceSvg: one dot per step coloured by its decision, the threshold path, escaped title", () => {
  const v = view(ROW, 4, `"a" & <b>`);
  const svg = traceSvg(v);
  assert.ok(
    svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"') && svg.trimEnd().endsWith("</svg>"),
  );
  assert.ok(svg.includes("&quot;a&quot; &amp; &lt;b&gt;"));
  const dots = [...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)" r="4" fill="(#\w+)"\/>/g)];
  const steps = dots.filter((d) => Number(d[1]) < 300); // the legend's dots sit at the bottom
  assert.equal(steps.length, 8);
  steps.forEach((d, i) => assert.equal(d[2], i % 2 ? COLORS.pruned : COLORS.kept));
  assert.equal(svg.match(/<path d="M/g)?.length, 1);
  assert.equal(svg.match(/stroke-dasharray/g)?.length, 1);
  // higher scores are drawn higher (smaller y): 64 (step 6) above 0.5 (step 7)
  assert.ok(Number(steps[6][1]) < Number(steps[7][1]));
  // every opened element is closed or self-closed
  const open = svg.match(/<(svg|text)\b/g)!.length, close = svg.match(/<\/(svg|text)>/g)!.length;
  assert.equal(open, close);
});

Deno.test("explain: a given row prints the trace; --svg writes atomically and refuses to overwrite", async () => {
  const dir = await mkdtemp(join(tmpdir(), "explain-"));
  try {
    const svg = join(dir, "t.svg"), io = capture();
    const args = ["--row", ROW.join(","), "--method", "magnitude", "--svg", svg];
    assert.equal(await main(args, io), 0, io.err);
    assert.match(io.out, /prune k = 4 of n = 8/);
    assert.match(io.out, new RegExp(`wrote ${svg.replace(/[.]/g, "\\.")}`));
    assert.ok((await readFile(svg, "utf8")).startsWith("<svg"));
    const again = capture();
    assert.equal(await main(args, again), 2);
    assert.match(again.err, /^error: .*exists/);
    assert.equal(await main([...args, "--force"], capture()), 0);
  } finally {
    await rm(dir, { recursive: true });
  }
});

Deno.test("explain: wanda with --x protects the weight on the large channel", async () => {
  const io = capture();
  assert.equal(await main(["--row", "1.2,2,-2,1.5", "--x", "3,1,1,1", "--method", "wanda"], io), 0);
  assert.match(io.out, /mask sort: 1\.1\./); // scores 3.6, 2, 2, 1.5 (docs/wanda.md)
});

Deno.test("explain: a seeded random row is reproducible", async () => {
  const a = capture(), b = capture();
  await main(["--random", "200", "--seed", "3", "--steps", "0"], a);
  await main(["--random", "200", "--seed", "3", "--steps", "0"], b);
  assert.equal(a.out, b.out);
  assert.match(a.out, /prune k = 100 of n = 200/);
});

Deno.test("explain: with no arguments, a real row of stories260K with calibrated inputs", async () => {
  const io = capture();
  assert.equal(await main(["--steps", "1"], io), 0, io.err);
  assert.match(
    io.out,
    /^swiftprune scores of row 0 of layers\.0\.wq \[64 x 64\] of stories260K\.bin, x from 256 tokens/,
  );
  assert.match(io.out, /achieved 32 of 64 pruned/);
});

Deno.test("explain: bad input exits 2 with one line naming the value", async () => {
  const cases: [string[], RegExp][] = [
    [["--sparsity", "1"], /--sparsity must be a number in \[0, 1\), got "1"/],
    [["--method", "sparsegpt"], /--method must be magnitude, wanda, swiftprune, got "sparsegpt"/],
    [["--row", "1,x,3"], /--row: entry 2 is not a number/],
    [["--row", "1,2", "--x", "1"], /--x has 1 entries, the row has 2/],
    [["--row", "1,2", "--random", "4"], /exclude each other/],
    [["--linear", "wz"], /--linear must be/],
    [["--row", "64"], /--row must be below 64 for wq, got 64/],
    [["--model", "/nonexistent/m.bin"], /no file at \/nonexistent\/m\.bin/],
  ];
  for (const [args, message] of cases) {
    const io = capture();
    assert.equal(await main(args, io), 2, args.join(" "));
    assert.match(io.err, message);
    assert.equal(io.err.trim().split("\n").length, 1);
  }
});
