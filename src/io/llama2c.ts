/**
 * llama2.c checkpoints (Karpathy, github.com/karpathy/llama2.c), from bytes to {@link LlamaWeights}.
 *
 * Two layouts are read, both little-endian float32 after the header:
 *
 * - **legacy** (`export.py` `legacy_export`, read by `run.c`): 7 int32
 *   `dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len`; a negative `vocab_size`
 *   means the classifier is NOT the token embedding. Then token_embedding, rms_att (all layers), wq,
 *   wk, wv, wo (each: all layers), rms_ffn, w1, w2, w3, rms_final, the RoPE tables freq_cis_real and
 *   freq_cis_imag `[seq_len, head_size/2]`, then the classifier when unshared. We skip the RoPE
 *   tables (the forward pass recomputes them) and also accept files written without them.
 * - **version 1** (`export.py` `version1_export`): uint32 magic `0x616b3432` ("ak42"), int32 version
 *   1, the same 7 int32 (vocab_size always positive), uint8 shared_classifier, zero padding to 256
 *   bytes. Then, as the source writes them (karpathy/llama2.c export.py, commit 09db52c6):
 *   attention_norm (all layers), ffn_norm (all layers), final norm, tok_embeddings, wq, wk, wv, wo,
 *   w1, w2, w3 (each: all layers), then the classifier when unshared. No RoPE tables.
 *   (Note: the norms come BEFORE the embedding in version 1, unlike the legacy order.)
 *
 * Version 2 (Q8_0 quantized) is rejected with a RangeError. Every header value and the exact file size
 * are checked before any weight is read.
 *
 * @module
 */
import type { Matrix } from "../tensor/matrix.ts";
import type { LlamaBlock, LlamaConfig, LlamaWeights } from "../model/weights.ts";
import { copyBytes } from "./bytes.ts";

/** The "ak42" magic of llama2.c's versioned checkpoints, read as a little-endian uint32. */
export const LLAMA2C_MAGIC = 0x616b3432;
const LEGACY_HEADER_BYTES = 28;
const V1_HEADER_BYTES = 256;

/** Header fields of a llama2.c checkpoint, validated. */
interface Header {
  config: LlamaConfig;
  /** Byte offset of the first weight. */
  offset: number;
  version: 0 | 1;
}

function checkBytes(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    const seen = bytes === null || typeof bytes !== "object"
      ? String(bytes)
      : bytes.constructor?.name;
    throw new TypeError(`Cannot read llama2.c checkpoint: expected a Uint8Array, got ${seen}`);
  }
}

/** Checks the 7 header integers and builds the config (vocab already made positive). */
function configFromInts(ints: number[], sharedClassifier: boolean): LlamaConfig {
  const names = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"];
  ints.forEach((v, i) => {
    if (v <= 0) {
      throw new RangeError(
        `Cannot read llama2.c checkpoint: ${names[i]} must be positive, got ${v}`,
      );
    }
  });
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen] = ints;
  if (dim % nHeads !== 0) {
    throw new RangeError(
      `Cannot read llama2.c checkpoint: dim ${dim} is not divisible by n_heads ${nHeads}`,
    );
  }
  if (nHeads % nKvHeads !== 0) {
    throw new RangeError(
      `Cannot read llama2.c checkpoint: n_heads ${nHeads} is not divisible by n_kv_heads ${nKvHeads}`,
    );
  }
  if ((dim / nHeads) % 2 !== 0) {
    throw new RangeError(
      `Cannot read llama2.c checkpoint: head size ${dim / nHeads} must be even for RoPE`,
    );
  }
  return {
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize,
    seqLen,
    normEps: 1e-5,
    ropeTheta: 10000,
    sharedClassifier,
  };
}

