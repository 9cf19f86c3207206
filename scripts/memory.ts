/**
 * `deno task memory`: the peak resident memory of `deno task prune`, measured, against the bound
 * of docs/memory.md: three times the checkpoint size plus one block's activations.
 *
 * Each run is `deno task prune` as `deno.json` defines it (same flags), in a child process, with
 * `--report` to a temporary file; the child reports its own peak resident set (`getrusage`, all
 * threads) and its resident set at start (the runtime plus the script's modules, before any data).
 * One block's activations are `blockActivationCount(config, nsamples * seqlen)` float32 values
 * (`src/model/llama.ts`: every tensor of one block's forward over the calibration tokens).
 *
 * Runs: llama4m with the defaults, with `--workers 1` and with the default number of workers.
 * `--large` adds a synthetic 157 MB checkpoint (llama4m's shape scaled up, random weights, written
 * to a temporary folder), where the model rather than the runtime dominates the peak. `--quick`
 * runs only llama4m with one worker; `--json` prints the runs as JSON, one per line. Exits 1 if a
 * run fails; the verdicts are printed, not enforced (`tests/memory_test.ts` enforces the bound on
 * what the run allocates). Run it from a shell or a small parent process: Linux starts a child's
 * `ru_maxrss` at its parent's peak, so under a big test runner the children's peaks are hidden
 * (`tests/memory_test.ts` runs this script as a child for that reason).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { writeLlama2c } from "../src/io/llama2c.ts";
import { blockActivationCount, tinyLlama } from "../src/model/llama.ts";
import { megabytes } from "./lib/memory.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LLAMA4M = resolve(ROOT, "../shared/models/llama4m/llama4m.bin");

/** One measured run. */
export interface MemoryRun {
  label: string;
  argv: string[];
  checkpointBytes: number;
  activationBytes: number;
  /** `3 * checkpointBytes + activationBytes`. */
  boundBytes: number;
  startBytes: number;
  peakBytes: number;
  seconds: number;
}

/** `deno task prune`'s command line from deno.json, split into the deno arguments and the script. */
function pruneCommand(): string[] {
  const tasks = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")).tasks;
  const words = String(tasks.prune).split(/\s+/);
  if (words[0] !== "deno") throw new Error(`Cannot read the prune task: ${tasks.prune}`);
  return words.slice(1);
}

/** Runs `prune argv` in a child process and returns what its report says about memory. */
export async function measurePrune(label: string, argv: string[]): Promise<MemoryRun> {
  const dir = mkdtempSync(join(tmpdir(), "secateur-memory-"));
  const report = join(dir, "report.json");
  const t0 = performance.now();
  try {
    const args = [...pruneCommand(), ...argv, "--quiet", "--report", report];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => void (stderr += d));
    const code = await new Promise<number>((done) => child.on("close", (c) => done(c ?? 1)));
    if (code !== 0) throw new Error(`prune ${argv.join(" ")} exited ${code}: ${stderr.trim()}`);
    const r = JSON.parse(readFileSync(report, "utf8"));
    if (r.memory.peak_resident_bytes === null) {
      throw new Error(
        "Cannot measure: the child's peak is hidden by this process's (run `deno task memory` from a shell)",
      );
    }
    const model = argv[argv.indexOf("--model") + 1];
    const config = r.model_config; // not read here: this process must stay small (module doc)
    const checkpointBytes = statSync(model).size;
    const tokens = r.calibration.nsamples * r.calibration.seqlen;
    const activationBytes = 4 * blockActivationCount(config, tokens);
    return {
      label,
      argv,
      checkpointBytes,
      activationBytes,
      boundBytes: 3 * checkpointBytes + activationBytes,
      startBytes: r.memory.start_resident_bytes,
      peakBytes: r.memory.peak_resident_bytes,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The table row and verdicts of a run. */
export function memoryLine(run: MemoryRun): string {
  const mb = (b: number) => megabytes(b).padStart(9);
  const total = run.peakBytes <= run.boundBytes ? "PASS" : "MISS";
  const allocated = run.peakBytes - run.startBytes <= run.boundBytes ? "PASS" : "MISS";
  return `${run.label.padEnd(30)} ${mb(run.checkpointBytes)} ${mb(run.activationBytes)} ${
    mb(run.boundBytes)
  } ${mb(run.peakBytes)} ${mb(run.startBytes)} ${mb(run.peakBytes - run.startBytes)}  ${
    total.padEnd(5)
  } ${allocated.padEnd(9)} ${run.seconds.toFixed(0).padStart(4)} s`;
}

const HEADER = `${"run".padEnd(30)} ${"ckpt".padStart(9)} ${"block act".padStart(9)} ${
  "bound".padStart(9)
} ${"peak RSS".padStart(9)} ${"at start".padStart(9)} ${
  "peak-start".padStart(9)
}  total allocated wall`;

/** Writes a random checkpoint of llama4m's layout scaled up (dim 768, hidden 2048, 6 blocks). */
function writeLargeCheckpoint(path: string): void {
  const model = tinyLlama({
    seed: 1,
    dim: 768,
    hiddenDim: 2048,
    nLayers: 6,
    nHeads: 12,
    nKvHeads: 6,
    vocabSize: 512,
    seqLen: 256,
  });
  writeFileSync(path, writeLlama2c(model));
}

/**
 * {@link writeLargeCheckpoint} in a child process: made here, its 500 MB would become this
 * process's peak, which Linux passes on to the runs it starts (see the module doc).
 */
async function writeLargeInChild(dir: string): Promise<string> {
  const path = join(dir, "large.bin"), script = fileURLToPath(import.meta.url);
  const args = ["run", `--allow-write=${dir}`, script, "--write-large", path];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] });
  const code = await new Promise<number>((done) => child.on("close", (c) => done(c ?? 1)));
  if (code !== 0) throw new Error(`Cannot write the synthetic checkpoint: exit ${code}`);
  return path;
}

async function main(args: string[]): Promise<number> {
  if (args[0] === "--write-large") { // the child of writeLargeInChild
    writeLargeCheckpoint(args[1]);
    return 0;
  }
  const quick = args.includes("--quick"), large = args.includes("--large");
  const json = args.includes("--json");
  const show = (run: MemoryRun) => console.log(json ? JSON.stringify(run) : memoryLine(run));
  const base = ["--model", LLAMA4M];
  if (!json) {
    console.log(
      "memory of `deno task prune` (bound: 3 x checkpoint + one block's activations)",
    );
    console.log(HEADER);
  }
  const runs: [string, string[]][] = [["llama4m, --workers 1", [...base, "--workers", "1"]]];
  if (!quick) runs.push(["llama4m, default workers", base]);
  for (const [label, argv] of runs) show(await measurePrune(label, argv));
  if (large) {
    const dir = mkdtempSync(join(tmpdir(), "secateur-large-"));
    try {
      const model = await writeLargeInChild(dir);
      const argv = ["--model", model, "--nsamples", "2", "--eval-tokens", "512"];
      for (const workers of ["1", "2"]) {
        const label = `synthetic 157 MB, --workers ${workers}`;
        show(await measurePrune(label, [...argv, "--workers", workers]));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (!json) {
    console.log(
      "total: peak RSS <= bound; allocated: peak RSS - RSS at start (the runtime and modules) <= bound",
    );
  }
  return 0;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
