/**
 * The registry of pruning methods: one line per method. Each method's descriptor
 * (`./method.ts`) lives in the method's own file and says everything the pipeline, the workers and
 * the CLIs need to know about it; this list is the only place that names them all.
 *
 * | method       | score or algorithm (file)                                         | competes (default) |
 * | ------------ | ----------------------------------------------------------------- | ------------------ |
 * | `magnitude`  | `|W_ij|` (`src/score/magnitude.ts`)                               | per row            |
 * | `wanda`      | `|W_ij| ||X_:,j||` (`src/score/wanda.ts`)                          | per row            |
 * | `swiftprune` | `W_ij^2 / (1 - x_j^2/(S+eps))` (`src/score/swiftprune.ts`)         | per row            |
 * | `sparsegpt`  | `w^2 / [U]_jj^2` per block, OBS update (`src/prune/sparsegpt.ts`)  | per column block   |
 * | `fista`      | LASSO by FISTA, rounded by `|w|` (`src/prune/fistapruner.ts`)      | per operator       |
 * | `ria`        | `(|W_ij|/sum_k|W_ik| + |W_ij|/sum_k|W_kj|) ||X_:,j||^a` (`src/score/ria.ts`) | per row |
 *
 * @module
 */
import type { MethodDescriptor } from "./method.ts";
import { magnitudeMethod } from "../score/magnitude.ts";
import { wandaMethod } from "../score/wanda.ts";
import { swiftpruneMethod } from "../score/swiftprune.ts";
import { sparsegptMethod } from "./sparsegpt.ts";
import { fistaMethod } from "./fistapruner.ts";
import { riaMethod } from "../score/ria.ts";

/**
 * Every registered method, in the order the CLIs list and `--compare` runs them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { METHODS } from "./methods.ts";
 * const names = METHODS.map((m) => m.name);
 * assert.deepEqual(names.slice(0, 5), ["magnitude", "wanda", "swiftprune", "sparsegpt", "fista"]);
 * ```
 */
export const METHODS: readonly MethodDescriptor[] = [
  magnitudeMethod,
  wandaMethod,
  swiftpruneMethod,
  sparsegptMethod,
  fistaMethod,
  riaMethod,
] as MethodDescriptor[];

/**
 * The names of the registered methods.
 *
 * @returns The names of {@link METHODS}, in registration order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodNames } from "./methods.ts";
 * assert.ok(methodNames().includes("swiftprune"));
 * ```
 */
export function methodNames(): string[] {
  return METHODS.map((m) => m.name);
}

/**
 * The registered method of a name.
 *
 * @param name A method name, e.g. `"wanda"`.
 * @returns Its descriptor, or `undefined` if no method has that name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../tensor/matrix.ts";
 * import { methodByName } from "./methods.ts";
 * const r = methodByName("magnitude")!.prune(fromRows([[1, -4, 2, 3]]), {}, { kind: "nm", n: 2, m: 4 });
 * assert.deepEqual(Array.from(r.weight.data), [0, -4, 0, 3]);
 * assert.equal(methodByName("nope"), undefined);
 * ```
 */
export function methodByName(name: string): MethodDescriptor | undefined {
  return METHODS.find((m) => m.name === name);
}

/**
 * Whether `method` is the registered descriptor of its name (then a worker can find it by name).
 *
 * @param method A descriptor.
 * @returns True for a registered method.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRegistered, METHODS } from "./methods.ts";
 * assert.ok(isRegistered(METHODS[0]));
 * assert.equal(isRegistered({ ...METHODS[0] }), false);
 * ```
 */
export function isRegistered(method: MethodDescriptor): boolean {
  return methodByName(method.name) === method;
}
