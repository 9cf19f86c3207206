/**
 * What the rest of the toolkit knows about a model family (Llama, Qwen2, GPT-NeoX, OPT): one
 * {@link Family} object per family file, found through the registry (`families.ts`). The forward
 * pass, the calibration hooks, the pruning pipeline, FISTAPruner's intra-layer order, the layer
 * report and the Hugging Face reader and writer all work from this description; none of them asks
 * which family a model is.
 *
 * A model is plain data (so workers receive it by structured clone): its `family` name, its
 * `config` (the fields of {@link ModelConfig} plus the family's own) and its `blocks`, each a
 * record of named tensors (weights `[out, in]` as {@link Matrix}, norm gains and biases as
 * `Float32Array`), plus the family's global tensors (embeddings, final norm, head) as fields.
 *
 * What a family declares about its prunable linears ({@link LinearSpec}) is all the pipeline needs:
 *
 * - `input`: linears that read the same tensor share one captured input (q, k, v read one);
 * - `after`: the linears whose outputs feed this one's input inside the block. FISTAPruner's
 *   intra-layer rule, "an operator is pruned after the operators whose pruned outputs feed its
 *   input", becomes {@link intraLayerGroups}: the linears by depth in that graph (0 for those that
 *   read only the block's input), each depth pruned after the block is re-run with all shallower
 *   linears pruned.
 *
 * @module
 */
import type { Matrix } from "../tensor/matrix.ts";
import type { ForwardWorkspace } from "./workspace.ts";

/** A weight matrix or a vector (norm gain, bias). */
export type Tensor = Matrix | Float32Array;

/** The hyper-parameters every family has, under common names. */
export interface ModelConfig {
  /** Hidden size (the residual stream's width). */
  dim: number;
  /** Width of the MLP's inner layer. */
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  vocabSize: number;
  /** Longest sequence the model was trained for. */
  seqLen: number;
}

/** One decoder block: named tensors (prunable linears are {@link Matrix} `[out, in]`). */
export type Block = { [name: string]: Tensor | undefined };

/** A model of any family: plain data, its family named by `family` (absent: `"llama"`). */
export interface Model<C extends ModelConfig = ModelConfig> {
  /** The registry name of the family (`families.ts`); absent means `"llama"` (llama2.c). */
  family?: string;
  config: C;
  blocks: Block[];
}

/** Callbacks into a forward pass. */
export interface ForwardHooks {
  /**
   * Called with the input `[T, in]` of every prunable linear of a block, in the family's
   * {@link LinearSpec} order (linears sharing an input get the same Matrix). Do not modify `x`.
   */
  onLinearInput?(layer: number, name: string, x: Matrix): void;
}

/** One prunable linear of a block, as the pipeline sees it. */
export interface LinearSpec {
  /** The key of its weight in the block, and its name in reports (`layers.<l>.<name>`). */
  readonly name: string;
  /** The first linear (in spec order) that reads the same input; itself if none before it does. */
  readonly input: string;
  /** The linears of the same block whose outputs feed this one's input. */
  readonly after: readonly string[];
}

/** A tensor as stored in a Hugging Face checkpoint: its name and shape. */
export interface HfTensorSpec {
  name: string;
  shape: number[];
}

/**
 * How a family maps to a Hugging Face checkpoint (transformers' `<Family>ForCausalLM`).
 * `tensors` is every tensor the model reads; `assemble` builds the model from them (float32, HF
 * layout as stored); `exportTensors` gives back the HF tensors a model's weights become (the
 * pruned ones differ); `exportMask` turns a linear's mask into the HF tensor's element order.
 */
export interface HfFamily<M extends Model = Model> {
  /** `config.json`'s `model_type` values this family reads. */
  readonly modelTypes: readonly string[];
  /** The `architectures` entry it reads and writes, e.g. `"LlamaForCausalLM"`. */
  readonly architecture: string;
  /**
   * Parses `config.json` (already JSON-parsed), rejecting what the family does not implement with
   * a one-line error naming the key and its value.
   */
  parseConfig(json: Record<string, unknown>): M["config"];
  /** The tensors the model reads, in file order. */
  tensors(config: M["config"]): HfTensorSpec[];
  /** The model from its tensors (float32, by HF name, as stored). */
  assemble(config: M["config"], tensor: (name: string) => Float32Array): M;
  /** The HF name of prunable linear `name` of block `layer`. */
  linearTensor(config: M["config"], layer: number, name: string): string;
  /**
   * Linear `name` of block `layer` of `model` as HF stores it (`[out, in]` in the file's row order):
   * the weight, or a mask (1 = keep) given in the model's layout.
   */
  exportLinear<T extends Float32Array | Uint8Array>(
    config: M["config"],
    name: string,
    data: T,
  ): T;
}

