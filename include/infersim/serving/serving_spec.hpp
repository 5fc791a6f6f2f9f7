#pragma once
// How replicas batch requests (contract: `scheduler`) and how requests are spread over replicas.

#include <array>
#include <cstdint>
#include <string>

namespace infersim::serving {

/// Automatic prefix caching (contract: `scheduler.prefix_cache`; serving/prefix_cache.hpp). Off by default.
struct PrefixCacheSpec {
  bool enabled = false;
  double host_gb = 0;                    // second tier in host memory, per chip of a replica (0 = none)
  double host_link_bytes_per_s = 25e9;   // per chip, one direction (PCIe 4.0 x16, as the hybrid placement)
  std::int64_t affinity_max_imbalance = 32;  // router prefix_affinity: most outstanding requests over the least loaded
};

/// KV admission that keeps room for output still to come (contract: `scheduler.admission_reserve`;
/// serving/admission_reserve.hpp). A waiting request is admitted only when the free KV, less a share of every
/// running request's remaining output, holds its prompt plus `new_output_fraction` of its output. The share
/// starts at `running_output_fraction`, falls by equal steps to `running_output_fraction_min` over
/// `decay_decode_steps` decode steps, returns to the start when the replica is idle, and after a preemption is
/// re-estimated from the running requests' progress. Off by default (vLLM admits on the prompt alone).
struct AdmissionReserveSpec {
  double new_output_fraction = 0;          // of the admitted request's output (clipped), counted whole
  double running_output_fraction = 0;      // of each running request's remaining output (clipped), at the start
  double running_output_fraction_min = 0;  // where the decay stops
  std::int64_t decay_decode_steps = 0;     // decode steps from the start to the minimum (0: no decay)
  std::int64_t output_clip_tokens = 0;     // outputs counted up to this many tokens (0: whole)
  std::int64_t preemption_lookahead_steps = 0;  // after a preemption: share = (generated + this x running) / outputs
  bool enabled() const { return new_output_fraction > 0 || running_output_fraction > 0; }
};

/// The most decode steps one scheduler pass may run (vLLM accepts up to 1024 for num_scheduler_steps).
inline constexpr std::int64_t kMaxSchedulerSteps = 1024;

struct SchedulerSpec {
  std::string policy = "continuous";     // a name in the scheduler registry (static, continuous, chunked_prefill, chunked_prefill_unmixed, inflight)
  std::int64_t max_batch_size = 256;     // sequences in one step
  std::int64_t max_batched_tokens = 8192;  // tokens in one step (prefill chunks + decodes)
  std::int64_t block_size = 16;          // tokens per KV-cache block
  double scheduling_overhead_s = 0.0;    // CPU time added to every iteration
  double batch_timeout_s = 0.0;          // static: the longest the oldest request waits for a full batch
  // Multi-step scheduling (vLLM's num_scheduler_steps): a step with decodes opens a window of this many
  // decode steps run back to back on one scheduler pass (host time once, nothing admitted, finished
  // sequences kept as padding until the window ends). 1: every step is scheduled (docs/serving.md).
  std::int64_t scheduler_steps = 1;
  PrefixCacheSpec prefix_cache;
  AdmissionReserveSpec admission_reserve;
};

/// A front end that gathers arrivals before routing them (an MLPerf harness's batcher, Triton's dynamic
/// batcher): the first request it holds opens a batch; the batch leaves when it holds max_requests or when
/// its first request has waited timeout_s, and goes whole to the one replica the router picks.
struct DispatchSpec {
  std::int64_t max_requests = 1;  // 1: every request is routed when it arrives
  double timeout_s = 0.0;
  bool batching() const { return max_requests > 1; }
};

/// prefix_affinity: the replica whose prefix cache holds most of the prompt, unless it has more than
/// prefix_cache.affinity_max_imbalance requests outstanding over the least loaded replica (then least loaded).
enum class Router { round_robin, least_loaded, prefix_affinity };
inline constexpr std::array<std::string_view, 3> kRouterNames = {"round_robin", "least_loaded", "prefix_affinity"};

}  // namespace infersim::serving
