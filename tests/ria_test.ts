/**
 * RIA (`src/score/ria.ts`): the fast scores equal the reference twin, the worked example of
 * `docs/ria.md` is what the code computes, the row split gives the whole layer's scores, the
 * reading for all-zero rows and columns, the option, and the method end to end through both CLIs.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  columnAbsSums,
  RIA_DEFAULT_POWER,
  riaMethod,
  riaScores,
  riaScoresReference,
} from "../src/score/ria.ts";
import { columnNorms, wandaScores } from "../src/score/wanda.ts";
import { buildMask } from "../src/select/mask.ts";
import { methodByName } from "../src/prune/methods.ts";
import { readSafetensors, writeSafetensors } from "../src/io/safetensors.ts";
import { fromRows, type Matrix, matrix } from "../src/tensor/matrix.ts";
import { createRng, randn } from "../src/tensor/rng.ts";
import { main as pruneLayerMain } from "../scripts/prune-layer.ts";
import { numbers, parseExamples, rowsOf, scalar } from "./doc_examples.ts";
import { capture } from "./lib/capture.ts";

const close = (
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  tol = 1e-5,
) => {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const bound = tol * Math.max(1, Math.abs(expected[i]));
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= bound,
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
  }
};

Deno.test("RIA: the fast scores equal the reference twin, bit for bit (random layers, powers 0, 0.5, 1)", () => {
  const rng = createRng(5);
  for (const [rows, cols] of [[1, 8], [7, 16], [33, 24]]) {
    const w = matrix(rows, cols, randn(rows * cols, rng));
    const x = matrix(20, cols, randn(20 * cols, rng));
    const colNorms = columnNorms(x);
    for (const power of [0, RIA_DEFAULT_POWER, 1]) {
      const fast = riaScores(w, { colNorms, colSums: columnAbsSums(w) }, { power });
      assert.deepEqual(
        fast,
        riaScoresReference(w, colNorms, { power }),
        `${rows}x${cols} a=${power}`,
      );
    }
  }
});

Deno.test("docs/ria.md example-ria: sums, relative importance, scores and masks", () => {
  const ex = parseExamples(
    readFileSync(new URL("../docs/ria.md", import.meta.url), "utf8"),
    "ria.md",
  )
    .get("ria");
  assert.ok(ex, "docs/ria.md has an example-ria block");
  const W = fromRows(rowsOf(ex, "W")), X = fromRows(rowsOf(ex, "X"));
  const norms = columnNorms(X);
  close(norms, numbers(ex, "col_norms"), "col_norms");
  close(columnAbsSums(W), numbers(ex, "col_sums"), "col_sums");
  const rowSums = rowsOf(ex, "W").map((r) => r.reduce((s, v) => s + Math.abs(v), 0));
  close(rowSums, numbers(ex, "row_sums"), "row_sums");
  // a = 0 gives RI alone
  const ri = riaScoresReference(W, norms, { power: 0 });
  close(ri.data, rowsOf(ex, "ri").flat(), "ri");
  const scores = riaScores(W, { colNorms: norms, colSums: columnAbsSums(W) });
  close(scores.data, rowsOf(ex, "scores").flat(), "scores");
  const target = { kind: "unstructured", sparsity: scalar(ex, "sparsity"), group: "row" } as const;
  const keep = rowsOf(ex, "keep").flat();
  assert.deepEqual(Array.from(riaMethod.prune(W, { inputs: X }, target).keep), keep);
  assert.deepEqual(
    Array.from(riaMethod.prune(W, { inputs: X }, { kind: "nm", n: 2, m: 4 }).keep),
    keep,
  );
  const wanda = buildMask(wandaScores(W, norms), target).keep;
  assert.deepEqual(Array.from(wanda), rowsOf(ex, "keep_wanda").flat());
});

Deno.test("RIA: a block of rows scored with the layer's column sums gets the layer's scores", () => {
  const rng = createRng(8);
  const w = matrix(10, 12, randn(120, rng)), colNorms = columnNorms(matrix(9, 12, randn(108, rng)));
  const whole = riaScores(w, { colNorms, colSums: columnAbsSums(w) });
  const block: Matrix = { data: w.data.subarray(36, 84), rows: 4, cols: 12 };
  const part = riaScores(block, { colNorms, colSums: columnAbsSums(w) });
  assert.deepEqual(part.data, whole.data.subarray(36, 84));
  // with the block's own column sums the scores differ: the split needs the layer's
  assert.notDeepEqual(
    riaScores(block, { colNorms, colSums: columnAbsSums(block) }).data,
    part.data,
  );
});

Deno.test("RIA: an all-zero row or column contributes 0, not NaN; bad input is refused", () => {
  const w = fromRows([[0, 0, 0], [1, 0, -2]]), colNorms = new Float32Array([1, 4, 1]);
  const s = riaScoresReference(w, colNorms);
  assert.deepEqual(Array.from(s.data), [0, 0, 0, 1 / 3 + 1, 0, 2 / 3 + 1].map(Math.fround));
  assert.deepEqual(riaScores(w, { colNorms, colSums: columnAbsSums(w) }), s);
  assert.throws(() => riaScoresReference(w, colNorms, { power: -1 }), {
    name: "RangeError",
    message: /power must be a finite number >= 0, got -1/,
  });
  assert.throws(() => riaScoresReference(w, new Float32Array(2)), TypeError);
  const target = { kind: "unstructured", sparsity: 0.5, group: "row" } as const;
  assert.throws(() => riaMethod.prune(w, {}, target), { name: "TypeError", message: /missing/ });
  assert.throws(() => riaMethod.prune(w, { inputs: matrix(2, 4) }, target), {
    name: "TypeError",
    message: /inputs are \[2, 4\], expected \[tokens, 3\]/,
  });
  assert.equal(methodByName("ria"), riaMethod);
  assert.equal(riaMethod.competes(target), "per row");
  assert.deepEqual(riaMethod.options.map((o) => o.flag), ["select", "ria-power"]);
  assert.throws(() => riaMethod.options[1].parse("-1"), /--ria-power must be a finite number >= 0/);
});

Deno.test("prune-layer --method ria: from col_norms, scores and mask as the reference; metadata", async () => {
  const dir = await mkdtemp(join(tmpdir(), "secateur-ria-"));
  try {
    const rng = createRng(3);
    const w = matrix(6, 16, randn(96, rng));
    const colNorms = columnNorms(matrix(12, 16, randn(192, rng)));
    const input = join(dir, "layer.safetensors"), out = join(dir, "out.safetensors");
    await writeFile(
      input,
      writeSafetensors([
        { name: "weight", dtype: "F32", shape: [6, 16], data: w.data },
        { name: "col_norms", dtype: "F32", shape: [16], data: colNorms },
      ]),
    );
    const io = capture();
    const argv = [
      "--in",
      input,
      "--out",
      out,
      "--method",
      "ria",
      "--pattern",
      "2:4",
      "--ria-power",
      "1",
    ];
    assert.equal(await pruneLayerMain(argv, io), 0, io.err);
    const res = readSafetensors(new Uint8Array(await readFile(out)));
    const scores = riaScoresReference(w, colNorms, { power: 1 });
    assert.deepEqual(res.float32("scores"), scores.data);
    assert.deepEqual(res.raw("mask"), buildMask(scores, { kind: "nm", n: 2, m: 4 }).keep);
    assert.equal(res.metadata.method, "ria");
    assert.deepEqual(JSON.parse(res.metadata.options), {
      target: { kind: "nm", n: 2, m: 4 },
      competes: "per 4 consecutive weights of a row",
      select: "ewma-exact",
      power: 1,
    });
  } finally {
    await rm(dir, { recursive: true });
  }
});
