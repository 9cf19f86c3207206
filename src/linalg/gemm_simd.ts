/**
 * The WebAssembly SIMD (128-bit) kernels of the matrix products, written as instruction lists and
 * assembled into a module's bytes when this file loads (see `wasm.ts` for why no toolchain).
 *
 * The blocking is the same as the pure-TypeScript kernel of `matmul.ts` (GotoBLAS: blocks of
 * `NC` columns, `KC` inner indices, `MC` rows; both factors packed into panels); only the
 * innermost work, the micro-kernel over one packed block, runs in WebAssembly:
 *
 * - `gemm_f64`: `C[mc, nc] += Apanels Bpanels` in float64, 4x4 tiles, each row of a tile is two
 *   `f64x2` accumulators. Per inner index: two `v128.load` of B, four `load64_splat` of A,
 *   eight multiplies and eight adds. Each product is rounded then added, in ascending inner
 *   index, exactly as the TypeScript 4x4 kernel does, so results are bit-identical to it (and to
 *   the `*Reference` loops). No fused multiply-add: relaxed SIMD's FMA may or may not fuse,
 *   which would make results depend on the machine.
 * - `gemm_f32`: the same on float32 values with float32 sums, 4x8 tiles of `f32x4` accumulators
 *   (twice the lanes of float64). Used only by {@link linearF32Simd}, the forward pass's linear
 *   layers; bit-identical to {@link linearF32Reference} (same order, every product and sum
 *   rounded to float32).
 *
 * The module has its own 1 MiB memory holding the packed A (`MC x KC`), the packed B (`KC x NC`)
 * and one block of C (`MC x NC`). JavaScript packs the factors straight into it and copies each
 * block of C in and out (`2 mc nc` copies per `2 mc nc kc` flops). Each thread (main or worker)
 * that imports this file gets its own instance: there is no shared state between workers.
 *
 * Where WebAssembly or its SIMD proposal is missing, {@link simdAvailable} is false and callers
 * use the TypeScript kernels.
 *
 * @module
 */
import { I32, module, op, V128, type WasmFunction } from "./wasm.ts";
import { packPanels, type StridedMatrix, transposed } from "./pack.ts";
import type { Matrix } from "../tensor/matrix.ts";

const MC = 120, NC = 256, KC = 256;
/** Rows of a tile (5 measured a little faster than 4 and 6 on x86-64: 10 accumulators + 3 registers). */
const F64_ROWS = 5, F32_ROWS = 5;
const A_AT = 0, B_AT = MC * KC * 8, C_AT = B_AT + KC * NC * 8, BYTES = C_AT + MC * NC * 8;

/** Parameters of both kernels, in order. */
const P = { a: 0, b: 1, c: 2, kc: 3, mc: 4, nc: 5, ldc: 6, diag: 7 };
/** Locals after the parameters. */
const L = { i: 8, j: 9, ap: 10, bp: 11, end: 12, cp: 13, av: 14, b0: 15, b1: 16, acc: 17 };

/**
 * A micro-kernel over a packed block: for every tile of `ROWS` rows by `2 x lanes` columns with
 * `j + cols - 1 + diag >= i` (`diag` = column minus row offset of the block; a huge value computes
 * every tile), `C_tile += sum_p A[:, p] B[p, :]`, inner index ascending. `mc` and `nc` must be
 * multiples of the tile size and at least 1 tile; `ldc` is C's row stride in bytes.
 */
