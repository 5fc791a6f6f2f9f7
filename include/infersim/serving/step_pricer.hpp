#pragma once
// What a replica asks to price a step. The plain pricer is the memoized roofline of one model; others
// (speculative decoding, hybrid CPU/GPU placement) combine several. One pricer serves every replica of a
// pool (the simulation is single-threaded).

#include <cstdint>
#include <memory>

#include "infersim/roofline/step_cost_cache.hpp"
#include "infersim/serving/serving_engine.hpp"

namespace infersim::serving {

class StepPricer {
 public:
  virtual ~StepPricer() = default;
  /// Price a step whose decode sequences each carry decode_tokens_per_sequence() tokens.
  virtual roofline::StepCost price(const roofline::StepShape& shape) = 0;
  /// Tokens each decoding sequence runs through the model per step: 1, or the tokens verified by speculation.
  virtual std::int64_t decode_tokens_per_sequence() const { return 1; }
  /// Model invocations and decoder layers the step launches (the serving engine's host time depends on them).
  virtual StepLaunches launches(const roofline::StepShape& shape) const = 0;
  /// The window of the model's local-attention layers, which step shapes must be built with.
  virtual model::AttentionWindow attention_window() const = 0;
};

/// The roofline of one model on one deployment, memoized.
class PlainPricer final : public StepPricer {
 public:
  explicit PlainPricer(const roofline::StepCostModel& model) : cache_(model), layers_(model.model().num_layers) {}
  roofline::StepCost price(const roofline::StepShape& shape) override { return cache_.evaluate(shape); }
  StepLaunches launches(const roofline::StepShape&) const override { return {1, layers_, false}; }
  model::AttentionWindow attention_window() const override { return cache_.model().model().attention_window(); }

 private:
  roofline::StepCostCache cache_;
  double layers_;
};

}  // namespace infersim::serving
