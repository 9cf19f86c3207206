/**
 * `deno task extract-layer`: write one linear layer of a model, with the calibration inputs it
 * sees, as the safetensors file `deno task prune-layer` takes.
 *
 *     deno task extract-layer --model ../shared/models/llama4m/llama4m.bin --layer layers.2.w1 --out out/layer.safetensors
 *     deno task prune-layer --in out/layer.safetensors --out out/pruned.safetensors --method wanda --sparsity 0.5
 *
 * The file holds `weight` `[rows, cols]` (F32) and `inputs` `[tokens, cols]` (F32): the layer's
 * inputs on `--nsamples` calibration windows of `--seqlen` tokens, drawn from `--calib` as `prune`
 * draws them (same defaults, same `--seed`: the same windows). The inputs are those of the dense
 * model, which is what the layer sees in `prune` with `--dense-inputs`, or in its first block.
 * `__metadata__` records the model, the layer, the text and the window settings.
 *
 * Uses `node:` built-ins only (runs on Deno and Bun).
 *
 * @module
 */
import { basename } from "node:path";
import process from "node:process";
import { CliError, type CliIo, intFlag, parseFlags, PROCESS_IO, runCli } from "./lib/cli.ts";
import { checkTarget, writeFileAtomic } from "./lib/files.ts";
import {
  checkSeqlen,
  checkTextHolds,
  encodeCorpus,
  loadModel,
  loadTokenizer,
} from "./lib/model_inputs.ts";
import { DEFAULTS, tokenizerFor } from "./lib/prune_settings.ts";
import { checkCalibrationSize, runShape } from "../src/pipeline/run_shape.ts";
import { createProgress } from "./lib/progress.ts";
import { writeSafetensors } from "../src/io/safetensors.ts";
import { linearOf, type Model } from "../src/model/family.ts";
import { embed, linearsOf } from "../src/model/model.ts";
import { runBlockWindows } from "../src/pipeline/block_run.ts";
import type { Matrix } from "../src/tensor/matrix.ts";
import { LINEAR_NAMES } from "../src/model/weights.ts";
import { sampleWindows } from "../src/pipeline/calibration.ts";

const FLAGS = {
  model: { type: "string" },
  tokenizer: { type: "string" },
  layer: { type: "string" },
  out: { type: "string" },
  calib: { type: "string" },
  nsamples: { type: "string" },
  seqlen: { type: "string" },
  seed: { type: "string" },
  force: { type: "boolean" },
  quiet: { type: "boolean" },
  help: { type: "boolean" },
} as const;

/** The `--help` text. */
export const HELP =
  `deno task extract-layer: one layer and its calibration inputs, as prune-layer's --in file

  --model PATH        llama2.c .bin or HF folder [stories260K]
  --layer NAME        layers.L.OP, OP one of ${LINEAR_NAMES.join(", ")} (required)
  --out FILE          the safetensors file: weight [rows, cols], inputs [tokens, cols] (required)
  --tokenizer PATH    HF tokenizer.json or llama2.c tokenizer .bin [the model folder's
                      tokenizer.json, else tok512.bin]
  --calib FILE        calibration text or jsonl [the C4 train head]
  --nsamples N        calibration windows [prune's budget: 1e9 / (prunable weights x seqlen)]
  --seqlen N          tokens per window [min(256, model seq_len)]
  --seed N            seed of the windows [0]
  --force             replace an existing --out
  --quiet             no progress on stderr
  --help              this text`;

/**
 * Parses `layers.L.OP` against the model: the block index and the operator.
 *
 * @param name The `--layer` value.
 * @param nLayers Blocks of the model.
 * @returns The block and the operator.
 * @throws {CliError} Naming the valid names.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLayerName } from "./extract-layer.ts";
 * assert.deepEqual(parseLayerName("layers.2.w1", 5), { layer: 2, op: "w1" });
 * assert.throws(() => parseLayerName("layers.5.w1", 5), /--layer layers\.5\.w1: the model has blocks 0 to 4/);
 * assert.throws(() => parseLayerName("layers.0.up", 5), /OP one of wq, wk, wv, wo, w1, w3, w2/);
 * ```
 */
export function parseLayerName(
  name: string,
  nLayers: number,
  ops: readonly string[] = LINEAR_NAMES,
): { layer: number; op: string } {
  const m = /^layers\.(\d+)\.(\w+)$/.exec(name);
  if (!m || !ops.includes(m[2])) {
    throw new CliError(
      `--layer must be layers.L.OP with OP one of ${ops.join(", ")}, got "${name}"`,
    );
  }
  const layer = Number(m[1]);
  if (layer >= nLayers) {
    throw new CliError(`--layer ${name}: the model has blocks 0 to ${nLayers - 1}`);
  }
  return { layer, op: m[2] };
}

