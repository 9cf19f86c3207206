/**
 * Fuzz targets for the safetensors reader (`src/io/safetensors.ts`).
 *
 * `safetensors/structured` builds files from a model of the format with hostile choices at every
 * field: the length field (past the end, over the 100 MB cap, 2^64 - 1), the header text (not JSON,
 * not UTF-8, not an object, duplicate names, bad `__metadata__`), each tensor (unknown or non-string
 * dtype, negative / fractional / huge / swapped / overlapping / out-of-range offsets, a shape whose
 * size does not match the bytes) and the data section (truncated, padded). `safetensors/mutated`
 * damages valid files byte by byte. Both run the in-memory reader AND the streaming reader and
 * require the same outcome; a parse must read every tensor and round-trip through the writer.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  openSafetensors,
  readSafetensors,
  SAFETENSORS_DTYPE_BYTES,
  type SafetensorsDtypeOut,
  type SafetensorsFile,
  writeSafetensors,
} from "../../src/io/safetensors.ts";
import { describeError, type FuzzTarget, isTypedError } from "./outcome.ts";
import {
  assertSameBytes,
  firstFloatDifference,
  mutatedFileArb,
  type MutatedInput,
  showMutated,
} from "./mutate.ts";

const encoder = new TextEncoder();
const KNOWN_DTYPES = Object.keys(SAFETENSORS_DTYPE_BYTES);
const WRITABLE = new Set(["F32", "F16", "BF16", "U8", "I32", "I64", "F64"]);
const FLOAT_DTYPES = new Set(["F32", "F16", "BF16", "F64"]);

/** A JSON value written verbatim into the header (so duplicates and odd numbers survive). */
type Raw = string;
const json = (v: unknown): Raw => JSON.stringify(v);

/** `null` most of the time; `arbitrary`'s value in one case out of `oneIn`. */
export function rarely<T>(arbitrary: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
}

/** A hostile value for a JSON field: wrong types, and the numbers that break offset arithmetic. */
const oddJson: fc.Arbitrary<Raw> = fc.oneof(
  fc.constantFrom(
    "null",
    "true",
    '"8"',
    "[]",
    "{}",
    "-1",
    "1.5",
    "1e300",
    "9007199254740993",
    "-0",
  ),
  fc.jsonValue({ maxDepth: 2 }).map(json),
);

interface TensorSpec {
  name: string;
  dtype: Raw;
  shape: Raw;
  offsets: Raw;
  /** Byte length the (unmodified) offsets cover. */
  bytes: number;
}

const nameArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("a", "b", "w.0", "model.layers.0.q_proj.weight") },
  {
    weight: 1,
    arbitrary: fc.constantFrom("", "__proto__", "constructor", "é\u{1F600}", "a\u0000b"),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

/** One tensor entry; offsets are filled in by the file builder unless replaced by hostile ones. */
const tensorArb = fc.record({
  name: nameArb,
  dtype: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...KNOWN_DTYPES).map(json) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('"F4"', '"f32"', '"I128"', '""', '"__proto__"').map((s) => s),
    },
    { weight: 1, arbitrary: oddJson },
  ),
  dims: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
  shapeOverride: rarely(
    fc.oneof(
      oddJson,
      fc.constantFrom("[-1]", "[1.5]", "[4294967296, 4294967296, 4294967296]", '["2"]', "[null]"),
    ),
    8,
  ),
  offsetsOverride: rarely(
    fc.oneof(
      oddJson,
      fc.tuple(fc.integer({ min: -4, max: 64 }), fc.integer({ min: -4, max: 64 })).map(json),
      fc.constantFrom("[0]", "[0, 4, 8]", "[1.5, 4]", "[0, 1e400]", "[0, 9007199254740993]"),
    ),
    8,
  ),
});

