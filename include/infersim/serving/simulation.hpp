#pragma once
// The serving simulation: requests from a workload, routed to the replicas of one or more pools, batched
// by each replica's scheduler, each step priced by the roofline; the result is every request's timeline
// and the statistics of docs/metrics.md. Deterministic: one thread, seeded random streams, integer time.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "infersim/hardware/hardware_spec.hpp"
#include "infersim/model/model_spec.hpp"
#include "infersim/parallelism/deployment_spec.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/roofline/step_shape.hpp"
#include "infersim/serving/metrics.hpp"
#include "infersim/serving/hybrid.hpp"
#include "infersim/serving/replica.hpp"
#include "infersim/serving/request_table.hpp"
#include "infersim/serving/serving_engine.hpp"
#include "infersim/serving/serving_spec.hpp"
#include "infersim/serving/speculative.hpp"
#include "infersim/workload/workload_spec.hpp"

namespace infersim::serving {

struct PoolSpec {
  std::string name = "default";
  ReplicaRole role = ReplicaRole::unified;
  model::ModelSpec model;
  hardware::HardwareSpec hardware;
  parallelism::DeploymentSpec deployment;
  SchedulerSpec scheduler;
  Router router = Router::round_robin;
  SpeculativeSpec speculative;
  HybridSpec hybrid;    // llama.cpp-style CPU/GPU split (gpu_layers)
  std::optional<ServingEngineSpec> engine;  // the serving software's host time per step (none: device time only)
  std::optional<double> usd_per_chip_hour;  // resolved price (profile, scenario or TCO); nullopt = unknown
  std::string price_basis;
  std::string sizing;  // how the parallelism was chosen, when it was sized automatically
};

/// How a prompt's KV cache moves from a prefill replica to a decode replica (disaggregated serving).
struct KvTransferSpec {
  double bandwidth_bytes_per_s = 0;  // per chip and direction; shards move in parallel over min(chips) links
  double latency_s = 0;
};

struct SimulationSpec {
  std::vector<PoolSpec> pools;  // one unified pool, or a prefill pool and a decode pool (disaggregated)
  workload::WorkloadSpec workload;
  KvTransferSpec kv_transfer;   // disaggregated only
  DispatchSpec dispatch;        // front-end batching before the entry pool's router
  /// One event per batch step, as the reference for the runs of decode steps that otherwise advance in one
  /// event (docs/serving.md); also forced by the environment variable INFERSIM_STEP_BY_STEP=1.
  bool step_by_step = false;
};

/// Receives every step as it is simulated (the timeline export); optional.
class StepListener {
 public:
  virtual ~StepListener() = default;
  virtual void step(int pool, int replica, std::size_t lane, engine::SimTime start, engine::SimTime duration,
                    const roofline::StepShape& shape) = 0;
};

struct PoolResult {
  std::string name;
  std::string hardware;
  ReplicaRole role = ReplicaRole::unified;
  int replicas = 0;
  int chips_per_replica = 0;
  parallelism::MemoryPlan memory;
  std::int64_t kv_blocks_per_replica = 0;
  std::vector<ReplicaStats> replica_stats;
  double peak_flops_per_s = 0;      // per chip, at the activation type
  double memory_bytes_per_s = 0;    // per chip
  double draft_weight_bytes_per_chip = 0;  // speculative proposer
  std::optional<parallelism::MemoryPlan> host_memory;  // hybrid placement: the host's share
};

struct SimulationResult {
  std::int64_t requests = 0;
  std::int64_t completed = 0;
  double duration_s = 0;  // first arrival (t = 0) to the last completion
  Distribution ttft, tpot, itl, e2e, queue;
  double input_tokens = 0, output_tokens = 0;
  double cached_input_tokens = 0;      // input tokens served from a prefix cache (not prefilled)
  bool prefix_cache = false;           // some pool has one
  std::int64_t hash_block_tokens = 0;  // tokens per prompt block hash of the workload (0: it has none)
  std::int64_t sessions = 0;           // workload.sessions: the sessions simulated (0: none)
  double mean_in_system = 0;  // time-average of requests arrived and not completed (for Little's law)
  std::int64_t preemptions = 0;
  std::uint64_t events = 0;
  double kv_transfer_s_mean = 0;  // disaggregated: mean time a prompt's KV spent moving between pools
  std::vector<PoolResult> pools;
  RequestTable request_table;  // every request's timeline
  std::vector<std::uint32_t> request_sessions;  // workload.sessions: each request's session, by request id (else empty)
  std::vector<std::string> notes;  // what loading the workload changed (trace rows skipped or sorted)
};

/// What one replica of a pool holds: the accelerator's memory plan (less the speculative proposer's share,
/// or the hybrid placement's accelerator part), the host's part, and the KV cache in whole blocks. Throws
/// InfeasibleError when the replica cannot hold its model (simulate() and the scenario loader both use it).
struct PoolMemory {
  parallelism::MemoryPlan memory;
  std::optional<parallelism::MemoryPlan> host_memory;
  double draft_weight_bytes_per_chip = 0;
  std::int64_t kv_blocks = 0;
  parallelism::KvFootprint kv_footprint;  // what a sequence's blocks hold (MemoryPlan::kv_footprint(); the whole
                                          // model's with a hybrid placement)
  std::int64_t kv_capacity_tokens = 0;  // kv_blocks x block_size (units of kv_footprint)
  std::int64_t kv_sequence_limit_tokens = 0;  // the longest sequence one attention rank's blocks hold
};
PoolMemory plan_pool_memory(const PoolSpec& pool);

/// The time every request spends in the engine's HTTP front end before reaching the entry pool's router: the
/// entry pool's engine's front_end_request_latency_s when the workload's clients use HTTP (workload.api), else 0
/// (in-process clients, no engine, or an engine with no measured front end).
double front_end_latency_s(const SimulationSpec& spec);

/// Run a simulation; throws ConfigError / InfeasibleError for inputs that cannot run.
SimulationResult simulate(const SimulationSpec& spec, StepListener* listener = nullptr);

/// Build everything a simulation needs (pools, memory plans, pricers, the workload's trace) without running
/// it: throws what simulate() would throw before its first event.
void check_runnable(const SimulationSpec& spec);

}  // namespace infersim::serving
