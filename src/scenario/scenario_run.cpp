#include "infersim/scenario/scenario_run.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "infersim/core/error.hpp"

namespace infersim::scenario {

bool meets_p99(const SloSpec& slo, const serving::SimulationResult& r) {
  return (!slo.ttft_p99_s || r.ttft.p99 <= *slo.ttft_p99_s) && (!slo.tpot_p99_s || r.tpot.p99 <= *slo.tpot_p99_s);
}

std::string_view status_name(RateSearchResult::Status s) {
  switch (s) {
    case RateSearchResult::Status::found: return "found";
    case RateSearchResult::Status::max_rate_meets: return "max_rate_meets";
    case RateSearchResult::Status::min_rate_misses: return "min_rate_misses";
  }
  return "found";
}

ScenarioSpec at_rate(const ScenarioSpec& scenario, double rate_per_s) {
  ScenarioSpec s = scenario;
  auto& w = s.simulation.workload;
  w.rate_per_s = rate_per_s;
  config::Json& arrival = s.resolved["workload"]["arrival"];
  arrival["rate_per_s"] = rate_per_s;
  if (s.slo.find_max_rate && s.slo.find_max_rate->duration_s) {
    // The rate starts sessions with workload.sessions: each brings its turns.
    w.requests = std::max<std::int64_t>(
        1, std::llround(rate_per_s * *s.slo.find_max_rate->duration_s * workload::requests_per_arrival(w)));
    s.resolved["workload"]["requests"] = w.requests;
  }
  return s;
}

ScenarioRun run_scenario(const ScenarioSpec& scenario, serving::StepListener* listener) {
  if (!scenario.slo.find_max_rate) return {scenario, serving::simulate(scenario.simulation, listener), std::nullopt};

  const RateSearchSpec& spec = *scenario.slo.find_max_rate;
  RateSearchResult search;
  auto trial = [&](double rate) {
    ScenarioRun run{at_rate(scenario, rate), {}, std::nullopt};
    run.result = serving::simulate(run.scenario.simulation);
    ++search.simulations;
    return run;
  };
  // The reported run is re-simulated with the listener only when one is given (the search keeps none).
  auto finish = [&](ScenarioRun run, RateSearchResult::Status status) {
    search.status = status;
    search.rate_per_s = run.scenario.simulation.workload.rate_per_s;
    if (listener) run.result = serving::simulate(run.scenario.simulation, listener);
    run.search = search;
    return run;
  };

  double lo = spec.min_rate_per_s, hi = spec.max_rate_per_s;
  ScenarioRun low;
  if (spec.start_rate_per_s) {
    // Warm start: bracket the capacity from the given rate outward, in steps that start at twice the
    // tolerance and square (double in log) until the SLO's verdict changes or a bound is reached.
    double step = 1.0 + 2.0 * spec.relative_tolerance;
    const double start = std::clamp(*spec.start_rate_per_s, spec.min_rate_per_s, spec.max_rate_per_s);
    ScenarioRun first = trial(start);
    if (meets_p99(scenario.slo, first.result)) {
      lo = start;
      low = std::move(first);
      for (;;) {
        if (lo >= spec.max_rate_per_s) return finish(std::move(low), RateSearchResult::Status::max_rate_meets);
        const double next = std::min(lo * step, spec.max_rate_per_s);
        ScenarioRun run = trial(next);
        if (!meets_p99(scenario.slo, run.result)) {
          hi = next;
          search.missed_rate_per_s = next;
          break;
        }
        lo = next;
        low = std::move(run);
        step *= step;
      }
    } else {
      hi = start;
      search.missed_rate_per_s = start;
      for (;;) {
        if (hi <= spec.min_rate_per_s) return finish(std::move(first), RateSearchResult::Status::min_rate_misses);
        const double next = std::max(hi / step, spec.min_rate_per_s);
        ScenarioRun run = trial(next);
        if (meets_p99(scenario.slo, run.result)) {
          lo = next;
          low = std::move(run);
          break;
        }
        hi = next;
        search.missed_rate_per_s = next;
        first = std::move(run);
        step *= step;
      }
    }
  } else {
    ScenarioRun high = trial(spec.max_rate_per_s);
    if (meets_p99(scenario.slo, high.result)) return finish(std::move(high), RateSearchResult::Status::max_rate_meets);
    search.missed_rate_per_s = spec.max_rate_per_s;
    low = trial(spec.min_rate_per_s);
    if (!meets_p99(scenario.slo, low.result)) {
      search.missed_rate_per_s = spec.min_rate_per_s;
      return finish(std::move(low), RateSearchResult::Status::min_rate_misses);
    }
  }
  // Invariant: `low` met the SLO at lo, missed_rate_per_s = hi did not. Bisect in log(rate): the bracket's
  // ratio halves in the exponent each step.
  while (hi / lo > 1.0 + spec.relative_tolerance) {
    const double mid = std::sqrt(lo * hi);
    ScenarioRun run = trial(mid);
    if (meets_p99(scenario.slo, run.result)) {
      lo = mid;
      low = std::move(run);
    } else {
      hi = mid;
      search.missed_rate_per_s = mid;
    }
  }
  return finish(std::move(low), RateSearchResult::Status::found);
}

ScenarioRun run_scenario_in(const std::string& file, const ScenarioSpec& scenario, serving::StepListener* listener) {
  try {
    return run_scenario(scenario, listener);
  } catch (const InfeasibleError& e) {
    if (e.located()) throw;
    throw InfeasibleError(file, "", e.what());
  }
}

}  // namespace infersim::scenario
