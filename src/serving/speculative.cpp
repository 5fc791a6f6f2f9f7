#include "infersim/serving/speculative.hpp"

#include <algorithm>
#include <cmath>

#include "infersim/core/error.hpp"
#include "infersim/model/model_stats.hpp"

namespace infersim::serving {

double SpeculativeSpec::acceptance_at(int position) const {
  if (acceptance.empty()) return 0.0;
  if (acceptance.size() == 1) return acceptance.front();
  return acceptance[static_cast<std::size_t>(std::min<int>(position, static_cast<int>(acceptance.size())) - 1)];
}

double SpeculativeSpec::expected_tokens_per_step() const {
  double expected = 1.0, prefix = 1.0;
  for (int i = 1; i <= num_speculative_tokens; ++i) {
    prefix *= acceptance_at(i);
    expected += prefix;
  }
  return expected;
}

int SpeculativeSpec::sample_accepted(Rng& rng) const {
  int accepted = 0;
  while (accepted < num_speculative_tokens && rng.uniform() < acceptance_at(accepted + 1)) ++accepted;
  return accepted;
}

namespace {

/// EAGLE's draft: one decoder layer of the target's shape (dense MLP), with the target's embedding and LM head.
model::ModelSpec eagle_draft(const model::ModelSpec& target) {
  model::ModelSpec m = target;
  m.name = target.name + "-eagle-head";
  m.num_layers = 1;
  if (m.moe) {
    // The EAGLE head is a dense decoder layer even for MoE targets; size its MLP like one expert group.
    m.ffn_hidden_size = m.moe->expert_ffn_hidden_size * m.moe->experts_per_token;
    m.moe.reset();
  }
  return m;
}

}  // namespace

model::ModelSpec mtp_module(const model::ModelSpec& target) {
  model::ModelSpec m = parallelism::slice_layers(target, target.num_layers - 1, 1);
  m.name = target.name + "-mtp";
  return m;
}

DraftMemory draft_memory(const SpeculativeSpec& spec, const model::ModelSpec& target,
                         const parallelism::DeploymentSpec& d) {
  DraftMemory out;
  if (!spec.enabled()) return out;
  const double t = d.tensor_parallel;
  const double wb = parallelism::weight_bytes_per_element(d);
  const double kvb = bytes_per_element(d.kv_cache_dtype);
  const double dm = target.hidden_size;
  switch (spec.method) {
    case SpeculativeMethod::draft_model: {
      const auto& draft = *spec.draft_model;
      const auto c = model::count_parameters(draft);
      out.weight_bytes_per_chip = (c.layers() * wb + (c.embedding + c.lm_head) * std::max(wb, 2.0)) / t;
      const double kv_heads = std::max(1.0, static_cast<double>(draft.num_kv_heads) / t);
      out.kv_bytes_per_token_per_chip =
          draft.mla ? model::kv_elements_per_token_per_layer(draft) * draft.num_layers * kvb
                    : 2.0 * kv_heads * draft.head_dim * draft.num_layers * kvb;
      break;
    }
    case SpeculativeMethod::medusa:
      // s heads: a residual block (d x d) and an LM head (d x V) each.
      out.weight_bytes_per_chip =
          spec.num_speculative_tokens * (dm * dm + dm * target.vocab_size) * std::max(wb, 2.0) / t;
      break;
    case SpeculativeMethod::eagle: {
      const auto head = eagle_draft(target);
      const auto c = model::count_parameters(head);
      out.weight_bytes_per_chip = (c.layers() + 2.0 * dm * dm) * wb / t;  // the layer and its 2d -> d input projection
      out.kv_bytes_per_token_per_chip = head.mla ? model::kv_elements_per_token_per_layer(head) * kvb
                                                 : 2.0 * std::max(1.0, static_cast<double>(head.num_kv_heads) / t) *
                                                       head.head_dim * kvb;
      break;
    }
    case SpeculativeMethod::mtp: {
      // One layer laid out like the target's (plan_memory's split, no embedding or head: they are shared) and
      // the 2d -> d projection, held like attention by every attention rank's a chips.
      const auto module = mtp_module(target);
      const parallelism::Placement shared{false, false};
      out.weight_bytes_per_chip = parallelism::plan_memory(module, {}, d, {}, shared).weight_bytes_per_chip +
                                  2.0 * dm * dm * wb / d.attention_tensor_parallel();
      const int a = d.attention_tensor_parallel();
      out.kv_bytes_per_token_per_chip =
          module.mla ? model::kv_elements_per_token_per_layer(module) * kvb
                     : 2.0 * std::max(1.0, static_cast<double>(module.num_kv_heads) / a) * module.head_dim * kvb;
      break;
    }
    case SpeculativeMethod::none: break;
  }
  return out;
}

SpeculativePricer::SpeculativePricer(const SpeculativeSpec& spec, const roofline::StepCostModel& target,
                                     const hardware::HardwareSpec& hardware, const parallelism::DeploymentSpec& deployment)
    : spec_(spec), target_(target), target_model_(&target) {
  parallelism::DeploymentSpec dd = deployment;
  dd.pipeline_parallel = 1;  // the proposer runs on the chips of the last stage
  dd.expert_parallel = 1;
  if (spec.method == SpeculativeMethod::draft_model) {
    const auto& draft = *spec.draft_model;
    // The draft keeps the target's data types, except that it computes at the activation type.
    try {
      draft_model_ = std::make_unique<roofline::StepCostModel>(draft, hardware, dd);
    } catch (const InfeasibleError& e) {
      throw InfeasibleError("speculative.draft_model " + draft.name + ": " + e.what());
    }
  } else if (spec.method == SpeculativeMethod::eagle) {
    draft_model_ = std::make_unique<roofline::StepCostModel>(eagle_draft(target.model()), hardware, dd);
  } else if (spec.method == SpeculativeMethod::mtp) {
    // The module runs on the target's chips in the target's layout: its experts stay expert-parallel.
    parallelism::DeploymentSpec md = deployment;
    md.pipeline_parallel = 1;
    draft_model_ = std::make_unique<roofline::StepCostModel>(mtp_module(target.model()), hardware, md);
  }
  if (draft_model_) draft_ = std::make_unique<roofline::StepCostCache>(*draft_model_);
}

roofline::StepCost SpeculativePricer::price(const roofline::StepShape& shape) {
  roofline::StepCost cost = target_.evaluate(shape);
  const std::int64_t b = shape.decode_sequences;
  if (spec_.method == SpeculativeMethod::medusa) {
    if (b > 0) {
      const auto& m = target_model_->model();
      const double t = target_model_->deployment().tensor_parallel;
      cost = roofline::sequential(
          cost, target_model_->price_gemm("medusa_heads", static_cast<double>(b), m.hidden_size,
                                          spec_.num_speculative_tokens * (m.hidden_size + static_cast<double>(m.vocab_size)) / t));
    }
    return cost;
  }
  if (!draft_) return cost;
  // The proposer prefills the same prompt chunks ...
  if (shape.prefill_tokens > 0) {
    roofline::StepShape prefill = shape.prefill_part();
    prefill.decode_tokens_per_sequence = 1;
    cost = roofline::sequential(cost, draft_->evaluate(prefill));
  }
  // ... and drafts s tokens for every decoding sequence, one autoregressive step each.
  if (b > 0) {
    for (int i = 0; i < spec_.num_speculative_tokens; ++i) {
      roofline::StepShape draft_step;
      draft_step.decode_sequences = b;
      draft_step.decode_tokens_per_sequence = 1;
      draft_step.decode_context_tokens = shape.decode_context_tokens + i * b;
      draft_step.logit_tokens = b;
      cost = roofline::sequential(cost, draft_->evaluate(draft_step));
      if (spec_.method == SpeculativeMethod::mtp) {
        // The module's input projection [h; embedding] (2d) -> d, on each attention rank's own sequences.
        const auto& dep = draft_model_->deployment();
        const double d = draft_model_->model().hidden_size;
        const double ranks = std::max(1, dep.attention_data_parallel);
        const double rows = std::ceil(static_cast<double>(b) / ranks);
        cost = roofline::sequential(cost, draft_model_->price_gemm("mtp_projection", rows, 2.0 * d,
                                                                   d / dep.attention_tensor_parallel()));
      }
    }
  }
  return cost;
}

StepLaunches SpeculativePricer::launches(const roofline::StepShape& shape) const {
  StepLaunches l{1, static_cast<double>(target_model_->model().num_layers), shape.decode_sequences > 0};
  if (spec_.method == SpeculativeMethod::medusa) {
    if (l.verifies_draft) l.layers += 1;  // the heads: one more block of kernels
    return l;
  }
  if (!draft_model_) return l;
  const double draft_layers = draft_model_->model().num_layers;
  const int passes = (shape.prefill_tokens > 0 ? 1 : 0) + (l.verifies_draft ? spec_.num_speculative_tokens : 0);
  l.forward_passes += passes;
  l.layers += passes * draft_layers;
  return l;
}

}  // namespace infersim::serving
