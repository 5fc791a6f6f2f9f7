#pragma once
// What requests arrive, when, and how long they are (contract: `workload`).

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "infersim/workload/token_distribution.hpp"

namespace infersim::workload {

enum class ArrivalProcess { offline, poisson, constant, gamma, closed_loop, trace };
inline constexpr std::string_view kArrivalProcessNames[] = {"offline", "poisson", "constant", "gamma", "closed_loop", "trace"};
/// Processes whose arrivals follow `rate_per_s` (open loop, no trace).
constexpr bool rate_driven(ArrivalProcess p) {
  return p == ArrivalProcess::poisson || p == ArrivalProcess::constant || p == ArrivalProcess::gamma;
}

struct TraceSpec {
  std::string path;         // resolved path of a CSV or JSONL file; "-" = standard input (text in stdin_text)
  std::string format;       // "csv", "jsonl", "mooncake" (from the extension unless given)
  bool skip_bad_rows = false;  // on_bad_row "skip": a malformed row is left out and reported, not an error
  bool sort = false;           // sort the rows by time (stable) instead of refusing rows out of order
  std::shared_ptr<const std::string> stdin_text;  // path "-": the text read once from standard input
  double rate_scale = 1.0;  // > 1 replays faster: arrival times are divided by it
  double start_s = 0.0;     // window, seconds after the trace's first request
  double end_s = std::numeric_limits<double>::infinity();
};

struct WorkloadSpec {
  std::int64_t requests = 0;  // requests to simulate (trace: at most this many; 0 = all in the window)
  std::uint64_t seed = 1;
  ArrivalProcess process = ArrivalProcess::poisson;
  double rate_per_s = 1.0;    // poisson, constant, gamma
  double cv = 1.0;            // gamma: coefficient of variation of inter-arrival times
  std::int64_t concurrency = 1;  // closed_loop: clients, each waits for its response before the next request
  double think_time_s = 0.0;     // closed_loop: pause between a response and the client's next request
  TraceSpec trace;
  TokenDistribution input;
  TokenDistribution output;
};

}  // namespace infersim::workload
