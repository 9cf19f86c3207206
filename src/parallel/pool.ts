/**
 * A pool of Web Workers that runs exported functions of ES modules, plus helpers to share memory
 * with them. The same code runs in Deno, Bun and browsers: only `Worker`, `postMessage`,
 * `SharedArrayBuffer` and dynamic `import()` are used.
 *
 * How work is shipped:
 * - A task names a module URL and one of its exports: `pool.run(url, "fn", args)`. The worker
 *   imports the module once (cached) and calls `fn(...args)`; its return value comes back.
 * - `args` and the result are copied by structured clone, EXCEPT typed arrays over a
 *   `SharedArrayBuffer`, which are shared: workers read inputs and write outputs in place. So big
 *   arrays go in shared memory ({@link sharedFloat32}, {@link toShared}) and tasks return little.
 * - At most `size` tasks run at once (one per worker); the rest wait in a first-in, first-out queue.
 * - A task runs with the kernel set (`src/linalg/kernels.ts`) of the thread that posted it.
 * - An error thrown by a task rejects its promise with an error of the same class (`TypeError`,
 *   `RangeError`, ... ; other names become an `Error` with that `name`) and the same message.
 *
 * Writing a task (for row-parallel scoring, forward passes over calibration windows, one pruning
 * layer per worker, ...): export a plain function from a module, give its absolute URL
 * (`new URL("./my_tasks.ts", import.meta.url)` or `import.meta.url` of that module itself), take
 * shared inputs plus the part of the work to do (e.g. a row range from {@link splitRange}), write
 * big results into a shared output, return small ones. Module-level state persists between tasks
 * on the same worker (a cache may help) but is lost when idle workers stop: never rely on it for
 * correctness. `src/parallel/matmul_parallel.ts` is the worked example.
 *
 * Lifetime: workers are started on first use. When the pool has been idle for `idleTimeoutMs`
 * they are stopped (and restarted on the next task), so a pool that is never closed cannot keep a
 * process alive forever. Still, call {@link Pool.close} when done (or `using pool = createPool()`).
 *
 * Runtime notes: Deno needs `--allow-read` for workers that load local modules (workers inherit
 * the parent's permissions). Browsers need cross-origin isolation for `SharedArrayBuffer`; without
 * it {@link sharedMemoryAvailable} is false and the parallel kernels run in-process instead.
 *
 * @module
 */
import { NonFiniteInputError } from "../check/finite.ts";
import { NotPositiveDefiniteError } from "../linalg/cholesky.ts";
import { reuseShared } from "../tensor/release.ts";
import { checkMatrix, type Matrix } from "../tensor/matrix.ts";
import { kernels, type KernelSet } from "../linalg/kernels.ts";

/** Options for {@link createPool}. */
export interface PoolOptions {
  /** Number of workers (default: `navigator.hardwareConcurrency` when available, else 1). */
  size?: number;
  /** Stop idle workers after this many milliseconds without tasks (default 1000; `Infinity` = never). */
  idleTimeoutMs?: number;
}

/** Options for {@link Pool.map}. */
export interface MapOptions {
  /** Called with the number of finished tasks and the total, after each task that succeeds. */
  onProgress?: (done: number, total: number) => void;
}

/** A worker pool made by {@link createPool}. */
export interface Pool {
  /** Number of workers, i.e. the most tasks that run at once. */
  readonly size: number;
  /**
   * Runs `exportName(...args)` from the module at `moduleUrl` in a worker.
   * Rejects with the task's error (same class and message), or if the pool is closed.
   */
  run<T = unknown>(
    moduleUrl: string | URL,
    exportName: string,
    args?: readonly unknown[],
  ): Promise<T>;
  /**
   * Runs one task per entry of `argsList` (at most `size` at once); results in the same order.
   * If tasks fail, rejects once every task has settled, with the error of the first failing task
   * in `argsList` order, so the error reported does not depend on which worker finished first;
   * `onProgress(done, total)` is called after each task that succeeds.
   */
  map<T = unknown>(
    moduleUrl: string | URL,
    exportName: string,
    argsList: readonly (readonly unknown[])[],
    options?: MapOptions,
  ): Promise<T[]>;
  /** Stops all workers; queued and running tasks reject. Calling it again does nothing. */
  close(): void;
  /** Same as {@link Pool.close}, for `using pool = createPool()`. */
  [Symbol.dispose](): void;
}

