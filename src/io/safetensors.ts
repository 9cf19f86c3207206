/**
 * The safetensors format (Hugging Face), read and written from bytes: the header is parsed and
 * validated before any tensor is touched, then tensors are read one at a time.
 *
 * Layout (https://github.com/huggingface/safetensors, README "Format"):
 *
 *     [8 bytes: N, unsigned little-endian u64]
 *     [N bytes: UTF-8 JSON object, padded with spaces]
 *       { "__metadata__": {"key": "value", ...},            (optional, string -> string)
 *         "<tensor name>": {"dtype": "F32", "shape": [rows, cols], "data_offsets": [begin, end]},
 *         ... }
 *     [data section: tensor bytes, little-endian, row-major; offsets relative to its start]
 *
 * Validation follows the reference implementation (`safetensors/src/tensor.rs`): N at most
 * 100,000,000 bytes (`MAX_HEADER_SIZE`), the header inside the file and starting with `{`, every
 * dtype known, `end - begin == product(shape) * dtypeSize`, offsets inside the data section, no two
 * tensors overlapping. Where we differ: we also reject duplicate names (JSON.parse would keep the
 * last silently), and we accept gaps between tensors and trailing bytes (the reference requires the
 * tensors to tile the data section exactly); nothing we read depends on them.
 *
 * Errors: `TypeError` when the structure or a type is wrong (not JSON, a shape that is not an
 * array, an unknown dtype, a duplicate name), `RangeError` when a value is out of range (header
 * length, offsets, sizes). Messages start `Cannot read safetensors` and name the part, the tensor
 * and the value.
 *
 * @module
 */
import { findDuplicateKey } from "./json_duplicates.ts";
import { toFloat32 } from "./dtype.ts";

export { safetensorsChunks, safetensorsLayout, writeSafetensors } from "./safetensors_write.ts";
export type {
  SafetensorsDtypeOut,
  SafetensorsEntry,
  SafetensorsSpec,
} from "./safetensors_write.ts";

/**
 * Largest header the reference implementation accepts (`MAX_HEADER_SIZE`), in bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SAFETENSORS_MAX_HEADER_BYTES } from "./safetensors.ts";
 * assert.equal(SAFETENSORS_MAX_HEADER_BYTES, 100_000_000);
 * ```
 */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/**
 * Bytes per element of every dtype we can read (safetensors' `Dtype`, without sub-byte floats).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SAFETENSORS_DTYPE_BYTES } from "./safetensors.ts";
 * assert.equal(SAFETENSORS_DTYPE_BYTES.BF16, 2);
 * ```
 */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = Object.freeze({
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
});

