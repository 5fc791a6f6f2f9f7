#pragma once
// The architecture of one transformer model, as read from a model config. See docs/configuration.md.

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "infersim/core/dtype.hpp"

namespace infersim::model {

enum class Norm { rmsnorm, layernorm };
inline constexpr std::array<std::string_view, 2> kNormNames = {"rmsnorm", "layernorm"};

enum class PositionEmbedding { rope, learned, alibi };
inline constexpr std::array<std::string_view, 3> kPositionEmbeddingNames = {"rope", "learned", "alibi"};

/// Block-scaled 4-bit weight formats (OCP Microscaling MXFP4; NVIDIA NVFP4): FP4 (E2M1) elements with one
/// 8-bit scale per block. MXFP4: 32-element blocks, E8M0 scale = 4.25 bits per weight. NVFP4: 16-element blocks,
/// E4M3 scale = 4.5 bits per weight, plus one FP32 scale per tensor (negligible, not counted).
enum class BlockFormat { none, mxfp4, nvfp4 };
inline constexpr std::array<std::string_view, 3> kBlockFormatNames = {"none", "mxfp4", "nvfp4"};

/// Elements that share one scale, and bytes per weight with the scales (0 for `none`).
constexpr int block_elements(BlockFormat f) { return f == BlockFormat::mxfp4 ? 32 : f == BlockFormat::nvfp4 ? 16 : 0; }
constexpr double block_format_bytes_per_weight(BlockFormat f) {
  return f == BlockFormat::none ? 0.0 : 0.5 + 1.0 / block_elements(f);
}

struct MoeSpec {
  int num_experts = 0;
  int experts_per_token = 0;
  int num_shared_experts = 0;
  int expert_ffn_hidden_size = 0;
  int first_dense_layers = 0;  // leading layers with a dense MLP of ffn_hidden_size
  int layer_step = 1;          // after them, layer i is MoE when (i - first_dense_layers + 1) % layer_step == 0
  BlockFormat expert_weight_format = BlockFormat::none;  // routed experts published block-scaled (gpt-oss: mxfp4)
  // Group-limited routing (DeepSeek-V3: n_group 8, topk_group 4): the experts form `expert_groups` equal groups
  // and a token's experts come from at most `groups_per_token` of them. 0 = unrestricted routing.
  int expert_groups = 0;
  int groups_per_token = 0;
  // Busiest expert-parallel rank's load over the uniform-routing expectation under real traffic once the experts
  // are replicated and placed by measured load (EPLB, deployment.redundant_experts > 0): the skew no placement
  // removes. Measured; 1 = none given (docs/roofline.md, "Load imbalance").
  double balanced_load_skew = 1.0;
  /// Most of `nodes` nodes (holding the experts evenly) one token's experts may reach: groups_per_token groups,
  /// each spread over max(1, nodes / expert_groups) nodes; 0 = no limit.
  double node_limit(double nodes) const {
    if (groups_per_token <= 0) return 0.0;
    return groups_per_token * (nodes > expert_groups ? nodes / expert_groups : 1.0);
  }
  int layer_offset = 0;  // not a config key: a slice of layers (hybrid placement) starting mid-period
};

/// Attention restricted to nearby keys on some layers. sliding_window: a query attends the last `window_tokens`
/// keys (itself included; Mistral, Gemma 2/3, gpt-oss). chunked: the sequence is cut into chunks of
/// `window_tokens` and a query attends only the keys of its own chunk (Llama 4).
enum class LocalAttentionKind { sliding_window, chunked };
inline constexpr std::array<std::string_view, 2> kLocalAttentionKindNames = {"sliding_window", "chunked"};

/// The window of a local-attention layer; `tokens` 0 = none (full attention).
struct AttentionWindow {
  LocalAttentionKind kind = LocalAttentionKind::sliding_window;
  std::int64_t tokens = 0;

  bool operator==(const AttentionWindow&) const = default;
  /// Keys a query at 1-based position `position` attends (itself included).
  double keys(double position) const;
  /// Query-key pairs of the queries at positions cached+1 .. cached+new_tokens.
  double pairs(double cached, double new_tokens) const;
  /// Cached keys (positions 1..cached) the next query still attends: what a local layer reads of the cache.
  double cached_keys(double cached) const { return keys(cached + 1) - 1; }
};

struct LocalAttentionSpec {
  AttentionWindow window;
  std::string layer_pattern;  // 'L' local / 'G' global (full attention), repeated from layer 0

  bool local_layer(int layer) const {
    return !layer_pattern.empty() && layer_pattern[static_cast<std::size_t>(layer) % layer_pattern.size()] == 'L';
  }
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
  // FP8 checkpoints scaled per square block of weights (DeepSeek-V3: one FP32 scale per 128 x 128 block,
  // quantization_config.weight_block_size) rather than per tensor: the side of the block, 0 = per tensor or not
  // FP8. Their GEMMs run block-scaled kernels (DeepGEMM; hardware efficiency.block_fp8_gemm_overhead_k).
  int fp8_weight_block_size = 0;
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
  bool attention_sinks = false;  // a learned logit per head and layer joins every softmax (gpt-oss)
  std::optional<MoeSpec> moe;
  std::optional<MlaSpec> mla;
  std::optional<LocalAttentionSpec> local_attention;

  bool moe_layer(int layer) const {
    return moe && layer >= moe->first_dense_layers &&
           (layer - moe->first_dense_layers + 1 + moe->layer_offset) % std::max(1, moe->layer_step) == 0;
  }
  int num_moe_layers() const {
    if (!moe) return 0;
    if (moe->layer_step <= 1) return num_layers - moe->first_dense_layers;
    int n = 0;
    for (int i = moe->first_dense_layers; i < num_layers; ++i) n += moe_layer(i) ? 1 : 0;
    return n;
  }
  int num_dense_mlp_layers() const { return num_layers - num_moe_layers(); }
  /// Layers with local (sliding-window or chunked) attention; the others attend the whole context.
  int num_local_attention_layers() const {
    int n = 0;
    for (int i = 0; local_attention && i < num_layers; ++i) n += local_attention->local_layer(i) ? 1 : 0;
    return n;
  }
  int num_global_attention_layers() const { return num_layers - num_local_attention_layers(); }
  /// The window of the local layers (tokens 0 when there are none).
  AttentionWindow attention_window() const {
    return num_local_attention_layers() > 0 ? local_attention->window : AttentionWindow{};
  }
};

}  // namespace infersim::model
