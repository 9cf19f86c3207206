import assert from "node:assert/strict";
import {
  openSafetensors,
  parseSafetensorsHeader,
  readSafetensors,
  safetensorsChunks,
  writeSafetensors,
} from "../src/io/safetensors.ts";
import type { ByteSource, SafetensorsEntry } from "../src/io/safetensors.ts";
import {
  bf16BitsFromNumber,
  f16BitsFromNumber,
  float32ToBf16,
  float32ToF16,
  numberFromBf16Bits,
  numberFromF16Bits,
} from "../src/io/half.ts";
import { createRng } from "../src/tensor/rng.ts";

/** A file whose header is exactly `json` (padded with spaces to 8) followed by `dataBytes` zeros. */
function fileWithHeader(json: string, dataBytes = 0): Uint8Array {
  const text = new TextEncoder().encode(json);
  const n = text.length + ((8 - (text.length % 8)) % 8);
  const out = new Uint8Array(8 + n + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.fill(0x20, 8, 8 + n);
  out.set(text, 8);
  return out;
}

/** A float32 from its bit pattern. */
function f32FromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0];
}

// ---------- F16 / BF16 conversion against hand-derived bit patterns ----------

Deno.test("F16: narrowing matches hand-derived bit patterns, ties to even", () => {
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [0, 0x0000],
    [-0, 0x8000],
    [65504, 0x7bff], // largest finite
    [65519, 0x7bff], // below the midpoint 65520: rounds down
    [65520, 0x7c00], // the midpoint: ties to even (65504 has an odd mantissa) -> inf
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [NaN, 0x7e00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -14 - 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // half a unit: tie to even (0)
    [1.5 * 2 ** -24, 0x0002], // 1.5 units: tie to even (2)
    [2.5 * 2 ** -24, 0x0002], // 2.5 units: tie to even (2)
    [1 + 2 ** -11, 0x3c00], // halfway between 0x3c00 and 0x3c01: even is 0x3c00
    [1 + 3 * 2 ** -11, 0x3c02], // halfway between 0x3c01 and 0x3c02: even is 0x3c02
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above halfway: up
    [2 ** -30, 0x0000], // underflow to zero
  ];
  for (const [value, bits] of cases) {
    assert.equal(f16BitsFromNumber(value), bits, `value ${value}`);
  }
});

Deno.test("F16: widening matches hand-derived values; every pattern round-trips", () => {
  assert.equal(numberFromF16Bits(0x7bff), 65504);
  assert.equal(numberFromF16Bits(0x03ff), 1023 * 2 ** -24);
  assert.equal(numberFromF16Bits(0x3555), (1 + 0x155 / 1024) * 2 ** -2); // exponent 13, mantissa 0x155
  assert.ok(Number.isNaN(numberFromF16Bits(0x7e00)));
  assert.ok(Object.is(numberFromF16Bits(0x8000), -0));
  for (let h = 0; h < 65536; h++) {
    const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
    if (isNaN) assert.ok(Number.isNaN(numberFromF16Bits(h)));
    else assert.equal(f16BitsFromNumber(numberFromF16Bits(h)), h, `pattern ${h.toString(16)}`);
  }
});

Deno.test("F16: narrowing agrees with the engine's Math.f16round on random float32 values", {
  ignore: typeof (Math as { f16round?: unknown }).f16round !== "function",
}, () => {
  const f16round = (Math as unknown as { f16round(x: number): number }).f16round;
  const rng = createRng(7);
  for (let i = 0; i < 20000; i++) {
    const x = f32FromBits(Math.floor(rng.uniform() * 2 ** 32));
    if (Number.isNaN(x)) continue;
    const ours = numberFromF16Bits(f16BitsFromNumber(x));
    assert.ok(Object.is(ours, f16round(x)), `x = ${x}: ours ${ours}, engine ${f16round(x)}`);
  }
});

