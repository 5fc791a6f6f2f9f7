#pragma once
// Counts derived from a model's shape: parameters, KV-cache elements, forward FLOPs. Independent of the
// hardware and of parallelism.

#include "infersim/model/model_spec.hpp"

namespace infersim::model {

/// Parameters by kind; `attention`, `dense_mlp`, `moe_*` and `norms` are summed over all layers.
struct ParameterCounts {
  double embedding = 0;   // token embedding table (plus learned position table)
  double lm_head = 0;     // 0 when tied to the embedding
  double attention = 0;   // projections (and their biases, MLA norms)
  double dense_mlp = 0;   // dense MLP layers
  double moe_router = 0;
  double moe_experts = 0;  // all routed experts of all MoE layers
  double moe_shared = 0;   // shared experts
  double norms = 0;        // layer norms and the final norm

  double total() const { return embedding + lm_head + attention + dense_mlp + moe_router + moe_experts + moe_shared + norms; }
  /// Parameters in the transformer layers (everything but embedding and LM head).
  double layers() const { return attention + dense_mlp + moe_router + moe_experts + moe_shared + norms; }
};

ParameterCounts count_parameters(const ModelSpec& m);

/// Parameters one token touches in the layers (routed experts: experts_per_token of num_experts).
double active_layer_parameters(const ModelSpec& m);

/// Parameters multiplied per token: the active layer parameters plus the LM head (d x V, tied or not); the
/// embedding is a lookup. The convention of the gpt-oss and Llama 4 model cards' "active parameters".
double active_parameters(const ModelSpec& m);

/// KV-cache elements stored per token per layer: 2 * n_kv * d_h (MHA/GQA/MQA) or kv_lora_rank + rope dim (MLA).
double kv_elements_per_token_per_layer(const ModelSpec& m);

/// Attention score/value FLOPs per query token per layer for a query that attends `context` keys.
double attention_flops_per_token_per_layer(const ModelSpec& m, double context);

/// KV-cache elements one sequence of `tokens` tokens holds over all layers: global layers keep every token,
/// sliding-window layers at most the window (chunked layers: the tokens of the current chunk).
double kv_elements_per_sequence(const ModelSpec& m, double tokens);

/// Attention score/value FLOPs over all layers of the query token at position `context` (it attends `context`
/// keys on global layers and at most the window on local ones).
double attention_flops_per_token(const ModelSpec& m, double context);

/// Forward FLOPs of one token that attends `context` keys: 2 x active parameters (layers + LM head) plus the
/// attention term. The anchor "forward FLOPs per token ~ 2 x parameters" of docs/modeling.md.
double forward_flops_per_token(const ModelSpec& m, double context);

}  // namespace infersim::model