/** The whole file model. */
const fileArb = fc.record({
  tensors: fc.array(tensorArb, { maxLength: 4 }),
  metadata: rarely(
    fc.oneof(
      fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3 }).map(
        json,
      ),
      oddJson,
      fc.constantFrom('{"format": 1}', '{"a": "x", "a": "y"}'),
    ),
    2,
  ),
  metadataFirst: fc.boolean(),
  headerEdit: rarely(
    fc.oneof(
      fc.constant({ kind: "truncateJson" as const }),
      fc.constant({ kind: "badUtf8" as const }),
      fc.constant({ kind: "leadingSpace" as const }),
      fc.constant({ kind: "notObject" as const }),
      fc.constant({ kind: "emptyHeader" as const }),
    ),
    6,
  ),
  lengthEdit: rarely(
    fc.oneof(
      fc.integer({ min: -8, max: 8 }).map((delta) => ({ kind: "delta" as const, delta })),
      fc.constantFrom(100_000_001n, 100_000_000n, 2n ** 64n - 1n, 2n ** 53n + 1n, 0n)
        .map((value) => ({ kind: "value" as const, value })),
    ),
    6,
  ),
  dataEdit: rarely(fc.integer({ min: -16, max: 16 }), 4),
  fill: fc.integer({ min: 0, max: 255 }),
  padding: fc.integer({ min: 0, max: 7 }),
});

type FileModel = typeof fileArb extends fc.Arbitrary<infer T> ? T : never;