Deno.test("BF16: narrowing matches hand-derived bit patterns, ties to even", () => {
  const cases: [number, number][] = [
    [1, 0x3f80],
    [-2.5, 0xc020],
    [0.15625, 0x3e20],
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [NaN, 0x7fc0],
    [-0, 0x8000],
    [f32FromBits(0x3f808000), 0x3f80], // halfway, even below
    [f32FromBits(0x3f818000), 0x3f82], // halfway, even above
    [f32FromBits(0x3f808001), 0x3f81], // just above halfway
    [f32FromBits(0x3f807fff), 0x3f80], // just below halfway
    [f32FromBits(0x7f7fffff), 0x7f80], // largest float32 rounds to inf
    [f32FromBits(0x00008000), 0x0000], // subnormal tie to even
    [f32FromBits(0x00018000), 0x0002],
  ];
  for (const [value, bits] of cases) {
    assert.equal(bf16BitsFromNumber(value), bits, `value ${value}`);
  }
  assert.equal(numberFromBf16Bits(0xc020), -2.5);
  assert.equal(numberFromBf16Bits(0x0001), f32FromBits(0x00010000));
});

Deno.test("array converters agree with the scalar ones and do not mutate", () => {
  const rng = createRng(3);
  const values = Float32Array.from({ length: 500 }, () => rng.normal() * 1000);
  const copy = values.slice();
  const h = float32ToF16(values), b = float32ToBf16(values);
  values.forEach((v, i) => {
    assert.equal(h[i], f16BitsFromNumber(v));
    assert.equal(b[i], bf16BitsFromNumber(v));
  });
  assert.deepEqual(values, copy);
});

// ---------- round trips ----------

Deno.test("round trip: every dtype, raw bytes and float32 values", () => {
  const entries: SafetensorsEntry[] = [
    {
      name: "f32",
      dtype: "F32",
      shape: [2, 3],
      data: new Float32Array([1, -2, 0.1, 1e-30, 3e38, -0]),
    },
    { name: "f16", dtype: "F16", shape: [4], data: new Float32Array([1, -2, 65504, 2 ** -24]) },
    { name: "bf16", dtype: "BF16", shape: [2, 2], data: new Float32Array([1, -2.5, 0.15625, 3]) },
    { name: "f64", dtype: "F64", shape: [2], data: new Float64Array([0.5, -1.25]) },
    { name: "i32", dtype: "I32", shape: [3], data: new Int32Array([-1, 0, 2 ** 31 - 1]) },
    { name: "i64", dtype: "I64", shape: [2], data: new BigInt64Array([-3n, 2n ** 40n]) },
    { name: "u8", dtype: "U8", shape: [3], data: new Uint8Array([0, 128, 255]) },
    { name: "scalar", dtype: "F32", shape: [], data: new Float32Array([7]) },
    { name: "empty", dtype: "F32", shape: [0, 4], data: new Float32Array(0) },
  ];
  const file = readSafetensors(writeSafetensors(entries, { note: "hi" }));
  assert.deepEqual(file.metadata, { note: "hi" });
  assert.deepEqual(new Set(file.names), new Set(entries.map((e) => e.name)));
  for (const e of entries) {
    assert.equal(file.info(e.name).dtype, e.dtype);
    assert.deepEqual(file.info(e.name).shape, e.shape);
    if (e.dtype === "I32" || e.dtype === "I64" || e.dtype === "U8") {
      const bytes = new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength);
      assert.deepEqual(file.raw(e.name), bytes);
    } else {
      assert.deepEqual(file.float32(e.name), Float32Array.from(e.data as Float32Array));
    }
  }
  assert.deepEqual(Array.from(new BigInt64Array(file.raw("i64").slice().buffer)), [-3n, 2n ** 40n]);
});

