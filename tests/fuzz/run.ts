/**
 * `deno task fuzz`: runs every fuzz target and prints, per target and per parser, the number of
 * cases, correct parses, typed errors by type, and untyped failures (which must be 0).
 *
 * Usage: `deno task fuzz [--runs N] [--seed S] [--only SUBSTRING]`; `FUZZ_RUNS` sets the default
 * number of cases per target (10,000). Exits 1 when any untyped failure was found, printing the
 * first few inputs that caused them with the seed to replay.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { type FuzzStats, fuzzTarget } from "./outcome.ts";
import { BASE_FILE_PATHS, CLI_SCRATCH_DIR, type FuzzBaseFiles, fuzzTargets } from "./targets.ts";

const DEFAULT_RUNS = 10_000;

/** Reads the base files that exist (the real models are optional). */
function readBaseFiles(): FuzzBaseFiles {
  const files: FuzzBaseFiles = {};
  for (const [key, path] of Object.entries(BASE_FILE_PATHS)) {
    try {
      files[key as keyof FuzzBaseFiles] = new Uint8Array(readFileSync(path));
    } catch {
      console.error(`fuzz: ${path} not found; mutating only the small files made here`);
    }
  }
  return files;
}

/** `RangeError: 12, TypeError: 3`. */
function typedSummary(typed: Record<string, number>): string {
  const parts = Object.entries(typed).sort().map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(", ") : "-";
}

function row(name: string, s: FuzzStats, ms: number): string {
  return `${name.padEnd(24)} ${String(s.cases).padStart(7)} ${String(s.parsed).padStart(7)}  ${
    typedSummary(s.typed).padEnd(40)
  } ${String(s.untyped).padStart(7)} ${(ms / 1000).toFixed(1).padStart(7)}`;
}

/** Adds `b` into `a`. */
function merge(a: FuzzStats, b: FuzzStats): void {
  a.cases += b.cases;
  a.parsed += b.parsed;
  a.untyped += b.untyped;
  for (const [k, v] of Object.entries(b.typed)) a.typed[k] = (a.typed[k] ?? 0) + v;
  a.examples.push(...b.examples);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { runs: { type: "string" }, seed: { type: "string" }, only: { type: "string" } },
  });
  const runs = Number(values.runs ?? Deno.env.get("FUZZ_RUNS") ?? DEFAULT_RUNS);
  const seed = Number(values.seed ?? Date.now() % 2 ** 31);
  if (!Number.isSafeInteger(runs) || runs <= 0 || !Number.isSafeInteger(seed)) {
    console.error(
      `fuzz: --runs must be a positive integer (got ${values.runs}), --seed an integer`,
    );
    return 2;
  }
  console.log(`fuzz: ${runs} cases per target, seed ${seed}`);
  console.log(
    `${"target".padEnd(24)} ${"cases".padStart(7)} ${"parsed".padStart(7)}  ${
      "typed errors".padEnd(40)
    } ${"untyped".padStart(7)} ${"secs".padStart(7)}`,
  );
  const byParser = new Map<string, FuzzStats>();
  const started = performance.now();
  for (const target of fuzzTargets(readBaseFiles(), CLI_SCRATCH_DIR)) {
    if (values.only !== undefined && !target.name.includes(values.only)) continue;
    const t0 = performance.now();
    const stats = await fuzzTarget(target, runs, seed);
    console.log(row(target.name, stats, performance.now() - t0));
    for (const example of stats.examples) console.log(`  UNTYPED: ${example}`);
    const total = byParser.get(target.parser) ??
      { cases: 0, parsed: 0, typed: {}, untyped: 0, examples: [], slowestMs: 0 };
    merge(total, stats);
    byParser.set(target.parser, total);
  }
  console.log("\nper parser:");
  for (const [parser, stats] of byParser) console.log(row(parser, stats, 0).slice(0, -8));
  const untyped = [...byParser.values()].reduce((n, s) => n + s.untyped, 0);
  console.log(
    `\n${untyped} untyped failures in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s (seed ${seed})`,
  );
  return untyped === 0 ? 0 : 1;
}

Deno.exit(await main());
