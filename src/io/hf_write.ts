/**
 * Writing a pruned copy of a Hugging Face model folder, as the pruning goes: a folder that
 * transformers' `AutoModelForCausalLM.from_pretrained` loads as the same family, in the same
 * dtype, with the same sharding.
 *
 * How it stays faithful to the input:
 *
 * - Each output shard starts with the input shard's header, byte for byte, so every tensor keeps
 *   its dtype, shape and offsets, and the index (copied as it is) stays correct.
 * - A pruned tensor ({@link HfWriter.put}) is stored in its input dtype at its offset: float32
 *   values narrowed to F16/BF16 by rounding to nearest even. Weights a method only zeroes come
 *   back as their original bytes (widening was exact); weights a method updates (SparseGPT,
 *   FISTAPruner) are rounded once, as transformers would round them.
 * - Every other tensor is copied as its stored bytes ({@link HfWriter.finish}).
 * - `config.json` is the input's, plus one entry `"secateur"` recording what was done;
 *   the tokenizer and generation files are copied; the masks (U8, 1 = keep, under the weights'
 *   names and in their layout) go to `masks.safetensors`, which transformers does not read.
 *
 * Files are written through a {@link FolderSink}: random-access writes into temporary files that
 * are renamed into place only when everything is written (`scripts/lib/hf_files.ts`); the input
 * folder is only read. Memory: one tensor at a time.
 *
 * @module
 */
import type { Json } from "./hf_config.ts";
import { fromFloat32 } from "./dtype.ts";
import { type FolderSource, type HfFolder, INDEX_FILE } from "./hf_folder.ts";
import { openSafetensors } from "./safetensors.ts";
import { safetensorsLayout } from "./safetensors_write.ts";

/** One output file, written at offsets (in any order). */
export interface FileSink {
  write(offset: number, bytes: Uint8Array): Promise<void>;
}

/** Where the output folder goes. */
export interface FolderSink {
  /** Starts file `name` (a plain name), e.g. as a temporary file beside its target. */
  create(name: string): Promise<FileSink>;
  /** Every file is written: put them in place (atomically each). Returns their paths. */
  commit(): Promise<string[]>;
  /** Something failed: remove what was started. */
  abort(): Promise<void>;
}

/** The file the masks go to. */
export const MASKS_FILE = "masks.safetensors";

/** What {@link createHfWriter} needs besides the folders. */
export interface HfWriterOptions {
  /** HF names of the tensors that will be pruned (their masks' header is written first). */
  pruned: string[];
  /** Recorded in `config.json` under `"secateur"` (method, target, sparsity, ...). */
  record: Json;
  /** Extra `__metadata__` of `masks.safetensors` (string values). */
  maskMetadata?: Record<string, string>;
}

/** A pruned folder being written. */
export interface HfWriter {
  /**
   * Stores one pruned tensor and its mask.
   *
   * @param name The HF tensor name (one of `pruned`).
   * @param values Its values in the HF file's element order, float32.
   * @param mask 1 = kept, 0 = pruned, same order and length.
   */
  put(name: string, values: Float32Array, mask: Uint8Array): Promise<void>;
  /** Copies everything not put, writes config, index, masks and companions, then commits. */
  finish(): Promise<string[]>;
  /** Gives up: removes the started files. */
  abort(): Promise<void>;
}

/** The files {@link createHfWriter} writes for `input` (to check the targets before the work). */
export function hfOutputFiles(input: HfFolder): string[] {
  return [
    "config.json",
    ...input.shards,
    ...(input.indexed ? [INDEX_FILE] : []),
    MASKS_FILE,
    ...input.companions,
  ];
}

/** `config.json`'s text: the input's keys in their order, plus the record. */
function configText(config: Json, record: Json): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ ...config, secateur: record }, null, 2) + "\n");
}