Deno.test("round trip: raw bytes pass through unchanged, and the streaming reader agrees", async () => {
  const rng = createRng(11);
  const w = Float32Array.from({ length: 60 }, () => rng.normal());
  const bytes = writeSafetensors([
    { name: "w", dtype: "BF16", shape: [6, 10], data: w },
    { name: "b", dtype: "F16", shape: [60], data: w },
  ]);
  const file = readSafetensors(bytes);
  const again = readSafetensors(writeSafetensors([
    { name: "w", dtype: "BF16", shape: [6, 10], data: file.raw("w") },
    { name: "b", dtype: "F16", shape: [60], data: file.raw("b") },
  ]));
  assert.deepEqual(again.raw("w"), file.raw("w"));
  const reads: [number, number][] = [];
  const source: ByteSource = {
    size: bytes.length,
    read: (at, n) => {
      reads.push([at, n]);
      return Promise.resolve(bytes.slice(at, at + n));
    },
  };
  const reader = await openSafetensors(source);
  assert.deepEqual(reader.names, file.names);
  assert.deepEqual(await reader.float32("b"), file.float32("b"));
  // header (length field, then header) and the one tensor: never the whole file
  const info = file.info("b");
  assert.deepEqual(reads.at(-1), [file.header.dataStart + info.begin, 120]);
  assert.ok(reads.every(([, n]) => n < bytes.length));
});

Deno.test("writer: header padded with spaces to 8, tensors in the given order, input not mutated", () => {
  const data = new Float32Array([1.5, 2]);
  const bytes = writeSafetensors([
    { name: "z", dtype: "F32", shape: [2], data },
    { name: "a", dtype: "BF16", shape: [2], data },
  ]);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  const json = '{"z":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
    '"a":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}}';
  assert.equal(text, json + " ".repeat(n - json.length));
  assert.deepEqual(Array.from(bytes.subarray(8 + n + 8)), [0xc0, 0x3f, 0x00, 0x40]);
  assert.deepEqual(data, new Float32Array([1.5, 2]));
  assert.equal([...safetensorsChunks([{ name: "z", dtype: "F32", shape: [2], data }])].length, 2);
});

// ---------- golden file from the reference implementation ----------

const GOLDEN = new URL("./golden/tiny.safetensors", import.meta.url);

Deno.test("golden: reads the file written by Python safetensors 0.8.0, and writes it byte-identically", () => {
  const bytes = Deno.readFileSync(GOLDEN);
  const file = readSafetensors(bytes, { source: "tiny.safetensors" });
  assert.deepEqual(file.names, ["b_i64", "a_f64", "c_f32", "d_i32", "e_bf16", "f_f16", "g_u8"]);
  assert.deepEqual(file.metadata, { format: "np" });
  assert.deepEqual(file.info("c_f32"), { dtype: "F32", shape: [2, 3], begin: 32, end: 56 });
  // values as written in tests/golden/make_tiny_safetensors.py
  assert.deepEqual(Array.from(file.float32("a_f64")), [1.5, -0.25]);
  assert.deepEqual(file.float32("c_f32"), new Float32Array([0.5, -1, 2, 3.25, -4.5, 1e-3]));
  assert.deepEqual(Array.from(file.float32("e_bf16")), [1, -2.5, 0.15625]);
  assert.deepEqual(Array.from(file.float32("f_f16")), [1, -2, 65504, 2 ** -24, Infinity]);
  assert.deepEqual(Array.from(new Int32Array(file.raw("d_i32").slice().buffer)), [-1, 0, 7]);
  assert.deepEqual(Array.from(new BigInt64Array(file.raw("b_i64").slice().buffer)), [
    -3n,
    2n ** 40n,
  ]);
  assert.deepEqual(Array.from(file.raw("g_u8")), [0, 1, 128, 255]);
  const ours = writeSafetensors([
    { name: "b_i64", dtype: "I64", shape: [2], data: new BigInt64Array([-3n, 2n ** 40n]) },
    { name: "a_f64", dtype: "F64", shape: [2], data: new Float64Array([1.5, -0.25]) },
    {
      name: "c_f32",
      dtype: "F32",
      shape: [2, 3],
      data: new Float32Array([0.5, -1, 2, 3.25, -4.5, 1e-3]),
    },
    { name: "d_i32", dtype: "I32", shape: [3], data: new Int32Array([-1, 0, 7]) },
    { name: "e_bf16", dtype: "BF16", shape: [3], data: new Float32Array([1, -2.5, 0.15625]) },
    {
      name: "f_f16",
      dtype: "F16",
      shape: [5],
      data: new Float32Array([1, -2, 65504, 2 ** -24, Infinity]),
    },
    { name: "g_u8", dtype: "U8", shape: [4], data: new Uint8Array([0, 1, 128, 255]) },
  ], { format: "np" });
  assert.deepEqual(ours, bytes);
});