/** Where one tensor is, as the header says. `begin`/`end` are relative to the data section. */
export interface SafetensorsTensorInfo {
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** A validated header. */
export interface SafetensorsHeader {
  /** N, the header's length in bytes (after the 8-byte length field). */
  headerBytes: number;
  /** Where the data section starts in the file: `8 + N`. */
  dataStart: number;
  /** Length of the data section: file size minus `dataStart`. */
  dataBytes: number;
  /** Tensor names sorted by data offset. */
  names: string[];
  /** The `__metadata__` entry (empty when absent). */
  metadata: Record<string, string>;
  /** Every tensor by name. */
  tensors: Map<string, SafetensorsTensorInfo>;
}

/** Options for the readers. */
export interface SafetensorsReadOptions {
  /** What the bytes are (e.g. a file name), quoted in error messages. */
  source?: string;
}

/** The tensor lookups shared by {@link SafetensorsFile} and {@link SafetensorsReader}. */
export interface SafetensorsIndex {
  /** Tensor names sorted by data offset. */
  readonly names: string[];
  /** The `__metadata__` entry. */
  readonly metadata: Record<string, string>;
  /** The validated header. */
  readonly header: SafetensorsHeader;
  /** True when the file has a tensor of this name. */
  has(name: string): boolean;
  /** A copy of the tensor's header entry; `RangeError` when there is no such tensor. */
  info(name: string): SafetensorsTensorInfo;
}

/** A whole safetensors file in memory. */
export interface SafetensorsFile extends SafetensorsIndex {
  /** The tensor's bytes: a view into the file's bytes (not a copy; do not modify). */
  raw(name: string): Uint8Array;
  /** The tensor as a new `Float32Array` (F32 copied, F16/BF16 widened exactly, F64 rounded). */
  float32(name: string): Float32Array;
}

/** Random access to the bytes of a file, e.g. a file handle or a `Blob`. */
export interface ByteSource {
  /** Total length in bytes. */
  size: number;
  /** Resolves to exactly `length` bytes starting at `offset`. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A safetensors file read lazily from a {@link ByteSource}: header at open, tensors on demand. */
export interface SafetensorsReader extends SafetensorsIndex {
  /** Reads the tensor's bytes (a new buffer). */
  raw(name: string): Promise<Uint8Array>;
  /** Reads the tensor as a new `Float32Array` (see {@link SafetensorsFile.float32}). */
  float32(name: string): Promise<Float32Array>;
}

/** Builds the error constructor call with the common `Cannot read safetensors` prefix. */
function failure(
  Kind: TypeErrorConstructor | RangeErrorConstructor,
  options: SafetensorsReadOptions | undefined,
  what: string,
): Error {
  const where = options?.source === undefined ? "" : ` file "${options.source}"`;
  return new Kind(`Cannot read safetensors${where}: ${what}`);
}

/** Describes a JSON value for an error message, e.g. `number 3` or `string "x"`. */
function describe(value: unknown): string {
  if (Array.isArray(value)) return `array ${JSON.stringify(value)}`;
  if (value === null || value === undefined) return String(value);
  return `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * The error for a file whose header length does not fit: a cut safetensors file (its JSON header
 * starts at byte 8) keeps `reason`; any other file is said to be no safetensors file at all.
 */
function badLength(prefix: Uint8Array, reason: string, o?: SafetensorsReadOptions): Error {
  if (prefix[8] === 0x7b) return failure(RangeError, o, reason); // "{": a safetensors header
  const after = prefix.length < 8
    ? ""
    : prefix.length === 8
    ? ", and nothing follows the header length"
    : `, and byte 8 is 0x${prefix[8].toString(16).padStart(2, "0")}, not the "{" of a JSON header`;
  return failure(RangeError, o, `not a safetensors file: ${reason}${after}`);
}

/** Reads and checks the 8-byte header length; returns N. */
function headerLength(prefix: Uint8Array, fileSize: number, o?: SafetensorsReadOptions): number {
  if (fileSize < 8) {
    throw badLength(prefix, `file has ${fileSize} bytes, fewer than the 8-byte header length`, o);
  }
  if (prefix.length < 8) {
    throw failure(RangeError, o, `got ${prefix.length} bytes of the file's start, need 8`);
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw badLength(prefix, `header length ${n} bytes exceeds the limit of 100000000 bytes`, o);
  }
  if (8n + n > BigInt(fileSize)) {
    throw badLength(
      prefix,
      `header length ${n} bytes runs past the end of the file (${fileSize} bytes)`,
      o,
    );
  }
  if (prefix.length < 8 + Number(n)) {
    throw failure(
      RangeError,
      o,
      `got ${prefix.length} bytes of the file's start, the header needs ${8 + Number(n)}`,
    );
  }
  return Number(n);
}

/** Decodes the header bytes into a JSON object, rejecting bad UTF-8, bad JSON and duplicate keys. */
function headerJson(bytes: Uint8Array, o?: SafetensorsReadOptions): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw failure(TypeError, o, "header is not valid UTF-8");
  }
  if (!text.startsWith("{")) {
    throw failure(
      TypeError,
      o,
      `header must start with "{", got ${JSON.stringify(text.slice(0, 20))}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw failure(TypeError, o, `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw failure(TypeError, o, `header must be a JSON object, got ${describe(parsed)}`);
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    const inside = duplicate.path.length === 0 ? "" : ` inside "${duplicate.path.join(".")}"`;
    const what = duplicate.path.length === 0 ? "tensor name" : "key";
    throw failure(TypeError, o, `duplicate ${what} "${duplicate.key}"${inside}`);
  }
  return parsed as Record<string, unknown>;
}

