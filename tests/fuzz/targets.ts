/**
 * Every fuzz target, built over the valid files the caller could read (the real models are
 * optional: without them the mutation targets use only the small files made in the tests).
 *
 * @module
 */
import { join } from "node:path";
import type { FuzzTarget } from "./outcome.ts";
import { safetensorsMutated, safetensorsStructured } from "./safetensors_props.ts";
import { llama2cMutated, llama2cStructured } from "./llama2c_props.ts";
import { tokenizerMutated, tokenizerStructured } from "./tokenizer_props.ts";
import { configText, configValues } from "./config_props.ts";
import { pruneLayerCli } from "./cli_props.ts";
import { pruneCli } from "./cli_prune_props.ts";
import { evalCli, extractLayerCli } from "./cli_model_props.ts";

/** Real files used as mutation bases when present. */
export interface FuzzBaseFiles {
  /** tests/golden/tiny.safetensors. */
  safetensors?: Uint8Array;
  /** ../shared/models/stories260K/stories260K.bin. */
  llama2c?: Uint8Array;
  /** ../shared/models/stories260K/tok512.bin. */
  tokenizer?: Uint8Array;
}

/** Paths of the real base files, relative to the repository root. */
export const BASE_FILE_PATHS: Record<keyof FuzzBaseFiles, string> = {
  safetensors: "tests/golden/tiny.safetensors",
  llama2c: "../shared/models/stories260K/stories260K.bin",
  tokenizer: "../shared/models/stories260K/tok512.bin",
};

/** Where the CLI targets write their fixtures and outputs, a subfolder each (must be writable). */
export const CLI_SCRATCH_DIR = "out/fuzz-cli";

/**
 * All targets.
 *
 * @param files Real base files for the mutation targets.
 * @param cliDir Scratch folder for the CLI targets (omit to leave them out). `cli/prune` also
 *   needs `files.tokenizer` (it reads that file from its path).
 */
// deno-lint-ignore no-explicit-any
export function fuzzTargets(files: FuzzBaseFiles, cliDir?: string): FuzzTarget<any, any>[] {
  const extra = (bytes?: Uint8Array) => (bytes === undefined ? [] : [bytes]);
  return [
    safetensorsStructured,
    safetensorsMutated(extra(files.safetensors)),
    llama2cStructured,
    llama2cMutated(extra(files.llama2c)),
    tokenizerStructured,
    tokenizerMutated(extra(files.tokenizer)),
    configValues,
    configText,
    ...(cliDir === undefined ? [] : [pruneLayerCli(join(cliDir, "prune-layer"))]),
    ...(cliDir === undefined || files.tokenizer === undefined ? [] : [
      pruneCli(join(cliDir, "prune"), BASE_FILE_PATHS.tokenizer),
      evalCli(join(cliDir, "eval"), BASE_FILE_PATHS.tokenizer),
      extractLayerCli(join(cliDir, "extract-layer"), BASE_FILE_PATHS.tokenizer),
    ]),
  ];
}