// ---------- validation: every bad header, with its type and a message naming the value ----------

const valid = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';

Deno.test("bad header length: too short, over 100 MB, past the end of the file", () => {
  assert.throws(() => readSafetensors(new Uint8Array(5)), {
    name: "RangeError",
    message:
      "Cannot read safetensors: not a safetensors file: file has 5 bytes, fewer than the 8-byte header length",
  });
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 100_000_001n, true);
  assert.throws(() => readSafetensors(huge), {
    name: "RangeError",
    message:
      'Cannot read safetensors: not a safetensors file: header length 100000001 bytes exceeds the limit of 100000000 bytes, and byte 8 is 0x00, not the "{" of a JSON header',
  });
  const past = new Uint8Array(100);
  new DataView(past.buffer).setBigUint64(0, 1000n, true);
  assert.throws(() => readSafetensors(past, { source: "x.safetensors" }), {
    name: "RangeError",
    message:
      'Cannot read safetensors file "x.safetensors": not a safetensors file: header length 1000 bytes runs past the end of the file (100 bytes), and byte 8 is 0x00, not the "{" of a JSON header',
  });
  // a text file: its first 8 bytes read as a length; a cut safetensors file keeps the plain reason
  const text = new TextEncoder().encode("# a README, not tensors\n");
  assert.throws(() => readSafetensors(text), {
    name: "RangeError",
    message: /^Cannot read safetensors: not a safetensors file: header length \d+ bytes exceeds/,
  });
  const cut = new Uint8Array(20);
  new DataView(cut.buffer).setBigUint64(0, 30n, true);
  cut[8] = 0x7b;
  assert.throws(() => readSafetensors(cut), {
    name: "RangeError",
    message:
      "Cannot read safetensors: header length 30 bytes runs past the end of the file (20 bytes)",
  });
  new DataView(past.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
  assert.throws(() => readSafetensors(past), {
    name: "RangeError",
    message: /18446744073709551615/,
  });
  const file = fileWithHeader(valid, 8);
  assert.throws(() => parseSafetensorsHeader(file.subarray(0, 20), file.length), {
    name: "RangeError",
    message: /got 20 bytes of the file's start, the header needs 64/,
  });
});

Deno.test("bad header text: not UTF-8, not an object, not JSON", () => {
  const bad = fileWithHeader("{}");
  bad[9] = 0xff;
  assert.throws(() => readSafetensors(bad), { name: "TypeError", message: /not valid UTF-8/ });
  assert.throws(() => readSafetensors(fileWithHeader("[1, 2]")), {
    name: "TypeError",
    message: 'Cannot read safetensors: header must start with "{", got "[1, 2]  "',
  });
  assert.throws(() => readSafetensors(fileWithHeader('{"w": ')), {
    name: "TypeError",
    message: /header is not valid JSON/,
  });
});

