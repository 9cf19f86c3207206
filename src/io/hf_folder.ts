/**
 * A Hugging Face model folder as transformers' `save_pretrained` writes it, read without paths:
 *
 *     config.json                              the hyper-parameters (read, not interpreted here)
 *     model.safetensors                        the weights, in one file, or sharded:
 *     model.safetensors.index.json             {"metadata": {"total_size": N},
 *     model-00001-of-00002.safetensors          "weight_map": {tensor name: shard file}}
 *     tokenizer.json, tokenizer_config.json, generation_config.json, ...
 *
 * The folder is seen through a {@link FolderSource}: small files are read whole, shards are
 * opened for random access ({@link ByteSource}), so only the safetensors headers are read when
 * the folder is opened and each tensor is read by its offsets when asked for (a block's weights
 * when the pipeline reaches it). `scripts/lib/hf_files.ts` backs a source with a directory;
 * {@link memoryFolder} with bytes in memory (tests, a browser's files).
 *
 * When `model.safetensors` exists it is the checkpoint (as in transformers); otherwise the index
 * must exist, and it is checked: plain `.safetensors` file names, every shard present, every
 * tensor it maps found in that shard and every tensor of a shard mapped to it.
 *
 * @module
 */
import { configDtype, type Json, parseConfigJson } from "./hf_config.ts";
import type { FloatDtype } from "./dtype.ts";
import {
  type ByteSource,
  openSafetensors,
  type SafetensorsReader,
  type SafetensorsTensorInfo,
} from "./safetensors.ts";

/** How `src/io` sees a folder: files by plain name (no paths). */
export interface FolderSource {
  /** The names of the folder's files. */
  list(): Promise<string[]>;
  /** A small file's bytes (config, index, tokenizer files); undefined when there is none. */
  readFile(name: string): Promise<Uint8Array | undefined>;
  /** Random access to a large file (a safetensors shard); undefined when there is none. */
  openFile(name: string): Promise<ByteSource | undefined>;
}

/** Where a tensor is: its header entry and its shard. */
export interface TensorInfo extends SafetensorsTensorInfo {
  /** The shard file holding it. */
  shard: string;
}

/** Every tensor of every shard, each read on demand. */
export interface TensorStore {
  /** Tensor names, shard by shard in the shards' order, each shard in file order. */
  readonly names: string[];
  /** True when the checkpoint has this tensor. */
  has(name: string): boolean;
  /** Where the tensor is (a copy); `RangeError` when there is no such tensor. */
  info(name: string): TensorInfo;
  /** The tensor's stored bytes (a new buffer): copy them to keep a tensor byte-identical. */
  raw(name: string): Promise<Uint8Array>;
  /** The tensor as float32 (F16 and BF16 widened exactly). */
  float32(name: string): Promise<Float32Array>;
}

/** An opened folder. */
export interface HfFolder {
  /** `config.json`, parsed (duplicate keys refused) but not interpreted. */
  config: Json;
  /** The weights. */
  tensors: TensorStore;
  /** The safetensors files: `["model.safetensors"]` or the index's shards, sorted. */
  shards: string[];
  /** True when the weights came through `model.safetensors.index.json`. */
  indexed: boolean;
  /** The dtype of most floating-point weights (by element count): what the writer keeps. */
  dtype: FloatDtype;
  /** Files besides the weights and config that a pruned copy carries over, when present. */
  companions: string[];
}

/** The single-file checkpoint's name. */
export const SINGLE_FILE = "model.safetensors";
/** The shard index's name. */
export const INDEX_FILE = "model.safetensors.index.json";
/** Files a pruned copy of the folder takes along unchanged (tokenizer, generation settings). */
export const COMPANION_FILES = [
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
  "tokenizer.model",
  "vocab.json",
  "merges.txt",
  "chat_template.jinja",
  "chat_template.json",
];

/** The shard index: tensor name -> shard file, and its metadata. */
export interface ShardIndex {
  metadata: Json;
  weightMap: Map<string, string>;
}