/** Validates `__metadata__`: a string -> string map. */
function checkMetadata(value: unknown, o?: SafetensorsReadOptions): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw failure(
      TypeError,
      o,
      `__metadata__ must be an object of strings, got ${describe(value)}`,
    );
  }
  const entries = Object.entries(value);
  for (const [key, v] of entries) {
    if (typeof v !== "string") {
      throw failure(TypeError, o, `__metadata__ "${key}" must be a string, got ${describe(v)}`);
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** Checks `[a, b, ...]` is an array of safe integers; `RangeError` for negative ones. */
function integers(
  value: unknown,
  field: string,
  name: string,
  o?: SafetensorsReadOptions,
): number[] {
  if (!Array.isArray(value) || !value.every((v) => Number.isSafeInteger(v))) {
    throw failure(
      TypeError,
      o,
      `tensor "${name}" ${field} must be an array of integers, got ${describe(value)}`,
    );
  }
  if (value.some((v) => v < 0)) {
    throw failure(
      RangeError,
      o,
      `tensor "${name}" ${field} ${JSON.stringify(value)} has a negative value`,
    );
  }
  return value.slice();
}

/** Validates one tensor entry against the data section's length. */
function checkTensor(name: string, value: unknown, dataBytes: number, o?: SafetensorsReadOptions) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw failure(TypeError, o, `tensor "${name}" must be an object, got ${describe(value)}`);
  }
  const { dtype, shape, data_offsets } = value as Record<string, unknown>;
  if (typeof dtype !== "string" || !Object.hasOwn(SAFETENSORS_DTYPE_BYTES, dtype)) {
    throw failure(TypeError, o, `tensor "${name}" has unknown dtype ${describe(dtype)}`);
  }
  const dims = integers(shape, "shape", name, o);
  const offsets = integers(data_offsets, "data_offsets", name, o);
  if (offsets.length !== 2) {
    throw failure(
      TypeError,
      o,
      `tensor "${name}" data_offsets must be [begin, end], got ${describe(data_offsets)}`,
    );
  }
  const [begin, end] = offsets;
  const at = `tensor "${name}" data_offsets [${begin}, ${end}]`;
  if (begin > end) throw failure(RangeError, o, `${at} begin is after end`);
  if (end > dataBytes) {
    throw failure(RangeError, o, `${at} end past the data section (${dataBytes} bytes)`);
  }
  // BigInt: a hostile shape's product may exceed 2^53 and must not round to a matching size.
  const expected = dims.reduce((p, d) => p * BigInt(d), BigInt(SAFETENSORS_DTYPE_BYTES[dtype]));
  if (expected !== BigInt(end - begin)) {
    throw failure(
      RangeError,
      o,
      `${at} hold ${end - begin} bytes but shape [${
        dims.join(", ")
      }] of ${dtype} needs ${expected}`,
    );
  }
  return { dtype, shape: dims, begin, end };
}

