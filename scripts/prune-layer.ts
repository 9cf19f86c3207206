/**
 * `deno task prune-layer`: prune one linear layer stored in a safetensors file. The layer-level
 * tool other backends call to compare masks with ours.
 *
 * Input: `weight` `[rows, cols]` (F32, F16 or BF16) and, for calibrated methods, `inputs`
 * `[tokens, cols]` or `col_norms` `[cols]`; for `fista`, optionally `inputs_pruned` `[tokens, cols]`
 * (X*, the inputs when earlier operators are pruned). Output: `weight` (pruned, F32), `mask` (U8, 1 = keep),
 * `scores` (F32), and `__metadata__`: `method` (its name), `options` (a JSON object: the target,
 * what competes, and every option the method has, given or default; none of other methods),
 * `sparsity` (achieved) and `time_ms` (the pruning method alone: scoring, selection and masking;
 * no I/O), the numbers as plain decimal text.
 *
 * The output is written to a temporary file in the destination folder, then renamed; an existing
 * `--out` is kept unless `--force`; the input is never written.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import process from "node:process";
import { readSafetensors, writeSafetensors } from "../src/io/safetensors.ts";
import type { Matrix } from "../src/tensor/matrix.ts";
import type { LayerCalibration } from "../src/prune/types.ts";
import { appliedOptions } from "../src/prune/method.ts";
import { methodNames, METHODS } from "../src/prune/methods.ts";
import { parseTarget, targetText } from "../src/select/target.ts";
import {
  checkWorkerPermission,
  CliError,
  type CliIo,
  parseFlags,
  runCli,
  useKernelsFlag,
  workersCanStart,
} from "./lib/cli.ts";
import { workersFlag } from "./lib/prune_settings.ts";
import { createPool, type Pool, sharedMemoryAvailable, toShared } from "../src/parallel/pool.ts";
import { pruneLayerParallel } from "../src/parallel/prune_parallel.ts";
import { checkTarget, writeFileAtomic } from "./lib/files.ts";
import { assertFinite } from "../src/check/finite.ts";
import { METHOD_FLAGS, methodFlagsHelp, methodOptionsFromFlags } from "./lib/method_flags.ts";
import { methodOf } from "./lib/prune_settings.ts";

const USAGE = `Prune one linear layer stored in a safetensors file.

usage: deno task prune-layer --in FILE --out FILE --method NAME (--sparsity S | --pattern N:M) [options]

  --in FILE         safetensors with weight [rows, cols] (F32/F16/BF16) and what the method
                    reads of the layer's inputs: inputs [tokens, cols], inputs_pruned
                    [tokens, cols] (X*), or col_norms [cols]:
${METHODS.map((m) => `                      ${m.name.padEnd(11)} ${m.calibration}`).join("\n")}
  --out FILE        where to write weight (pruned, F32), mask (U8, 1 = keep), scores (F32)
  --method NAME     ${methodNames().join(" | ")}
  --sparsity S      fraction of weights to prune, 0 <= S < 1
  --pattern N:M     keep at most N of every M consecutive weights of a row (e.g. 2:4)
  --group GROUP     row | layer: which weights compete (unstructured) [row]
method options (the methods that do not have one ignore it):
${methodFlagsHelp(18)}
  --workers N       worker threads for row-separable methods (magnitude, wanda, swiftprune) [all cores]
  --kernels ts|simd matrix kernels: pure TypeScript or WebAssembly SIMD (default: simd where available)
  --repeat N        prune N times and report the first and the best time (as a benchmark of
                    the layer would, e.g. PyTorch's best of 5 after a warm-up) [1]
  --force           overwrite --out if it exists
  --allow-nonfinite prune even if a tensor holds NaN or an infinity (default: refuse, naming it)
  --quiet           no progress output
  --debug           print the stack trace of an error
`;

const FLAGS = {
  in: { type: "string" },
  out: { type: "string" },
  method: { type: "string" },
  sparsity: { type: "string" },
  pattern: { type: "string" },
  group: { type: "string" },
  ...METHOD_FLAGS,
  kernels: { type: "string" },
  workers: { type: "string" },
  repeat: { type: "string" },
  force: { type: "boolean", default: false },
  "allow-nonfinite": { type: "boolean", default: false },
  quiet: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

/** The layer: weight, and calibration statistics when present. */
function readLayer(bytes: Uint8Array, source: string): { weight: Matrix; calib: LayerCalibration } {
  const file = readSafetensors(bytes, { source });
  const matrixOf = (name: string): Matrix => {
    const { dtype, shape } = file.info(name);
    if (!["F32", "F16", "BF16"].includes(dtype) || shape.length !== 2) {
      throw new TypeError(
        `Cannot read ${name} from ${source}: expected a 2-D F32/F16/BF16 tensor, got ${dtype} [${shape}]`,
      );
    }
    return { data: file.float32(name), rows: shape[0], cols: shape[1] };
  };
  if (!file.has("weight")) {
    throw new CliError(`${source} has no tensor named weight (found: ${file.names.join(", ")})`);
  }
  const weight = matrixOf("weight");
  const calib: LayerCalibration = {};
  if (file.has("inputs")) calib.inputs = matrixOf("inputs");
  if (file.has("inputs_pruned")) calib.inputsPruned = matrixOf("inputs_pruned");
  if (file.has("col_norms")) {
    const { shape } = file.info("col_norms");
    if (shape.length !== 1 || shape[0] !== weight.cols) {
      throw new TypeError(
        `Cannot use col_norms from ${source}: shape [${shape}], expected [${weight.cols}]`,
      );
    }
    calib.colNorms = file.float32("col_norms");
  }
  return { weight, calib };
}

