import assert from "node:assert/strict";
import { assertAllClose } from "../src/check/all_close.ts";
import {
  gemmAccumulate,
  gemmAccumulateReference,
  gramAccumulate,
  gramAccumulateReference,
  linearInto,
  matmul,
  matmulReference,
  matmulTransB,
  matmulTransBReference,
  type StridedMatrix,
} from "../src/linalg/matmul.ts";
import {
  GEMM_MODULE_BYTES,
  linearF32Reference,
  linearF32Simd,
  simdAvailable,
} from "../src/linalg/gemm_simd.ts";
import { availableKernels, KERNEL_SETS, kernels, setKernels } from "../src/linalg/kernels.ts";
import { forward, tinyLlama } from "../src/model/llama.ts";
import { createPool } from "../src/parallel/pool.ts";
import { createRng, randn } from "../src/tensor/rng.ts";
import { matrix } from "../src/tensor/matrix.ts";

/** Runs `fn` under each kernel set, restoring the default after. */
function underEach(fn: (ks: string) => void): void {
  try {
    for (const ks of availableKernels()) {
      setKernels(ks);
      fn(ks);
    }
  } finally {
    setKernels("auto");
  }
}

const random = (rows: number, cols: number, seed: number) =>
  matrix(rows, cols, randn(rows * cols, createRng(seed)));

Deno.test("this runtime has WebAssembly SIMD (Deno does; the fallback is tested below), module under 4 KB", () => {
  assert.equal(simdAvailable(), true);
  assert.deepEqual(availableKernels(), ["simd", "ts"]);
  assert.equal(WebAssembly.validate(GEMM_MODULE_BYTES), true);
  assert.ok(GEMM_MODULE_BYTES.length < 4096, `${GEMM_MODULE_BYTES.length} bytes`);
});

Deno.test("products are bit-identical to the references under both kernel sets, across block and tile edges", () => {
  const shapes = [[1, 1, 1], [5, 1, 9], [6, 259, 261], [121, 7, 3], [133, 258, 17], [3, 2, 257]];
  underEach((ks) => {
    for (const [m, k, n] of shapes) {
      const a = random(m, k, m + k), b = random(k, n, k + n), bt = random(n, k, n * k);
      const what = `${ks} ${m}x${k}x${n}`;
      assert.deepEqual(matmul(a, b).data, matmulReference(a, b).data, `A B ${what}`);
      assert.deepEqual(
        matmulTransB(a, bt).data,
        matmulTransBReference(a, bt).data,
        `A B^T ${what}`,
      );
      const g = new Float64Array(k * k), gRef = new Float64Array(k * k);
      gramAccumulate(g, a), gramAccumulate(g, a), gramAccumulateReference(gRef, a);
      gramAccumulateReference(gRef, a);
      assert.deepEqual(g, gRef, `X^T X ${what}`);
    }
  });
});

Deno.test("gemmAccumulate: offsets, strides, alpha = -1 and upperOnly agree bit for bit under both sets", () => {
  underEach((ks) => {
    for (const [m, n, k] of [[7, 9, 5], [130, 262, 300], [4, 4, 0]]) {
      const data = randn(2 * (m + n) * (k + 3) + 11, createRng(m * n));
      const a: StridedMatrix = { data, offset: 3, rowStride: 1, colStride: m + 2 }; // a transposed view
      const b: StridedMatrix = { data, offset: 5, rowStride: n + 1, colStride: 1 };
      for (const upperOnly of [false, true]) {
        const c0 = Float64Array.from(randn(m * (n + 2) + 1, createRng(7)));
        const c = c0.slice(), cRef = c0.slice();
        const view = (d: Float64Array) => ({ data: d, offset: 1, rowStride: n + 2, colStride: 1 });
        gemmAccumulate(view(c), a, b, m, n, k, { alpha: -1, upperOnly });
        gemmAccumulateReference(view(cRef), a, b, m, n, k, { alpha: -1, upperOnly });
        for (let i = 0; i < m; i++) {
          for (let j = upperOnly ? i : 0; j < n; j++) {
            const at = 1 + i * (n + 2) + j;
            assert.equal(c[at], cRef[at], `${ks} ${m}x${n}x${k} upper ${upperOnly} (${i}, ${j})`);
          }
          for (const j of [n, n + 1]) assert.equal(c[1 + i * (n + 2) + j], c0[1 + i * (n + 2) + j]); // padding untouched
        }
      }
    }
  });
});

