import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors, type SafetensorsEntry, writeSafetensors } from "../src/io/safetensors.ts";
import { buildSuite } from "../src/conformance/cases.ts";
import { compareCase } from "../src/conformance/compare.ts";
import {
  handDataset,
  ridgeDataset,
  syntheticDatasets,
  tiesDataset,
} from "../src/conformance/datasets.ts";
import { parseManifest } from "../src/conformance/manifest.ts";
import { main as conformance, writeSuite } from "../scripts/conformance.ts";
import { main as verify } from "../scripts/verify.ts";
import { suiteDigests } from "./bun/digests.ts";
import { capture } from "./lib/capture.ts";

const bits = (s: string) => Array.from(s.replaceAll(" ", ""), Number);

Deno.test("conformance: expected masks of the hand and ties layers equal the hand-worked ones", () => {
  // Worked out by hand in the datasets' descriptions (and docs/conformance.md), not by the code.
  const hand: Record<string, string> = {
    "magnitude-row50-sort-hand2x4": "0101 0011",
    "magnitude-layer50-sort-hand2x4": "0101 0011",
    "magnitude-2of4-hand2x4": "0101 0011",
    "wanda-row50-sort-hand2x4": "0011 0011",
    "wanda-layer50-sort-hand2x4": "0011 0011",
    "swiftprune-norm-row50-sort-hand2x4": "0110 0011",
    "magnitude-row50-sort-ties2x8": "00001111 11001100",
    "magnitude-layer50-sort-ties2x8": "00000000 11111111",
    "wanda-2of4-ties2x8": "00110011 11001100",
    "swiftprune-token-4of8-ties2x8": "00001111 11001100",
    "swiftprune-mean-row50-ewma-exact-ties2x8": "00001111 11001100",
    // ridge4x8: column 0 crosses the boundary at the default eps, 1e-4, 1e-2 in rows 0, 1, 2
    "swiftprune-norm-row50-sort-ridge4x8": "00001111 10001011 10001011 10001011",
    "swiftprune-token-eps1e-4-row50-sort-ridge4x8": "00001111 00001111 10001011 10001011",
    "swiftprune-mean-eps1e-2-row50-sort-ridge4x8": "00001111 00001111 00001111 10001011",
  };
  const { manifest, files } = buildSuite([handDataset(), tiesDataset(), ridgeDataset()]);
  for (const [name, mask] of Object.entries(hand)) {
    const c = manifest.cases.find((c) => c.name === name);
    assert.ok(c, name);
    const expected = readSafetensors(files.get(c.expected)!);
    assert.deepEqual(Array.from(expected.raw("mask")), bits(mask), name);
  }
  const wanda = readSafetensors(files.get("expected/wanda-row50-sort-hand2x4.safetensors")!);
  assert.deepEqual(Array.from(wanda.float32("scores")), [1, 4, 8, 6, 0.5, 0.25, 32, 4]);
  assert.deepEqual(Array.from(wanda.float32("weight")), [0, 0, 2, 3, 0, 0, 8, -2]);
  // swiftprune-token and -mean need inputs: not generated for the col_norms-only hand layer
  assert.ok(
    !manifest.cases.some((c) => c.name.startsWith("swiftprune-token") && c.dataset === "hand2x4"),
  );
});

