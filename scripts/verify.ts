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
import { isAbsolute, join, resolve } from "node:path";
import process from "node:process";
import { readSafetensors } from "../src/io/safetensors.ts";
import {
  type ConformanceCase,
  type ConformanceManifest,
  parseManifest,
} from "../src/conformance/manifest.ts";
import {
  type CaseReport,
  compareCase,
  formatCaseReport,
  type Tensor,
} from "../src/conformance/compare.ts";
import { main as pruneLayer } from "./prune-layer.ts";
import { CliError, type CliIo, parseFlags, runCli } from "./lib/cli.ts";

const USAGE = `Check a backend's outputs against a conformance suite.

usage: deno task verify --suite DIR --outputs DIR [--methods A,B] [--run] [--filter TEXT] [--verbose]

  --suite DIR     the suite (manifest.json, inputs/, expected/) from deno task conformance
  --outputs DIR   the backend's outputs: <case>.safetensors with weight (F32), mask (U8), scores (F32)
  --methods A,B   only these methods (a backend that implements a few): method names as in the
                  summary (magnitude, wanda, swiftprune, swiftprune-token, sparsegpt, fista, ...)
  --run           first write the outputs with this project's prune-layer (replacing old ones)
  --filter TEXT   only the cases whose name contains TEXT
  --verbose       also list the tensors of passing cases

Ends with a table per method: cases passed, failed, and missing (no output file).
exit status: 0 all selected cases pass, 1 some case fails or is missing, 2 bad input
`;

const FLAGS = {
  suite: { type: "string" },
  outputs: { type: "string" },
  run: { type: "boolean", default: false },
  filter: { type: "string" },
  methods: { type: "string" },
  verbose: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

const FLOAT_DTYPES = new Set(["F32", "F16", "BF16", "F64"]);

/**
 * Every tensor of a safetensors file: float types widened to float32, others (U8, and the BOOL or
 * I64 masks some backends write) as raw bytes, so the comparison can name the wrong dtype.
 */
function readTensors(bytes: Uint8Array, source: string): Record<string, Tensor> {
  const file = readSafetensors(bytes, { source });
  const out: Record<string, Tensor> = {};
  for (const name of file.names) {
    const { dtype, shape } = file.info(name);
    out[name] = {
      dtype,
      shape,
      data: FLOAT_DTYPES.has(dtype) ? file.float32(name) : file.raw(name),
    };
  }
  return out;
}

async function readSuiteFile(suite: string, path: string): Promise<Uint8Array> {
  const bytes = await readFile(join(suite, path)).catch((e: Error) => {
    const code = (e as { code?: string }).code ?? e.name;
    throw new CliError(
      `the suite is incomplete: cannot read ${path} in --suite ${suite} (resolved to ` +
        `${resolve(suite, path)}${
          isAbsolute(suite) ? "" : "; deno task resolves relative paths from the project folder"
        }): ${code}`,
    );
  });
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** The backend's tensors of one case, or why they could not be read (`missing`: no file). */
async function readOutput(
  path: string,
): Promise<
  { tensors: Record<string, Tensor> } | { error: string; missing: boolean }
> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const missing = (e as { code?: string }).code === "ENOENT";
    return {
      missing,
      error: missing
        ? `no output file ${path}`
        : `cannot read the output ${path}: ${(e as Error).message.split("\n")[0]}`,
    };
  }
  try {
    return {
      tensors: readTensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), path),
    };
  } catch (e) {
    return {
      missing: false,
      error: `cannot read the output ${path}: ${(e as Error).message.split("\n")[0]}`,
    };
  }
}

/**
 * The method label of a case as the summary and `--methods` name it: the method, with
 * SwiftPrune's statistic (`swiftprune-token`).
 *
 * @param c The case.
 * @returns The label.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodLabel } from "./verify.ts";
 * assert.equal(methodLabel({ method: "swiftprune", xStat: "mean" }), "swiftprune-mean");
 * assert.equal(methodLabel({ method: "wanda" }), "wanda");
 * ```
 */
export function methodLabel(c: Pick<ConformanceCase, "method" | "xStat">): string {
  return c.method + (c.xStat ? `-${c.xStat}` : "");
}