/**
 * Parses and checks `model.safetensors.index.json`: an object with a `weight_map` of tensor name
 * to a plain `.safetensors` file name (no folders: the shards sit beside the index).
 *
 * @param input The file's bytes or text.
 * @returns The metadata (`{}` when absent) and the map.
 * @throws {TypeError} If it is not JSON, has no `weight_map` object, or a value is not a plain
 *   `.safetensors` file name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseShardIndex } from "./hf_folder.ts";
 * const index = parseShardIndex('{"metadata": {"total_size": 8}, "weight_map": {"w": "model-00001-of-00001.safetensors"}}');
 * assert.equal(index.weightMap.get("w"), "model-00001-of-00001.safetensors");
 * assert.throws(() => parseShardIndex('{"weight_map": {"w": "../x.safetensors"}}'), TypeError);
 * ```
 */
export function parseShardIndex(input: Uint8Array | string): ShardIndex {
  const json = parseConfigJson(input, INDEX_FILE);
  const map = json.weight_map;
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw new TypeError(
      `Cannot read ${INDEX_FILE}: "weight_map" must be an object, got ${JSON.stringify(map)}`,
    );
  }
  const weightMap = new Map<string, string>();
  for (const [name, file] of Object.entries(map)) {
    if (typeof file !== "string" || !/^[^/\\]+\.safetensors$/.test(file) || file.startsWith(".")) {
      throw new TypeError(
        `Cannot read ${INDEX_FILE}: weight_map "${name}" must be a .safetensors file name beside the index, got ${
          JSON.stringify(file)
        }`,
      );
    }
    weightMap.set(name, file);
  }
  const metadata = json.metadata;
  if (metadata !== undefined && (typeof metadata !== "object" || metadata === null)) {
    throw new TypeError(`Cannot read ${INDEX_FILE}: "metadata" must be an object`);
  }
  return { metadata: (metadata ?? {}) as Json, weightMap };
}

/** Opens one shard, naming it in errors. */
async function openShard(src: FolderSource, file: string): Promise<SafetensorsReader> {
  const bytes = await src.openFile(file);
  if (bytes === undefined) throw new RangeError(`Cannot open the model folder: ${file} is missing`);
  return await openSafetensors(bytes, { source: file });
}

/** The lazy store over opened shards (`names` in shard order). */
function storeOf(readers: Map<string, SafetensorsReader>): TensorStore {
  const where = new Map<string, string>();
  const names: string[] = [];
  for (const [shard, reader] of readers) {
    for (const name of reader.names) {
      const other = where.get(name);
      if (other !== undefined) {
        throw new RangeError(
          `Cannot open the model folder: tensor "${name}" is in both ${other} and ${shard}`,
        );
      }
      where.set(name, shard);
      names.push(name);
    }
  }
  const readerOf = (name: string) => {
    const shard = where.get(name);
    if (shard === undefined) {
      throw new RangeError(
        `Cannot read the model folder: no tensor named "${name}" (it has ${names.length})`,
      );
    }
    return { shard, reader: readers.get(shard)! };
  };
  return {
    names,
    has: (name) => where.has(name),
    info: (name) => {
      const { shard, reader } = readerOf(name);
      return { ...reader.info(name), shard };
    },
    raw: (name) => readerOf(name).reader.raw(name),
    float32: (name) => readerOf(name).reader.float32(name),
  };
}

/** Checks the index against the shards' headers, both ways. */
function checkIndex(index: ShardIndex, readers: Map<string, SafetensorsReader>): void {
  for (const [name, file] of index.weightMap) {
    if (!readers.get(file)!.has(name)) {
      throw new RangeError(
        `Cannot open the model folder: ${INDEX_FILE} maps "${name}" to ${file}, which has no such tensor`,
      );
    }
  }
  for (const [file, reader] of readers) {
    const stray = reader.names.find((name) => index.weightMap.get(name) !== file);
    if (stray !== undefined) {
      throw new RangeError(
        `Cannot open the model folder: ${file} holds "${stray}", which ${INDEX_FILE} maps ${
          index.weightMap.has(stray) ? `to ${index.weightMap.get(stray)}` : "nowhere"
        }`,
      );
    }
  }
}

