import assert from "node:assert/strict";
import { fromRows, type Matrix } from "../src/tensor/matrix.ts";
import { createRng } from "../src/tensor/rng.ts";
import type { SelectMode, Target } from "../src/prune/types.ts";
import { buildMask } from "../src/select/mask.ts";
import { nmMask, nmMaskReference } from "../src/select/nm.ts";
import { selectBySort } from "../src/select/sort.ts";
import { methodByName, methodNames } from "../src/prune/methods.ts";
import { applyMask } from "../src/select/mask.ts";

function scoresOf(rows: number, cols: number, seed: number, ties = false): Matrix {
  const rng = createRng(seed);
  return {
    data: Float32Array.from(
      { length: rows * cols },
      () => (ties ? rng.int(4) : Math.abs(rng.normal())),
    ),
    rows,
    cols,
  };
}

Deno.test("nmMask equals nmMaskReference for every pattern, with and without ties", () => {
  const patterns = [[2, 4], [1, 4], [3, 4], [0, 4], [4, 4], [4, 8], [2, 8], [1, 2], [1, 1]];
  for (const [n, m] of patterns) {
    for (let seed = 1; seed <= 6; seed++) {
      for (const ties of [false, true]) {
        const s = scoresOf(1 + (seed % 3), m * (1 + seed), seed, ties);
        const keep = nmMask(s, n, m);
        assert.deepEqual(keep, nmMaskReference(s, n, m), `${n}:${m} seed ${seed}`);
        for (let g = 0; g < keep.length; g += m) {
          assert.equal(
            keep.subarray(g, g + m).reduce((a, b) => a + b, 0),
            n,
            `${n}:${m} group ${g / m}`,
          );
        }
      }
    }
  }
});

Deno.test("nmMask: 2:4 ties keep the higher index; wide rows", () => {
  assert.deepEqual(Array.from(nmMask(fromRows([[1, 1, 1, 1, 2, 2, 0, 2]]), 2, 4)), [
    0,
    0,
    1,
    1,
    0,
    1,
    0,
    1,
  ]);
  const wide = scoresOf(2, 4096, 3);
  assert.deepEqual(nmMask(wide, 2, 4), nmMaskReference(wide, 2, 4));
});

Deno.test("buildMask per row: exactly floor(s * cols) per row, identical for every selector but ewma", () => {
  for (const [rows, cols] of [[1, 1], [1, 7], [3, 33], [4, 4096], [5, 1025]]) {
    for (const sparsity of [0, 0.3, 0.5, 0.77]) {
      const s = scoresOf(rows, cols, rows * cols, cols < 40);
      const target: Target = { kind: "unstructured", sparsity, group: "row" };
      const bySort = buildMask(s, target, { select: "sort" });
      const exact = buildMask(s, target); // default ewma-exact
      assert.deepEqual(exact.keep, bySort.keep);
      const k = Math.floor(sparsity * cols);
      assert.deepEqual(Array.from(exact.prunedPerRow!), new Array(rows).fill(k));
      for (let i = 0; i < rows; i++) {
        assert.deepEqual(
          bySort.keep.subarray(i * cols, (i + 1) * cols),
          selectBySort(s.data.subarray(i * cols, (i + 1) * cols), k),
        );
      }
      const approx = buildMask(s, target, { select: "ewma" });
      assert.equal(approx.prunedPerRow!.reduce((a, b) => a + b, 0), approx.pruned);
    }
  }
});

Deno.test("buildMask per layer: floor(s * rows * cols) over the flat array, ties to the lower flat index", () => {
  const s = fromRows([[2, 1, 1], [1, 0, 2]]);
  const target: Target = { kind: "unstructured", sparsity: 0.5, group: "layer" };
  for (const select of ["sort", "ewma-exact"] as SelectMode[]) {
    const m = buildMask(s, target, { select });
    assert.deepEqual(Array.from(m.keep), [1, 0, 0, 1, 0, 1], select); // 0, then the 1s at flat 1 and 2
    assert.equal(m.pruned, 3);
    assert.equal(m.prunedPerRow, undefined);
  }
  const big = scoresOf(7, 301, 4, true);
  const t2: Target = { kind: "unstructured", sparsity: 0.6, group: "layer" };
  assert.deepEqual(buildMask(big, t2).keep, selectBySort(big.data, Math.floor(0.6 * 7 * 301)));
});

