/**
 * The method descriptors (`src/prune/method.ts`) and the registry (`src/prune/methods.ts`): every
 * registered method is complete and consistent, its row split gives the same result as the whole
 * layer, and no code outside the method files and the registry switches on a method's name.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tsFiles } from "./lib/source_files.ts";
import { appliedOptions, optionsFromFlags } from "../src/prune/method.ts";
import { isRegistered, methodByName, methodNames, METHODS } from "../src/prune/methods.ts";
import { matrix } from "../src/tensor/matrix.ts";
import { createRng, randn } from "../src/tensor/rng.ts";
import type { Target } from "../src/select/target.ts";

const rng = createRng(11);
const weight = matrix(12, 16, randn(12 * 16, rng));
const inputs = matrix(40, 16, randn(40 * 16, rng));
const HALF: Target = { kind: "unstructured", sparsity: 0.5, group: "row" };
const TWO_FOUR: Target = { kind: "nm", n: 2, m: 4 };
const TARGETS: readonly Target[] = [HALF, TWO_FOUR];

Deno.test("registry: unique names, each found by name, registered", () => {
  assert.equal(new Set(methodNames()).size, METHODS.length);
  for (const m of METHODS) {
    assert.equal(methodByName(m.name), m);
    assert.ok(isRegistered(m));
  }
  assert.equal(isRegistered({ ...METHODS[0] }), false);
});

Deno.test("descriptors: options have distinct flags and keys, defaults that parse, and refuse junk", () => {
  for (const m of METHODS) {
    const flags = m.options.map((o) => o.flag), keys = m.options.map((o) => o.key);
    assert.equal(new Set(flags).size, flags.length, m.name);
    assert.equal(new Set(keys).size, keys.length, m.name);
    for (const o of m.options) {
      o.parse(o.default); // the default is a valid value
      assert.throws(() => o.parse("not a value"), RangeError, `${m.name} --${o.flag}`);
      assert.ok(o.help.length > 0 && o.arg.length > 0);
    }
  }
});

Deno.test("descriptors: every method prunes a layer to the target and says what competes", () => {
  for (const m of METHODS) {
    for (const target of TARGETS) {
      const r = m.prune(weight, { inputs }, target);
      const pruned = r.keep.reduce((s, k) => s + 1 - k, 0);
      assert.equal(pruned, weight.rows * weight.cols / 2, `${m.name} ${JSON.stringify(target)}`);
      for (let t = 0; t < r.keep.length; t++) if (!r.keep[t]) assert.equal(r.weight.data[t], 0);
      assert.match(m.competes(target), /^per /, m.name);
    }
  }
  assert.equal(methodByName("wanda")!.competes(HALF), "per row");
  assert.equal(methodByName("sparsegpt")!.competes(HALF), "per block of 128 columns (all rows)");
  assert.equal(methodByName("fista")!.competes(HALF), "per operator");
});

Deno.test("descriptors: the row split gives the whole layer's result, row block by row block", () => {
  for (const m of METHODS.filter((d) => d.rowSplit !== undefined)) {
    for (const target of TARGETS) {
      const whole = m.prune(weight, { inputs }, target);
      const prepared = m.rowSplit!.prepare(weight, { inputs }, {});
      const keep = new Uint8Array(weight.rows * weight.cols);
      for (const [r0, r1] of [[0, 5], [5, 12]]) {
        const rows = { data: weight.data.subarray(r0 * 16, r1 * 16), rows: r1 - r0, cols: 16 };
        keep.set(m.rowSplit!.pruneRows(rows, prepared, target, {}).keep, r0 * 16);
      }
      assert.deepEqual(keep, whole.keep, m.name);
    }
  }
});

Deno.test("descriptors: score-then-select methods' scores equal their reference twins", () => {
  for (const m of METHODS.filter((d) => d.score !== undefined)) {
    const fast = m.score!(weight, { inputs }), reference = m.scoreReference!(weight, { inputs });
    for (let t = 0; t < fast.data.length; t++) {
      assert.ok(Math.abs(fast.data[t] - reference.data[t]) <= 1e-5 * Math.abs(reference.data[t]));
    }
  }
});

Deno.test("optionsFromFlags / appliedOptions: only the method's own options", () => {
  const flags = { select: "sort", "x-stat": "mean", blocksize: "64", iterations: "5" };
  assert.deepEqual(optionsFromFlags(methodByName("swiftprune")!, flags), {
    select: "sort",
    xStat: "mean",
  });
  assert.deepEqual(optionsFromFlags(methodByName("fista")!, flags), { iterations: 5 });
  assert.deepEqual(appliedOptions(methodByName("fista")!, { select: "sort", iterations: 5 }), {
    iterations: 5,
    updates: 3,
    warmStart: "wanda",
  });
});

Deno.test("no code outside the method files and the registry compares a method's name", () => {
  const own = new Set(
    ["src/prune/methods.ts", "src/prune/method.ts"].map((p) => join(ROOT, p)),
  );
  const names = methodNames();
  const offenders: string[] = [];
  for (const dir of ["src", "scripts", "bench"]) {
    for (const file of tsFiles(join(ROOT, dir))) {
      if (own.has(file)) continue;
      const text = readFileSync(file, "utf8");
      for (const name of names) {
        // a method's own file may name itself (and the methods it builds on)
        if (text.includes(`name: "${name}"`)) continue;
        const q = `["'\`]${name}["'\`]`;
        const pattern = new RegExp(`(===|!==)\\s*${q}|${q}\\s*(===|!==)|case\\s+${q}`);
        const line = text.split("\n").find((l) => pattern.test(l) && !/^\s*(\*|\/\/)/.test(l));
        if (line !== undefined) offenders.push(`${file.slice(ROOT.length)}: ${line.trim()}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});
