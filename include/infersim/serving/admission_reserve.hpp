#pragma once
// KV admission that keeps room for output still to come (scheduler.admission_reserve; docs/serving.md, "KV
// admission"). Engines that do not want to preempt running requests admit a new one only when the KV cache
// can also hold part of what the running ones, and the new one, will still generate: SGLang's PrefillAdder
// (a decaying share, new_token_ratio), TensorRT-LLM's GUARANTEED_NO_EVICT (every output whole). The replica
// owns one per cache and hands it to every scheduler pass through SchedulerContext::admit(); policies need
// not know it exists.

#include <cstdint>
#include <span>
#include <string>

#include "infersim/config/json_reader.hpp"
#include "infersim/parallelism/kv_footprint.hpp"
#include "infersim/serving/serving_spec.hpp"

namespace infersim::serving {

struct RunningSet;

class AdmissionReserve {
 public:
  /// `footprint`: what a sequence's cache takes as it grows (local-attention windows); the reserve counts in
  /// its units, tokens for a model without local attention.
  explicit AdmissionReserve(const AdmissionReserveSpec& spec, const parallelism::KvFootprint& footprint = {});
  bool enabled() const { return spec_.enabled(); }

  /// Before a scheduler pass. `decode_steps_run`: the replica's running count of decode steps; the running
  /// share falls by the steps run since the last pass, or returns to its start when no lane holds a request.
  /// Then the share of every running request's remaining output is counted as taken.
  void begin_pass(std::int64_t decode_steps_run, std::span<const RunningSet* const> lanes);
  /// Whether a request holding `held_tokens` of KV (a cached prefix, a transferred prompt), with
  /// `prompt_tokens` still to prefill and `output_tokens` still to generate, may be admitted when `free_units`
  /// of KV are free. Always true while nothing runs or has been admitted in the pass (a request that fits
  /// alone is never held back forever).
  bool admits(std::int64_t free_units, std::int64_t held_tokens, std::int64_t prompt_tokens, std::int64_t output_tokens) const;
  /// Count an admitted request for the rest of the pass: holding blocks for `allocated_tokens`, with
  /// `unallocated_prompt_tokens` of its prompt still to take blocks for, and its output share.
  void admitted(std::int64_t allocated_tokens, std::int64_t unallocated_prompt_tokens, std::int64_t output_tokens);
  /// After a preemption: the share becomes the running requests' progress, (generated + lookahead x
  /// requests) / (outputs + 1), at most 1.
  void after_preemption(std::span<const RunningSet* const> lanes);

  double running_share() const { return share_; }
  /// KV the pass counts as taken beyond the allocated blocks, in the footprint's units (tokens without local
  /// attention).
  double reserved_tokens() const { return reserved_; }

 private:
  double clipped(std::int64_t tokens) const;

  AdmissionReserveSpec spec_;
  parallelism::KvFootprint footprint_;
  double share_;
  std::int64_t decode_steps_seen_ = 0;
  double reserved_ = 0;
  bool holding_ = false;  // some request runs or was admitted in this pass
};

/// `scheduler.admission_reserve` of an engine profile or a scenario: every key optional, `base` where absent.
AdmissionReserveSpec read_admission_reserve(config::ObjectReader& r, const AdmissionReserveSpec& base);
/// Its resolved form (every key), as the resolved scenario and `list engines --format json` give it.
config::Json admission_reserve_json(const AdmissionReserveSpec& spec);
/// One short label for tables: "new 1, running 0.7 -> 0.098", or "-" when off.
std::string admission_reserve_label(const AdmissionReserveSpec& spec);

}  // namespace infersim::serving
