/**
 * Half-precision floats: IEEE 754 binary16 (`F16`) and bfloat16 (`BF16`), to and from float32.
 *
 * Both are stored as 16-bit patterns (`Uint16Array`). Widening to float32 is exact. Narrowing
 * rounds to nearest, ties to even (IEEE 754's default, and what `torch.Tensor.half()` /
 * `.bfloat16()` and numpy's `astype(float16)` do). Overflow gives infinity; NaN stays NaN (quiet).
 *
 * | format | sign | exponent bits (bias) | mantissa bits | largest finite |
 * | --- | --- | --- | --- | --- |
 * | F16  | 1 | 5 (15)  | 10 | 65504 |
 * | BF16 | 1 | 8 (127) | 7  | about 3.39e38 (same exponent range as float32) |
 *
 * BF16 is the top half of a float32, so widening is a shift and narrowing rounds away the low
 * 16 bits. F16 needs its exponent re-biased, and float32 values below 2^-14 become subnormals
 * (multiples of 2^-24).
 *
 * @module
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Rounds a non-negative `q` to the nearest integer, ties to the even one. Exact for |q| < 2^52. */
function roundHalfEven(q: number): number {
  const r = Math.floor(q);
  const frac = q - r;
  return frac > 0.5 || (frac === 0.5 && r % 2 === 1) ? r + 1 : r;
}

/**
 * Converts one number to the nearest F16 bit pattern (round to nearest, ties to even).
 *
 * The number is first rounded to float32 (as when it comes from a `Float32Array`).
 *
 * @param x The value.
 * @returns The 16-bit pattern, `0..0xffff`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { f16BitsFromNumber } from "./half.ts";
 * assert.equal(f16BitsFromNumber(1), 0x3c00);
 * assert.equal(f16BitsFromNumber(-2), 0xc000);
 * assert.equal(f16BitsFromNumber(70000), 0x7c00); // overflow -> +inf
 * ```
 */
export function f16BitsFromNumber(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  if (exponent === 0xff) {
    const mantissa = bits & 0x7fffff;
    // NaN: keep the top mantissa bits and force the quiet bit so the result stays a NaN.
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  }
  const a = Math.abs(f32[0]);
  if (a >= 65520) return sign | 0x7c00; // halfway between 65504 and 2^16 rounds to even: inf
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal: units of 2^-24
  const e = exponent - 127; // a = 1.m * 2^e with e in [-14, 15]
  const q = roundHalfEven((a / 2 ** e - 1) * 1024); // 10 mantissa bits; 1024 carries into e
  return sign | (((e + 15) << 10) + q);
}

/**
 * Widens one F16 bit pattern to its exact value.
 *
 * @param h The 16-bit pattern (only the low 16 bits are used).
 * @returns The value (exactly representable in float32).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { numberFromF16Bits } from "./half.ts";
 * assert.equal(numberFromF16Bits(0x3c00), 1);
 * assert.equal(numberFromF16Bits(0x0001), 2 ** -24); // smallest subnormal
 * assert.equal(numberFromF16Bits(0xfc00), -Infinity);
 * ```
 */
export function numberFromF16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/**
 * Converts one number to the nearest BF16 bit pattern (round to nearest, ties to even).
 *
 * @param x The value (first rounded to float32).
 * @returns The 16-bit pattern.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bf16BitsFromNumber } from "./half.ts";
 * assert.equal(bf16BitsFromNumber(1), 0x3f80);
 * assert.equal(bf16BitsFromNumber(-0.5), 0xbf00);
 * ```
 */
export function bf16BitsFromNumber(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return (bits >>> 16) | 0x40; // NaN: keep it quiet
  const lowestKeptBit = (bits >>> 16) & 1;
  return (bits + 0x7fff + lowestKeptBit) >>> 16; // carries into the exponent (to inf) as it should
}

/**
 * Widens one BF16 bit pattern to its exact value.
 *
 * @param b The 16-bit pattern.
 * @returns The value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { numberFromBf16Bits } from "./half.ts";
 * assert.equal(numberFromBf16Bits(0x3f80), 1);
 * ```
 */
export function numberFromBf16Bits(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0];
}

let f16Table: Float32Array | undefined;

/**
 * Widens an array of F16 bit patterns to float32 (exact). Uses a 65,536-entry table.
 *
 * @param bits The patterns.
 * @returns A new `Float32Array` of the same length.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { f16ToFloat32 } from "./half.ts";
 * assert.deepEqual(Array.from(f16ToFloat32(new Uint16Array([0x3c00, 0xc000]))), [1, -2]);
 * ```
 */
export function f16ToFloat32(bits: Uint16Array): Float32Array {
  if (f16Table === undefined) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = numberFromF16Bits(h);
  }
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16Table[bits[i]];
  return out;
}

/**
 * Widens an array of BF16 bit patterns to float32 (exact, NaN payloads kept).
 *
 * @param bits The patterns.
 * @returns A new `Float32Array` of the same length.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bf16ToFloat32 } from "./half.ts";
 * assert.deepEqual(Array.from(bf16ToFloat32(new Uint16Array([0x3f80, 0x4040]))), [1, 3]);
 * ```
 */
export function bf16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
  return new Float32Array(out.buffer);
}

/**
 * Narrows float32 values to F16 bit patterns (round to nearest, ties to even).
 *
 * @param values The values.
 * @returns A new `Uint16Array` of the same length.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { float32ToF16 } from "./half.ts";
 * assert.deepEqual(Array.from(float32ToF16(new Float32Array([1, 0.5]))), [0x3c00, 0x3800]);
 * ```
 */
export function float32ToF16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f16BitsFromNumber(values[i]);
  return out;
}

/**
 * Narrows float32 values to BF16 bit patterns (round to nearest, ties to even).
 *
 * @param values The values.
 * @returns A new `Uint16Array` of the same length.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { float32ToBf16 } from "./half.ts";
 * assert.deepEqual(Array.from(float32ToBf16(new Float32Array([1, 2]))), [0x3f80, 0x4000]);
 * ```
 */
export function float32ToBf16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = bf16BitsFromNumber(values[i]);
  return out;
}
