/**
 * The fuzz properties on a small budget inside `deno task test` (the full run is `deno task fuzz`).
 * Each target runs 200 cases with a fixed seed; an untyped failure fails the test and fast-check
 * shrinks the input to a small counterexample. Also checks that the checkers can fail: a wrong
 * parse result must be rejected.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { newStats, runCase, targetProperty } from "./fuzz/outcome.ts";
import { BASE_FILE_PATHS, type FuzzBaseFiles, fuzzTargets } from "./fuzz/targets.ts";
import { checkSafetensors, validSafetensorsFiles } from "./fuzz/safetensors_props.ts";
import { checkLlama2c, validLlama2cFiles } from "./fuzz/llama2c_props.ts";
import { checkTokenizer, validTokenizerFiles } from "./fuzz/tokenizer_props.ts";
import { checkConfig, configValues, VALID_CONFIG } from "./fuzz/config_props.ts";
import { readSafetensors } from "../src/io/safetensors.ts";
import { readLlama2c } from "../src/io/llama2c.ts";
import { readTokenizer } from "../src/io/tokenizer.ts";
import { parseHfLlamaConfig } from "../src/io/hf_llama_config.ts";

const SMOKE_RUNS = 200;
const SEED = 20250101;

const files: FuzzBaseFiles = {};
for (const [key, path] of Object.entries(BASE_FILE_PATHS)) {
  try {
    files[key as keyof FuzzBaseFiles] = Deno.readFileSync(path);
  } catch { /* optional: the small files made in the tests are always used */ }
}

// The CLI target's fixtures and outputs live in a temporary folder, removed when the tests end.
const cliDir = Deno.makeTempDirSync({ prefix: "secateur-fuzz-cli-" });
globalThis.addEventListener("unload", () => Deno.removeSync(cliDir, { recursive: true }));

for (const target of fuzzTargets(files, cliDir)) {
  Deno.test(`fuzz smoke: ${target.name}, ${SMOKE_RUNS} cases: a correct parse or a typed error`, async () => {
    const stats = newStats();
    await fc.assert(targetProperty(target, stats, true), { numRuns: SMOKE_RUNS, seed: SEED });
    assert.equal(stats.untyped, 0);
    assert.ok(stats.parsed > 0, `${target.name}: no case parsed; the generator is too hostile`);
    assert.ok(
      stats.cases > stats.parsed,
      `${target.name}: no case failed; the generator is too tame`,
    );
  });
}

Deno.test("fuzz checkers reject wrong parse results (so the properties can fail)", () => {
  const [st] = validSafetensorsFiles();
  const other = validSafetensorsFiles()[1];
  assert.throws(() => checkSafetensors(st, readSafetensors(other)));
  const [legacy, shared] = validLlama2cFiles();
  assert.throws(() => checkLlama2c(legacy, readLlama2c(shared)));
  const tokFile = validTokenizerFiles()[0];
  const tok = readTokenizer(tokFile);
  const missingLast = { ...tok, pieces: tok.pieces.slice(0, -1), scores: tok.scores.slice(0, -1) };
  assert.throws(() => checkTokenizer(tokFile, missingLast, "ab"));
  const config = parseHfLlamaConfig(VALID_CONFIG);
  assert.throws(() => checkConfig({ ...config, nKvHeads: 3 }));
});

Deno.test("fuzz outcome: an untyped error, an empty message or a failed check is a failure", async () => {
  const base = { ...configValues, check: () => {} };
  const thrower = (e: unknown) => ({
    ...base,
    parse: () => {
      throw e;
    },
  });
  assert.equal((await runCase(thrower(new RangeError("x")), {})).kind, "typed");
  assert.equal((await runCase(thrower(new Error("x")), {})).kind, "untyped");
  assert.equal((await runCase(thrower(new TypeError("")), {})).kind, "untyped");
  assert.equal(
    (await runCase(thrower(new RangeError("Maximum call stack size exceeded")), {})).kind,
    "untyped",
  );
  assert.equal((await runCase(thrower("a string"), {})).kind, "untyped");
  const failingCheck = { ...configValues, check: () => assert.fail("wrong") };
  assert.equal((await runCase(failingCheck, VALID_CONFIG)).kind, "untyped");
});
