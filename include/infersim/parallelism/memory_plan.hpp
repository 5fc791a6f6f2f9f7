#pragma once
// Memory per chip: weights share + activation workspace + runtime reserve, the rest is KV cache
// (docs/modeling.md section 3). Also the checks that a deployment is valid for a model and a chip.

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infersim/hardware/hardware_spec.hpp"
#include "infersim/model/model_spec.hpp"
#include "infersim/parallelism/deployment_spec.hpp"
#include "infersim/parallelism/kv_footprint.hpp"

namespace infersim::parallelism {

struct MemoryPlan {
  double weight_bytes_total = 0;       // one replica, all chips
  double weight_bytes_per_chip = 0;    // the most loaded chip (pipeline stage with embedding or LM head)
  double workspace_bytes_per_chip = 0; // activations of the largest step
  double budget_bytes_per_chip = 0;    // what the runtime may use: min(capacity x utilization, capacity - reserved)
  double kv_bytes_per_token_per_chip = 0;        // layers with full attention
  double kv_local_bytes_per_token_per_chip = 0;  // local-attention layers, a token inside their window
  std::int64_t kv_window_tokens = 0;             // the most tokens a local layer keeps per sequence
  double kv_bytes_per_chip = 0;        // budget - weights - workspace (negative: does not fit)
  // KV cache in units of kv_footprint(): tokens of the full-attention layers' cache (a sequence's tokens
  // inside the local layers' window take more: KvFootprint); tokens for a model without local attention.
  std::int64_t kv_token_capacity = 0;           // one replica (all its attention ranks)
  std::int64_t kv_token_capacity_per_rank = 0;  // one attention rank (where one sequence's cache lives)
  int attention_ranks = 1;             // deployment.attention_data_parallel
  double layers_per_chip = 0;          // ceil(L / p); L / p for LPU and wafer-scale parts (operator placement)

  bool fits() const { return kv_bytes_per_chip > 0 && kv_token_capacity > 0; }
  /// What one sequence takes of kv_token_capacity as it grows.
  KvFootprint kv_footprint() const {
    return KvFootprint::of(kv_bytes_per_token_per_chip, kv_local_bytes_per_token_per_chip, kv_window_tokens);
  }
  /// Bytes of one unit of kv_token_capacity per chip.
  double kv_bytes_per_unit_per_chip() const {
    return kv_bytes_per_token_per_chip > 0 ? kv_bytes_per_token_per_chip : kv_local_bytes_per_token_per_chip;
  }
  /// Sets kv_token_capacity_per_rank and kv_token_capacity from kv_bytes_per_chip, the bytes of a unit and
  /// attention_ranks (after any of them changes: a speculative proposer's share, for one).
  void set_kv_capacity() {
    kv_token_capacity_per_rank =
        kv_bytes_per_chip > 0 ? static_cast<std::int64_t>(std::floor(kv_bytes_per_chip / kv_bytes_per_unit_per_chip())) : 0;
    kv_token_capacity = kv_token_capacity_per_rank * attention_ranks;
  }
};

/// What one sequence of the model takes of a memory plan's kv_token_capacity (every layer's KV per token
/// alike: the footprint in layer counts is the plan's in bytes, whatever the deployment).
KvFootprint kv_footprint(const model::ModelSpec& m);

/// "81.9 kB a token a chip", and with local-attention layers what a sequence's window adds (or, every layer
/// local, that only the window is kept): the KV per token as `run` and `roofline` print it.
std::string kv_per_token_text(double full_bytes_per_token, double local_bytes_per_token, std::int64_t window_tokens);

/// Sizes that determine the activation workspace.
struct WorkspaceLimits {
  std::int64_t max_batched_tokens = 8192;
  std::int64_t max_batch_size = 256;
};

MemoryPlan plan_memory(const model::ModelSpec& m, const hardware::HardwareSpec& hw, const DeploymentSpec& d,
                       const WorkspaceLimits& limits = {}, const Placement& placement = {});

/// Bytes per routed-expert weight: the model's published block format if it has one (with the engine's layout overhead
/// on the chip's architecture, DeploymentSpec::moe_gemm), else as other weights.
double expert_weight_bytes_per_element(const model::ModelSpec& m, const DeploymentSpec& d,
                                       std::string_view architecture = {});

/// The model restricted to `count` consecutive layers starting at `first` (for hybrid placement); the MoE
/// dense-layer count is adjusted to the slice.
model::ModelSpec slice_layers(const model::ModelSpec& m, int first, int count);

/// Divisibility and data-type checks: throws InfeasibleError naming the offending setting and a valid one.
void validate_deployment(const model::ModelSpec& m, const hardware::HardwareSpec& hw, const DeploymentSpec& d);

/// What a search for the smallest deployment may change and must achieve.
struct FitRequirement {
  std::int64_t min_kv_tokens = 1;  // KV-cache tokens one replica must hold
  bool vary_tensor_parallel = true;
  bool vary_pipeline_parallel = true;
};

/// The most chips one replica may span on `hw`: 4096, or its scale-up domain when it has no scale-out network.
int max_deployment_chips(const hardware::HardwareSpec& hw);

/// The tensor x pipeline layouts of `chips` chips that `need` allows and the model's heads and layers divide,
/// the most tensor parallelism (inside the scale-up domain) first.
std::vector<DeploymentSpec> deployments_of(const model::ModelSpec& m, const hardware::HardwareSpec& hw,
                                           const DeploymentSpec& d, const FitRequirement& need, int chips);

/// The smallest tensor x pipeline parallelism (fewest chips; tensor parallelism inside the scale-up domain
/// first) whose memory plan fits, if any up to 4096 chips.
std::optional<DeploymentSpec> smallest_fitting_deployment(const model::ModelSpec& m, const hardware::HardwareSpec& hw,
                                                          const DeploymentSpec& d, const WorkspaceLimits& limits = {},
                                                          const FitRequirement& need = {});

/// Throw InfeasibleError when the plan does not fit: states the bytes needed per chip, the memory available,
/// and the smallest parallelism that fits.
void require_fit(const model::ModelSpec& m, const hardware::HardwareSpec& hw, const DeploymentSpec& d,
                 const MemoryPlan& plan, const WorkspaceLimits& limits = {});

}  // namespace infersim::parallelism