function readHeader(bytes: Uint8Array): Header {
  if (bytes.length < LEGACY_HEADER_BYTES) {
    throw new RangeError(
      `Cannot read llama2.c checkpoint: ${bytes.length} bytes is shorter than the ${LEGACY_HEADER_BYTES}-byte header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== LLAMA2C_MAGIC) {
    const ints = Array.from({ length: 7 }, (_, i) => view.getInt32(4 * i, true));
    const shared = ints[5] > 0;
    ints[5] = Math.abs(ints[5]) || 0; // legacy: the sign of vocab_size is the classifier flag
    return { config: configFromInts(ints, shared), offset: LEGACY_HEADER_BYTES, version: 0 };
  }
  if (bytes.length < V1_HEADER_BYTES) {
    throw new RangeError(
      `Cannot read llama2.c checkpoint: ${bytes.length} bytes is shorter than the ${V1_HEADER_BYTES}-byte ak42 header`,
    );
  }
  const version = view.getInt32(4, true);
  if (version !== 1) {
    throw new RangeError(
      `Cannot read llama2.c checkpoint: ak42 version ${version} is not supported (only 1)`,
    );
  }
  const ints = Array.from({ length: 7 }, (_, i) => view.getInt32(8 + 4 * i, true));
  const flag = view.getUint8(36);
  if (flag > 1) {
    throw new RangeError(
      `Cannot read llama2.c checkpoint: shared_classifier flag is ${flag}, expected 0 or 1`,
    );
  }
  return { config: configFromInts(ints, flag === 1), offset: V1_HEADER_BYTES, version: 1 };
}

/** Number of float32 values of the weights (no header, no RoPE tables), classifier included. */
function weightFloats(c: LlamaConfig): number {
  let floats = 0;
  for (const section of LEGACY_ORDER) {
    if (section === "rope" || (section === "classifier" && c.sharedClassifier)) continue;
    const [rows, cols] = sectionShape(c, section);
    floats += rows * cols * (MODEL_LEVEL.has(section) ? 1 : c.nLayers);
  }
  return floats;
}

/** Number of float32 values of the two legacy RoPE tables. */
function ropeTableFloats(c: LlamaConfig): number {
  return c.seqLen * (c.dim / c.nHeads); // 2 tables of [seq_len, head_size / 2]
}

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Sequential float32 reader over the file bytes. Every array is copied out, unless `view` is set
 * and the host is little-endian and the arrays are 4-byte aligned in `bytes.buffer`: then each
 * array is a `Float32Array` view of the file bytes (no copy).
 */
function floatCursor(bytes: Uint8Array, start: number, view: boolean) {
  let offset = start;
  const inPlace = view && littleEndianHost && (bytes.byteOffset + start) % 4 === 0;
  const take = (n: number): Float32Array => {
    if (inPlace) {
      const out = new Float32Array(bytes.buffer, bytes.byteOffset + offset, n);
      offset += 4 * n;
      return out;
    }
    const chunk = copyBytes(bytes, offset, offset + 4 * n); // a fresh, aligned copy
    offset += 4 * n;
    if (littleEndianHost) return new Float32Array(chunk.buffer);
    const view = new DataView(chunk.buffer), out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  };
  return {
    vector: take,
    matrix: (rows: number, cols: number): Matrix => ({ data: take(rows * cols), rows, cols }),
    skip: (n: number) => void (offset += 4 * n),
  };
}

/** Options of {@link readLlama2c}. */
export interface ReadLlama2cOptions {
  /**
   * Return the weights as views of `bytes` instead of copies, when the host is little-endian and
   * the floats are 4-byte aligned in `bytes.buffer` (otherwise they are copied as usual). Halves
   * the memory of loading a model; the caller hands `bytes` over: writing to one writes to the
   * other. Default false.
   */
  view?: boolean;
}

/**
 * Reads a llama2.c checkpoint (legacy or ak42 version 1) into {@link LlamaWeights}.
 *
 * @param bytes The whole file. Not modified; every weight is copied out of it (unless
 *   `options.view`).
 * @returns The weights; `config.normEps` is 1e-5 and `config.ropeTheta` 10000 (llama2.c's constants).
 * @throws {TypeError} If `bytes` is not a Uint8Array.
 * @throws {RangeError} If a header value is zero or negative, `dim % n_heads`, `n_heads % n_kv_heads`
 *   or the head size is inconsistent, the ak42 version is not 1, or the byte count differs from the
 *   exact size the header implies (legacy: with or without the RoPE tables).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLlama2c } from "./llama2c.ts";
 * const header = new Int32Array([4, 8, 1, 2, 2, 3, 2]); // dim 4, hidden 8, 1 layer, 2+2 heads, vocab 3
 * const floats = 3 * 4 + (2 * 4 + 4 * 16 + 3 * 32) + 4; // embedding, one block, final norm
 * const bytes = new Uint8Array(28 + 4 * floats);
 * bytes.set(new Uint8Array(header.buffer));
 * const w = readLlama2c(bytes);
 * assert.equal(w.blocks[0].w1.rows, 8);
 * assert.equal(w.classifier, w.tokenEmbedding);
 * assert.throws(() => readLlama2c(bytes.subarray(0, 100)), RangeError);
 * const viewed = readLlama2c(bytes, { view: true }); // no copy: the weights share bytes.buffer
 * assert.equal(viewed.blocks[0].w1.data.buffer, bytes.buffer);
 * ```
 */
export function readLlama2c(bytes: Uint8Array, options: ReadLlama2cOptions = {}): LlamaWeights {
  checkBytes(bytes);
  const { config: c, offset, version } = readHeader(bytes);
  const weights = 4 * weightFloats(c), rope = 4 * ropeTableFloats(c);
  const hasRope = version === 0 && bytes.length === offset + weights + rope;
  if (!hasRope && bytes.length !== offset + weights) {
    const expected = version === 0
      ? `${offset + weights} or ${offset + weights + rope} (with RoPE tables)`
      : `${offset + weights}`;
    throw new RangeError(
      `Cannot read llama2.c checkpoint: file has ${bytes.length} bytes, the header implies ${expected}`,
    );
  }
  const order = version === 0 ? LEGACY_ORDER : V1_ORDER;
  return readBody(floatCursor(bytes, offset, options.view ?? false), c, order, hasRope);
}

/** One array (or one array per layer) of a checkpoint body. */
type Section = keyof LlamaBlock | "tokenEmbedding" | "rmsFinal" | "rope" | "classifier";
const NORMS = new Set<Section>(["rmsAtt", "rmsFfn", "rmsFinal"]);
const MODEL_LEVEL = new Set<Section>(["tokenEmbedding", "rmsFinal", "rope", "classifier"]);
/** `legacy_export` (and run.c's reader) order. */
// deno-fmt-ignore
const LEGACY_ORDER: Section[] = [
  "tokenEmbedding", "rmsAtt", "wq", "wk", "wv", "wo", "rmsFfn", "w1", "w2", "w3", "rmsFinal",
  "rope", "classifier",
];
/** `version1_export` order: the norms first, then the embedding and the matrices. No RoPE tables. */
// deno-fmt-ignore
const V1_ORDER: Section[] = [
  "rmsAtt", "rmsFfn", "rmsFinal", "tokenEmbedding", "wq", "wk", "wv", "wo", "w1", "w2", "w3",
  "classifier",
];

/** `[rows, cols]` of one array of a section (norms: `[1, dim]`). */
function sectionShape(c: LlamaConfig, section: Exclude<Section, "rope">): [number, number] {
  const kvDim = (c.dim * c.nKvHeads) / c.nHeads;
  if (NORMS.has(section)) return [1, c.dim];
  if (section === "wk" || section === "wv") return [kvDim, c.dim];
  if (section === "wq" || section === "wo") return [c.dim, c.dim];
  if (section === "w1" || section === "w3") return [c.hiddenDim, c.dim];
  if (section === "w2") return [c.dim, c.hiddenDim];
  return [c.vocabSize, c.dim]; // tokenEmbedding, classifier
}

function readBody(
  f: ReturnType<typeof floatCursor>,
  c: LlamaConfig,
  order: Section[],
  hasRope: boolean,
): LlamaWeights {
  const layers: Record<string, Matrix | Float32Array>[] = Array.from(
    { length: c.nLayers },
    () => ({}),
  );
  const model: Record<string, Matrix> = {};
  for (const section of order) {
    if (section === "rope") {
      if (hasRope) f.skip(ropeTableFloats(c)); // freq_cis_real, freq_cis_imag: recomputed by the model
    } else if (section === "classifier" && c.sharedClassifier) {
      model.classifier = model.tokenEmbedding;
    } else {
      const [rows, cols] = sectionShape(c, section);
      const read = () => NORMS.has(section) ? f.vector(cols) : f.matrix(rows, cols);
      if (MODEL_LEVEL.has(section)) model[section] = f.matrix(rows, cols);
      else for (const layer of layers) layer[section] = read();
    }
  }
  return {
    config: c,
    tokenEmbedding: model.tokenEmbedding,
    blocks: layers as unknown as LlamaBlock[],
    rmsFinal: model.rmsFinal.data,
    classifier: model.classifier,
  };
}

/**
 * The legacy RoPE tables `freq_cis_real` and `freq_cis_imag`, each `[seqLen, headSize/2]`:
 * `cos(pos * theta^(-2i/headSize))` and `sin(...)`, as llama2.c's `model.py` precomputes them.
 *
 * @param config The model config (uses `dim`, `nHeads`, `seqLen`, `ropeTheta`).
 * @returns `{ real, imag }`, each `Float32Array(seqLen * headSize / 2)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ropeTables } from "./llama2c.ts";
 * const t = ropeTables({ dim: 4, nHeads: 1, seqLen: 2, ropeTheta: 10000 });
 * assert.deepEqual(Array.from(t.real.subarray(0, 2)), [1, 1]); // position 0: no rotation
 * assert.equal(t.imag[2], Math.fround(Math.sin(1)));           // position 1, pair 0: angle 1
 * ```
 */
export function ropeTables(
  config: Pick<LlamaConfig, "dim" | "nHeads" | "seqLen" | "ropeTheta">,
): { real: Float32Array; imag: Float32Array } {
  const half = config.dim / config.nHeads / 2;
  const real = new Float32Array(config.seqLen * half),
    imag = new Float32Array(config.seqLen * half);
  for (let pos = 0; pos < config.seqLen; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = pos * Math.pow(config.ropeTheta, -i / half); // theta^(-2i / headSize)
      real[pos * half + i] = Math.cos(angle);
      imag[pos * half + i] = Math.sin(angle);
    }
  }
  return { real, imag };
}

/**
 * Writes weights in the llama2.c legacy format (with the RoPE tables, so `run.c` can read it).
 * The classifier is written separately, and `vocab_size` stored negative, unless
 * `config.sharedClassifier`.
 *
 * @param weights The model. Not modified.
 * @returns The file bytes; {@link readLlama2c} reads them back to equal weights.
 * @throws {RangeError} If the config is invalid (same checks as {@link readLlama2c}), or the RoPE
 *   tables (`seqLen * headSize` floats) would be larger than the weights (checked before allocating).
 * @throws {TypeError} If a tensor's size does not match the config.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLlama2c, writeLlama2c } from "./llama2c.ts";
 * const header = new Int32Array([4, 8, 1, 2, 1, 3, 2]);
 * const bytes = new Uint8Array(28 + 4 * (12 + 4 + 16 + 8 + 8 + 16 + 4 + 96 + 4));
 * bytes.set(new Uint8Array(header.buffer));
 * new Float32Array(bytes.buffer, 28).fill(0.5);
 * const again = readLlama2c(writeLlama2c(readLlama2c(bytes)));
 * assert.equal(again.blocks[0].wk.rows, 2); // kv_dim = 4 * 1 / 2
 * assert.equal(again.rmsFinal[3], 0.5);
 * ```
 */
export function writeLlama2c(weights: LlamaWeights): Uint8Array {
  const c = weights.config;
  configFromInts(
    [c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.vocabSize, c.seqLen],
    c.sharedClassifier,
  );
  // Check the allocation first: a header read from a file without RoPE tables does not bound
  // seq_len, and seq_len 2^31 - 1 would mean 17 GB of tables (found by fuzzing).
  if (ropeTableFloats(c) > weightFloats(c)) {
    throw new RangeError(
      `Cannot write llama2.c checkpoint: seq_len ${c.seqLen} makes the RoPE tables ${
        ropeTableFloats(c)
      } floats, more than the ${weightFloats(c)} floats of weights`,
    );
  }
  const floats = weightFloats(c) + ropeTableFloats(c);
  const out = new Uint8Array(LEGACY_HEADER_BYTES + 4 * floats);
  const view = new DataView(out.buffer);
  const ints = [
    c.dim,
    c.hiddenDim,
    c.nLayers,
    c.nHeads,
    c.nKvHeads,
    c.sharedClassifier ? c.vocabSize : -c.vocabSize,
    c.seqLen,
  ];
  ints.forEach((v, i) => view.setInt32(4 * i, v, true));
  let offset = LEGACY_HEADER_BYTES;
  const put = (a: Float32Array, expected: number, name: string) => {
    if (a.length !== expected) {
      throw new TypeError(
        `Cannot write llama2.c checkpoint: ${name} has ${a.length} values, expected ${expected}`,
      );
    }
    for (let i = 0; i < a.length; i++) view.setFloat32(offset + 4 * i, a[i], true);
    offset += 4 * a.length;
  };
  if (weights.blocks.length !== c.nLayers) {
    throw new TypeError(
      `Cannot write llama2.c checkpoint: ${weights.blocks.length} blocks, config says ${c.nLayers}`,
    );
  }
  for (const section of LEGACY_ORDER) {
    if (section === "rope") {
      const rope = ropeTables(c);
      put(rope.real, rope.real.length, "freq_cis_real");
      put(rope.imag, rope.imag.length, "freq_cis_imag");
      continue;
    }
    if (section === "classifier" && c.sharedClassifier) continue;
    const [rows, cols] = sectionShape(c, section);
    if (section === "rmsFinal") put(weights.rmsFinal, cols, section);
    else if (MODEL_LEVEL.has(section)) {
      put(weights[section as "classifier"].data, rows * cols, section);
    } else {
      weights.blocks.forEach((block, l) => {
        const value = block[section as keyof LlamaBlock]!; // llama2.c blocks have no biases
        put(
          value instanceof Float32Array ? value : value.data,
          rows * cols,
          `blocks[${l}].${section}`,
        );
      });
    }
  }
  return out;
}
