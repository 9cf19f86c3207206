/**
 * The docs are self-contained: every relative link of `README.md` and `docs/*.md` names a file of
 * this repository, and nothing in the docs or the code sends a reader to the specification we
 * started from (outside the repository); its readings are stated in `docs/readings.md`.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const pages = [
  "README.md",
  ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** The relative link targets of a markdown page (no scheme, no pure `#anchor`), without anchors. */
function relativeLinks(markdown: string): string[] {
  const targets = [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  return targets.filter((t) => !/^[a-z]+:/i.test(t) && !t.startsWith("#")).map((t) =>
    t.replace(/#.*$/, "")
  );
}

Deno.test("README.md and docs/*.md: every relative link names a file inside the repository", () => {
  const problems: string[] = [];
  for (const page of pages) {
    for (const link of relativeLinks(readFileSync(join(ROOT, page), "utf8"))) {
      const target = resolve(ROOT, dirname(page), link);
      const inside = !relative(ROOT, target).startsWith("..");
      if (!inside) problems.push(`${page}: ${link} leaves the repository`);
      else if (!existsSync(target)) problems.push(`${page}: ${link} does not exist`);
    }
  }
  assert.deepEqual(problems, []);
});

/** Every file under `dir` (recursively) whose name ends with one of `exts`. */
function files(dir: string, exts: string[]): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (statSync(join(ROOT, path)).isDirectory()) return files(path, exts);
    return exts.some((e) => name.endsWith(e)) ? [path] : [];
  });
}

Deno.test("docs and code never point to the specification outside the repository", () => {
  // built from pieces so that this file does not contain what it looks for
  const outside = [["algorithms", "md"].join("."), ["shared", "docs"].join("/")];
  const texts = [
    "README.md",
    "mod.ts",
    ...files("docs", [".md"]),
    ...files("src", [".ts"]),
    ...files(
      "scripts",
      [".ts"],
    ),
    ...files("tests", [".ts"]),
    ...files("bench", [".ts"]),
  ];
  const problems = texts.flatMap((path) =>
    readFileSync(join(ROOT, path), "utf8").split("\n").flatMap((line, i) =>
      outside.some((o) => line.includes(o)) ? [`${path}:${i + 1}: ${line.trim()}`] : []
    )
  );
  assert.deepEqual(problems, []);
});

Deno.test("relativeLinks: skips URLs and anchors, strips an anchor from a path", () => {
  assert.deepEqual(
    relativeLinks("[a](x.md) [b](https://e.org) [c](#top) [d](../y.md#s) [e](mailto:m)"),
    ["x.md", "../y.md"],
  );
});
