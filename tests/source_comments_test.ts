/**
 * Comments say what and why; the history of a change (issue numbers, fuzz seeds, "fuzz-found")
 * belongs in commit messages. This test finds such references in the library, the scripts and the
 * benches.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tsFiles } from "./lib/source_files.ts";

const HISTORY = /\bissue #?\d+|\(#\d+|#\d+ item|fuzz-found|fuzz seed \d+/i;

Deno.test("no history (issue numbers, fuzz seeds) in the comments of src/, scripts/, bench/, mod.ts", () => {
  const found: string[] = [];
  for (
    const file of [
      ...["src", "scripts", "bench"].flatMap((d) => tsFiles(join(ROOT, d))),
      join(ROOT, "mod.ts"),
    ]
  ) {
    readFileSync(file, "utf8").split("\n").forEach((line, i) => {
      if (HISTORY.test(line)) found.push(`${file.slice(ROOT.length)}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, []);
});
