#pragma once
// The result of `infersim run` as the contract's JSON (schema_version 1), and as text and CSV.

#include <iosfwd>
#include <string>
#include <vector>

#include "infersim/config/json_reader.hpp"
#include "infersim/scenario/scenario_run.hpp"
#include "infersim/scenario/scenario_spec.hpp"
#include "infersim/serving/simulation.hpp"

namespace infersim::scenario {

/// The run report: {schema_version, infersim_version, scenario, deployment, metrics}.
config::Json make_report(const ScenarioSpec& scenario, const serving::SimulationResult& result);
/// The same for a run_scenario() result; a rate search adds metrics.slo.max_rate_per_s,
/// metrics.slo.max_output_tokens_per_s (that rate x the mean output tokens per request) and
/// metrics.slo.rate_search {status, missed_rate_per_s, simulations}.
config::Json make_report(const ScenarioRun& run);

/// Flatten a JSON object into (dotted key, value) pairs, in document order; arrays are skipped.
std::vector<std::pair<std::string, config::Json>> flatten(const config::Json& j, const std::string& prefix = "");

/// A value as a CSV cell (numbers with 9 significant digits, strings as they are, null empty, objects and
/// arrays as compact JSON), quoted when it holds a comma, a quote or a line break.
std::string csv_cell(const config::Json& v);

/// Every key a report's `metrics` object may hold, flattened with dots ("ttft_s.p99"), in flatten() order,
/// including those only some scenarios have (`slo.*` with an SLO, `cost.note` when the hardware has no
/// price, `energy.note`). Sweeps use it as their columns, so that every row of a sweep has the same ones.
const std::vector<std::string>& metric_keys();

/// Human-readable summary of a report.
void print_report_table(std::ostream& os, const config::Json& report);

/// Check that a parsed scenario can run without simulating it: parse_scenario() has checked each pool's
/// deployment (parallelism, data types, memory fit); this builds the simulation (pricers, speculative
/// proposer) and reads the trace. Throws ConfigError / InfeasibleError.
void check_feasible(const ScenarioSpec& scenario);

}  // namespace infersim::scenario
