#pragma once
// Generates the requests of a workload, deterministically from its seed: arrival times (open-loop
// processes and traces) and token counts, each from its own random stream, so that changing one
// distribution does not shift the samples of another. Requests that follow a completion (a closed-loop
// client's next request, a session's next turn) come from follow_up(), which the simulation calls when a
// request completes: the workload decides what follows, the simulation only keeps time.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "infersim/core/random.hpp"
#include "infersim/engine/sim_time.hpp"
#include "infersim/workload/request.hpp"
#include "infersim/workload/sessions.hpp"
#include "infersim/workload/trace.hpp"
#include "infersim/workload/workload_spec.hpp"

namespace infersim::workload {

class RequestSource {
 public:
  explicit RequestSource(const WorkloadSpec& spec);

  /// Total requests the workload will issue.
  std::int64_t total() const { return total_; }
  /// Open-loop processes and traces: the next request in arrival order; false when all were issued.
  /// Closed loop: the first `concurrency` requests at t=0 (the rest come from follow_up()).
  /// Sessions: the first turn of the next session to start (later turns come from follow_up()).
  bool next(Request& out);
  /// What request `completed` (of session `session`, kNoSession when none) causes when it completes at `now`:
  /// closed loop, the client's next request think_time_s later; sessions, the session's next turn its think
  /// time later (or, in a closed loop, the client's next session). False when nothing follows.
  bool follow_up(std::uint32_t session, engine::SimTime now, Request& out);
  bool closed_loop() const { return spec_.process == ArrivalProcess::closed_loop; }
  /// The workload's sessions (null without workload.sessions).
  const Sessions* sessions() const { return sessions_.get(); }
  const std::vector<TraceRow>& trace() const { return trace_.rows; }
  /// Tokens each of a request's block hashes covers; 0 when the workload has no hashes.
  std::int64_t hash_block_tokens() const {
    return sessions_ ? spec_.sessions.block_tokens : trace_.hash_block_tokens;
  }
  /// What loading the workload changed (trace rows skipped or sorted), for the report's warnings.
  const std::vector<std::string>& notes() const { return trace_.notes; }

 private:
  Request make(engine::SimTime arrival, std::int64_t input, std::int64_t output);
  /// The arrival time in seconds of arrival `index` (0, 1, ...) of the open-loop process.
  double open_loop_arrival_s(std::int64_t index);
  /// Session `session`'s next turn arriving its think time after `now` (at `now` for a first turn).
  bool session_turn(std::uint32_t session, engine::SimTime now, Request& out);

  WorkloadSpec spec_;
  TraceLoad trace_;
  std::unique_ptr<Sessions> sessions_;
  std::uint32_t started_ = 0;  // sessions started
  std::int64_t total_ = 0;
  std::int64_t issued_ = 0;
  double clock_s_ = 0;  // time of the last open-loop arrival
  Rng arrivals_, inputs_, outputs_;
};

}  // namespace infersim::workload
