#pragma once
// Small serving set-ups for tests.

#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/serving/simulation.hpp"

namespace infersim::testing {

/// One pool of `model` on one `hardware` chip, native data types, the given policy; workload to be filled in.
inline serving::SimulationSpec one_pool(const std::string& model, const std::string& hardware, const std::string& policy,
                                        std::int64_t max_batch = 256, std::int64_t max_tokens = 8192) {
  serving::PoolSpec p;
  p.model = model::load_model(model);
  p.hardware = hardware::load_hardware(hardware);
  p.deployment.weight_dtype = p.deployment.activation_dtype = p.deployment.kv_cache_dtype = p.model.native_dtype;
  p.scheduler.policy = policy;
  p.scheduler.max_batch_size = max_batch;
  p.scheduler.max_batched_tokens = max_tokens;
  serving::SimulationSpec s;
  s.pools.push_back(p);
  s.workload.seed = 1;
  return s;
}

/// Shrink the memory the deployment may use so that the KV cache of pool 0 holds about `tokens` tokens.
inline void limit_kv_tokens(serving::SimulationSpec& s, double tokens) {
  auto& pool = s.pools[0];
  pool.deployment.memory_utilization = 1.0;
  const parallelism::WorkspaceLimits limits{pool.scheduler.max_batched_tokens, pool.scheduler.max_batch_size};
  const auto full = parallelism::plan_memory(pool.model, pool.hardware, pool.deployment, limits);
  pool.hardware.memory.reserved_bytes = 0;
  pool.deployment.memory_utilization =
      (full.weight_bytes_per_chip + full.workspace_bytes_per_chip + tokens * full.kv_bytes_per_unit_per_chip()) /
      pool.hardware.memory.capacity_bytes;
}

inline void fixed_tokens(serving::SimulationSpec& s, std::int64_t input, std::int64_t output) {
  s.workload.input = workload::TokenDistribution::fixed_value(input);
  s.workload.output = workload::TokenDistribution::fixed_value(output);
}

}  // namespace infersim::testing
