#pragma once
// Running a plan: every candidate of a shard evaluated on a pool of threads, then ranked by the objective
// (ties: fewer chips, then the candidate's index), the cost-vs-latency Pareto frontier over the feasible
// ones (objective against p99 TPOT at the target load, both minimized), and the skipped ones by index.
//
// The result is a function of the plan file and the shard alone: any --jobs gives the same bytes, and the
// shards' JSON outputs merged (merge_plan_outputs) give the bytes of one full run.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "infersim/config/json_reader.hpp"
#include "infersim/plan/candidate.hpp"
#include "infersim/plan/plan_spec.hpp"
#include "infersim/sweep/sweep_spec.hpp"

namespace infersim::plan {

struct PlanOptions {
  unsigned jobs = 0;  // threads; 0 = every core
  sweep::Shard shard;
  std::size_t top = 10;  // candidates listed (the frontier and the skipped are listed whole)
  /// Called on the calling thread after every candidate and a few times a second: (done, total, failed), where
  /// failed counts the candidates that could not be planned (invalid or internal), not those skipped by design.
  std::function<void(std::size_t, std::size_t, std::size_t)> progress;
};

struct PlanResult {
  config::Json json;             // the contract's plan output (plan_json)
  std::size_t feasible = 0;      // candidates ranked
  std::size_t invalid = 0;       // skipped as bad input
  std::size_t internal = 0;      // skipped by an internal error
  std::string first_problem;     // "hardware=x, ...: reason" of the first invalid or internal one
};

/// Evaluate the plan's candidates (those of the shard) and build the output.
PlanResult run_plan(const PlanSpec& plan, const PlanOptions& options);

/// One candidate as the output lists it (ranked or on the frontier) or, when skipped, its entry in `skipped`.
config::Json candidate_json(const CandidateResult& c);

/// Join the JSON outputs of `plan --shard` runs into the output of one full run. Throws UsageError for
/// outputs of different plans, a shard given twice, or a missing shard.
config::Json merge_plan_outputs(const std::vector<config::Json>& shards, const std::vector<std::string>& names);

/// True when a JSON document is the output of `infersim plan` (for `merge`).
bool is_plan_output(const config::Json& j);

}  // namespace infersim::plan
