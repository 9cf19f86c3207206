/**
 * An independent backend for the conformance suite, written from `docs/conformance.md` alone (the
 * conventions, the rounding points and the FISTAPruner port specification), the way an engineer of
 * another backend would write one. It imports nothing of `src/` but the safetensors reader and
 * writer (file I/O, which any backend gets from a library) and the manifest's types: every score, selection, SparseGPT and
 * FISTAPruner step is re-implemented here, in float64 with the float32 roundings the docs list.
 *
 * `bugs` plants the mistakes the suite must catch (a missing SwiftPrune ridge, SparseGPT's
 * dampening not scaled by `mean(diag H)`, a block size that ignores `--blocksize`, FISTAPruner
 * ignoring its options or rounding per row); `fistaFloat32` is not a bug but a float32 port.
 * `tests/conformance_backend_test.ts` runs it through `verify`.
 *
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readSafetensors, writeSafetensors } from "../../src/io/safetensors.ts";
import type { ConformanceCase } from "../../src/conformance/manifest.ts";

/** Mistakes to plant. */
export interface Bugs {
  /** SwiftPrune without the ridge: `x_j^2 / S` instead of `x_j^2 / (S + eps S)`. */
  noRidge?: boolean;
  /** SparseGPT's dampening as `percdamp` itself, not `percdamp * mean(diag H)`. */
  absoluteDamp?: boolean;
  /** SparseGPT with one block whatever `--blocksize` says. */
  ignoreBlocksize?: boolean;
  /** FISTAPruner rounds with the case's group (per row) instead of per operator. */
  fistaRoundByGroup?: boolean;
  /** FISTAPruner at its defaults (K 20, T 3, Wanda warm start) whatever the case's options say. */
  fistaDefaults?: boolean;
  /**
   * Not a bug: FISTAPruner in float32 arithmetic throughout (Grams, products, sums and iterates
   * rounded after every operation), the way a float32 GPU port computes; `L` stays float64.
   */
  fistaFloat32?: boolean;
}

/** The rounding applied after every FISTAPruner operation (identity in float64). */
type Round = (x: number) => number;
const exact: Round = (x) => x;

/** A case as the manifest gives it (the fields this backend reads; the types are the file format). */
type Case = Pick<ConformanceCase, "name" | "dataset" | "method" | "target" | "options">;

/** A layer: `w` `[rows, cols]`, and `x` `[tokens, cols]` or `norms` `[cols]`. */
interface Layer {
  w: Float64Array;
  rows: number;
  cols: number;
  x?: Float64Array;
  tokens: number;
  norms?: Float64Array;
}

interface Output {
  weight: Float64Array;
  keep: Uint8Array;
  scores?: Float64Array;
}

const f32 = Math.fround;

// ---- selection (conventions 3-6) ------------------------------------------------------------

/** Keep mask that prunes the k smallest of `scores[idx]`, ties pruning the lower index first. */
function pruneSmallest(scores: ArrayLike<number>, idx: number[], k: number, keep: Uint8Array) {
  const order = idx.slice().sort((a, b) => scores[a] - scores[b] || a - b);
  for (let i = 0; i < k; i++) keep[order[i]] = 0;
}

function selectMask(scores: ArrayLike<number>, rows: number, cols: number, target: Case["target"]) {
  const keep = new Uint8Array(rows * cols).fill(1);
  const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
  if (target.kind === "nm") {
    for (let start = 0; start < rows * cols; start += target.m) {
      pruneSmallest(scores, range(start, target.m), target.m - target.n, keep);
    }
  } else if (target.group === "row") {
    const k = Math.floor(target.sparsity * cols);
    for (let r = 0; r < rows; r++) pruneSmallest(scores, range(r * cols, cols), k, keep);
  } else {
    pruneSmallest(scores, range(0, rows * cols), Math.floor(target.sparsity * rows * cols), keep);
  }
  return keep;
}

// ---- scores (conventions 7-8 and the rounding table) -----------------------------------------

function columnNorms(l: Layer): Float64Array {
  if (l.norms) return l.norms;
  const out = new Float64Array(l.cols);
  for (let j = 0; j < l.cols; j++) {
    let s = 0;
    for (let t = 0; t < l.tokens; t++) s += l.x![t * l.cols + j] ** 2;
    out[j] = f32(Math.sqrt(s)); // norms are rounded to float32
  }
  return out;
}