interface Task {
  id: number;
  moduleUrl: string;
  exportName: string;
  args: readonly unknown[];
  /** The kernel set of the posting thread, which the worker uses for this task. */
  kernels: KernelSet;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker?: Worker;
  task?: Task;
}

/** An error as a worker sends it (`describeError` of `./worker.ts`). */
interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  fields?: Record<string, number | string>;
}

type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: ErrorData };

/**
 * The error classes a task's error keeps across the worker boundary, by name: the built-in ones
 * and the library's own (callers test them with `instanceof`, e.g. the CLI's hint for a
 * `NonFiniteInputError`).
 */
const ERROR_CLASSES: Record<string, { prototype: Error }> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  NonFiniteInputError,
  NotPositiveDefiniteError,
};

/**
 * Rebuilds an error sent by a worker: an object of its class (or `Error` for a class the pool does
 * not know) with its name, message, stack and fields. The constructor is not called (a library
 * error's constructor may take other arguments than the message).
 */
function reviveError(e: ErrorData): Error {
  const known = Object.hasOwn(ERROR_CLASSES, e.name) ? ERROR_CLASSES[e.name] : Error;
  const error = Object.create(known.prototype) as Error;
  Object.defineProperty(error, "message", { value: e.message, writable: true, configurable: true });
  if (error.name !== e.name) error.name = e.name;
  Object.defineProperty(error, "stack", {
    value: e.stack ?? `${e.name}: ${e.message}`,
    writable: true,
    configurable: true,
  });
  return Object.assign(error, e.fields ?? {});
}

/** Bun lets an idle worker not keep the process alive; Deno and browsers have no such method. */
function setKeepAlive(worker: Worker, keep: boolean): void {
  const w = worker as Worker & { ref?: () => void; unref?: () => void };
  if (keep) w.ref?.();
  else w.unref?.();
}

class WorkerPool implements Pool {
  readonly size: number;
  readonly #idleTimeoutMs: number;
  readonly #slots: Slot[];
  readonly #queue: Task[] = [];
  #nextId = 0;
  #closed = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(size: number, idleTimeoutMs: number) {
    this.size = size;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#slots = Array.from({ length: size }, () => ({}));
  }

  run<T = unknown>(
    moduleUrl: string | URL,
    exportName: string,
    args: readonly unknown[] = [],
  ): Promise<T> {
    if (this.#closed) {
      return Promise.reject(
        new Error(`Cannot run ${exportName} from ${moduleUrl}: the pool is closed`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const id = this.#nextId++;
      const url = String(moduleUrl);
      this.#queue.push({
        id,
        moduleUrl: url,
        exportName,
        args,
        kernels: kernels(),
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.#dispatch();
    });
  }

  map<T = unknown>(
    moduleUrl: string | URL,
    exportName: string,
    argsList: readonly (readonly unknown[])[],
    options: MapOptions = {},
  ): Promise<T[]> {
    let done = 0;
    const runOne = async (args: readonly unknown[]) => {
      const value = await this.run<T>(moduleUrl, exportName, args);
      options.onProgress?.(++done, argsList.length);
      return value;
    };
    return Promise.allSettled(argsList.map(runOne)).then((settled) =>
      settled.map((s) => {
        if (s.status === "rejected") throw s.reason;
        return s.value;
      })
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    const error = () => new Error("Cannot finish task: the pool was closed");
    for (const task of this.#queue.splice(0)) task.reject(error());
    for (const slot of this.#slots) {
      slot.task?.reject(error());
      slot.task = undefined;
      slot.worker?.terminate();
      slot.worker = undefined;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Hands queued tasks to free workers (starting workers as needed), or arms the idle timer. */
  #dispatch(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) break;
      if (slot.task === undefined) this.#start(slot, this.#queue.shift()!);
    }
    const busy = this.#slots.some((slot) => slot.task !== undefined);
    if (!busy && !this.#closed && Number.isFinite(this.#idleTimeoutMs)) {
      this.#idleTimer = setTimeout(() => this.#stopWorkers(), this.#idleTimeoutMs);
    }
  }

  #start(slot: Slot, task: Task): void {
    try {
      slot.worker ??= this.#spawn(slot);
      slot.task = task;
      setKeepAlive(slot.worker, true);
      const { id, moduleUrl, exportName, args, kernels } = task;
      slot.worker.postMessage({ id, moduleUrl, exportName, args, kernels });
    } catch (e) { // worker could not start (e.g. no permission) or args could not be cloned
      slot.task = undefined;
      task.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  #spawn(slot: Slot): Worker {
    const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (event: MessageEvent<Reply>) => this.#finish(slot, event.data);
    worker.onmessageerror = () => {
      this.#fail(slot, new TypeError("Cannot receive task result: it could not be deserialized"));
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault(); // keep the error from crashing the main thread (Deno)
      slot.worker?.terminate();
      slot.worker = undefined; // a new worker is started for the next task
      const error = new Error(`Worker failed: ${event.message}`);
      // Deno's missing permission (e.g. --allow-read not covering src/): the caller's setup, not a bug
      if (/Requires \S+ access/.test(event.message)) error.name = "NotCapable";
      this.#fail(slot, error);
    };
    return worker;
  }

  #finish(slot: Slot, reply: Reply): void {
    const task = slot.task;
    if (task === undefined || task.id !== reply.id) return;
    slot.task = undefined;
    if (slot.worker) setKeepAlive(slot.worker, false);
    if (reply.ok) task.resolve(reply.value);
    else task.reject(reviveError(reply.error));
    this.#dispatch();
  }

  #fail(slot: Slot, error: Error): void {
    const task = slot.task;
    slot.task = undefined;
    task?.reject(error);
    if (!this.#closed) this.#dispatch();
  }

  #stopWorkers(): void {
    this.#idleTimer = undefined;
    for (const slot of this.#slots) {
      if (slot.task !== undefined) continue;
      slot.worker?.terminate();
      slot.worker = undefined;
    }
  }
}

