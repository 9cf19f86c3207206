/**
 * `deno task verify`: checks a backend's outputs against a conformance suite written by
 * `deno task conformance`. For every case it reads `<outputs>/<case>.safetensors` (tensors
 * `weight` F32, `mask` U8, `scores` F32, as `prune-layer` writes them), compares them as the
 * manifest says, and prints PASS or FAIL with the mismatched entries and the worst error and where
 * it is. `--run` first produces the outputs with this project's own `prune-layer`.
 *
 * Exit status: 0 when every case passes, 1 when any case fails, 2 on bad input (no suite, a bad
 * manifest, a missing outputs folder).
 *
 * @module
 */
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { readSafetensors } from "../src/io/safetensors.ts";
import { type ConformanceManifest, parseManifest } from "../src/conformance/manifest.ts";
import {
  type CaseReport,
  compareCase,
  formatCaseReport,
  type Tensor,
} from "../src/conformance/compare.ts";
import { main as pruneLayer } from "./prune-layer.ts";
import { CliError, type CliIo, parseFlags, runCli } from "./lib/cli.ts";

const USAGE = `Check a backend's outputs against a conformance suite.

usage: deno task verify --suite DIR --outputs DIR [--run] [--filter TEXT] [--verbose]

  --suite DIR     the suite (manifest.json, inputs/, expected/) from deno task conformance
  --outputs DIR   the backend's outputs: <case>.safetensors with weight (F32), mask (U8), scores (F32)
  --run           first write the outputs with this project's prune-layer (replacing old ones)
  --filter TEXT   only the cases whose name contains TEXT
  --verbose       also list the tensors of passing cases

exit status: 0 all pass, 1 some case fails, 2 bad input
`;

const FLAGS = {
  suite: { type: "string" },
  outputs: { type: "string" },
  run: { type: "boolean", default: false },
  filter: { type: "string" },
  verbose: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

/** Every tensor of a safetensors file (U8 as raw bytes, float types widened to float32). */
function readTensors(bytes: Uint8Array, source: string): Record<string, Tensor> {
  const file = readSafetensors(bytes, { source });
  const out: Record<string, Tensor> = {};
  for (const name of file.names) {
    const { dtype, shape } = file.info(name);
    out[name] = { dtype, shape, data: dtype === "U8" ? file.raw(name) : file.float32(name) };
  }
  return out;
}

async function readSuiteFile(suite: string, path: string): Promise<Uint8Array> {
  const bytes = await readFile(join(suite, path)).catch((e: Error) => {
    throw new CliError(`the suite is incomplete: ${e.message}`);
  });
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** The backend's tensors of one case, or why they could not be read. */
async function readOutput(path: string): Promise<Record<string, Tensor> | string> {
  try {
    const bytes = await readFile(path);
    return readTensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), path);
  } catch (e) {
    return `cannot read the output ${path}: ${(e as Error).message.split("\n")[0]}`;
  }
}

/** Runs this project's prune-layer on one case; returns an error message or null. */
async function runCase(suite: string, manifest: ConformanceManifest, name: string, out: string) {
  const c = manifest.cases.find((c) => c.name === name)!;
  let err = "";
  const io: CliIo = { stdout: () => {}, stderr: (t) => void (err += t), isTTY: false };
  const input = join(suite, manifest.datasets[c.dataset].file);
  const code = await pruneLayer(["--in", input, "--out", out, ...c.args, "--force", "--quiet"], io);
  return code === 0 ? null : `prune-layer exited ${code}: ${err.trim()}`;
}

async function verify(argv: string[], io: CliIo): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (argv.length === 0 || flags.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (!flags.suite || !flags.outputs) {
    throw new CliError("--suite DIR and --outputs DIR are required");
  }
  const manifest = parseManifest(
    new TextDecoder().decode(await readSuiteFile(flags.suite, "manifest.json")),
  );
  if (flags.run) await mkdir(flags.outputs, { recursive: true });
  if (!(await stat(flags.outputs).then((s) => s.isDirectory(), () => false))) {
    throw new CliError(`--outputs ${flags.outputs} is not a folder`);
  }
  const cases = manifest.cases.filter((c) => !flags.filter || c.name.includes(flags.filter));
  const inputs = new Map<string, Float32Array>();
  const reports: CaseReport[] = [];
  for (const c of cases) {
    const outPath = join(flags.outputs, `${c.name}.safetensors`);
    const runError = flags.run ? await runCase(flags.suite, manifest, c.name, outPath) : null;
    const dataset = manifest.datasets[c.dataset];
    if (!inputs.has(c.dataset)) {
      const file = await readSuiteFile(flags.suite, dataset.file);
      inputs.set(c.dataset, readTensors(file, dataset.file).weight.data as Float32Array);
    }
    const expected = readTensors(await readSuiteFile(flags.suite, c.expected), c.expected);
    const actual = runError ?? await readOutput(outPath);
    const report = compareCase(c, inputs.get(c.dataset)!, expected, actual);
    reports.push(report);
    io.stdout(formatCaseReport(report, flags.verbose));
  }
  const failed = reports.filter((r) => !r.ok).length;
  io.stdout(
    `verify: ${reports.length - failed} of ${reports.length} cases passed` +
      (failed ? `, ${failed} failed` : "") +
      ` (suite format ${manifest.format} v${manifest.version})\n`,
  );
  return failed ? 1 : 0;
}

/**
 * Runs the tool on `argv` and returns the exit status: 0 all cases pass, 1 some case fails,
 * 2 bad input (one line `error: ...` on stderr).
 *
 * @param argv Command-line arguments.
 * @param io Where output and errors go (default: the process's stdout and stderr).
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./verify.ts";
 * let err = "";
 * const io = { stdout: () => {}, stderr: (t: string) => void (err += t), isTTY: false };
 * assert.equal(await main(["--suite", "no/such/suite", "--outputs", "."], io), 2);
 * assert.match(err, /the suite is incomplete/);
 * ```
 */
export function main(argv: string[], io?: CliIo): Promise<number> {
  return runCli(verify, argv, io);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