function microKernel(name: string, elementBytes: 4 | 8, ROWS: number): WasmFunction {
  const lanes = 16 / elementBytes, cols = 2 * lanes;
  const splat = elementBytes === 8 ? op.load64Splat : op.load32Splat;
  const add = elementBytes === 8 ? op.f64x2Add : op.f32x4Add;
  const mul = elementBytes === 8 ? op.f64x2Mul : op.f32x4Mul;
  const shift = elementBytes === 8 ? 3 : 2;
  const acc = (r: number, h: number) => L.acc + 2 * r + h;
  const rowAddress = (r: number) => [op.get(L.cp), op.get(P.ldc), op.i32(r), op.i32Mul, op.i32Add];
  const perAccumulator = (f: (r: number, h: number) => number[][]) =>
    Array.from({ length: ROWS }, (_, r) => [f(r, 0), f(r, 1)]).flat();
  const stepA = ROWS * elementBytes; // bytes of A per inner index
  /** acc[r][h] += A[i + r, p] B[p, j + h lanes ...] for one p, A and B read at these offsets. */
  const innerIndex = (aAt: number, bAt: number) => [
    [op.get(L.bp), op.v128Load(bAt), op.set(L.b0)], // b0 = B[p, j .. j + lanes - 1]
    [op.get(L.bp), op.v128Load(bAt + 16), op.set(L.b1)], // b1 = the next lanes
    ...Array.from({ length: ROWS }, (_, r) => [
      [op.get(L.ap), splat(aAt + elementBytes * r), op.set(L.av)], // av = A[i + r, p], all lanes
      [op.get(acc(r, 0)), op.get(L.av), op.get(L.b0), mul, add, op.set(acc(r, 0))], // += av b0
      [op.get(acc(r, 1)), op.get(L.av), op.get(L.b1), mul, add, op.set(acc(r, 1))], // += av b1
    ]).flat(),
  ];
  // Each line below is one statement, in stack order; `//` gives it in pseudo-code.
  const body: number[][] = [
    [op.i32(0), op.set(L.i)], // i = 0
    [op.loop], // do { (rows of tiles)
    [op.i32(0), op.set(L.j)], //   j = 0
    [op.loop], //   do { (columns of tiles)
    [op.get(L.j), op.i32(cols - 1), op.i32Add, op.get(P.diag), op.i32Add, op.get(L.i), op.i32GeS],
    [op.if], //     if (j + cols - 1 + diag >= i) {
    // ap = a + i kc bytes, end = ap + ROWS kc bytes (A panels are ROWS rows of kc values)
    [op.get(P.a), op.get(L.i), op.get(P.kc), op.i32Mul, op.i32(shift), op.i32Shl, op.i32Add],
    [op.tee(L.ap), op.get(P.kc), op.i32(ROWS << shift), op.i32Mul, op.i32Add, op.set(L.end)],
    // bp = b + j kc bytes (B panels are `cols` columns of kc values)
    [op.get(P.b), op.get(L.j), op.get(P.kc), op.i32Mul, op.i32(shift), op.i32Shl, op.i32Add],
    [op.set(L.bp)],
    // cp = c + i ldc + j bytes
    [op.get(P.c), op.get(L.i), op.get(P.ldc), op.i32Mul, op.i32Add],
    [op.get(L.j), op.i32(shift), op.i32Shl, op.i32Add, op.set(L.cp)],
    // acc[r][h] = C[i + r, j + h lanes .. j + (h + 1) lanes - 1]
    ...perAccumulator((r, h) => [...rowAddress(r), op.v128Load(16 * h), op.set(acc(r, h))]),
    // two inner indices per turn (fewer loop instructions per multiply), then an odd last one
    [op.block, op.loop], //       while (end - ap >= 2 steps) {
    [op.get(L.end), op.get(L.ap), op.i32Sub, op.i32(2 * stepA), op.i32LtS, op.brIf(1)],
    ...innerIndex(0, 0), //         p
    ...innerIndex(stepA, 32), //    p + 1
    [op.get(L.ap), op.i32(2 * stepA), op.i32Add, op.set(L.ap)], // ap += 2 steps of A
    [op.get(L.bp), op.i32(64), op.i32Add, op.set(L.bp), op.br(0)], // bp += 4 vectors }
    [op.end, op.end],
    [op.get(L.ap), op.get(L.end), op.i32LtS, op.if], //       if (ap < end) {
    ...innerIndex(0, 0), //         the last p }
    [op.end],
    ...perAccumulator((r, h) => [...rowAddress(r), op.get(acc(r, h)), op.v128Store(16 * h)]),
    [op.end], //     }
    [op.get(L.j), op.i32(cols), op.i32Add, op.tee(L.j), op.get(P.nc), op.i32LtS, op.brIf(0)],
    [op.end], //   } while ((j += cols) < nc)
    [op.get(L.i), op.i32(ROWS), op.i32Add, op.tee(L.i), op.get(P.mc), op.i32LtS, op.brIf(0)],
    [op.end], // } while ((i += ROWS) < mc)
  ].flat();
  return {
    name,
    params: Array(8).fill(I32),
    results: [],
    locals: [...Array(6).fill(I32), ...Array(3 + 2 * ROWS).fill(V128)],
    body,
  };
}

/** The module's bytes (a few KB; browsers compile modules under 4 KB synchronously on the main thread). */
export const GEMM_MODULE_BYTES: Uint8Array<ArrayBuffer> = module(
  [microKernel("gemm_f64", 8, F64_ROWS), microKernel("gemm_f32", 4, F32_ROWS)],
  Math.ceil(BYTES / 65536),
);

type Kernel = (
  a: number,
  b: number,
  c: number,
  kc: number,
  mc: number,
  nc: number,
  ldc: number,
  diag: number,
) => void;

interface Instance {
  f64: Kernel;
  f32: Kernel;
  a64: Float64Array;
  b64: Float64Array;
  c64: Float64Array;
  a32: Float32Array;
  b32: Float32Array;
  c32: Float32Array;
}

let instance: Instance | null | undefined;

