/**
 * SHA-256 digests of every file of a folder, one `sha256  ./path` line each (as `sha256sum`
 * prints them), sorted by path. The Bun smoke test and `tests/conformance_test.ts` compare the
 * small conformance suite with `tests/golden/conformance-small.sha256`, written under Deno by:
 *
 *     deno task conformance --small --out /tmp/small
 *     deno run --allow-read tests/bun/digests.ts /tmp/small > tests/golden/conformance-small.sha256
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";

async function filesUnder(dir: string, prefix = "."): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...await filesUnder(join(dir, entry.name), rel));
    else out.push(rel);
  }
  return out;
}

/**
 * The digest lines of every file under `dir`.
 *
 * @param dir The folder.
 * @returns `"<hex>  ./<path>\n"` per file, sorted by path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { suiteDigests } from "./digests.ts";
 * assert.match(await suiteDigests("tests/golden"), /[0-9a-f]{64} {2}\.\/tiny\.safetensors\n/);
 * ```
 */
export async function suiteDigests(dir: string): Promise<string> {
  const files = (await filesUnder(dir)).sort();
  let text = "";
  for (const f of files) {
    const hash = createHash("sha256").update(await readFile(join(dir, f))).digest("hex");
    text += `${hash}  ${f}\n`;
  }
  return text;
}

if (import.meta.main) process.stdout.write(await suiteDigests(process.argv[2]));