/** Builds file bytes from the model (tensors laid out back to back, then the hostile edits). */
export function buildSafetensors(m: FileModel): Uint8Array {
  const parts: string[] = [];
  let offset = 0;
  for (const t of m.tensors) {
    const width = KNOWN_DTYPES.includes(JSON.parse(t.dtype))
      ? SAFETENSORS_DTYPE_BYTES[JSON.parse(t.dtype)]
      : 4;
    const bytes = t.dims.reduce((p, d) => p * d, width);
    const offsets = t.offsetsOverride ?? json([offset, offset + bytes]);
    const shape = t.shapeOverride ?? json(t.dims);
    parts.push(`${json(t.name)}:{"dtype":${t.dtype},"shape":${shape},"data_offsets":${offsets}}`);
    offset += bytes;
  }
  if (m.metadata !== null) {
    const entry = `"__metadata__":${m.metadata}`;
    if (m.metadataFirst) parts.unshift(entry);
    else parts.push(entry);
  }
  let text = `{${parts.join(",")}}` + " ".repeat(m.padding);
  let header = encoder.encode(text);
  switch (m.headerEdit?.kind) {
    case "truncateJson":
      header = header.subarray(0, Math.max(1, header.length - 2 - m.padding));
      break;
    case "badUtf8":
      header = Uint8Array.from([...header.subarray(0, 1), 0xff, 0xfe, ...header.subarray(1)]);
      break;
    case "leadingSpace":
      header = encoder.encode(" " + text);
      break;
    case "notObject":
      text = `[${parts.join(",")}]`;
      header = encoder.encode(text);
      break;
    case "emptyHeader":
      header = new Uint8Array(0);
  }
  const dataLength = Math.max(0, offset + (m.dataEdit ?? 0));
  const out = new Uint8Array(8 + header.length + dataLength).fill(m.fill, 8 + header.length);
  out.set(header, 8);
  let n = BigInt(header.length);
  if (m.lengthEdit?.kind === "delta") n = BigInt(Math.max(0, header.length + m.lengthEdit.delta));
  if (m.lengthEdit?.kind === "value") n = m.lengthEdit.value;
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

/** Reads with both readers; the same typed error, or both parse. */
async function readBoth(bytes: Uint8Array): Promise<SafetensorsFile> {
  let memory: SafetensorsFile | undefined, memoryError: unknown;
  try {
    memory = readSafetensors(bytes);
  } catch (e) {
    memoryError = e;
  }
  const source = {
    size: bytes.length,
    read: (at: number, n: number) => Promise.resolve(bytes.slice(at, at + n)),
  };
  let streamError: unknown;
  try {
    const stream = await openSafetensors(source);
    if (memory !== undefined) {
      assert.deepEqual(stream.names, memory.names);
      for (const name of stream.names) {
        assertSameBytes(await stream.raw(name), memory.raw(name), name);
      }
    }
  } catch (e) {
    streamError = e;
  }
  if (memoryError === undefined && streamError === undefined) return memory!;
  const same = memoryError instanceof Error && streamError instanceof Error &&
    memoryError.constructor === streamError.constructor &&
    memoryError.message === streamError.message;
  if (same && isTypedError(memoryError)) throw memoryError;
  throw new Error(
    `in-memory and streaming readers disagree: ${
      memoryError === undefined ? "parsed" : describeError(memoryError)
    } vs ${streamError === undefined ? "parsed" : describeError(streamError)}`,
  );
}

/** Every tensor is inside the data section, sized by its shape, not overlapping; round trip. */
export function checkSafetensors(bytes: Uint8Array, file: SafetensorsFile): void {
  const { dataStart } = file.header;
  assert.equal(dataStart + file.header.dataBytes, bytes.length);
  const spans: [number, number][] = [];
  for (const name of file.names) {
    const info = file.info(name);
    const count = info.shape.reduce((p, d) => p * d, 1);
    assert.equal(info.end - info.begin, count * SAFETENSORS_DTYPE_BYTES[info.dtype], name);
    assert.ok(info.begin >= 0 && dataStart + info.end <= bytes.length, name);
    assertSameBytes(
      file.raw(name),
      bytes.subarray(dataStart + info.begin, dataStart + info.end),
      name,
    );
    if (FLOAT_DTYPES.has(info.dtype)) assert.equal(file.float32(name).length, count);
    else assert.throws(() => file.float32(name), TypeError);
    if (info.end > info.begin) spans.push([info.begin, info.end]);
  }
  for (const [i, a] of spans.entries()) {
    for (const b of spans.slice(i + 1)) assert.ok(a[1] <= b[0] || b[1] <= a[0], "overlap");
  }
  // Round trip through the writer (for what it can write): same names, dtypes, shapes, bytes.
  if (!file.names.every((n) => n !== "" && WRITABLE.has(file.info(n).dtype))) return;
  const entries = file.names.map((name) => {
    const info = file.info(name);
    return {
      name,
      dtype: info.dtype as SafetensorsDtypeOut,
      shape: info.shape,
      data: file.raw(name).slice(),
    };
  });
  const again = readSafetensors(writeSafetensors(entries, file.metadata));
  assert.deepEqual(again.metadata, file.metadata);
  assert.deepEqual(new Set(again.names), new Set(file.names));
  for (const e of entries) {
    const info = again.info(e.name);
    assert.deepEqual([info.dtype, info.shape], [e.dtype, e.shape]);
    assertSameBytes(again.raw(e.name), e.data, e.name);
    if (FLOAT_DTYPES.has(e.dtype)) {
      assert.equal(firstFloatDifference(again.float32(e.name), file.float32(e.name)), -1);
    }
  }
}

/** `safetensors/structured`: files built from a hostile model of the format. */
export const safetensorsStructured: FuzzTarget<FileModel, SafetensorsFile> & {
  build: typeof buildSafetensors;
} = {
  name: "safetensors/structured",
  parser: "safetensors",
  arbitrary: fileArb,
  build: buildSafetensors,
  parse: (m) => readBoth(buildSafetensors(m)),
  check: (m, file) => checkSafetensors(buildSafetensors(m), file),
};

/** Small valid files (writer output with a few tensors of each writable dtype). */
export function validSafetensorsFiles(): Uint8Array[] {
  const f32 = new Float32Array([1, -2, 0.5, 3, Number.NaN, Infinity]);
  return [
    writeSafetensors([{ name: "w", dtype: "F32", shape: [2, 3], data: f32 }], { format: "pt" }),
    writeSafetensors([
      { name: "a", dtype: "F16", shape: [3], data: f32.subarray(0, 3) },
      { name: "b", dtype: "BF16", shape: [1, 2], data: f32.subarray(2, 4) },
      { name: "c", dtype: "U8", shape: [4], data: new Uint8Array([1, 2, 3, 4]) },
      { name: "d", dtype: "I32", shape: [1], data: new Int32Array([-7]) },
      { name: "e", dtype: "F64", shape: [2], data: new Float64Array([1e300, -0]) },
    ]),
    // Mostly data, so edits past the header land in tensor bytes (and still parse).
    writeSafetensors([{
      name: "big",
      dtype: "BF16",
      shape: [32, 64],
      data: new Float32Array(2048).fill(0.25),
    }]),
  ];
}

/** `safetensors/mutated`: valid files (built here, plus any given) damaged byte by byte. */
export function safetensorsMutated(
  extra: Uint8Array[] = [],
): FuzzTarget<MutatedInput, SafetensorsFile> {
  return {
    name: "safetensors/mutated",
    parser: "safetensors",
    arbitrary: mutatedFileArb([...validSafetensorsFiles(), ...extra], 256),
    parse: (input) => readBoth(input.bytes),
    check: (input, file) => checkSafetensors(input.bytes, file),
    show: showMutated,
  };
}