/**
 * Makes a pool of Web Workers. Workers start on first use and stop after `idleTimeoutMs` idle.
 *
 * @param options `size` (workers; default `navigator.hardwareConcurrency` or 1) and `idleTimeoutMs`.
 * @returns The pool; call `close()` when done.
 * @throws {TypeError} If `size` or `idleTimeoutMs` is not a number.
 * @throws {RangeError} If `size` is not an integer >= 1 or `idleTimeoutMs` is negative.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createPool } from "./pool.ts";
 * const pool = createPool({ size: 2 });
 * try {
 *   // any module works; here a function of the pool module itself
 *   const ranges = await pool.run(new URL("./pool.ts", import.meta.url), "splitRange", [10, 2]);
 *   assert.deepEqual(ranges, [[0, 5], [5, 10]]);
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export function createPool(options: PoolOptions = {}): Pool {
  const size = options.size ?? defaultPoolSize();
  const idleTimeoutMs = options.idleTimeoutMs ?? 1000;
  if (typeof size !== "number") {
    throw new TypeError(`Cannot create pool: size must be a number, got ${typeof size}`);
  }
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`Cannot create pool: size must be an integer >= 1, got ${size}`);
  }
  if (typeof idleTimeoutMs !== "number") {
    throw new TypeError(
      `Cannot create pool: idleTimeoutMs must be a number, got ${typeof idleTimeoutMs}`,
    );
  }
  if (!(idleTimeoutMs >= 0)) {
    throw new RangeError(`Cannot create pool: idleTimeoutMs must be >= 0, got ${idleTimeoutMs}`);
  }
  return new WorkerPool(size, idleTimeoutMs);
}

/**
 * The default pool size: the number of logical cores reported by the runtime, or 1.
 *
 * @returns `navigator.hardwareConcurrency` when it is a positive integer, else 1.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultPoolSize } from "./pool.ts";
 * assert.ok(Number.isInteger(defaultPoolSize()) && defaultPoolSize() >= 1);
 * ```
 */
export function defaultPoolSize(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency;
  return Number.isInteger(cores) && (cores as number) >= 1 ? cores as number : 1;
}

/**
 * Whether memory can be shared with workers here (`SharedArrayBuffer` exists; in browsers it
 * needs cross-origin isolation).
 *
 * @returns True when {@link sharedFloat32} can allocate.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sharedMemoryAvailable } from "./pool.ts";
 * assert.equal(sharedMemoryAvailable(), typeof SharedArrayBuffer === "function");
 * ```
 */
export function sharedMemoryAvailable(): boolean {
  return typeof SharedArrayBuffer === "function";
}

/**
 * Whether a typed array lives in a `SharedArrayBuffer` (so workers see it without a copy).
 *
 * @param array Any typed array.
 * @returns True when `array.buffer` is a `SharedArrayBuffer`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isShared, sharedFloat32 } from "./pool.ts";
 * assert.ok(isShared(sharedFloat32(4)) && !isShared(new Float32Array(4)));
 * ```
 */
export function isShared(array: ArrayBufferView): boolean {
  return sharedMemoryAvailable() && array.buffer instanceof SharedArrayBuffer;
}

