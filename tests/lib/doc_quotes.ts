/**
 * Finds the code quotes of a markdown page and checks them against the source, for
 * `tests/docs_quotes_test.ts` (the convention is stated there and in `docs/README.md`).
 *
 * @module
 */

/** One ```` ```ts ```` block of a page: where it is, what it says it quotes, and its excerpts. */
export interface Quote {
  /** `page line N` of the block's first line. */
  where: string;
  /** The quoted file (repository-relative) and declaration name; empty when the header is missing. */
  path: string;
  name: string;
  /** The excerpts (split at `...` lines), each a list of `[line number on the page, text]`. */
  excerpts: [number, string][][];
}

const HEADER = /^\/\/\s*([\w./-]+\.ts),\s*([\w$]+)\s*(?::.*)?$/;
const squash = (line: string) => line.trim().replace(/\s+/g, " ");

/**
 * Every `ts` block of a markdown page, as a {@link Quote}.
 *
 * @param markdown The page.
 * @param page Its name, for messages.
 * @returns The quotes in page order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseQuotes } from "./doc_quotes.ts";
 * const fence = "`".repeat(3);
 * const [q] = parseQuotes(`${fence}ts\n// src/a.ts, f\nx();\n...\ny();\n${fence}\n`, "p.md");
 * assert.equal(q.path, "src/a.ts");
 * assert.deepEqual(q.excerpts, [[[3, "x();"]], [[5, "y();"]]]);
 * ```
 */
export function parseQuotes(markdown: string, page: string): Quote[] {
  const lines = markdown.split("\n"), quotes: Quote[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s*$/.test(lines[i])) continue;
    const start = i + 2; // 1-based number of the block's first line
    const header = HEADER.exec(lines[i + 1] ?? "");
    const excerpts: [number, string][][] = [[]];
    for (i += header ? 2 : 1; i < lines.length && !lines[i].startsWith("```"); i++) {
      if (lines[i].trim() === "...") excerpts.push([]);
      else excerpts[excerpts.length - 1].push([i + 1, lines[i]]);
    }
    quotes.push({
      where: `${page} line ${start}`,
      path: header?.[1] ?? "",
      name: header?.[2] ?? "",
      excerpts: excerpts.filter((e) => e.length > 0),
    });
  }
  return quotes;
}

/**
 * The lines of the body of declaration `name` in `source`: from the first line declaring it
 * (`function name`, `const name =`, `name(` as a method, `name:` as a property) to the first later
 * line that starts with `}` at the declaration's indentation (the declaration line alone when it
 * ends with `;`). Empty when there is no such declaration.
 */
function bodyOf(source: string, name: string): string[] {
  const lines = source.split("\n");
  const esc = name.replace(/\$/g, "\\$");
  const decl = new RegExp(
    `^(\\s*)(export\\s+)?(async\\s+)?(function\\s*\\*?\\s*${esc}\\s*[<(]|(const|let)\\s+${esc}\\b|${esc}\\s*\\(.*\\)\\s*[:{]|${esc}\\s*\\()`,
  );
  const at = lines.findIndex((l) => decl.test(l));
  if (at < 0) return [];
  const indent = decl.exec(lines[at])![1];
  if (lines[at].trimEnd().endsWith(";")) return [lines[at]]; // a one-line declaration
  for (let j = at + 1; j < lines.length; j++) {
    if (lines[j].startsWith(`${indent}}`)) return lines.slice(at, j + 1);
  }
  return [lines[at]];
}

/**
 * What is wrong with a quote, as messages naming the page line (empty when it still matches).
 *
 * @param quote A quote from {@link parseQuotes}.
 * @param read Returns the text of a repository-relative path (throws when there is none).
 * @returns The problems.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseQuotes, quoteProblems } from "./doc_quotes.ts";
 * const fence = "`".repeat(3);
 * const [q] = parseQuotes(`${fence}ts\n// a.ts, f\nreturn 2;\n${fence}\n`, "p.md");
 * assert.deepEqual(quoteProblems(q, () => "function f() {\n  return 2;\n}"), []);
 * assert.equal(quoteProblems(q, () => "function f() {\n  return 1;\n}").length, 1);
 * ```
 */
export function quoteProblems(quote: Quote, read: (path: string) => string): string[] {
  if (!quote.path) {
    return [`${quote.where}: a ts block must start with "// PATH, NAME" (a quote of the source)`];
  }
  let source: string;
  try {
    source = read(quote.path);
  } catch {
    return [`${quote.where}: no file ${quote.path}`];
  }
  const body = bodyOf(source, quote.name).map(squash);
  if (body.length === 0) {
    return [`${quote.where}: no declaration of ${quote.name} in ${quote.path}`];
  }
  const problems: string[] = [];
  let from = 0; // excerpts must appear in order
  for (const excerpt of quote.excerpts) {
    const want = excerpt.map(([, text]) => squash(text));
    let found = -1;
    for (let s = from; s + want.length <= body.length && found < 0; s++) {
      if (want.every((w, k) => body[s + k] === w)) found = s;
    }
    if (found < 0) {
      // name the first line that does not match anywhere in the body, else the excerpt's first
      const [line] = excerpt.find(([, t]) => !body.includes(squash(t))) ?? excerpt[0];
      const page = quote.where.replace(/ line \d+$/, "");
      problems.push(`${page} line ${line}: not found in ${quote.name} of ${quote.path}`);
    } else from = found + want.length;
  }
  return problems;
}
