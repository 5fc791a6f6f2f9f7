#include "infersim/serving/hybrid.hpp"

#include <cmath>

#include "infersim/core/error.hpp"

namespace infersim::serving {

namespace {

void check(const model::ModelSpec& m, const parallelism::DeploymentSpec& d, const HybridSpec& h) {
  if (h.gpu_layers < 1 || h.gpu_layers >= m.num_layers) {
    throw InfeasibleError("gpu_layers " + std::to_string(h.gpu_layers) + " must be between 1 and " +
                          std::to_string(m.num_layers - 1) + " for a hybrid placement of " + m.name +
                          " (all layers on the accelerator: omit gpu_layers; none: use the host as the hardware)");
  }
  if (d.chips_per_replica() != 1) {
    throw InfeasibleError("hybrid CPU/GPU placement (gpu_layers) runs on one accelerator and its host: set "
                          "tensor_parallel and pipeline_parallel to 1");
  }
}

}  // namespace

HybridMemory plan_hybrid_memory(const model::ModelSpec& m, const hardware::HardwareSpec& accelerator,
                                const parallelism::DeploymentSpec& d, const HybridSpec& h,
                                const parallelism::WorkspaceLimits& limits) {
  check(m, d, h);
  HybridMemory out;
  const auto gpu_part = parallelism::slice_layers(m, 0, h.gpu_layers);
  const auto host_part = parallelism::slice_layers(m, h.gpu_layers, m.num_layers - h.gpu_layers);
  out.accelerator = parallelism::plan_memory(gpu_part, accelerator, d, limits, {false, false});
  out.host = parallelism::plan_memory(host_part, h.host, d, limits, {true, true});
  try {
    parallelism::require_fit(gpu_part, accelerator, d, out.accelerator, limits);
  } catch (const InfeasibleError& e) {
    throw InfeasibleError("with gpu_layers " + std::to_string(h.gpu_layers) + ", the accelerator's share: " + e.what() +
                          " Lower gpu_layers.");
  }
  try {
    parallelism::require_fit(host_part, h.host, d, out.host, limits);
  } catch (const InfeasibleError& e) {
    throw InfeasibleError("with gpu_layers " + std::to_string(h.gpu_layers) + ", the host's share: " + e.what());
  }
  // The binding side, in the whole model's units: a side holding C of its own units holds any set of
  // sequences whose whole-model units are at most rho C, rho the least of whole(n) / side(n) over n.
  out.kv_footprint = parallelism::kv_footprint(m);
  auto in_whole_units = [&](const parallelism::MemoryPlan& side) {
    const auto capacity = static_cast<double>(side.kv_token_capacity);
    const parallelism::KvFootprint f = side.kv_footprint(), w = out.kv_footprint;
    if (f.plain() && w.plain()) return capacity;
    // whole(n) / side(n) is monotone between n = window (both at their inside-window rate) and n -> infinity
    // (the full-attention rates), so its least is at one of the two.
    const double n = static_cast<double>(std::max(f.window_tokens, w.window_tokens));
    const double at_window = w.size(n) / f.size(n);
    const double far = f.full_weight > 0 ? w.full_weight / f.full_weight : at_window;
    return capacity * std::min(at_window, far);
  };
  out.kv_token_capacity = static_cast<std::int64_t>(
      std::floor(std::min(in_whole_units(out.accelerator), in_whole_units(out.host)) + 1e-9));
  return out;
}

HybridPricer::HybridPricer(const model::ModelSpec& m, const hardware::HardwareSpec& accelerator,
                           const parallelism::DeploymentSpec& d, const HybridSpec& h)
    : layers_(m.num_layers), window_(m.attention_window()), spec_(h) {
  check(m, d, h);
  accel_model_ = std::make_unique<roofline::StepCostModel>(parallelism::slice_layers(m, 0, h.gpu_layers), accelerator, d,
                                                          parallelism::Placement{false, false});
  host_model_ = std::make_unique<roofline::StepCostModel>(
      parallelism::slice_layers(m, h.gpu_layers, m.num_layers - h.gpu_layers), h.host, d, parallelism::Placement{true, true});
  accel_ = std::make_unique<roofline::StepCostCache>(*accel_model_);
  host_ = std::make_unique<roofline::StepCostCache>(*host_model_);
  activation_bytes_per_token_ = m.hidden_size * bytes_per_element(d.activation_dtype);
}

roofline::StepCost HybridPricer::price(const roofline::StepShape& shape) {
  roofline::StepCost c = roofline::sequential(accel_->evaluate(shape), host_->evaluate(shape));
  const double hop = static_cast<double>(shape.total_tokens()) * activation_bytes_per_token_ / spec_.link_bytes_per_s +
                     spec_.link_latency_s;
  c.time_s += 2 * hop;
  c.stage_time_s += 2 * hop;
  c.network_bound_s += 2 * hop;
  return c;
}

}  // namespace infersim::serving
