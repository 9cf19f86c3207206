/**
 * A pipeline result without its times, for bitwise comparisons of serial and parallel runs:
 * masks, pruned weights as bytes, and the layer reports without `info.timesMs`.
 *
 * @module
 */
import { linearOf } from "../../src/model/family.ts";
import { linearsOf } from "../../src/model/model.ts";
import type { PruneModelResult } from "../../src/pipeline/prune_model.ts";

const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();

/** Everything but the times: masks, pruned weights (as bytes), reports without `info.timesMs`. */
export function comparable(r: PruneModelResult) {
  return {
    masks: r.masks,
    sparsity: r.sparsity,
    weights: r.weights.blocks.map((b) =>
      linearsOf(r.weights).map((s) => bytes(linearOf(b, s.name).data))
    ),
    layers: r.layers.map(({ info, ...rest }) => {
      const { timesMs: _, ...kept } = info ?? {};
      return { ...rest, info: kept };
    }),
  };
}
