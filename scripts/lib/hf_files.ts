/**
 * A Hugging Face model folder on disk, for `src/io/hf_folder.ts` and `src/io/hf_write.ts` (which
 * take no paths): {@link folderSource} lists, reads and opens its files, {@link folderSink}
 * writes an output folder through temporary files renamed into place; `node:fs` (Deno and Bun).
 *
 * @module
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { randomBytes } from "node:crypto";
import type { FolderSource } from "../../src/io/hf_folder.ts";
import type { FileSink, FolderSink } from "../../src/io/hf_write.ts";
import { checkTarget, fileByteSource, type WriteOptions } from "./files.ts";

/**
 * The folder `dir` as a {@link FolderSource}. Shards are opened as file handles and read by
 * offsets; call `close()` when done with the tensors (it closes every handle opened).
 *
 * @param dir The folder's path.
 * @returns The source, plus `close()`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { folderSource } from "./hf_files.ts";
 * import { openHfFolder } from "../../src/io/hf_folder.ts";
 * const src = folderSource("../shared/models/hf/qwen2");
 * try {
 *   const folder = await openHfFolder(src);
 *   assert.equal(folder.dtype, "BF16");
 *   assert.equal((await folder.tensors.float32("model.norm.weight")).length, 256);
 * } finally {
 *   await src.close();
 * }
 * ```
 */
export function folderSource(dir: string): FolderSource & { close(): Promise<void> } {
  const handles: { close(): Promise<void> }[] = [];
  const inside = (name: string) => {
    if (name === "" || name !== path.basename(name) || name === "." || name === "..") {
      throw new TypeError(`Cannot read "${name}" in ${dir}: not a plain file name`);
    }
    return path.join(dir, name);
  };
  const isFile = async (file: string) => {
    try {
      return (await fs.stat(file)).isFile();
    } catch {
      return false;
    }
  };
  return {
    async list() {
      const entries = await fs.readdir(dir, { withFileTypes: true });
      const names: string[] = [];
      for (const e of entries) {
        if (e.isFile() || (e.isSymbolicLink() && await isFile(path.join(dir, e.name)))) {
          names.push(e.name);
        }
      }
      return names.sort();
    },
    async readFile(name) {
      const file = inside(name);
      if (!await isFile(file)) return undefined;
      return new Uint8Array(await fs.readFile(file));
    },
    async openFile(name) {
      const file = inside(name);
      if (!await isFile(file)) return undefined;
      const source = await fileByteSource(file);
      handles.push(source);
      return source;
    },
    async close() {
      for (const h of handles.splice(0)) await h.close();
    },
  };
}

/** The target path of a plain file name inside `dir`. */
function targetIn(dir: string, name: string): string {
  if (name === "" || name !== path.basename(name) || name === "." || name === "..") {
    throw new TypeError(`Cannot write "${name}" into ${dir}: not a plain file name`);
  }
  return path.join(dir, name);
}

/**
 * The folder `dir` as a {@link FolderSink}: each file is written at offsets into a temporary file
 * beside its target (`.NAME.PID.RANDOM.tmp`); `commit` syncs and renames them all, `abort`
 * removes them. A target that is an input, or exists without `force`, is refused when the file is
 * created and again before the rename (`checkTarget`).
 *
 * @param dir The output folder (created if needed).
 * @param options `force` and the run's `inputs`, as for `writeFileAtomic`.
 * @returns The sink.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
 * import { join } from "node:path";
 * import { tmpdir } from "node:os";
 * import { folderSink } from "./hf_files.ts";
 * const dir = await mkdtemp(join(tmpdir(), "secateur-"));
 * const sink = folderSink(join(dir, "out"));
 * const f = await sink.create("a.bin");
 * await f.write(1, new Uint8Array([2]));
 * await f.write(0, new Uint8Array([1]));
 * await sink.commit();
 * assert.deepEqual([...await readFile(join(dir, "out", "a.bin"))], [1, 2]);
 * assert.deepEqual(await readdir(join(dir, "out")), ["a.bin"]);
 * await rm(dir, { recursive: true });
 * ```
 */
export function folderSink(dir: string, options: WriteOptions = {}): FolderSink {
  const open: { target: string; temp: string; handle: fs.FileHandle }[] = [];
  const closeAll = async () => {
    for (const f of open) await f.handle.close().catch(() => {});
  };
  return {
    async create(name): Promise<FileSink> {
      const target = targetIn(dir, name);
      await checkTarget(target, options);
      await fs.mkdir(dir, { recursive: true });
      const temp = path.join(dir, `.${name}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
      const handle = await fs.open(temp, "wx"); // "x": never reuse an existing file
      open.push({ target, temp, handle });
      return {
        async write(offset, bytes) {
          for (let done = 0; done < bytes.length;) {
            const { bytesWritten } = await handle.write(
              bytes,
              done,
              bytes.length - done,
              offset + done,
            );
            done += bytesWritten;
          }
        },
      };
    },
    async commit() {
      for (const f of open) await f.handle.sync();
      await closeAll();
      for (const f of open) await checkTarget(f.target, options); // may have appeared meanwhile
      for (const f of open) await fs.rename(f.temp, f.target);
      return open.splice(0).map((f) => f.target);
    },
    async abort() {
      await closeAll();
      for (const f of open.splice(0)) await fs.rm(f.temp, { force: true });
    },
  };
}
