import assert from "node:assert/strict";
import { assertAllClose } from "../src/check/all_close.ts";
import { NotPositiveDefiniteError } from "../src/linalg/cholesky.ts";
import {
  HessianAccumulator,
  sparsegpt,
  sparsegptHessian,
  sparsegptReference,
} from "../src/prune/sparsegpt.ts";
import type { Target } from "../src/prune/types.ts";
import { nmMask } from "../src/select/nm.ts";
import { selectBySort } from "../src/select/sort.ts";
import { type Matrix, matrix } from "../src/tensor/matrix.ts";
import { createRng, randn, type Rng } from "../src/tensor/rng.ts";

const HALF: Target = { kind: "unstructured", sparsity: 0.5, group: "row" };
const TWO_FOUR: Target = { kind: "nm", n: 2, m: 4 };

/** Realistic inputs [tokens, cols]: Gaussian noise + 4 shared latent factors (correlation) + outlier channels x10. */
function realisticInputs(
  tokens: number,
  cols: number,
  rng: Rng,
  outliers = Math.max(1, cols >> 6),
): Matrix {
  const f = 4, z = randn(tokens * f, rng), p = randn(f * cols, rng);
  const x = randn(tokens * cols, rng);
  for (let t = 0; t < tokens; t++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let a = 0; a < f; a++) s += z[t * f + a] * p[a * cols + j];
      x[t * cols + j] += 0.7 * s;
    }
  }
  for (let o = 0; o < outliers; o++) {
    const j = rng.int(cols);
    for (let t = 0; t < tokens; t++) x[t * cols + j] *= 10;
  }
  return matrix(tokens, cols, x);
}

/** ||(W - W') X^T||_F^2, in float64. */
function layerError(w: Matrix, pruned: Matrix, x: Matrix): number {
  let e = 0;
  for (let r = 0; r < w.rows; r++) {
    for (let t = 0; t < x.rows; t++) {
      let s = 0;
      for (let j = 0; j < w.cols; j++) {
        s += (w.data[r * w.cols + j] - pruned.data[r * w.cols + j]) * x.data[t * x.cols + j];
      }
      e += s * s;
    }
  }
  return e;
}

function sumSquaredDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

/** Per-row baselines computed inline: keep by score, zero the rest (no update). */
function pruneByScores(w: Matrix, score: (r: number, j: number) => number, target: Target): Matrix {
  const scores = matrix(
    w.rows,
    w.cols,
    Float32Array.from(
      { length: w.rows * w.cols },
      (_, t) => score(Math.floor(t / w.cols), t % w.cols),
    ),
  );
  let keep: Uint8Array;
  if (target.kind === "nm") keep = nmMask(scores, target.n, target.m);
  else {
    keep = new Uint8Array(w.rows * w.cols);
    const k = Math.floor(target.sparsity * w.cols);
    for (let r = 0; r < w.rows; r++) {
      keep.set(selectBySort(scores.data.subarray(r * w.cols, (r + 1) * w.cols), k), r * w.cols);
    }
  }
  return matrix(w.rows, w.cols, w.data.map((v, t) => (keep[t] ? v : 0)));
}

function threeErrors(w: Matrix, x: Matrix, target: Target) {
  const norms = Array.from({ length: w.cols }, (_, j) => {
    let s = 0;
    for (let t = 0; t < x.rows; t++) s += x.data[t * x.cols + j] ** 2;
    return Math.sqrt(s);
  });
  const magnitude = layerError(
    w,
    pruneByScores(w, (r, j) => Math.abs(w.data[r * w.cols + j]), target),
    x,
  );
  const wanda = layerError(
    w,
    pruneByScores(w, (r, j) => Math.abs(w.data[r * w.cols + j]) * norms[j], target),
    x,
  );
  const sgpt = layerError(w, sparsegpt(w, { inputs: x }, target).weight, x);
  return { sgpt, wanda, magnitude };
}

Deno.test("sparsegpt with blocksize = cols equals the unblocked explicit-inverse reference", () => {
  const rng = createRng(31);
  for (const [rows, cols, tokens] of [[5, 16, 40], [12, 40, 30], [7, 64, 100]]) {
    const w = matrix(rows, cols, randn(rows * cols, rng));
    const x = realisticInputs(tokens, cols, rng);
    const targets: Target[] = [HALF, TWO_FOUR, { kind: "nm", n: 4, m: 8 }, {
      kind: "unstructured",
      sparsity: 0.7,
      group: "layer",
    }];
    for (const target of targets) {
      const fast = sparsegpt(w, { inputs: x }, target, { blocksize: cols });
      const ref = sparsegptReference(w, { inputs: x }, target);
      const what = `${rows}x${cols} ${JSON.stringify(target)}`;
      assert.deepEqual(fast.keep, ref.keep, what);
      assertAllClose(fast.weight.data, ref.weight.data, { atol: 1e-5, rtol: 1e-4 }, what);
      assert.ok(
        Math.abs(fast.loss - ref.loss) <= 1e-9 * ref.loss,
        `${what}: loss ${fast.loss} vs ${ref.loss}`,
      );
      assert.equal(fast.damp, ref.damp);
    }
  }
});

