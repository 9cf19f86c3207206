/**
 * The script every worker of a {@link createPool} pool runs. It receives tasks
 * `{ id, moduleUrl, exportName, args, kernels }`, selects the kernel set, imports the module once (cached), calls the named export
 * with the structured-cloned `args`, and answers `{ id, ok: true, value }` or
 * `{ id, ok: false, error: { name, message, stack } }`.
 *
 * Only web APIs are used (`onmessage`, `postMessage`, dynamic `import()`, WebAssembly), so the same file runs
 * under Deno, Bun and in browsers. It has no exports: it is loaded with `new Worker(url)`.
 *
 * @module
 */

import { type KernelSet, setKernels } from "../linalg/kernels.ts";

/** A task as posted by the pool (see `pool.ts`). */
interface TaskMessage {
  id: number;
  moduleUrl: string;
  exportName: string;
  args: unknown[];
  kernels: KernelSet;
}

/** The part of the worker global scope used here (typed locally: `lib.dom` and `lib.deno.worker` disagree). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<TaskMessage>) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as WorkerScope;
const modules = new Map<string, Promise<Record<string, unknown>>>();

/** Imports `moduleUrl` once per worker; later tasks reuse the same module instance. */
function load(moduleUrl: string): Promise<Record<string, unknown>> {
  let module = modules.get(moduleUrl);
  if (module === undefined) {
    module = import(moduleUrl) as Promise<Record<string, unknown>>;
    modules.set(moduleUrl, module);
    module.catch(() => modules.delete(moduleUrl)); // a failed import may be retried
  }
  return module;
}

/**
 * An error as plain data (structured clone of Error objects differs between runtimes): its name,
 * message and stack, and its own fields that are numbers or strings (e.g. the pivot of a
 * `NotPositiveDefiniteError`), so that the pool can rebuild it with its class.
 */
function describeError(
  e: unknown,
): { name: string; message: string; stack?: string; fields?: Record<string, number | string> } {
  if (!(e instanceof Error)) {
    return { name: "Error", message: `worker task threw a non-Error value: ${String(e)}` };
  }
  const fields: Record<string, number | string> = {};
  for (const [key, value] of Object.entries(e)) {
    if (key !== "name" && (typeof value === "number" || typeof value === "string")) {
      fields[key] = value;
    }
  }
  return { name: e.name, message: e.message, stack: e.stack, fields };
}

async function runTask({ moduleUrl, exportName, args, kernels }: TaskMessage): Promise<unknown> {
  setKernels(kernels);
  const module = await load(moduleUrl);
  const fn = module[exportName];
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot run task: ${moduleUrl} has no exported function "${exportName}"`);
  }
  return await fn(...args);
}

/**
 * A task's arguments often hold big shared arrays (a block's hidden states and captured inputs);
 * this worker's handles keep them alive until its own garbage collector runs, and a worker that
 * allocates little rarely runs it, so tens of MB of finished blocks could stay alive. When the
 * runtime exposes a collector (`deno run --v8-flags=--expose-gc`, as `deno task prune` does) the
 * worker collects after a task, at most every {@link COLLECT_EVERY_MS} (a few ms each time).
 */
const COLLECT_EVERY_MS = 250;
let lastCollect = 0;
function collectGarbageNow(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== "function" || performance.now() - lastCollect < COLLECT_EVERY_MS) return;
  gc();
  lastCollect = performance.now();
}

scope.onmessage = async (event) => {
  const { id } = event.data;
  try {
    const value = await runTask(event.data);
    scope.postMessage({ id, ok: true, value }); // throws DataCloneError if value cannot be cloned
  } catch (e) {
    scope.postMessage({ id, ok: false, error: describeError(e) });
  }
  collectGarbageNow();
};
