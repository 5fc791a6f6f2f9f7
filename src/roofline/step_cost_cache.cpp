#include "infersim/roofline/step_cost_cache.hpp"

#include <algorithm>

#include "infersim/roofline/kernel.hpp"

namespace infersim::roofline {

CostParts& CostParts::operator+=(const CostParts& o) {
  layers_s += o.layers_s;
  first_stage_s += o.first_stage_s;
  last_stage_s += o.last_stage_s;
  boundary_s += o.boundary_s;
  flops += o.flops;
  bytes += o.bytes;
  compute_s += o.compute_s;
  memory_s += o.memory_s;
  network_s += o.network_s;
  dispatch_s += o.dispatch_s;
  combine_s += o.combine_s;
  expert_side_s += o.expert_side_s;
  return *this;
}

CostParts sum_parts(const OperatorTable& t) {
  CostParts c;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const double total = t.count[i] * static_cast<double>(t.time_s[i]);
    switch (t.segment[i]) {
      case Segment::layers:
        c.layers_s += total;
        switch (t.slot[i]) {
          case MoeSlot::attention_side: break;
          case MoeSlot::dispatch: c.dispatch_s += total; break;
          case MoeSlot::expert_side: c.expert_side_s += total; break;
          case MoeSlot::combine: c.combine_s += total; break;
        }
        break;
      case Segment::first_stage: c.first_stage_s += total; break;
      case Segment::last_stage: c.last_stage_s += total; break;
      case Segment::stage_boundary: c.boundary_s += total; break;
    }
    c.flops += t.count[i] * t.flops(i);
    if (!t.network[i]) c.bytes += t.count[i] * static_cast<double>(t.bytes[i]);
    switch (static_cast<Bound>(t.bound[i])) {
      case Bound::compute: c.compute_s += total; break;
      case Bound::memory: c.memory_s += total; break;
      case Bound::network: c.network_s += total; break;
    }
  }
  return c;
}

StepCost finish_step(const CostParts& c, int pipeline_parallel) {
  StepCost s;
  const double p = pipeline_parallel;
  const double ends = c.first_stage_s + c.last_stage_s;
  s.time_s = p * c.layers_s + ends + (p - 1) * c.boundary_s;
  s.stage_time_s = c.layers_s + (p > 1 ? std::max(c.first_stage_s, c.last_stage_s) + c.boundary_s : ends);
  s.flops_per_chip = c.flops;
  s.bytes_per_chip = c.bytes;
  s.compute_bound_s = c.compute_s;
  s.memory_bound_s = c.memory_s;
  s.network_bound_s = c.network_s;
  return s;
}

CostParts overlap_two_batches(const CostParts& half, double moe_layers, double comm_sm_share) {
  CostParts c = half;
  c += half;  // both micro-batches' work (FLOPs, bytes, busy time by bound, the parts outside the layers)
  const double comm = half.dispatch_s + half.combine_s;
  const double compute = half.layers_s - comm;
  // Compute that runs beside an exchange gets the SMs the communication kernels leave (1 - s of them).
  const double s = std::clamp(comm_sm_share, 0.0, 0.99);
  // One compute piece beside one exchange: as long as the longer of the two, the compute slowed by s.
  auto pair = [s](double work, double exchange) {
    const double beside = s > 0 ? std::min(work / (1.0 - s), work + exchange * s) : work;
    return std::max(beside, exchange);
  };
  const double pieces = std::max(1.0, moe_layers);
  const double unhidden = std::min(compute, comm) / pieces;
  const double L = pieces;  // the layer's pieces are per MoE layer
  const double a = (compute - half.expert_side_s) / L, e = half.expert_side_s / L;
  const double d = half.dispatch_s / L, x = half.combine_s / L;
  c.layers_s = L * (pair(a, x) + pair(a, d) + pair(e, d) + pair(e, x)) + unhidden;
  return c;
}

const CostParts& StepCostCache::body(std::int64_t tokens, Phase phase) {
  auto compute = [&] {
    scratch_.clear();
    model_->append_pre_attention(scratch_, static_cast<double>(tokens), phase);
    model_->append_post_attention(scratch_, static_cast<double>(tokens), phase);
    evaluate_roofline(scratch_);
    return sum_parts(scratch_);
  };
  if (tokens < kDense) {
    const auto i = static_cast<std::size_t>(tokens);
    if (i >= body_.size()) {
      const std::size_t n = std::min<std::size_t>(kDense, std::max<std::size_t>(i + 1, body_.size() * 2));
      body_.resize(n);
      body_known_.resize(n, 0);
    }
    if (!body_known_[i]) {
      body_[i] = compute();
      body_known_[i] = 1;
    }
    return body_[i];
  }
  auto it = body_big_.find(tokens);
  if (it == body_big_.end()) it = body_big_.emplace(tokens, compute()).first;
  return it->second;
}

const CostParts& StepCostCache::head(std::int64_t logit_tokens, Phase phase) {
  auto compute = [&] {
    scratch_.clear();
    model_->append_head(scratch_, static_cast<double>(logit_tokens), phase);
    evaluate_roofline(scratch_);
    return sum_parts(scratch_);
  };
  if (logit_tokens < kDense) {
    const auto i = static_cast<std::size_t>(logit_tokens);
    if (i >= head_.size()) {
      const std::size_t n = std::min<std::size_t>(kDense, std::max<std::size_t>(i + 1, head_.size() * 2));
      head_.resize(n);
      head_known_.resize(n, 0);
    }
    if (!head_known_[i]) {
      head_[i] = compute();
      head_known_[i] = 1;
    }
    return head_[i];
  }
  auto it = head_big_.find(logit_tokens);
  if (it == head_big_.end()) it = head_big_.emplace(logit_tokens, compute()).first;
  return it->second;
}

StepCost StepCostCache::evaluate(const StepShape& s) {
  // A decode-only shape without local-attention layers is a function of the key alone.
  if (s.prefill_tokens != 0 || s.prefill_sequences != 0 || s.decode_sequences == 0 || model_->local_layers_ > 0) {
    return price(s);
  }
  const DecodeKey key{s.decode_sequences, s.decode_tokens_per_sequence, s.decode_context_tokens, s.logit_tokens};
  // Slots by context sum, offset by the batch: a run of decode steps walks the table with a fixed stride.
  const auto h = static_cast<std::uint64_t>(key.context_tokens + 1031 * key.sequences * key.tokens_per_sequence);
  if (decode_.empty()) decode_.resize(kDecodeSlots);
  DecodeEntry& slot = decode_[h & (kDecodeSlots - 1)];
  if (!(slot.key == key)) {
    slot.key = key;
    slot.cost = price(s);
  }
  return slot.cost;
}

CostParts StepCostCache::parts(const StepShape& s) {
  const Phase phase = StepCostModel::phase_of(s);
  CostParts parts = body(s.total_tokens(), phase);
  parts += head(s.logit_tokens, phase);
  scratch_.clear();
  model_->append_attention(scratch_, s);
  evaluate_roofline(scratch_);
  parts += sum_parts(scratch_);
  return parts;
}

StepCost StepCostCache::price(const StepShape& s) {
  if (s.total_tokens() <= 0) return {};
  const int p = model_->deployment().pipeline_parallel;
  if (model_->splits_into_micro_batches(s)) {
    return finish_step(overlap_two_batches(parts(s.micro_batch()), model_->moe_layers_,
                                           model_->comm_sm_share(StepCostModel::phase_of(s))), p);
  }
  return finish_step(parts(s), p);
}

}  // namespace infersim::roofline
