#pragma once
// What one sequence's KV cache takes as it grows. The layers with full attention keep every token; the
// local-attention layers (sliding window, chunked) keep at most their window, and engines hand those layers'
// blocks back as tokens leave the window (vLLM's hybrid KV-cache manager: SlidingWindowManager and
// ChunkedLocalAttentionManager free the blocks no query can reach; SGLang's SWA pool likewise), so a
// sequence's cache grows at the full rate up to the window and at the global layers' rate after it.
//
// The unit is one token of the full-attention layers' cache (a model with only local layers: one token of
// theirs). A sequence of n tokens holds full_weight x n + window_weight x min(n, window_tokens) units.

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace infersim::parallelism {

struct KvFootprint {
  double full_weight = 1;          // units per token, every token (0 when every layer is local)
  double window_weight = 0;        // units per token of the last window_tokens (the local layers')
  std::int64_t window_tokens = 0;  // the most tokens a local layer keeps per sequence

  /// Bytes per token of the full-attention layers and of the local ones, and the window: the footprint in
  /// units of the former (of the latter when there are no full-attention layers).
  static KvFootprint of(double full_bytes_per_token, double local_bytes_per_token, std::int64_t window_tokens) {
    if (local_bytes_per_token <= 0 || window_tokens <= 0) return {};
    const double unit = full_bytes_per_token > 0 ? full_bytes_per_token : local_bytes_per_token;
    return {full_bytes_per_token / unit, local_bytes_per_token / unit, window_tokens};
  }

  /// No local layers: a token is a unit.
  bool plain() const { return window_weight == 0; }

  /// Units a sequence of `tokens` tokens holds, unrounded.
  double size(double tokens) const {
    if (plain()) return tokens;
    return full_weight * tokens + window_weight * std::min(tokens, static_cast<double>(window_tokens));
  }
  /// Units a sequence of `held` tokens takes to grow by `more` tokens, unrounded.
  double growth(double held, double more) const { return plain() ? more : size(held + more) - size(held); }

  /// Units a sequence of `tokens` tokens holds (rounded up: a part of a unit takes a whole one).
  std::int64_t units(std::int64_t tokens) const {
    if (tokens <= 0) return 0;
    if (plain()) return tokens;
    return static_cast<std::int64_t>(std::ceil(size(static_cast<double>(tokens)) - 1e-9));
  }

  /// Blocks of `block_size` units that a sequence of `tokens` tokens holds.
  std::int64_t blocks(std::int64_t tokens, std::int64_t block_size) const {
    const std::int64_t u = units(tokens);
    return u <= 0 ? 0 : (u + block_size - 1) / block_size;
  }

  /// The longest sequence that `units` units hold; `longest` when a window's worth fits and nothing grows
  /// past it (every layer local).
  std::int64_t longest_sequence(std::int64_t units, std::int64_t longest) const {
    if (units <= 0) return 0;
    if (plain()) return units;
    const double u = static_cast<double>(units), w = static_cast<double>(window_tokens);
    const double inside = (full_weight + window_weight) * w;  // units of a sequence as long as the window
    if (u < inside) return static_cast<std::int64_t>(std::floor(u / (full_weight + window_weight) + 1e-9));
    if (full_weight <= 0) return longest;
    return static_cast<std::int64_t>(std::floor((u - window_weight * w) / full_weight + 1e-9));
  }
};

}  // namespace infersim::parallelism