/**
 * Starts writing a pruned copy of `input` into `sink`: creates the shards (with the input's
 * headers) and the masks file. Nothing is renamed into place before {@link HfWriter.finish}.
 *
 * @param input The opened input folder (`openHfFolder`).
 * @param src The input folder's files (the same source).
 * @param sink Where the output goes.
 * @param options The pruned tensors' names and the record for `config.json`.
 * @returns The writer.
 * @throws {RangeError} If a pruned name is not a tensor of the input or repeats.
 * @throws {TypeError} If a pruned tensor is not F32, F16 or BF16.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryFolder, openHfFolder } from "./hf_folder.ts";
 * import { createHfWriter, memorySink } from "./hf_write.ts";
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * const files = {
 *   "config.json": new TextEncoder().encode('{"model_type": "llama"}'),
 *   "model.safetensors": writeSafetensors([
 *     { name: "a", dtype: "F16", shape: [2], data: new Float32Array([1, 2]) },
 *     { name: "w", dtype: "F16", shape: [2], data: new Float32Array([3, 4]) },
 *   ]),
 * };
 * const src = memoryFolder(files);
 * const out: Record<string, Uint8Array> = {};
 * const writer = await createHfWriter(await openHfFolder(src), src, memorySink(out), { pruned: ["w"], record: { method: "magnitude" } });
 * await writer.put("w", new Float32Array([0, 4]), new Uint8Array([0, 1]));
 * await writer.finish();
 * const model = readSafetensors(out["model.safetensors"]);
 * assert.deepEqual(Array.from(model.float32("w")), [0, 4]);
 * assert.deepEqual(model.raw("a"), readSafetensors(files["model.safetensors"]).raw("a"));
 * assert.deepEqual(Array.from(readSafetensors(out["masks.safetensors"]).raw("w")), [0, 1]);
 * assert.equal(JSON.parse(new TextDecoder().decode(out["config.json"])).secateur.method, "magnitude");
 * ```
 */
export async function createHfWriter(
  input: HfFolder,
  src: FolderSource,
  sink: FolderSink,
  options: HfWriterOptions,
): Promise<HfWriter> {
  const pruned = new Set<string>();
  for (const name of options.pruned) {
    const { dtype } = input.tensors.info(name); // RangeError when there is no such tensor
    if (pruned.has(name)) throw new RangeError(`Cannot write the pruned folder: "${name}" twice`);
    if (dtype !== "F32" && dtype !== "F16" && dtype !== "BF16") {
      throw new TypeError(`Cannot write the pruned folder: "${name}" is ${dtype}, not a float`);
    }
    pruned.add(name);
  }
  try {
    // each shard: the input's header bytes, so every offset is the input's
    const shards = new Map<string, { sink: FileSink; dataStart: number }>();
    for (const shard of input.shards) {
      const bytes = (await src.openFile(shard))!;
      const { header } = await openSafetensors(bytes, { source: shard });
      const file = await sink.create(shard);
      await file.write(0, await bytes.read(0, header.dataStart));
      shards.set(shard, { sink: file, dataStart: header.dataStart });
    }
    const masks = safetensorsLayout(
      options.pruned.map((name) => ({ name, dtype: "U8", shape: input.tensors.info(name).shape })),
      { format: "pt", secateur_mask: "1 = keep, 0 = pruned", ...options.maskMetadata },
    );
    const maskFile = await sink.create(MASKS_FILE);
    await maskFile.write(0, masks.header);
    return writerOf(input, src, sink, options, { shards, maskFile, maskOffsets: masks.offsets });
  } catch (e) {
    await sink.abort();
    throw e;
  }
}

