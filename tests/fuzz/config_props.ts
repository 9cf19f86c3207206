/**
 * Fuzz targets for `parseHfLlamaConfig` (`src/io/hf_llama_config.ts`), the `config.json` reader.
 *
 * `config/values`: arbitrary JSON values, and valid configs with fields replaced by arbitrary JSON
 * values or by the numbers that break size arithmetic (0, negatives, fractions, 2^53, strings of
 * digits). `config/text`: the file's text, valid or damaged (cut, a byte changed, a key repeated).
 *
 * A parse must satisfy the config's invariants (positive safe integers, heads dividing the sizes,
 * even head size) and round-trip through `hfLlamaConfigJson`.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { hfLlamaConfigJson, parseHfLlamaConfig } from "../../src/io/hf_llama_config.ts";
import type { LlamaConfig } from "../../src/model/weights.ts";
import type { FuzzTarget } from "./outcome.ts";

/** A valid config.json (stories260K's shapes). */
export const VALID_CONFIG: Record<string, unknown> = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  hidden_size: 64,
  intermediate_size: 172,
  num_hidden_layers: 5,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  vocab_size: 512,
  max_position_embeddings: 512,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: true,
};

const FIELDS = [
  ...Object.keys(VALID_CONFIG),
  "head_dim",
  "hidden_act",
  "rope_scaling",
  "attention_bias",
  "mlp_bias",
  "torch_dtype",
  "dtype",
  "__proto__",
];

const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    0,
    -1,
    -64,
    1.5,
    2 ** 53,
    2 ** 31,
    1e308,
    -0,
    "64",
    "llama",
    null,
    true,
    [],
    {},
    3,
    16,
    1,
  ),
);

/** A valid config with up to 3 fields replaced or removed. */
const editedConfigArb = fc.array(
  fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(oddValue, fc.constant(undefined))),
  { maxLength: 3 },
).map((edits) => {
  const config: Record<string, unknown> = { ...VALID_CONFIG };
  for (const [key, value] of edits) {
    if (value === undefined) delete config[key];
    else {Object.defineProperty(config, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });}
  }
  return config;
});

/** Invariants of a parsed config, and the round trip through `hfLlamaConfigJson`. */
export function checkConfig(c: LlamaConfig): void {
  for (
    const key of [
      "dim",
      "hiddenDim",
      "nLayers",
      "nHeads",
      "nKvHeads",
      "vocabSize",
      "seqLen",
    ] as const
  ) {
    assert.ok(Number.isSafeInteger(c[key]) && c[key] > 0, key);
  }
  assert.ok(
    c.normEps > 0 && Number.isFinite(c.normEps) && c.ropeTheta > 0 && Number.isFinite(c.ropeTheta),
  );
  assert.equal(c.dim % c.nHeads, 0);
  assert.equal((c.dim / c.nHeads) % 2, 0);
  assert.equal(c.nHeads % c.nKvHeads, 0);
  assert.equal(typeof c.sharedClassifier, "boolean");
  assert.deepEqual(parseHfLlamaConfig(hfLlamaConfigJson(c)), c);
  assert.deepEqual(parseHfLlamaConfig(JSON.stringify(hfLlamaConfigJson(c))), c);
}

/** `config/values`: parsed JSON values given to the parser. */
export const configValues: FuzzTarget<unknown, LlamaConfig> = {
  name: "config/values",
  parser: "config.json",
  arbitrary: fc.oneof({ weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, {
    weight: 4,
    arbitrary: editedConfigArb,
  }),
  parse: (value) => parseHfLlamaConfig(value),
  check: (_value, config) => checkConfig(config),
};

/** A damaged config.json text. */
const textArb = fc.record({
  config: editedConfigArb,
  edit: fc.oneof(
    fc.constant({ kind: "none" as const, at: 0, char: "" }),
    fc.record({
      kind: fc.constantFrom("cut" as const, "replace" as const, "insert" as const),
      at: fc.nat(),
      char: fc.string({ minLength: 1, maxLength: 2 }),
    }),
    fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat(), char: fc.constant("") }),
  ),
}).map(({ config, edit }) => {
  let text = JSON.stringify(config, null, 2);
  const at = edit.at % (text.length + 1);
  if (edit.kind === "cut") text = text.slice(0, at);
  if (edit.kind === "replace") text = text.slice(0, at) + edit.char + text.slice(at + 1);
  if (edit.kind === "insert") text = text.slice(0, at) + edit.char + text.slice(at);
  if (edit.kind === "duplicate") {
    const keys = Object.keys(config);
    const key = keys[at % Math.max(1, keys.length)] ?? "model_type";
    text = text.replace(/}\s*$/, `, ${JSON.stringify(key)}: 1}`);
  }
  return text;
});

/** `config/text`: config.json text, valid or damaged. */
export const configText: FuzzTarget<string, LlamaConfig> = {
  name: "config/text",
  parser: "config.json",
  arbitrary: textArb,
  parse: (text) => parseHfLlamaConfig(text),
  check: (_text, config) => checkConfig(config),
};
