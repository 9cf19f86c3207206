/**
 * Tensor bytes to float32 and back, by safetensors dtype name. Widening (F16, BF16 -> F32) is
 * exact, so a weight read, left alone and written back is the same bytes; narrowing rounds to
 * nearest, ties to even (`half.ts`), as torch's `.half()` / `.bfloat16()` do.
 *
 * @module
 */
import { bf16ToFloat32, f16ToFloat32, float32ToBf16, float32ToF16 } from "./half.ts";
import { copyBytes } from "./bytes.ts";

/** The floating dtypes model weights are stored in, as safetensors names them. */
export type FloatDtype = "F32" | "F16" | "BF16";

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkHost(): void {
  if (!littleEndianHost) throw new Error("Cannot convert tensor bytes: this host is big-endian");
}

/**
 * A tensor's little-endian bytes as a new `Float32Array`: F32 copied, F16 and BF16 widened
 * exactly, F64 rounded to the nearest float32.
 *
 * @param bytes The stored bytes (any alignment; not modified).
 * @param dtype The safetensors dtype.
 * @param name The tensor's name, for the error message.
 * @returns The values.
 * @throws {TypeError} If the dtype is not F32, F16, BF16 or F64.
 * @throws {RangeError} If the byte count is not a multiple of the dtype's size.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toFloat32 } from "./dtype.ts";
 * assert.deepEqual(Array.from(toFloat32(new Uint8Array([0x80, 0x3f, 0x00, 0xc0]), "BF16")), [1, -2]);
 * assert.deepEqual(Array.from(toFloat32(new Uint8Array([0x00, 0x3c]), "F16")), [1]);
 * ```
 */
export function toFloat32(bytes: Uint8Array, dtype: string, name = "?"): Float32Array {
  checkHost();
  const size = ({ F32: 4, F16: 2, BF16: 2, F64: 8 } as Record<string, number>)[dtype];
  if (size === undefined) {
    throw new TypeError(
      `Cannot read safetensors tensor "${name}" as float32: dtype ${dtype} is not F32, F16, BF16 or F64`,
    );
  }
  if (bytes.length % size !== 0) {
    throw new RangeError(
      `Cannot read safetensors tensor "${name}" as float32: ${bytes.length} bytes is not a whole number of ${dtype}`,
    );
  }
  const aligned = copyBytes(bytes); // its own aligned buffer, even from a pooled Buffer
  if (dtype === "F32") return new Float32Array(aligned.buffer);
  if (dtype === "F16") return f16ToFloat32(new Uint16Array(aligned.buffer));
  if (dtype === "BF16") return bf16ToFloat32(new Uint16Array(aligned.buffer));
  return Float32Array.from(new Float64Array(aligned.buffer));
}

/**
 * Float32 values as the little-endian bytes of `dtype` (F16 and BF16 rounded to nearest even).
 * For values that came from {@link toFloat32} of the same dtype this gives the same bytes back.
 *
 * @param values The values (not modified; for F32 the result is a copy).
 * @param dtype The storage dtype.
 * @returns New bytes.
 * @throws {TypeError} If `values` is not a Float32Array or the dtype is not F32, F16 or BF16.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromFloat32, toFloat32 } from "./dtype.ts";
 * const bytes = new Uint8Array([0x00, 0x3c, 0x00, 0xc0]); // F16 1, -2
 * assert.deepEqual(fromFloat32(toFloat32(bytes, "F16"), "F16"), bytes);
 * ```
 */
export function fromFloat32(values: Float32Array, dtype: FloatDtype): Uint8Array {
  checkHost();
  if (!(values instanceof Float32Array)) {
    throw new TypeError(`Cannot store values as ${dtype}: expected a Float32Array`);
  }
  if (dtype === "F32") return new Uint8Array(values.slice().buffer);
  if (dtype === "F16") return new Uint8Array(float32ToF16(values).buffer);
  if (dtype === "BF16") return new Uint8Array(float32ToBf16(values).buffer);
  throw new TypeError(`Cannot store values as ${dtype}: not F32, F16 or BF16`);
}
