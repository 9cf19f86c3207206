/**
 * One-off measurement: is K = 20 FISTA iterations enough on real llama4m layers?
 *
 * Calibration: `windows` windows of 256 tokens of the C4 train head, encoded with tok512 (llama2.c's
 * merge rule, per README), run through llama4m's block 0 (RMSNorm, RoPE attention with grouped
 * heads, residual, RMSNorm, SwiGLU) to record the true inputs of wq (the normed block input) and of
 * w2 (`silu(w1 x) * w3 x`). Then, at 50% per operator and at 2:4, the layer error
 * `||X W_p^T - X W^T||^2 / ||X W^T||^2` of the Wanda warm start and of FISTAPruner (T = 3) for
 * several K, with the time of each. "run-0 objective" is the FISTA objective at the end of the first
 * run (same lambda0 and start for every K), over `||X W^T||^2`: how far K iterations get at fixed lambda.
 *
 * Usage: deno run --allow-read scripts/fista-k.ts [windows=8] [K list=20,50,100]
 *
 * @module
 */
import { fistaGramAccumulator, fistaPruner } from "../src/prune/fistapruner.ts";
import type { Target } from "../src/select/target.ts";
import { type Matrix, matrix } from "../src/tensor/matrix.ts";

const root = new URL("../../shared/", import.meta.url).pathname;
const windows = Number(Deno.args[0] ?? 8), seqLen = 256;
const ks = (Deno.args[1] ?? "20,50,100").split(",").map(Number);

// --- llama4m weights of block 0 (legacy llama2.c layout) ---
const bytes = Deno.readFileSync(root + "models/llama4m/llama4m.bin");
const [dim, hidden, layers, heads, kvHeads, vocab] = new Int32Array(bytes.buffer, 0, 7);
const kvDim = dim * kvHeads / heads, headSize = dim / heads;
let offset = 7;
const take = (count: number) => {
  const a = new Float32Array(bytes.buffer, offset * 4, count);
  offset += count;
  return a;
};
const emb = take(vocab * dim);
const layer0 = (count: number) => {
  const a = take(count * layers);
  return a.subarray(0, count);
};
const rmsAtt = layer0(dim),
  wq = layer0(dim * dim),
  wk = layer0(kvDim * dim),
  wv = layer0(kvDim * dim);
const wo = layer0(dim * dim),
  rmsFfn = layer0(dim),
  w1 = layer0(hidden * dim),
  w2 = layer0(dim * hidden);
const w3 = layer0(hidden * dim);

// --- tokenizer (tok512.bin, llama2.c format) ---
const tok = Deno.readFileSync(root + "models/stories260K/tok512.bin"),
  tv = new DataView(tok.buffer);
const pieces: string[] = [], scores: number[] = [];
for (let i = 0, p = 4; i < 512; i++) {
  scores.push(tv.getFloat32(p, true));
  const len = tv.getInt32(p + 4, true);
  pieces.push(new TextDecoder().decode(tok.subarray(p + 8, p + 8 + len)));
  p += 8 + len;
}
const idOf = new Map(pieces.map((s, i) => [s, i]));
function encodeWord(word: string): number[] {
  const ids: number[] = [];
  for (const ch of word) {
    const id = idOf.get(ch);
    if (id !== undefined) ids.push(id);
    else for (const b of new TextEncoder().encode(ch)) ids.push(b + 3);
  }
  for (;;) {
    let best = -1, bestScore = -Infinity, bestId = -1;
    for (let i = 0; i + 1 < ids.length; i++) {
      const id = idOf.get(pieces[ids[i]] + pieces[ids[i + 1]]);
      if (id !== undefined && scores[id] > bestScore) {
        [best, bestScore, bestId] = [i, scores[id], id];
      }
    }
    if (best < 0) return ids;
    ids.splice(best, 2, bestId);
  }
}
const lines = new TextDecoder().decode(
  Deno.readFileSync(root + "text/c4/c4-train.00000-of-01024.head1041.jsonl"),
)
  .split("\n").filter((l) => l).slice(0, 200).map((l) => JSON.parse(l).text as string);
const tokens: number[] = [];
for (const text of lines) {
  tokens.push(1);
  for (const word of (" " + text).split(/(?<=\S)(?= )/)) tokens.push(...encodeWord(word));
  if (tokens.length > windows * seqLen) break;
}

