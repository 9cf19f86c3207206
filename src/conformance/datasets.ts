/**
 * The layers of the conformance suite: small hand-checkable ones, ties, odd shapes, outlier
 * channels, a wide layer for the approximate selector, and real layers of a Llama model with the
 * inputs the forward pass feeds them. Synthetic values come from the seeded RNG's `uniform()`
 * only (integer arithmetic), so they are bit-identical on every JavaScript engine; no `Math.log`
 * or `Math.cos`, whose last bit may differ between engines.
 *
 * @module
 */
import { createRng } from "../tensor/rng.ts";
import { fromRows, type Matrix } from "../tensor/matrix.ts";
import { forward } from "../model/llama.ts";
import type { LinearName, LlamaWeights } from "../model/weights.ts";

/** One input layer of the suite. */
export interface Dataset {
  /** Unique name; the input file is `inputs/<name>.safetensors`. */
  name: string;
  /** `W` `[rows, cols]`. */
  weight: Matrix;
  /** Calibration inputs `X` `[tokens, cols]` (the file's `inputs`). */
  inputs?: Matrix;
  /** `||X_:,j||_2` when only those are given (the file's `col_norms`). */
  colNorms?: Float32Array;
  /** Extra unstructured sparsities to test besides 0.5 (e.g. 0.3, to pin `floor`). */
  extraSparsities?: number[];
  /** Where the values come from, and what can be checked by hand. */
  description: string;
}

/** A matrix of seeded values `scale * (2u - 1)^power`, `u` uniform in [0, 1). */
function uniformMatrix(rows: number, cols: number, seed: number, scale = 1, power = 1): Matrix {
  const rng = createRng(seed);
  const data = new Float32Array(rows * cols);
  for (let t = 0; t < data.length; t++) data[t] = scale * (2 * rng.uniform() - 1) ** power;
  return { data, rows, cols };
}

/**
 * The hand-checkable 2x4 layer. `W = [[1, -4, 2, 3], [0.5, -0.25, 8, -2]]`, `col_norms = [1, 1, 4, 2]`.
 *
 * @returns The dataset; its description gives every mask at 50% worked out by hand.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { handDataset } from "./datasets.ts";
 * assert.deepEqual(Array.from(handDataset().weight.data), [1, -4, 2, 3, 0.5, -0.25, 8, -2]);
 * ```
 */
export function handDataset(): Dataset {
  return {
    name: "hand2x4",
    weight: fromRows([[1, -4, 2, 3], [0.5, -0.25, 8, -2]]),
    colNorms: new Float32Array([1, 1, 4, 2]),
    description: "W = [[1,-4,2,3],[0.5,-0.25,8,-2]], col_norms = [1,1,4,2]. " +
      "magnitude 50% per row: |W| row 0 = 1,4,2,3 -> prune cols 0,2 -> keep 0101; " +
      "row 1 = .5,.25,8,2 -> keep 0011 (2:4 gives the same). magnitude 50% per layer: the 4 " +
      "smallest of .25,.5,1 and the two 2s (flat 2 and 7; the lower flat index goes) -> keep " +
      "0101 0011. wanda = |W| * norms: row 0 = 1,4,8,6 -> keep 0011 (col 2 rescued by its input); " +
      "row 1 = .5,.25,32,4 -> keep 0011; per layer the two 4s tie (flat 1 and 7), flat 1 goes -> " +
      "keep 0011 0011. swiftprune (norm): S = 1+1+16+4 = 22, factor_j = " +
      "1/(1 - x_j^2/22) = 22/21, 22/21, 22/6, 22/18; row 0 W^2 * factor = 1.05, 16.8, 14.7, 11 " +
      "-> keep 0110; row 1 = .26, .065, 235, 4.9 -> keep 0011.",
  };
}

/**
 * The ties layer: every score of row 0 is equal; row 1 has two values. `inputs` are all ones, so
 * every method's scores tie exactly as `|W|` does.
 *
 * @returns The dataset; its description gives the masks decided by the tie rule.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tiesDataset } from "./datasets.ts";
 * assert.equal(tiesDataset().weight.cols, 8);
 * ```
 */