/**
 * Parses and validates a safetensors header from the first bytes of a file.
 *
 * @param prefix The file's first bytes: at least `8 + N` of them (the whole file is fine).
 * @param fileSize The whole file's length in bytes.
 * @param options `source` names the file in error messages.
 * @returns The validated header, names sorted by data offset.
 * @throws {TypeError} If the header is not UTF-8 JSON, an entry has the wrong structure, a dtype is
 *   unknown, or a name repeats.
 * @throws {RangeError} If the file is too short, N exceeds 100,000,000 or the file, `prefix` is
 *   shorter than the header, or an offset or size is out of range or overlaps another tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSafetensorsHeader, writeSafetensors } from "./safetensors.ts";
 * const bytes = writeSafetensors([{ name: "w", dtype: "F32", shape: [2], data: new Float32Array(2) }]);
 * const header = parseSafetensorsHeader(bytes, bytes.length);
 * assert.deepEqual(header.tensors.get("w"), { dtype: "F32", shape: [2], begin: 0, end: 8 });
 * assert.throws(() => parseSafetensorsHeader(bytes, 7), RangeError);
 * ```
 */
export function parseSafetensorsHeader(
  prefix: Uint8Array,
  fileSize: number,
  options?: SafetensorsReadOptions,
): SafetensorsHeader {
  if (!(prefix instanceof Uint8Array)) {
    throw failure(TypeError, options, `bytes must be a Uint8Array, got ${describe(prefix)}`);
  }
  if (!Number.isSafeInteger(fileSize) || fileSize < 0) {
    throw failure(TypeError, options, `file size must be a non-negative integer, got ${fileSize}`);
  }
  const headerBytes = headerLength(prefix, fileSize, options);
  const json = headerJson(prefix.subarray(8, 8 + headerBytes), options);
  const dataStart = 8 + headerBytes;
  const dataBytes = fileSize - dataStart;
  let metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensorInfo>();
  for (const [name, value] of Object.entries(json)) {
    if (name === "__metadata__") metadata = checkMetadata(value, options);
    else tensors.set(name, checkTensor(name, value, dataBytes, options));
  }
  const names = [...tensors.keys()].sort((a, b) => {
    const ta = tensors.get(a)!, tb = tensors.get(b)!;
    return ta.begin - tb.begin || ta.end - tb.end;
  });
  let previous: string | undefined;
  for (const name of names) {
    const t = tensors.get(name)!;
    const p = previous === undefined ? undefined : tensors.get(previous)!;
    if (p !== undefined && t.begin < p.end && t.end > t.begin) {
      throw failure(
        RangeError,
        options,
        `tensor "${name}" data_offsets [${t.begin}, ${t.end}] overlap tensor "${previous}" [${p.begin}, ${p.end}]`,
      );
    }
    if (p === undefined || t.end > p.end) previous = name;
  }
  return { headerBytes, dataStart, dataBytes, names, metadata, tensors };
}

/** Converts a tensor's little-endian bytes to float32 (exact for F16 and BF16). */
function bytesToFloat32(
  bytes: Uint8Array,
  info: SafetensorsTensorInfo,
  name: string,
): Float32Array {
  return toFloat32(bytes, info.dtype, name);
}

/** The lookups over a parsed header. */
function indexOf(header: SafetensorsHeader, options?: SafetensorsReadOptions): SafetensorsIndex {
  const get = (name: string) => {
    const t = header.tensors.get(name);
    if (t === undefined) {
      throw failure(
        RangeError,
        options,
        `no tensor named "${name}" (the file has ${header.names.length})`,
      );
    }
    return t;
  };
  return {
    names: header.names,
    metadata: header.metadata,
    header,
    has: (name) => header.tensors.has(name),
    info: (name) => ({ ...get(name), shape: get(name).shape.slice() }),
  };
}

/**
 * Reads a whole safetensors file held in memory. The header is validated at once; tensors are
 * converted when asked for.
 *
 * @param bytes The file's bytes (not modified; `raw` returns views into them).
 * @param options `source` names the file in error messages.
 * @returns The file.
 * @throws {TypeError} See {@link parseSafetensorsHeader}.
 * @throws {RangeError} See {@link parseSafetensorsHeader}; also `info`, `raw` and `float32` for an
 *   unknown name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * const bytes = writeSafetensors(
 *   [{ name: "w", dtype: "BF16", shape: [1, 2], data: new Float32Array([1, -2]) }],
 *   { format: "pt" },
 * );
 * const file = readSafetensors(bytes);
 * assert.deepEqual(file.names, ["w"]);
 * assert.deepEqual(file.metadata, { format: "pt" });
 * assert.deepEqual(Array.from(file.float32("w")), [1, -2]);
 * assert.deepEqual(Array.from(file.raw("w")), [0x80, 0x3f, 0x00, 0xc0]);
 * ```
 */
