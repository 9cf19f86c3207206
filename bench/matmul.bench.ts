/**
 * `C = A B` on square matrices: the simple reference vs the fast single-thread kernel (baseline)
 * vs the fast kernel split by rows over a worker pool (one worker per core).
 *
 * Run: `deno task bench` (or `deno bench --allow-read bench/matmul.bench.ts`). The reference is
 * only run at 256 and 512 (it is slow). `scripts/bench-matmul.ts` prints the same as a GFLOPS table.
 */
import { matmul, matmulReference } from "../src/linalg/matmul.ts";
import { createRng, randn } from "../src/tensor/rng.ts";
import { matrix } from "../src/tensor/matrix.ts";
import { createPool, defaultPoolSize } from "../src/parallel/pool.ts";
import { matmulParallel } from "../src/parallel/matmul_parallel.ts";

const workers = Math.max(2, defaultPoolSize());
// Workers stop after 3 s idle, so the bench process exits without an explicit close.
const pool = createPool({ size: workers, idleTimeoutMs: 3000 });
const rng = createRng(2024);

for (const size of [256, 512, 1024]) {
  const a = matrix(size, size, randn(size * size, rng));
  const b = matrix(size, size, randn(size * size, rng));
  const group = `matmul ${size}x${size}x${size}`;
  const n = size >= 1024 ? 3 : size >= 512 ? 5 : 10;
  const warmup = size >= 1024 ? 1 : 2;
  if (size <= 512) {
    Deno.bench({
      name: `reference ${size}`,
      group,
      n: size >= 512 ? 2 : 5,
      warmup: 1,
      fn: () => {
        matmulReference(a, b);
      },
    });
  }
  Deno.bench({
    name: `fast single-thread ${size}`,
    group,
    baseline: true,
    n,
    warmup,
    fn: () => {
      matmul(a, b);
    },
  });
  Deno.bench({
    name: `fast + ${workers} workers ${size}`,
    group,
    n,
    warmup,
    fn: async () => {
      await matmulParallel(pool, a, b);
    },
  });
}
