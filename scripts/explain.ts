/**
 * `deno task explain`: watch SwiftPrune's EWMA selectors choose what to prune in one row. Prints the
 * tracker's trace (step, score, threshold `T` before the step, the EWMAs `p` and `D`, its
 * provisional decision next to the final mask, marked where they differ), how the approximate
 * selector (counting passes) and the default exact one (bracket and quickselect) finish, the
 * achieved vs target count, and the masks of both selectors next to the sort-based one.
 * `--svg FILE` draws the same trace. The derivation is in `docs/swiftprune.md`.
 *
 *     deno task explain                                  # row 0 of layers.0.wq of stories260K
 *     deno task explain --row "3,1,4,1,5,9,2,6" --sparsity 0.5 --method magnitude
 *     deno task explain --random 1024 --seed 7 --svg trace.svg
 *     deno task explain --model ../shared/models/llama4m/llama4m.bin --layer 2 --linear w2 --row 5
 *
 * `--row` is a comma-separated row of weights, or, without a comma, the index of a row of
 * `--layer`/`--linear` of `--model`. For a real row the calibration inputs of that layer (for wanda
 * and swiftprune) are captured by running the model on the first `--tokens` tokens of `--text`. For
 * a given or random row they are a per-channel statistic `--x "..."` (column norms; default all 1).
 *
 * Uses `node:` built-ins only (runs on Deno and Bun).
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  CliError,
  type CliIo,
  intFlag,
  parseFlags,
  PROCESS_IO,
  runCli,
  sparsityFlag,
  useKernelsFlag,
} from "./lib/cli.ts";
import { checkTarget, readBytes, UnsafeWriteError, writeFileAtomic } from "./lib/files.ts";
import { formatTrace, traceSvg, traceViewOf } from "./lib/trace_view.ts";
import { readLlama2c } from "../src/io/llama2c.ts";
import { encode, readTokenizer } from "../src/io/tokenizer.ts";
import { forward } from "../src/model/llama.ts";
import { LINEAR_NAMES, type LinearName } from "../src/model/weights.ts";
import type { MethodDescriptor } from "../src/prune/method.ts";
import { METHODS } from "../src/prune/methods.ts";
import { createRng } from "../src/tensor/rng.ts";
import type { Matrix } from "../src/tensor/matrix.ts";

const SHARED = resolve(fileURLToPath(new URL("..", import.meta.url)), "../shared");
/** Default inputs (relative to the repository root, so any working directory works). */
export const EXPLAIN_DEFAULTS = {
  model: resolve(SHARED, "models/stories260K/stories260K.bin"),
  tokenizer: resolve(SHARED, "models/stories260K/tok512.bin"),
  text: resolve(SHARED, "text/tinystories/TinyStories-validation-head.txt"),
};
/** The methods `explain` can trace: those that score every weight, then select. */
const SCORE_METHODS = METHODS.filter((m) => m.score !== undefined);

const HELP = `deno task explain [flags]   trace SwiftPrune's EWMA selector on one row

  --row R            "3,1,4,1,5,9,2,6" (weights) or a row index of --layer/--linear [0]
  --random N         a seeded random row of N Gaussian weights (--seed S, default 1)
  --x "a,b,..."      per-channel input norms for a given/random row (calibrated methods) [all 1]
  --model FILE       llama2.c checkpoint [../shared/models/stories260K/stories260K.bin]
  --layer L          decoder block [0]        --linear NAME  ${LINEAR_NAMES.join(" | ")} [wq]
  --tokenizer FILE   [stories260K/tok512.bin] --text FILE    calibration text [TinyStories head]
  --tokens N         calibration tokens for a real row [256]
  --method NAME      ${SCORE_METHODS.map((m) => m.name).join(" | ")} [swiftprune]
  --sparsity S       fraction of the row to prune, 0 <= S < 1 [0.5]
  --steps N          print at most N steps of the trace [all]
  --kernels ts|simd  kernels of the forward pass that captures a real row's inputs [simd where available]
  --svg FILE         also draw the trace as SVG     --force   overwrite --svg
  --debug            stack traces on errors`;

