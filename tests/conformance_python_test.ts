import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main as conformance } from "../scripts/conformance.ts";
import { main as verify } from "../scripts/verify.ts";
import { capture } from "./lib/capture.ts";

/**
 * The interpreter for `docs/conformance_example.py`: `$SECATEUR_PYTHON` or `python3`, if it imports
 * numpy and safetensors.numpy; else null (CI machines need not have them: the test is skipped and
 * says so; nothing else in the project needs Python).
 */
async function python(): Promise<{ exe: string } | { reason: string }> {
  const exe = Deno.env.get("SECATEUR_PYTHON") ?? "python3";
  try {
    const r = await new Deno.Command(exe, {
      args: ["-c", "import numpy, safetensors.numpy"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (r.success) return { exe };
    const why = new TextDecoder().decode(r.stderr).trim().split("\n").pop();
    return { reason: `${exe} cannot import numpy and safetensors.numpy (${why})` };
  } catch (e) {
    return { reason: `${exe} not found (${(e as Error).name})` };
  }
}

const py = await python();
const name =
  "docs/conformance_example.py (numpy backend) passes verify --methods magnitude,wanda,swiftprune";

if ("reason" in py) {
  console.log(`SKIPPED ${name}: ${py.reason}; set SECATEUR_PYTHON to an interpreter that has them`);
}

Deno.test({
  name: "exe" in py ? name : `${name} [SKIPPED: ${py.reason}]`,
  ignore: !("exe" in py),
  async fn() {
    const dir = await mkdtemp(join(tmpdir(), "secateur-python-"));
    try {
      const suite = join(dir, "suite"), outputs = join(dir, "outputs");
      assert.equal(await conformance(["--out", suite, "--small"], capture()), 0);
      const run = await new Deno.Command((py as { exe: string }).exe, {
        args: ["docs/conformance_example.py", suite, outputs],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
      assert.ok(run.success, text);
      assert.match(text, /wrote \d+ cases to .*; skipped \d+ of methods this backend lacks/);
      const io = capture();
      const code = await verify(
        ["--suite", suite, "--outputs", outputs, "--methods", "magnitude,wanda,swiftprune"],
        io,
      );
      assert.equal(code, 0, io.out);
      assert.match(io.out, /\ntotal +(\d+) +0 +0\n/);
    } finally {
      await rm(dir, { recursive: true });
    }
  },
});
