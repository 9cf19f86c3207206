/**
 * The xi table of `docs/fistapruner.md` §3 is what `deno task fista-xi` prints on stories260K
 * (regenerated here and compared cell by cell).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { main } from "../scripts/fista-xi.ts";
import { capture } from "./lib/capture.ts";
import { pageBlockOf, tableOf } from "./lib/page_tables.ts";

Deno.test("docs/fistapruner.md: the stories260K xi table is what deno task fista-xi prints", async () => {
  const io = capture();
  assert.equal(await main([], io), 0, io.err);
  const text = pageBlockOf(
    readFileSync(new URL("../docs/fistapruner.md", import.meta.url), "utf8"),
    "fista-xi stories260K",
  );
  assert.ok(text !== undefined, "docs/fistapruner.md has no fista-xi stories260K block");
  const page = tableOf(text), printed = tableOf(io.out);
  assert.equal(page.command, "deno task fista-xi");
  assert.equal(printed.command, page.command);
  assert.equal(printed.cells.length, 1 + 1 + 5); // header, warm start, five xi
  assert.deepEqual(page.cells, printed.cells);
});

Deno.test("fista-xi: bad --xi exits 2 with one line", async () => {
  const io = capture();
  assert.equal(await main(["--xi", "0.3,-1"], io), 2);
  assert.match(io.err, /^error: --xi must be a list of numbers > 0, got "0.3,-1"\n$/);
});