/** Everything the toolkit knows about one model family. */
export interface Family<M extends Model = Model> {
  /** The registry name, stored in `model.family`. */
  readonly name: string;
  /** The prunable linears of a block, in the order the forward pass reaches their inputs. */
  linears(config: M["config"]): readonly LinearSpec[];
  /** The token embeddings (and learned positions, where the family has them) `[T, dim]`. */
  embed(model: M, tokens: ArrayLike<number>, ws?: ForwardWorkspace): Matrix;
  /**
   * Block `layer` over one sequence (positions 0..T-1): hidden states `[T, dim]` in and out, the
   * hooks called with every prunable linear's input. With `ws` nothing is allocated and the
   * output is a view of `ws` that is not `h`'s.
   */
  blockForward(
    model: M,
    layer: number,
    h: Matrix,
    hooks?: ForwardHooks,
    ws?: ForwardWorkspace,
  ): Matrix;
  /** The final norm and head: logits `[T, vocab]`. */
  logits(model: M, h: Matrix, ws?: ForwardWorkspace): Matrix;
  /** The plain, token-at-a-time twin of `embed`/`blockForward`/`logits`: the correctness oracle. */
  forwardReference(model: M, tokens: ArrayLike<number>): Matrix;
  /**
   * How many values one block's forward pass produces over `tokens` tokens when every
   * intermediate tensor is kept, as a framework's autograd graph would (docs/memory.md's bound).
   */
  blockActivationCount(config: M["config"], tokens: number): number;
  /** The Hugging Face layout, if the family reads and writes one. */
  readonly hf?: HfFamily<M>;
}

/**
 * The distinct captured inputs of a block: the linears that are the first to read their input.
 *
 * @param specs A family's linears.
 * @returns Their names, in spec order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { distinctInputs } from "./family.ts";
 * const specs = [{ name: "q", input: "q", after: [] }, { name: "k", input: "q", after: [] }];
 * assert.deepEqual(distinctInputs(specs), ["q"]);
 * ```
 */
export function distinctInputs(specs: readonly LinearSpec[]): string[] {
  return specs.filter((s) => s.input === s.name).map((s) => s.name);
}

/**
 * FISTAPruner's intra-layer order for a family: the linears grouped by their depth in the
 * "feeds the input of" graph of a block (`after`), shallowest first, spec order inside a group.
 * A linear whose input no other linear of the block produces is in group 0.
 *
 * @param specs A family's linears.
 * @returns The groups.
 * @throws {RangeError} If `after` names an unknown linear or forms a cycle.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intraLayerGroups } from "./family.ts";
 * const parallel = [ // GPT-NeoX with a parallel residual: attention and MLP both read the block input
 *   { name: "qkv", input: "qkv", after: [] },
 *   { name: "dense", input: "dense", after: ["qkv"] },
 *   { name: "up", input: "up", after: [] },
 *   { name: "down", input: "down", after: ["up"] },
 * ];
 * assert.deepEqual(intraLayerGroups(parallel), [["qkv", "up"], ["dense", "down"]]);
 * ```
 */
export function intraLayerGroups(specs: readonly LinearSpec[]): string[][] {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const depth = new Map<string, number>();
  const depthOf = (name: string, seen: string[]): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    const spec = byName.get(name);
    if (spec === undefined || seen.includes(name)) {
      throw new RangeError(
        `Cannot order the linears: ${spec ? "a cycle through" : "unknown linear"} "${name}"`,
      );
    }
    const d = spec.after.reduce((m, a) => Math.max(m, 1 + depthOf(a, [...seen, name])), 0);
    depth.set(name, d);
    return d;
  };
  const groups: string[][] = [];
  for (const s of specs) (groups[depthOf(s.name, [])] ??= []).push(s.name);
  return groups.filter((g) => g !== undefined);
}

/**
 * The weight of linear `name` of a block.
 *
 * @param block The block.
 * @param name A linear's name.
 * @returns The matrix.
 * @throws {TypeError} If the block has no matrix of that name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearOf } from "./family.ts";
 * import { tinyLlama } from "./llama.ts";
 * assert.equal(linearOf(tinyLlama({ seed: 1 }).blocks[0], "wq").rows, 8);
 * ```
 */
export function linearOf(block: Block, name: string): Matrix {
  const w = block[name];
  if (w === undefined || w instanceof Float32Array) {
    throw new TypeError(`Cannot find linear "${name}" in the block`);
  }
  return w;
}
