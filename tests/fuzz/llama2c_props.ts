/**
 * Fuzz targets for the llama2.c checkpoint reader (`src/io/llama2c.ts`).
 *
 * `llama2c/structured` writes checkpoints from a consistent small config, then breaks them: header
 * values replaced by zero, negative, extreme or inconsistent int32s; ak42 (version 1) headers with
 * other versions, flags or a short header; a body that is exact, exact plus the RoPE tables, a few
 * bytes off, or cut. `llama2c/mutated` damages valid files, the real stories260K.bin among them.
 *
 * A parse is checked against an independent computation of the layout from the header bytes: the
 * number of floats read, the first and last values, every shape, and a round trip through
 * `writeLlama2c`.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { LLAMA2C_MAGIC, readLlama2c, writeLlama2c } from "../../src/io/llama2c.ts";
import type { LlamaWeights } from "../../src/model/weights.ts";
import type { FuzzTarget } from "./outcome.ts";
import {
  EXTREME_INT32,
  firstFloatDifference,
  mutatedFileArb,
  type MutatedInput,
  sameFloat,
  showMutated,
} from "./mutate.ts";
import { rarely } from "./safetensors_props.ts";

/** The 7 header ints in file order. */
type Ints = [number, number, number, number, number, number, number];

/** Float count of a checkpoint body for these header ints (negative vocab: unshared classifier). */
export function bodyFloats(ints: Ints, v1Shared: boolean | null, rope: boolean): number {
  const [dim, hidden, layers, heads, kvHeads, vocabSigned, seqLen] = ints;
  const vocab = Math.abs(vocabSigned), kvDim = (dim * kvHeads) / heads;
  const shared = v1Shared ?? vocabSigned > 0;
  const perLayer = 2 * dim + 2 * dim * dim + 2 * kvDim * dim + 3 * hidden * dim;
  return vocab * dim + layers * perLayer + dim + (rope ? seqLen * (dim / heads) : 0) +
    (shared ? 0 : vocab * dim);
}

const configArb = fc.record({
  headSize: fc.constantFrom<number>(2, 4),
  kvHeads: fc.integer({ min: 1, max: 2 }),
  group: fc.integer({ min: 1, max: 2 }),
  hidden: fc.integer({ min: 1, max: 12 }),
  layers: fc.integer({ min: 1, max: 3 }),
  vocab: fc.integer({ min: 1, max: 12 }),
  seqLen: fc.integer({ min: 1, max: 6 }),
  shared: fc.boolean(),
});

const hostileInt = fc.oneof(
  fc.constantFrom(...EXTREME_INT32),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  fc.integer({ min: -3, max: 40 }),
);

const checkpointArb = fc.record({
  config: configArb,
  v1: fc.boolean(),
  edits: fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), hostileInt), { maxLength: 2 }),
  editRarely: rarely(fc.constant(true), 2),
  version: rarely(fc.oneof(fc.constantFrom(0, 2, 3, -1), hostileInt), 6),
  flag: rarely(fc.integer({ min: 2, max: 255 }), 8),
  size: fc.oneof(
    { weight: 4, arbitrary: fc.constant({ kind: "exact" as const, delta: 0 }) },
    { weight: 2, arbitrary: fc.constant({ kind: "rope" as const, delta: 0 }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: -9, max: 9 }).map((delta) => ({
        kind: "exact" as const,
        delta,
      })),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 0, max: 300 }).map((delta) => ({ kind: "cut" as const, delta })),
    },
  ),
  seed: fc.integer({ min: 0, max: 1000 }),
  nanAt: rarely(fc.nat(), 4),
});

type CheckpointModel = typeof checkpointArb extends fc.Arbitrary<infer T> ? T : never;

/** Builds checkpoint bytes from the model: a consistent file, then the hostile edits. */
export function buildLlama2c(m: CheckpointModel): Uint8Array {
  const c = m.config, heads = c.kvHeads * c.group, dim = heads * c.headSize;
  const ints: Ints = [
    dim,
    c.hidden,
    c.layers,
    heads,
    c.kvHeads,
    c.shared || m.v1 ? c.vocab : -c.vocab,
    c.seqLen,
  ];
  const floats = bodyFloats(ints, m.v1 ? c.shared : null, m.size.kind === "rope" && !m.v1);
  if (m.editRarely !== null) { for (const [field, value] of m.edits) ints[field] = value; }
  const headerBytes = m.v1 ? 256 : 28;
  const length = m.size.kind === "cut"
    ? Math.min(m.size.delta, headerBytes + 4 * floats)
    : Math.max(0, headerBytes + 4 * floats + m.size.delta);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  const put32 = (at: number, v: number) => at + 4 <= length && view.setInt32(at, v, true);
  if (m.v1) {
    put32(0, LLAMA2C_MAGIC | 0);
    put32(4, m.version ?? 1);
    ints.forEach((v, i) => put32(8 + 4 * i, v));
    if (36 < length) out[36] = m.flag ?? (c.shared ? 1 : 0);
  } else ints.forEach((v, i) => put32(4 * i, v));
  for (let at = headerBytes, i = 0; at + 4 <= length; at += 4, i++) {
    view.setFloat32(at, i === m.nanAt ? Number.NaN : Math.sin(m.seed + i), true);
  }
  return out;
}

