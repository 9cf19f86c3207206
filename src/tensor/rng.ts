/**
 * A small seeded random number generator for tests, benchmarks and calibration sampling.
 *
 * `mulberry32` (Tommy Ettinger's 32-bit generator): fast, 2^32 period, good enough for sampling
 * windows and making synthetic layers; not for cryptography. The same seed gives the same stream
 * on every runtime, so conformance vectors and calibration windows are reproducible.
 *
 * @module
 */

/** A seeded stream of random numbers. */
export interface Rng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** Laplace(0, 1). */
  laplace(): number;
  /** The 32-bit state, to resume a stream. */
  readonly state: number;
}

/**
 * Creates a seeded generator.
 *
 * @param seed Any integer; taken modulo 2^32.
 * @returns The generator.
 * @throws {TypeError} If `seed` is not a finite integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRng } from "./rng.ts";
 * const a = createRng(42), b = createRng(42);
 * assert.ok(a.uniform() === b.uniform());
 * ```
 */
export function createRng(seed: number): Rng {
  if (!Number.isInteger(seed)) throw new TypeError(`Cannot seed RNG: seed must be an integer, got ${seed}`);
  let s = seed >>> 0;
  let spare: number | null = null;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    uniform,
    int: (n: number) => Math.floor(uniform() * n),
    normal: () => {
      if (spare !== null) {
        const v = spare;
        spare = null;
        return v;
      }
      let u = 0;
      while (u === 0) u = uniform();
      const v = uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    laplace: () => {
      const u = uniform() - 0.5;
      return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u) || Number.MIN_VALUE);
    },
    get state() {
      return s;
    },
  };
}

/**
 * Fills a new `Float32Array` with standard normal values.
 *
 * @param n Length.
 * @param rng The generator.
 * @param scale Multiplier applied to every value.
 * @returns The array.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRng, randn } from "./rng.ts";
 * assert.ok(randn(4, createRng(1)).length === 4);
 * ```
 */
export function randn(n: number, rng: Rng, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * scale;
  return out;
}
