#pragma once
// What one batch step processes, as the sums the operator costs depend on (docs/modeling.md section 1).
// A step holds prefill chunks (c_i new tokens after p_i cached ones) and decode sequences (context n_j,
// q tokens each: 1, or s+1 when verifying s speculative tokens). For a model with local-attention layers
// (sliding window, chunked) the shape also sums what those layers attend: set `window` to the model's
// attention_window() before adding chunks and sequences.

#include <cstdint>

#include "infersim/model/model_spec.hpp"

namespace infersim::roofline {

struct StepShape {
  std::int64_t prefill_tokens = 0;          // sum c_i
  double prefill_attention_pairs = 0;       // sum c_i p_i + c_i (c_i + 1) / 2: causal query-key pairs
  std::int64_t prefill_context_tokens = 0;  // sum p_i: cached tokens the chunks read
  std::int64_t prefill_sequences = 0;
  std::int64_t decode_sequences = 0;              // B
  std::int64_t decode_tokens_per_sequence = 1;    // q
  std::int64_t decode_context_tokens = 0;         // sum n_j: cached tokens the decode sequences read
  std::int64_t logit_tokens = 0;                  // tokens that go through the LM head
  // Local-attention layers (window.tokens > 0): the same sums bounded by the window.
  model::AttentionWindow window;
  double prefill_local_pairs = 0;          // sum over chunks of window.pairs(p_i, c_i)
  double prefill_local_context_tokens = 0; // sum window.cached_keys(p_i)
  double decode_local_pairs = 0;           // sum over sequences of window.pairs(n_j, q)
  double decode_local_context_tokens = 0;  // sum window.cached_keys(n_j)

  std::int64_t decode_tokens() const { return decode_sequences * decode_tokens_per_sequence; }
  std::int64_t total_tokens() const { return prefill_tokens + decode_tokens(); }
  /// Query-key pairs of the decode part: each of q tokens attends n_j cached tokens plus those before it.
  double decode_attention_pairs() const {
    const double q = static_cast<double>(decode_tokens_per_sequence);
    return q * static_cast<double>(decode_context_tokens) + static_cast<double>(decode_sequences) * q * (q + 1) / 2;
  }
  bool empty() const { return total_tokens() == 0; }

  /// Add a prefill chunk of `chunk` tokens after `cached` tokens; `last_chunk` chunks emit a logit.
  void add_prefill_chunk(std::int64_t chunk, std::int64_t cached, bool last_chunk) {
    prefill_tokens += chunk;
    prefill_attention_pairs += static_cast<double>(chunk) * static_cast<double>(cached) +
                               static_cast<double>(chunk) * (static_cast<double>(chunk) + 1) / 2;
    prefill_context_tokens += cached;
    prefill_sequences += 1;
    if (window.tokens > 0) {
      prefill_local_pairs += window.pairs(static_cast<double>(cached), static_cast<double>(chunk));
      prefill_local_context_tokens += window.cached_keys(static_cast<double>(cached));
    }
    if (last_chunk) logit_tokens += 1;
  }
  /// Add one decode sequence at context `context` (q tokens, each emits a logit).
  void add_decode(std::int64_t context) {
    const std::int64_t only_slot[1] = {0};
    add_decodes(&context, only_slot);
  }
  /// Add one decode sequence per index in `slots`, at context `contexts[slot]`: add_decode in a loop, with the
  /// sums kept in locals (the replica's hot loop; stores into the shape would alias the context array).
  template <typename Slots>
  void add_decodes(const std::int64_t* contexts, const Slots& slots) {
    std::int64_t n = 0, context_sum = 0;
    if (window.tokens > 0) {
      const double q = static_cast<double>(decode_tokens_per_sequence);
      double pairs = decode_local_pairs, cached = decode_local_context_tokens;
      for (const auto slot : slots) {
        const std::int64_t context = contexts[slot];
        ++n;
        context_sum += context;
        pairs += window.pairs(static_cast<double>(context), q);
        cached += window.cached_keys(static_cast<double>(context));
      }
      decode_local_pairs = pairs;
      decode_local_context_tokens = cached;
    } else {
      for (const auto slot : slots) {
        ++n;
        context_sum += contexts[slot];
      }
    }
    decode_sequences += n;
    decode_context_tokens += context_sum;
    logit_tokens += n * decode_tokens_per_sequence;
  }
  /// The prefill chunks alone (the logits of the decode sequences removed).
  StepShape prefill_part() const {
    StepShape p = *this;
    p.decode_sequences = 0;
    p.decode_context_tokens = 0;
    p.decode_local_pairs = p.decode_local_context_tokens = 0;
    p.logit_tokens = logit_tokens - decode_tokens();
    return p;
  }
  /// The decode sequences alone.
  StepShape decode_part() const {
    StepShape d = *this;
    d.prefill_tokens = d.prefill_sequences = d.prefill_context_tokens = 0;
    d.prefill_attention_pairs = 0;
    d.prefill_local_pairs = d.prefill_local_context_tokens = 0;
    d.logit_tokens = decode_tokens();
    return d;
  }

  /// The larger of two micro-batches that split this step in halves (two-batch overlap): every count and sum
  /// halved, counts rounded up. Exact for a step of two equal sets of sequences; a single long prompt split
  /// at its middle has the same tokens, and its causal pairs are shared out as halves.
  StepShape micro_batch() const {
    auto up = [](std::int64_t x) { return (x + 1) / 2; };
    StepShape h = *this;
    h.prefill_tokens = up(prefill_tokens);
    h.prefill_attention_pairs = prefill_attention_pairs / 2;
    h.prefill_context_tokens = up(prefill_context_tokens);
    h.prefill_sequences = up(prefill_sequences);
    h.decode_sequences = up(decode_sequences);
    h.decode_context_tokens = up(decode_context_tokens);
    h.logit_tokens = up(logit_tokens);
    h.prefill_local_pairs = prefill_local_pairs / 2;
    h.prefill_local_context_tokens = prefill_local_context_tokens / 2;
    h.decode_local_pairs = decode_local_pairs / 2;
    h.decode_local_context_tokens = decode_local_context_tokens / 2;
    return h;
  }
  /// B sequences of `length` prompt tokens, prefilled from scratch.
  static StepShape prefill(std::int64_t batch, std::int64_t length, model::AttentionWindow window = {}) {
    StepShape s;
    s.window = window;
    for (std::int64_t i = 0; i < batch; ++i) s.add_prefill_chunk(length, 0, true);
    return s;
  }
  /// B sequences decoding with `context` cached tokens each, q tokens per sequence.
  static StepShape decode(std::int64_t batch, std::int64_t context, std::int64_t q = 1, model::AttentionWindow window = {}) {
    StepShape s;
    s.window = window;
    s.decode_tokens_per_sequence = q;
    for (std::int64_t i = 0; i < batch; ++i) s.add_decode(context);
    return s;
  }
};

}  // namespace infersim::roofline