// --- block 0 forward, recording the inputs of wq and w2 ---
const matvec = (w: Float32Array, x: Float32Array, rows: number) => {
  const cols = x.length, y = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += w[i * cols + j] * x[j];
    y[i] = s;
  }
  return y;
};
const rmsnorm = (x: Float32Array, g: Float32Array) => {
  const ms = x.reduce((s, v) => s + v * v, 0) / x.length, r = 1 / Math.sqrt(ms + 1e-5);
  return x.map((v, i) => v * r * g[i]);
};
const rope = (v: Float32Array, pos: number) => {
  for (let i = 0; i < v.length; i += 2) {
    const angle = pos / 10000 ** ((i % headSize) / headSize),
      c = Math.cos(angle),
      s = Math.sin(angle);
    [v[i], v[i + 1]] = [v[i] * c - v[i + 1] * s, v[i] * s + v[i + 1] * c];
  }
};
const acc = { wq: fistaGramAccumulator(dim), w2: fistaGramAccumulator(hidden) };
const started = performance.now();
for (let w = 0; w < windows; w++) {
  const xq = matrix(seqLen, dim), xf = matrix(seqLen, hidden);
  const keys: Float32Array[] = [], values: Float32Array[] = [];
  for (let t = 0; t < seqLen; t++) {
    const h = emb.slice(tokens[w * seqLen + t] * dim, (tokens[w * seqLen + t] + 1) * dim);
    const x = rmsnorm(h, rmsAtt);
    xq.data.set(x, t * dim);
    const q = matvec(wq, x, dim), k = matvec(wk, x, kvDim);
    rope(q, t), rope(k, t);
    keys.push(k), values.push(matvec(wv, x, kvDim));
    const att = new Float32Array(dim);
    for (let hd = 0; hd < heads; hd++) {
      const kvOff = Math.floor(hd / (heads / kvHeads)) * headSize, qOff = hd * headSize;
      const logits = keys.map((kk) => {
        let s = 0;
        for (let i = 0; i < headSize; i++) s += q[qOff + i] * kk[kvOff + i];
        return s / Math.sqrt(headSize);
      });
      const top = Math.max(...logits),
        e = logits.map((l) => Math.exp(l - top)),
        z = e.reduce((a, b) => a + b, 0);
      for (let s = 0; s <= t; s++) {
        for (let i = 0; i < headSize; i++) att[qOff + i] += e[s] / z * values[s][kvOff + i];
      }
    }
    const o = matvec(wo, att, dim);
    const x2 = rmsnorm(h.map((v, i) => v + o[i]), rmsFfn);
    const a = matvec(w1, x2, hidden), b = matvec(w3, x2, hidden);
    xf.data.set(a.map((v, i) => v / (1 + Math.exp(-v)) * b[i]), t * hidden);
  }
  acc.wq.add(xq), acc.w2.add(xf);
}
console.log(
  `calibration: ${windows} x ${seqLen} tokens of C4 through llama4m block 0 in ${
    ((performance.now() - started) / 1000).toFixed(1)
  } s`,
);

// --- the measurement ---
const layers0: [string, Matrix, ReturnType<typeof acc.wq.grams>][] = [
  ["wq", matrix(dim, dim, wq.slice()), acc.wq.grams()],
  ["w2", matrix(dim, hidden, w2.slice()), acc.w2.grams()],
];
const targets: [string, Target][] = [["50%", {
  kind: "unstructured",
  sparsity: 0.5,
  group: "layer",
}], ["2:4", { kind: "nm", n: 2, m: 4 }]];
console.log(
  "| layer | target | K | rel. error Wanda | rel. error FISTA | run-0 objective | best run | iterations | lambdas | E_round/E_total | time s |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const [name, weight, grams] of layers0) {
  for (const [label, target] of targets) {
    for (const k of ks) {
      const t0 = performance.now();
      const info = fistaPruner(weight, grams, target, { iterations: k }).info!;
      const seconds = (performance.now() - t0) / 1000, energy = info.outputEnergy;
      console.log(
        `| ${name} [${weight.rows}x${weight.cols}] | ${label} | ${k} | ${
          (info.warmStartLayerError / energy).toFixed(5)
        } | ${(info.layerError / energy).toFixed(5)} | ${
          ((info.objectives as unknown as number[][])[0].at(-1)! / energy).toFixed(5)
        } | ${info.bestRun} | ${info.iterations.join(",")} | ${
          info.lambdas.map((l: number) => l.toExponential(2)).join(",")
        } | ${info.ratio.map((r: number) => r.toFixed(3)).join(",")} | ${seconds.toFixed(2)} |`,
      );
    }
  }
}
