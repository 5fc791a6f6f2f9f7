#pragma once
// Generates the requests of a workload, deterministically from its seed: arrival times (open-loop
// processes and traces) and token counts, each from its own random stream, so that changing one
// distribution does not shift the samples of another.

#include <cstdint>
#include <string>
#include <vector>

#include "infersim/core/random.hpp"
#include "infersim/engine/sim_time.hpp"
#include "infersim/workload/request.hpp"
#include "infersim/workload/trace.hpp"
#include "infersim/workload/workload_spec.hpp"

namespace infersim::workload {

class RequestSource {
 public:
  explicit RequestSource(const WorkloadSpec& spec);

  /// Total requests the workload will issue.
  std::int64_t total() const { return total_; }
  /// Open-loop processes and traces: the next request in arrival order; false when all were issued.
  /// Closed loop: the first `concurrency` requests at t=0 (the rest come from issue_at()).
  bool next(Request& out);
  /// Closed loop: a new request arriving at `arrival` (false when all were issued).
  bool issue_at(engine::SimTime arrival, Request& out);
  bool closed_loop() const { return spec_.process == ArrivalProcess::closed_loop; }
  const std::vector<TraceRow>& trace() const { return trace_.rows; }
  /// Tokens each of a request's block hashes covers; 0 when the workload has no hashes.
  std::int64_t hash_block_tokens() const { return trace_.hash_block_tokens; }
  /// What loading the workload changed (trace rows skipped or sorted), for the report's warnings.
  const std::vector<std::string>& notes() const { return trace_.notes; }

 private:
  Request make(engine::SimTime arrival, std::int64_t input, std::int64_t output);

  WorkloadSpec spec_;
  TraceLoad trace_;
  std::int64_t total_ = 0;
  std::int64_t issued_ = 0;
  double clock_s_ = 0;  // time of the last open-loop arrival
  Rng arrivals_, inputs_, outputs_;
};

}  // namespace infersim::workload
