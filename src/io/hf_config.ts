/**
 * Reading the fields of a Hugging Face `config.json`, shared by the family files: each field is
 * checked and a wrong one is a one-line error naming the key and the value seen (`TypeError` for a
 * wrong type or a missing key, `RangeError` for a value out of range or not implemented).
 *
 * @module
 */

/**
 * A positive integer field, or its default.
 *
 * @param json The parsed config.
 * @param key The key.
 * @param fallback The default when absent (none: required).
 * @returns The value.
 * @throws {TypeError} If missing without default, or not an integer.
 * @throws {RangeError} If not positive.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configInt } from "./hf_config.ts";
 * assert.equal(configInt({ n: 3 }, "n"), 3);
 * assert.throws(() => configInt({}, "n"), /"n" is missing/);
 * ```
 */
export function configInt(
  json: Record<string, unknown>,
  key: string,
  fallback?: number,
): number {
  const value = json[key] ?? fallback;
  if (value === undefined) throw new TypeError(`Cannot read config.json: "${key}" is missing`);
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(
      `Cannot read config.json: "${key}" must be an integer, got ${JSON.stringify(value)}`,
    );
  }
  if (value <= 0) {
    throw new RangeError(`Cannot read config.json: "${key}" must be positive, got ${value}`);
  }
  return value;
}

/**
 * A positive finite number field, or its default.
 *
 * @param json The parsed config.
 * @param key The key.
 * @param fallback The default when absent.
 * @returns The value.
 * @throws {TypeError} If not a number.
 * @throws {RangeError} If not positive and finite.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configPositiveNumber } from "./hf_config.ts";
 * assert.equal(configPositiveNumber({}, "eps", 1e-5), 1e-5);
 * assert.throws(() => configPositiveNumber({ eps: -1 }, "eps", 1), /"eps" must be positive and finite, got -1/);
 * ```
 */
export function configPositiveNumber(
  json: Record<string, unknown>,
  key: string,
  fallback: number,
): number {
  const value = json[key] ?? fallback;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot read config.json: "${key}" must be a number, got ${JSON.stringify(value)}`,
    );
  }
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `Cannot read config.json: "${key}" must be positive and finite, got ${value}`,
    );
  }
  return value;
}

/**
 * A boolean field, or its default.
 *
 * @param json The parsed config.
 * @param key The key.
 * @param fallback The default when absent or null.
 * @returns The value.
 * @throws {TypeError} If not a boolean.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configBool } from "./hf_config.ts";
 * assert.equal(configBool({ tie: true }, "tie", false), true);
 * assert.throws(() => configBool({ tie: 1 }, "tie", false), /"tie" must be a boolean, got 1/);
 * ```
 */
export function configBool(json: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = json[key] ?? fallback;
  if (typeof value !== "boolean") {
    throw new TypeError(
      `Cannot read config.json: "${key}" must be a boolean, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Checks `model_type` and, when present, `architectures`.
 *
 * @param json The parsed config.
 * @param modelType The expected `model_type`.
 * @param architecture The class `architectures` must list.
 * @throws {TypeError} If `model_type` is missing.
 * @throws {RangeError} If either differs.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkArchitecture } from "./hf_config.ts";
 * assert.throws(() => checkArchitecture({ model_type: "opt", architectures: ["X"] }, "opt", "OPTForCausalLM"), /lacks "OPTForCausalLM"/);
 * ```
 */
export function checkArchitecture(
  json: Record<string, unknown>,
  modelType: string,
  architecture: string,
): void {
  if (json.model_type === undefined) {
    throw new TypeError(`Cannot read config.json: "model_type" is missing`);
  }
  if (json.model_type !== modelType) {
    throw new RangeError(
      `Cannot read config.json: model_type ${
        JSON.stringify(json.model_type)
      } is not "${modelType}"`,
    );
  }
  const arch = json.architectures;
  if (
    arch !== undefined && arch !== null && (!Array.isArray(arch) || !arch.includes(architecture))
  ) {
    throw new RangeError(
      `Cannot read config.json: architectures ${JSON.stringify(arch)} lacks "${architecture}"`,
    );
  }
}

/**
 * The RoPE base from either form transformers writes (`rope_parameters.rope_theta`, or a
 * top-level `rope_theta`), refusing a scaling type other than the default.
 *
 * @param json The parsed config.
 * @param fallback The family's default base (or its older key's value).
 * @returns The base.
 * @throws {RangeError} If a RoPE scaling is set.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configRopeTheta } from "./hf_config.ts";
 * assert.equal(configRopeTheta({ rope_parameters: { rope_type: "default", rope_theta: 500 } }, 10000), 500);
 * assert.throws(() => configRopeTheta({ rope_scaling: { type: "linear" } }, 1), /rope_scaling type "linear" is not supported/);
 * ```
 */
export function configRopeTheta(json: Record<string, unknown>, fallback: number): number {
  for (const key of ["rope_parameters", "rope_scaling"]) {
    const block = json[key];
    if (block === undefined || block === null) continue;
    if (typeof block !== "object" || Array.isArray(block)) {
      throw new TypeError(
        `Cannot read config.json: "${key}" must be an object, got ${JSON.stringify(block)}`,
      );
    }
    const b = block as Record<string, unknown>;
    const type = b.rope_type ?? b.type ?? "default";
    if (type !== "default") {
      throw new RangeError(
        `Cannot read config.json: ${key} type ${JSON.stringify(type)} is not supported`,
      );
    }
    if (b.rope_theta !== undefined) return configPositiveNumber(b, "rope_theta", fallback);
  }
  return configPositiveNumber(json, "rope_theta", fallback);
}