Deno.test("bad tensor entries: dtype, shape, data_offsets, sizes, each naming the tensor and value", () => {
  const cases: [string, string, RegExp | string][] = [
    ['{"w":[1]}', "TypeError", 'tensor "w" must be an object, got array [1]'],
    [
      '{"w":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}}',
      "TypeError",
      'tensor "w" has unknown dtype string "F17"',
    ],
    [
      '{"w":{"shape":[2],"data_offsets":[0,8]}}',
      "TypeError",
      'tensor "w" has unknown dtype undefined',
    ],
    [
      '{"w":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}',
      "TypeError",
      'tensor "w" shape must be an array of integers, got string "2"',
    ],
    [
      '{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}',
      "TypeError",
      'tensor "w" shape must be an array of integers, got array [2.5]',
    ],
    [
      '{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}',
      "RangeError",
      'tensor "w" shape [-2] has a negative value',
    ],
    [
      '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}',
      "TypeError",
      'tensor "w" data_offsets must be [begin, end], got array [0,8,9]',
    ],
    [
      '{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}',
      "RangeError",
      'tensor "w" data_offsets [-8,0] has a negative value',
    ],
    [
      '{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}',
      "RangeError",
      'tensor "w" data_offsets [8, 0] begin is after end',
    ],
    [
      '{"w":{"dtype":"F32","shape":[2],"data_offsets":[1e300,1e300]}}',
      "TypeError",
      /data_offsets must be an array of integers, got array \[1e\+300,1e\+300\]/,
    ],
    [
      '{"weight":{"dtype":"F32","shape":[25],"data_offsets":[0,100]}}',
      "RangeError",
      'tensor "weight" data_offsets [0, 100] end past the data section (8 bytes)',
    ],
    [
      '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}',
      "RangeError",
      'tensor "w" data_offsets [0, 4] hold 4 bytes but shape [2] of F32 needs 8',
    ],
    [
      '{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}',
      "RangeError",
      /hold 8 bytes but shape \[4294967296, 4294967296\] of F32 needs 73786976294838206464$/,
    ],
  ];
  for (const [json, name, message] of cases) {
    const full = typeof message === "string" ? `Cannot read safetensors: ${message}` : message;
    assert.throws(() => readSafetensors(fileWithHeader(json, 8)), { name, message: full }, json);
  }
});

Deno.test("overlapping tensors and duplicate names are rejected", () => {
  const overlap = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
    '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
  assert.throws(() => readSafetensors(fileWithHeader(overlap, 12)), {
    name: "RangeError",
    message: 'Cannot read safetensors: tensor "b" data_offsets [4, 12] overlap tensor "a" [0, 8]',
  });
  const inside = '{"big":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},' +
    '"small":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},' +
    '"after":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}';
  assert.throws(() => readSafetensors(fileWithHeader(inside, 16)), {
    name: "RangeError",
    message: /"small".*overlap tensor "big"/,
  });
  const gapAndEmpty = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
    '"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
  assert.deepEqual(readSafetensors(fileWithHeader(gapAndEmpty, 12)).names, ["a", "e", "b"]);
  const duplicate =
    `{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`;
  assert.throws(() => readSafetensors(fileWithHeader(duplicate, 8)), {
    name: "TypeError",
    message: 'Cannot read safetensors: duplicate tensor name "w"',
  });
  const escaped =
    `{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\\u0077":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`;
  assert.throws(() => readSafetensors(fileWithHeader(escaped, 8)), {
    name: "TypeError",
    message: /duplicate tensor name "w"/,
  });
  const field = '{"w":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}';
  assert.throws(() => readSafetensors(fileWithHeader(field, 8)), {
    name: "TypeError",
    message: 'Cannot read safetensors: duplicate key "dtype" inside "w"',
  });
});

Deno.test("__metadata__ must map strings to strings", () => {
  assert.throws(() => readSafetensors(fileWithHeader('{"__metadata__":{"a":"x","n":3}}')), {
    name: "TypeError",
    message: 'Cannot read safetensors: __metadata__ "n" must be a string, got number 3',
  });
  assert.throws(() => readSafetensors(fileWithHeader('{"__metadata__":["a"]}')), {
    name: "TypeError",
    message: 'Cannot read safetensors: __metadata__ must be an object of strings, got array ["a"]',
  });
  const odd = readSafetensors(fileWithHeader('{"__metadata__":{"__proto__":"x"}}'));
  assert.equal(Object.getOwnPropertyDescriptor(odd.metadata, "__proto__")?.value, "x");
});

