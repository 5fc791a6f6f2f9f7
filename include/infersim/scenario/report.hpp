#pragma once
// The result of `infersim run` as the contract's JSON (schema_version 1), and as text and CSV.

#include <iosfwd>
#include <string>
#include <vector>

#include "infersim/config/json_reader.hpp"
#include "infersim/scenario/scenario_spec.hpp"
#include "infersim/serving/simulation.hpp"

namespace infersim::scenario {

/// The run report: {schema_version, infersim_version, scenario, deployment, metrics}.
config::Json make_report(const ScenarioSpec& scenario, const serving::SimulationResult& result);

/// Flatten a JSON object into (dotted key, value) pairs, in document order; arrays are skipped.
std::vector<std::pair<std::string, config::Json>> flatten(const config::Json& j, const std::string& prefix = "");

/// A value as a CSV cell (numbers with 9 significant digits, strings as they are, null empty).
std::string csv_cell(const config::Json& v);

/// Human-readable summary of a report.
void print_report_table(std::ostream& os, const config::Json& report);

/// Check that a parsed scenario can run (parallelism, data types, memory fit, trace readable) without
/// simulating it. Throws InfeasibleError / ConfigError.
void check_feasible(const ScenarioSpec& scenario);

/// Write `content` to `path` atomically: to a temporary file beside it, then rename.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace infersim::scenario
