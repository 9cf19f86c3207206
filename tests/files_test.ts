import assert from "node:assert/strict";
import { join } from "node:path";
import {
  fileByteSource,
  readBytes,
  UnsafeWriteError,
  writeDirAtomic,
  writeFileAtomic,
} from "../scripts/lib/files.ts";
import { openSafetensors, readSafetensors } from "../src/io/safetensors.ts";

const GOLDEN = new URL("./golden/tiny.safetensors", import.meta.url).pathname;

/** Runs `body` in a fresh temporary folder, removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "secateur-files-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The folder's entries, sorted (to check no temporary file is left). */
function listing(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("readBytes and fileByteSource read the same bytes; the streaming reader works on a file", async () => {
  const whole = await readBytes(GOLDEN);
  assert.deepEqual(whole, Deno.readFileSync(GOLDEN));
  const source = await fileByteSource(GOLDEN);
  try {
    assert.equal(source.size, whole.length);
    assert.deepEqual(await source.read(100, 50), whole.subarray(100, 150));
    assert.deepEqual(await source.read(whole.length - 3, 10), whole.subarray(whole.length - 3)); // short at EOF
    assert.equal((await source.read(whole.length + 5, 10)).length, 0);
    await assert.rejects(() => source.read(-1, 4), RangeError);
    const reader = await openSafetensors(source, { source: GOLDEN });
    const inMemory = readSafetensors(whole);
    for (const name of ["c_f32", "e_bf16", "f_f16"]) {
      assert.deepEqual(await reader.float32(name), inMemory.float32(name));
    }
  } finally {
    await source.close();
  }
  await assert.rejects(() => readBytes(GOLDEN + ".missing"), /ENOENT|No such file|not found/i);
});

Deno.test("writeFileAtomic: bytes, sync chunks and async chunks; no temporary file left", async () => {
  await inTempDir(async (dir) => {
    await writeFileAtomic(join(dir, "a"), new Uint8Array([1, 2, 3]));
    await writeFileAtomic(join(dir, "b"), [
      new Uint8Array([4]),
      new Uint8Array(0),
      new Uint8Array([5, 6]),
    ]);
    async function* chunks() {
      yield new Uint8Array([7]);
      yield new Uint8Array(100_000).fill(8);
    }
    await writeFileAtomic(join(dir, "c"), chunks());
    assert.deepEqual(Array.from(Deno.readFileSync(join(dir, "a"))), [1, 2, 3]);
    assert.deepEqual(Array.from(Deno.readFileSync(join(dir, "b"))), [4, 5, 6]);
    const c = Deno.readFileSync(join(dir, "c"));
    assert.equal(c.length, 100_001);
    assert.equal(c[0], 7);
    assert.equal(c[100_000], 8);
    assert.deepEqual(listing(dir), ["a", "b", "c"]);
  });
});

Deno.test("writeFileAtomic refuses an existing file without force, replaces it with force", async () => {
  await inTempDir(async (dir) => {
    const out = join(dir, "out.safetensors");
    Deno.writeFileSync(out, new Uint8Array([9]));
    await assert.rejects(() => writeFileAtomic(out, new Uint8Array([1])), {
      name: "UnsafeWriteError",
      message: `Cannot write "${out}": the file exists; pass --force to replace it`,
    });
    assert.deepEqual(Array.from(Deno.readFileSync(out)), [9]);
    await writeFileAtomic(out, new Uint8Array([1]), { force: true });
    assert.deepEqual(Array.from(Deno.readFileSync(out)), [1]);
    assert.deepEqual(listing(dir), ["out.safetensors"]);
  });
});

Deno.test("writeFileAtomic never writes over an input, even with force or through a symlink", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "model.bin");
    Deno.writeFileSync(input, new Uint8Array([1, 2]));
    Deno.symlinkSync(input, join(dir, "link.bin"));
    for (const target of [input, join(dir, ".", "model.bin"), join(dir, "link.bin")]) {
      await assert.rejects(
        () => writeFileAtomic(target, new Uint8Array([0]), { force: true, inputs: [input] }),
        (e: Error) =>
          e instanceof UnsafeWriteError && /is an input of this run/.test(e.message) &&
          e.message.includes(target),
      );
    }
    assert.deepEqual(Array.from(Deno.readFileSync(input)), [1, 2]);
  });
});

