/**
 * Reads the generated tables of a docs page (`scripts/lib/page_tables.ts` writes them) for the
 * tests that regenerate and compare them.
 *
 * @module
 */

/**
 * The text between `<!-- TAG begin -->` and `<!-- TAG end -->`.
 *
 * @param page The page.
 * @param tag The block's tag.
 * @returns The text, or `undefined` when the markers are missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pageBlockOf } from "./page_tables.ts";
 * assert.equal(pageBlockOf("<!-- t begin -->\nx\n<!-- t end -->", "t"), "x\n");
 * ```
 */
export function pageBlockOf(page: string, tag: string): string | undefined {
  const from = `<!-- ${tag} begin -->\n`, to = `<!-- ${tag} end -->`;
  const a = page.indexOf(from), b = page.indexOf(to);
  return a < 0 || b < a ? undefined : page.slice(a + from.length, b);
}

/**
 * The command in backticks and the table's cells of a block, whitespace and alignment ignored (the
 * page may be realigned by `deno fmt`).
 *
 * @param text A block's text.
 * @returns The command (`deno task ...`) and the rows of cells, separator rows left out.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tableOf } from "./page_tables.ts";
 * const t = tableOf("`deno task x --a 1` (note):\n\n| a  | b |\n| -- | -: |\n| 1 |  2 |\n");
 * assert.equal(t.command, "deno task x --a 1");
 * assert.deepEqual(t.cells, [["a", "b"], ["1", "2"]]);
 * ```
 */
export function tableOf(text: string): { command: string; cells: string[][] } {
  const command = /`(deno task [^`]*)`/.exec(text)?.[1] ?? "";
  const cells = text.split("\n").filter((l) => l.startsWith("|") && !/^\|[\s|:-]+\|$/.test(l))
    .map((l) => l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
  return { command, cells };
}
