#pragma once
// The architecture of one transformer model, as read from a model config. See docs/configuration.md.

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "infersim/core/dtype.hpp"

namespace infersim::model {

enum class Norm { rmsnorm, layernorm };
inline constexpr std::array<std::string_view, 2> kNormNames = {"rmsnorm", "layernorm"};

enum class PositionEmbedding { rope, learned, alibi };
inline constexpr std::array<std::string_view, 3> kPositionEmbeddingNames = {"rope", "learned", "alibi"};

struct MoeSpec {
  int num_experts = 0;
  int experts_per_token = 0;
  int num_shared_experts = 0;
  int expert_ffn_hidden_size = 0;
  int first_dense_layers = 0;  // leading layers with a dense MLP of ffn_hidden_size
};

/// Multi-head latent attention (DeepSeek-V2/V3).
struct MlaSpec {
  int q_lora_rank = 0;  // 0 = queries projected directly from the hidden state
  int kv_lora_rank = 0;
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;
};

struct ModelSpec {
  std::string name, description, source, notes;
  double published_parameters = 0;  // as stated by the model card / paper
  DType native_dtype = DType::bf16;
  int num_layers = 0;
  int hidden_size = 0;
  int num_attention_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int ffn_hidden_size = 0;
  int vocab_size = 0;
  bool gated_mlp = true;
  bool tied_embeddings = false;
  Norm norm = Norm::rmsnorm;
  bool linear_bias = false;
  PositionEmbedding position_embedding = PositionEmbedding::rope;
  std::int64_t max_context_tokens = 0;
  std::optional<MoeSpec> moe;
  std::optional<MlaSpec> mla;

  int num_moe_layers() const { return moe ? num_layers - moe->first_dense_layers : 0; }
  int num_dense_mlp_layers() const { return num_layers - num_moe_layers(); }
};

}  // namespace infersim::model