Deno.test("sparsegpt N:M: blocked (lazy batch updates) equals unblocked; every group keeps exactly n", () => {
  const rng = createRng(32);
  const w = matrix(9, 48, randn(9 * 48, rng)), x = realisticInputs(80, 48, rng);
  const ref = sparsegptReference(w, { inputs: x }, TWO_FOUR);
  for (const blocksize of [4, 8, 16, 128]) {
    const r = sparsegpt(w, { inputs: x }, TWO_FOUR, { blocksize });
    assert.deepEqual(r.keep, ref.keep, `blocksize ${blocksize}`);
    assertAllClose(
      r.weight.data,
      ref.weight.data,
      { atol: 1e-5, rtol: 1e-4 },
      `blocksize ${blocksize}`,
    );
    for (let g = 0; g < r.keep.length; g += 4) {
      assert.equal(r.keep[g] + r.keep[g + 1] + r.keep[g + 2] + r.keep[g + 3], 2);
    }
    assert.ok(r.keep.every((k, t) => k === 1 || r.weight.data[t] === 0));
  }
});

Deno.test("sparsegpt unstructured: exact sparsity in every block; blocked loss close to unblocked", () => {
  const rng = createRng(33);
  const rows = 6,
    cols = 40,
    w = matrix(rows, cols, randn(rows * cols, rng)),
    x = realisticInputs(64, cols, rng);
  const target: Target = { kind: "unstructured", sparsity: 0.3, group: "row" };
  const blocked = sparsegpt(w, { inputs: x }, target, { blocksize: 16 });
  for (const [i1, i2] of [[0, 16], [16, 32], [32, 40]]) {
    let pruned = 0;
    for (let r = 0; r < rows; r++) {
      for (let j = i1; j < i2; j++) pruned += 1 - blocked.keep[r * cols + j];
    }
    assert.equal(pruned, Math.floor(0.3 * rows * (i2 - i1)), `block ${i1}..${i2}`);
  }
  assert.ok(blocked.keep.every((k, t) => k === 1 || blocked.weight.data[t] === 0));
  const unblocked = sparsegptReference(w, { inputs: x }, target);
  assert.ok(
    Math.abs(blocked.loss / unblocked.loss - 1) < 0.25,
    `blocked ${blocked.loss} vs unblocked ${unblocked.loss}`,
  );
});

Deno.test("tracked loss: tokens * (loss - damp/2 ||W - W'||^2) = ||(W - W') X^T||^2; with percdamp 0, tokens * loss", () => {
  const rng = createRng(34);
  const rows = 8, cols = 32, tokens = 96;
  const w = matrix(rows, cols, randn(rows * cols, rng)), x = realisticInputs(tokens, cols, rng);
  for (const target of [HALF, TWO_FOUR]) {
    for (const blocksize of [8, 128]) {
      const r = sparsegpt(w, { inputs: x }, target, { blocksize });
      const measured = layerError(w, r.weight, x);
      const predicted = tokens * (r.loss - (r.damp / 2) * sumSquaredDiff(w.data, r.weight.data));
      assert.ok(
        Math.abs(predicted / measured - 1) < 1e-5,
        `damped: predicted ${predicted} measured ${measured}`,
      );
      assert.ok(
        tokens * r.loss > measured,
        "the dampening term makes the plain tracked loss an overestimate",
      );
      const r0 = sparsegpt(w, { inputs: x }, target, { blocksize, percdamp: 0 });
      const measured0 = layerError(w, r0.weight, x);
      assert.ok(
        Math.abs((tokens * r0.loss) / measured0 - 1) < 1e-3,
        `undamped: ${tokens * r0.loss} vs ${measured0}`,
      );
    }
  }
});

Deno.test("sparsegpt: dead input channels get zero weight; inputs, weight and Hessian are not mutated", () => {
  const rng = createRng(35);
  const rows = 5,
    cols = 12,
    w = matrix(rows, cols, randn(rows * cols, rng)),
    x = realisticInputs(30, cols, rng, 0);
  for (let t = 0; t < x.rows; t++) x.data[t * cols + 3] = 0;
  const wCopy = w.data.slice(), xCopy = x.data.slice();
  for (const target of [HALF, TWO_FOUR]) {
    const r = sparsegpt(w, { inputs: x }, target, { blocksize: 4 });
    for (let i = 0; i < rows; i++) {
      assert.equal(r.weight.data[i * cols + 3], 0);
      assert.equal(r.keep[i * cols + 3], 0, "score 0 is pruned first");
    }
    assert.ok(r.weight.data.every(Number.isFinite) && Number.isFinite(r.loss));
  }
  assert.deepEqual(w.data, wCopy);
  assert.deepEqual(x.data, xCopy);
  const h = sparsegptHessian(x), hCopy = h.slice();
  const viaHessian = sparsegpt(w, {}, HALF, { hessian: h });
  assert.deepEqual(h, hCopy);
  assert.deepEqual(viaHessian.weight.data, sparsegpt(w, { inputs: x }, HALF).weight.data);
});