Deno.test("conformance: cases cover every method, selector and pattern; args are prune-layer flags", () => {
  const { manifest } = buildSuite([handDataset(), tiesDataset(), ...syntheticDatasets()]);
  const names = manifest.cases.map((c) => c.name);
  for (
    const m of ["magnitude", "wanda", "swiftprune-norm", "swiftprune-token", "swiftprune-mean"]
  ) {
    for (const t of ["row50-sort", "layer50-ewma-exact", "row50-ewma", "2of4", "4of8"]) {
      assert.ok(names.some((n) => n.startsWith(`${m}-${t}-`)), `${m}-${t}`);
    }
  }
  for (
    const n of [
      "sparsegpt-layer50-odd3x12",
      "sparsegpt-2of4-ties2x8",
      "fista-row50-odd1x8",
      "fista-4of8-ties2x8",
    ]
  ) {
    const c = manifest.cases.find((c) => c.name === n);
    assert.ok(c, n);
    assert.deepEqual(c.checks.weight, { compare: "close", atol: 1e-5, rtol: 1e-4 });
    assert.equal(c.select, undefined);
  }
  assert.ok(!names.some((n) => n.startsWith("sparsegpt-row")), "SparseGPT selects per block");
  const odd = manifest.cases.find((c) => c.name === "wanda-layer30-ewma-exact-odd5x7")!;
  assert.deepEqual(odd.args, [
    "--method",
    "wanda",
    "--sparsity",
    "0.3",
    "--group",
    "layer",
    "--select",
    "ewma-exact",
  ]);
  assert.ok(!names.some((n) => n.includes("odd5x7") && /of\d/.test(n)), "5x7 admits no N:M");
  const ewma = manifest.cases.find((c) => c.name === "magnitude-row50-ewma-wide4x1024")!;
  assert.deepEqual(ewma.checks.mask, {
    compare: "threshold",
    group: "row",
    pruneCount: 512,
    countTolerance: 11,
  });
  assert.deepEqual(parseManifest(JSON.stringify(manifest)), manifest);
  assert.throws(() => parseManifest(JSON.stringify({ ...manifest, version: 99 })), RangeError);
});

/** Rewrites one output file with `edit` applied to its tensors. */
async function corrupt(path: string, edit: (t: Record<string, Uint8Array | Float32Array>) => void) {
  const file = readSafetensors(new Uint8Array(await readFile(path)));
  const tensors: Record<string, Uint8Array | Float32Array> = {
    weight: file.float32("weight"),
    mask: file.raw("mask").slice(),
    scores: file.float32("scores"),
  };
  edit(tensors);
  const shape = file.info("weight").shape;
  const entries: SafetensorsEntry[] = [
    { name: "weight", dtype: "F32", shape, data: tensors.weight },
    { name: "mask", dtype: "U8", shape, data: tensors.mask },
    { name: "scores", dtype: "F32", shape, data: tensors.scores },
  ];
  await writeFile(path, writeSafetensors(entries));
}

