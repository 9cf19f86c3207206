/**
 * How far a backend's outputs are from a suite's expected ones, per method and tensor: entries
 * that differ at all (bit for bit), the largest absolute and relative difference, and the largest
 * `|a - e| / (atol + rtol |e|)` (the share of the case's tolerance used; 1 = at the limit).
 *
 *     deno run --allow-read tests/conformance/diff.ts SUITE OUTPUTS
 *
 * Used for the measured figures of `docs/conformance.md` (an independent float64 backend against
 * our suite) and by `tests/conformance_backend_test.ts`.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { readSafetensors } from "../../src/io/safetensors.ts";

/** The differences of one method's tensor over every case of the method. */
export interface TensorDiff {
  method: string;
  tensor: string;
  cases: number;
  entries: number;
  /** Entries whose float32 bits differ. */
  differing: number;
  maxAbs: number;
  maxRel: number;
  /** Largest share of the tolerance used (close checks only; 0 otherwise). */
  maxShare: number;
  /** The case of the largest share (or of the first difference). */
  worstCase: string;
}

/**
 * Compares every output of `outputs` with the suite's expected tensors (cases without an output
 * file are left out).
 *
 * @param suite The suite folder.
 * @param outputs The backend's outputs.
 * @returns One row per method label and tensor, in first-seen order.
 */
export async function diffOutputs(suite: string, outputs: string): Promise<TensorDiff[]> {
  const manifest = JSON.parse(await readFile(join(suite, "manifest.json"), "utf8"));
  const rows = new Map<string, TensorDiff>();
  for (const c of manifest.cases) {
    const label = c.method + (c.xStat ? `-${c.xStat}` : "");
    const want = readSafetensors(new Uint8Array(await readFile(join(suite, c.expected))));
    const bytes = await readFile(join(outputs, `${c.name}.safetensors`)).catch(() => null);
    if (bytes === null) continue; // not run by this backend
    const got = readSafetensors(new Uint8Array(bytes));
    for (
      const [tensor, check] of Object.entries(c.checks) as [
        string,
        Record<string, number | string>,
      ][]
    ) {
      if (!want.has(tensor) || !got.has(tensor)) continue;
      const key = `${label} ${tensor}`;
      const row = rows.get(key) ??
        {
          method: label,
          tensor,
          cases: 0,
          entries: 0,
          differing: 0,
          maxAbs: 0,
          maxRel: 0,
          maxShare: 0,
          worstCase: "",
        };
      rows.set(key, row);
      row.cases++;
      const e = tensor === "mask" ? want.raw(tensor) : want.float32(tensor);
      const a = tensor === "mask" ? got.raw(tensor) : got.float32(tensor);
      for (let i = 0; i < e.length; i++) {
        row.entries++;
        if (Object.is(a[i], e[i])) continue;
        if (row.differing++ === 0 && !row.worstCase) row.worstCase = c.name;
        const abs = Math.abs(a[i] - e[i]);
        row.maxAbs = Math.max(row.maxAbs, abs);
        if (e[i] !== 0) row.maxRel = Math.max(row.maxRel, abs / Math.abs(e[i]));
        if (check.compare === "close") {
          const share = abs / ((check.atol as number) + (check.rtol as number) * Math.abs(e[i]));
          if (share > row.maxShare) [row.maxShare, row.worstCase] = [share, c.name];
        }
      }
    }
  }
  return [...rows.values()];
}

/**
 * The rows as a table.
 *
 * @param rows From {@link diffOutputs}.
 * @returns Text, one line per row.
 */
export function formatDiff(rows: TensorDiff[]): string {
  const g = (v: number) => (v === 0 ? "0" : v.toPrecision(3));
  let text =
    "method            tensor  cases  entries  differ  max abs   max rel   tol used  worst case\n";
  for (const r of rows) {
    text += `${r.method.padEnd(17)} ${r.tensor.padEnd(7)} ${String(r.cases).padStart(5)} ` +
      `${String(r.entries).padStart(8)} ${String(r.differing).padStart(7)}  ${
        g(r.maxAbs).padEnd(9)
      } ` +
      `${g(r.maxRel).padEnd(9)} ${g(r.maxShare).padEnd(9)} ${r.worstCase}\n`;
  }
  return text;
}

if (import.meta.main) {
  process.stdout.write(formatDiff(await diffOutputs(process.argv[2], process.argv[3])));
}
