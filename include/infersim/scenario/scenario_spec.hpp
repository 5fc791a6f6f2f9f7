#pragma once
// A what-if scenario (contract: scenario file): model, hardware, deployment, scheduler, workload, and the
// optional SLO and pricing. Parsed from JSON into plain specs; the resolved JSON (defaults filled in) is
// kept for reports.

#include <optional>
#include <string>
#include <vector>

#include "infersim/config/json_reader.hpp"
#include "infersim/cost/cost_model.hpp"
#include "infersim/cost/pricing.hpp"
#include "infersim/serving/simulation.hpp"

namespace infersim::scenario {

/// `slo.find_max_rate`: run the scenario at the highest arrival rate whose p99 TTFT and TPOT meet the SLO
/// (how MLPerf Server results are produced: the submitter raises the rate until a p99 bound is about to
/// fail). Geometric bisection between the bounds, to `relative_tolerance`.
struct RateSearchSpec {
  double min_rate_per_s = 0;
  double max_rate_per_s = 0;
  double relative_tolerance = 0.01;  // stop when max tried / min tried <= 1 + this
  std::optional<double> duration_s;  // each trial simulates rate x duration requests (else workload.requests)
  /// A warm start, set by callers that search the same scenario many times over (a calibration), never read
  /// from a file: the first trial runs at this rate and the bracket grows outward from it (steps of twice the
  /// tolerance, doubling in log) instead of starting from the whole [min, max] range. The result meets the same
  /// contract (met at rate_per_s, missed within the tolerance above), at a few trials instead of ~11 when the
  /// capacity moved little since the previous search.
  std::optional<double> start_rate_per_s;
  /// Runs per rate tried, each with its own arrival seed (workload.seed, + 1, ...; odd): a rate meets the SLO
  /// when the run with the median SLO margin (the larger of p99 TTFT / target and p99 TPOT / target) does, and
  /// that run is the one reported. Near capacity a run's p99 TTFT hangs on rare congestion episodes and so on
  /// its arrival sequence; with one run the search keeps the highest rate at which its own sequence happened to
  /// meet the SLO, and reads its latencies there (docs/configuration.md, "slo.find_max_rate").
  int runs_per_rate = 1;
};

struct SloSpec {
  std::optional<double> ttft_p99_s;  // a request meets the SLO when its TTFT <= this ...
  std::optional<double> tpot_p99_s;  // ... and its TPOT <= this; the scenario meets it when the p99s do
  std::optional<RateSearchSpec> find_max_rate;
  bool any() const { return ttft_p99_s || tpot_p99_s; }
};

struct PricingSpec {
  std::optional<double> usd_per_chip_hour;  // overrides the hardware profile's price
  std::optional<cost::TcoSpec> tco;         // or: price from the total cost of ownership
};

struct ScenarioSpec {
  std::string name, description;
  std::string file;  // where it was read from (or "<inline>")
  serving::SimulationSpec simulation;
  SloSpec slo;
  PricingSpec pricing;
  cost::EnergySpec energy;
  config::Json resolved;  // the scenario with defaults filled in (schema of the input)
};

}  // namespace infersim::scenario
