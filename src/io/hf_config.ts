/**
 * Reading a Hugging Face `config.json`: the generic part every model family needs. What a key
 * means for one family (its defaults, which activation, which norm) is that family's business
 * (`src/model/`); this module gives them typed getters with one-line errors, the head size, the
 * storage dtype, the refusal of sliding-window attention and, above all, RoPE normalised from the
 * two forms transformers writes:
 *
 * | form | keys |
 * | --- | --- |
 * | older (most checkpoints on the Hub) | `rope_theta`, `rope_scaling: {rope_type or type, factor, ...}`; GPT-NeoX: `rotary_emb_base`, `rotary_pct`; some: top-level `partial_rotary_factor` |
 * | transformers 5 | `rope_parameters: {rope_type, rope_theta, partial_rotary_factor?, factor?, ...}` |
 *
 * Both become one {@link RopeSettings}. The inverse frequencies are computed as transformers'
 * `modeling_rope_utils.py` computes them (in float32 like torch): `default`, `linear` (every
 * frequency divided by `factor`) and `llama3` (long wavelengths divided by `factor`, short ones
 * kept, a smooth blend between). Other RoPE types (`dynamic`, `yarn`, `longrope`, ...) change the
 * model and are refused with an error naming the key and the value, never read as `default`.
 *
 * Errors: `TypeError` when a key has the wrong type or is missing, `RangeError` when its value is
 * out of range or not supported; messages start `Cannot use config.json:` and name the key and the
 * value seen.
 *
 * @module
 */
import { findDuplicateKey } from "./json_duplicates.ts";

/** A parsed JSON object. */
export type Json = Record<string, unknown>;

const PREFIX = "Cannot use config.json:";

/** A JSON value for an error message. */
function show(value: unknown): string {
  return value === undefined ? "undefined" : JSON.stringify(value);
}

/**
 * Parses `config.json` (or any small JSON file of a model folder) into an object, refusing invalid
 * UTF-8 or JSON, a value that is not an object, and a duplicate key (which `JSON.parse` would
 * silently resolve to the last one).
 *
 * @param input The file's bytes or text.
 * @param file The file's name, for error messages (default `config.json`).
 * @returns The object.
 * @throws {TypeError} If the input is not a JSON object or repeats a key.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigJson } from "./hf_config.ts";
 * assert.deepEqual(parseConfigJson('{"model_type": "llama"}'), { model_type: "llama" });
 * assert.throws(() => parseConfigJson('{"a": 1, "a": 2}'), /duplicate key "a"/);
 * ```
 */
export function parseConfigJson(input: Uint8Array | string, file = "config.json"): Json {
  let text: string;
  if (typeof input === "string") text = input;
  else if (input instanceof Uint8Array) {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(input);
    } catch {
      throw new TypeError(`Cannot read ${file}: not valid UTF-8`);
    }
  } else throw new TypeError(`Cannot read ${file}: expected bytes or text, got ${typeof input}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new TypeError(`Cannot read ${file}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`Cannot read ${file}: expected a JSON object, got ${show(value)}`);
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    const key = [...duplicate.path, duplicate.key].join(".");
    throw new TypeError(`Cannot read ${file}: duplicate key "${key}"`);
  }
  return value as Json;
}

/** The value at `key` (a dotted path like `rope_scaling.factor` reads inside objects). */
function lookup(c: Json, key: string): unknown {
  let value: unknown = c;
  for (const part of key.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Json)[part];
  }
  return value;
}

/** The value or the fallback (`null` counts as absent, as transformers treats it). */
function valueOr(c: Json, key: string, fallback: unknown): unknown {
  const value = lookup(c, key);
  if (value === undefined || value === null) {
    if (fallback === undefined) throw new TypeError(`${PREFIX} "${key}" is missing`);
    return fallback;
  }
  return value;
}

/**
 * A positive integer (a size, a count).
 *
 * @param c The config.
 * @param key The key (dotted for nested objects, e.g. `rope_scaling.original_max_position_embeddings`).
 * @param fallback Used when the key is absent or null; without it the key is required.
 * @returns The value.
 * @throws {TypeError} If the key is missing (no fallback) or not an integer.
 * @throws {RangeError} If it is not positive.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configInt } from "./hf_config.ts";
 * assert.equal(configInt({ hidden_size: 256 }, "hidden_size"), 256);
 * assert.equal(configInt({}, "num_key_value_heads", 8), 8);
 * assert.throws(() => configInt({ hidden_size: 2.5 }, "hidden_size"), /"hidden_size" must be an integer, got 2.5/);
 * ```
 */
