/**
 * File helpers for the CLIs: reading whole files, random-access reads for large checkpoints, and
 * writing outputs safely.
 *
 * Written against `node:` built-ins only (never `Deno.*`), so the scripts run on Deno and Bun.
 *
 * Safe writes: an output is written to a temporary file in the destination folder (same file
 * system, so the final `rename` is atomic) and renamed over the final name only when complete.
 * An interrupted or failed run therefore never leaves a partial file under the final name; the
 * temporary file is removed on failure (a hard kill can leave a `.NAME.*.tmp` file behind, never a
 * partial NAME). An existing output is not replaced unless `force`, and an output path that is one
 * of the run's inputs (also through a symlink or another spelling) is refused even with `force`.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { ByteSource } from "../../src/io/safetensors.ts";

/**
 * Thrown when a write would replace an existing file without `force`, or an input file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnsafeWriteError } from "./files.ts";
 * assert.equal(new UnsafeWriteError("no").name, "UnsafeWriteError");
 * ```
 */
export class UnsafeWriteError extends Error {
  /**
   * @param message What was refused and how to proceed.
   */
  constructor(message: string) {
    super(message);
    this.name = "UnsafeWriteError";
  }
}

/** Bytes to write: one buffer, or chunks (sync or async) written one after the other. */
export type WriteData = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** Options for {@link writeFileAtomic} and {@link writeDirAtomic}. */
export interface WriteOptions {
  /** Replace an existing file (the CLIs' `--force`). */
  force?: boolean;
  /** Paths the run reads from; writing over any of them is refused. */
  inputs?: string[];
}

/**
 * Reads a whole file.
 *
 * @param file The path.
 * @param options `shared`: read into a `SharedArrayBuffer`, so that worker threads can use the
 *   bytes (and views of them, e.g. `readLlama2c(bytes, { view: true })`) without a copy.
 * @returns Its bytes.
 * @throws {Error} The runtime's error (e.g. `ENOENT`), its message naming the path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readBytes } from "./files.ts";
 * const bytes = await readBytes("tests/golden/tiny.safetensors");
 * assert.equal(bytes.length, 544);
 * const shared = await readBytes("tests/golden/tiny.safetensors", { shared: true });
 * assert.ok(shared.buffer instanceof SharedArrayBuffer);
 * assert.deepEqual(shared, bytes);
 * ```
 */
