/**
 * Mutation fuzzing: damage a valid file the ways downloads and editors do (flip a bit, overwrite a
 * byte or an int32 with an extreme value, insert or delete bytes, truncate) and hand the result to
 * the parser.
 *
 * Positions are drawn as a fraction of the file, half of the time inside the first `focus` bytes
 * (where the headers are: a flipped bit deep inside the weights of a 1 MB file is still a valid
 * file, and tells us little).
 *
 * @module
 */
import fc from "fast-check";
import { Buffer } from "node:buffer";

/** One edit of a byte string. `at` is a fraction in [0, 1) of the length (or of the focus). */
export type Mutation =
  | { op: "flip"; at: number; focus: boolean; bit: number }
  | { op: "set"; at: number; focus: boolean; value: number }
  | { op: "int32"; at: number; focus: boolean; value: number }
  | { op: "insert"; at: number; focus: boolean; bytes: Uint8Array }
  | { op: "delete"; at: number; focus: boolean; count: number }
  | { op: "truncate"; at: number; focus: boolean };

/** int32 values that break header arithmetic: zero, signs, extremes, powers of two. */
export const EXTREME_INT32 = [
  0,
  1,
  -1,
  2,
  3,
  7,
  255,
  256,
  65535,
  65536,
  0x7fffffff,
  -0x80000000,
  0x40000000,
  0x616b3432, // "ak42"
] as const;

// A fraction in [0, 1). (fc.double is biased to the bounds: nearly every edit would hit byte 0.)
const fraction = fc.nat({ max: 999_999 }).map((n) => n / 1_000_000);
const position = { at: fraction, focus: fc.boolean() };

/** One kind of edit, drawn with the given weight: `op` at a position, plus its own fields. */
function edit(weight: number, op: Mutation["op"], fields: Record<string, fc.Arbitrary<unknown>>) {
  const arbitrary = fc.record({ op: fc.constant(op), ...position, ...fields });
  return { weight, arbitrary: arbitrary as fc.Arbitrary<Mutation> };
}

/** Generates one mutation (in-place edits twice as often as ones that change the length). */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  edit(2, "flip", { bit: fc.integer({ min: 0, max: 7 }) }),
  edit(2, "set", { value: fc.integer({ min: 0, max: 255 }) }),
  edit(2, "int32", {
    value: fc.oneof(
      fc.constantFrom(...EXTREME_INT32),
      fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    ),
  }),
  edit(1, "insert", { bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  edit(1, "delete", { count: fc.integer({ min: 1, max: 16 }) }),
  edit(1, "truncate", {}),
);

/** Applies mutations in order to a copy of `bytes` (never modifies `bytes`). */
export function applyMutations(
  bytes: Uint8Array,
  mutations: Mutation[],
  focusBytes: number,
): Uint8Array {
  let out = bytes.slice();
  for (const m of mutations) {
    const span = m.focus ? Math.min(focusBytes, out.length) : out.length;
    const i = Math.floor(m.at * span);
    switch (m.op) {
      case "flip":
        if (i < out.length) out[i] ^= 1 << m.bit;
        break;
      case "set":
        if (i < out.length) out[i] = m.value;
        break;
      case "int32": {
        const aligned = i - (i % 4);
        if (aligned + 4 <= out.length) {
          new DataView(out.buffer, out.byteOffset).setInt32(aligned, m.value, true);
        }
        break;
      }
      case "insert": {
        const grown = new Uint8Array(out.length + m.bytes.length);
        grown.set(out.subarray(0, i));
        grown.set(m.bytes, i);
        grown.set(out.subarray(i), i + m.bytes.length);
        out = grown;
        break;
      }
      case "delete": {
        const end = Math.min(out.length, i + m.count);
        const shrunk = new Uint8Array(out.length - (end - i));
        shrunk.set(out.subarray(0, i));
        shrunk.set(out.subarray(end), i);
        out = shrunk;
        break;
      }
      case "truncate":
        out = out.slice(0, i);
    }
  }
  return out;
}

/** How the bytes are handed over: a plain array, a Node `Buffer`, or a view at an odd offset. */
export type Container = "plain" | "buffer" | "offset";

/** The same bytes in another container (callers pass Buffers from `fs.readFile`, or views). */
export function wrapBytes(bytes: Uint8Array, container: Container): Uint8Array {
  if (container === "buffer") return Buffer.from(bytes); // small ones share Node's pool: byteOffset > 0
  if (container === "offset") {
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    return big.subarray(3);
  }
  return bytes;
}

/** A mutated file: which base file it came from, the edits, and the container. */
export interface MutatedInput {
  base: number;
  mutations: Mutation[];
  container: Container;
  bytes: Uint8Array;
}

/**
 * Generates mutated versions of the given valid files: 1 to 4 edits each.
 *
 * @param bases Valid files (not modified).
 * @param focusBytes How many leading bytes hold the headers.
 */
export function mutatedFileArb(
  bases: Uint8Array[],
  focusBytes: number,
): fc.Arbitrary<MutatedInput> {
  return fc.record({
    base: fc.integer({ min: 0, max: bases.length - 1 }),
    mutations: fc.oneof(
      { weight: 3, arbitrary: fc.tuple(mutationArb) },
      { weight: 1, arbitrary: fc.array(mutationArb, { minLength: 2, maxLength: 4 }) },
    ),
    container: fc.constantFrom<Container>("plain", "plain", "buffer", "offset"),
  }).map(({ base, mutations, container }) => ({
    base,
    mutations,
    container,
    bytes: wrapBytes(applyMutations(bases[base], mutations, focusBytes), container),
  }));
}

/** Shows a mutated input by its edits (the bytes may be a megabyte). */
export function showMutated(input: MutatedInput): string {
  const edits = input.mutations.map((m) => {
    const { op, at, focus, ...rest } = m;
    const extra = Object.entries(rest).map(([k, v]) =>
      `${k}=${v instanceof Uint8Array ? Array.from(v).join(",") : v}`
    );
    return `${op}@${at.toFixed(4)}${focus ? "(head)" : ""}${
      extra.length ? " " + extra.join(" ") : ""
    }`;
  });
  return `base ${input.base} (${input.container}), ${input.bytes.length} bytes after: ${
    edits.join("; ")
  }`;
}

/** Both values NaN, or equal (float round trips need not keep NaN payload bits). */
export function sameFloat(a: number, b: number): boolean {
  return a === b ? (a !== 0 || Object.is(a, b)) : (Number.isNaN(a) && Number.isNaN(b));
}

/** Index of the first element where two float arrays differ (see {@link sameFloat}), or -1. */
export function firstFloatDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!sameFloat(a[i], b[i])) return i;
  return -1;
}

/** Asserts two byte arrays hold the same bytes (whatever their class: Buffer or Uint8Array). */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what = "bytes"): void {
  const a = new Uint8Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint8Array(expected.buffer, expected.byteOffset, expected.length);
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
    throw new Error(`${what} differ (${a.length} vs ${b.length} bytes)`);
  }
}