export function configInt(c: Json, key: string, fallback?: number): number {
  const value = valueOr(c, key, fallback);
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(`${PREFIX} "${key}" must be an integer, got ${show(value)}`);
  }
  if (value <= 0) throw new RangeError(`${PREFIX} "${key}" must be positive, got ${value}`);
  return value;
}

/**
 * A finite number.
 *
 * @param c The config.
 * @param key The key (dotted for nested objects).
 * @param fallback Used when absent or null; without it the key is required.
 * @returns The value.
 * @throws {TypeError} If missing (no fallback) or not a number.
 * @throws {RangeError} If not finite.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configNumber } from "./hf_config.ts";
 * assert.equal(configNumber({ rms_norm_eps: 1e-5 }, "rms_norm_eps"), 1e-5);
 * assert.throws(() => configNumber({ rms_norm_eps: "x" }, "rms_norm_eps"), TypeError);
 * ```
 */
export function configNumber(c: Json, key: string, fallback?: number): number {
  const value = valueOr(c, key, fallback);
  if (typeof value !== "number") {
    throw new TypeError(`${PREFIX} "${key}" must be a number, got ${show(value)}`);
  }
  if (!Number.isFinite(value)) {
    throw new RangeError(`${PREFIX} "${key}" must be finite, got ${value}`);
  }
  return value;
}

/**
 * A positive finite number (an epsilon, a RoPE base, a factor).
 *
 * @param c The config.
 * @param key The key (dotted for nested objects).
 * @param fallback Used when absent or null.
 * @returns The value.
 * @throws {TypeError} If missing (no fallback) or not a number.
 * @throws {RangeError} If not positive and finite.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configPositive } from "./hf_config.ts";
 * assert.throws(() => configPositive({ rope_theta: 0 }, "rope_theta"), /"rope_theta" must be positive, got 0/);
 * ```
 */
export function configPositive(c: Json, key: string, fallback?: number): number {
  const value = configNumber(c, key, fallback);
  if (!(value > 0)) throw new RangeError(`${PREFIX} "${key}" must be positive, got ${value}`);
  return value;
}

/**
 * A boolean.
 *
 * @param c The config.
 * @param key The key.
 * @param fallback Used when absent or null.
 * @returns The value.
 * @throws {TypeError} If missing (no fallback) or not a boolean.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configBool } from "./hf_config.ts";
 * assert.equal(configBool({}, "tie_word_embeddings", true), true);
 * assert.throws(() => configBool({ tie_word_embeddings: 1 }, "tie_word_embeddings"), TypeError);
 * ```
 */
export function configBool(c: Json, key: string, fallback?: boolean): boolean {
  const value = valueOr(c, key, fallback);
  if (typeof value !== "boolean") {
    throw new TypeError(`${PREFIX} "${key}" must be a boolean, got ${show(value)}`);
  }
  return value;
}

/**
 * A string.
 *
 * @param c The config.
 * @param key The key.
 * @param fallback Used when absent or null.
 * @returns The value.
 * @throws {TypeError} If missing (no fallback) or not a string.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configString } from "./hf_config.ts";
 * assert.equal(configString({ hidden_act: "silu" }, "hidden_act"), "silu");
 * assert.equal(configString({}, "hidden_act", "gelu"), "gelu");
 * ```
 */
export function configString(c: Json, key: string, fallback?: string): string {
  const value = valueOr(c, key, fallback);
  if (typeof value !== "string") {
    throw new TypeError(`${PREFIX} "${key}" must be a string, got ${show(value)}`);
  }
  return value;
}

/**
 * The error for a key whose value we do not implement (return it and `throw` it): one line naming
 * the key, the value and what is supported.
 *
 * @param key The key (dotted for nested objects).
 * @param value The value seen.
 * @param supported What would be accepted, e.g. `"silu"` or `default, linear, llama3`.
 * @returns A `RangeError`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unsupported } from "./hf_config.ts";
 * assert.equal(unsupported("hidden_act", "gelu_new", '"silu"').message,
 *   'Cannot use config.json: hidden_act "gelu_new" is not supported (supported: "silu")');
 * ```
 */
export function unsupported(key: string, value: unknown, supported?: string): RangeError {
  const tail = supported === undefined ? "" : ` (supported: ${supported})`;
  return new RangeError(`${PREFIX} ${key} ${show(value)} is not supported${tail}`);
}

