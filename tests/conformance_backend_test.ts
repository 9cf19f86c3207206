import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main as conformance } from "../scripts/conformance.ts";
import { main as verify } from "../scripts/verify.ts";
import { type Bugs, runBackend } from "./conformance/backend.ts";
import { diffOutputs } from "./conformance/diff.ts";
import { capture } from "./lib/capture.ts";

/** The small suite, written once for every test of this file. */
async function withSuite(body: (suite: string, dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), "secateur-backend-"));
  try {
    const suite = join(dir, "suite");
    assert.equal(await conformance(["--out", suite, "--small"], capture()), 0);
    await body(suite, dir);
  } finally {
    await rm(dir, { recursive: true });
  }
}

/** Runs the independent backend with `bugs` on `methods`, then verify; returns verify's output. */
async function runAndVerify(suite: string, dir: string, methods: string[], bugs: Bugs) {
  const out = join(dir, `out-${methods.join("-")}-${Object.keys(bugs).join("-") || "clean"}`);
  await mkdir(out, { recursive: true });
  const written = await runBackend(suite, out, methods, bugs);
  const io = capture();
  const code = await verify(
    ["--suite", suite, "--outputs", out, "--methods", methods.join(",")],
    io,
  );
  return { code, out: io.out, written, dir: out };
}

Deno.test("independent backend (tests/conformance/backend.ts, from the docs): every case passes; all but FISTA's weights bit for bit", async () => {
  await withSuite(async (suite, dir) => {
    const methods = ["magnitude", "wanda", "swiftprune", "sparsegpt", "fista"];
    const r = await runAndVerify(suite, dir, methods, {});
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`verify: ${r.written} of ${r.written} cases passed`));
    for (const row of await diffOutputs(suite, r.dir)) {
      if (row.method === "fista" && row.tensor === "weight") {
        assert.ok(row.maxShare < 1, `FISTA weights within tolerance: ${JSON.stringify(row)}`);
      } else {
        assert.equal(row.differing, 0, `${row.method} ${row.tensor} bit for bit`);
      }
    }
  });
});

Deno.test("verify catches a backend without SwiftPrune's ridge, with the wrong damping or block size, or FISTA ignoring K, T, the warm start or per-operator rounding", async () => {
  await withSuite(async (suite, dir) => {
    const planted: Array<[string, Bugs, RegExp]> = [
      ["swiftprune", { noRidge: true }, /FAIL swiftprune-norm-row50-sort-ridge4x8\n/],
      ["sparsegpt", { absoluteDamp: true }, /FAIL sparsegpt-layer50-ridge4x8\n/],
      ["sparsegpt", { ignoreBlocksize: true }, /FAIL sparsegpt-bs4-layer50-odd3x12\n/],
      [
        "fista",
        { fistaDefaults: true },
        /FAIL fista-k5-.*\n(.*\n)*FAIL fista-t1-.*\n(.*\n)*FAIL fista-warmsgpt-/,
      ],
      ["fista", { fistaRoundByGroup: true }, /FAIL fista-row30-odd3x12\n/],
    ];
    for (const [method, bugs, failure] of planted) {
      const r = await runAndVerify(suite, dir, [method], bugs);
      assert.equal(r.code, 1, `${JSON.stringify(bugs)} must fail:\n${r.out}`);
      assert.match(r.out, failure);
    }
  });
});

Deno.test("a float32 FISTAPruner port (every operation rounded to float32) passes the FISTA cases", async () => {
  await withSuite(async (suite, dir) => {
    const r = await runAndVerify(suite, dir, ["fista"], { fistaFloat32: true });
    assert.equal(r.code, 0, r.out);
    const [weight] = (await diffOutputs(suite, r.dir)).filter((d) => d.tensor === "weight");
    assert.ok(weight.differing > 0, "float32 arithmetic does change the weights");
    assert.ok(weight.maxShare < 1, JSON.stringify(weight));
  });
});
