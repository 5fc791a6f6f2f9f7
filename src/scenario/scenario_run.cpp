#include "infersim/scenario/scenario_run.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

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

double slo_margin(const SloSpec& slo, const serving::SimulationResult& r) {
  double m = 0;
  if (slo.ttft_p99_s) m = std::max(m, r.ttft.p99 / *slo.ttft_p99_s);
  if (slo.tpot_p99_s) m = std::max(m, r.tpot.p99 / *slo.tpot_p99_s);
  return m;
}

namespace {

/// The runs at one rate, each with its own arrival seed (workload.seed + k for the k-th), as many as it took to
/// decide whether the run with the median SLO margin meets the SLO: a majority of the runs per rate meeting it
/// (or missing it) decides, so the rest are run only if the rate is reported (median()).
struct RateTrial {
  ScenarioSpec scenario;  // at the rate, with the workload's own seed
  std::vector<ScenarioRun> runs;
  bool meets = false;
};

ScenarioRun run_seed(const ScenarioSpec& at, std::size_t k) {
  ScenarioRun run{at, {}, std::nullopt};
  if (k > 0) {
    run.scenario.simulation.workload.seed += static_cast<std::uint64_t>(k);
    run.scenario.resolved["workload"]["seed"] = run.scenario.simulation.workload.seed;
  }
  run.result = serving::simulate(run.scenario.simulation);
  return run;
}

}  // namespace

ScenarioRun run_scenario(const ScenarioSpec& scenario, serving::StepListener* listener) {
  if (!scenario.slo.find_max_rate) return {scenario, serving::simulate(scenario.simulation, listener), std::nullopt};

  const RateSearchSpec& spec = *scenario.slo.find_max_rate;
  const auto runs_per_rate = static_cast<std::size_t>(std::max(1, spec.runs_per_rate));
  RateSearchResult search;
  auto trial = [&](double rate) {
    RateTrial t{at_rate(scenario, rate), {}, false};
    const std::size_t majority = runs_per_rate / 2 + 1;
    std::size_t met = 0;
    while (met < majority && t.runs.size() - met < majority) {
      t.runs.push_back(run_seed(t.scenario, t.runs.size()));
      ++search.simulations;
      if (meets_p99(scenario.slo, t.runs.back().result)) ++met;
    }
    t.meets = met >= majority;
    return t;
  };
  // The run reported at a rate: the remaining seeds run, the one with the median SLO margin (ties: lower seed).
  auto median = [&](RateTrial& t) {
    while (t.runs.size() < runs_per_rate) {
      t.runs.push_back(run_seed(t.scenario, t.runs.size()));
      ++search.simulations;
    }
    std::vector<double> margins;
    for (const ScenarioRun& r : t.runs) margins.push_back(slo_margin(scenario.slo, r.result));
    std::vector<double> sorted = margins;
    std::sort(sorted.begin(), sorted.end());
    const double mid = sorted[sorted.size() / 2];
    return std::move(t.runs[static_cast<std::size_t>(std::find(margins.begin(), margins.end(), mid) - margins.begin())]);
  };
  // The reported run is re-simulated with the listener only when one is given (the search keeps none).
  auto finish = [&](RateTrial t, RateSearchResult::Status status) {
    ScenarioRun run = median(t);
    search.status = status;
    search.rate_per_s = run.scenario.simulation.workload.rate_per_s;
    if (listener) run.result = serving::simulate(run.scenario.simulation, listener);
    run.search = search;
    return run;
  };

  double lo = spec.min_rate_per_s, hi = spec.max_rate_per_s;
  RateTrial low;
  if (spec.start_rate_per_s) {
    // Warm start: bracket the capacity from the given rate outward, in steps that start at twice the
    // tolerance and square (double in log) until the SLO's verdict changes or a bound is reached.
    double step = 1.0 + 2.0 * spec.relative_tolerance;
    const double start = std::clamp(*spec.start_rate_per_s, spec.min_rate_per_s, spec.max_rate_per_s);
    RateTrial first = trial(start);
    if (first.meets) {
      lo = start;
      low = std::move(first);
      for (;;) {
        if (lo >= spec.max_rate_per_s) return finish(std::move(low), RateSearchResult::Status::max_rate_meets);
        const double next = std::min(lo * step, spec.max_rate_per_s);
        RateTrial run = trial(next);
        if (!run.meets) {
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
        RateTrial run = trial(next);
        if (run.meets) {
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
    RateTrial high = trial(spec.max_rate_per_s);
    if (high.meets) return finish(std::move(high), RateSearchResult::Status::max_rate_meets);
    search.missed_rate_per_s = spec.max_rate_per_s;
    low = trial(spec.min_rate_per_s);
    if (!low.meets) {
      search.missed_rate_per_s = spec.min_rate_per_s;
      return finish(std::move(low), RateSearchResult::Status::min_rate_misses);
    }
  }
  // Invariant: `low` met the SLO at lo, missed_rate_per_s = hi did not. Bisect in log(rate): the bracket's
  // ratio halves in the exponent each step.
  while (hi / lo > 1.0 + spec.relative_tolerance) {
    const double mid = std::sqrt(lo * hi);
    RateTrial run = trial(mid);
    if (run.meets) {
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