function wandaScores(l: Layer): Float64Array {
  const norms = columnNorms(l);
  return l.w.map((v, t) => f32(Math.abs(v) * norms[t % l.cols]));
}

function swiftPruneScores(l: Layer, o: Case["options"], bugs: Bugs): Float64Array {
  const eps = o.eps!, cols = l.cols;
  const factor = (xj: number, s: number) =>
    s > 0 ? 1 / (1 - xj * xj / (bugs.noRidge ? s : s + eps * s)) : 1;
  const perColumn = new Float64Array(cols);
  if (o.xStat === "token") {
    for (let t = 0; t < l.tokens; t++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += l.x![t * cols + k] ** 2;
      for (let j = 0; j < cols; j++) perColumn[j] += factor(l.x![t * cols + j], s);
    }
  } else {
    let x: Float64Array;
    if (o.xStat === "norm") x = columnNorms(l);
    else { // mean token, kept in float64
      x = new Float64Array(cols);
      for (let t = 0; t < l.tokens; t++) for (let j = 0; j < cols; j++) x[j] += l.x![t * cols + j];
      x = x.map((v) => v / l.tokens);
    }
    let s = 0;
    for (let j = 0; j < cols; j++) s += x[j] * x[j];
    for (let j = 0; j < cols; j++) perColumn[j] = factor(x[j], s);
  }
  return l.w.map((v, t) => f32(v * v * perColumn[t % cols]));
}

// ---- dense linear algebra in float64 ---------------------------------------------------------

/** Lower Cholesky factor of a symmetric positive definite `n x n` matrix. */
function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new RangeError(`not positive definite at ${i}`);
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / l[j * n + j];
    }
  }
  return l;
}

function inverseSpd(a: Float64Array, n: number): Float64Array {
  const l = cholesky(a, n), inv = new Float64Array(n * n);
  for (let c = 0; c < n; c++) { // solve L L^T x = e_c
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
      y[i] = s / l[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * inv[k * n + c];
      inv[i * n + c] = s / l[i * n + i];
    }
  }
  return inv;
}

/** `X^T X / divisor`, `[cols, cols]`. */
function gram(l: Layer, divisor: number, R: Round = exact): Float64Array {
  const n = l.cols, g = new Float64Array(n * n);
  for (let t = 0; t < l.tokens; t++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        g[i * n + j] = R(g[i * n + j] + R(l.x![t * n + i] * l.x![t * n + j]));
      }
    }
  }
  return g.map((v) => R(v / divisor));
}

// ---- SparseGPT (convention 9) ----------------------------------------------------------------

function sparsegpt(l: Layer, target: Case["target"], o: Case["options"], bugs: Bugs): Output {
  const { rows, cols } = l, w = l.w.slice();
  const h = gram(l, l.tokens / 2); // H = (2 / tokens) X^T X
  let trace = 0;
  for (let j = 0; j < cols; j++) {
    if (h[j * cols + j] === 0) {
      h[j * cols + j] = 1;
      for (let r = 0; r < rows; r++) w[r * cols + j] = 0;
    }
    trace += h[j * cols + j];
  }
  const damp = bugs.absoluteDamp ? o.damp! : o.damp! * trace / cols;
  for (let j = 0; j < cols; j++) h[j * cols + j] += damp;
  const lu = cholesky(inverseSpd(h, cols), cols); // H^-1 = L L^T, U = L^T
  const u = (i: number, j: number) => lu[j * cols + i];
  const keep = new Uint8Array(rows * cols).fill(1);
  const blocksize = bugs.ignoreBlocksize ? cols : o.blocksize!;
  for (let i1 = 0; i1 < cols; i1 += blocksize) {
    const i2 = Math.min(i1 + blocksize, cols), count = i2 - i1;
    if (target.kind === "unstructured") { // the block's mask, from the current (updated) weights
      const scores = new Float64Array(rows * count);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < count; c++) {
          scores[r * count + c] = w[r * cols + i1 + c] ** 2 / u(i1 + c, i1 + c) ** 2;
        }
      }
      const k = Math.floor(target.sparsity * rows * count);
      const blockKeep = new Uint8Array(rows * count).fill(1);
      pruneSmallest(scores, Array.from({ length: rows * count }, (_, t) => t), k, blockKeep);
      for (let t = 0; t < rows * count; t++) {
        keep[Math.floor(t / count) * cols + i1 + (t % count)] = blockKeep[t];
      }
    }
    for (let j = i1; j < i2; j++) {
      if (target.kind === "nm" && (j - i1) % target.m === 0) { // scores rounded to float32
        const m = target.m, scores = new Float64Array(rows * m);
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < m; c++) {
            scores[r * m + c] = f32(w[r * cols + j + c] ** 2 / u(j + c, j + c) ** 2);
          }
        }
        const groupKeep = selectMask(scores, rows, m, target);
        for (let t = 0; t < rows * m; t++) {
          keep[Math.floor(t / m) * cols + j + (t % m)] = groupKeep[t];
        }
      }
      for (let r = 0; r < rows; r++) {
        const wj = w[r * cols + j], q = keep[r * cols + j] ? wj : 0, e = (wj - q) / u(j, j);
        w[r * cols + j] = q;
        for (let t = j + 1; t < cols; t++) w[r * cols + t] -= e * u(j, t); // every update at once
      }
    }
  }
  return { weight: w, keep };
}