/** This thread's instance of the module, or null where WebAssembly SIMD is missing. */
function simd(): Instance | null {
  if (instance !== undefined) return instance;
  const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (wasm === undefined || !wasm.validate(GEMM_MODULE_BYTES)) return instance = null;
  const { exports } = new wasm.Instance(new wasm.Module(GEMM_MODULE_BYTES));
  const buffer = (exports.mem as WebAssembly.Memory).buffer;
  return instance = {
    f64: exports.gemm_f64 as Kernel,
    f32: exports.gemm_f32 as Kernel,
    a64: new Float64Array(buffer, A_AT, MC * KC),
    b64: new Float64Array(buffer, B_AT, KC * NC),
    c64: new Float64Array(buffer, C_AT, MC * NC),
    a32: new Float32Array(buffer, A_AT, MC * KC),
    b32: new Float32Array(buffer, B_AT, KC * NC),
    c32: new Float32Array(buffer, C_AT, MC * NC),
  };
}

/**
 * Whether this runtime runs the WebAssembly SIMD kernels (WebAssembly present and the module,
 * which uses 128-bit SIMD, validates).
 *
 * @returns True when the SIMD kernels can run.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { simdAvailable } from "./gemm_simd.ts";
 * assert.equal(typeof simdAvailable(), "boolean");
 * ```
 */
export function simdAvailable(): boolean {
  return simd() !== null;
}

function instanceOrThrow(): Instance {
  const s = simd();
  if (s === null) throw new TypeError("Cannot run the SIMD kernels: WebAssembly SIMD is missing");
  return s;
}

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** Copies block `[rows, cols]` of `src` (row stride `lds`, from `at`) into `dst` (stride `ldd`). */
function copyBlock(
  dst: Float32Array | Float64Array,
  dstAt: number,
  ldd: number,
  src: Float32Array | Float64Array,
  srcAt: number,
  lds: number,
  rows: number,
  cols: number,
): void {
  for (let i = 0; i < rows; i++) {
    dst.set(src.subarray(srcAt + i * lds, srcAt + i * lds + cols), dstAt + i * ldd);
  }
}

/**
 * `C += alpha * A B` in float64 with the SIMD kernel; the contract of `gemmAccumulate` in
 * `matmul.ts` (which calls this when the SIMD kernels are selected), bit-identical results.
 *
 * @param c The accumulator view (Float64Array data, colStride 1), updated in place.
 * @param a Left factor view `[m, k]`.
 * @param b Right factor view `[k, n]`.
 * @param m Rows of C.
 * @param n Columns of C.
 * @param k Inner dimension.
 * @param alpha Multiplies the product (1 or -1 keep it exact).
 * @param upperOnly Only entries `j >= i` are promised (tiles wholly below the diagonal skipped).
 * @throws {TypeError} If WebAssembly SIMD is missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gemmAccumulateSimd, simdAvailable } from "./gemm_simd.ts";
 * if (simdAvailable()) {
 *   const c = new Float64Array(1);
 *   const a = { data: new Float64Array([1, 2]), offset: 0, rowStride: 2, colStride: 1 };
 *   const b = { data: new Float64Array([3, 4]), offset: 0, rowStride: 1, colStride: 1 };
 *   gemmAccumulateSimd({ data: c, offset: 0, rowStride: 1, colStride: 1 }, a, b, 1, 1, 2, 1, false);
 *   assert.equal(c[0], 11);
 * }
 * ```
 */
export function gemmAccumulateSimd(
  c: StridedMatrix,
  a: StridedMatrix,
  b: StridedMatrix,
  m: number,
  n: number,
  k: number,
  alpha: number,
  upperOnly: boolean,
): void {
  const s = instanceOrThrow(), cd = c.data, ldc = c.rowStride;
  const bT = transposed(b); // columns of B are packed as panel rows
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc), ncPad = roundUp(nc, 4);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packPanels(bT, jc, nc, pc, kc, s.b64, 1, 4); // columns of B become panel rows
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        if (upperOnly && ic > jc + nc - 1) break;
        packPanels(a, ic, mc, pc, kc, s.a64, alpha, F64_ROWS);
        const at = c.offset + ic * ldc + jc;
        copyBlock(s.c64, 0, ncPad, cd, at, ldc, mc, nc);
        s.f64(
          A_AT,
          B_AT,
          C_AT,
          kc,
          roundUp(mc, F64_ROWS),
          ncPad,
          ncPad * 8,
          upperOnly ? jc - ic : 1 << 30,
        );
        copyBlock(cd, at, ldc, s.c64, 0, ncPad, mc, nc);
      }
    }
  }
}