Deno.test("lookups: unknown names and non-float dtypes", () => {
  const file = readSafetensors(
    writeSafetensors([{ name: "i", dtype: "I32", shape: [1], data: new Int32Array(1) }]),
  );
  assert.equal(file.has("i"), true);
  assert.equal(file.has("x"), false);
  assert.throws(() => file.info("x"), {
    name: "RangeError",
    message: 'Cannot read safetensors: no tensor named "x" (the file has 1)',
  });
  assert.throws(() => file.float32("i"), {
    name: "TypeError",
    message: /"i" as float32: dtype I32 is not F32, F16, BF16 or F64/,
  });
  file.info("i").shape.push(99);
  assert.deepEqual(file.info("i").shape, [1]);
});

Deno.test("truncated files: every proper prefix of a valid file is a RangeError", () => {
  const bytes = Deno.readFileSync(GOLDEN);
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(() => readSafetensors(bytes.subarray(0, n)), RangeError, `prefix of ${n} bytes`);
  }
});

Deno.test("streaming reader: truncated or lying sources", async () => {
  const bytes = Deno.readFileSync(GOLDEN);
  const short: ByteSource = {
    size: bytes.length,
    read: (at, n) => Promise.resolve(bytes.slice(at, Math.min(at + n, 500))),
  };
  const reader = await openSafetensors(short);
  await assert.rejects(() => reader.float32("g_u8"), {
    name: "RangeError",
    message: "Cannot read safetensors: read 0 bytes at offset 540, expected 4 (file truncated?)",
  });
  const tiny: ByteSource = { size: 4, read: () => Promise.resolve(new Uint8Array(4)) };
  await assert.rejects(() => openSafetensors(tiny), {
    name: "RangeError",
    message: /file has 4 bytes/,
  });
  await assert.rejects(() => openSafetensors({ size: -1 } as unknown as ByteSource), TypeError);
  const wrongType = {
    size: bytes.length,
    read: () => Promise.resolve([1, 2]),
  } as unknown as ByteSource;
  await assert.rejects(() => openSafetensors(wrongType), {
    name: "TypeError",
    message: /must return a Uint8Array/,
  });
});

Deno.test("writer rejects bad entries and metadata", () => {
  const ok = { name: "w", dtype: "F32" as const, shape: [2], data: new Float32Array(2) };
  const cases: [unknown[], unknown, RegExp][] = [
    [[ok, ok], undefined, /duplicate tensor name "w"/],
    [[{ ...ok, name: "" }], undefined, /name must be a non-empty string/],
    [[{ ...ok, name: "__metadata__" }], undefined, /other than __metadata__/],
    [[{ ...ok, dtype: "F8" }], undefined, /unsupported dtype F8/],
    [
      [{ ...ok, shape: [-2] }],
      undefined,
      /shape must be an array of non-negative integers, got -2/,
    ],
    [[{ ...ok, data: new Float32Array(3) }], undefined, /shape \[2\] needs 2 values, data has 3/],
    [
      [{ ...ok, dtype: "I32" }],
      undefined,
      /I32 data must be Int32Array or raw Uint8Array bytes, got Float32Array/,
    ],
    [[{ ...ok, data: new Uint8Array(7) }], undefined, /needs 8 bytes, data has 7/],
    [[ok], { a: 1 }, /metadata "a" must be a string, got number/],
  ];
  for (const [entries, metadata, message] of cases) {
    assert.throws(
      () => writeSafetensors(entries as SafetensorsEntry[], metadata as Record<string, string>),
      { name: "TypeError", message },
    );
  }
});