Deno.test("conformance -> verify --run round-trips; corrupted outputs fail with their worst index", async () => {
  const dir = await mkdtemp(join(tmpdir(), "secateur-conf-"));
  try {
    const suite = join(dir, "suite"), outputs = join(dir, "outputs");
    let io = capture();
    assert.equal(await conformance(["--out", suite, "--small"], io), 0, io.err);
    const count = Number(/wrote (\d+) cases/.exec(io.out)![1]);
    assert.ok(count > 100, io.out);
    io = capture();
    assert.equal(
      await conformance(["--out", suite, "--small"], io),
      2,
      "non-empty without --force",
    );
    assert.match(io.err, /not empty; pass --force/);

    io = capture();
    assert.equal(await verify(["--suite", suite, "--outputs", outputs, "--run"], io), 0, io.out);
    assert.match(io.out, new RegExp(`verify: ${count} of ${count} cases passed`));

    // one flipped mask entry at (1, 1) and one weight off by 0.5 at (1, 8) of a 3x12 layer
    await corrupt(join(outputs, "magnitude-row50-sort-odd3x12.safetensors"), (t) => {
      t.mask[13] = 1 - t.mask[13];
      t.weight[20] += 0.5;
    });
    // an approximate-selector mask that prunes 3 more than asked in row 0
    await corrupt(join(outputs, "wanda-row50-ewma-odd3x12.safetensors"), (t) => {
      let extra = 3;
      for (let j = 0; j < 12 && extra > 0; j++) {
        if (t.mask[j]) (t.mask[j] = 0, t.weight[j] = 0, extra--);
      }
    });
    io = capture();
    assert.equal(await verify(["--suite", suite, "--outputs", outputs], io), 1);
    const lines = io.out.split("\n");
    const at = lines.findIndex((l) => l === "FAIL magnitude-row50-sort-odd3x12");
    assert.ok(at >= 0, io.out);
    assert.match(
      lines.slice(at + 1, at + 4).join("\n"),
      new RegExp(
        "mask +exact +FAIL 1 of 36 entries differ \\(1 kept that should be pruned, 0 pruned that " +
          "should be kept\\), first at 13 \\(row 1, col 1\\); pruned 17, expected 18; row 1 " +
          "prunes 5, expected 6\n",
      ),
    );
    assert.doesNotMatch(lines.slice(at + 1, at + 4).join("\n"), /mask.*max rel error/);
    assert.match(
      lines.slice(at + 1, at + 4).join("\n"),
      /weight +exact +FAIL 1 of 36 outside tolerance; max abs error 0\.5\d* at 20 \(row 1, col 8\)/,
    );
    assert.match(
      io.out,
      /FAIL wanda-row50-ewma-odd3x12\n(.*\n)* *mask +threshold FAIL 1 of 3 groups bad; pruned count off by at most 3 \(allowed 1, worst row 0\)/,
    );
    assert.match(
      io.out,
      new RegExp(`verify: ${count - 2} of ${count} cases passed, 2 failed, 0 missing`),
    );
    assert.match(io.out, /\nmethod +passed +failed +missing\nmagnitude +\d+ +1 +0\n/);

    // a partial backend: --methods picks what it implements; a missing file counts as missing
    await rm(join(outputs, "wanda-2of4-odd3x12.safetensors"));
    io = capture();
    assert.equal(
      await verify(
        ["--suite", suite, "--outputs", outputs, "--methods", "wanda,swiftprune-norm"],
        io,
      ),
      1,
    );
    assert.match(io.out, /FAIL wanda-2of4-odd3x12: no output file /);
    assert.match(io.out, /\nwanda +\d+ +1 +1\nswiftprune-norm +\d+ +0 +0\ntotal /);
    assert.doesNotMatch(io.out, /magnitude|fista|sparsegpt/);
    io = capture();
    assert.equal(
      await verify(["--suite", suite, "--outputs", outputs, "--methods", "fist"], io),
      2,
    );
    assert.match(io.err, /--methods: unknown method fist; the suite has fista, magnitude/);

    io = capture();
    assert.equal(await verify(["--suite", suite, "--outputs", join(dir, "none")], io), 2);
    assert.match(io.err, /is not a folder/);
  } finally {
    await rm(dir, { recursive: true });
  }
});

Deno.test("compareCase: a missing output, tensor or wrong dtype fails with a message", () => {
  const c = { name: "c", checks: { mask: { compare: "exact" as const } } };
  const mask = { dtype: "U8", shape: [1, 2], data: new Uint8Array([1, 0]) };
  const input = new Float32Array(2);
  assert.equal(compareCase(c, input, { mask }, "no file").error, "no file");
  assert.equal(compareCase(c, input, { mask }, {}).tensors[0].note, "missing from the output");
  const f32 = { dtype: "F32", shape: [1, 2], data: new Float32Array([1, 0]) };
  assert.match(
    compareCase(c, input, { mask }, { mask: f32 }).tensors[0].note!,
    /the mask must be U8 with values 0 \(pruned\) and 1 \(kept\); found F32 \[1,2\]/,
  );
  assert.equal(compareCase(c, input, { mask }, { mask }).ok, true);
});

Deno.test("conformance --small: the files equal the committed golden digests (also checked under Bun)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "secateur-conf-"));
  try {
    assert.equal(await conformance(["--out", dir, "--small"], capture()), 0);
    const golden = await readFile("tests/golden/conformance-small.sha256", "utf8");
    assert.equal(
      await suiteDigests(dir),
      golden,
      "regenerate with the command in tests/bun/digests.ts",
    );
  } finally {
    await rm(dir, { recursive: true });
  }
});