Deno.test("linearF32Simd equals its float32 reference bit for bit, and the float64 product within the float32 sum bound", () => {
  for (const [m, k, n] of [[1, 1, 1], [3, 5, 7], [121, 257, 9], [7, 300, 263], [130, 64, 520]]) {
    const x = random(m, k, m), w = random(n, k, n + 1);
    const y = linearF32Simd(matrix(m, n, new Float32Array(m * n).fill(NaN)), x, w);
    assert.deepEqual(y.data, linearF32Reference(matrix(m, n), x, w).data, `${m}x${k}x${n}`);
    const y64 = matmulTransBReference(x, w);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let abs = 0;
        for (let p = 0; p < k; p++) abs += Math.abs(x.data[i * k + p] * w.data[j * k + p]);
        // recursive float32 sum of k rounded products, then the float64 result's own rounding
        const bound = ((k + 1) * 2 ** -24 / (1 - (k + 1) * 2 ** -24)) * abs +
          2 ** -24 * Math.abs(y64.data[i * n + j]);
        const diff = Math.abs(y.data[i * n + j] - y64.data[i * n + j]);
        assert.ok(diff <= bound, `(${i}, ${j}) of ${m}x${k}x${n}: ${diff} > ${bound}`);
      }
    }
  }
});

Deno.test("linearInto is matmulTransB under ts and the float32 kernel under simd", () => {
  const x = random(9, 33, 1), w = random(17, 33, 2);
  underEach((ks) => {
    const y = linearInto(matrix(9, 17), x, w);
    const expected = ks === "ts"
      ? matmulTransBReference(x, w)
      : linearF32Reference(matrix(9, 17), x, w);
    assert.deepEqual(y.data, expected.data, ks);
  });
});

Deno.test("the forward pass under simd (float32 linears and attention) stays within 1e-4 of ts, across 128-row attention blocks", () => {
  const w = tinyLlama({
    seed: 5,
    dim: 64,
    hiddenDim: 96,
    nHeads: 4,
    nKvHeads: 2,
    vocabSize: 40,
    seqLen: 300,
  });
  const tokens = Array.from({ length: 300 }, (_, t) => (t * 7 + 3) % 40);
  setKernels("ts");
  const ts = forward(w, tokens).data.slice();
  setKernels("simd");
  const simd = forward(w, tokens).data.slice();
  setKernels("auto");
  assertAllClose(simd, ts, { atol: 1e-4, rtol: 1e-4 }, "logits simd vs ts");
  assert.notDeepEqual(simd, ts); // float32 sums do change the last bits: the comparison is real
});

Deno.test("setKernels refuses unknown names; workers run a task with the poster's kernel set", async () => {
  assert.deepEqual([...KERNEL_SETS], ["ts", "simd"]);
  assert.throws(() => setKernels("gpu" as "ts"), {
    name: "RangeError",
    message: 'Unknown kernels "gpu": expected ts, simd or auto',
  });
  const pool = createPool({ size: 1 });
  try {
    const url = new URL("../src/linalg/kernels.ts", import.meta.url);
    for (const ks of ["ts", "simd"] as const) {
      setKernels(ks);
      assert.equal(await pool.run(url, "kernels"), ks);
    }
  } finally {
    pool.close();
    setKernels("auto");
  }
  assert.equal(kernels(), "simd");
});

Deno.test("without WebAssembly the ts kernels run (a subprocess that deletes it before loading)", async () => {
  const url = new URL("../src/linalg/kernels.ts", import.meta.url).href;
  const code = `delete globalThis.WebAssembly;
const k = await import(${JSON.stringify(url)});
const m = await import(${JSON.stringify(new URL("../src/linalg/matmul.ts", import.meta.url).href)});
const y = m.linearInto({ data: new Float32Array(1), rows: 1, cols: 1 }, { data: new Float32Array([2]), rows: 1, cols: 1 }, { data: new Float32Array([3]), rows: 1, cols: 1 });
let refused = "";
try { k.setKernels("simd"); } catch (e) { refused = e.name; }
console.log(JSON.stringify([k.availableKernels(), k.kernels(), y.data[0], refused]));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [
    ["ts"],
    "ts",
    6,
    "RangeError",
  ]);
});