// ---- FISTAPruner (the port specification) -----------------------------------------------------

function largestEigenvalue(g: Float64Array, n: number): number {
  let v = new Float64Array(n).fill(1 / Math.sqrt(n)), mu = 0;
  for (let k = 0; k < 2000; k++) {
    const gv = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) gv[i] += g[i * n + j] * v[j];
    const next = v.reduce((s, vi, i) => s + vi * gv[i], 0);
    const norm = Math.sqrt(gv.reduce((s, x) => s + x * x, 0));
    if (norm === 0) return 0;
    v = gv.map((x) => x / norm);
    if (k > 0 && Math.abs(next - mu) <= 1e-13 * next) return next;
    mu = next;
  }
  return mu;
}

/** `A G` for `A` `[rows, n]`. */
function timesGram(
  a: Float64Array,
  g: Float64Array,
  rows: number,
  n: number,
  R: Round = exact,
): Float64Array {
  const out = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < n; k++) {
      const v = a[r * n + k];
      if (v === 0) continue;
      for (let j = 0; j < n; j++) out[r * n + j] = R(out[r * n + j] + R(v * g[k * n + j]));
    }
  }
  return out;
}

const dot = (a: Float64Array, b: Float64Array, R: Round = exact) =>
  a.reduce((s, v, i) => R(s + R(v * b[i])), 0);

/** Rounding by magnitude: per operator (unstructured, whatever the group) or N:M. */
function roundByMagnitude(
  w: Float64Array,
  rows: number,
  cols: number,
  target: Case["target"],
  byGroup = false,
) {
  const t = target.kind === "nm" || byGroup ? target : { ...target, group: "layer" as const };
  const keep = selectMask(w.map(Math.abs), rows, cols, t);
  return { weight: w.map((v, i) => (keep[i] ? v : 0)), keep };
}

function fistaPruner(
  l: Layer,
  target: Case["target"],
  options: Case["options"],
  bugs: Bugs,
): Output {
  const o = bugs.fistaDefaults
    ? { iterations: 20, updates: 3, warmStart: "wanda" as const }
    : options;
  const { rows, cols: n, tokens } = l;
  const R: Round = bugs.fistaFloat32 ? Math.fround : exact;
  const g = gram(l, tokens, R); // G* = Gx = G = X^T X / tokens (no inputs_pruned in the suite)
  const c = timesGram(l.w, g, rows, n, R); // C = W Gx
  const lip = largestEigenvalue(g, n);
  const constant = dot(timesGram(l.w, g, rows, n, R), l.w, R);
  const eTotal = (wr: Float64Array) =>
    tokens * Math.max(0, dot(timesGram(wr, g, rows, n, R), wr, R) - 2 * dot(wr, c, R) + constant);
  const warm = o.warmStart === "sparsegpt"
    ? sparsegpt(l, target, { blocksize: 128, damp: 0.01 }, bugs).weight
    : (() => {
      const keep = selectMask(wandaScores(l), rows, n, target);
      return l.w.map((v, i) => (keep[i] ? v : 0));
    })();
  let best = roundByMagnitude(warm, rows, n, target, bugs.fistaRoundByGroup),
    bestError = eTotal(best.weight);
  let lambda = 1e-3 * c.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let tooSmall = 0, tooLarge = Infinity;
  for (let run = 0; run < o.updates!; run++) {
    // FISTA from the best so far
    let x = best.weight.slice(), xPrev = x, t = 1, beta = 0;
    for (let k = 0; k < o.iterations!; k++) {
      const y = x.map((v, i) => R(v + R(beta * R(v - xPrev[i])))); // x_{k-1} + beta (x_{k-1} - x_{k-2})
      const yg = timesGram(y, g, rows, n, R), tau = R(lambda / lip);
      const next = y.map((v, i) => {
        const z = R(v - R(R(yg[i] - c[i]) / lip));
        return z > tau ? R(z - tau) : z < -tau ? R(z + tau) : 0;
      });
      let change = 0, size = 0;
      for (let i = 0; i < x.length; i++) (change += (next[i] - x[i]) ** 2, size += x[i] ** 2);
      [xPrev, x] = [x, next];
      const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
      [beta, t] = [(t - 1) / tNext, tNext];
      if (Math.sqrt(change) <= 1e-6 * Math.sqrt(size)) break;
    }
    const rounded = roundByMagnitude(x, rows, n, target, bugs.fistaRoundByGroup);
    const d = rounded.weight.map((v, i) => v - x[i]);
    const eRound = tokens * Math.max(0, dot(timesGram(d, g, rows, n, R), d, R));
    const eTot = eTotal(rounded.weight);
    const ratio = eTot > 0 ? eRound / eTot : eRound > 0 ? Infinity : 0;
    if (eTot < bestError) [best, bestError] = [rounded, eTot];
    if (ratio > 0.3) {
      tooSmall = lambda;
      lambda = tooLarge === Infinity ? 2 * lambda : (tooSmall + tooLarge) / 2;
    } else {
      tooLarge = lambda;
      lambda = (tooSmall + tooLarge) / 2;
    }
  }
  return best;
}