Deno.test("buildMask: N:M target and achieved sparsity", () => {
  const s = scoresOf(3, 16, 1);
  const m = buildMask(s, { kind: "nm", n: 2, m: 4 });
  assert.deepEqual(m.keep, nmMask(s, 2, 4));
  assert.equal(m.pruned, 24);
  assert.equal(m.sparsity, 0.5);
});

Deno.test("buildMask: bad input throws the specified error naming the value", () => {
  const s = scoresOf(2, 6, 1);
  const row = (sparsity: number): Target => ({ kind: "unstructured", sparsity, group: "row" });
  for (const bad of [1, -0.1, 1.5, NaN]) {
    assert.throws(() => buildMask(s, row(bad)), {
      name: "RangeError",
      message: new RegExp(`got ${bad}`),
    });
  }
  assert.throws(() => buildMask(s, { kind: "nm", n: 2, m: 4 }), {
    name: "RangeError",
    message: /\[2, 6\]: cols must be divisible by 4/,
  });
  assert.throws(() => buildMask(s, { kind: "nm", n: 5, m: 3 }), {
    name: "RangeError",
    message: /got 5/,
  });
  assert.throws(() => buildMask(s, row(0.5), { select: "heap" as SelectMode }), {
    name: "RangeError",
    message: /got heap/,
  });
  assert.throws(
    () => buildMask(s, { kind: "unstructured", sparsity: 0.5, group: "col" } as unknown as Target),
    {
      name: "RangeError",
      message: /got col/,
    },
  );
  assert.throws(() => buildMask({ data: new Float32Array(3), rows: 2, cols: 2 }, row(0.5)), {
    name: "TypeError",
    message: /3 values/,
  });
  const nan = fromRows([[1, NaN, 2, 3]]);
  for (const select of ["sort", "ewma", "ewma-exact"] as SelectMode[]) {
    assert.throws(() => buildMask(nan, row(0.5), { select }), {
      name: "RangeError",
      message: /score 1 is NaN/,
    });
  }
  assert.throws(() => buildMask(nan, { kind: "nm", n: 2, m: 4 }), {
    name: "RangeError",
    message: /score 1 is NaN/,
  });
});

Deno.test("methods: registry, applyMask, and no method mutates its inputs", () => {
  // score-then-select methods never change the kept weights (SparseGPT and FISTAPruner do)
  const maskOnly = new Set(methodNames().filter((name) => methodByName(name)!.score !== undefined));
  assert.ok(maskOnly.has("wanda") && !maskOnly.has("sparsegpt"));
  const rng = createRng(2);
  const weight = {
    data: Float32Array.from({ length: 4 * 16 }, () => rng.normal()),
    rows: 4,
    cols: 16,
  };
  const inputs = {
    data: Float32Array.from({ length: 8 * 16 }, () => rng.normal()),
    rows: 8,
    cols: 16,
  };
  const before = [weight.data.slice(), inputs.data.slice()];
  for (const name of methodNames()) {
    for (
      const target of [{ kind: "unstructured", sparsity: 0.5, group: "row" }, {
        kind: "nm",
        n: 2,
        m: 4,
      }] as Target[]
    ) {
      const r = methodByName(name)!.prune(weight, { inputs }, target);
      assert.equal(r.keep.reduce((a, b) => a + b, 0), 32, name);
      r.weight.data.forEach((v, t) =>
        assert.ok(r.keep[t] || v === 0, `${name}: pruned ${t} not 0`)
      );
      if (maskOnly.has(name)) assert.deepEqual(r.weight.data, applyMask(weight, r.keep).data);
    }
  }
  assert.deepEqual([weight.data, inputs.data], before);
  assert.throws(() => methodByName("wanda")!.prune(weight, {}, { kind: "nm", n: 2, m: 4 }), {
    name: "TypeError",
    message: /missing/,
  });
  assert.throws(() => applyMask(weight, new Uint8Array(3)), {
    name: "TypeError",
    message: /has 3 entries/,
  });
});

