#include "infersim/model/model_loader.hpp"

namespace infersim::model {

using config::ObjectReader;
using config::Range;

ModelSpec parse_model(const config::Document& doc, config::Diagnostics& d) {
  ModelSpec m;
  ObjectReader r(doc.json, doc.pointer, d);
  m.name = r.string("name");
  m.description = r.string_or("description", "");
  m.source = r.string("source");
  m.notes = r.string_or("notes", "");
  m.published_parameters = r.number("published_parameters_billion", Range::positive()) * 1e9;
  m.native_dtype = r.dtype("native_dtype");
  if (r.has("fp8_weight_block_size")) {
    m.fp8_weight_block_size = static_cast<int>(r.integer("fp8_weight_block_size", Range::between(1, 1 << 20)));
    if (m.native_dtype != DType::fp8) {
      r.error("fp8_weight_block_size", "applies only to a model published in FP8 (native_dtype \"fp8\")");
    }
  }
  const Range dim = Range::between(1, 1 << 24);
  m.num_layers = static_cast<int>(r.integer("num_layers", Range::between(1, 10000)));
  m.hidden_size = static_cast<int>(r.integer("hidden_size", dim));
  const std::size_t problems_before_heads = d.items().size();
  m.num_attention_heads = static_cast<int>(r.integer("num_attention_heads", Range::between(1, 65536)));
  m.num_kv_heads = static_cast<int>(r.integer("num_kv_heads", Range::between(1, 65536)));
  const bool heads_valid = d.items().size() == problems_before_heads;
  m.head_dim = static_cast<int>(r.integer("head_dim", Range::between(1, 65536)));
  m.ffn_hidden_size = static_cast<int>(r.integer("ffn_hidden_size", dim));
  m.vocab_size = static_cast<int>(r.integer("vocab_size", dim));
  m.gated_mlp = r.boolean("gated_mlp");
  m.tied_embeddings = r.boolean("tied_embeddings");
  m.norm = static_cast<Norm>(r.choice("norm", kNormNames));
  m.linear_bias = r.boolean("linear_bias");
  m.position_embedding = static_cast<PositionEmbedding>(r.choice("position_embedding", kPositionEmbeddingNames));
  m.max_context_tokens = r.integer("max_context_tokens", Range::between(1, 1e9));
  if (heads_valid && m.num_attention_heads % m.num_kv_heads != 0) {
    r.error("num_kv_heads", "num_attention_heads (" + std::to_string(m.num_attention_heads) +
                                ") must be a multiple of num_kv_heads (" + std::to_string(m.num_kv_heads) + ")");
  }
  if (r.has_value("moe")) {
    ObjectReader e = r.object("moe");
    MoeSpec moe;
    moe.num_experts = static_cast<int>(e.integer("num_experts", Range::between(1, 1 << 20)));
    moe.experts_per_token = static_cast<int>(e.integer("experts_per_token", Range::between(1, 1 << 20)));
    moe.num_shared_experts = static_cast<int>(e.integer("num_shared_experts", Range::between(0, 1 << 20)));
    moe.expert_ffn_hidden_size = static_cast<int>(e.integer("expert_ffn_hidden_size", dim));
    moe.first_dense_layers = static_cast<int>(e.integer_or("first_dense_layers", 0, Range::between(0, 10000)));
    moe.layer_step = static_cast<int>(e.integer_or("layer_step", 1, Range::between(1, 10000)));
    moe.expert_weight_format = static_cast<BlockFormat>(e.choice("expert_weight_format", kBlockFormatNames, 0));
    moe.expert_groups = static_cast<int>(e.integer_or("expert_groups", 0, Range::between(0, 1 << 20)));
    moe.groups_per_token = static_cast<int>(e.integer_or("groups_per_token", 0, Range::between(0, 1 << 20)));
    if (e.has("balanced_load_skew")) {
      moe.balanced_load_skew = e.number("balanced_load_skew", Range::between(1, 100));
      e.string("balanced_load_skew_source");
    } else if (e.has("balanced_load_skew_source")) {
      e.error("balanced_load_skew_source", "applies only with balanced_load_skew");
    }
    if (moe.experts_per_token > moe.num_experts) {
      e.error("experts_per_token", "must not exceed num_experts (" + std::to_string(moe.num_experts) + ")");
    }
    if ((moe.expert_groups > 0) != (moe.groups_per_token > 0)) {
      e.error(moe.expert_groups > 0 ? "groups_per_token" : "expert_groups",
              "group-limited routing needs both expert_groups and groups_per_token (or neither)");
    }
    if (moe.expert_groups > 0 && moe.num_experts % moe.expert_groups != 0) {
      e.error("expert_groups", "must divide num_experts (" + std::to_string(moe.num_experts) + ")");
    }
    if (moe.groups_per_token > moe.expert_groups) {
      e.error("groups_per_token", "must not exceed expert_groups (" + std::to_string(moe.expert_groups) + ")");
    }
    if (moe.expert_groups > 0 &&
        moe.experts_per_token > moe.groups_per_token * (moe.num_experts / moe.expert_groups)) {
      e.error("experts_per_token", "exceeds the experts of groups_per_token groups (" +
                                       std::to_string(moe.groups_per_token * (moe.num_experts / moe.expert_groups)) + ")");
    }
    if (moe.first_dense_layers >= m.num_layers && m.num_layers > 0) {
      e.error("first_dense_layers", "must be smaller than num_layers (" + std::to_string(m.num_layers) + ")");
    }
    if (moe.first_dense_layers < m.num_layers && m.num_layers - moe.first_dense_layers < moe.layer_step) {
      e.error("layer_step", "leaves no MoE layer: " + std::to_string(m.num_layers - moe.first_dense_layers) +
                                " layers follow the dense ones");
    }
    e.finish();
    m.moe = moe;
  }
  if (r.has_value("mla")) {
    ObjectReader a = r.object("mla");
    MlaSpec mla;
    mla.q_lora_rank = static_cast<int>(a.integer("q_lora_rank", Range::between(0, 1 << 20)));
    mla.kv_lora_rank = static_cast<int>(a.integer("kv_lora_rank", Range::between(1, 1 << 20)));
    mla.qk_nope_head_dim = static_cast<int>(a.integer("qk_nope_head_dim", Range::between(1, 1 << 16)));
    mla.qk_rope_head_dim = static_cast<int>(a.integer("qk_rope_head_dim", Range::between(0, 1 << 16)));
    mla.v_head_dim = static_cast<int>(a.integer("v_head_dim", Range::between(1, 1 << 16)));
    a.finish();
    m.mla = mla;
  }
  m.attention_sinks = r.boolean_or("attention_sinks", false);
  if (r.has_value("local_attention")) {
    ObjectReader a = r.object("local_attention");
    LocalAttentionSpec local;
    local.window.kind = static_cast<LocalAttentionKind>(a.choice("kind", kLocalAttentionKindNames));
    local.window.tokens = a.integer("window_tokens", Range::between(1, 1e9));
    local.layer_pattern = a.string("layer_pattern");
    if (local.layer_pattern.empty() || local.layer_pattern.size() > 10000 ||
        local.layer_pattern.find_first_not_of("LG") != std::string::npos) {
      a.error("layer_pattern", "expected a non-empty string of 'L' (local layer) and 'G' (global layer), repeated from "
                               "layer 0; found \"" + local.layer_pattern.substr(0, 64) + "\"");
      local.layer_pattern = "G";
    }
    a.finish();
    m.local_attention = local;
  }
  r.finish();
  return m;
}

ModelSpec load_model(const config::Document& doc) { return config::parse_strictly(doc, parse_model); }

ModelSpec load_model(const std::string& name_or_path) {
  return load_model(config::resolve_command_line_reference(config::CatalogKind::models, name_or_path));
}

}  // namespace infersim::model