// ---- the loop over the manifest -----------------------------------------------------------------

function prune(l: Layer, c: Case, bugs: Bugs): Output {
  const scoreThenSelect = (scores: Float64Array): Output => {
    const keep = selectMask(scores, l.rows, l.cols, c.target);
    return { scores, keep, weight: l.w.map((v, i) => (keep[i] ? v : 0)) };
  };
  switch (c.method) {
    case "magnitude":
      return scoreThenSelect(l.w.map(Math.abs));
    case "wanda":
      return scoreThenSelect(wandaScores(l));
    case "swiftprune":
      return scoreThenSelect(swiftPruneScores(l, c.options, bugs));
    case "sparsegpt":
      return sparsegpt(l, c.target, c.options, bugs);
    case "fista":
      return fistaPruner(l, c.target, c.options, bugs);
  }
  throw new RangeError(`this backend does not implement ${c.method}`);
}

/**
 * Runs every case of a suite whose method is in `methods` and writes `<out>/<case>.safetensors`.
 *
 * @param suite The suite folder.
 * @param out The outputs folder (must exist).
 * @param methods The methods to run (default all five).
 * @param bugs Mistakes to plant.
 * @returns The number of cases written.
 */
export async function runBackend(
  suite: string,
  out: string,
  methods = ["magnitude", "wanda", "swiftprune", "sparsegpt", "fista"],
  bugs: Bugs = {},
): Promise<number> {
  const manifest = JSON.parse(await readFile(join(suite, "manifest.json"), "utf8"));
  const layers = new Map<string, Layer>();
  let written = 0;
  for (const c of manifest.cases as Case[]) {
    if (!methods.includes(c.method)) continue;
    if (!layers.has(c.dataset)) {
      const file = readSafetensors(
        new Uint8Array(await readFile(join(suite, manifest.datasets[c.dataset].file))),
      );
      const [rows, cols] = file.info("weight").shape;
      const x = file.has("inputs") ? Float64Array.from(file.float32("inputs")) : undefined;
      layers.set(c.dataset, {
        w: Float64Array.from(file.float32("weight")),
        rows,
        cols,
        x,
        tokens: x ? x.length / cols : 0,
        norms: file.has("col_norms") ? Float64Array.from(file.float32("col_norms")) : undefined,
      });
    }
    const l = layers.get(c.dataset)!;
    const r = prune(l, c, bugs);
    const shape = [l.rows, l.cols];
    const entries = [
      { name: "weight", dtype: "F32" as const, shape, data: Float32Array.from(r.weight) },
      { name: "mask", dtype: "U8" as const, shape, data: r.keep },
      ...(r.scores
        ? [{ name: "scores", dtype: "F32" as const, shape, data: Float32Array.from(r.scores) }]
        : []),
    ];
    await writeFile(join(out, `${c.name}.safetensors`), writeSafetensors(entries));
    written++;
  }
  return written;
}