/** A safetensors file written by hand, for dtypes our writer refuses (BOOL). */
function rawSafetensors(
  tensors: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }>,
) {
  let offset = 0;
  const header: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = {
      dtype: t.dtype,
      shape: t.shape,
      data_offsets: [offset, offset + t.bytes.length],
    };
    offset += t.bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of Object.values(tensors)) (out.set(t.bytes, at), at += t.bytes.length);
  return out;
}

Deno.test("verify: a BOOL or I64 mask is named as such; an N:M failure says whether N:M holds", async () => {
  const dir = await mkdtemp(join(tmpdir(), "secateur-conf-"));
  try {
    const suite = join(dir, "suite"), outputs = join(dir, "outputs");
    const small = buildSuite([handDataset()], { selectors: ["sort"] });
    await writeSuite(suite, small, false);
    await verify(
      ["--suite", suite, "--outputs", outputs, "--run", "--methods", "magnitude"],
      capture(),
    );
    const name = "magnitude-row50-sort-hand2x4";
    const weight = new Float32Array([0, -4, 0, 3, 0, 0, 8, -2]);
    const mask = new Uint8Array([0, 1, 0, 1, 0, 0, 1, 1]);
    for (
      const [dtype, bytes] of [["BOOL", mask], [
        "I64",
        new Uint8Array(new BigInt64Array(Array.from(mask, BigInt)).buffer),
      ]] as const
    ) {
      await writeFile(
        join(outputs, `${name}.safetensors`),
        rawSafetensors({
          weight: { dtype: "F32", shape: [2, 4], bytes: new Uint8Array(weight.buffer) },
          mask: { dtype, shape: [2, 4], bytes },
        }),
      );
      const io = capture();
      assert.equal(await verify(["--suite", suite, "--outputs", outputs, "--filter", name], io), 1);
      assert.match(
        io.out,
        new RegExp(
          `the mask must be U8 with values 0 \\(pruned\\) and 1 \\(kept\\); found ${dtype} \\[2,4\\]`,
        ),
      );
    }
    // 2:4 with row 0 keeping 3 of its 4: the structure is violated; swapping within a group is not
    const nm = "magnitude-2of4-hand2x4";
    const write = (keep: number[]) =>
      writeFile(
        join(outputs, `${nm}.safetensors`),
        writeSafetensors([
          {
            name: "weight",
            dtype: "F32",
            shape: [2, 4],
            data: weight.map((w, t) => keep[t] ? w || 1 : 0),
          },
          { name: "mask", dtype: "U8", shape: [2, 4], data: new Uint8Array(keep) },
        ]),
      );
    await write([1, 1, 0, 1, 0, 0, 1, 1]);
    let io = capture();
    assert.equal(await verify(["--suite", suite, "--outputs", outputs, "--filter", nm], io), 1);
    assert.match(
      io.out,
      /the 2:4 structure is violated in 1 of 2 groups \(first: row 0, cols 0-3 keep 3\)/,
    );
    await write([1, 0, 0, 1, 0, 0, 1, 1]);
    io = capture();
    assert.equal(await verify(["--suite", suite, "--outputs", outputs, "--filter", nm], io), 1);
    assert.match(
      io.out,
      /2 of 8 entries differ .*the 2:4 structure holds \(every group of 4 keeps at most 2\)/,
    );
  } finally {
    await rm(dir, { recursive: true });
  }
});

Deno.test("verify: a relative --suite that does not exist is reported with its resolved path", async () => {
  const io = capture();
  assert.equal(await verify(["--suite", "no/such/suite", "--outputs", "."], io), 2);
  assert.match(
    io.err,
    /cannot read manifest\.json in --suite no\/such\/suite \(resolved to \/.*\/no\/such\/suite\/manifest\.json; deno task resolves relative paths from the project folder\): ENOENT/,
  );
});