export function readSafetensors(
  bytes: Uint8Array,
  options?: SafetensorsReadOptions,
): SafetensorsFile {
  const header = parseSafetensorsHeader(bytes, bytes?.length, options);
  const index = indexOf(header, options);
  const raw = (name: string) => {
    const { begin, end } = index.info(name);
    return bytes.subarray(header.dataStart + begin, header.dataStart + end);
  };
  return { ...index, raw, float32: (name) => bytesToFloat32(raw(name), index.info(name), name) };
}

/** Reads exactly `length` bytes at `offset`, or throws naming what came back. */
async function readExactly(
  source: ByteSource,
  offset: number,
  length: number,
  options?: SafetensorsReadOptions,
): Promise<Uint8Array> {
  const bytes = await source.read(offset, length);
  if (!(bytes instanceof Uint8Array)) {
    throw failure(
      TypeError,
      options,
      `source.read must return a Uint8Array, got ${describe(bytes)}`,
    );
  }
  if (bytes.length !== length) {
    throw failure(
      RangeError,
      options,
      `read ${bytes.length} bytes at offset ${offset}, expected ${length} (file truncated?)`,
    );
  }
  return bytes;
}

/**
 * Opens a safetensors file for streaming: reads and validates only the header; each tensor is read
 * from the source when asked for, so a multi-GB file is never held in memory at once.
 *
 * @param source Random access to the file's bytes.
 * @param options `source` names the file in error messages.
 * @returns The reader.
 * @throws {TypeError} If `source` is not a {@link ByteSource}; see {@link parseSafetensorsHeader}.
 * @throws {RangeError} See {@link parseSafetensorsHeader}; also when a read returns fewer bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSafetensors, writeSafetensors } from "./safetensors.ts";
 * const bytes = writeSafetensors([{ name: "w", dtype: "F16", shape: [2], data: new Float32Array([1, 0.5]) }]);
 * const source = { size: bytes.length, read: (at: number, n: number) => Promise.resolve(bytes.slice(at, at + n)) };
 * const reader = await openSafetensors(source);
 * assert.deepEqual(Array.from(await reader.float32("w")), [1, 0.5]);
 * ```
 */
export async function openSafetensors(
  source: ByteSource,
  options?: SafetensorsReadOptions,
): Promise<SafetensorsReader> {
  if (typeof source?.read !== "function" || !Number.isSafeInteger(source.size) || source.size < 0) {
    throw failure(
      TypeError,
      options,
      `source must be {size, read(offset, length)}, got ${describe(source)}`,
    );
  }
  // 9 bytes: the header length and the first byte of the header ("{" in a safetensors file)
  let prefix = await readExactly(source, 0, Math.min(9, source.size), options);
  if (prefix.length >= 8) {
    const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
    const fits = n <= BigInt(SAFETENSORS_MAX_HEADER_BYTES) && 8n + n <= BigInt(source.size);
    if (fits) prefix = await readExactly(source, 0, 8 + Number(n), options);
  }
  const header = parseSafetensorsHeader(prefix, source.size, options);
  const index = indexOf(header, options);
  const raw = (name: string) => {
    const { begin, end } = index.info(name);
    return readExactly(source, header.dataStart + begin, end - begin, options);
  };
  return {
    ...index,
    raw,
    float32: async (name) => bytesToFloat32(await raw(name), index.info(name), name),
  };
}
