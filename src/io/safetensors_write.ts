/**
 * Writing safetensors files (the format is described in `safetensors.ts`).
 *
 * Like the reference implementation's `serialize`: the header is compact JSON with `__metadata__`
 * first, padded with spaces to a multiple of 8 bytes, then the tensors' little-endian bytes back to
 * back. Unlike it, tensors keep the order they are given in (the reference sorts them by dtype
 * alignment, then name): give them in that order to get byte-identical files.
 *
 * @module
 */
import { float32ToBf16, float32ToF16 } from "./half.ts";

/** The dtypes {@link writeSafetensors} can write. */
export type SafetensorsDtypeOut = "F32" | "F16" | "BF16" | "U8" | "I32" | "I64" | "F64";

/** One tensor to write. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtypeOut;
  shape: number[];
  /**
   * The values: `Float32Array` for F32, F16, BF16 (narrowed, ties to even) and F64; `Int32Array`
   * for I32; `BigInt64Array` for I64; `Float64Array` for F64; or a `Uint8Array` holding the
   * tensor's raw little-endian bytes (for U8, the values), e.g. from `SafetensorsFile.raw`.
   */
  data: Float32Array | Uint8Array | Int32Array | Float64Array | BigInt64Array;
}

const DTYPE_BYTES: Record<SafetensorsDtypeOut, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  U8: 1,
  I32: 4,
  I64: 8,
  F64: 8,
};

/** Which typed array holds the values of each dtype (besides raw bytes in a `Uint8Array`). */
const VALUE_ARRAY: Record<SafetensorsDtypeOut, string[]> = {
  F32: ["Float32Array"],
  F16: ["Float32Array"],
  BF16: ["Float32Array"],
  U8: ["Uint8Array"],
  I32: ["Int32Array"],
  I64: ["BigInt64Array"],
  F64: ["Float64Array", "Float32Array"],
};

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Checks one entry's name, dtype and shape; returns its element count. */
function checkSpec(
  entry: Omit<SafetensorsEntry, "data">,
  index: number,
  seen: Set<string>,
): number {
  const at = `Cannot write safetensors entry ${index}`;
  if (typeof entry?.name !== "string" || entry.name === "" || entry.name === "__metadata__") {
    throw new TypeError(
      `${at}: name must be a non-empty string other than __metadata__, got ${entry?.name}`,
    );
  }
  if (seen.has(entry.name)) throw new TypeError(`${at}: duplicate tensor name "${entry.name}"`);
  seen.add(entry.name);
  const what = `Cannot write safetensors tensor "${entry.name}"`;
  if (!Object.hasOwn(DTYPE_BYTES, entry.dtype)) {
    throw new TypeError(
      `${what}: unsupported dtype ${entry.dtype} (F32, F16, BF16, U8, I32, I64, F64)`,
    );
  }
  const shape = entry.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TypeError(`${what}: shape must be an array of non-negative integers, got ${shape}`);
  }
  return shape.reduce((p, d) => p * d, 1);
}

/** Checks one entry; returns its element count. */
function checkEntry(entry: SafetensorsEntry, index: number, seen: Set<string>): number {
  const count = checkSpec(entry, index, seen);
  const what = `Cannot write safetensors tensor "${entry.name}"`;
  const shape = entry.shape;
  const kind = entry.data?.constructor?.name;
  const isRaw = entry.data instanceof Uint8Array;
  if (!isRaw && !VALUE_ARRAY[entry.dtype].includes(kind)) {
    throw new TypeError(
      `${what}: ${entry.dtype} data must be ${
        VALUE_ARRAY[entry.dtype].join(" or ")
      } or raw Uint8Array bytes, got ${kind}`,
    );
  }
  const expected = isRaw ? count * DTYPE_BYTES[entry.dtype] : count;
  if (entry.data.length !== expected) {
    throw new TypeError(
      `${what}: shape [${shape.join(", ")}] needs ${expected} ${
        isRaw ? "bytes" : "values"
      }, data has ${entry.data.length}`,
    );
  }
  return count;
}

