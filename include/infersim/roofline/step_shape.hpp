#pragma once
// What one batch step processes, as the sums the operator costs depend on (docs/modeling.md section 1).
// A step holds prefill chunks (c_i new tokens after p_i cached ones) and decode sequences (context n_j,
// q tokens each: 1, or s+1 when verifying s speculative tokens).

#include <cstdint>

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
    if (last_chunk) logit_tokens += 1;
  }
  /// Add one decode sequence at context `context` (q tokens, each emits a logit).
  void add_decode(std::int64_t context) {
    decode_sequences += 1;
    decode_context_tokens += context;
    logit_tokens += decode_tokens_per_sequence;
  }

  /// B sequences of `length` prompt tokens, prefilled from scratch.
  static StepShape prefill(std::int64_t batch, std::int64_t length) {
    StepShape s;
    for (std::int64_t i = 0; i < batch; ++i) s.add_prefill_chunk(length, 0, true);
    return s;
  }
  /// B sequences decoding with `context` cached tokens each, q tokens per sequence.
  static StepShape decode(std::int64_t batch, std::int64_t context, std::int64_t q = 1) {
    StepShape s;
    s.decode_tokens_per_sequence = q;
    for (std::int64_t i = 0; i < batch; ++i) s.add_decode(context);
    return s;
  }
};

}  // namespace infersim::roofline
