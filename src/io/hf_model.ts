/**
 * A Hugging Face checkpoint of any registered family, read into a model: `config.json` names the
 * family (`model_type`, `src/model/families.ts`), the family parses the config and lists the
 * tensors it reads, and they are read one at a time from the safetensors file (F32, F16, BF16
 * widened exactly to float32) with their shapes checked.
 *
 * @module
 */
import type { Block, HfTensorSpec, Model } from "../model/family.ts";
import { familyForHfConfig, familyOf } from "../model/families.ts";
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

/** A model read block by block ({@link openHfModelByBlocks}). */
export interface HfModelByBlocks {
  /**
   * The embeddings, final norm and head read; each block a placeholder holding only its linears'
   * shapes (`rows`, `cols`, empty `data`), enough for the run's sizes but not for a forward pass.
   */
  model: Model;
  /** Block `layer`'s tensors, read (by offsets) and widened to float32 now. */
  block(layer: number): Promise<Block>;
}

/**
 * Reads a model's global tensors now and its blocks on demand. A block's tensors are those that
 * the model with `layer + 1` blocks reads and the one with `layer` blocks does not; the family's
 * `assemble` builds it as the block of a one-block model whose tensors are renamed from block 0's
 * (every family lists a block's tensors in the same order for every block: checked).
 *
 * @param configJson The parsed `config.json` (or its text).
 * @param file The tensors (a `TensorStore` of `openHfFolder`, read one at a time).
 * @param options `keep`: where each tensor read is kept (default: as read), e.g. a copy in
 *   shared memory so that workers read the model without a copy per task; the array read is then
 *   garbage at once (never two copies of the model's globals).
 * @returns The model without its blocks and the reader of a block.
 * @throws As {@link readHfModel}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openHfModelByBlocks } from "./hf_model.ts";
 * await assert.rejects(() => openHfModelByBlocks({ model_type: "gpt2" }, {} as never), /not supported/);
 * ```
 */
export async function openHfModelByBlocks(
  configJson: unknown,
  file: HfTensorSource,
  options: { keep?: (values: Float32Array) => Float32Array } = {},
): Promise<HfModelByBlocks> {
  const keep = options.keep ?? ((values: Float32Array) => values);
  const json = typeof configJson === "string" ? JSON.parse(configJson) : configJson;
  const hf = familyForHfConfig(json).hf!;
  const config = hf.parseConfig(json as Record<string, unknown>);
  hf.tensors(config).forEach((s) => checkSpec(file, s));
  const specsOf = (nLayers: number) => hf.tensors({ ...config, nLayers });
  const blockSpecs = (layer: number) => {
    const before = new Set(specsOf(layer).map((s) => s.name));
    return specsOf(layer + 1).filter((s) => !before.has(s.name));
  };
  const globals = new Map<string, Float32Array>();
  for (const s of specsOf(0)) globals.set(s.name, keep(await file.float32(s.name)));
  const first = blockSpecs(0), one = { ...config, nLayers: 1 };
  const model = { ...hf.assemble({ ...config, nLayers: 0 }, (n) => globals.get(n)!), config };
  const family = familyOf(model);
  const shapes = new Map(hf.tensors(config).map((s) => [s.name, s.shape]));
  model.blocks = Array.from(
    { length: config.nLayers },
    (_, l) =>
      Object.fromEntries(
        family.linears(config).map(({ name }) => {
          const [rows, cols] = shapes.get(hf.linearTensor(config, l, name))!;
          return [name, { rows, cols, data: new Float32Array(0) }];
        }),
      ),
  );
  return {
    model,
    async block(layer) {
      const specs = blockSpecs(layer), read = new Map<string, Float32Array>();
      specs.forEach((s, i) => {
        if (s.shape.join(",") !== first[i]?.shape.join(",") || specs.length !== first.length) {
          throw new TypeError(
            `Cannot read block ${layer} alone: its tensors differ from block 0's`,
          );
        }
      });
      for (let i = 0; i < specs.length; i++) {
        read.set(first[i].name, keep(await file.float32(specs[i].name)));
      }
      return hf.assemble(one, (n) => read.get(n) ?? globals.get(n)!).blocks[0];
    },
  };
}