/**
 * The size of one attention head: `head_dim` when the config gives it (some models' heads do not
 * divide `hidden_size`), else `hidden_size / num_attention_heads`, which must then be an integer.
 *
 * @param c The config.
 * @returns The head size.
 * @throws {TypeError} If a key is missing or not an integer.
 * @throws {RangeError} If the heads do not divide `hidden_size` (and there is no `head_dim`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configHeadDim } from "./hf_config.ts";
 * assert.equal(configHeadDim({ hidden_size: 256, num_attention_heads: 8 }), 32);
 * assert.equal(configHeadDim({ hidden_size: 256, num_attention_heads: 8, head_dim: 64 }), 64);
 * assert.throws(() => configHeadDim({ hidden_size: 250, num_attention_heads: 8 }), RangeError);
 * ```
 */
export function configHeadDim(c: Json): number {
  const heads = configInt(c, "num_attention_heads");
  if (lookup(c, "head_dim") !== undefined && lookup(c, "head_dim") !== null) {
    return configInt(c, "head_dim");
  }
  const hidden = configInt(c, "hidden_size");
  if (hidden % heads !== 0) {
    throw new RangeError(
      `${PREFIX} hidden_size ${hidden} is not a multiple of num_attention_heads ${heads} (and there is no head_dim)`,
    );
  }
  return hidden / heads;
}

/** The storage dtypes transformers names in `dtype` / `torch_dtype`, as safetensors names them. */
const DTYPES: Record<string, "F32" | "F16" | "BF16"> = {
  float32: "F32",
  float16: "F16",
  bfloat16: "BF16",
};

/**
 * The dtype the checkpoint says it is stored in (`dtype`, or `torch_dtype` in older files), in
 * safetensors' spelling; undefined when the config does not say.
 *
 * @param c The config.
 * @returns `"F32"`, `"F16"`, `"BF16"` or undefined.
 * @throws {RangeError} If the config names another dtype.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configDtype } from "./hf_config.ts";
 * assert.equal(configDtype({ torch_dtype: "bfloat16" }), "BF16");
 * assert.equal(configDtype({}), undefined);
 * ```
 */
export function configDtype(c: Json): "F32" | "F16" | "BF16" | undefined {
  for (const key of ["dtype", "torch_dtype"]) {
    const value = lookup(c, key);
    if (value === undefined || value === null) continue;
    const name = typeof value === "string" ? value.replace(/^torch\./, "") : value;
    if (typeof name !== "string" || !Object.hasOwn(DTYPES, name)) {
      throw unsupported(key, value, "float32, float16, bfloat16");
    }
    return DTYPES[name];
  }
  return undefined;
}

/**
 * Refuses sliding-window attention, which attends to a window of recent tokens only and so is a
 * different model from the full causal attention we compute: `use_sliding_window: true`, or a
 * `layer_types` entry other than `"full_attention"`. (`sliding_window` alone is a size that
 * Qwen2 configs carry even when the window is off, so it is not refused by itself.)
 *
 * @param c The config.
 * @throws {RangeError} Naming the key and its value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkNoSlidingWindow } from "./hf_config.ts";
 * checkNoSlidingWindow({ use_sliding_window: false, sliding_window: 4096 });
 * assert.throws(() => checkNoSlidingWindow({ use_sliding_window: true, sliding_window: 4096 }),
 *   /use_sliding_window true is not supported/);
 * ```
 */
export function checkNoSlidingWindow(c: Json): void {
  const use = lookup(c, "use_sliding_window");
  if (use !== undefined && use !== null && use !== false) {
    throw unsupported("use_sliding_window", use, "false: full attention");
  }
  const types = lookup(c, "layer_types");
  if (types === undefined || types === null) return;
  if (!Array.isArray(types)) {
    throw new TypeError(`${PREFIX} "layer_types" must be an array, got ${show(types)}`);
  }
  const other = types.findIndex((t) => t !== "full_attention");
  if (other >= 0) throw unsupported(`layer_types[${other}]`, types[other], '"full_attention"');
}

/** RoPE scaling: what the frequencies become (see {@link ropeInverseFrequencies}). */
export type RopeScaling =
  | { type: "default" }
  | { type: "linear"; factor: number }
  | {
    type: "llama3";
    factor: number;
    lowFreqFactor: number;
    highFreqFactor: number;
    originalMaxPositionEmbeddings: number;
  };

