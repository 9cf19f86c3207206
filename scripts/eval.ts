/**
 * `deno task eval`: a model's perplexity (with its standard error over windows) and the sparsity
 * found in its weights, without pruning it. Run it on a pruned `--out` folder and on its dense
 * original with the same `--eval` and `--eval-tokens` to compare the two side by side.
 *
 *     deno task eval --model ../shared/models/llama4m/llama4m.bin
 *     deno task eval --model out/pruned --eval ../shared/text/c4/c4-validation.00000-of-00008.head1025.jsonl
 *
 * The model, tokenizer and text are read as `prune` reads them (`lib/model_inputs.ts`), and the
 * defaults are prune's (`seqlen = min(256, model seq_len)`, the evaluation budget), so the
 * perplexity equals prune's `dense` line on the same flags. `--report FILE` writes the numbers and
 * the sparsity of every operator as JSON.
 *
 * Uses `node:` built-ins only (runs on Deno and Bun).
 *
 * @module
 */
import { basename } from "node:path";
import process from "node:process";
import {
  checkWorkerPermission,
  CliError,
  type CliIo,
  intFlag,
  parseFlags,
  PROCESS_IO,
  runCli,
} from "./lib/cli.ts";
import { checkTarget, writeFileAtomic } from "./lib/files.ts";
import {
  checkSeqlen,
  checkTextHolds,
  encodeCorpus,
  loadModel,
  loadTokenizer,
} from "./lib/model_inputs.ts";
import { DEFAULTS, tokenizerFor, workersFlag } from "./lib/prune_settings.ts";
import { runShape } from "../src/pipeline/run_shape.ts";
import { nllStandardError } from "../src/eval/perplexity.ts";
import { createProgress } from "./lib/progress.ts";
import { perplexityParallel, shareWeights } from "../src/parallel/forward_parallel.ts";
import { createPool, sharedMemoryAvailable } from "../src/parallel/pool.ts";
import { weightSparsity } from "../src/eval/sparsity.ts";

const FLAGS = {
  model: { type: "string" },
  tokenizer: { type: "string" },
  eval: { type: "string" },
  "eval-tokens": { type: "string" },
  seqlen: { type: "string" },
  workers: { type: "string" },
  report: { type: "string" },
  force: { type: "boolean" },
  quiet: { type: "boolean" },
  help: { type: "boolean" },
} as const;

/** The `--help` text. */
export const HELP = `deno task eval: perplexity and weight sparsity of a model, without pruning it

  --model PATH        llama2.c .bin or HF folder (e.g. prune's --out) [stories260K]
  --tokenizer PATH    HF tokenizer.json or llama2.c tokenizer .bin [the model folder's
                      tokenizer.json, else tok512.bin]
  --eval FILE         text or jsonl to evaluate on [TinyStories validation head]
  --eval-tokens N     evaluate the first N tokens [prune's budget: 2e9 / (prunable weights x seqlen) windows]
  --seqlen N          tokens per window [min(256, model seq_len)]
  --workers N         worker threads; 1 = none [all cores]
  --report FILE       the numbers and every operator's sparsity as JSON (missing folders are created)
  --force             replace an existing --report
  --quiet             no progress on stderr
  --help              this text`;

/** Percent with two decimals. */
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