Deno.test("HessianAccumulator over batches equals the Hessian of the concatenated inputs", () => {
  const rng = createRng(36);
  const a = matrix(7, 9, randn(63, rng)), b = matrix(5, 9, randn(45, rng));
  const acc = new HessianAccumulator(9);
  acc.add(a);
  acc.add(b);
  assert.equal(acc.tokens, 12);
  const both = matrix(12, 9, new Float32Array([...a.data, ...b.data]));
  assertAllClose(acc.hessian(), sparsegptHessian(both), { atol: 1e-12, rtol: 1e-12 });
  assert.deepEqual(sparsegptHessian([a, b]), acc.hessian());
  assert.throws(() => new HessianAccumulator(3).hessian(), {
    name: "RangeError",
    message: /no calibration tokens/,
  });
  assert.throws(() => acc.add(matrix(1, 8)), {
    name: "TypeError",
    message: /\[1, 8\] to a Hessian of 9 columns/,
  });
});

Deno.test("sparsegpt: bad input raises typed errors; an indefinite Hessian raises NotPositiveDefiniteError", () => {
  const w = matrix(2, 2, new Float32Array([1, 2, 3, 4]));
  assert.throws(
    () => sparsegpt(w, { inputs: matrix(3, 2) }, HALF, { hessian: new Float64Array([1, 2, 2, 1]) }),
    (e: unknown) => {
      assert.ok(e instanceof NotPositiveDefiniteError);
      assert.equal(e.damp, 0.01); // 0.01 * mean(diag H) = 0.01 * 1
      assert.match(e.message, /dampening 0.01 was added/);
      return true;
    },
  );
  assert.throws(() => sparsegpt(w, {}, HALF), { name: "TypeError", message: /needs calib.inputs/ });
  assert.throws(() => sparsegpt(w, { inputs: matrix(3, 3) }, HALF), {
    name: "TypeError",
    message: /columns differ/,
  });
  assert.throws(() => sparsegpt(w, { inputs: matrix(3, 2) }, HALF, { blocksize: 0 }), {
    name: "RangeError",
    message: /blocksize must be a positive integer, got 0/,
  });
  const w8 = matrix(1, 8);
  assert.throws(() => sparsegpt(w8, { inputs: matrix(3, 8) }, TWO_FOUR, { blocksize: 6 }), {
    name: "RangeError",
    message: /blocksize 6 must be a multiple of 4/,
  });
  assert.throws(() => sparsegpt(matrix(1, 6), { inputs: matrix(3, 6) }, TWO_FOUR), {
    name: "RangeError",
    message: /cols must be divisible by 4/,
  });
  assert.throws(() => sparsegpt(w, { inputs: matrix(3, 2) }, { ...HALF, sparsity: 1.5 }), {
    name: "RangeError",
    message: /got 1.5/,
  });
  assert.throws(() => sparsegpt(w, { inputs: matrix(3, 2) }, HALF, { percdamp: -1 }), {
    name: "RangeError",
    message: /percdamp/,
  });
});

Deno.test("sparsegpt reports progress once per block", () => {
  const rng = createRng(37);
  const seen: number[] = [];
  sparsegpt(matrix(3, 20, randn(60, rng)), { inputs: realisticInputs(25, 20, rng) }, HALF, {
    blocksize: 8,
    onProgress: (done, total) => seen.push(done, total),
  });
  assert.deepEqual(seen, [8, 20, 16, 20, 20, 20]);
});

Deno.test("layer error on a random layer: SparseGPT < Wanda < magnitude at 50% and 2:4", () => {
  const rng = createRng(38);
  const w = matrix(64, 128, randn(64 * 128, rng)), x = realisticInputs(256, 128, rng, 4);
  for (const target of [HALF, TWO_FOUR]) {
    const e = threeErrors(w, x, target);
    assert.ok(
      e.sgpt < e.wanda && e.wanda < e.magnitude,
      `${JSON.stringify(target)}: ${JSON.stringify(e)}`,
    );
  }
});