/** Rotary position embedding, normalised from either form of the config. */
export interface RopeSettings {
  /** The base of the frequencies (`rope_theta`, `rotary_emb_base`). */
  theta: number;
  /** Fraction of each head that rotates (`partial_rotary_factor`, `rotary_pct`); 1 for all. */
  partialFactor: number;
  /** Dimensions of each head that rotate: `floor(headDim * partialFactor)`, even. */
  rotaryDim: number;
  /** How the frequencies are scaled. */
  scaling: RopeScaling;
}

/** What {@link readRopeSettings} needs besides the config. */
export interface RopeDefaults {
  /** The head size (see {@link configHeadDim}). */
  headDim: number;
  /** The family's default base when the config gives none (transformers: 10000 for most). */
  defaultTheta?: number;
  /** The family's default rotary fraction (GPT-NeoX: 0.25; others 1). */
  defaultPartial?: number;
}

const ROPE_TYPES = "default, linear, llama3";

/** The first present key among `keys` in `o`, as [key, value]. */
function firstOf(o: Json, keys: string[]): [string, unknown] | undefined {
  for (const key of keys) {
    const value = lookup(o, key);
    if (value !== undefined && value !== null) return [key, value];
  }
  return undefined;
}

/**
 * RoPE from either form of the config (module doc). The rope block is `rope_parameters` when
 * present, else `rope_scaling`; inside it `rope_type` (or the older `type`) picks the scaling. The
 * base is the block's `rope_theta`, else top-level `rope_theta` or `rotary_emb_base`, else the
 * family's default; the rotary fraction likewise from `partial_rotary_factor` or `rotary_pct`.
 *
 * @param c The config.
 * @param defaults The head size and the family's defaults.
 * @returns The settings.
 * @throws {TypeError} If a key has the wrong type or a required scaling key is missing.
 * @throws {RangeError} If the RoPE type is not implemented, or a value is out of range (a rotary
 *   fraction outside (0, 1], an odd number of rotating dimensions, llama3's high factor not above
 *   its low factor).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRopeSettings } from "./hf_config.ts";
 * const old = readRopeSettings({ rope_theta: 500000, rope_scaling: { rope_type: "llama3", factor: 8,
 *   low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } }, { headDim: 64 });
 * const v5 = readRopeSettings({ rope_parameters: { rope_type: "llama3", rope_theta: 500000, factor: 8,
 *   low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } }, { headDim: 64 });
 * assert.deepEqual(old, v5);
 * assert.equal(readRopeSettings({ rotary_pct: 0.25, rotary_emb_base: 10000 }, { headDim: 32 }).rotaryDim, 8);
 * assert.throws(() => readRopeSettings({ rope_scaling: { type: "yarn", factor: 4 } }, { headDim: 64 }),
 *   /rope_scaling.type "yarn" is not supported/);
 * ```
 */
export function readRopeSettings(c: Json, defaults: RopeDefaults): RopeSettings {
  const blockKey = firstOf(c, ["rope_parameters", "rope_scaling"])?.[0];
  const block = blockKey === undefined ? {} : lookup(c, blockKey);
  if (typeof block !== "object" || block === null || Array.isArray(block)) {
    throw new TypeError(`${PREFIX} "${blockKey}" must be an object, got ${show(block)}`);
  }
  const b = block as Json;
  const at = (key: string) => `${blockKey}.${key}`;
  // the base and the rotary fraction: inside the block first (transformers 5), then top level
  const thetaFrom = firstOf(b, ["rope_theta"]) !== undefined
    ? at("rope_theta")
    : firstOf(c, ["rope_theta", "rotary_emb_base"])?.[0];
  const theta = thetaFrom === undefined
    ? (defaults.defaultTheta ?? 10000)
    : configPositive(c, thetaFrom);
  const partialFrom = firstOf(b, ["partial_rotary_factor"]) !== undefined
    ? at("partial_rotary_factor")
    : firstOf(c, ["partial_rotary_factor", "rotary_pct"])?.[0];
  const partialFactor = partialFrom === undefined
    ? (defaults.defaultPartial ?? 1)
    : configPositive(c, partialFrom);
  if (partialFactor > 1) {
    throw new RangeError(`${PREFIX} "${partialFrom}" must be in (0, 1], got ${partialFactor}`);
  }
  const rotaryDim = Math.floor(defaults.headDim * partialFactor);
  if (rotaryDim < 2 || rotaryDim % 2 !== 0) {
    throw new RangeError(
      `${PREFIX} head size ${defaults.headDim} x rotary fraction ${partialFactor} = ${rotaryDim} rotating dimensions, must be even and at least 2`,
    );
  }
  const typeEntry = firstOf(b, ["rope_type", "type"]);
  const type = typeEntry?.[1] ?? "default";
  let scaling: RopeScaling;
  if (type === "default") scaling = { type: "default" };
  else if (type === "linear") scaling = { type: "linear", factor: configPositive(c, at("factor")) };
  else if (type === "llama3") {
    scaling = {
      type: "llama3",
      factor: configPositive(c, at("factor")),
      lowFreqFactor: configPositive(c, at("low_freq_factor")),
      highFreqFactor: configPositive(c, at("high_freq_factor")),
      // transformers falls back to max_position_embeddings when the block does not say
      originalMaxPositionEmbeddings: lookup(b, "original_max_position_embeddings") == null
        ? configInt(c, "max_position_embeddings")
        : configInt(c, at("original_max_position_embeddings")),
    };
    if (!(scaling.highFreqFactor > scaling.lowFreqFactor)) {
      throw new RangeError(
        `${PREFIX} ${at("high_freq_factor")} ${scaling.highFreqFactor} must be above ${
          at("low_freq_factor")
        } ${scaling.lowFreqFactor}`,
      );
    }
  } else throw unsupported(at(typeEntry![0]), type, ROPE_TYPES);
  return { theta, partialFactor, rotaryDim, scaling };
}