export async function readBytes(
  file: string,
  options: { shared?: boolean } = {},
): Promise<Uint8Array> {
  if (options.shared) return await readShared(file);
  const buffer = await fs.readFile(file);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Reads a whole file into a `SharedArrayBuffer` (16 MB at a time): worker threads see it as is. */
async function readShared(file: string): Promise<Uint8Array> {
  const handle = await fs.open(file, "r");
  try {
    const size = (await handle.stat()).size;
    const bytes = new Uint8Array(new SharedArrayBuffer(size));
    for (let at = 0; at < size;) {
      const { bytesRead } = await handle.read(bytes, at, Math.min(1 << 24, size - at), at);
      if (bytesRead === 0) {
        throw new RangeError(`Cannot read ${file}: it ended at byte ${at} of ${size} while read`);
      }
      at += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

/**
 * Opens a file for random-access reads (for `openSafetensors`): nothing is read until asked.
 *
 * @param file The path.
 * @returns A {@link ByteSource} over the file, plus `close()`. A read past the end returns the
 *   bytes that exist (fewer than asked), so callers detect truncation.
 * @throws {Error} If the file cannot be opened; `read` throws `RangeError` for a negative or
 *   non-integer offset or length.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileByteSource } from "./files.ts";
 * const source = await fileByteSource("tests/golden/tiny.safetensors");
 * try {
 *   assert.equal(source.size, 544);
 *   assert.deepEqual(Array.from(await source.read(0, 2)), [0xc0, 0x01]); // header length 448
 * } finally {
 *   await source.close();
 * }
 * ```
 */
export async function fileByteSource(
  file: string,
): Promise<ByteSource & { close(): Promise<void> }> {
  const handle = await fs.open(file, "r");
  const { size } = await handle.stat();
  const read = async (offset: number, length: number): Promise<Uint8Array> => {
    if (
      !Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0
    ) {
      throw new RangeError(`Cannot read "${file}": bad range offset ${offset}, length ${length}`);
    }
    const out = new Uint8Array(Math.min(length, Math.max(0, size - offset))); // never over-allocate
    let filled = 0;
    while (filled < out.length) {
      const { bytesRead } = await handle.read(out, filled, out.length - filled, offset + filled);
      if (bytesRead === 0) break; // the file shrank since it was opened
      filled += bytesRead;
    }
    return out.subarray(0, filled);
  };
  return { size, read, close: () => handle.close() };
}

/** The path's real location when it exists (symlinks resolved), else its absolute spelling. */
async function realOrResolved(p: string): Promise<string> {
  try {
    return await fs.realpath(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * Finds the nearest existing ancestor of `target`'s folder (the write creates the missing folders
 * below it) and refuses it if it is a file. (Write permission is left to the write itself: asking
 * for it would need `--allow-sys` under Deno.)
 */
async function checkFolder(target: string): Promise<void> {
  let dir = path.dirname(path.resolve(target));
  for (;;) {
    const info = await fs.stat(dir).catch(() => undefined);
    if (info !== undefined) {
      if (info.isDirectory()) return;
      throw new UnsafeWriteError(`Cannot write "${target}": "${dir}" is a file, not a folder`);
    }
    const up = path.dirname(dir);
    if (up === dir) return; // the root: nothing exists (not on a real file system)
    dir = up;
  }
}

/**
 * Refuses to write `target` over an input, over a folder, into a path through a file, or
 * (without force) over an existing file. Missing folders are fine: the
 * write creates them. Call it before long work so a run fails fast; {@link writeFileAtomic}
 * checks again before renaming.
 *
 * @param target The output path.
 * @param options `force` to allow replacing an existing file; `inputs` that must not be overwritten.
 * @returns When the target may be written.
 * @throws {UnsafeWriteError} If the target is an input, a folder, under a file, or exists and
 *   `force` is not set.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTarget } from "./files.ts";
 * await checkTarget("out/not/yet/made.json", {}); // missing folders are created by the write
 * await assert.rejects(
 *   checkTarget("README.md/x.json", {}),
 *   /README\.md" is a file, not a folder/,
 * );
 * await assert.rejects(checkTarget("src", { force: true }), /it is a folder/);
 * ```
 */
export async function checkTarget(target: string, options: WriteOptions): Promise<void> {
  await checkFolder(target);
  if ((await fs.stat(target).catch(() => undefined))?.isDirectory()) {
    throw new UnsafeWriteError(`Cannot write "${target}": it is a folder; name a file`);
  }
  const real = await realOrResolved(target);
  for (const input of options.inputs ?? []) {
    if ((await realOrResolved(input)) === real) {
      throw new UnsafeWriteError(
        `Cannot write "${target}": it is an input of this run ("${input}"); choose another output`,
      );
    }
  }
  if (!options.force) {
    const exists = await fs.lstat(target).then(() => true, () => false);
    if (exists) {
      throw new UnsafeWriteError(
        `Cannot write "${target}": the file exists; pass --force to replace it`,
      );
    }
  }
}

/** Writes all of `bytes` at `position`; returns the position after them. */
async function writeAt(
  handle: fs.FileHandle,
  bytes: Uint8Array,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
  return position + done;
}

/** Writes every chunk of `data`, one after the other, from the start of the file. */
async function writeAll(handle: fs.FileHandle, data: WriteData): Promise<void> {
  const chunks = data instanceof Uint8Array ? [data] : data;
  let position = 0;
  for await (const chunk of chunks as AsyncIterable<Uint8Array>) {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(`Cannot write: chunks must be Uint8Array, got ${typeof chunk}`);
    }
    position = await writeAt(handle, chunk, position);
  }
}

/**
 * Writes a file atomically: to a temporary file in the same folder, then renamed into place.
 *
 * @param target The output path.
 * @param data The bytes, or chunks (e.g. `safetensorsChunks(...)`) written one at a time.
 * @param options `force` to replace an existing file; `inputs` that must not be overwritten.
 * @returns When the file is in place.
 * @throws {UnsafeWriteError} If `target` exists and `force` is not set, or is one of `inputs`.
 * @throws {Error} Any write error (the temporary file is removed, `target` untouched).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtemp, readFile, rm } from "node:fs/promises";
 * import { join } from "node:path";
 * import { tmpdir } from "node:os";
 * import { UnsafeWriteError, writeFileAtomic } from "./files.ts";
 * const dir = await mkdtemp(join(tmpdir(), "secateur-"));
 * const out = join(dir, "a.bin");
 * await writeFileAtomic(out, [new Uint8Array([1, 2]), new Uint8Array([3])]);
 * assert.deepEqual(Array.from(await readFile(out)), [1, 2, 3]);
 * await assert.rejects(() => writeFileAtomic(out, new Uint8Array(1)), UnsafeWriteError);
 * await rm(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(
  target: string,
  data: WriteData,
  options: WriteOptions = {},
): Promise<void> {
  await checkTarget(target, options);
  const dir = path.dirname(path.resolve(target));
  await fs.mkdir(dir, { recursive: true }).catch((e) => {
    throw namingTarget(e, target, dir);
  });
  const temp = path.join(
    dir,
    `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`,
  );
  // "x": never reuse an existing file
  const handle = await fs.open(temp, "wx").catch((e) => {
    throw namingTarget(e, target, temp);
  });
  try {
    await writeAll(handle, data);
    await handle.sync();
    await handle.close();
    await checkTarget(target, options); // the target may have appeared while we wrote
    await fs.rename(temp, target);
  } catch (error) {
    await handle.close().catch(() => {});
    await fs.rm(temp, { force: true });
    throw namingTarget(error, target, temp);
  }
}

/**
 * A file-system error about the temporary file (or a folder made for the target), reworded to
 * name the output the user gave: the temporary name means nothing to them. The `code` stays.
 */
function namingTarget(error: unknown, target: string, internal: string): unknown {
  const e = error as { message?: unknown; code?: unknown };
  if (!(error instanceof Error) || typeof e.code !== "string") return error;
  // "ENOENT: no such file or directory, open '/d/.x.123.ab.tmp'": keep what went wrong, not where
  const reason = String(e.message).includes(internal)
    ? String(e.message).replace(/, \w+ '.*$/, "")
    : String(e.message);
  const out = new Error(`Cannot write "${target}": ${reason}`);
  (out as Error & { code: string }).code = e.code;
  return out;
}

/**
 * Writes several files into a folder (created if needed), e.g. an HF export (`config.json`,
 * `model.safetensors`). Every target is checked before anything is written, then each file is
 * written with {@link writeFileAtomic}.
 *
 * @param dir The folder.
 * @param files File name (inside `dir`) -> bytes or chunks.
 * @param options As for {@link writeFileAtomic}.
 * @returns The paths written.
 * @throws {UnsafeWriteError} If any target exists (without `force`) or is an input; nothing is
 *   written then.
 * @throws {TypeError} If a file name is not a plain name inside `dir`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtemp, readdir, rm } from "node:fs/promises";
 * import { join } from "node:path";
 * import { tmpdir } from "node:os";
 * import { writeDirAtomic } from "./files.ts";
 * const dir = await mkdtemp(join(tmpdir(), "secateur-"));
 * const out = join(dir, "model");
 * await writeDirAtomic(out, { "config.json": new TextEncoder().encode("{}"), "x.bin": new Uint8Array(4) });
 * assert.deepEqual((await readdir(out)).sort(), ["config.json", "x.bin"]);
 * await rm(dir, { recursive: true });
 * ```
 */
export async function writeDirAtomic(
  dir: string,
  files: Record<string, WriteData>,
  options: WriteOptions = {},
): Promise<string[]> {
  const targets = Object.keys(files).map((name) => {
    if (name === "" || name !== path.basename(name) || name === "." || name === "..") {
      throw new TypeError(`Cannot write into "${dir}": "${name}" is not a plain file name`);
    }
    return path.join(dir, name);
  });
  for (const target of targets) await checkTarget(target, options);
  await fs.mkdir(dir, { recursive: true });
  for (const [i, name] of Object.keys(files).entries()) {
    await writeFileAtomic(targets[i], files[name], options);
  }
  return targets;
}
