/**
 * Which kernels the matrix products run: `"ts"` (the pure-TypeScript kernels of `matmul.ts`) or
 * `"simd"` (the WebAssembly SIMD kernels of `gemm_simd.ts`). The default is the fastest the
 * runtime has: `"simd"` where WebAssembly SIMD validates, else `"ts"`.
 *
 * What changes with `"simd"`:
 * - `gemmAccumulate` and everything built on it (`matmul`, `matmulTransB`, `gramAccumulate`, the
 *   blocked Cholesky, SparseGPT's Hessian and lazy updates, FISTAPruner's products) run the
 *   float64 SIMD kernel: bit-identical results, faster.
 * - `linearInto`, the forward pass's linear layers `Y = X W^T`, runs the float32 SIMD kernel:
 *   float32 sums instead of float64, so activations (and perplexities) may differ in the last
 *   digits; see `docs/performance.md` for the measured effect.
 *
 * The choice is per thread (each worker has its own module state); a pool sends the choice of the
 * thread that posts a task along with it, so workers follow the main thread.
 *
 * @module
 */
import { simdAvailable } from "./gemm_simd.ts";

/** The kernel sets. */
export const KERNEL_SETS = ["ts", "simd"] as const;
/** A kernel set: `"ts"` (pure TypeScript) or `"simd"` (WebAssembly SIMD). */
export type KernelSet = typeof KERNEL_SETS[number];

let active: KernelSet | undefined;

/**
 * The kernel sets this runtime can run, fastest first.
 *
 * @returns `["simd", "ts"]` or `["ts"]`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { availableKernels } from "./kernels.ts";
 * assert.ok(availableKernels().includes("ts"));
 * ```
 */
export function availableKernels(): KernelSet[] {
  return simdAvailable() ? ["simd", "ts"] : ["ts"];
}

/**
 * The kernel set in use on this thread (the fastest available unless {@link setKernels} chose).
 *
 * @returns `"ts"` or `"simd"`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { availableKernels, kernels } from "./kernels.ts";
 * assert.equal(kernels(), availableKernels()[0]);
 * ```
 */
export function kernels(): KernelSet {
  return active ??= availableKernels()[0];
}

/**
 * Chooses the kernel set of this thread (and of the worker tasks it posts from now on).
 *
 * @param name `"ts"`, `"simd"`, or `"auto"` for the fastest available.
 * @throws {RangeError} If `name` is unknown, or `"simd"` where WebAssembly SIMD is missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kernels, setKernels } from "./kernels.ts";
 * setKernels("ts");
 * assert.equal(kernels(), "ts");
 * setKernels("auto");
 * ```
 */
export function setKernels(name: KernelSet | "auto"): void {
  if (name === "auto") {
    active = availableKernels()[0];
    return;
  }
  if (!(KERNEL_SETS as readonly string[]).includes(name)) {
    throw new RangeError(`Unknown kernels "${name}": expected ts, simd or auto`);
  }
  if (name === "simd" && !simdAvailable()) {
    throw new RangeError("Cannot use the simd kernels: this runtime has no WebAssembly SIMD");
  }
  active = name;
}
