#pragma once
// Memory per chip: weights share + activation workspace + runtime reserve, the rest is KV cache
// (docs/modeling.md section 3). Also the checks that a deployment is valid for a model and a chip.

#include <cstdint>
#include <optional>
#include <string>

#include "infersim/hardware/hardware_spec.hpp"
#include "infersim/model/model_spec.hpp"
#include "infersim/parallelism/deployment_spec.hpp"

namespace infersim::parallelism {

struct MemoryPlan {
  double weight_bytes_total = 0;       // one replica, all chips
  double weight_bytes_per_chip = 0;    // the most loaded chip (pipeline stage with embedding or LM head)
  double workspace_bytes_per_chip = 0; // activations of the largest step
  double budget_bytes_per_chip = 0;    // what the runtime may use: min(capacity x utilization, capacity - reserved)
  double kv_bytes_per_token_per_chip = 0;
  double kv_bytes_per_chip = 0;        // budget - weights - workspace (negative: does not fit)
  std::int64_t kv_token_capacity = 0;  // tokens of KV cache one replica holds
  int layers_per_chip = 0;             // ceil(L / p)

  bool fits() const { return kv_bytes_per_chip > 0 && kv_token_capacity > 0; }
};

/// Sizes that determine the activation workspace.
struct WorkspaceLimits {
  std::int64_t max_batched_tokens = 8192;
  std::int64_t max_batch_size = 256;
};

MemoryPlan plan_memory(const model::ModelSpec& m, const hardware::HardwareSpec& hw, const DeploymentSpec& d,
                       const WorkspaceLimits& limits = {});

/// Divisibility and data-type checks: throws InfeasibleError naming the offending setting and a valid one.
void validate_deployment(const model::ModelSpec& m, const hardware::HardwareSpec& hw, const DeploymentSpec& d);

/// The smallest tensor x pipeline parallelism (fewest chips) whose memory plan fits, if any up to 4096 chips.
std::optional<DeploymentSpec> smallest_fitting_deployment(const model::ModelSpec& m, const hardware::HardwareSpec& hw,
                                                          const DeploymentSpec& d, const WorkspaceLimits& limits = {});

/// Throw InfeasibleError when the plan does not fit: states the bytes needed per chip, the memory available,
/// and the smallest parallelism that fits.
void require_fit(const model::ModelSpec& m, const hardware::HardwareSpec& hw, const DeploymentSpec& d,
                 const MemoryPlan& plan, const WorkspaceLimits& limits = {});

}  // namespace infersim::parallelism