/** Reads one [out, in] matrix of a llama2.c legacy checkpoint (header: 7 int32, then float32 arrays). */
function loadLegacyLayer(path: string, layer: number, name: "wq" | "w1" | "w2"): Matrix {
  const bytes = Deno.readFileSync(path);
  const [dim, hidden, nLayers, nHeads, nKv, vocab] = new Int32Array(bytes.buffer, 0, 7);
  const kv = (dim * nKv) / nHeads;
  const sizes: [string, number][] = [
    ["emb", Math.abs(vocab) * dim],
    ["rmsAtt", nLayers * dim],
    ["wq", nLayers * dim * dim],
    ["wk", nLayers * kv * dim],
    ["wv", nLayers * kv * dim],
    ["wo", nLayers * dim * dim],
    ["rmsFfn", nLayers * dim],
    ["w1", nLayers * hidden * dim],
    ["w2", nLayers * dim * hidden],
  ];
  let offset = 7;
  for (const [n, size] of sizes) {
    if (n === name) break;
    offset += size;
  }
  const [rows, cols] = name === "w2" ? [dim, hidden] : name === "w1" ? [hidden, dim] : [dim, dim];
  const all = new Float32Array(bytes.buffer, 0, bytes.length / 4);
  return matrix(
    rows,
    cols,
    all.slice(offset + layer * rows * cols, offset + (layer + 1) * rows * cols),
  );
}

Deno.test("layer error on real llama4m and stories260K layers: SparseGPT < Wanda < magnitude at 50% and 2:4", () => {
  const rng = createRng(39);
  const layers = [
    loadLegacyLayer("../shared/models/llama4m/llama4m.bin", 2, "wq"),
    loadLegacyLayer("../shared/models/llama4m/llama4m.bin", 1, "w1"),
    loadLegacyLayer("../shared/models/stories260K/stories260K.bin", 3, "w2"),
  ];
  for (const w of layers) {
    const x = realisticInputs(Math.max(256, w.cols + 64), w.cols, rng, 4);
    for (const target of [HALF, TWO_FOUR]) {
      const e = threeErrors(w, x, target);
      assert.ok(
        e.sgpt < e.wanda && e.wanda < e.magnitude,
        `[${w.rows}, ${w.cols}] ${JSON.stringify(target)}: ${JSON.stringify(e)}`,
      );
    }
  }
});

/** Reads a safetensors file (8-byte header length, JSON header, raw little-endian data). */
function readSafetensors(path: string): Record<string, Float32Array | Float64Array | Uint8Array> {
  const bytes = Deno.readFileSync(path);
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const out: Record<string, Float32Array | Float64Array | Uint8Array> = {};
  for (
    const [name, info] of Object.entries(header) as [
      string,
      { dtype: string; data_offsets: [number, number] },
    ][]
  ) {
    if (name === "__metadata__") continue;
    const raw = bytes.slice(
      8 + headerLength + info.data_offsets[0],
      8 + headerLength + info.data_offsets[1],
    );
    out[name] = info.dtype === "F32"
      ? new Float32Array(raw.buffer)
      : info.dtype === "F64"
      ? new Float64Array(raw.buffer)
      : raw;
  }
  return out;
}

Deno.test("golden: matches the authors' fasterprune run in PyTorch (tests/golden/README.md)", () => {
  const g = readSafetensors("tests/golden/sparsegpt_small.safetensors");
  const w = matrix(8, 32, g.W as Float32Array), x = matrix(64, 32, g.X as Float32Array);
  const cases: [string, Target][] = [["nm24", TWO_FOUR], ["half", {
    kind: "unstructured",
    sparsity: 65 / 128,
    group: "layer",
  }]];
  // The reference's H is 2 X^T X here (it divides by sequences, one of 64 tokens): 64 times ours.
  const hessianAsReference = sparsegptHessian(x).map((v) => 64 * v);
  for (const [name, target] of cases) {
    const r = sparsegpt(w, {}, target, { blocksize: 16, hessian: hessianAsReference });
    assert.deepEqual(Array.from(r.keep, (k) => 1 - k), Array.from(g[`pruned_${name}`]), name);
    assertAllClose(r.weight.data, g[`W_${name}`], { atol: 1e-6, rtol: 1e-5 }, name);
    assert.ok(
      Math.abs(r.loss / g[`loss_${name}`][0] - 1) < 1e-9,
      `${name}: loss ${r.loss} vs ${g[`loss_${name}`][0]}`,
    );
    assert.ok(Math.abs(r.damp / g[`damp_${name}`][0] - 1) < 1e-12);
    // With our (2/tokens) normalisation only the dead channel's H_jj = 1 differs in scale (it enters
    // mean(diag H), so the dampening): same masks, weights within 1e-3.
    const ours = sparsegpt(w, { inputs: x }, target, { blocksize: 16 });
    assert.deepEqual(ours.keep, r.keep);
    assertAllClose(ours.weight.data, g[`W_${name}`], { atol: 1e-3, rtol: 0 }, name);
  }
});
