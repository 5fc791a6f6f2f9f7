#pragma once
// Speculative decoding (contract: `speculative`). Each decode step, a cheap proposer drafts s tokens per
// sequence and the target model verifies them in one pass; the sequence keeps the longest accepted prefix
// plus one token of the target's own. Accepted tokens are sampled per request per step (seeded), so the
// speed-up comes out of the step costs and the sampled acceptance, not from an assumed factor.
//
// Proposers:
// - draft_model: a smaller model on the same chips, with its own weights and KV cache; s autoregressive
//   draft steps per step (and it prefills every prompt too).
// - medusa: s extra decoding heads on the target (a residual block and an LM head each), run once per step;
//   candidates form a tree of num_candidate_tokens tokens verified together.
// - eagle: a one-layer draft decoder over the target's features, reusing its LM head; s draft steps;
//   tree verification of num_candidate_tokens tokens.
// - mtp: the target's own multi-token-prediction module (DeepSeek-V3, arXiv:2412.19437 section 2.2): one more
//   transformer block of the target's kind (its last layer's: MLA and MoE for DeepSeek) after a 2d -> d
//   projection, sharing the target's embedding and LM head, laid out like the target (attention data
//   parallelism and expert parallelism included); s draft steps, chain verification of s + 1 tokens.

#include <cstdint>
#include <optional>
#include <vector>

#include "infersim/core/random.hpp"
#include "infersim/model/model_spec.hpp"
#include "infersim/parallelism/deployment_spec.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/serving/step_pricer.hpp"

namespace infersim::serving {

enum class SpeculativeMethod { none, draft_model, medusa, eagle, mtp };
inline constexpr std::string_view kSpeculativeMethodNames[] = {"none", "draft_model", "medusa", "eagle", "mtp"};

struct SpeculativeSpec {
  SpeculativeMethod method = SpeculativeMethod::none;
  std::optional<model::ModelSpec> draft_model;  // draft_model
  int num_speculative_tokens = 0;               // s
  std::vector<double> acceptance;               // one rate for every position, or one per position 1..s
  int num_candidate_tokens = 0;                 // tokens verified per sequence (0 = s + 1)

  bool enabled() const { return method != SpeculativeMethod::none && num_speculative_tokens > 0; }
  /// Probability that draft position i (1-based) is accepted, given positions before it were.
  double acceptance_at(int position) const;
  /// Tokens per sequence per step in expectation: 1 + sum_i prod_{j<=i} a_j  ( = (1-a^(s+1))/(1-a) for one rate).
  double expected_tokens_per_step() const;
  /// Tokens each sequence runs through the target per step.
  int verify_tokens() const { return num_candidate_tokens > 0 ? num_candidate_tokens : num_speculative_tokens + 1; }
  /// Accepted draft tokens of one sequence in one step (0..s).
  int sample_accepted(Rng& rng) const;
};

/// Weights a proposer adds to each chip, and KV bytes it adds per token per chip.
struct DraftMemory {
  double weight_bytes_per_chip = 0;
  double kv_bytes_per_token_per_chip = 0;
};
DraftMemory draft_memory(const SpeculativeSpec& spec, const model::ModelSpec& target,
                         const parallelism::DeploymentSpec& deployment);
/// The proposer of method mtp: the target's last layer as a one-layer model (no leading dense layers).
model::ModelSpec mtp_module(const model::ModelSpec& target);

/// Prices speculative steps: the target verifying verify_tokens() per decoding sequence, plus the proposer.
class SpeculativePricer final : public StepPricer {
 public:
  SpeculativePricer(const SpeculativeSpec& spec, const roofline::StepCostModel& target,
                    const hardware::HardwareSpec& hardware, const parallelism::DeploymentSpec& deployment);
  roofline::StepCost price(const roofline::StepShape& shape) override;
  std::int64_t decode_tokens_per_sequence() const override { return spec_.verify_tokens(); }
  /// The target's pass plus the proposer's: a draft model prefills with the target and drafts one token per
  /// pass; EAGLE's head runs one pass per drafted token; Medusa's heads run inside the target's pass.
  StepLaunches launches(const roofline::StepShape& shape) const override;
  model::AttentionWindow attention_window() const override { return target_model_->model().attention_window(); }

 private:
  SpeculativeSpec spec_;
  roofline::StepCostCache target_;
  std::unique_ptr<roofline::StepCostModel> draft_model_;  // draft_model, or eagle's one-layer decoder
  std::unique_ptr<roofline::StepCostCache> draft_;
  const roofline::StepCostModel* target_model_;
};

}  // namespace infersim::serving
