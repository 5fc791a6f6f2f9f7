#include "infersim/model/model_stats.hpp"

namespace infersim::model {

namespace {

double attention_params_per_layer(const ModelSpec& m) {
  const double d = m.hidden_size;
  const double nh = m.num_attention_heads;
  if (m.mla) {
    const MlaSpec& a = *m.mla;
    const double qk = a.qk_nope_head_dim + a.qk_rope_head_dim;
    double p = 0;
    if (a.q_lora_rank > 0) {
      p += d * a.q_lora_rank + a.q_lora_rank;        // q_a_proj + q_a_layernorm
      p += a.q_lora_rank * nh * qk;                  // q_b_proj
    } else {
      p += d * nh * qk;                              // q_proj
    }
    p += d * (a.kv_lora_rank + a.qk_rope_head_dim);  // kv_a_proj_with_mqa
    p += a.kv_lora_rank;                             // kv_a_layernorm
    p += a.kv_lora_rank * nh * (a.qk_nope_head_dim + a.v_head_dim);  // kv_b_proj
    p += nh * a.v_head_dim * d;                      // o_proj
    return p;
  }
  const double q = nh * m.head_dim;
  const double kv = static_cast<double>(m.num_kv_heads) * m.head_dim;
  double p = d * (q + 2 * kv) + q * d;
  if (m.linear_bias) p += q + 2 * kv + d;
  if (m.attention_sinks) p += nh;  // one learned sink logit per head
  return p;
}

double mlp_params(const ModelSpec& m, double ffn) {
  const double d = m.hidden_size;
  double p = (m.gated_mlp ? 3.0 : 2.0) * d * ffn;
  if (m.linear_bias) p += (m.gated_mlp ? 2.0 : 1.0) * ffn + d;
  return p;
}

double norm_params(const ModelSpec& m) { return (m.norm == Norm::layernorm ? 2.0 : 1.0) * m.hidden_size; }

}  // namespace

ParameterCounts count_parameters(const ModelSpec& m) {
  ParameterCounts c;
  const double d = m.hidden_size;
  c.embedding = static_cast<double>(m.vocab_size) * d;
  if (m.position_embedding == PositionEmbedding::learned) c.embedding += static_cast<double>(m.max_context_tokens) * d;
  c.lm_head = m.tied_embeddings ? 0.0 : d * m.vocab_size;
  c.attention = m.num_layers * attention_params_per_layer(m);
  c.dense_mlp = m.num_dense_mlp_layers() * mlp_params(m, m.ffn_hidden_size);
  if (m.moe) {
    const MoeSpec& e = *m.moe;
    const double layers = m.num_moe_layers();
    c.moe_router = layers * d * e.num_experts;
    c.moe_experts = layers * e.num_experts * mlp_params(m, e.expert_ffn_hidden_size);
    c.moe_shared = layers * e.num_shared_experts * mlp_params(m, e.expert_ffn_hidden_size);
  }
  c.norms = (2.0 * m.num_layers + 1.0) * norm_params(m);
  return c;
}

double active_layer_parameters(const ModelSpec& m) {
  const ParameterCounts c = count_parameters(m);
  double active = c.attention + c.dense_mlp + c.moe_router + c.moe_shared + c.norms;
  if (m.moe) active += c.moe_experts * m.moe->experts_per_token / m.moe->num_experts;
  return active;
}

double active_parameters(const ModelSpec& m) {
  return active_layer_parameters(m) + static_cast<double>(m.hidden_size) * m.vocab_size;
}

double kv_elements_per_sequence(const ModelSpec& m, double tokens) {
  const double per_layer = kv_elements_per_token_per_layer(m);
  const double local = m.num_local_attention_layers();
  const double local_tokens = local > 0 ? m.local_attention->window.keys(tokens) : 0.0;
  return per_layer * (m.num_global_attention_layers() * tokens + local * local_tokens);
}

double attention_flops_per_token(const ModelSpec& m, double context) {
  const double local = m.num_local_attention_layers();
  const double local_keys = local > 0 ? m.local_attention->window.keys(context) : 0.0;
  return m.num_global_attention_layers() * attention_flops_per_token_per_layer(m, context) +
         local * attention_flops_per_token_per_layer(m, local_keys);
}

double kv_elements_per_token_per_layer(const ModelSpec& m) {
  if (m.mla) return static_cast<double>(m.mla->kv_lora_rank) + m.mla->qk_rope_head_dim;
  return 2.0 * m.num_kv_heads * m.head_dim;
}

double attention_flops_per_token_per_layer(const ModelSpec& m, double context) {
  // Scores Q.K^T and the weighted sum P.V: 2 FLOPs per multiply-add, per head, per key.
  if (m.mla) {
    const MlaSpec& a = *m.mla;
    return 2.0 * m.num_attention_heads * context * ((a.qk_nope_head_dim + a.qk_rope_head_dim) + a.v_head_dim);
  }
  return 4.0 * m.num_attention_heads * m.head_dim * context;
}

double forward_flops_per_token(const ModelSpec& m, double context) {
  const ParameterCounts c = count_parameters(m);
  const double lm_head = static_cast<double>(m.hidden_size) * m.vocab_size;
  return 2.0 * (active_layer_parameters(m) - c.norms + lm_head) + attention_flops_per_token(m, context);
}

}  // namespace infersim::model