async function evaluate(argv: string[], io: CliIo): Promise<number> {
  const v = parseFlags(argv, FLAGS);
  if (v.help) {
    io.stdout(`${HELP}\n`);
    return 0;
  }
  const model = v.model ?? DEFAULTS.model, evalFile = v.eval ?? DEFAULTS.eval;
  const tokenizer = tokenizerFor(model, v.tokenizer);
  const asked = {
    seqlen: v.seqlen === undefined ? undefined : intFlag(v.seqlen, "seqlen", 2),
    evalTokens: v["eval-tokens"] === undefined
      ? undefined
      : intFlag(v["eval-tokens"], "eval-tokens", 2),
  };
  const workers = workersFlag(v.workers);
  checkWorkerPermission(workers);
  const inputs = [model, tokenizer, evalFile];
  if (v.report) await checkTarget(v.report, { force: v.force, inputs }); // before the work
  const say = createProgress(io, { quiet: v.quiet, units: 1 });

  let weights = await loadModel(model, workers > 1 && sharedMemoryAvailable());
  const { seqlen, evalTokens } = runShape({ ...asked, nsamples: 1 }, weights);
  checkSeqlen(seqlen, weights.config);
  const tok = await loadTokenizer(tokenizer);
  say.step(`loaded ${basename(model)}; encoding ${basename(evalFile)}`, 0);
  const all = await encodeCorpus(tok, evalFile, "eval");
  if (asked.evalTokens !== undefined) {
    checkTextHolds("--eval-tokens", evalTokens, 1, all.length, evalFile);
  }
  const ids = all.slice(0, evalTokens);
  if (ids.length < seqlen) {
    throw new CliError(
      `Cannot evaluate: ${ids.length} eval tokens (text ${all.length}) do not fill one window of --seqlen ${seqlen}`,
    );
  }

  const sparsity = weightSparsity(weights);
  const c = weights.config;
  io.stdout(
    `model ${model}\n  ${c.nLayers} blocks, dim ${c.dim}, hidden ${c.hiddenDim}, ${
      sparsity.weights.toLocaleString("en")
    } prunable weights, ${pct(sparsity.sparsity)} of them zero\n` +
      `eval ${basename(evalFile)}: seqlen ${seqlen}, first ${ids.length.toLocaleString("en")} of ${
        all.length.toLocaleString("en")
      } tokens\n`,
  );
  using pool = workers > 1 ? createPool({ size: workers }) : undefined;
  if (pool) weights = shareWeights(weights);
  const t0 = performance.now();
  const ppl = await perplexityParallel(pool, weights, ids, {
    seqlen,
    maxTokens: evalTokens,
    onProgress: (d, t) => say.bar(d, t, "eval"),
  });
  const ms = performance.now() - t0;
  const se = nllStandardError(ppl);
  const digits = ppl.ppl < 100 ? 4 : 2;
  say.step(`ppl ${ppl.ppl.toFixed(digits)}`);
  io.stdout(
    `ppl ${ppl.ppl.toFixed(digits)} ± ${(ppl.ppl * se).toFixed(digits)} (seqlen ${seqlen}, ${
      ppl.predicted.toLocaleString("en")
    } predicted tokens in ${ppl.windows} windows) ${(ms / 1000).toFixed(1)} s\n`,
  );
  if (v.report) {
    const report = {
      model,
      tokenizer,
      eval: { file: evalFile, seqlen, tokens: ids.length, text_tokens: all.length },
      ppl: ppl.ppl,
      ppl_se: ppl.ppl * se,
      nll: ppl.nll,
      nll_se: se,
      predicted: ppl.predicted,
      windows: ppl.windows,
      window_nlls: ppl.windowNlls,
      sparsity: {
        zeros: sparsity.zeros,
        weights: sparsity.weights,
        sparsity: sparsity.sparsity,
        operators: sparsity.operators,
      },
      eval_ms: ms,
    };
    const bytes = new TextEncoder().encode(JSON.stringify(report, null, 2) + "\n");
    await writeFileAtomic(v.report, bytes, { force: v.force, inputs });
    io.stdout(`wrote ${v.report}\n`);
  }
  return 0;
}

/**
 * Runs `eval` on `argv` and returns the exit status: 0 on success, 2 on bad input (one line
 * `error: ...` on stderr), 1 on any other failure.
 *
 * @param argv Command-line arguments, e.g. `["--model", "out/pruned"]`.
 * @param io Where results (stdout) and progress/errors (stderr) go (default: the process's).
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./eval.ts";
 * let err = "";
 * const io = { stdout: () => {}, stderr: (t: string) => void (err += t), isTTY: false };
 * assert.equal(await main(["--seqlen", "99999", "--workers", "1"], io), 2);
 * assert.equal(err, "error: --seqlen 99999 is beyond the model's context of 512 tokens; use at most 512\n");
 * ```
 */
export function main(argv: string[], io: CliIo = PROCESS_IO): Promise<number> {
  return runCli(evaluate, argv, io);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