export function tiesDataset(): Dataset {
  return {
    name: "ties2x8",
    weight: fromRows([[1, -1, 1, -1, 1, -1, 1, -1], [2, -2, 1, -1, 2, -2, 1, -1]]),
    inputs: { data: new Float32Array(4 * 8).fill(1), rows: 4, cols: 8 },
    description:
      "W row 0 = [1,-1,1,-1,1,-1,1,-1], row 1 = [2,-2,1,-1,2,-2,1,-1]; inputs all ones " +
      "(every column alike, so every method ties like |W|). Ties prune the lower index first. " +
      "50% per row: keep 00001111 / 11001100. 50% per layer: 12 entries equal the smallest value " +
      "1; the 8 of lowest flat index (all of row 0) go -> keep 00000000 11111111. 2:4 keeps the " +
      "higher index among equals: 0011 0011 / 1100 1100. 4:8: 00001111 / 11001100.",
  };
}

/**
 * The ridge layer: one input channel holds 10000/10001 = 99.990% of the energy, so SwiftPrune's
 * factor for it, `1 / (1 - x_0^2 / (S + eps S))`, depends on the ridge `eps * S`: about 9999 at the
 * default eps 1e-8 (10001 without the ridge), 5000 at eps 1e-4, 99 at eps 1e-2. Column 0's weight
 * differs by row so that its score `w_0^2 * factor` crosses the row's 50% boundary (the weights 2,
 * score about 4) at a different eps in each row. Every token is the same, so the three statistics
 * (norm, token, mean) see the same share and give the same masks. Columns 5-7 get no input (dead
 * inputs for SparseGPT), and the input matrix has rank one, so SparseGPT's `--damp` decides its
 * inverse.
 *
 * @returns The dataset; its description gives the row-by-row reasoning.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ridgeDataset } from "./datasets.ts";
 * const { inputs } = ridgeDataset();
 * assert.deepEqual(Array.from(inputs!.data.slice(0, 8)), [100, 0.5, 0.5, 0.5, 0.5, 0, 0, 0]);
 * ```
 */
export function ridgeDataset(): Dataset {
  const token = [100, 0.5, 0.5, 0.5, 0.5, 0, 0, 0]; // energy 10000 + 4 * 0.25 = 10001
  const row = (w0: number) => [w0, 1, 1, 1, 2, 2, 2, 2];
  return {
    name: "ridge4x8",
    weight: fromRows([row(0.02), row(0.024), row(0.1), row(0.3)]),
    inputs: fromRows([token, token, token, token]),
    description:
      "Every token is X_t = [100, .5, .5, .5, .5, 0, 0, 0]: channel 0 holds 10000/10001 " +
      "= 99.990% of the energy S. SwiftPrune's factor for column 0 is 1/(1 - 0.99990001/(1 + eps)): " +
      "9999.0 at eps 1e-8 (10001 without the ridge), 5000.5 at 1e-4, 99.0 at 1e-2; for columns 1-4 " +
      "it is 1.000025, for 5-7 exactly 1. Rows W_i = [w0, 1, 1, 1, 2, 2, 2, 2], w0 = .02, .024, .1, .3. " +
      "50% per row prunes the three 1s and one more: column 0 if w0^2 * factor < 4 (the 2s of " +
      "columns 5-7; column 4 scores 4.0001), else column 5 (keep 0000 1111 or 1000 1011). Row 0: " +
      ".0004 * 9999 = 3.9996 prunes column 0; without the ridge .0004 * 10001 = 4.0004 would keep " +
      "it. Row 1: .000576 * 9999 = 5.76 keeps column 0; at eps 1e-4, 2.88 prunes it. Row 2: " +
      ".01 * 5000.5 = 50 keeps it at 1e-4; at 1e-2, 0.99 prunes it. Row 3 keeps column 0 at every " +
      "eps. The inputs have rank one and columns 5-7 are dead, so SparseGPT's " +
      "dampening decides its inverse.",
  };
}