/** The little-endian bytes of one (checked) entry. */
function entryBytes(entry: SafetensorsEntry): Uint8Array {
  if (!littleEndianHost) throw new Error("Cannot write safetensors: this host is big-endian");
  const data = entry.data;
  if (data instanceof Uint8Array) return data;
  if (entry.dtype === "F16") return new Uint8Array(float32ToF16(data as Float32Array).buffer);
  if (entry.dtype === "BF16") return new Uint8Array(float32ToBf16(data as Float32Array).buffer);
  if (entry.dtype === "F64" && data instanceof Float32Array) {
    return new Uint8Array(Float64Array.from(data).buffer);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The header of a safetensors file (its 8-byte length included) for tensors given by name, dtype
 * and shape only: a writer that produces each tensor's bytes later (one at a time, so a large
 * checkpoint never sits in memory) writes this first, then the tensors' bytes in the same order.
 *
 * @param specs The tensors, in file order.
 * @param metadata Optional `__metadata__` (string values).
 * @returns The header bytes; the data of tensor i then starts at its `data_offsets[0]`.
 * @throws {TypeError} If a name is empty or repeated, a dtype unsupported, or a shape invalid.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { safetensorsHeader, writeSafetensors } from "./safetensors_write.ts";
 * const header = safetensorsHeader([{ name: "x", dtype: "F32", shape: [2] }]);
 * const file = writeSafetensors([{ name: "x", dtype: "F32", shape: [2], data: new Float32Array(2) }]);
 * assert.deepEqual(header, file.subarray(0, header.length));
 * ```
 */
export function safetensorsHeader(
  specs: Omit<SafetensorsEntry, "data">[],
  metadata?: Record<string, string>,
): Uint8Array {
  const seen = new Set<string>();
  specs.forEach((e, i) => checkSpec(e, i, seen));
  return headerBytes(specs, metadata);
}

/** A tensor's name, dtype and shape: what its header entry says. */
export type SafetensorsSpec = Omit<SafetensorsEntry, "data">;

/**
 * {@link safetensorsHeader} plus where each tensor's bytes go in the file, for a writer that
 * writes the tensors at their offsets, in any order (e.g. as they are computed).
 *
 * @param specs Names, dtypes and shapes, in file order.
 * @param metadata Optional `__metadata__` (string values).
 * @returns `header` and each tensor's `[begin, end)` in the file (absolute: the data section
 *   starts at `header.length`).
 * @throws {TypeError} As {@link safetensorsHeader}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { safetensorsLayout, writeSafetensors } from "./safetensors_write.ts";
 * const { header, offsets } = safetensorsLayout([{ name: "m", dtype: "U8", shape: [3] }]);
 * const file = writeSafetensors([{ name: "m", dtype: "U8", shape: [3], data: new Uint8Array([1, 0, 1]) }]);
 * assert.deepEqual(file.subarray(0, header.length), header);
 * assert.deepEqual(offsets.get("m"), [header.length, header.length + 3]);
 * ```
 */
export function safetensorsLayout(
  specs: SafetensorsSpec[],
  metadata?: Record<string, string>,
): { header: Uint8Array; offsets: Map<string, [number, number]> } {
  const header = safetensorsHeader(specs, metadata);
  const offsets = new Map<string, [number, number]>();
  let at = header.length;
  for (const e of specs) {
    const end = at + e.shape.reduce((p, d) => p * d, 1) * DTYPE_BYTES[e.dtype];
    offsets.set(e.name, [at, end]);
    at = end;
  }
  return { header, offsets };
}

/** Builds the header bytes (length field included) for checked entries. */
function headerBytes(
  entries: Omit<SafetensorsEntry, "data">[],
  metadata?: Record<string, string>,
): Uint8Array {
  const parts: string[] = [];
  if (metadata !== undefined) {
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
      throw new TypeError(
        `Cannot write safetensors: metadata must be an object of strings, got ${metadata}`,
      );
    }
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string") {
        throw new TypeError(
          `Cannot write safetensors: metadata "${key}" must be a string, got ${typeof value}`,
        );
      }
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const e of entries) {
    const end = offset + e.shape.reduce((p, d) => p * d, 1) * DTYPE_BYTES[e.dtype];
    const shape = `[${e.shape.join(",")}]`;
    parts.push(
      `${
        JSON.stringify(e.name)
      }:{"dtype":"${e.dtype}","shape":${shape},"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + padded).fill(0x20, 8); // spaces, as the reference pads
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

/**
 * Produces a safetensors file as a sequence of chunks: the header first, then each tensor's bytes,
 * converted only when its chunk is taken. Write them one by one to keep memory at one tensor.
 *
 * @param entries The tensors, in file order.
 * @param metadata Optional `__metadata__` (string values).
 * @returns An iterable of byte chunks whose concatenation is the file (raw-bytes entries are
 *   yielded as given, not copied).
 * @throws {TypeError} If an entry or the metadata is malformed (checked before the first chunk).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { safetensorsChunks } from "./safetensors_write.ts";
 * const chunks = [...safetensorsChunks([{ name: "a", dtype: "U8", shape: [3], data: new Uint8Array([1, 2, 3]) }])];
 * assert.equal(chunks.length, 2);
 * assert.equal(chunks[0].length % 8, 0);
 * assert.deepEqual(Array.from(chunks[1]), [1, 2, 3]);
 * ```
 */
export function safetensorsChunks(
  entries: SafetensorsEntry[],
  metadata?: Record<string, string>,
): Iterable<Uint8Array> {
  if (!Array.isArray(entries)) {
    throw new TypeError(
      `Cannot write safetensors: entries must be an array, got ${typeof entries}`,
    );
  }
  const seen = new Set<string>();
  entries.forEach((e, i) => checkEntry(e, i, seen));
  const header = headerBytes(entries, metadata);
  return (function* () {
    yield header;
    for (const e of entries) yield entryBytes(e);
  })();
}

/**
 * Writes a safetensors file into one buffer. For large models prefer {@link safetensorsChunks}.
 *
 * @param entries The tensors, in file order.
 * @param metadata Optional `__metadata__` (string values).
 * @returns The file's bytes.
 * @throws {TypeError} If a name is empty, `__metadata__` or repeated, a dtype unsupported, a shape
 *   not made of non-negative integers, the data array of the wrong kind or length, or a metadata
 *   value not a string.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeSafetensors } from "./safetensors_write.ts";
 * const bytes = writeSafetensors([{ name: "x", dtype: "F16", shape: [1], data: new Float32Array([1]) }]);
 * const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
 * assert.equal(new TextDecoder().decode(bytes.subarray(8, 8 + n)).trimEnd(),
 *   '{"x":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}');
 * assert.deepEqual(Array.from(bytes.subarray(8 + n)), [0x00, 0x3c]);
 * ```
 */
export function writeSafetensors(
  entries: SafetensorsEntry[],
  metadata?: Record<string, string>,
): Uint8Array {
  const chunks = [...safetensorsChunks(entries, metadata)];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