/** The weights' arrays in file order (legacy or v1), for counting and first/last values. */
function arraysInOrder(w: LlamaWeights, v1: boolean): Float32Array[] {
  const per = (key: keyof LlamaWeights["blocks"][number]) =>
    w.blocks.map((b) => {
      const v = b[key]!;
      return v instanceof Float32Array ? v : v.data;
    });
  const matrices = ["wq", "wk", "wv", "wo"] as const, ffn = ["w1", "w2", "w3"] as const;
  const classifier = w.config.sharedClassifier ? [] : [w.classifier.data];
  if (v1) {
    return [
      ...per("rmsAtt"),
      ...per("rmsFfn"),
      w.rmsFinal,
      w.tokenEmbedding.data,
      ...matrices.flatMap(per),
      ...ffn.flatMap(per),
      ...classifier,
    ];
  }
  return [
    w.tokenEmbedding.data,
    ...per("rmsAtt"),
    ...matrices.flatMap(per),
    ...per("rmsFfn"),
    ...ffn.flatMap(per),
    w.rmsFinal,
    ...classifier,
  ];
}

/** Checks a parse against the layout computed here from the header bytes. */
export function checkLlama2c(bytes: Uint8Array, w: LlamaWeights): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const v1 = view.getUint32(0, true) === LLAMA2C_MAGIC;
  const start = v1 ? 8 : 0, headerBytes = v1 ? 256 : 28;
  const ints = Array.from({ length: 7 }, (_, i) => view.getInt32(start + 4 * i, true)) as Ints;
  const c = w.config;
  assert.deepEqual(
    [c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.vocabSize, c.seqLen],
    [...ints.slice(0, 5), Math.abs(ints[5]), ints[6]],
  );
  const shared = v1 ? bytes[36] === 1 : ints[5] > 0;
  assert.equal(c.sharedClassifier, shared);
  assert.equal(w.classifier === w.tokenEmbedding, shared);
  const rope = !v1 && bytes.length === headerBytes + 4 * bodyFloats(ints, null, true);
  const floats = bodyFloats(ints, v1 ? shared : null, rope);
  assert.equal(bytes.length, headerBytes + 4 * floats);
  const arrays = arraysInOrder(w, v1);
  const kvDim = (c.dim * c.nKvHeads) / c.nHeads;
  for (const b of w.blocks) {
    assert.deepEqual([b.wq.rows, b.wq.cols, b.wk.rows, b.wv.rows, b.w1.rows, b.w2.cols], [
      c.dim,
      c.dim,
      kvDim,
      kvDim,
      c.hiddenDim,
      c.hiddenDim,
    ]);
  }
  const ropeFloats = rope ? c.seqLen * (c.dim / c.nHeads) : 0;
  assert.equal(arrays.reduce((n, a) => n + a.length, 0) + ropeFloats, floats, "floats read");
  assert.ok(sameFloat(arrays[0][0], view.getFloat32(headerBytes, true)), "first value");
  const last = arrays[arrays.length - 1];
  assert.ok(
    sameFloat(last[last.length - 1], view.getFloat32(bytes.length - 4, true)) || (rope && shared),
    "last value",
  );
  const weightFloats = bodyFloats([...ints.slice(0, 5), shared ? 1 : -1, 0] as Ints, null, false) +
    (Math.abs(ints[5]) - 1) * c.dim * (shared ? 1 : 2);
  if (c.seqLen * (c.dim / c.nHeads) > weightFloats) {
    assert.throws(() => writeLlama2c(w), RangeError); // the writer refuses to allocate huge RoPE tables
    return;
  }
  const again = readLlama2c(writeLlama2c(w));
  assert.deepEqual(again.config, w.config);
  arraysInOrder(again, false).forEach((a, i) =>
    assert.equal(firstFloatDifference(a, arraysInOrder(w, false)[i]), -1, `round trip array ${i}`)
  );
}

/** `llama2c/structured`: checkpoints with hostile headers and sizes. */
export const llama2cStructured: FuzzTarget<CheckpointModel, LlamaWeights> = {
  name: "llama2c/structured",
  parser: "llama2c",
  arbitrary: checkpointArb,
  parse: (m) => readLlama2c(buildLlama2c(m)),
  check: (m, w) => checkLlama2c(buildLlama2c(m), w),
};

/** Small valid checkpoints: legacy with and without RoPE tables and an unshared classifier, v1. */
export function validLlama2cFiles(): Uint8Array[] {
  const config = {
    headSize: 2,
    kvHeads: 1,
    group: 2,
    hidden: 6,
    layers: 2,
    vocab: 5,
    seqLen: 3,
    shared: false,
  };
  const base = {
    config,
    edits: [],
    editRarely: null,
    version: null,
    flag: null,
    seed: 1,
    nanAt: null,
  };
  return [
    buildLlama2c({ ...base, v1: false, size: { kind: "rope", delta: 0 } }),
    buildLlama2c({
      ...base,
      v1: false,
      size: { kind: "exact", delta: 0 },
      config: { ...config, shared: true },
    }),
    buildLlama2c({ ...base, v1: true, size: { kind: "exact", delta: 0 } }),
  ];
}

/** `llama2c/mutated`: valid checkpoints (small ones built here, plus `extra`) damaged. */
export function llama2cMutated(extra: Uint8Array[] = []): FuzzTarget<MutatedInput, LlamaWeights> {
  return {
    name: "llama2c/mutated",
    parser: "llama2c",
    arbitrary: mutatedFileArb([...validLlama2cFiles(), ...extra], 256),
    parse: (input) => readLlama2c(input.bytes),
    check: (input, w) => checkLlama2c(input.bytes, w),
    show: showMutated,
  };
}
