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

Deno.test("bundle: the HF tokenizer (npm @huggingface/tokenizers) and folder reader run in the bare vm context", async () => {
  const iife = await bundleForBrowser("mod.ts", "iife");
  const json = Deno.readTextFileSync("../shared/models/hf/opt/tokenizer.json");
  const config = Deno.readTextFileSync("../shared/models/hf/opt/config.json");
  const example = `(async () => {
    const tok = secateur.hfTokenizer(${JSON.stringify(json)});
    const weights = secateur.writeSafetensors([{ name: "w", dtype: "BF16", shape: [2], data: new Float32Array([1, -2]) }]);
    const folder = await secateur.openHfFolder(secateur.memoryFolder({
      "config.json": Uint8Array.from(new TextEncoder().encode(${
    JSON.stringify(config)
  })), "model.safetensors": weights }));
    return Array.from(tok.encode("Once upon a time")).join(",") + " " + Array.from(await folder.tensors.float32("w")).join(",");
  })()`;
  const { result } = runInBrowserLikeContext(iife, example);
  const reference = JSON.parse(Deno.readTextFileSync("tests/golden/hf/reference.json"));
  assert.equal(await result, `${reference.models.opt.once_upon_a_time_ids.join(",")} 1,-2`);
});
