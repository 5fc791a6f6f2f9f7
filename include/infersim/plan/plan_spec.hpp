#pragma once
// A plan file (contract: plan file; docs/planning.md): the cheapest deployment that meets an SLO at a load.
//
//   {"base": SCENARIO or PATH, "target": {"rate_per_s": R} | {"trace": "as_is"},
//    "slo": {"ttft_p99_s": T, "tpot_p99_s": P}, "search": {"dotted.key": [v, ...], ...},
//    "objective": "usd_per_hour" | "usd_per_million_output_tokens" | "chips", "max_replicas": N}
//
// The candidates are the points of `search` as a sweep's grid (same order: keys in file order, the last
// varying fastest); candidate i is the i-th, from 0.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infersim/config/catalog.hpp"
#include "infersim/scenario/scenario_loader.hpp"
#include "infersim/sweep/sweep_spec.hpp"

namespace infersim::plan {

enum class Objective { usd_per_hour, usd_per_million_output_tokens, chips };
inline constexpr std::string_view kObjectiveNames[] = {"usd_per_hour", "usd_per_million_output_tokens", "chips"};

struct TargetSpec {
  std::optional<double> rate_per_s;  // the fleet's arrival rate; nullopt: the base's trace as recorded
  bool trace_as_is() const { return !rate_per_s; }
};

struct PlanSpec {
  std::string file;  // for messages
  std::string name, description;
  sweep::SweepSpec space;  // base scenario and the search as a grid
  TargetSpec target;
  std::optional<double> ttft_p99_s, tpot_p99_s;
  Objective objective = Objective::usd_per_hour;
  int max_replicas = 256;  // the fleet search grows no candidate beyond this many replicas (units)

  std::size_t candidates() const { return space.points(); }
  /// "hardware=mi300x, deployment.tensor_parallel=3" (the base itself when nothing is searched).
  std::string label(std::size_t candidate) const;
};

/// Parse a plan file's text; relative paths resolve against `base_dir`. Throws ConfigError with every problem.
PlanSpec parse_plan(const std::string& text, const std::string& file, const std::filesystem::path& base_dir);
PlanSpec load_plan(const std::string& path);

}  // namespace infersim::plan
