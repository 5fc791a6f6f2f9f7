#pragma once
// Regression baselines of cost estimates (contract: baseline file, `infersim check`).
//
//   {"tolerance": {"default_rel": 0.02, "metrics.ttft_s.p99": 0.05},
//    "cases": [{"name": "optional", "scenario": "path.json", "set": {"dotted.key": value},
//               "expect": {"metrics.cost.usd_per_million_output_tokens": 0.42, ...}}]}
//
// `scenario` paths are relative to the baseline file. An expected metric is any dotted path into the run
// report (`infersim run --format json`) whose value is a number (or null). A metric is within tolerance t
// when |now - baseline| <= t * |baseline|; when the baseline is 0, when |now| <= t (absolute). t is the
// metric's own entry in `tolerance`, else `default_rel` (0.02 when absent). A relative difference below
// kWrittenPrecision (1e-8) always passes: --update writes 9 significant digits.
//
// update_baseline_text() replaces the expected values inside the file's text and touches nothing else, so
// the file keeps its layout and a review diff shows only the numbers that moved.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "infersim/config/catalog.hpp"
#include "infersim/scenario/scenario_loader.hpp"

namespace infersim::sweep {

struct BaselineCase {
  std::string label;     // "name", else the scenario file's stem and the "set" entries
  std::string scenario;  // path, resolved against the baseline's directory
  std::vector<scenario::Override> set;
  std::vector<std::pair<std::string, config::Json>> expect;  // file order; numbers or null
};

struct Baseline {
  std::string file;
  std::string text;  // as read, for update_baseline_text()
  double default_rel = 0.02;
  std::map<std::string, double> tolerance;  // per metric
  std::vector<BaselineCase> cases;
  double tolerance_for(const std::string& metric) const;
};

/// Metrics `check --update` writes into a case whose "expect" is {}.
const std::vector<std::string>& default_expect_metrics();

/// Parse a baseline's text. Throws ConfigError with every problem found.
Baseline parse_baseline(const std::string& text, const std::string& file, const std::filesystem::path& base_dir);
Baseline load_baseline(const std::string& path);

/// One expected metric of one case, re-run.
struct CheckRow {
  std::size_t case_index = 0;
  std::string metric;
  config::Json baseline;  // the expected value (null where the file has none yet: a case with "expect": {})
  config::Json now;       // the value now (null when the report's value is null)
  double tolerance = 0;
  bool ok = false;
  std::optional<double> change;  // (now - baseline) / |baseline| when both are numbers and baseline != 0
};

/// --update writes values with 9 significant digits (so that noise in the last bits of a double does not
/// show in a diff), and a relative difference this small always passes, whatever the tolerance.
inline constexpr double kWrittenPrecision = 1e-8;

/// True when `now` is within `tolerance` of `baseline` (both null counts as equal).
bool within_tolerance(const config::Json& baseline, const config::Json& now, double tolerance);

/// A value as --update writes it: numbers with 9 significant digits, integers as they are, null.
std::string expect_text(const config::Json& v);

/// Re-run every case on `jobs` threads (0 = every core) and compare. A case with an empty "expect" is bad
/// input unless `updating` (then it is given default_expect_metrics()). A metric the report lacks, or one
/// that is not a number, is bad input (ConfigError naming case and path).
std::vector<CheckRow> run_check(const Baseline& baseline, unsigned jobs, bool updating);

/// The baseline's text with every expected value whose expect_text() changed replaced by its row's `now`,
/// and each empty "expect" filled with its rows, one a line, indented a step deeper than "expect".
std::string update_baseline_text(const Baseline& baseline, const std::vector<CheckRow>& rows);

}  // namespace infersim::sweep
