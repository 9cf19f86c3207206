/**
 * Reads the worked examples out of the `docs/*.md` pages, so that `tests/docs_examples_test.ts`
 * recomputes them with the library and the page and the test cannot drift apart.
 *
 * A worked example is a fenced block whose info string is `example-NAME`. Each line is
 * `name = value`; `#` starts a comment; blank lines are ignored. A value is a number (`1.5`,
 * `-2`, `1e-8`, `inf`), a fraction (`9/8`), or a list of values in brackets, nested for matrices
 * (`[[1, 2], [3, 4]]`). Anything else (a word, for instance) is kept as a string.
 *
 * @module
 */

/** A parsed value: a number, a string, or a (nested) list of them. */
export type ExampleValue = number | string | ExampleValue[];

/** One worked example: its values by name, in the order of the page. */
export type Example = Map<string, ExampleValue>;

function parseScalar(text: string): number | string {
  const t = text.trim();
  if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  const fraction = /^([+-]?[\d.]+(?:e[+-]?\d+)?)\s*\/\s*([\d.]+(?:e[+-]?\d+)?)$/i.exec(t);
  if (fraction) return Number(fraction[1]) / Number(fraction[2]);
  const n = Number(t);
  return t !== "" && Number.isFinite(n) ? n : t;
}

/** Parses a value: a scalar or a bracketed, comma-separated (nested) list. */
function parseValue(text: string, where: string): ExampleValue {
  let pos = 0;
  const src = text.trim();
  const value = (): ExampleValue => {
    while (src[pos] === " ") pos++;
    if (src[pos] !== "[") {
      const start = pos;
      while (pos < src.length && src[pos] !== "," && src[pos] !== "]") pos++;
      return parseScalar(src.slice(start, pos));
    }
    pos++; // "["
    const items: ExampleValue[] = [];
    while (true) {
      while (src[pos] === " ") pos++;
      if (src[pos] === "]") break;
      items.push(value());
      while (src[pos] === " ") pos++;
      if (src[pos] === ",") pos++;
      else if (src[pos] !== "]") throw new SyntaxError(`${where}: expected , or ] in ${src}`);
    }
    pos++; // "]"
    return items;
  };
  const v = value();
  if (src.slice(pos).trim() !== "") throw new SyntaxError(`${where}: trailing text in ${src}`);
  return v;
}

/**
 * Every `example-NAME` block of a markdown page.
 *
 * @param markdown The page.
 * @param page The page's name, for error messages.
 * @returns The examples by name.
 * @throws {SyntaxError} If a line is not `name = value`, a list is malformed, or a name repeats.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseExamples } from "./doc_examples.ts";
 * const fence = "`".repeat(3);
 * const md = `text\n${fence}example-tiny\nW = [[1, -2]]  # a row\nS = 9/8\n${fence}\n`;
 * const ex = parseExamples(md, "tiny.md").get("tiny")!;
 * assert.deepEqual(ex.get("W"), [[1, -2]]);
 * assert.equal(ex.get("S"), 1.125);
 * ```
 */
export function parseExamples(markdown: string, page = "page"): Map<string, Example> {
  const out = new Map<string, Example>();
  const block = /^```example-([\w-]+)[ \t]*\n([\s\S]*?)^```/gm;
  for (const match of markdown.matchAll(block)) {
    const name = match[1], example: Example = new Map();
    if (out.has(name)) throw new SyntaxError(`${page}: example-${name} appears twice`);
    for (const [i, raw] of match[2].split("\n").entries()) {
      const line = raw.replace(/#.*$/, "").trim();
      if (line === "") continue;
      const eq = line.indexOf("=");
      const where = `${page} example-${name} line ${i + 1}`;
      if (eq <= 0) throw new SyntaxError(`${where}: expected "name = value", got ${raw}`);
      example.set(line.slice(0, eq).trim(), parseValue(line.slice(eq + 1), where));
    }
    out.set(name, example);
  }
  return out;
}

/**
 * A named value of an example as a flat list of numbers (matrices row-major).
 *
 * @param example The example.
 * @param name The value's name.
 * @returns The numbers.
 * @throws {TypeError} If the name is missing or a value is not a number.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { numbers } from "./doc_examples.ts";
 * assert.deepEqual(numbers(new Map([["W", [[1, 2], [3, 4]]]]), "W"), [1, 2, 3, 4]);
 * ```
 */
export function numbers(example: Example, name: string): number[] {
  const v = example.get(name);
  if (v === undefined) throw new TypeError(`example has no value named ${name}`);
  const flat = ([v] as unknown[]).flat(Infinity as 1) as unknown[];
  for (const x of flat) {
    if (typeof x !== "number") throw new TypeError(`${name} holds a non-number: ${x}`);
  }
  return flat as number[];
}

/**
 * A named value as one number.
 *
 * @param example The example.
 * @param name The value's name.
 * @returns The number.
 * @throws {TypeError} If the name is missing or the value is not a single number.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scalar } from "./doc_examples.ts";
 * assert.equal(scalar(new Map([["k", 2]]), "k"), 2);
 * ```
 */
export function scalar(example: Example, name: string): number {
  const v = example.get(name);
  if (typeof v !== "number") throw new TypeError(`${name} must be a number, got ${v}`);
  return v;
}

/**
 * A named `[[...], ...]` value as rows of numbers.
 *
 * @param example The example.
 * @param name The value's name.
 * @returns The rows.
 * @throws {TypeError} If the value is not a list of lists of numbers of equal length.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowsOf } from "./doc_examples.ts";
 * assert.deepEqual(rowsOf(new Map([["X", [[1, 2], [3, 4]]]]), "X"), [[1, 2], [3, 4]]);
 * ```
 */
export function rowsOf(example: Example, name: string): number[][] {
  const v = example.get(name);
  if (!Array.isArray(v) || !v.every((r) => Array.isArray(r))) {
    throw new TypeError(`${name} must be a matrix [[...], ...], got ${JSON.stringify(v)}`);
  }
  const rows = v.map((r) => numbers(new Map([[name, r]]), name));
  if (rows.some((r) => r.length !== rows[0].length)) throw new TypeError(`${name}: ragged rows`);
  return rows;
}
