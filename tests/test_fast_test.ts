/**
 * `deno task test:fast` is the edit loop's subset of the suite: no real model, no worker, no child
 * process, no bundling. This test keeps it so: every test file the task names is checked for
 * what would break that promise, and `deno task test` (the full suite) still runs every file.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const tasks = JSON.parse(readFileSync(new URL("../deno.json", import.meta.url), "utf8")).tasks;

/** What a fast test file must not use, and why. */
const FORBIDDEN: [RegExp, string][] = [
  [/\.\.\/shared|SHARED\b|DEFAULTS\b/, "a real model or text from ../shared"],
  [/scripts\/(prune|explain|eval|extract-layer|memory)\.ts/, "a CLI that reads a real model by default"],
  [/createPool|Parallel\(|withPool/, "workers"],
  [/Deno\.Command|child_process|spawn\(|execFile/, "a child process"],
  [/esbuild|bundle/i, "bundling"],
];

Deno.test("test:fast: its files use no real model, no worker, no child process, no bundling", () => {
  const command: string = tasks["test:fast"];
  const files = command.split(/\s+/).filter((a) => a.startsWith("tests/"));
  assert.ok(files.length > 10, command);
  assert.match(command, / src\/ --ignore=src\/parallel /); // doc tests, without the pool's
  for (const file of files) {
    const text = readFileSync(new URL(`../${file}`, import.meta.url), "utf8");
    for (const [pattern, what] of FORBIDDEN) {
      if (file === "tests/test_fast_test.ts") continue; // names them
      assert.ok(!pattern.test(text), `${file} uses ${what} (${pattern})`);
    }
  }
});

Deno.test("test: the full suite runs every test file, test:fast's included", () => {
  assert.match(tasks.test, /\btests\/( |$)/);
  assert.match(tasks.test, /\bsrc\/( |$)/);
});
