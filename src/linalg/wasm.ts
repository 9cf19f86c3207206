/**
 * A very small WebAssembly assembler: enough to write the SIMD kernels of `gemm_simd.ts` as
 * TypeScript and emit the module's bytes when the library loads.
 *
 * Why emit bytes at load time rather than commit a `.wasm` built by a toolchain: users and CI need
 * no compiler, the bytes are reviewable as the source that produces them (no binary in the
 * repository to trust or to rebuild and compare), and the same source runs in Deno, Bun and
 * browsers. The cost is this file (the binary format of the WebAssembly core specification,
 * sections 5.1-5.5) and the kernels written as instruction lists.
 *
 * A function body is a flat list of instructions, each an array of bytes ({@link op} and the
 * helpers below build them). {@link module} wraps function types, bodies and exports into the
 * module's bytes, with one memory of fixed size that the module defines and exports as `mem`.
 *
 * @module
 */

/** Value types (spec 5.3.1). */
export const I32 = 0x7f, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b;

/** Unsigned LEB128 (spec 5.2.2). */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer (spec 5.2.2). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A byte vector: its length, then the bytes (spec 5.1.3). */
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** Instructions used by the kernels (spec 5.4), as byte arrays. */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32: (value: number) => [0x41, ...sleb(value)],
  i32Eqz: [0x45],
  i32LtS: [0x48],
  i32GeS: [0x4e],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  /** `v128.load` at `offset` bytes past the address on the stack (alignment hint 16). */
  v128Load: (offset = 0) => [0xfd, ...uleb(0x00), 4, ...uleb(offset)],
  /** `v128.store` (address, value on the stack). */
  v128Store: (offset = 0) => [0xfd, ...uleb(0x0b), 4, ...uleb(offset)],
  /** One float32 at `offset` copied into the 4 lanes. */
  load32Splat: (offset = 0) => [0xfd, ...uleb(0x09), 2, ...uleb(offset)],
  /** One float64 at `offset` copied into the 2 lanes. */
  load64Splat: (offset = 0) => [0xfd, ...uleb(0x0a), 3, ...uleb(offset)],
  f32x4Add: [0xfd, ...uleb(0xe4)],
  f32x4Mul: [0xfd, ...uleb(0xe6)],
  f64x2Add: [0xfd, ...uleb(0xf0)],
  f64x2Mul: [0xfd, ...uleb(0xf2)],
};

/** One function: parameter and result types, extra locals (by type), the instruction list. */
export interface WasmFunction {
  name: string;
  params: number[];
  results: number[];
  locals: number[];
  body: number[][];
}

/**
 * The bytes of a module holding `functions` (all exported by name) and one memory of `pages`
 * 64 KiB pages, exported as `mem`.
 *
 * @param functions The functions, in index order.
 * @param pages Size of the memory (fixed: minimum = maximum).
 * @returns The module's bytes, ready for `new WebAssembly.Module`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { I32, module, op } from "./wasm.ts";
 * const add = { name: "add", params: [I32, I32], results: [I32], locals: [], body: [op.get(0), op.get(1), op.i32Add] };
 * const { exports } = new WebAssembly.Instance(new WebAssembly.Module(module([add], 1)));
 * assert.equal((exports.add as (a: number, b: number) => number)(2, 3), 5);
 * ```
 */
export function module(functions: WasmFunction[], pages: number): Uint8Array<ArrayBuffer> {
  const section = (id: number, items: number[][]) => {
    const body = vec(items);
    return [id, ...uleb(body.length), ...body];
  };
  const name = (s: string) => vec([...new TextEncoder().encode(s)].map((b) => [b]));
  const types = functions.map((
    f,
  ) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]);
  const code = functions.map((f) => {
    const locals = vec(f.locals.map((t) => [1, t])); // one entry per local: count 1, type
    const body = [...locals, ...f.body.flat(), ...op.end];
    return [...uleb(body.length), ...body];
  });
  const exports = [
    ...functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]),
    [...name("mem"), 0x02, ...uleb(0)],
  ];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // magic, version 1
    ...section(1, types), // one type per function (duplicates are allowed)
    ...section(3, functions.map((_, i) => uleb(i))),
    ...section(5, [[0x01, ...uleb(pages), ...uleb(pages)]]), // memory, min = max
    ...section(7, exports),
    ...section(10, code),
  ]);
}