/** The writer over the started files. */
function writerOf(
  input: HfFolder,
  src: FolderSource,
  sink: FolderSink,
  options: HfWriterOptions,
  files: {
    shards: Map<string, { sink: FileSink; dataStart: number }>;
    maskFile: FileSink;
    maskOffsets: Map<string, [number, number]>;
  },
): HfWriter {
  const done = new Set<string>();
  const at = (name: string) => {
    const info = input.tensors.info(name);
    const shard = files.shards.get(info.shard)!;
    return { info, sink: shard.sink, offset: shard.dataStart + info.begin };
  };
  const put = async (name: string, values: Float32Array, mask: Uint8Array) => {
    if (!files.maskOffsets.has(name)) {
      throw new RangeError(`Cannot write "${name}": it is not among the pruned tensors`);
    }
    if (done.has(name)) throw new RangeError(`Cannot write "${name}" twice`);
    const { info, sink: file, offset } = at(name);
    const count = info.shape.reduce((p, d) => p * d, 1);
    if (!(values instanceof Float32Array) || values.length !== count) {
      throw new TypeError(
        `Cannot write "${name}": expected ${count} float32 values [${
          info.shape.join(", ")
        }], got ${values?.length}`,
      );
    }
    if (!(mask instanceof Uint8Array) || mask.length !== count) {
      throw new TypeError(
        `Cannot write "${name}": expected a mask of ${count}, got ${mask?.length}`,
      );
    }
    await file.write(offset, fromFloat32(values, info.dtype as "F16"));
    await files.maskFile.write(files.maskOffsets.get(name)![0], mask);
    done.add(name);
  };
  const copy = async (name: string) => {
    const { sink: file, offset } = at(name);
    await file.write(offset, await input.tensors.raw(name));
  };
  const finish = async () => {
    const missing = options.pruned.find((name) => !done.has(name));
    if (missing !== undefined) {
      throw new RangeError(`Cannot finish the pruned folder: "${missing}" was never written`);
    }
    for (const name of input.tensors.names) if (!done.has(name)) await copy(name);
    const small: Record<string, Uint8Array> = {
      "config.json": configText(input.config, options.record),
    };
    const verbatim = [...(input.indexed ? [INDEX_FILE] : []), ...input.companions];
    for (const name of verbatim) small[name] = (await src.readFile(name))!;
    for (const [name, bytes] of Object.entries(small)) {
      await (await sink.create(name)).write(0, bytes);
    }
    return await sink.commit();
  };
  return {
    put: (name, values, mask) => failing(sink, put(name, values, mask)),
    finish: () => failing(sink, finish()),
    abort: () => sink.abort(),
  };
}

/** Aborts the sink when `work` fails, then rethrows. */
async function failing<T>(sink: FolderSink, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    await sink.abort();
    throw e;
  }
}

/**
 * A {@link FolderSink} into memory: at `commit` each file's bytes appear in `files`.
 *
 * @param files Receives name -> bytes at commit.
 * @returns The sink.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memorySink } from "./hf_write.ts";
 * const files: Record<string, Uint8Array> = {};
 * const sink = memorySink(files);
 * const f = await sink.create("a.bin");
 * await f.write(2, new Uint8Array([7]));
 * await f.write(0, new Uint8Array([1, 2]));
 * assert.deepEqual(await sink.commit(), ["a.bin"]);
 * assert.deepEqual(Array.from(files["a.bin"]), [1, 2, 7]);
 * ```
 */
export function memorySink(files: Record<string, Uint8Array>): FolderSink {
  const writes = new Map<string, [number, Uint8Array][]>(); // (offset, bytes), assembled at commit
  return {
    create(name) {
      const list: [number, Uint8Array][] = [];
      writes.set(name, list);
      return Promise.resolve({
        write: (offset, bytes) => Promise.resolve(void list.push([offset, bytes.slice()])),
      });
    },
    commit() {
      for (const [name, list] of writes) {
        const size = list.reduce((n, [o, b]) => Math.max(n, o + b.length), 0);
        const out = new Uint8Array(size);
        for (const [o, b] of list) out.set(b, o);
        files[name] = out;
      }
      const names = [...writes.keys()];
      writes.clear();
      return Promise.resolve(names);
    },
    abort() {
      writes.clear();
      return Promise.resolve();
    },
  };
}