/**
 * The seeded synthetic layers: odd shapes (1x8, 3x12, 5x7), outlier channels (4x16) and a wide
 * layer (4x1024) for the approximate EWMA selector.
 *
 * @returns The datasets, always the same values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syntheticDatasets } from "./datasets.ts";
 * const [a, b] = [syntheticDatasets(), syntheticDatasets()];
 * assert.deepEqual(a[0].weight.data, b[0].weight.data);
 * ```
 */
export function syntheticDatasets(): Dataset[] {
  const odd = (rows: number, cols: number, seed: number): Dataset => ({
    name: `odd${rows}x${cols}`,
    weight: uniformMatrix(rows, cols, seed),
    inputs: uniformMatrix(3, cols, seed + 100),
    extraSparsities: [0.3],
    description: `Odd shape: W [${rows}, ${cols}] = 2u-1 (createRng(${seed}).uniform()), inputs ` +
      `[3, ${cols}] = 2u-1 (seed ${seed + 100}). Sparsity 0.3 pins floor(s * n).`,
  });
  const outliers = uniformMatrix(4, 16, 7);
  outliers.data[2 * 16 + 7] = 20; // one outlier weight
  const outlierInputs = uniformMatrix(8, 16, 8);
  for (let t = 0; t < 8; t++) {
    outlierInputs.data[t * 16 + 3] *= 50; // outlier channels 3 and 11
    outlierInputs.data[t * 16 + 11] *= 50;
  }
  return [
    odd(1, 8, 1),
    odd(3, 12, 2),
    odd(5, 7, 3),
    {
      name: "outliers4x16",
      weight: outliers,
      inputs: outlierInputs,
      description: "W [4, 16] = 2u-1 (seed 7) with W[2,7] = 20; inputs [8, 16] = 2u-1 (seed 8) " +
        "with channels 3 and 11 scaled by 50: wanda and swiftprune keep those columns.",
    },
    {
      name: "wide4x1024",
      weight: uniformMatrix(4, 1024, 9, 1, 3),
      inputs: uniformMatrix(4, 1024, 10),
      description: "W [4, 1024] = (2u-1)^3 (seed 9), inputs [4, 1024] = 2u-1 (seed 10): rows " +
        "wide enough for the approximate EWMA selector's +-1 point bound.",
    },
  ];
}

/**
 * A real layer: the weight of `name` in block `layer`, with the inputs the dense forward pass
 * feeds it on `tokens` (captured with the `onLinearInput` hook).
 *
 * @param model The model (e.g. read with `readLlama2c`).
 * @param tokens Token ids to run.
 * @param layer Block index.
 * @param name Which linear layer.
 * @param label The dataset name.
 * @returns The dataset, with a copy of the weight and of the inputs.
 * @throws {RangeError} If `layer` is not a block of the model.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tinyLlama } from "../model/llama.ts";
 * import { realLayerDataset } from "./datasets.ts";
 * const d = realLayerDataset(tinyLlama({ seed: 1 }), [1, 5, 7], 0, "wo", "tiny-wo");
 * assert.equal(d.inputs!.rows, 3);
 * assert.equal(d.inputs!.cols, d.weight.cols);
 * ```
 */
export function realLayerDataset(
  model: LlamaWeights,
  tokens: ArrayLike<number>,
  layer: number,
  name: LinearName,
  label: string,
): Dataset {
  if (!Number.isInteger(layer) || layer < 0 || layer >= model.blocks.length) {
    throw new RangeError(
      `Cannot capture a real layer: block ${layer} is outside [0, ${model.blocks.length})`,
    );
  }
  let inputs: Matrix | undefined;
  forward(model, tokens, {
    onLinearInput(l, n, x) {
      if (l === layer && n === name) inputs = { data: x.data.slice(), rows: x.rows, cols: x.cols };
    },
  });
  const w = model.blocks[layer][name];
  return {
    name: label,
    weight: { data: w.data.slice(), rows: w.rows, cols: w.cols },
    inputs,
    description: `Real layer: block ${layer} ${name} [${w.rows}, ${w.cols}], inputs ` +
      `[${tokens.length}, ${w.cols}] from the dense forward pass.`,
  };
}