/** The cases `--methods` selects: a name matches a case's method or its label. */
function selectMethods(cases: ConformanceCase[], methods: string | undefined): ConformanceCase[] {
  if (methods === undefined) return cases;
  const wanted = methods.split(",").map((m) => m.trim()).filter((m) => m !== "");
  const known = new Set(cases.flatMap((c) => [c.method, methodLabel(c)]));
  const unknown = wanted.filter((m) => !known.has(m));
  if (wanted.length === 0 || unknown.length > 0) {
    throw new CliError(
      `--methods: unknown method ${unknown.join(", ") || "(none given)"}; the suite has ` +
        [...known].sort().join(", "),
    );
  }
  return cases.filter((c) => wanted.includes(c.method) || wanted.includes(methodLabel(c)));
}

/**
 * The per-method table: cases passed, failed (compared and wrong, or unreadable) and missing (no
 * output file).
 *
 * @param rows One entry per case: its method label and its report.
 * @returns The table, one line per method in first-seen order, then a total line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summaryTable } from "./verify.ts";
 * const t = summaryTable([
 *   { label: "wanda", report: { name: "a", ok: true, tensors: [] } },
 *   { label: "fista", report: { name: "b", ok: false, tensors: [], missing: true } },
 * ]);
 * assert.match(t, /wanda +1 +0 +0\n/);
 * assert.match(t, /fista +0 +0 +1\n/);
 * ```
 */
export function summaryTable(rows: Array<{ label: string; report: CaseReport }>): string {
  const counts = new Map<string, [number, number, number]>();
  const total: [number, number, number] = [0, 0, 0];
  for (const { label, report } of rows) {
    const c = counts.get(label) ?? [0, 0, 0];
    const k = report.ok ? 0 : report.missing ? 2 : 1;
    c[k]++, total[k]++;
    counts.set(label, c);
  }
  const width = Math.max(6, ...[...counts.keys()].map((k) => k.length));
  const line = (name: string, [p, f, m]: number[]) =>
    `${name.padEnd(width)}  ${String(p).padStart(6)}  ${String(f).padStart(6)}  ${
      String(m).padStart(7)
    }\n`;
  let text = `${"method".padEnd(width)}  passed  failed  missing\n`;
  for (const [name, c] of counts) text += line(name, c);
  return text + line("total", total);
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
  const cases = selectMethods(manifest.cases, flags.methods)
    .filter((c) => !flags.filter || c.name.includes(flags.filter));
  const inputs = new Map<string, Float32Array>();
  const reports: CaseReport[] = [];
  const rows: Array<{ label: string; report: CaseReport }> = [];
  for (const c of cases) {
    const outPath = join(flags.outputs, `${c.name}.safetensors`);
    const runError = flags.run ? await runCase(flags.suite, manifest, c.name, outPath) : null;
    const dataset = manifest.datasets[c.dataset];
    if (!inputs.has(c.dataset)) {
      const file = await readSuiteFile(flags.suite, dataset.file);
      inputs.set(c.dataset, readTensors(file, dataset.file).weight.data as Float32Array);
    }
    const expected = readTensors(await readSuiteFile(flags.suite, c.expected), c.expected);
    const actual = runError === null
      ? await readOutput(outPath)
      : { error: runError, missing: false };
    const report: CaseReport = "tensors" in actual
      ? compareCase(c, inputs.get(c.dataset)!, expected, actual.tensors)
      : { name: c.name, ok: false, tensors: [], ...actual };
    reports.push(report);
    rows.push({ label: methodLabel(c), report });
    io.stdout(formatCaseReport(report, flags.verbose));
  }
  const failed = reports.filter((r) => !r.ok).length;
  const missing = reports.filter((r) => r.missing).length;
  io.stdout("\n" + summaryTable(rows));
  io.stdout(
    `verify: ${reports.length - failed} of ${reports.length} cases passed` +
      (failed ? `, ${failed - missing} failed, ${missing} missing` : "") +
      ` (${flags.methods ? `methods ${flags.methods}; ` : ""}` +
      `suite format ${manifest.format} v${manifest.version})\n`,
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
