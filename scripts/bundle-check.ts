/**
 * `deno task bundle-check`: bundles the library (`mod.ts`) for the browser with esbuild
 * (`platform: "browser"`), checks the bundle names no Deno or Node API, and runs a small example
 * of it in a browser-like environment: a fresh `node:vm` context holding only the JavaScript
 * built-ins plus `TextEncoder`/`TextDecoder`/`performance.now` (no `process`, `require`, `Deno`, `Worker`, file
 * system). `--html DIR` also writes the ES-module bundle and a page that runs the same example, for
 * a real browser (e.g. `chromium --headless --dump-dom file://DIR/index.html`).
 *
 * The worker pool (`src/parallel/`) creates `new Worker(new URL("./worker.ts", import.meta.url))`
 * only when a pool is made, so the bundle loads without `Worker`; a bundled page that wants
 * workers must serve `worker.ts` (compiled) next to the bundle.
 *
 * @module
 */
import * as esbuild from "esbuild";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import vm from "node:vm";
import { CliError, type CliIo, parseFlags, runCli } from "./lib/cli.ts";

/**
 * References a browser bundle must not contain.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FORBIDDEN } from "./bundle-check.ts";
 * assert.ok(FORBIDDEN.includes("Deno."));
 * ```
 */
export const FORBIDDEN = ["Deno.", "node:", "process.env", 'require("fs")'];

/**
 * Bundles `entry` for the browser.
 *
 * @param entry The entry module (default `mod.ts`).
 * @param format `"esm"` (what a page imports) or `"iife"` (a script defining `secateur`).
 * @returns The bundle's text.
 * @throws {Error} esbuild's error when the bundle fails (e.g. an import of a Node built-in).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bundleForBrowser } from "./bundle-check.ts";
 * assert.match(await bundleForBrowser("src/tensor/matrix.ts", "esm"), /export \{/);
 * ```
 */
export async function bundleForBrowser(
  entry = "mod.ts",
  format: "esm" | "iife" = "iife",
): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: "browser",
    format,
    globalName: format === "iife" ? "secateur" : undefined,
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  await esbuild.stop();
  return result.outputFiles[0].text;
}

/**
 * The forbidden references found in a bundle, each with a little context.
 *
 * @param code The bundle.
 * @returns One line per occurrence (empty when clean).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forbiddenReferences } from "./bundle-check.ts";
 * assert.equal(forbiddenReferences("let a = Deno.args;").length, 1);
 * assert.deepEqual(forbiddenReferences("let a = 1;"), []);
 * ```
 */
export function forbiddenReferences(code: string): string[] {
  const found: string[] = [];
  for (const word of FORBIDDEN) {
    for (let at = code.indexOf(word); at >= 0; at = code.indexOf(word, at + 1)) {
      found.push(
        `${word} at ${at}: ${code.slice(Math.max(0, at - 40), at + 40).replace(/\s+/g, " ")}`,
      );
    }
  }
  return found;
}

/**
 * The example every environment runs: Wanda at 50% per row on the hand-checkable 2x4 layer, a
 * safetensors round trip of the result, and the conformance suite of that layer checked against
 * itself. Evaluates to a string `"<mask> <bytes> <cases passed>/<cases>"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as secateur from "../mod.ts";
 * import { EXAMPLE } from "./bundle-check.ts";
 * assert.match(new Function("secateur", `return ${EXAMPLE}`)(secateur), /^00110011 /);
 * ```
 */
export const EXAMPLE = `(() => {
  const s = secateur;
  const w = s.fromRows([[1, -4, 2, 3], [0.5, -0.25, 8, -2]]);
  const target = { kind: "unstructured", sparsity: 0.5, group: "row" };
  const r = s.methodByName("wanda").prune(w, { colNorms: new Float32Array([1, 1, 4, 2]) }, target);
  const bytes = s.writeSafetensors([{ name: "mask", dtype: "U8", shape: [2, 4], data: r.keep }]);
  const back = s.readSafetensors(bytes).raw("mask");
  const suite = s.buildSuite([s.handDataset()], { selectors: ["sort", "ewma-exact"] });
  let passed = 0;
  for (const c of suite.manifest.cases) {
    const file = s.readSafetensors(suite.files.get(c.expected));
    const t = {};
    for (const n of file.names) {
      const { dtype, shape } = file.info(n);
      t[n] = { dtype, shape, data: dtype === "U8" ? file.raw(n) : file.float32(n) };
    }
    if (s.compareCase(c, w.data, t, t).ok) passed++;
  }
  return Array.from(back).join("") + " " + bytes.length + " " + passed + "/" + suite.manifest.cases.length;
})()`;

