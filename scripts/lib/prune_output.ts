/**
 * The files `deno task prune` (`scripts/prune.ts`) writes: the pruned model (`--out`), the run as
 * JSON (`--report`) and as an HTML page (`--html`, `scripts/lib/report_html.ts`).
 *
 * `--out` from a Hugging Face folder writes a pruned copy of that folder (`src/io/hf_write.ts`:
 * same config plus a `"secateur"` entry, same dtype and shards, every tensor not pruned
 * byte-identical, tokenizer files copied, `masks.safetensors`); from a llama2.c `.bin` it writes an
 * HF Llama folder (`config.json`, `model.safetensors` in float32, `masks.safetensors`).
 *
 * Every file is written atomically and never replaces an input or, without `--force`, an existing
 * file (`scripts/lib/files.ts`); a refused write is a `CliError` (exit status 2).
 *
 * @module
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { CliError, type CliIo } from "./cli.ts";
import { checkTarget, UnsafeWriteError, writeDirAtomic, writeFileAtomic } from "./files.ts";
import type { PeakTracker } from "./memory.ts";
import { renderReportHtml, type SweepPoint } from "./report_html.ts";
import { pairwiseAgreement } from "../../src/pipeline/layer_report.ts";
import type { Settings } from "./prune_settings.ts";
import type { RunShape } from "../../src/pipeline/run_shape.ts";
import type { Evaluation, MethodRun } from "./prune_text.ts";
import { nllStandardError } from "../../src/eval/perplexity.ts";
import { llamaToHf } from "../../src/io/hf_llama.ts";
import { type Block, linearOf, type Model, type ModelConfig } from "../../src/model/family.ts";
import { familyOf } from "../../src/model/families.ts";
import { safetensorsChunks } from "../../src/io/safetensors.ts";
import type { LlamaWeights } from "../../src/model/weights.ts";
import { folderSink, folderSource } from "./hf_files.ts";
import { COMPANION_FILES, INDEX_FILE, openHfFolder } from "../../src/io/hf_folder.ts";
import { createHfWriter, MASKS_FILE } from "../../src/io/hf_write.ts";

/** True when `--model` is a folder (a Hugging Face checkpoint), not a llama2.c file. */
function isFolder(model: string): boolean {
  return model !== "" && existsSync(model) && statSync(model).isDirectory();
}

/**
 * The files `--out` writes into its folder: from an HF folder, its config, weights, index and
 * companion files plus the masks; from a llama2.c file, the three files of the export.
 */
function outFiles(model: string): string[] {
  if (!isFolder(model)) return ["config.json", "model.safetensors", MASKS_FILE];
  const kept = (f: string) =>
    f.endsWith(".safetensors") || f === INDEX_FILE || COMPANION_FILES.includes(f);
  return ["config.json", MASKS_FILE, ...readdirSync(model).filter(kept)];
}

/**
 * Refuses two outputs that name the same file, before any work (`--report F --html F` would lose
 * the report).
 *
 * @param s The settings (`out`, `report`, `html`, and `model`, whose kind decides what `--out`
 *   writes).
 * @throws {CliError} Naming the file given twice.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkDistinctOutputs } from "./prune_output.ts";
 * checkDistinctOutputs({ out: "dir", report: "run.json", html: "run.html" });
 * assert.throws(
 *   () => checkDistinctOutputs({ out: "dir", report: "dir/config.json" }),
 *   /Cannot write ".*config\.json" twice: --out, --report, --html name different files/,
 * );
 * ```
 */