Deno.test("a failed write leaves no partial file under the final name and no temporary file", async () => {
  await inTempDir(async (dir) => {
    function* failing() {
      yield new Uint8Array([1, 2, 3]);
      throw new Error("disk on fire");
    }
    await assert.rejects(() => writeFileAtomic(join(dir, "new"), failing()), /disk on fire/);
    assert.deepEqual(listing(dir), []);
    Deno.writeFileSync(join(dir, "old"), new Uint8Array([5]));
    await assert.rejects(
      () => writeFileAtomic(join(dir, "old"), failing(), { force: true }),
      /disk on fire/,
    );
    assert.deepEqual(Array.from(Deno.readFileSync(join(dir, "old"))), [5]);
    await assert.rejects(
      () => writeFileAtomic(join(dir, "bad"), [new Uint8Array(1), "text" as unknown as Uint8Array]),
      { name: "TypeError", message: /chunks must be Uint8Array, got string/ },
    );
    assert.deepEqual(listing(dir), ["old"]);
  });
});

Deno.test("writeFileAtomic creates missing folders; a file or folder in the way is refused by name, never by the temporary name", async () => {
  await inTempDir(async (dir) => {
    await writeFileAtomic(join(dir, "no", "such", "x"), new Uint8Array([4]));
    assert.deepEqual(Array.from(Deno.readFileSync(join(dir, "no", "such", "x"))), [4]);
    Deno.writeFileSync(join(dir, "plain"), new Uint8Array(1));
    await assert.rejects(() => writeFileAtomic(join(dir, "plain", "sub", "x"), new Uint8Array(1)), {
      name: "UnsafeWriteError",
      message: `Cannot write "${join(dir, "plain", "sub", "x")}": "${
        join(dir, "plain")
      }" is a file, not a folder`,
    });
    await assert.rejects(
      () => writeFileAtomic(join(dir, "no"), new Uint8Array(1), { force: true }),
      { name: "UnsafeWriteError", message: /it is a folder; name a file/ },
    );
    // a file-system error after the checks (the folder removed while the data is produced)
    const gone = join(dir, "gone");
    async function* removeFolder() {
      await Deno.remove(gone, { recursive: true });
      yield new Uint8Array(1);
    }
    const err = await writeFileAtomic(join(gone, "x"), removeFolder()).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(err instanceof Error, "the write into a removed folder must fail");
    assert.match(err.message, new RegExp(`^Cannot write "${join(gone, "x")}": ENOENT`));
    assert.doesNotMatch(err.message, /\.tmp/);
    assert.deepEqual(listing(dir), ["no", "plain"]);
  });
});

Deno.test("writeDirAtomic: creates the folder, checks every target first, rejects odd names", async () => {
  await inTempDir(async (dir) => {
    const out = join(dir, "hf");
    const files = {
      "config.json": new TextEncoder().encode("{}"),
      "model.safetensors": new Uint8Array(8),
    };
    assert.deepEqual(await writeDirAtomic(out, files), [
      join(out, "config.json"),
      join(out, "model.safetensors"),
    ]);
    Deno.removeSync(join(out, "config.json"));
    await assert.rejects(() => writeDirAtomic(out, files), {
      name: "UnsafeWriteError",
      message: /model\.safetensors": the file exists/,
    });
    assert.deepEqual(listing(out), ["model.safetensors"]); // nothing written: config.json not recreated
    await writeDirAtomic(out, files, { force: true });
    assert.deepEqual(listing(out), ["config.json", "model.safetensors"]);
    for (const name of ["../escape", "", "a/b"]) {
      await assert.rejects(() => writeDirAtomic(out, { [name]: new Uint8Array(1) }), {
        name: "TypeError",
        message: /not a plain file name/,
      });
    }
  });
});