Deno.test("methods: wanda and swiftprune differ from magnitude when one input channel dominates", () => {
  const weight = fromRows([[1, 2, 3, 4]]);
  const inputs = fromRows([[100, 0, 0, 0], [0, 1, 1, 1]]);
  const target: Target = { kind: "unstructured", sparsity: 0.5, group: "row" };
  assert.deepEqual(Array.from(methodByName("magnitude")!.prune(weight, {}, target).keep), [
    0,
    0,
    1,
    1,
  ]);
  assert.deepEqual(Array.from(methodByName("wanda")!.prune(weight, { inputs }, target).keep), [
    1,
    0,
    0,
    1,
  ]);
  assert.deepEqual(Array.from(methodByName("swiftprune")!.prune(weight, { inputs }, target).keep), [
    1,
    0,
    0,
    1,
  ]);
});

Deno.test("buildMask and applyMask write into a given array exactly what they return otherwise", () => {
  const targets: Target[] = [
    { kind: "unstructured", sparsity: 0.5, group: "row" },
    { kind: "unstructured", sparsity: 0.3, group: "layer" },
    { kind: "nm", n: 2, m: 4 },
  ];
  for (const [i, target] of targets.entries()) {
    const scores = scoresOf(6, 16, 40 + i);
    const fresh = buildMask(scores, target);
    const into = new Uint8Array(96).fill(7); // stale values: a reused shared buffer
    const written = buildMask(scores, target, { into });
    assert.equal(written.keep, into, JSON.stringify(target));
    assert.deepEqual(Array.from(into), Array.from(fresh.keep), JSON.stringify(target));
    assert.equal(written.pruned, fresh.pruned);
    const w = scoresOf(6, 16, 50 + i), out = new Float32Array(96).fill(9);
    assert.equal(applyMask(w, fresh.keep, out).data, out);
    assert.deepEqual(out, applyMask(w, fresh.keep).data);
  }
  const scores = scoresOf(2, 4, 1);
  assert.throws(
    () => buildMask(scores, { kind: "nm", n: 2, m: 4 }, { into: new Uint8Array(7) }),
    { name: "TypeError", message: /into has 7 entries, scores 2x4/ },
  );
  assert.throws(() => applyMask(scores, new Uint8Array(8), new Float32Array(9)), {
    name: "TypeError",
    message: /into has 9 entries, weight 8/,
  });
});

Deno.test("a score-then-select method's pruneRows writes into the given outputs, same values", () => {
  const w = scoresOf(8, 16, 3), inputs = scoresOf(20, 16, 4);
  const target = { kind: "unstructured", sparsity: 0.5, group: "row" } as const;
  for (const name of ["magnitude", "wanda", "swiftprune", "ria"]) {
    const split = methodByName(name)!.rowSplit!;
    const prepared = split.prepare(w, { inputs }, {});
    const plain = split.pruneRows(w, prepared, target, {});
    const into = {
      weight: new Float32Array(128),
      keep: new Uint8Array(128),
      scores: new Float32Array(128),
    };
    const r = split.pruneRows(w, prepared, target, {}, into);
    assert.ok(r.weight.data === into.weight && r.keep === into.keep, name);
    assert.ok(r.scores!.data === into.scores, name);
    assert.deepEqual([into.weight, into.keep, into.scores], [
      plain.weight.data,
      plain.keep,
      plain.scores!.data,
    ], name);
  }
});