export function checkDistinctOutputs(
  s: Pick<Settings, "out" | "report" | "html"> & { model?: string },
): void {
  const out = s.out ? outFiles(s.model ?? "").map((n) => join(s.out!, n)) : [];
  const outputs = [...out, s.report, s.html]
    .filter((f) => f !== undefined).map((f) => resolve(f));
  const twice = outputs.find((f, i) => outputs.indexOf(f) !== i);
  if (twice) {
    throw new CliError(
      `Cannot write "${twice}" twice: --out, --report, --html name different files`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// the report

/** What a run measured, which the report records. */
export interface RunFacts {
  config: ModelConfig;
  shape: RunShape;
  /** Tokens of the whole calibration text. */
  calibTokens: number;
  dense: Evaluation;
  /** The methods' runs (with `--compare`, their models dropped). */
  runs: MethodRun[];
  sweep: SweepPoint[];
  /** The methods' masks, for the page's pairwise agreement (empty unless `--compare --html`). */
  masks: Record<string, Uint8Array>[];
  peak: PeakTracker;
}

function methodEntry(run: MethodRun): Record<string, unknown> {
  const r = run.result;
  return {
    method: run.method,
    options: run.options,
    pruned: {
      ppl: run.ppl.ppl,
      nll: run.ppl.nll,
      nll_se: nllStandardError(run.ppl),
      window_nlls: run.ppl.windowNlls,
      sparsity: r.sparsity,
    },
    layers: r.layers.map((l) => ({
      name: l.name,
      rows: l.rows,
      cols: l.cols,
      sparsity: l.sparsity,
      error: l.error,
      ...(l.errorRows === undefined ? {} : { error_rows: l.errorRows, error_se: l.errorStdErr }),
      ...(l.errorPruned === undefined ? {} : { error_pruned: l.errorPruned }),
      agree_magnitude: l.agreeMagnitude,
      agree_wanda: l.agreeWanda,
      ...(l.info === undefined ? {} : { info: l.info }),
    })),
    times_ms: {
      calibration: r.timesMs.calibration,
      pruning: r.timesMs.pruning,
      eval: run.evalMs,
      layer_report: r.timesMs.evaluation,
      ...(Object.keys(r.methodTimesMs).length ? { method: r.methodTimesMs } : {}),
    },
  };
}

/**
 * The report of a run (`--report`, and what `--html` renders): model, options, calibration,
 * evaluation, the dense perplexity, one entry per method (at the top level for one method, under
 * `methods` with `--compare`), the sweep, the masks' pairwise agreement and the memory.
 *
 * @param s The settings.
 * @param f What the run measured.
 * @returns The report, ready for `JSON.stringify` or `renderReportHtml`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PeakTracker } from "./memory.ts";
 * import { parseSettings } from "./prune_settings.ts";
 * import { buildReport } from "./prune_output.ts";
 * import { tinyLlama } from "../../src/model/llama.ts";
 * const s = parseSettings(["--method", "wanda", "--workers", "1"])!;
 * const ppl = { ppl: 20, nll: 3, predicted: 62, windows: 2, windowNlls: [2, 4] };
 * const result = { weights: {} as never, masks: {}, layers: [], sparsity: 0.5, timesMs: { calibration: 1, pruning: 2, evaluation: 3 }, methodTimesMs: {} };
 * const runs = [{ method: "wanda", options: { target: s.target }, result, ppl, evalMs: 4 }];
 * const shape = { seqlen: 32, nsamples: 8, evalTokens: 64 };
 * const report = buildReport(s, { config: tinyLlama({ seed: 1 }).config, shape, calibTokens: 500, dense: { ppl, ms: 5 }, runs, sweep: [], masks: [], peak: new PeakTracker() });
 * assert.equal(report.method, "wanda");
 * assert.deepEqual(report.eval, { file: s.eval, seqlen: 32, tokens: 64, predicted: 62, max_tokens: 64 });
 * assert.deepEqual((report as Record<string, unknown>).pruned, { ppl: 20, nll: 3, nll_se: 1, window_nlls: [2, 4], sparsity: 0.5 });
 * ```
 */
export function buildReport(s: Settings, f: RunFacts) {
  const { runs, dense, shape: { nsamples, seqlen, evalTokens } } = f;
  return {
    model: s.model,
    model_config: f.config,
    method: s.compare ? "compare" : runs[0].method,
    options: s.compare
      ? { target: s.target, select: s.methodOptions.select ?? null, ...s.methodOptions }
      : runs[0].options,
    calibration: { file: s.calib, nsamples, seqlen, seed: s.seed, tokens: f.calibTokens },
    eval: {
      file: s.eval,
      seqlen,
      tokens: dense.ppl.windows * seqlen,
      predicted: dense.ppl.predicted,
      max_tokens: evalTokens,
    },
    dense: {
      ppl: dense.ppl.ppl,
      nll: dense.ppl.nll,
      nll_se: nllStandardError(dense.ppl),
      window_nlls: dense.ppl.windowNlls,
      times_ms: { eval: dense.ms },
    },
    ...(s.compare ? { methods: runs.map(methodEntry) } : methodEntry(runs[0])),
    ...(f.sweep.length ? { sweep: f.sweep } : {}),
    ...(f.masks.length ? { agreement: pairwiseAgreement(s.methods, f.masks) } : {}),
    memory: {
      start_resident_bytes: f.peak.startBytes,
      peak_resident_bytes: f.peak.peakBytes() ?? null, // null: the parent's peak hides it
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the pruned model

/** Masks under the HF weight names, U8 (1 = keep), in the HF tensors' element order. */
function hfMaskEntries(weights: Model, masks: Record<string, Uint8Array>) {
  const family = familyOf(weights), hf = family.hf!, c = weights.config;
  return weights.blocks.flatMap((b, l) =>
    family.linears(c).map(({ name }) => {
      const { rows, cols } = linearOf(b, name);
      return {
        name: hf.linearTensor(c, l, name),
        dtype: "U8" as const,
        shape: [rows, cols],
        data: hf.exportLinear(c, name, masks[`layers.${l}.${name}`]),
      };
    })
  );
}

/** `--out` from a llama2.c file: the HF Llama export of the pruned model, in float32. */
async function writeExport(
  dir: string,
  run: MethodRun,
  s: Settings,
  inputs: string[],
): Promise<string[]> {
  const weights = run.result.weights;
  if (!("tokenEmbedding" in weights)) { // until the HF writer of every family lands
    throw new CliError(`--out writes Llama models only for now`);
  }
  const hf = llamaToHf(weights as LlamaWeights);
  const meta = {
    format: "pt",
    secateur_mask: "1 = keep, 0 = pruned",
    method: run.method,
    target: JSON.stringify(s.target),
  };
  const files = {
    "config.json": new TextEncoder().encode(JSON.stringify(hf.config, null, 2) + "\n"),
    "model.safetensors": safetensorsChunks(hf.entries, hf.metadata),
    "masks.safetensors": safetensorsChunks(
      hfMaskEntries(run.result.weights, run.result.masks),
      meta,
    ),
  };
  return await safeWrite(() => writeDirAtomic(dir, files, { force: s.force, inputs }));
}

/** What `config.json`'s `"secateur"` entry records of the run. */
function runRecord(run: MethodRun, s: Settings) {
  return {
    method: run.method,
    options: run.options,
    sparsity: run.result.sparsity,
    masks: MASKS_FILE,
    // the evaluation prune reported, so the folder can be checked against it
    eval: {
      file: basename(s.eval),
      seqlen: run.ppl.predicted / run.ppl.windows + 1,
      windows: run.ppl.windows,
      ppl: run.ppl.ppl,
    },
  };
}

/** An `--out` folder being written as blocks are pruned ({@link openPrunedFolder}). */
export interface PrunedFolderWriter {
  /** Block `l`'s pruned linears and their masks (by layer name, `"layers.<l>.<linear>"`). */
  put(l: number, block: Block, masks: Record<string, Uint8Array>): Promise<void>;
  /** Copies the rest, writes config.json (recording `run`) and renames every file into place. */
  finish(run: MethodRun): Promise<string[]>;
  /** Removes the temporary files (after a failure). */
  abort(): Promise<void>;
}

/**
 * `--out` from an HF folder: a pruned copy of it (src/io/hf_write.ts), open for blocks in any
 * order. Each pruned linear is given to the writer as the family stores it (`exportLinear`: HF
 * row order, for the weight and its mask alike); everything else is copied byte for byte at
 * `finish`.
 *
 * @param dir The output folder.
 * @param model The model (its config and family; its blocks are not read).
 * @param method The method's name, recorded in the masks file.
 * @param s The settings.
 * @param inputs The run's input files, which no output may replace.
 * @returns The writer; the input folder stays open until `finish` or `abort`.
 * @throws {CliError} If a file would replace an input, or an existing file without `--force`.
 */
export async function openPrunedFolder(
  dir: string,
  model: Model,
  method: string,
  s: Settings,
  inputs: string[] = runInputs(s),
): Promise<PrunedFolderWriter> {
  const family = familyOf(model), hf = family.hf!, c = model.config;
  const names = family.linears(c).map((x) => x.name);
  const src = folderSource(s.model);
  const record: Record<string, unknown> = {}; // filled at finish: config.json is written last
  try {
    const input = await openHfFolder(src);
    const writer = await safeWrite(() =>
      createHfWriter(input, src, folderSink(dir, { force: s.force, inputs }), {
        pruned: model.blocks.flatMap((_, l) => names.map((n) => hf.linearTensor(c, l, n))),
        record,
        maskMetadata: { method, target: JSON.stringify(s.target) },
      })
    );
    return {
      put: async (l, block, masks) => {
        for (const name of names) {
          const values = hf.exportLinear(c, name, linearOf(block, name).data);
          const mask = hf.exportLinear(c, name, masks[`layers.${l}.${name}`]);
          await writer.put(hf.linearTensor(c, l, name), values, mask);
        }
      },
      finish: async (run) => {
        Object.assign(record, runRecord(run, s));
        try {
          return await safeWrite(() => writer.finish());
        } finally {
          await src.close();
        }
      },
      abort: async () => {
        try {
          await writer.abort();
        } finally {
          await src.close();
        }
      },
    };
  } catch (e) {
    await src.close();
    throw e;
  }
}

/** `--out` from an HF folder after the run: every block of the pruned model at once. */
async function writePrunedFolder(
  dir: string,
  run: MethodRun,
  s: Settings,
  inputs: string[],
): Promise<string[]> {
  const model = run.result.weights;
  const writer = await openPrunedFolder(dir, model, run.method, s, inputs);
  try {
    for (let l = 0; l < model.blocks.length; l++) {
      await writer.put(l, model.blocks[l], run.result.masks);
    }
  } catch (e) {
    await writer.abort();
    throw e;
  }
  return await writer.finish(run);
}

async function writeOut(
  dir: string,
  run: MethodRun,
  s: Settings,
  inputs: string[],
): Promise<string[]> {
  if (isFolder(s.model)) return await writePrunedFolder(dir, run, s, inputs);
  return await writeExport(dir, run, s, inputs);
}

async function safeWrite<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (e instanceof UnsafeWriteError) throw new CliError(e.message);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// all outputs

/** The files a run reads, which no output may replace (even with `--force`). */
function runInputs(s: Settings): string[] {
  // the files of an HF model folder are inputs too (--out on it replaced them)
  const hfFiles = isFolder(s.model) ? readdirSync(s.model) : [];
  return [s.model, ...hfFiles.map((n) => join(s.model, n)), s.tokenizer, s.calib, s.eval];
}

/**
 * Checks every output of the flags before any work: distinct files, none an input, none existing
 * without `--force`, none a folder, and each one's folder creatable (a missing folder is created
 * when the file is written).
 *
 * @param s The settings.
 * @returns When every output may be written.
 * @throws {CliError} Naming the output and what is wrong with it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSettings } from "./prune_settings.ts";
 * import { checkOutputs } from "./prune_output.ts";
 * await checkOutputs(parseSettings(["--report", "out/not/yet/run.json", "--workers", "1"])!);
 * await assert.rejects(
 *   checkOutputs(parseSettings(["--html", "README.md/run.html", "--workers", "1"])!),
 *   /README\.md" is a file, not a folder/,
 * );
 * ```
 */
export async function checkOutputs(s: Settings): Promise<void> {
  checkDistinctOutputs(s);
  const options = { force: s.force, inputs: runInputs(s) };
  const files = [...(s.out ? outFiles(s.model).map((n) => join(s.out!, n)) : []), s.report, s.html];
  for (const file of files) {
    if (file !== undefined) await safeWrite(() => checkTarget(file, options));
  }
}

/**
 * Writes what the flags ask for, in this order: `--out` (the first method's pruned model, with
 * its masks), `--report`, `--html`; one line `wrote ...` on stdout for each.
 *
 * @param s The settings.
 * @param f What the run measured.
 * @param io Where the `wrote` lines go.
 * @returns When every file is written.
 * @throws {CliError} If a file would replace an input, or an existing file without `--force`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSettings } from "./prune_settings.ts";
 * import { writeOutputs } from "./prune_output.ts";
 * let out = "";
 * const io = { stdout: (t: string) => void (out += t), stderr: () => {}, isTTY: false };
 * await writeOutputs(parseSettings(["--workers", "1"])!, {} as never, io); // no output flag
 * assert.equal(out, "");
 * ```
 */
export async function writeOutputs(s: Settings, f: RunFacts, io: CliIo): Promise<void> {
  const inputs = runInputs(s);
  if (s.out) {
    const written = await writeOut(s.out, f.runs[0], s, inputs);
    io.stdout(`wrote ${written.join(", ")}\n`);
  }
  if (!s.report && !s.html) return;
  const report = buildReport(s, f);
  const writeText = async (file: string, text: string) => {
    const bytes = new TextEncoder().encode(text);
    await safeWrite(() => writeFileAtomic(file, bytes, { force: s.force, inputs }));
    io.stdout(`wrote ${file}\n`);
  };
  if (s.report) await writeText(s.report, JSON.stringify(report, null, 2) + "\n");
  if (s.html) await writeText(s.html, renderReportHtml(report));
}
