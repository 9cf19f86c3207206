/**
 * Code quoted in `docs/*.md` cannot drift from the source: every ```` ```ts ```` block of a page is
 * a quote, and this test finds each quote in the function it names.
 *
 * The convention (stated in `docs/README.md`): the block's first line is
 * `// PATH, NAME` (optionally `: a remark`), where PATH is a file of the repository and NAME a
 * function, method or constant declared in it. A line `...` separates excerpts. Every excerpt must
 * appear as consecutive lines inside NAME's body, in the block's order; lines are compared after
 * trimming and collapsing runs of blanks (so a quote may realign its trailing comments).
 * A `ts` block without that first line fails: the docs show no code that no test checks.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { parseQuotes, quoteProblems } from "./lib/doc_quotes.ts";

const ROOT = new URL("../", import.meta.url);
const pages = readdirSync(new URL("docs/", ROOT)).filter((f) => f.endsWith(".md")).sort();

for (const page of pages) {
  const quotes = parseQuotes(readFileSync(new URL(`docs/${page}`, ROOT), "utf8"), `docs/${page}`);
  if (quotes.length === 0) continue;
  Deno.test(`docs/${page}: ${quotes.length} quoted excerpts still appear in the source`, () => {
    const problems = quotes.flatMap((q) =>
      quoteProblems(q, (path) => readFileSync(new URL(path, ROOT), "utf8"))
    );
    assert.deepEqual(problems, []);
  });
}

Deno.test("quoteProblems: a drifted line, a wrong order, an unknown name, an unmarked block", () => {
  const source = [
    "function f(a) {",
    "  const b = a + 1; // b",
    "  return b * 2;",
    "}",
    "function g() {",
    "  return 3;",
    "}",
  ].join("\n");
  const read = () => source;
  const fence = "`".repeat(3);
  const md = (body: string) => `${fence}ts\n${body}\n${fence}\n`;
  const check = (body: string) =>
    parseQuotes(md(body), "p.md").flatMap((q) => quoteProblems(q, read));
  assert.deepEqual(check("// x.ts, f\nconst b = a + 1;   // b\nreturn b * 2;"), []);
  assert.deepEqual(check("// x.ts, f: remark\nreturn b * 2;\n...\n}"), []);
  assert.match(check("// x.ts, f\nreturn b * 3;")[0], /p\.md line 3: not found in f of x\.ts/);
  assert.match(check("// x.ts, f\nreturn b * 2;\n...\nconst b = a + 1; // b")[0], /not found/);
  assert.match(check("// x.ts, g\nreturn b * 2;")[0], /not found in g/);
  assert.match(check("// x.ts, h\nreturn 3;")[0], /no declaration of h in x\.ts/);
  assert.match(check("return 3;")[0], /p\.md line 2: a ts block must start with/);
});
