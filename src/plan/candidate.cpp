#include "infersim/plan/candidate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "infersim/core/error.hpp"
#include "infersim/core/strings.hpp"
#include "infersim/cost/cost_model.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "infersim/scenario/scenario_run.hpp"
#include "infersim/scenario/warnings.hpp"
#include "infersim/serving/simulation.hpp"
#include "infersim/sweep/evaluate.hpp"

namespace infersim::plan {

using config::Json;

std::optional<double> CandidateResult::objective_value(Objective o) const {
  switch (o) {
    case Objective::usd_per_hour: return usd_per_hour;
    case Objective::usd_per_million_output_tokens: return usd_per_million_output_tokens;
    case Objective::chips: return static_cast<double>(chips);
  }
  return std::nullopt;
}

namespace {

/// Rate-search trials simulate about this many requests at the estimated capacity (fewer at lower rates):
/// the capacity only seeds the fleet search, which simulates the base's full workload.
constexpr double kTrialRequests = 300;
/// The rate search's bracket around the analytical estimate, and its precision.
constexpr double kBracketBelow = 4, kBracketAbove = 1.25, kRateTolerance = 0.2;

double miss_ratio(const PlanSpec& plan, const serving::SimulationResult& r) {
  double m = 0;
  if (plan.ttft_p99_s) m = std::max(m, r.ttft.p99 / *plan.ttft_p99_s);
  if (plan.tpot_p99_s) m = std::max(m, r.tpot.p99 / *plan.tpot_p99_s);
  return m;
}

std::string ms(double s) { return format_number(s * 1e3, 4) + " ms"; }

std::string p99s(const serving::SimulationResult& r) {
  return "p99 TTFT " + ms(r.ttft.p99) + ", TPOT " + ms(r.tpot.p99);
}

/// Host and device time of one decode step of one sequence at context 1 on `ps`, per output token: no
/// request of this pool can have a lower TPOT (a step's cost grows with its batch and context; speculation
/// emits at most k + 1 tokens per step). nullopt where the bound does not hold (hybrid CPU/GPU placement).
std::optional<double> tpot_lower_bound_s(const serving::PoolSpec& ps) {
  if (ps.hybrid.enabled()) return std::nullopt;
  const roofline::StepCostModel model(ps.model, ps.hardware, ps.deployment);
  roofline::StepShape shape;
  shape.window = ps.model.attention_window();
  shape.add_decode(1);
  const double device_s = model.evaluate(shape).time_s;
  const serving::StepLaunches launches{1, static_cast<double>(ps.model.num_layers), false};
  const double host_s = ps.scheduler.scheduling_overhead_s +
                        (ps.engine ? serving::host_overhead_s(*ps.engine, shape, launches, device_s) : 0.0);
  const double tokens_per_step = ps.speculative.enabled() ? ps.speculative.num_speculative_tokens + 1.0 : 1.0;
  return (device_s + host_s) / tokens_per_step;
}

/// Whether the p99 TPOT is that of a request that decodes: fewer than 0.5% of requests have a single output
/// token (whose TPOT is 0). A trace's lengths are not known here.
bool every_request_decodes(const workload::WorkloadSpec& w) {
  using Kind = workload::TokenDistribution::Kind;
  if (w.process == workload::ArrivalProcess::trace) return false;
  const auto& o = w.output;
  auto below = [](double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); };  // P(N(0, 1) < z)
  switch (o.kind) {
    case Kind::fixed: return o.value >= 2;
    case Kind::uniform: return o.min >= 2;
    case Kind::empirical: return !o.values.empty() && *std::min_element(o.values.begin(), o.values.end()) >= 2;
    case Kind::normal: return o.min >= 2 || (o.std > 0 && below((1.5 - o.mean) / o.std) < 0.005);
    case Kind::lognormal: return o.min >= 2 || (o.sigma > 0 && o.median > 0 && below((std::log(1.5) - std::log(o.median)) / o.sigma) < 0.005);
  }
  return false;
}

/// An optimistic throughput of the simulation's pools in requests per second from the roofline: decode at
/// the largest batch that fits, prefill one mean prompt at a time. Only the centre of the rate search's bracket.
double estimate_capacity_per_s(const serving::SimulationSpec& s) {
  const double in = std::max(1.0, workload::expected_input_tokens(s.workload));
  const double out = std::max(1.0, s.workload.output.expected());
  double rate = std::numeric_limits<double>::infinity();
  for (const serving::PoolSpec& ps : s.pools) {
    const roofline::StepCostModel model(ps.model, ps.hardware, ps.deployment);
    const serving::PoolMemory mem = serving::plan_pool_memory(ps);
    const double per_request_tokens = static_cast<double>(
        mem.kv_footprint.units(static_cast<std::int64_t>(std::ceil(ps.role == serving::ReplicaRole::prefill ? in : in + out))));
    const auto batch = static_cast<std::int64_t>(std::clamp(static_cast<double>(mem.kv_capacity_tokens) / per_request_tokens,
                                                            1.0, static_cast<double>(std::max<std::int64_t>(1, ps.scheduler.max_batch_size))));
    roofline::StepShape decode;
    decode.window = ps.model.attention_window();
    for (std::int64_t b = 0; b < batch; ++b) decode.add_decode(static_cast<std::int64_t>(in + out / 2));
    const double decode_s = model.evaluate(decode).stage_time_s;
    const auto chunk = static_cast<std::int64_t>(std::min(in, static_cast<double>(std::max<std::int64_t>(1, ps.scheduler.max_batched_tokens))));
    roofline::StepShape prefill;
    prefill.window = ps.model.attention_window();
    prefill.add_prefill_chunk(chunk, 0, true);
    const double prefill_s = model.evaluate(prefill).stage_time_s * in / static_cast<double>(chunk);
    const double per_request_s = ps.role == serving::ReplicaRole::prefill ? prefill_s
                                 : ps.role == serving::ReplicaRole::decode ? out * decode_s / static_cast<double>(batch)
                                                                           : prefill_s + out * decode_s / static_cast<double>(batch);
    rate = std::min(rate, ps.deployment.replicas / std::max(per_request_s, 1e-9));
  }
  return rate / workload::requests_per_arrival(s.workload);  // sessions: the rate starts sessions
}

struct FleetRun {
  bool meets = false;
  double miss = 0;
  serving::SimulationResult result;  // kept for runs that meet the SLO
};

void describe_deployment(const serving::SimulationSpec& s, CandidateResult& r) {
  const auto& first = s.pools.front();
  r.engine = first.engine ? first.engine->name : "";
  r.tensor_parallel = first.deployment.tensor_parallel;
  r.pipeline_parallel = first.deployment.pipeline_parallel;
  r.expert_parallel = first.deployment.expert_parallel;
  r.weight_dtype = std::string(to_string(first.deployment.weight_dtype));
  r.activation_dtype = std::string(to_string(first.deployment.activation_dtype));
  r.kv_cache_dtype = std::string(to_string(first.deployment.kv_cache_dtype));
  r.hardware.clear();
  for (const auto& ps : s.pools) {
    if (r.hardware.find(ps.hardware.name) == std::string::npos) r.hardware += (r.hardware.empty() ? "" : "+") + ps.hardware.name;
  }
}

void evaluate(const PlanSpec& plan, CandidateResult& r) {
  // The candidate's scenario, with the plan's SLO and target rate in place.
  std::vector<scenario::Override> overrides = plan.space.overrides(r.index);
  for (const auto& o : overrides) r.overrides[o.path] = o.value;
  Json slo = Json::object();
  if (plan.ttft_p99_s) slo["ttft_p99_s"] = *plan.ttft_p99_s;
  if (plan.tpot_p99_s) slo["tpot_p99_s"] = *plan.tpot_p99_s;
  overrides.push_back(sweep::make_override("slo", slo));
  r.overrides["slo"] = slo;
  if (plan.target.rate_per_s) {
    overrides.push_back(sweep::make_override("workload.arrival.rate_per_s", *plan.target.rate_per_s));
    r.overrides["workload.arrival.rate_per_s"] = *plan.target.rate_per_s;
  }
  config::Document doc = plan.space.base;
  scenario::apply_overrides(doc.json, overrides);
  // Messages name the candidate by its label, not by the overrides.
  const scenario::ScenarioSpec sc = scenario::parse_scenario(doc);  // InfeasibleError: does not fit
  const bool rate_driven = workload::rate_driven(sc.simulation.workload.process);
  if (plan.target.rate_per_s && !rate_driven) {
    throw ConfigError(doc.file, "/workload/arrival/process", "a target rate_per_s needs an arrival process that follows a rate (poisson, constant or gamma)");
  }
  if (!plan.target.rate_per_s && rate_driven) {
    throw ConfigError(doc.file, "/workload/arrival/process", "target {\"trace\": \"as_is\"} needs workload.arrival.process \"trace\"");
  }
  describe_deployment(sc.simulation, r);

  // One unit of the fleet: one replica, or the base's prefill and decode pools when disaggregated.
  const bool disaggregated = sc.simulation.pools.size() > 1;
  std::vector<int> unit;
  for (const auto& ps : sc.simulation.pools) unit.push_back(disaggregated ? ps.deployment.replicas : 1);
  auto fleet = [&](int n) {
    serving::SimulationSpec s = sc.simulation;
    for (std::size_t p = 0; p < s.pools.size(); ++p) s.pools[p].deployment.replicas = unit[p] * n;
    return s;
  };

  // Analytical pruning: no simulation. The TPOT bound needs every request to decode (a request of one output
  // token has a TPOT of 0, which a p99 could be), so it applies when the workload's output lengths are >= 2.
  if (plan.tpot_p99_s && every_request_decodes(sc.simulation.workload)) {
    for (const auto& ps : sc.simulation.pools) {
      if (ps.role == serving::ReplicaRole::prefill) continue;
      const std::optional<double> bound = tpot_lower_bound_s(ps);
      if (bound && *bound > *plan.tpot_p99_s) {
        r.skip = SkipKind::tpot_bound;
        r.miss_ratio = *bound / *plan.tpot_p99_s;
        r.reason = "one decode step at batch 1 takes " + ms(*bound) + " per output token (roofline and engine host time), above "
                   "the TPOT target of " + ms(*plan.tpot_p99_s);
        return;
      }
    }
  }

  // Capacity of one unit within the SLO: a short rate search around the analytical estimate.
  int n0 = 1, floor_replicas = 0;
  if (plan.target.rate_per_s) {
    const double estimate = estimate_capacity_per_s(fleet(1));
    floor_replicas = static_cast<int>(std::ceil(*plan.target.rate_per_s / (estimate * kBracketAbove))) - 1;
    scenario::ScenarioSpec one = sc;
    one.simulation = fleet(1);
    const double requests = std::min(kTrialRequests, static_cast<double>(std::max<std::int64_t>(1, sc.simulation.workload.requests)));
    // The estimate is optimistic but close (the SLO capacity is usually 0.5 to 0.9 of it): search just below
    // it first, and only when even a quarter of it misses the SLO, the wide range below.
    auto search = [&](double low, double high) {
      one.slo.find_max_rate = scenario::RateSearchSpec{low, high, kRateTolerance, requests / estimate, std::nullopt, 1};
      scenario::ScenarioRun run = scenario::run_scenario(one);
      r.simulations += run.search->simulations;
      return run;
    };
    scenario::ScenarioRun run = search(estimate / kBracketBelow, estimate * kBracketAbove);
    if (run.search->status == scenario::RateSearchResult::Status::min_rate_misses) {
      run = search(estimate / (kBracketBelow * kBracketBelow * kBracketBelow), estimate / kBracketBelow);
    }
    if (run.search->status == scenario::RateSearchResult::Status::min_rate_misses) {
      r.skip = SkipKind::slo;
      r.miss_ratio = miss_ratio(plan, run.result);
      r.reason = "misses the SLO even at " + format_number(run.search->rate_per_s, 4) + " requests/s on one " +
                 (disaggregated ? "prefill/decode unit" : "replica") + " (" + p99s(run.result) + ")";
      return;
    }
    r.capacity_per_s = run.search->rate_per_s;
    n0 = static_cast<int>(std::clamp(std::ceil(*plan.target.rate_per_s / *r.capacity_per_s), 1.0, static_cast<double>(plan.max_replicas)));
  }

  // The smallest fleet that meets the SLO at the target load, simulated whole. From n0: when it meets the SLO
  // and n0 - 1 does not, done; when n0 - 1 meets it too (the short trials underestimated the capacity), the
  // analytical estimate's fleet, which is optimistic, is tried as the lower end, else the count walks down
  // in doubling steps. When n0 misses, the count walks up in doubling steps, and stops when a larger fleet
  // misses by as much as a smaller one (the miss is not a matter of load: more replicas will not help).
  // Then bisection between the largest count that missed and the smallest that met.
  std::map<int, FleetRun> runs;
  auto meets = [&](int n) {
    auto it = runs.find(n);
    if (it == runs.end()) {
      FleetRun f;
      f.result = serving::simulate(fleet(n));
      ++r.simulations;
      // A fleet whose queue grows through the run meets the p99 only because the run ends: not a plan.
      const auto growth = scenario::open_loop_queue_growth(sc, f.result);
      f.meets = scenario::meets_p99(sc.slo, f.result) && f.result.completed == f.result.requests &&
                !(growth && scenario::outgrows_system(*growth));
      f.miss = miss_ratio(plan, f.result);
      if (!f.meets) f.result = {};
      it = runs.emplace(n, std::move(f)).first;
    }
    return it->second.meets;
  };
  int lo = 0, hi = 0;  // lo: largest known to miss (0: none); hi: smallest known to meet (0: none)
  auto walk_down = [&](int from) {
    hi = from;
    for (int step = 1; hi - step > 0; step *= 2) {
      if (!meets(hi - step)) {
        lo = hi - step;
        return;
      }
      hi -= step;
    }
  };
  bool flat = false;
  if (meets(n0)) {
    hi = n0;
    if (n0 > 1 && meets(n0 - 1)) {
      hi = n0 - 1;
      const int optimistic = floor_replicas < hi ? floor_replicas : 0;
      if (optimistic > 0 && !meets(optimistic)) {
        lo = optimistic;
      } else {
        walk_down(optimistic > 0 ? optimistic : hi);
      }
    } else {
      lo = n0 - 1;
    }
  } else {
    lo = n0;
    for (int step = 1; lo < plan.max_replicas; step *= 2) {
      const int n = std::min(lo + step, plan.max_replicas);
      if (meets(n)) {
        hi = n;
        break;
      }
      if (runs.at(n).miss >= runs.at(lo).miss) {
        flat = true;
        break;
      }
      lo = n;
    }
  }
  if (hi == 0) {
    const auto& best = runs.rbegin()->second;
    r.skip = SkipKind::slo;
    r.miss_ratio = best.miss;
    const std::string unit_name = disaggregated ? "units" : "replicas";
    r.reason = flat ? "misses the SLO at the target load by as much with " + std::to_string(runs.rbegin()->first) + " " + unit_name +
                          " as with fewer (" + format_number(best.miss, 4) + "x the SLO's p99 targets): more replicas do not help"
                    : "no fleet of up to " + std::to_string(runs.rbegin()->first) + " " + unit_name +
                          " meets the SLO at the target load (the largest: " + format_number(best.miss, 4) + "x the SLO's p99 targets)";
    return;
  }
  while (hi - lo > 1) {
    const int mid = lo + (hi - lo) / 2;
    if (meets(mid)) {
      hi = mid;
    } else {
      lo = mid;
    }
  }

  const serving::SimulationSpec chosen = fleet(hi);
  const serving::SimulationResult& result = runs.at(hi).result;
  r.replicas = hi;
  r.chips = 0;
  static constexpr const char* kRoles[] = {"unified", "prefill", "decode"};
  for (const auto& ps : chosen.pools) {
    r.chips += ps.deployment.total_chips();
    r.pools.push_back(Json{{"role", kRoles[static_cast<std::size_t>(ps.role)]}, {"hardware", ps.hardware.name},
                           {"replicas", ps.deployment.replicas}, {"tensor_parallel", ps.deployment.tensor_parallel},
                           {"pipeline_parallel", ps.deployment.pipeline_parallel}, {"expert_parallel", ps.deployment.expert_parallel}});
  }
  r.ttft_p99_s = result.ttft.p99;
  r.tpot_p99_s = result.tpot.p99;
  if (r.capacity_per_s) r.headroom = *r.capacity_per_s * hi / *plan.target.rate_per_s;
  if (disaggregated) {
    r.overrides["scheduler.prefill.replicas"] = unit[0] * hi;
    r.overrides["scheduler.decode.replicas"] = unit[1] * hi;
  } else {
    r.overrides["deployment.replicas"] = hi;
  }
  const cost::CostReport cost = cost::compute_cost(chosen, result);
  if (cost.priced) {
    r.usd_per_hour = cost.usd_per_hour;
    r.usd_per_million_output_tokens = cost.usd_per_million_output_tokens_all_in;
  } else if (plan.objective != Objective::chips) {
    r.skip = SkipKind::unpriced;
    r.reason = "meets the SLO with " + std::to_string(hi) + " replicas, but " + cost.unpriced_reason +
               "; give pricing.usd_per_chip_hour in the base scenario, or plan with \"objective\": \"chips\"";
    return;
  }
  r.feasible = true;
}

}  // namespace

CandidateResult evaluate_candidate(const PlanSpec& plan, std::size_t index) {
  CandidateResult r;
  r.index = index;
  r.label = plan.label(index);
  try {
    evaluate(plan, r);
  } catch (...) {
    bool internal = false;
    r.reason = sweep::describe_current_exception(internal);
    r.feasible = false;
    try {
      throw;
    } catch (const InfeasibleError&) {
      r.skip = SkipKind::infeasible;
    } catch (...) {
      r.skip = internal ? SkipKind::internal : SkipKind::invalid;
    }
  }
  return r;
}

}  // namespace infersim::plan

