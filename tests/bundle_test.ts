import assert from "node:assert/strict";
import * as secateur from "../mod.ts";
import {
  bundleForBrowser,
  EXAMPLE,
  forbiddenReferences,
  runInBrowserLikeContext,
} from "../scripts/bundle-check.ts";

Deno.test("bundle: mod.ts bundles for the browser with no Deno/Node API and runs in a bare vm context", async () => {
  const iife = await bundleForBrowser("mod.ts", "iife");
  assert.deepEqual(forbiddenReferences(iife), []);
  const { result, hostGlobals } = runInBrowserLikeContext(iife);
  assert.equal(hostGlobals, "undefined undefined undefined undefined");
  // the mask is the hand-worked one (wanda, 50% per row, docs/conformance.md); the rest must equal
  // what the same example gives in Deno on the unbundled sources
  assert.match(String(result), /^00110011 /);
  assert.equal(result, new Function("secateur", `return ${EXAMPLE}`)(secateur));
  const [, , cases] = String(result).split(" ");
  const [passed, total] = cases.split("/");
  assert.ok(Number(total) > 0 && passed === total, cases);
});

Deno.test("bundle: a module that imports a Node built-in does not bundle for the browser", async () => {
  await assert.rejects(() => bundleForBrowser("scripts/lib/cli.ts", "esm"), /node:process/);
  const esm = await bundleForBrowser("src/parallel/pool.ts", "esm");
  assert.deepEqual(forbiddenReferences(esm), []);
  assert.match(esm, /new Worker\(/); // created lazily, inside createPool
});