/**
 * The inverse frequencies of RoPE, as transformers computes them (`modeling_rope_utils.py`, in
 * float32 like torch): `invFreq[i] = 1 / theta^(2i / rotaryDim)` for `i < rotaryDim / 2`, then
 *
 * - `linear`: `invFreq[i] / factor`;
 * - `llama3`: with `wavelen = 2π / invFreq[i]`, `low = original / lowFreqFactor`,
 *   `high = original / highFreqFactor`: kept when `wavelen < high`, divided by `factor` when
 *   `wavelen > low`, and in between blended,
 *   `(1 - s) invFreq / factor + s invFreq` with `s = (original / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor)`.
 *
 * The rotation angle of position `p` in frequency `i` is `p * invFreq[i]` (computed by the model).
 *
 * @param r The settings (from {@link readRopeSettings}).
 * @returns `rotaryDim / 2` inverse frequencies.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ropeInverseFrequencies } from "./hf_config.ts";
 * const f = ropeInverseFrequencies({ theta: 10000, partialFactor: 1, rotaryDim: 4, scaling: { type: "default" } });
 * assert.deepEqual(Array.from(f), [1, Math.fround(0.01)]);
 * const g = ropeInverseFrequencies({ theta: 10000, partialFactor: 1, rotaryDim: 4, scaling: { type: "linear", factor: 2 } });
 * assert.deepEqual(Array.from(g), [0.5, Math.fround(Math.fround(0.01) / 2)]);
 * ```
 */
export function ropeInverseFrequencies(r: RopeSettings): Float32Array {
  const f = Math.fround, n = r.rotaryDim / 2;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // torch: base ** (arange(0, dim, 2).float() / dim) in float32, then 1.0 / that
    out[i] = f(1 / f(Math.pow(r.theta, f(f(2 * i) / r.rotaryDim))));
  }
  const s = r.scaling;
  if (s.type === "linear") { for (let i = 0; i < n; i++) out[i] = f(out[i] / s.factor); }
  if (s.type === "llama3") {
    const low = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
    const high = s.originalMaxPositionEmbeddings / s.highFreqFactor;
    for (let i = 0; i < n; i++) {
      const inv = out[i], wavelen = f((2 * Math.PI) / inv);
      if (wavelen > low) out[i] = f(inv / s.factor);
      else if (!(wavelen < high)) {
        const smooth = f(
          f(f(s.originalMaxPositionEmbeddings / wavelen) - s.lowFreqFactor) /
            (s.highFreqFactor - s.lowFreqFactor),
        );
        out[i] = f(f(f(1 - smooth) * f(inv / s.factor)) + f(smooth * inv));
      }
    }
  }
  return out;
}

/**
 * Checks `model_type` and, when present, `architectures` against a family's.
 *
 * @param c The config.
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
export function checkArchitecture(c: Json, modelType: string, architecture: string): void {
  const type = configString(c, "model_type");
  if (type !== modelType) throw unsupported("model_type", type, `"${modelType}"`);
  const arch = lookup(c, "architectures");
  if (
    arch !== undefined && arch !== null && (!Array.isArray(arch) || !arch.includes(architecture))
  ) {
    throw new RangeError(`${PREFIX} architectures ${show(arch)} lacks "${architecture}"`);
  }
}