/**
 * Runs an IIFE bundle and then {@link EXAMPLE} in a fresh `node:vm` context with only the
 * JavaScript built-ins and `TextEncoder`/`TextDecoder` and `performance.now`.
 *
 * @param bundle The IIFE bundle (defines `secateur`).
 * @returns What the example evaluates to, and the types of the host globals seen in the context.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runInBrowserLikeContext } from "./bundle-check.ts";
 * const { hostGlobals } = runInBrowserLikeContext("var secateur = {};", "1");
 * assert.equal(hostGlobals, "undefined undefined undefined undefined");
 * ```
 */
export function runInBrowserLikeContext(
  bundle: string,
  example = EXAMPLE,
): { result: unknown; hostGlobals: string } {
  // Web globals every browser and worker has; nothing Node- or Deno-specific.
  const context = vm.createContext({
    TextEncoder,
    TextDecoder,
    performance: { now: () => performance.now() },
  });
  const hostGlobals = vm.runInContext(
    "[typeof process, typeof require, typeof Deno, typeof Worker].join(' ')",
    context,
  );
  vm.runInContext(bundle, context);
  return { result: vm.runInContext(example, context), hostGlobals };
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>secateur bundle check</title>
<pre id="out">running</pre>
<script type="module">
import * as secateur from "./secateur.js";
globalThis.secateur = secateur;
try {
  document.getElementById("out").textContent = "result: " + ${EXAMPLE};
} catch (e) {
  document.getElementById("out").textContent = "error: " + e;
}
</script>
`;

async function bundleCheck(argv: string[], io: CliIo): Promise<number> {
  const flags = parseFlags(argv, { html: { type: "string" }, help: { type: "boolean" } });
  if (flags.help) {
    io.stdout("usage: deno task bundle-check [--html DIR]\n");
    return 0;
  }
  const iife = await bundleForBrowser("mod.ts", "iife");
  const esm = await bundleForBrowser("mod.ts", "esm");
  const bad = [...forbiddenReferences(iife), ...forbiddenReferences(esm)];
  if (bad.length) throw new CliError(`the browser bundle references host APIs:\n${bad.join("\n")}`);
  const { result, hostGlobals } = runInBrowserLikeContext(iife);
  io.stdout(
    `bundle ok: mod.ts -> ${iife.length} bytes (iife), ${esm.length} bytes (esm); no ` +
      `${FORBIDDEN.join(", ")}; vm context (process/require/Deno/Worker: ${hostGlobals}) ran the ` +
      `example: ${result}\n`,
  );
  if (flags.html) {
    await mkdir(flags.html, { recursive: true });
    await writeFile(join(flags.html, "secateur.js"), esm);
    await writeFile(join(flags.html, "index.html"), PAGE);
    io.stdout(`wrote ${join(flags.html, "index.html")} and secateur.js\n`);
  }
  return 0;
}

/**
 * Runs the check and returns the exit status: 0 when the bundle is clean and the example runs.
 *
 * @param argv Command-line arguments (`--html DIR`).
 * @param io Where output and errors go.
 * @returns The exit status.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./bundle-check.ts";
 * let out = "";
 * const io = { stdout: (t: string) => void (out += t), stderr: () => {}, isTTY: false };
 * assert.equal(await main(["--help"], io), 0);
 * assert.match(out, /--html/);
 * ```
 */
export function main(argv: string[], io?: CliIo): Promise<number> {
  return runCli(bundleCheck, argv, io);
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
