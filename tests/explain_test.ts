/**
 * `scripts/explain.ts` and its pure views (`scripts/lib/trace_view.ts`). The expected trace values
 * are those of `docs/swiftprune.md` example-ewma, derived there by hand and by an independent
 * exact-arithmetic script.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selectBySort } from "../src/select/sort.ts";
import {
  COLORS,
  disagreements,
  formatTrace,
  maskText,
  traceSvg,
  type TraceView,
  traceViewOf,
} from "../scripts/lib/trace_view.ts";
import { main } from "../scripts/explain.ts";
import { capture } from "./lib/capture.ts";

const ROW = [8, 1, 16, 2, 32, 4, 64, 0.5];
const view = (scores: number[], k: number, title = "t"): TraceView => traceViewOf(title, scores, k);

/** The table rows of a printed trace: step, score, T, p, D, tracker, final, and the mark. */
const TABLE_ROW = /^ +(\d+) +(\S+) +(\S+) +(\S+) +(\S+) +(keep|prune) +(keep|prune)( +\*)?$/;
const tableRows = (text: string) =>
  text.split("\n").map((l) => TABLE_ROW.exec(l)).filter((m) => m !== null);

Deno.test("formatTrace: one table line per step with the hand-derived T, p, D and decisions", () => {
  const text = formatTrace(view(ROW, 4));
  const rows = tableRows(text);
  assert.equal(rows.length, 8);
  // docs/swiftprune.md example-ewma, rounded as printed (T: 4 digits, p: 4 decimals, D: 3)
  const thresholds = ["6", "6.453", "5.975", "6.44", "5.983", "6.461", "6.023", "6.516"];
  const p = ["0.4375", "0.5078", "0.4443", "0.5138", "0.4496", "0.5184", "0.4536", "0.5219"];
  const D = ["1.813", "1.913", "1.862", "1.830", "1.915", "1.752", "1.970", "2.177"];
  rows.forEach((m, i) => {
    assert.equal(Number(m[1]), i);
    assert.equal(Number(m[2]), ROW[i]);
    assert.deepEqual([m[3], m[4], m[5]], [thresholds[i], p[i], D[i]], `step ${i}`);
    assert.equal(m[6], i % 2 ? "prune" : "keep");
    assert.equal(m[7], m[6], "on this row every provisional decision is final");
    assert.equal(m[8], undefined);
  });
  assert.match(text, /averaged threshold 6\.243 would prune 4/);
  assert.match(text, /0 of 8 provisional decisions differ/);
  assert.match(
    text,
    /mask ewma: +1\.1\.1\.1\.\nmask ewma-exact: +1\.1\.1\.1\.\nmask sort: +1\.1\.1\.1\./,
  );
});

Deno.test("formatTrace: marks the steps where the tracker's decision differs from the final mask", () => {
  const scores = Array.from({ length: 20 }, (_, i) => 2 ** (i % 7)); // 1, 2, ..., 64, 1, 2, ...
  const v = view(scores, 10), text = formatTrace(v);
  const sort = selectBySort(scores, 10); // the oracle of the final column
  const rows = tableRows(text);
  assert.equal(rows.length, 20);
  const marked: number[] = [];
  rows.forEach((m, i) => {
    assert.equal(m[7], sort[i] ? "keep" : "prune", `final column, step ${i}`);
    assert.equal(m[8] !== undefined, m[6] !== m[7], `mark of step ${i}`);
    if (m[8]) marked.push(i);
  });
  assert.ok(marked.length > 0, "this row has a provisional decision that is not final");
  assert.deepEqual(disagreements(v), marked);
  assert.match(
    text,
    new RegExp(
      `${marked.length} of 20 provisional decisions differ from the final mask \\(steps ${
        marked.join(", ")
      }\\)`,
    ),
  );
});

Deno.test("formatTrace: the exact selector's bracket, band and quickselect add up", () => {
  const scores = Array.from({ length: 1024 }, (_, i) => ((i * 7919) % 1021) + 1);
  const v = view(scores, 400), text = formatTrace(v, 0);
  const m =
    /the (\d+) scores below it are pruned, the (\d+) at or above it kept, and\n +quickselect prunes the (\d+) smallest of the (\d+) in the band/
      .exec(text);
  assert.ok(m, text);
  const [below, above, picked, band] = m.slice(1).map(Number);
  assert.equal(below + band + above, 1024);
  assert.equal(below + picked, 400);
  assert.deepEqual(v.exact!.keep, selectBySort(scores, 400));
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
  assert.match(formatTrace(view(ROW, 8)), /mask ewma: +\.{8}/);
});

Deno.test("formatTrace: reports a miss of the approximate selector against sort", () => {
  const scores = Array.from({ length: 300 }, (_, i) => 1 + (i % 3)); // three values: ties at the border
  const v = view(scores, 150);
  const agree = v.selection.keep.reduce((a, k, i) => a + (k === v.sortKeep[i] ? 1 : 0), 0);
  const text = formatTrace(v);
  assert.match(text, new RegExp(`achieved ${v.selection.pruned} of 300 pruned`));
  assert.match(
    text,
    new RegExp(`ewma agrees with sort on ${agree} of 300 weights, ewma-exact on 300`),
  );
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
  assert.match(io.out, /mask sort: +1\.1\./); // scores 3.6, 2, 2, 1.5 (docs/wanda.md)
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

Deno.test("explain: on the default row the tracker's provisional decisions differ from the final mask on 6 of 64", async () => {
  // the count reported for this row; the marks are checked against sort's mask
  const io = capture();
  assert.equal(await main([], io), 0, io.err);
  const rows = tableRows(io.out);
  assert.equal(rows.length, 64);
  const masks = /mask ewma-exact: ([.1 \n]+?)\nmask sort: ([.1 \n]+?)\n/.exec(io.out)!;
  const final = masks[2].replace(/\s/g, "");
  assert.equal(masks[1].replace(/\s/g, ""), final);
  rows.forEach((m, i) => {
    assert.equal(m[7], final[i] === "1" ? "keep" : "prune", `final column, step ${i}`);
    assert.equal(m[8] !== undefined, m[6] !== m[7], `mark of step ${i}`);
  });
  assert.equal(rows.filter((m) => m[8]).length, 6);
  assert.match(io.out, /6 of 64 provisional decisions differ from the final mask/);
});

Deno.test("explain: bad input exits 2 with one line naming the value", async () => {
  const cases: [string[], RegExp][] = [
    [["--sparsity", "1"], /--sparsity must be a number in \[0, 1\), got "1"/],
    [["--method", "sparsegpt"], /--method must be magnitude, wanda, swiftprune(, [a-z]+)*, got "sparsegpt"/],
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

Deno.test("traceSvg: a ring around each step whose provisional decision the final mask overturned", () => {
  const scores = Array.from({ length: 20 }, (_, i) => 2 ** (i % 7));
  const v = view(scores, 10);
  const rings = traceSvg(v).match(/<circle [^>]*fill="none"/g) ?? [];
  assert.equal(rings.length, disagreements(v).length + 1); // + the legend's
  assert.equal((traceSvg(view(ROW, 4)).match(/<circle [^>]*fill="none"/g) ?? []).length, 1);
});
