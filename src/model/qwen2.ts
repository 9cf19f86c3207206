/**
 * The Qwen2 family (`Qwen2ForCausalLM`, Qwen Team, "Qwen2 Technical Report", arXiv:2407.10671):
 * the Llama block of `llama.ts` (RMSNorm, grouped-query attention with RoPE, SwiGLU MLP) with a bias
 * on the q, k and v projections only, as transformers' `modeling_qwen2.py` has it:
 *
 *     q, k, v = x Wq^T + bq, x Wk^T + bk, x Wv^T + bv      (o, gate, up, down: no bias)
 *
 * Everything else, including the prunable linears (q, k, v, o, gate, up, down) and FISTAPruner's
 * intra-layer order, is Llama's. Sliding-window attention (`use_sliding_window`) is refused.
 *
 * @module
 */
import { llamaHfFamily } from "../io/hf_llama.ts";
import type { Family } from "./family.ts";
import { llamaFamily } from "./llama.ts";
import type { LlamaWeights } from "./weights.ts";

/**
 * `Qwen2ForCausalLM`: Llama's functions, its own Hugging Face names and config checks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qwen2Family } from "./qwen2.ts";
 * const config = qwen2Family.hf!.parseConfig({ model_type: "qwen2", hidden_size: 8, intermediate_size: 4,
 *   num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 16 });
 * assert.deepEqual(config.biases, ["wq", "wk", "wv"]);
 * ```
 */
export const qwen2Family: Family<LlamaWeights> = {
  ...llamaFamily,
  name: "qwen2",
  hf: llamaHfFamily("qwen2"),
};
