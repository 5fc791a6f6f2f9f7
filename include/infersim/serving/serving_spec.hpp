#pragma once
// How replicas batch requests (contract: `scheduler`) and how requests are spread over replicas.

#include <array>
#include <cstdint>
#include <string>

namespace infersim::serving {

struct SchedulerSpec {
  std::string policy = "continuous";     // a name in the scheduler registry (static, continuous, chunked_prefill)
  std::int64_t max_batch_size = 256;     // sequences in one step
  std::int64_t max_batched_tokens = 8192;  // tokens in one step (prefill chunks + decodes)
  std::int64_t block_size = 16;          // tokens per KV-cache block
  double scheduling_overhead_s = 0.0;    // CPU time added to every iteration
  double batch_timeout_s = 0.0;          // static: the longest the oldest request waits for a full batch
};

enum class Router { round_robin, least_loaded };
inline constexpr std::array<std::string_view, 2> kRouterNames = {"round_robin", "least_loaded"};

}  // namespace infersim::serving
