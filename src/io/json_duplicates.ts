/**
 * Finding duplicate keys in JSON text.
 *
 * `JSON.parse('{"a": 1, "a": 2}')` silently keeps the last value, so a file with two tensors of the
 * same name (or two `config.json` entries) would be read without complaint. This scanner walks
 * already-valid JSON text once, keeping one set of keys per open object, and reports the first
 * key that appears twice in the same object.
 *
 * @module
 */

/** A key that appears twice in one JSON object. */
export interface DuplicateKey {
  /** The repeated key (decoded). */
  key: string;
  /** The keys leading to the object that holds it, outermost first (`[]` for the top level). */
  path: string[];
}

/** Reads the string literal starting at `text[start] === '"'`; returns its end (after the quote). */
function stringLiteralEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i += 2; // backslash: skip the escaped character
    else if (c === 0x22) return i + 1;
    else i++;
  }
  return i;
}

/** Index of the first non-whitespace character at or after `i`. */
function skipWhitespace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
  return i;
}

/**
 * Finds the first key that appears twice in the same object of a JSON text.
 *
 * The text must already be valid JSON (check with `JSON.parse` first); the scan does not validate.
 *
 * @param text Valid JSON text.
 * @returns The first duplicate key with the path of the object holding it, or `undefined`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findDuplicateKey } from "./json_duplicates.ts";
 * assert.equal(findDuplicateKey('{"a": {"x": 1}, "b": 2}'), undefined);
 * assert.deepEqual(findDuplicateKey('{"a": {"x": 1, "x": 2}}'), { key: "x", path: ["a"] });
 * ```
 */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  // One entry per open object or array; arrays have no key set.
  const stack: { keys: Set<string> | null; name: string }[] = [];
  let lastKey = "";
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = stringLiteralEnd(text, i);
      const top = stack[stack.length - 1];
      const next = skipWhitespace(text, end);
      if (top?.keys && text.charCodeAt(next) === 0x3a) {
        const key = JSON.parse(text.slice(i, end)) as string;
        if (top.keys.has(key)) return { key, path: stack.slice(1).map((s) => s.name) };
        top.keys.add(key);
        lastKey = key;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      stack.push({ keys: c === 0x7b ? new Set() : null, name: lastKey });
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      i++;
    } else {
      i++;
    }
  }
  return undefined;
}
