import assert from "node:assert/strict";
import { runMain as runCaptured } from "./fuzz/cli_harness.ts";
import { main } from "../scripts/prune.ts";
import { createProgress, QUIET_LINE_MS } from "../scripts/lib/progress.ts";
import { Eta, formatDuration } from "../src/pipeline/eta.ts";

const SMALL = ["--nsamples", "2", "--seqlen", "64", "--eval-tokens", "256", "--workers", "1"];

Deno.test("prune off a terminal: a line per phase, method and sweep point with elapsed and left; --quiet none; the sweep in the table", async () => {
  const r = await runCaptured(main, [...SMALL, "--method", "wanda", "--sweep", "0.3,0.5"]);
  assert.equal(r.code, 0, r.err);
  const lines = r.err.trimEnd().split("\n");
  const stamp = /^\[\d+(\.\d)? m?s elapsed, (about \d+(\.\d)? m?s left|done|estimating)\] /;
  for (const line of lines) assert.match(line, stamp);
  const texts = lines.map((l) => l.replace(stamp, ""));
  // phases: loading, encoding, dense; wanda at 50% (pruned, evaluated), at 30%; two sweep points
  assert.equal(texts.filter((t) => /^dense ppl/.test(t)).length, 1, r.err);
  assert.equal(texts.filter((t) => /^wanda at (30|50)%: pruned/.test(t)).length, 2, r.err);
  assert.equal(texts.filter((t) => /^wanda: ppl .* \(at (30|50)%\)$/.test(t)).length, 2, r.err);
  assert.equal(texts.filter((t) => /^sweep (30|50)\.00%: wanda /.test(t)).length, 2, r.err);
  assert.match(lines.at(-1)!, /elapsed, done\]/);
  assert.ok(!r.err.includes("\r"), "no bar off a terminal");
  // the sweep's table on stdout, with the sweep lines' numbers
  const row = r.out.split("\n").find((l) => l.startsWith("wanda "))!;
  assert.match(r.out, /^ppl by sparsity +0% +30% +50%$/m);
  for (const [, pct, ppl] of r.err.matchAll(/sweep (\d+)\.00%: wanda (\S+)/g)) {
    assert.ok(row.includes(ppl), `${pct}%: ${ppl} not in "${row}"`);
  }
  const quiet = await runCaptured(main, [...SMALL, "--method", "wanda", "--quiet"]);
  assert.equal(quiet.code, 0, quiet.err);
  assert.equal(quiet.err, "");
});

Deno.test("progress on a terminal: live bars with an estimate, cleared before a step's line", () => {
  let err = "", t = 0;
  const p = createProgress({ stdout: () => {}, stderr: (s) => void (err += s), isTTY: true }, {
    units: 2,
    now: () => t,
  });
  t = 1000;
  p.bar(1, 4, "block 1", 1); // a quarter of a 1-unit step in 1 s: 1.75 units left at 4 s each
  assert.equal(
    err,
    `\r[${"#".repeat(8)}${".".repeat(22)}] 1/4 block 1 (1.0 s elapsed, about 7.0 s left)\x1b[K`,
  );
  err = "";
  t = 2000;
  p.step("first");
  assert.equal(err, "\r\x1b[K[2.0 s elapsed, about 2.0 s left] first\n");
  p.plan(2); // two more units: 3 left at 2 s each
  err = "";
  p.step("a phase that costs nothing", 0);
  assert.equal(err, "[2.0 s elapsed, about 6.0 s left] a phase that costs nothing\n");
});

Deno.test("Eta: bad totals and steps are RangeErrors; estimates never below zero; durations", () => {
  assert.throws(() => new Eta(0, 0), RangeError);
  assert.throws(() => new Eta(Number.NaN, 0), RangeError);
  assert.throws(() => new Eta(1, Number.POSITIVE_INFINITY), RangeError);
  const eta = new Eta(2, 0);
  assert.throws(() => eta.advance(-1), RangeError);
  eta.advance(5); // more than planned: capped at the total
  assert.equal(eta.remainingMs(10), 0);
  assert.equal(formatDuration(-5), "0 ms");
  assert.equal(formatDuration(59_400), "59.4 s");
  assert.equal(formatDuration(60_000), "1 min 00 s");
});

Deno.test("progress off a terminal: inside a long step, a line at most every QUIET_LINE_MS, with the estimate", () => {
  let err = "", t = 0;
  const printed = (): string => err;
  const io = { stdout: () => {}, stderr: (s: string) => void (err += s), isTTY: false };
  const p = createProgress(io, { units: 1, now: () => t });
  t = 1000;
  p.bar(1, 100, "block 1"); // too soon after the start: nothing
  assert.equal(printed(), "");
  t = QUIET_LINE_MS;
  p.bar(10, 100, "block 10"); // a tenth in 30 s: 4 min 30 s left
  assert.equal(printed(), "[30.0 s elapsed, about 4 min 30 s left] 10/100 block 10\n");
  t += QUIET_LINE_MS - 1;
  p.bar(20, 100, "block 20");
  assert.equal(printed().split("\n").length, 2, printed()); // still one line
});
