/**
 * The one matrix type of secateur: a row-major `Float32Array` with its shape.
 *
 * Conventions (see `docs/conventions.md`): a linear layer computes `y = W x` with `W` of shape
 * `[rows, cols] = [out, in]`, the layout of `torch.nn.Linear.weight`. Calibration inputs `X` are
 * `[tokens, cols]`. A mask is a `Uint8Array(rows * cols)` named `keep` with 1 = keep, 0 = pruned.
 *
 * @module
 */

/** A dense row-major float32 matrix. Element `(i, j)` is `data[i * cols + j]`. */
export interface Matrix {
  /** Row-major values, length `rows * cols`. */
  data: Float32Array;
  /** Number of rows (for a weight: output features). */
  rows: number;
  /** Number of columns (for a weight: input features). */
  cols: number;
}

/**
 * Throws a `TypeError` unless `m` is a well-formed {@link Matrix}.
 *
 * @param m The value to check.
 * @param name What the value is, used in the error message (e.g. `"weight"`).
 * @throws {TypeError} If `m` is not an object with a `Float32Array` `data`, integer `rows` and
 *   `cols` >= 0, and `data.length === rows * cols`.
 * @example
 * ```ts
 * import { checkMatrix } from "./matrix.ts";
 * checkMatrix({ data: new Float32Array(6), rows: 2, cols: 3 }, "weight"); // ok
 * ```
 */
export function checkMatrix(m: unknown, name = "matrix"): asserts m is Matrix {
  if (typeof m !== "object" || m === null) {
    throw new TypeError(`Cannot use ${name}: expected a Matrix {data, rows, cols}, got ${m}`);
  }
  const { data, rows, cols } = m as Partial<Matrix>;
  if (!(data instanceof Float32Array)) {
    const seen = data === undefined ? "undefined" : (data as object).constructor?.name;
    throw new TypeError(`Cannot use ${name}: data must be a Float32Array, got ${seen}`);
  }
  if (!Number.isInteger(rows) || (rows as number) < 0) {
    throw new TypeError(`Cannot use ${name}: rows must be a non-negative integer, got ${rows}`);
  }
  if (!Number.isInteger(cols) || (cols as number) < 0) {
    throw new TypeError(`Cannot use ${name}: cols must be a non-negative integer, got ${cols}`);
  }
  if (data.length !== (rows as number) * (cols as number)) {
    throw new TypeError(
      `Cannot use ${name} [${rows}, ${cols}]: data has ${data.length} values, expected ${
        (rows as number) * (cols as number)
      }`,
    );
  }
}

/**
 * Makes a matrix, zero-filled or wrapping `data` (not copied).
 *
 * @param rows Number of rows.
 * @param cols Number of columns.
 * @param data Optional values, length `rows * cols`; wrapped, not copied.
 * @returns The matrix.
 * @throws {TypeError} If the shape is not made of non-negative integers or `data` has the wrong length.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrix } from "./matrix.ts";
 * const w = matrix(2, 2, new Float32Array([1, 2, 3, 4]));
 * assert.ok(w.data[1 * 2 + 0] === 3);
 * ```
 */
export function matrix(rows: number, cols: number, data?: Float32Array): Matrix {
  const m = { data: data ?? new Float32Array(Math.max(0, rows * cols) || 0), rows, cols };
  checkMatrix(m);
  return m;
}

/**
 * Copies a matrix (the data is duplicated).
 *
 * @param m The matrix to copy.
 * @returns A new matrix with the same shape and values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cloneMatrix, matrix } from "./matrix.ts";
 * const a = matrix(1, 2, new Float32Array([1, 2]));
 * const b = cloneMatrix(a);
 * b.data[0] = 9;
 * assert.ok(a.data[0] === 1);
 * ```
 */
export function cloneMatrix(m: Matrix): Matrix {
  return { data: m.data.slice(), rows: m.rows, cols: m.cols };
}

/**
 * Builds a matrix from nested arrays (handy in tests and docs).
 *
 * @param rowsOfValues One array per row; all rows must have the same length.
 * @returns The matrix.
 * @throws {TypeError} If the rows are ragged.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "./matrix.ts";
 * const w = fromRows([[1, -2], [3, 4]]);
 * assert.ok(w.rows === 2 && w.cols === 2 && w.data[1] === -2);
 * ```
 */
export function fromRows(rowsOfValues: readonly (readonly number[])[]): Matrix {
  const rows = rowsOfValues.length;
  const cols = rows === 0 ? 0 : rowsOfValues[0].length;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    if (rowsOfValues[i].length !== cols) {
      throw new TypeError(
        `Cannot build matrix: row ${i} has ${rowsOfValues[i].length} values, expected ${cols}`,
      );
    }
    data.set(rowsOfValues[i], i * cols);
  }
  return { data, rows, cols };
}

/**
 * Returns row `i` as a subarray view (no copy).
 *
 * @param m The matrix.
 * @param i Row index, `0 <= i < rows`.
 * @returns A `Float32Array` view of length `cols` sharing memory with `m.data`.
 * @throws {RangeError} If `i` is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, rowView } from "./matrix.ts";
 * assert.ok(rowView(fromRows([[1, 2], [3, 4]]), 1)[0] === 3);
 * ```
 */
export function rowView(m: Matrix, i: number): Float32Array {
  if (!Number.isInteger(i) || i < 0 || i >= m.rows) {
    throw new RangeError(`Cannot take row ${i} of matrix [${m.rows}, ${m.cols}]`);
  }
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/**
 * Returns the transpose as a new matrix.
 *
 * @param m The matrix `[rows, cols]`.
 * @returns Its transpose `[cols, rows]`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, transpose } from "./matrix.ts";
 * assert.ok(transpose(fromRows([[1, 2, 3]])).rows === 3);
 * ```
 */
export function transpose(m: Matrix): Matrix {
  const out = new Float32Array(m.rows * m.cols);
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) out[j * m.rows + i] = m.data[i * m.cols + j];
  }
  return { data: out, rows: m.cols, cols: m.rows };
}

/**
 * Throws a `TypeError` unless `keep` is a `Uint8Array` mask of `rows * cols` entries, each 0 or 1.
 *
 * @param keep The mask (1 = keep, 0 = pruned).
 * @param rows Rows of the matrix it masks.
 * @param cols Columns of the matrix it masks.
 * @param name What the mask is, for the message.
 * @throws {TypeError} If the type or length is wrong or an entry is not 0 or 1.
 * @example
 * ```ts
 * import { checkMask } from "./matrix.ts";
 * checkMask(new Uint8Array([1, 0, 1, 1]), 2, 2);
 * ```
 */
export function checkMask(keep: unknown, rows: number, cols: number, name = "keep"): asserts keep is Uint8Array {
  if (!(keep instanceof Uint8Array)) {
    throw new TypeError(`Cannot use mask ${name}: expected a Uint8Array, got ${typeof keep}`);
  }
  if (keep.length !== rows * cols) {
    throw new TypeError(
      `Cannot use mask ${name}: has ${keep.length} entries, expected ${rows * cols} for [${rows}, ${cols}]`,
    );
  }
  for (let i = 0; i < keep.length; i++) {
    if (keep[i] > 1) {
      throw new TypeError(`Cannot use mask ${name}: entry ${i} is ${keep[i]}, expected 0 or 1`);
    }
  }
}
