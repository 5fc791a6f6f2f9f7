#pragma once
// Running a scenario: one simulation, or, when the scenario asks for it (`slo.find_max_rate`), the search for
// the highest arrival rate that meets its SLO and the simulation at that rate. Every command that runs
// scenarios (run, sweep, check, compare, study, accuracy) goes through run_scenario().

#include <optional>

#include "infersim/scenario/scenario_spec.hpp"
#include "infersim/serving/simulation.hpp"

namespace infersim::scenario {

/// Whether a simulation meets the SLO's p99 targets (true when the SLO sets none).
bool meets_p99(const SloSpec& slo, const serving::SimulationResult& result);

struct RateSearchResult {
  enum class Status {
    found,            // rate_per_s met the SLO and rate_per_s x (1 + tolerance) or less did not
    max_rate_meets,   // even max_rate_per_s met it: the capacity is above the searched range
    min_rate_misses,  // even min_rate_per_s missed it: the result is the run at min_rate_per_s
  };
  Status status = Status::found;
  double rate_per_s = 0;         // the rate of the reported run
  double missed_rate_per_s = 0;  // the lowest rate tried that missed the SLO (0: none did)
  int simulations = 0;           // runs the search took
};

std::string_view status_name(RateSearchResult::Status s);

/// How close a simulation is to the SLO's p99 targets: the larger of p99 TTFT / its target and p99 TPOT / its
/// target (0 when the SLO sets none); it meets them when this is at most 1.
double slo_margin(const SloSpec& slo, const serving::SimulationResult& result);

struct ScenarioRun {
  ScenarioSpec scenario;  // as run: with the searched rate (and request count) in place
  serving::SimulationResult result;
  std::optional<RateSearchResult> search;
};

/// Simulate the scenario (searching the rate first when slo.find_max_rate is set). The listener, if any,
/// sees only the reported run. Throws what serving::simulate() throws.
ScenarioRun run_scenario(const ScenarioSpec& scenario, serving::StepListener* listener = nullptr);

/// run_scenario(), with an InfeasibleError that does not yet name a file located in `file` (the scenario's,
/// as the user gave it), so that every front end reports it the same way.
ScenarioRun run_scenario_in(const std::string& file, const ScenarioSpec& scenario,
                            serving::StepListener* listener = nullptr);

/// The scenario with its arrival rate set to `rate_per_s` (and its request count to rate x duration when
/// the search sets a duration), in the simulation spec and the resolved JSON alike.
ScenarioSpec at_rate(const ScenarioSpec& scenario, double rate_per_s);

}  // namespace infersim::scenario
