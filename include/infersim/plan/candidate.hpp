#pragma once
// One candidate of a plan: a replica configuration (the base scenario with one point of the search), pruned
// by analytical bounds, its per-replica capacity within the SLO found by a short rate search, and the
// smallest fleet of it that meets the SLO at the target load found by simulating the whole fleet.
// Deterministic and single-threaded: candidates may be evaluated on several threads at once.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "infersim/config/json_reader.hpp"
#include "infersim/plan/plan_spec.hpp"

namespace infersim::plan {

/// Why a candidate is not in the ranking.
enum class SkipKind {
  infeasible,  // cannot run: the replica does not hold the model or a request's KV cache (analytical, or at the first step)
  tpot_bound,  // one decode step at batch 1 already takes longer than the TPOT target
  slo,         // simulated, no fleet of up to max_replicas met the SLO at the target load
  unpriced,    // the objective needs a price the hardware has none of
  invalid,     // the candidate's scenario is not valid (bad input: exit code 2)
  internal,    // an error inside infersim (exit code 3)
};
inline constexpr std::string_view kSkipKindNames[] = {"infeasible", "tpot_bound", "slo", "unpriced", "invalid", "internal"};

struct CandidateResult {
  std::size_t index = 0;
  std::string label;  // "hardware=mi300x, deployment.tensor_parallel=3"
  bool feasible = false;
  int simulations = 0;

  // Feasible: the fleet that meets the SLO at the target load, as simulated.
  std::string hardware, engine;
  int tensor_parallel = 1, pipeline_parallel = 1, expert_parallel = 1;
  std::string weight_dtype, activation_dtype, kv_cache_dtype;
  int replicas = 0;  // units of the candidate: replicas, or (prefill, decode) pool sets when disaggregated
  int chips = 0;
  std::optional<double> usd_per_hour, usd_per_million_output_tokens;  // nullopt: unpriced
  double ttft_p99_s = 0, tpot_p99_s = 0;
  std::optional<double> capacity_per_s;  // per unit, within the SLO (rate targets)
  std::optional<double> headroom;        // capacity x replicas / target rate
  config::Json overrides = config::Json::object();  // dotted key -> value for `infersim run BASE --set`
  /// Every pool of the fleet: [{role, hardware, replicas, tensor_parallel, pipeline_parallel, expert_parallel}]
  /// (one unified pool, or prefill and decode when disaggregated).
  config::Json pools = config::Json::array();

  // Skipped.
  SkipKind skip = SkipKind::slo;
  std::string reason;
  /// How far it missed: max over the SLO's targets of p99 / target at the best fleet tried (or the TPOT
  /// bound / target); nullopt when it was not measured (infeasible, invalid).
  std::optional<double> miss_ratio;

  /// The objective's value (lower is better); nullopt when unpriced.
  std::optional<double> objective_value(Objective o) const;
};

/// Evaluate candidate `index` of the plan. Never throws for a problem of the candidate: it comes back
/// skipped, with its kind and reason.
CandidateResult evaluate_candidate(const PlanSpec& plan, std::size_t index);

}  // namespace infersim::plan