/** The floating dtype holding the most elements (the config's when there are no float tensors). */
function dominantDtype(store: TensorStore, config: Json): FloatDtype {
  const count = new Map<string, number>();
  for (const name of store.names) {
    const { dtype, shape } = store.info(name);
    if (dtype !== "F32" && dtype !== "F16" && dtype !== "BF16") continue;
    count.set(dtype, (count.get(dtype) ?? 0) + shape.reduce((p, d) => p * d, 1));
  }
  let best: FloatDtype | undefined, most = -1;
  for (const [dtype, n] of count) if (n > most) [best, most] = [dtype as FloatDtype, n];
  return best ?? configDtype(config) ?? "F32";
}

/**
 * Opens a model folder: parses `config.json`, opens the single file or every shard of the index
 * (headers only), and checks the index. No weight is read.
 *
 * @param src The folder.
 * @returns The folder (config, lazy tensors, shards, dtype, companion files present).
 * @throws {TypeError} If `config.json` or the index is malformed, or a safetensors header is.
 * @throws {RangeError} If `config.json`, the weights or a shard is missing, or the index and the
 *   shards disagree.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryFolder, openHfFolder } from "./hf_folder.ts";
 * import { writeSafetensors } from "./safetensors.ts";
 * const weights = writeSafetensors([{ name: "w", dtype: "BF16", shape: [2], data: new Float32Array([1, 2]) }]);
 * const folder = await openHfFolder(memoryFolder({
 *   "config.json": new TextEncoder().encode('{"model_type": "llama"}'),
 *   "model.safetensors": weights,
 * }));
 * assert.equal(folder.dtype, "BF16");
 * assert.deepEqual(Array.from(await folder.tensors.float32("w")), [1, 2]);
 * ```
 */
export async function openHfFolder(src: FolderSource): Promise<HfFolder> {
  const configBytes = await src.readFile("config.json");
  if (configBytes === undefined) {
    throw new RangeError("Cannot open the model folder: config.json is missing");
  }
  const config = parseConfigJson(configBytes);
  const files = await src.list();
  const readers = new Map<string, SafetensorsReader>();
  let indexed = false;
  if (files.includes(SINGLE_FILE)) readers.set(SINGLE_FILE, await openShard(src, SINGLE_FILE));
  else {
    const indexBytes = await src.readFile(INDEX_FILE);
    if (indexBytes === undefined) {
      throw new RangeError(
        `Cannot open the model folder: neither ${SINGLE_FILE} nor ${INDEX_FILE} is there`,
      );
    }
    const index = parseShardIndex(indexBytes);
    const shards = [...new Set(index.weightMap.values())].sort();
    for (const shard of shards) readers.set(shard, await openShard(src, shard));
    checkIndex(index, readers);
    indexed = true;
  }
  const tensors = storeOf(readers);
  return {
    config,
    tensors,
    shards: [...readers.keys()],
    indexed,
    dtype: dominantDtype(tensors, config),
    companions: COMPANION_FILES.filter((f) => files.includes(f)),
  };
}

/**
 * A {@link FolderSource} over files held in memory.
 *
 * @param files File name -> bytes (not copied; reads return copies).
 * @returns The source.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryFolder } from "./hf_folder.ts";
 * const src = memoryFolder({ "a.txt": new Uint8Array([1, 2, 3]) });
 * assert.deepEqual(await src.list(), ["a.txt"]);
 * assert.deepEqual(Array.from(await (await src.openFile("a.txt"))!.read(1, 2)), [2, 3]);
 * assert.equal(await src.readFile("b.txt"), undefined);
 * ```
 */
export function memoryFolder(files: Record<string, Uint8Array>): FolderSource {
  const get = (name: string) => Object.hasOwn(files, name) ? files[name] : undefined;
  return {
    list: () => Promise.resolve(Object.keys(files)),
    readFile: (name) => Promise.resolve(get(name)?.slice()),
    openFile: (name) => {
      const bytes = get(name);
      if (bytes === undefined) return Promise.resolve(undefined);
      return Promise.resolve({
        size: bytes.length,
        read: (offset: number, length: number) =>
          Promise.resolve(bytes.slice(offset, offset + length)),
      });
    },
  };
}
