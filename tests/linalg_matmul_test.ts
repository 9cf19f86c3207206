import { assertAllClose } from "../src/check/all_close.ts";
import { matmul, matmulReference, matmulTransB, matmulTransBReference } from "../src/linalg/matmul.ts";
import { createRng, randn } from "../src/tensor/rng.ts";
import { matrix } from "../src/tensor/matrix.ts";

Deno.test("matmul and matmulTransB agree with their references on odd shapes", () => {
  const rng = createRng(3);
  for (const [m, k, n] of [[1, 1, 1], [3, 5, 7], [17, 9, 4], [8, 33, 13], [2, 64, 65]]) {
    const a = matrix(m, k, randn(m * k, rng));
    const b = matrix(k, n, randn(k * n, rng));
    const bt = matrix(n, k, randn(n * k, rng));
    assertAllClose(matmul(a, b).data, matmulReference(a, b).data, { atol: 1e-5, rtol: 1e-5 }, `matmul ${m}x${k}x${n}`);
    assertAllClose(matmulTransB(a, bt).data, matmulTransBReference(a, bt).data, { atol: 1e-5, rtol: 1e-5 }, `A B^T ${m}x${k}x${n}`);
  }
});
