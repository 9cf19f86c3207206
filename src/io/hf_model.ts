/**
 * A Hugging Face checkpoint of any registered family, read into a model: `config.json` names the
 * family (`model_type`, `src/model/families.ts`), the family parses the config and lists the
 * tensors it reads, and they are read one at a time from the safetensors file (F32, F16, BF16
 * widened exactly to float32) with their shapes checked.
 *
 * @module
 */
import type { HfTensorSpec, Model } from "../model/family.ts";
import { familyForHfConfig } from "../model/families.ts";
import type { SafetensorsIndex } from "./safetensors.ts";

/** A safetensors file in memory or a streaming reader (both from `safetensors.ts`). */
export interface HfTensorSource extends Pick<SafetensorsIndex, "has"> {
  info(name: string): { dtype: string; shape: number[] };
  float32(name: string): Float32Array | Promise<Float32Array>;
}

/** Checks a tensor's header entry against the shape the config implies. */
function checkSpec(file: HfTensorSource, spec: HfTensorSpec): void {
  if (!file.has(spec.name)) {
    throw new RangeError(`Cannot read HF checkpoint: tensor "${spec.name}" is missing`);
  }
  const { dtype, shape } = file.info(spec.name);
  if (!["F32", "F16", "BF16", "F64"].includes(dtype)) {
    throw new TypeError(
      `Cannot read HF checkpoint: tensor "${spec.name}" has dtype ${dtype}, not a float`,
    );
  }
  if (shape.join(",") !== spec.shape.join(",")) {
    throw new TypeError(
      `Cannot read HF checkpoint: tensor "${spec.name}" has shape [${
        shape.join(", ")
      }], config.json implies [${spec.shape.join(", ")}]`,
    );
  }
}

/**
 * Reads a model of any registered family from its `config.json` and tensors.
 *
 * @param configJson The parsed `config.json` (or its text).
 * @param file The tensors (`readSafetensors` or `openSafetensors`).
 * @returns The model, float32.
 * @throws {TypeError} If config.json is malformed or a tensor has the wrong shape or dtype.
 * @throws {RangeError} If the family is not supported, a config value is out of range or not
 *   implemented, or a tensor is missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readHfModel } from "./hf_model.ts";
 * await assert.rejects(() => readHfModel({ model_type: "gpt2" }, {} as never), /model_type "gpt2" is not supported/);
 * ```
 */
export async function readHfModel(configJson: unknown, file: HfTensorSource): Promise<Model> {
  const json = typeof configJson === "string" ? JSON.parse(configJson) : configJson;
  const hf = familyForHfConfig(json).hf!;
  const config = hf.parseConfig(json as Record<string, unknown>);
  const specs = hf.tensors(config);
  specs.forEach((s) => checkSpec(file, s));
  const tensors = new Map<string, Float32Array>();
  for (const s of specs) tensors.set(s.name, await file.float32(s.name));
  return hf.assemble(config, (name) => tensors.get(name)!);
}