/**
 * Allocates a zero-filled `Float32Array` of `n` values in a new `SharedArrayBuffer`.
 *
 * @param n Number of values.
 * @returns The shared array.
 * @throws {RangeError} If `n` is not a non-negative integer.
 * @throws {TypeError} If `SharedArrayBuffer` is not available (see {@link sharedMemoryAvailable}).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sharedFloat32 } from "./pool.ts";
 * const x = sharedFloat32(3);
 * assert.ok(x.buffer instanceof SharedArrayBuffer && x.length === 3 && x[2] === 0);
 * ```
 */
export function sharedFloat32(n: number): Float32Array {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(
      `Cannot allocate shared Float32Array: length must be a non-negative integer, got ${n}`,
    );
  }
  if (!sharedMemoryAvailable()) {
    throw new TypeError(
      "Cannot allocate shared Float32Array: SharedArrayBuffer is not available (browsers need cross-origin isolation)",
    );
  }
  const bytes = n * Float32Array.BYTES_PER_ELEMENT; // a released one of that size first
  return new Float32Array(reuseShared(bytes) ?? new SharedArrayBuffer(bytes));
}

/**
 * `values` in shared memory: copied once into a `SharedArrayBuffer`, or returned as is if shared.
 *
 * @param values The values (not modified).
 * @returns A shared array with the same values.
 * @throws {TypeError} If shared memory is not available.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isShared, sharedCopy } from "./pool.ts";
 * const v = sharedCopy(Float32Array.from([1, 2]));
 * assert.ok(isShared(v) && v[1] === 2);
 * assert.equal(sharedCopy(v), v); // already shared: no copy
 * ```
 */
export function sharedCopy(values: Float32Array): Float32Array {
  if (isShared(values)) return values;
  const data = sharedFloat32(values.length);
  data.set(values);
  return data;
}

/**
 * Returns `m` with its data in shared memory: copied once into a `SharedArrayBuffer`, or returned
 * as is if it already is shared. Do this once for data used by many tasks (e.g. weights).
 *
 * @param m The matrix (not modified).
 * @returns A matrix with the same shape and values whose `data` is shared.
 * @throws {TypeError} If `m` is not a Matrix or shared memory is not available.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { isShared, toShared } from "./pool.ts";
 * const w = fromRows([[1, 2], [3, 4]]);
 * const s = toShared(w);
 * assert.ok(isShared(s.data) && s.data !== w.data && s.data[3] === 4);
 * assert.equal(toShared(s).data, s.data); // already shared: no copy
 * ```
 */
export function toShared(m: Matrix): Matrix {
  checkMatrix(m);
  return { data: sharedCopy(m.data), rows: m.rows, cols: m.cols };
}

/**
 * Splits `[0, total)` into at most `parts` contiguous, non-empty, balanced ranges whose inner
 * boundaries are multiples of `align` (e.g. a kernel's row-tile height), in increasing order.
 * This is how row-parallel work is divided among the workers of a pool.
 *
 * @param total Length to split (>= 0).
 * @param parts Most ranges wanted (>= 1).
 * @param align Every boundary except `total` is a multiple of this (>= 1, default 1).
 * @returns `[start, end)` pairs covering `[0, total)` exactly; empty when `total` is 0.
 * @throws {RangeError} If an argument is not an integer in range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitRange } from "./pool.ts";
 * assert.deepEqual(splitRange(10, 3), [[0, 3], [3, 6], [6, 10]]);
 * assert.deepEqual(splitRange(40, 2, 16), [[0, 16], [16, 40]]);
 * assert.deepEqual(splitRange(5, 4, 8), [[0, 5]]);
 * ```
 */
export function splitRange(total: number, parts: number, align = 1): Array<[number, number]> {
  for (
    const [name, value, min] of [["total", total, 0], ["parts", parts, 1], [
      "align",
      align,
      1,
    ]] as const
  ) {
    if (!Number.isInteger(value) || value < min) {
      throw new RangeError(
        `Cannot split range: ${name} must be an integer >= ${min}, got ${value}`,
      );
    }
  }
  const blocks = Math.ceil(total / align);
  const count = Math.min(parts, blocks);
  const ranges: Array<[number, number]> = [];
  for (let p = 0; p < count; p++) {
    const start = Math.floor((p * blocks) / count) * align;
    const end = Math.min(total, Math.floor(((p + 1) * blocks) / count) * align);
    ranges.push([start, end]);
  }
  return ranges;
}
