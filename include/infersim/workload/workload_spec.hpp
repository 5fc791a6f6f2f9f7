#pragma once
// What requests arrive, when, and how long they are (contract: `workload`).

#include <cstdint>
#include <limits>
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
  std::string path;         // resolved path of a CSV or JSONL file
  std::string format;       // "csv", "jsonl" (from the extension unless given)
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