/** Refuses NaN or infinity in the layer's tensors, naming the file, tensor and index. */
function checkFiniteLayer(weight: Matrix, calib: LayerCalibration, source: string): void {
  const tensors = {
    weight,
    inputs: calib.inputs,
    inputs_pruned: calib.inputsPruned,
    col_norms: calib.colNorms,
  };
  for (const [name, tensor] of Object.entries(tensors)) {
    if (tensor === undefined) continue;
    try {
      assertFinite(tensor, name);
    } catch (e) {
      throw new RangeError(
        `${(e as Error).message} in ${source} (--allow-nonfinite prunes anyway)`,
      );
    }
  }
}

/** Starts every worker of `pool` (each imports its modules) so that timing excludes start-up. */
async function startWorkers(pool: Pool | undefined): Promise<void> {
  if (pool === undefined) return;
  const url = new URL("../src/linalg/kernels.ts", import.meta.url);
  await pool.map(url, "kernels", Array.from({ length: pool.size }, () => []));
}

async function pruneLayer(argv: string[], io: CliIo): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (argv.length === 0 || flags.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (!flags.in || !flags.out) {
    throw new CliError("--in FILE and --out FILE are required (see --help)");
  }
  if (!flags.method) throw new CliError(`--method is required: ${methodNames().join(", ")}`);
  const method = methodOf(flags.method);
  if ((flags.sparsity === undefined) === (flags.pattern === undefined)) {
    throw new CliError("give exactly one of --sparsity S or --pattern N:M");
  }
  const target = parseTarget(flags);
  const given = methodOptionsFromFlags(flags);
  useKernelsFlag(flags.kernels);
  // all cores by default, none when Deno may not read the workers' code (explicit --workers: checked)
  const workers = flags.workers === undefined && !workersCanStart()
    ? 1
    : workersFlag(flags.workers);
  checkWorkerPermission(workers);
  const repeat = repeatFlag(flags.repeat);
  const input = resolve(flags.in), output = resolve(flags.out);
  const writeOptions = { force: flags.force, inputs: [input] };
  await checkTarget(output, writeOptions); // fail before the work, not after
  const bytes = await readFile(input).catch((e: Error) => {
    throw new CliError(`cannot read ${flags.in}: ${e.message}`);
  });
  const layer = readLayer(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), flags.in);
  const { calib } = layer;
  if (!flags["allow-nonfinite"]) checkFiniteLayer(layer.weight, calib, flags.in);

  const options = appliedOptions(method, given); // this method's options, defaults filled in
  using pool = workers > 1 ? createPool({ size: workers }) : undefined;
  // read into shared memory for the workers, as the pipeline holds a model's weights (not timed)
  const weight = pool && sharedMemoryAvailable() ? toShared(layer.weight) : layer.weight;
  await startWorkers(pool); // not part of the timed work, as loading the file is not
  const times: number[] = [];
  let result!: Awaited<ReturnType<typeof pruneLayerParallel>>;
  for (let run = 0; run < repeat; run++) { // the same work each time; the last result is written
    const started = performance.now();
    result = await pruneLayerParallel(pool, method, weight, calib, target, options);
    times.push(performance.now() - started);
  }
  const timeMs = times[0], best = Math.min(...times);
  const timing = repeat === 1
    ? `in ${timeMs.toFixed(1)} ms`
    : `in ${timeMs.toFixed(1)} ms the first time, best of ${repeat} ${best.toFixed(1)} ms`;

  const total = weight.rows * weight.cols;
  const pruned = result.keep.reduce((n, v) => n + 1 - v, 0);
  const shape = [weight.rows, weight.cols];
  const entries = [
    { name: "weight", dtype: "F32" as const, shape, data: result.weight.data },
    { name: "mask", dtype: "U8" as const, shape, data: result.keep },
    ...(result.scores
      ? [{ name: "scores", dtype: "F32" as const, shape, data: result.scores.data }]
      : []),
  ];
  const competes = method.competes(target, options);
  const metadata = {
    method: method.name,
    options: JSON.stringify({ target, competes, ...options }),
    sparsity: String(total ? pruned / total : 0),
    time_ms: String(Number(timeMs.toFixed(3))),
    ...(repeat > 1 ? { best_time_ms: String(Number(best.toFixed(3))), runs: String(repeat) } : {}),
  };
  await writeFileAtomic(output, writeSafetensors(entries, metadata), writeOptions);
  const select = options.select === undefined ? "" : `, select ${options.select}`;
  io.stdout(
    `${method.name}: pruned ${pruned} of ${total} weights of [${shape}] (sparsity ${
      (pruned / (total || 1)).toFixed(4)
    }, ${targetText(target)} ${competes}${select}) ${timing} -> ${flags.out}\n`,
  );
  return 0;
}

/** `--repeat`: an integer from 1 to 1000 (default 1). */
function repeatFlag(value: string | undefined): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new CliError(`--repeat must be an integer from 1 to 1000, got "${value}"`);
  }
  return n;
}

/**
 * Runs the tool on `argv` (the arguments after the script name) and returns the exit status:
 * 0 on success, 2 on bad input (one line `error: ...` on stderr), 1 on any other failure.
 *
 * @param argv Command-line arguments.
 * @param io Where output and errors go (default: the process's stdout and stderr).
 * @returns The exit status.
 */
export function main(argv: string[], io?: CliIo): Promise<number> {
  return runCli(pruneLayer, argv, io);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
