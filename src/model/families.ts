/**
 * The registry of model families: one line per family file. Everything that works on a model of
 * any family (the forward pass, the pruning pipeline, the Hugging Face reader and writer) finds
 * the family here, by the name the model carries (`model.family`) or by `config.json`'s
 * `model_type`; nothing else switches on a family's name.
 *
 * @module
 */
import { unsupported } from "../io/hf_config.ts";
import type { Family, Model } from "./family.ts";
import { gptNeoXFamily } from "./gpt_neox.ts";
import { llamaFamily } from "./llama.ts";
import { optFamily } from "./opt.ts";
import { qwen2Family } from "./qwen2.ts";

/** Every family, by registry name. */
export const FAMILIES: Readonly<Record<string, Family>> = {
  llama: llamaFamily as unknown as Family,
  qwen2: qwen2Family as unknown as Family,
  gpt_neox: gptNeoXFamily as unknown as Family,
  opt: optFamily as unknown as Family,
};

/**
 * The family of a model (`model.family`, `"llama"` when absent, as for llama2.c checkpoints).
 *
 * @param model Any model.
 * @returns Its family.
 * @throws {RangeError} If the name is not registered.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { familyOf } from "./families.ts";
 * import { tinyLlama } from "./llama.ts";
 * assert.equal(familyOf(tinyLlama({ seed: 1 })).name, "llama");
 * ```
 */
export function familyOf(model: Model): Family {
  const name = model.family ?? "llama";
  const family = Object.hasOwn(FAMILIES, name) ? FAMILIES[name] : undefined;
  if (family === undefined) {
    throw new RangeError(
      `Cannot run the model: family "${name}" is not one of ${Object.keys(FAMILIES).join(", ")}`,
    );
  }
  return family;
}

/**
 * The family that reads a Hugging Face `config.json`, by its `model_type`.
 *
 * @param json The parsed `config.json`.
 * @returns The family (its `hf` is set).
 * @throws {TypeError} If `json` is not an object or has no string `model_type`.
 * @throws {RangeError} If no family reads that `model_type` (the message names it and lists ours).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { familyForHfConfig } from "./families.ts";
 * assert.equal(familyForHfConfig({ model_type: "qwen2" }).name, "qwen2");
 * assert.throws(() => familyForHfConfig({ model_type: "gpt2" }), /model_type "gpt2" is not supported/);
 * ```
 */
export function familyForHfConfig(json: unknown): Family {
  const type = (json as { model_type?: unknown } | null)?.model_type;
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new TypeError(`Cannot use config.json: expected a JSON object, got ${typeof json}`);
  }
  if (typeof type !== "string") {
    throw new TypeError(
      `Cannot use config.json: "model_type" must be a string, got ${JSON.stringify(type)}`,
    );
  }
  const all = Object.values(FAMILIES).filter((f) => f.hf !== undefined);
  const family = all.find((f) => f.hf!.modelTypes.includes(type));
  if (family === undefined) {
    throw unsupported("model_type", type, all.flatMap((f) => f.hf!.modelTypes).join(", "));
  }
  return family;
}
