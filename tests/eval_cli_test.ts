import assert from "node:assert/strict";
import { runMain as runCaptured } from "./fuzz/cli_harness.ts";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main as pruneMain } from "../scripts/prune.ts";
import { main as evalMain } from "../scripts/eval.ts";

const SMALL = ["--seqlen", "64", "--eval-tokens", "256", "--workers", "1", "--quiet"];

Deno.test("eval: the dense and the pruned --out folder give prune's own two perplexities; the report holds every operator's sparsity", async () => {
  const dir = mkdtempSync(join(tmpdir(), "secateur-eval-"));
  try {
    const out = join(dir, "pruned");
    const p = await runCaptured(pruneMain, [
      ...SMALL,
      "--nsamples",
      "2",
      "--method",
      "wanda",
      "--out",
      out,
    ]);
    assert.equal(p.code, 0, p.err);
    const densePpl = p.out.match(/^dense {2}ppl (\S+) ± (\S+)/m)!;
    const prunedPpl = p.out.match(/^pruned ppl (\S+) ± (\S+)/m)!;

    const dense = await runCaptured(evalMain, SMALL);
    assert.equal(dense.code, 0, dense.err);
    assert.match(dense.out, /226,560 prunable weights, 0\.00% of them zero/);
    assert.match(
      dense.out,
      new RegExp(
        `^ppl ${densePpl[1]} ± ${densePpl[2]} \\(seqlen 64, 252 predicted tokens in 4 windows\\)`,
        "m",
      ),
    );

    const report = join(dir, "sub", "eval.json"); // a missing folder is created
    const pruned = await runCaptured(evalMain, [...SMALL, "--model", out, "--report", report]);
    assert.equal(pruned.code, 0, pruned.err);
    assert.match(pruned.out, /226,560 prunable weights, 50\.00% of them zero/);
    assert.match(pruned.out, new RegExp(`^ppl ${prunedPpl[1]} ± ${prunedPpl[2]} `, "m"));
    const r = JSON.parse(readFileSync(report, "utf8"));
    assert.equal(r.sparsity.operators.length, 5 * 7);
    for (const op of r.sparsity.operators) {
      assert.equal(op.zeros, Math.floor(op.cols / 2) * op.rows, op.name); // wanda: per row, floor(s * cols)
    }
    assert.equal(r.windows, 4);
    assert.equal(r.window_nlls.length, 4);
    assert.ok(Math.abs(Math.exp(r.nll) - r.ppl) < 1e-9 * r.ppl);
    // an existing report is refused before the work, without --force
    const again = await runCaptured(evalMain, [...SMALL, "--model", out, "--report", report]);
    assert.equal(again.code, 2);
    assert.match(
      again.err,
      /^error: Cannot write ".*eval\.json": the file exists; pass --force to replace it\n$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("eval: values beyond the model or the text, unknown flags and missing files are one line, exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--seqlen", "99999"],
      /^error: --seqlen 99999 is beyond the model's context of 512 tokens; use at most 512\n$/,
    ],
    [
      ["--eval-tokens", "999999999"],
      /^error: --eval-tokens 999999999 is beyond the \d+ tokens of TinyStories-validation-head\.txt; use at most \d+ \(or a longer text\)\n$/,
    ],
    [
      ["--model", "no/such/model.bin"],
      /^error: Cannot load the model: no model at .*no\/such\/model\.bin/,
    ],
    [["--eval", "no/such.txt"], /^error: Cannot read --eval file: no file at /],
    [["--sparsity", "0.5"], /^error: Unknown option '--sparsity'/],
    [["--workers", "0"], /^error: --workers must be an integer >= 1, got "0"\n$/],
    [["--report", "README.md/x.json"], /README\.md" is a file, not a folder\n$/],
  ];
  for (const [argv, message] of cases) {
    const r = await runCaptured(evalMain, [...argv, "--quiet"]);
    assert.equal(r.code, 2, `${argv.join(" ")}: ${r.err}`);
    assert.match(r.err, message);
    assert.equal(r.err.split("\n").length, 2, r.err);
  }
});