/**
 * {@link packPanels} for a row-major float32 source (row stride `ld`) into float32 panels, without
 * scaling: the forward pass packs every activation and weight it multiplies, so this one is kept
 * simple for the JIT (one array type, contiguous reads of each row).
 */
function packRowsF32(
  src: Float32Array,
  ld: number,
  r0: number,
  rc: number,
  p0: number,
  kc: number,
  out: Float32Array,
  width: number,
): void {
  for (let q = 0, o = 0; q < rc; q += width, o += width * kc) {
    const valid = Math.min(width, rc - q);
    if (valid < width) out.fill(0, o, o + width * kc);
    for (let r = 0; r < valid; r++) {
      const from = (r0 + q + r) * ld + p0;
      for (let p = 0, to = o + r; p < kc; p++, to += width) out[to] = src[from + p];
    }
  }
}

function checkLinear(out: Matrix, x: Matrix, w: Matrix): void {
  if (x.cols !== w.cols) {
    throw new TypeError(
      `Cannot compute X W^T: inner dimensions differ, X [${x.rows}, ${x.cols}] and W [${w.rows}, ${w.cols}]`,
    );
  }
  if (
    !(out.data instanceof Float32Array) || out.rows !== x.rows || out.cols !== w.rows ||
    out.data.length !== x.rows * w.rows
  ) {
    throw new TypeError(
      `Cannot write X W^T into [${out.rows}, ${out.cols}]: expected a Float32 matrix [${x.rows}, ${w.rows}]`,
    );
  }
}

/**
 * `out = X W^T` with float32 sums: the reference of {@link linearF32Simd}. Each output adds its
 * products in ascending inner index, every product and every partial sum rounded to float32.
 *
 * @param out The output `[m, n]`, overwritten.
 * @param x Inputs `[m, k]`.
 * @param w Weight `[n, k]`.
 * @returns `out`.
 * @throws {TypeError} If the shapes do not match.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, matrix } from "../tensor/matrix.ts";
 * import { linearF32Reference } from "./gemm_simd.ts";
 * const y = linearF32Reference(matrix(1, 2), fromRows([[1, 2]]), fromRows([[3, 4], [5, 6]]));
 * assert.deepEqual(Array.from(y.data), [11, 17]);
 * ```
 */
export function linearF32Reference(out: Matrix, x: Matrix, w: Matrix): Matrix {
  checkLinear(out, x, w);
  const m = x.rows, n = w.rows, k = x.cols, f = Math.fround;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s = f(s + f(x.data[i * k + p] * w.data[j * k + p]));
      out.data[i * n + j] = s;
    }
  }
  return out;
}

/**
 * `out = X W^T` (a linear layer on a batch of tokens) with the float32 SIMD kernel: float32
 * products and sums, twice the lanes of float64. Bit-identical to {@link linearF32Reference}.
 * Against the float64-accumulating `matmulTransB` the relative difference per output is bounded
 * by about `k * 2^-24` times `sum_p |x_p w_p| / |sum_p x_p w_p|` (the usual bound of a recursive
 * float32 sum); the tests check it within that bound.
 *
 * @param out The output `[m, n]`, overwritten (must not share memory with `x` or `w`).
 * @param x Inputs `[m, k]`.
 * @param w Weight `[n, k]`.
 * @returns `out`.
 * @throws {TypeError} If the shapes do not match or WebAssembly SIMD is missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, matrix } from "../tensor/matrix.ts";
 * import { linearF32Simd, simdAvailable } from "./gemm_simd.ts";
 * if (simdAvailable()) {
 *   const y = linearF32Simd(matrix(1, 2), fromRows([[1, 2]]), fromRows([[3, 4], [5, 6]]));
 *   assert.deepEqual(Array.from(y.data), [11, 17]);
 * }
 * ```
 */
export function linearF32Simd(out: Matrix, x: Matrix, w: Matrix): Matrix {
  checkLinear(out, x, w);
  const s = instanceOrThrow(), m = x.rows, n = w.rows, k = x.cols, o = out.data;
  if (k === 0) o.fill(0);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc), ncPad = roundUp(nc, 8);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packRowsF32(w.data, k, jc, nc, pc, kc, s.b32, 8); // rows of W = columns of W^T
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packRowsF32(x.data, k, ic, mc, pc, kc, s.a32, F32_ROWS);
        const at = ic * n + jc;
        if (pc === 0) s.c32.fill(0, 0, mc * ncPad); // the first inner block starts from 0
        else copyBlock(s.c32, 0, ncPad, o, at, n, mc, nc);
        s.f32(A_AT, B_AT, C_AT, kc, roundUp(mc, F32_ROWS), ncPad, ncPad * 4, 1 << 30);
        copyBlock(o, at, n, s.c32, 0, ncPad, mc, nc);
      }
    }
  }
  return out;
}