/**
 * The inputs of operator `op` of block `layer` on each window, stacked: `[windows x seqlen, cols]`,
 * by the pipeline's own calibration forward (`runBlockWindows`). Runs the dense model up to that
 * block only.
 *
 * @param weights The model.
 * @param windows Token windows of equal length.
 * @param layer The block.
 * @param op The operator.
 * @param onBlock Called after each block run (progress; `layer + 1` in all).
 * @returns The stacked inputs.
 */
export function layerInputs(
  weights: Model,
  windows: Int32Array[],
  layer: number,
  op: string,
  onBlock: (done: number) => void = () => {},
): Matrix {
  const input = linearsOf(weights).find((s) => s.name === op)!.input; // q, k, v share wq's
  let h = windows.map((ids) => embed(weights, ids));
  for (let l = 0; l < layer; l++) {
    h = runBlockWindows(weights, l, h, { capture: false }).outputs;
    onBlock(l + 1);
  }
  const x = runBlockWindows(weights, layer, h).inputs[input]!;
  onBlock(layer + 1);
  return x;
}

async function extractLayer(argv: string[], io: CliIo): Promise<number> {
  const v = parseFlags(argv, FLAGS);
  if (v.help) {
    io.stdout(`${HELP}\n`);
    return 0;
  }
  if (v.layer === undefined) throw new CliError("--layer is required (e.g. --layer layers.2.w1)");
  if (v.out === undefined) {
    throw new CliError("--out is required (e.g. --out out/layer.safetensors)");
  }
  const model = v.model ?? DEFAULTS.model, tokenizer = tokenizerFor(model, v.tokenizer);
  const calib = v.calib ?? DEFAULTS.calib;
  const int = (flag: "nsamples" | "seqlen" | "seed", min: number) =>
    v[flag] === undefined ? undefined : intFlag(v[flag]!, flag, min);
  const asked = { nsamples: int("nsamples", 1), seqlen: int("seqlen", 2) };
  const seed = int("seed", 0) ?? DEFAULTS.seed;
  const inputs = [model, tokenizer, calib];
  await checkTarget(v.out, { force: v.force, inputs }); // before the work
  const say = createProgress(io, { quiet: v.quiet, units: 1 });

  const weights = await loadModel(model, false);
  const ops = linearsOf(weights).map((s) => s.name);
  const { layer, op } = parseLayerName(v.layer, weights.config.nLayers, ops);
  const { seqlen, nsamples } = runShape({ ...asked, evalTokens: 1 }, weights);
  checkSeqlen(seqlen, weights.config);
  checkCalibrationSize(nsamples, seqlen, weights);
  const tok = await loadTokenizer(tokenizer);
  say.step(`loaded ${basename(model)}; encoding ${basename(calib)}`, 0);
  const ids = await encodeCorpus(tok, calib, "calib");
  if (asked.nsamples !== undefined) {
    checkTextHolds("--nsamples", nsamples, seqlen, ids.length, calib);
  }
  const windows = sampleWindows(ids, { nsamples, seqlen, seed });
  const x = layerInputs(
    weights,
    windows,
    layer,
    op,
    (d) => say.bar(d, layer + 1, `${v.layer} inputs`),
  );
  const w = linearOf(weights.blocks[layer], op);
  say.step(`captured ${x.rows} x ${x.cols} inputs of ${v.layer} [${w.rows} x ${w.cols}]`);
  const bytes = writeSafetensors([
    { name: "weight", dtype: "F32", shape: [w.rows, w.cols], data: w.data },
    { name: "inputs", dtype: "F32", shape: [x.rows, x.cols], data: x.data },
  ], {
    model: basename(model),
    layer: v.layer,
    calib: basename(calib),
    nsamples: String(nsamples),
    seqlen: String(seqlen),
    seed: String(seed),
    inputs: "dense model",
  });
  await writeFileAtomic(v.out, bytes, { force: v.force, inputs });
  io.stdout(
    `wrote ${v.out}: weight [${w.rows}, ${w.cols}] of ${v.layer} and its inputs [${x.rows}, ${x.cols}] (${nsamples} windows x ${seqlen} tokens of ${
      basename(calib)
    }, seed ${seed})\n`,
  );
  return 0;
}

/**
 * Runs `extract-layer` on `argv` and returns the exit status: 0 on success, 2 on bad input (one
 * line `error: ...` on stderr), 1 on any other failure.
 *
 * @param argv Command-line arguments, e.g. `["--layer", "layers.2.w1", "--out", "l.safetensors"]`.
 * @param io Where results (stdout) and progress/errors (stderr) go (default: the process's).
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./extract-layer.ts";
 * let err = "";
 * const io = { stdout: () => {}, stderr: (t: string) => void (err += t), isTTY: false };
 * assert.equal(await main(["--out", "out/x.safetensors"], io), 2);
 * assert.equal(err, "error: --layer is required (e.g. --layer layers.2.w1)\n");
 * ```
 */
export function main(argv: string[], io: CliIo = PROCESS_IO): Promise<number> {
  return runCli(extractLayer, argv, io);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
