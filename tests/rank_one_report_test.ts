/**
 * The rank-one tables of `docs/swiftprune.md` §4 are what `deno task rank-one` prints: the
 * stories260K table is regenerated here and compared cell by cell (the page may be realigned by
 * `deno fmt`); the llama4m table (31 s to regenerate) is checked for its command and shape.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { main } from "../scripts/rank-one.ts";
import { replaceBlock } from "../scripts/lib/page_tables.ts";
import { capture } from "./lib/capture.ts";
import { pageBlockOf, tableOf } from "./lib/page_tables.ts";

const PAGE = new URL("../docs/swiftprune.md", import.meta.url);

/** The text between a model's rank-one markers. */
function block(page: string, name: string): string {
  const text = pageBlockOf(page, `rank-one ${name}`);
  assert.ok(text !== undefined, `docs/swiftprune.md has no rank-one ${name} block`);
  return text;
}

Deno.test("docs/swiftprune.md: the stories260K rank-one table is what deno task rank-one prints", async () => {
  const io = capture();
  assert.equal(await main([], io), 0, io.err);
  const printed = tableOf(io.out), page = tableOf(block(readFileSync(PAGE, "utf8"), "stories260K"));
  assert.equal(page.command, "deno task rank-one");
  assert.equal(printed.command, page.command);
  assert.equal(printed.cells.length, 1 + 5 * 4); // header + 5 blocks x 4 distinct inputs
  assert.deepEqual(page.cells, printed.cells);
});

Deno.test("docs/swiftprune.md: the llama4m rank-one table names its command and has every input", () => {
  const page = tableOf(block(readFileSync(PAGE, "utf8"), "llama4m"));
  assert.equal(page.command, "deno task rank-one --model ../shared/models/llama4m/llama4m.bin");
  assert.equal(page.cells.length, 1 + 6 * 4);
  assert.deepEqual(
    page.cells.slice(1).map((r) => r[1]),
    Array(6).fill(["wq, wk, wv", "wo", "w1, w3", "w2"]).flat(),
  );
});

Deno.test("rank-one: --write refuses a file without the model's markers; bad flags exit 2", async () => {
  assert.throws(
    () => replaceBlock("no markers\n", "rank-one m", "x\n"),
    /no "<!-- rank-one m begin -->"/,
  );
  const io = capture();
  assert.equal(await main(["--sparsity", "1"], io), 2);
  assert.match(io.err, /^error: --sparsity must be a number in \[0, 1\), got "1"\n$/);
});
