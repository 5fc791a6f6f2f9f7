#pragma once
// Hybrid CPU/GPU placement (llama.cpp's --n-gpu-layers): the first gpu_layers layers run on the pool's
// accelerator, the rest on the host CPU, which also holds the embedding and the LM head. Every step runs
// the accelerator's layers, then the host's, and moves the hidden states across the host link twice
// (into the accelerator's first layer and back out of its last).

#include <memory>

#include "infersim/hardware/hardware_spec.hpp"
#include "infersim/model/model_spec.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/serving/step_pricer.hpp"

namespace infersim::serving {

struct HybridSpec {
  int gpu_layers = -1;  // layers on the accelerator; -1 = every layer (no hybrid placement)
  hardware::HardwareSpec host;
  double link_bytes_per_s = 25e9;  // host <-> accelerator (PCIe 4.0 x16 moves ~25 GB/s one way)
  double link_latency_s = 10e-6;

  bool enabled() const { return gpu_layers >= 0; }
};

/// Memory of both devices; the KV cache holds what fits on both. With local-attention layers the two slices
/// may hold different shares of them; the capacity is then counted in the whole model's footprint
/// (parallelism::kv_footprint), each side's own capacity scaled by the least ratio of the whole model's
/// footprint to its own over every sequence length, so that what the replica admits fits on both.
struct HybridMemory {
  parallelism::MemoryPlan accelerator, host;
  std::int64_t kv_token_capacity = 0;  // units of kv_footprint
  parallelism::KvFootprint kv_footprint;
};

HybridMemory plan_hybrid_memory(const model::ModelSpec& m, const hardware::HardwareSpec& accelerator,
                                const parallelism::DeploymentSpec& d, const HybridSpec& h,
                                const parallelism::WorkspaceLimits& limits);

class HybridPricer final : public StepPricer {
 public:
  HybridPricer(const model::ModelSpec& m, const hardware::HardwareSpec& accelerator,
               const parallelism::DeploymentSpec& d, const HybridSpec& h);
  roofline::StepCost price(const roofline::StepShape& shape) override;
  StepLaunches launches(const roofline::StepShape&) const override { return {1, layers_, false}; }
  model::AttentionWindow attention_window() const override { return window_; }

 private:
  double layers_ = 0;
  model::AttentionWindow window_;
  std::unique_ptr<roofline::StepCostModel> accel_model_, host_model_;
  std::unique_ptr<roofline::StepCostCache> accel_, host_;
  double activation_bytes_per_token_ = 0;
  HybridSpec spec_;
};

}  // namespace infersim::serving
