/**
 * A Hugging Face model folder on disk, for `src/io/hf_folder.ts` (which takes no paths):
 * {@link folderSource} lists, reads and opens its files with `node:fs` (Deno and Bun).
 *
 * @module
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { FolderSource } from "../../src/io/hf_folder.ts";
import { fileByteSource } from "./files.ts";

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
