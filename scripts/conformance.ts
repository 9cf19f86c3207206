/**
 * `deno task conformance`: writes the conformance suite, fixed inputs with expected outputs that
 * another backend (PyTorch, CUDA, WebGPU, ...) runs and checks with `deno task verify`. The cases
 * and the manifest are built in `src/conformance/`; this script loads the real layers and writes
 * the files. Conventions: `docs/conformance.md`.
 *
 * @module
 */
import { mkdir, readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import process from "node:process";
import { readLlama2c } from "../src/io/llama2c.ts";
import { encode, readTokenizer } from "../src/io/tokenizer.ts";
import { buildSuite, type Suite } from "../src/conformance/cases.ts";
import {
  type Dataset,
  handDataset,
  realLayerDataset,
  ridgeDataset,
  syntheticDatasets,
  tiesDataset,
} from "../src/conformance/datasets.ts";
import { CliError, type CliIo, parseFlags, runCli } from "./lib/cli.ts";
import { readBytes, writeFileAtomic } from "./lib/files.ts";

const USAGE = `Write the conformance suite: inputs, expected outputs and manifest.json.

usage: deno task conformance [--out DIR] [--small] [--shared DIR] [--force]

  --out DIR      where to write (default out/conformance); a non-empty DIR needs --force
  --small        only the small synthetic layers (no models needed; for tests and smoke runs)
  --shared DIR   the shared models and text (default ../shared)
  --force        write into a non-empty DIR, replacing files of the same names
`;

const FLAGS = {
  out: { type: "string", default: "out/conformance" },
  small: { type: "boolean", default: false },
  shared: { type: "string", default: "../shared" },
  force: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

/**
 * Tokens of real text fed to the models to capture real layer inputs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { REAL_TOKENS } from "./conformance.ts";
 * assert.equal(REAL_TOKENS, 64);
 * ```
 */
export const REAL_TOKENS = 64;

/** The real layers: small stories260K and llama4m layers with inputs from TinyStories text. */
async function realDatasets(shared: string): Promise<Dataset[]> {
  const read = (p: string) =>
    readBytes(join(shared, p)).catch((e: Error) => {
      throw new CliError(`cannot read the real layers (${e.message}); use --small to skip them`);
    });
  const tok = readTokenizer(await read("models/stories260K/tok512.bin"));
  const text = new TextDecoder().decode(
    await read("text/tinystories/TinyStories-validation-head.txt"),
  );
  const tokens = encode(tok, text.slice(0, 2000), { bos: true, eos: false }).slice(0, REAL_TOKENS);
  const stories = readLlama2c(await read("models/stories260K/stories260K.bin"));
  const llama4m = readLlama2c(await read("models/llama4m/llama4m.bin"));
  return [
    realLayerDataset(stories, tokens, 0, "wq", "stories260K-L0-wq"),
    realLayerDataset(stories, tokens, 2, "w2", "stories260K-L2-w2"),
    realLayerDataset(llama4m, tokens, 1, "wk", "llama4m-L1-wk"),
  ];
}

/** The layers of `--small`. */
const SMALL = ["hand2x4", "ties2x8", "ridge4x8", "odd1x8", "odd3x12"];

/**
 * The datasets of a suite.
 *
 * @param small Only the small synthetic layers (hand-checkable, ties, ridge, 1x8, 3x12).
 * @param shared The shared folder (models and text), for the full suite.
 * @returns The datasets, in a fixed order.
 * @throws {CliError} If a model or text file cannot be read (full suite only).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { suiteDatasets } from "./conformance.ts";
 * assert.deepEqual((await suiteDatasets(true)).map((d) => d.name), ["hand2x4", "ties2x8", "ridge4x8", "odd1x8", "odd3x12"]);
 * ```
 */
export async function suiteDatasets(small: boolean, shared = "../shared"): Promise<Dataset[]> {
  const synthetic = [handDataset(), tiesDataset(), ridgeDataset(), ...syntheticDatasets()];
  if (small) {
    return synthetic.filter((d) => SMALL.includes(d.name));
  }
  return [...synthetic, ...await realDatasets(shared)];
}

/**
 * Writes a suite's files under `dir`.
 *
 * @param dir The suite folder (created if needed).
 * @param suite The files.
 * @param force Replace existing files.
 * @throws {UnsafeWriteError} If a file exists and `force` is false.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtemp, readdir, rm } from "node:fs/promises";
 * import { join } from "node:path";
 * import { tmpdir } from "node:os";
 * import { buildSuite } from "../src/conformance/cases.ts";
 * import { handDataset } from "../src/conformance/datasets.ts";
 * import { writeSuite } from "./conformance.ts";
 * const dir = await mkdtemp(join(tmpdir(), "secateur-"));
 * await writeSuite(dir, buildSuite([handDataset()], { selectors: ["sort"] }), false);
 * assert.deepEqual((await readdir(dir)).sort(), ["expected", "inputs", "manifest.json"]);
 * await rm(dir, { recursive: true });
 * ```
 */
export async function writeSuite(dir: string, suite: Suite, force: boolean): Promise<void> {
  for (const [path, bytes] of suite.files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFileAtomic(join(dir, path), bytes, { force });
  }
}

async function conformance(argv: string[], io: CliIo): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags.help) {
    io.stdout(USAGE);
    return 0;
  }
  const entries = await readdir(flags.out).catch(() => [] as string[]);
  if (entries.length > 0 && !flags.force) {
    throw new CliError(`${flags.out} is not empty; pass --force to write into it`);
  }
  const suite = buildSuite(await suiteDatasets(flags.small, flags.shared), {
    generator: `secateur scripts/conformance.ts${flags.small ? " --small" : ""}`,
  });
  await writeSuite(flags.out, suite, flags.force);
  const { cases, datasets } = suite.manifest;
  const byMethod = new Map<string, number>();
  for (const c of cases) {
    const label = c.method + (c.xStat ? `-${c.xStat}` : "");
    byMethod.set(label, (byMethod.get(label) ?? 0) + 1);
  }
  io.stdout(
    `wrote ${cases.length} cases over ${Object.keys(datasets).length} layers to ${flags.out} (` +
      [...byMethod].map(([m, n]) => `${m} ${n}`).join(", ") + ")\n",
  );
  return 0;
}

/**
 * Runs the tool on `argv` and returns the exit status: 0 on success, 2 on bad input.
 *
 * @param argv Command-line arguments.
 * @param io Where output and errors go (default: the process's stdout and stderr).
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./conformance.ts";
 * let out = "";
 * const io = { stdout: (t: string) => void (out += t), stderr: () => {}, isTTY: false };
 * assert.equal(await main(["--help"], io), 0);
 * assert.match(out, /--small/);
 * ```
 */
export function main(argv: string[], io?: CliIo): Promise<number> {
  return runCli(conformance, argv, io);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