const FLAGS = {
  row: { type: "string" },
  random: { type: "string" },
  seed: { type: "string", default: "1" },
  x: { type: "string" },
  model: { type: "string" },
  layer: { type: "string", default: "0" },
  linear: { type: "string", default: "wq" },
  tokenizer: { type: "string" },
  text: { type: "string" },
  tokens: { type: "string", default: "256" },
  method: { type: "string", default: "swiftprune" },
  sparsity: { type: "string", default: "0.5" },
  steps: { type: "string" },
  svg: { type: "string" },
  kernels: { type: "string" },
  force: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

/**
 * Parses a comma-separated list of finite numbers.
 *
 * @param text The list, e.g. `"3,1,4"`.
 * @param flag The flag it came from, for the message.
 * @returns The numbers.
 * @throws {CliError} If an entry is not a finite number.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNumberList } from "./explain.ts";
 * assert.deepEqual(Array.from(parseNumberList("3, 1,-4.5", "row")), [3, 1, -4.5]);
 * assert.throws(() => parseNumberList("3,,1", "row"), /--row: entry 2 is not a number/);
 * ```
 */
export function parseNumberList(text: string, flag: string): Float32Array {
  return Float32Array.from(text.split(","), (part, i) => {
    const v = Number(part);
    if (part.trim() === "" || !Number.isFinite(v)) {
      throw new CliError(`--${flag}: entry ${i + 1} is not a number: "${part}"`);
    }
    return v;
  });
}

/**
 * The scores of row `index` of a layer under a score-then-select method (its descriptor's
 * `score`, on the whole layer: a method may compare a weight with its column, as RIA does).
 *
 * @param method A method with a `score`.
 * @param weight The layer (a literal row is a one-row layer).
 * @param index The row.
 * @param calib Calibration inputs `[tokens, cols]` or column norms `x`.
 * @returns `Float32Array(cols)` (higher = more important).
 * @throws {TypeError} If the calibration does not match the layer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodByName } from "../src/prune/methods.ts";
 * import { rowScores } from "./explain.ts";
 * const x = new Float32Array([3, 1, 1, 1]);
 * const row = { data: new Float32Array([1.2, 2, -2, 1.5]), rows: 1, cols: 4 };
 * const s = rowScores(methodByName("wanda")!, row, 0, { colNorms: x });
 * assert.deepEqual(Array.from(s, (v) => Number(v.toFixed(4))), [3.6, 2, 2, 1.5]);
 * ```
 */
export function rowScores(
  method: MethodDescriptor,
  weight: Matrix,
  index: number,
  calib: { inputs?: Matrix; colNorms?: Float32Array },
): Float32Array {
  const scores = method.score!(weight, calib);
  return scores.data.slice(index * weight.cols, (index + 1) * weight.cols);
}

/** The inputs `X` `[tokens, cols]` of one linear layer, captured from a forward pass. */
async function captureInputs(
  s: { model: string; tokenizer: string; text: string; tokens: number },
  layer: number,
  name: LinearName,
) {
  const weights = readLlama2c(await readBytes(s.model));
  if (layer >= weights.config.nLayers) {
    throw new CliError(
      `--layer must be below ${weights.config.nLayers} for ${basename(s.model)}, got ${layer}`,
    );
  }
  const tok = readTokenizer(await readBytes(s.tokenizer));
  const text = await readFile(s.text, "utf8");
  const ids = encode(tok, text.slice(0, 16 * s.tokens), { bos: true, eos: false }).subarray(
    0,
    s.tokens,
  );
  let inputs: Matrix | undefined;
  forward(weights, ids, {
    onLinearInput: (l, n, x) => void (l === layer && n === name && (inputs = x)),
  });
  return { weight: weights.blocks[layer][name], inputs: inputs!, tokens: ids.length };
}

function missing(path: string, flag: string): CliError {
  return new CliError(`Cannot read --${flag}: no file at ${resolve(path)} (pass --${flag} PATH)`);
}

async function explain(argv: string[], io: CliIo): Promise<number> {
  const v = parseFlags(argv, FLAGS);
  if (v.help) {
    io.stdout(`${HELP}\n`);
    return 0;
  }
  const method = SCORE_METHODS.find((m) => m.name === v.method);
  if (method === undefined) {
    throw new CliError(
      `--method must be ${SCORE_METHODS.map((m) => m.name).join(", ")}, got "${v.method}"`,
    );
  }
  if (v.svg) await checkTarget(v.svg, { force: v.force }); // before the work, not after it
  const calibrated = method.calibration !== "none";
  useKernelsFlag(v.kernels);
  const sparsity = sparsityFlag(v.sparsity);
  const literal = v.random !== undefined || (v.row !== undefined && v.row.includes(","));
  let layer: Matrix, index = 0, calib: { inputs?: Matrix; colNorms?: Float32Array }, title: string;
  if (literal) {
    if (v.random !== undefined && v.row !== undefined) {
      throw new CliError("--row and --random exclude each other");
    }
    if (v.random !== undefined) {
      const n = intFlag(v.random, "random", 1),
        seed = intFlag(v.seed, "seed", 0),
        rng = createRng(seed);
      const row = Float32Array.from({ length: n }, () => rng.normal());
      layer = { data: row, rows: 1, cols: n };
      title = `random row of ${n} Gaussian weights (seed ${seed})`;
    } else {
      const row = parseNumberList(v.row!, "row");
      layer = { data: row, rows: 1, cols: row.length };
      title = `row [${v.row}]`;
    }
    const row = layer.data;
    const x = v.x === undefined ? new Float32Array(row.length).fill(1) : parseNumberList(v.x, "x");
    if (x.length !== row.length) {
      throw new CliError(`--x has ${x.length} entries, the row has ${row.length}`);
    }
    calib = { colNorms: x };
    if (calibrated) title += v.x === undefined ? ", x = all 1" : `, x = [${v.x}]`;
  } else {
    if (v.x !== undefined) {
      throw new CliError("--x is for a given or random row; a real row is calibrated on --text");
    }
    if (!(LINEAR_NAMES as readonly string[]).includes(v.linear)) {
      throw new CliError(`--linear must be ${LINEAR_NAMES.join(", ")}, got "${v.linear}"`);
    }
    const s = {
      model: v.model ?? EXPLAIN_DEFAULTS.model,
      tokenizer: v.tokenizer ?? EXPLAIN_DEFAULTS.tokenizer,
      text: v.text ?? EXPLAIN_DEFAULTS.text,
      tokens: intFlag(v.tokens, "tokens", 1),
    };
    for (
      const [flag, path] of Object.entries({ model: s.model, tokenizer: s.tokenizer, text: s.text })
    ) {
      if (!existsSync(path)) throw missing(path, flag);
    }
    const block = intFlag(v.layer, "layer", 0);
    index = intFlag(v.row ?? "0", "row", 0);
    const captured = await captureInputs(s, block, v.linear as LinearName);
    const { weight } = captured;
    if (index >= weight.rows) {
      throw new CliError(`--row must be below ${weight.rows} for ${v.linear}, got ${index}`);
    }
    layer = weight;
    calib = { inputs: captured.inputs };
    title = `row ${index} of layers.${block}.${v.linear} [${weight.rows} x ${weight.cols}] of ${
      basename(s.model)
    }`;
    if (calibrated) {
      title += `, x from ${captured.tokens} tokens of ${basename(s.text)}`;
    }
  }
  title = `${method.name} scores of ${title}, sparsity ${sparsity}`;
  const scores = rowScores(method, layer, index, calib);
  const k = Math.floor(sparsity * scores.length); // floor(s * cols), as buildMask
  const view = traceViewOf(title, scores, k);
  io.stdout(formatTrace(view, v.steps === undefined ? Infinity : intFlag(v.steps, "steps", 0)));
  if (v.svg) {
    try {
      await writeFileAtomic(v.svg, new TextEncoder().encode(traceSvg(view)), { force: v.force });
    } catch (e) {
      if (e instanceof UnsafeWriteError) throw new CliError(e.message);
      throw e;
    }
    io.stdout(`wrote ${v.svg}\n`);
  }
  return 0;
}

/**
 * Runs `explain` on `argv` and returns the exit status: 0 on success, 2 on bad input (one line
 * `error: ...` on stderr), 1 on any other failure.
 *
 * @param argv Command-line arguments, e.g. `["--row", "3,1,4,1", "--method", "magnitude"]`.
 * @param io Where the trace (stdout) and errors (stderr) go (default: the process's).
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./explain.ts";
 * let out = "";
 * const io = { stdout: (t: string) => void (out += t), stderr: () => {}, isTTY: false };
 * assert.equal(await main(["--row", "3,1,4,1,5,9,2,6", "--method", "magnitude"], io), 0);
 * assert.match(out, /mask sort: +\.\.1\.11\.1/);
 * ```
 */
export function main(argv: string[], io: CliIo = PROCESS_IO): Promise<number> {
  return runCli(explain, argv, io);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
