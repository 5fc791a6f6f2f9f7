// slo.find_max_rate: the highest arrival rate that meets an SLO, against a closed form, and its report.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <vector>

#include "infersim/config/catalog.hpp"
#include "infersim/core/error.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/scenario/scenario_loader.hpp"
#include "infersim/scenario/scenario_run.hpp"
#include "support/errors.hpp"

namespace infersim::scenario {
namespace {

using config::Json;

// One request at a time (max_batch_size 1), fixed lengths, constant arrivals: a D/D/1 queue.
constexpr const char* kScenario = R"({"name": "search", "model": "llama-3.2-1b", "hardware": "h100-sxm",
  "scheduler": {"policy": "continuous", "max_batch_size": 1, "max_batched_tokens": 8192},
  "workload": {"requests": 2000, "seed": 1, "arrival": {"process": "constant", "rate_per_s": 10},
               "input_tokens": 256, "output_tokens": 4},
  "slo": {"ttft_p99_s": 1.0}})";

ScenarioSpec parse(const Json& j) { return parse_scenario(config::Document{j, "search.json", "", {}}); }

using testing::message_of;

/// Service time of one request on the idle replica: the prefill step and (out - 1) decode steps, each the
/// roofline time plus the serving engine's host time (a streamed sequence's, as the workload streams), rounded to
/// the simulator's nanoseconds as the replica does.
double service_time_s(const ScenarioSpec& sc, std::int64_t in, std::int64_t out, double& prefill_s) {
  const auto& pool = sc.simulation.pools.at(0);
  const roofline::StepCostModel cost(pool.model, pool.hardware, pool.deployment);
  const serving::StepLaunches launches{1, static_cast<double>(pool.model.num_layers), false};
  auto step = [&](const roofline::StepShape& shape) {
    const double device = cost.evaluate(shape).time_s;
    const bool streaming = sc.simulation.workload.streaming;
    return engine::from_seconds(device + serving::host_overhead_s(*pool.engine, shape, launches, device, 1, true, streaming));
  };
  engine::SimTime d = step(roofline::StepShape::prefill(1, in));
  prefill_s = engine::to_seconds(d);
  for (std::int64_t i = 0; i < out - 1; ++i) d += step(roofline::StepShape::decode(1, in + i));
  return engine::to_seconds(d);
}

/// The HTTP front end's latency every request of the scenario pays before the scheduler (the default engine's, as
/// the constant arrivals default to workload.api "http"): it adds to every TTFT and does not queue, so the
/// capacity stays 1/D.
double front_end_s(const ScenarioSpec& sc) { return serving::front_end_latency_s(sc.simulation); }

TEST(RateSearch, FindsTheCapacityOfAOneAtATimeServer) {
  // D/D/1 with service time D and arrivals every T = 1/r: for T >= D nobody waits and TTFT is the front end's
  // latency F plus the prefill time P; for T < D request k waits k (D - T), so the p99 TTFT of N requests is about
  // F + P + 0.99 N (D - T). With the TTFT bound at F + P + D the highest rate that meets it is 1 / (D (1 - 1 / (0.99 N))): 1/D within
  // 0.05% for N = 2000. The search must land within its 1% tolerance of that, with the first missed rate above.
  ScenarioSpec sc = parse(Json::parse(kScenario));
  double prefill = 0;
  const double d = service_time_s(sc, 256, 4, prefill);
  ASSERT_GT(front_end_s(sc), 0.0);  // the default engine serves over HTTP
  sc.slo.ttft_p99_s = front_end_s(sc) + prefill + d;
  sc.slo.find_max_rate = RateSearchSpec{0.3 / d, 4 / d, 0.01, std::nullopt, std::nullopt, 1};  // no midpoint lands on 1/D
  const ScenarioRun run = run_scenario(sc);
  ASSERT_TRUE(run.search);
  const RateSearchResult& s = *run.search;
  std::printf("D = %.6f ms: capacity 1/D = %.3f/s, found %.3f/s, missed %.3f/s, %d simulations\n", d * 1e3, 1 / d,
              s.rate_per_s, s.missed_rate_per_s, s.simulations);
  EXPECT_EQ(s.status, RateSearchResult::Status::found);
  const double capacity = 1 / (d * (1 - 1 / (0.99 * 2000)));
  EXPECT_LE(s.rate_per_s, capacity * 1.0001);
  EXPECT_GE(s.rate_per_s, capacity / 1.0101);
  EXPECT_GE(s.missed_rate_per_s, capacity / 1.0001);
  EXPECT_LE(s.missed_rate_per_s / s.rate_per_s, 1.01 + 1e-12);
  // Two bounds, then bisection in log(rate) of a 13.3x bracket to 1%: ceil(log2(ln 13.3 / ln 1.01)) = 9 more.
  EXPECT_EQ(s.simulations, 2 + 9);
  EXPECT_TRUE(meets_p99(sc.slo, run.result));
  EXPECT_DOUBLE_EQ(run.scenario.simulation.workload.rate_per_s, s.rate_per_s);
}

// A warm start (what a calibration gives the next evaluation of the same row) lands on the same capacity with
// the same guarantee, from above and from below, in fewer simulations when it starts close; and a start
// outside the range ends as the cold search would say.
TEST(RateSearch, AWarmStartFindsTheSameCapacityInFewerSimulations) {
  ScenarioSpec sc = parse(Json::parse(kScenario));
  double prefill = 0;
  const double d = service_time_s(sc, 256, 4, prefill);
  sc.slo.ttft_p99_s = front_end_s(sc) + prefill + d;
  const double capacity = 1 / (d * (1 - 1 / (0.99 * 2000)));
  for (const double start : {0.97 / d, 1.03 / d, 0.6 / d, 2.5 / d}) {
    sc.slo.find_max_rate = RateSearchSpec{0.3 / d, 4 / d, 0.01, std::nullopt, start, 1};
    const ScenarioRun run = run_scenario(sc);
    ASSERT_TRUE(run.search);
    const RateSearchResult& s = *run.search;
    EXPECT_EQ(s.status, RateSearchResult::Status::found) << start * d;
    EXPECT_LE(s.rate_per_s, capacity * 1.0001) << start * d;
    EXPECT_GE(s.missed_rate_per_s, capacity / 1.0001) << start * d;
    EXPECT_LE(s.missed_rate_per_s / s.rate_per_s, 1.01 + 1e-12) << start * d;
    EXPECT_TRUE(meets_p99(sc.slo, run.result));
    // Within 3% of the capacity: the start, a step of 2%, then at most 2 more. Far off (0.6x, 2.5x) the
    // squared steps reach past it in 5-6 trials and the bisection of that bracket takes 5-6 more: about a
    // cold search's 11, which is why a fit, whose evaluations move the capacity little, gains.
    EXPECT_LE(s.simulations, std::abs(start * d - 1) < 0.05 ? 5 : 13) << start * d;
  }
  sc.slo.find_max_rate = RateSearchSpec{0.1 / d, 0.5 / d, 0.01, std::nullopt, 0.3 / d, 1};
  EXPECT_EQ(run_scenario(sc).search->status, RateSearchResult::Status::max_rate_meets);
  sc.slo.find_max_rate = RateSearchSpec{2 / d, 8 / d, 0.01, std::nullopt, 3 / d, 1};
  const ScenarioRun below = run_scenario(sc);
  EXPECT_EQ(below.search->status, RateSearchResult::Status::min_rate_misses);
  EXPECT_DOUBLE_EQ(below.search->rate_per_s, 2 / d);
}

TEST(RateSearch, TheReportIsOfTheRunAtTheRateFound) {
  Json j = Json::parse(kScenario);
  j["slo"]["ttft_p99_s"] = 0.05;
  j["slo"]["find_max_rate"] = Json{{"min_rate_per_s", 1}, {"max_rate_per_s", 1000}, {"duration_s", 20}};
  const ScenarioSpec sc = parse(j);
  const Json report = make_report(run_scenario(sc));
  const Json& slo = report["metrics"]["slo"];
  ASSERT_EQ(slo["rate_search"]["status"], "found");
  const double rate = slo["max_rate_per_s"].get<double>();
  // The scenario shown is the one simulated: the rate found, and rate x duration requests.
  EXPECT_DOUBLE_EQ(report["scenario"]["workload"]["arrival"]["rate_per_s"].get<double>(), rate);
  EXPECT_EQ(report["metrics"]["requests_completed"].get<std::int64_t>(), std::llround(rate * 20));
  EXPECT_EQ(report["scenario"]["workload"]["requests"].get<std::int64_t>(), std::llround(rate * 20));
  EXPECT_TRUE(slo["p99_met"].get<bool>());
  EXPECT_GT(slo["rate_search"]["missed_rate_per_s"].get<double>(), rate);
  // Every request asks for 4 tokens: the sustained output rate is 4 x the arrival rate.
  EXPECT_DOUBLE_EQ(slo["max_output_tokens_per_s"].get<double>(), 4 * rate);
  // A sweep's columns cover every key of such a report.
  const auto& keys = metric_keys();
  const std::set<std::string> known(keys.begin(), keys.end());
  for (const auto& [key, value] : flatten(report["metrics"])) EXPECT_TRUE(known.count(key)) << key;
  // The same inputs give the same report.
  EXPECT_EQ(make_report(run_scenario(sc)).dump(), report.dump());
}

// runs_per_rate: every rate tried is run with several arrival seeds and judged by the run with the median SLO
// margin. Without randomness (constant arrivals, fixed lengths: the D/D/1 above) every seed gives the same run,
// so the search finds the same capacity; a majority of 3 is decided after 2 runs, and the rate reported runs
// its third: 2 x 11 + 1 simulations.
TEST(RateSearch, RunsPerRateFindTheSameCapacityWithoutRandomness) {
  ScenarioSpec sc = parse(Json::parse(kScenario));
  double prefill = 0;
  const double d = service_time_s(sc, 256, 4, prefill);
  sc.slo.ttft_p99_s = front_end_s(sc) + prefill + d;
  sc.slo.find_max_rate = RateSearchSpec{0.3 / d, 4 / d, 0.01, std::nullopt, std::nullopt, 1};
  const ScenarioRun one = run_scenario(sc);
  sc.slo.find_max_rate->runs_per_rate = 3;
  const ScenarioRun three = run_scenario(sc);
  ASSERT_EQ(one.search->simulations, 11);
  EXPECT_EQ(three.search->simulations, 2 * 11 + 1);
  EXPECT_DOUBLE_EQ(three.search->rate_per_s, one.search->rate_per_s);
  EXPECT_DOUBLE_EQ(three.search->missed_rate_per_s, one.search->missed_rate_per_s);
  EXPECT_DOUBLE_EQ(three.result.ttft.p99, one.result.ttft.p99);
  EXPECT_EQ(three.scenario.simulation.workload.seed, 1u);  // ties: the workload's own seed
}

// With Poisson arrivals (M/D/1) a run's p99 TTFT depends on its arrival sequence. The rate found must meet
// the SLO by the median of its three runs and the rate above it miss by theirs, each checked here run by run;
// the report is the median run, with its seed shown.
TEST(RateSearch, RunsPerRateJudgeAndReportTheMedianRun) {
  Json j = Json::parse(kScenario);
  j["workload"]["arrival"] = Json{{"process", "poisson"}, {"rate_per_s", 10}};
  j["slo"]["ttft_p99_s"] = 0.05;
  j["slo"]["find_max_rate"] = Json{{"min_rate_per_s", 1}, {"max_rate_per_s", 1000}, {"duration_s", 60}};
  const ScenarioRun one = run_scenario(parse(j));
  j["slo"]["find_max_rate"]["runs_per_rate"] = 1;
  EXPECT_EQ(make_report(run_scenario(parse(j))).dump(), make_report(one).dump());  // 1: as without the key

  j["slo"]["find_max_rate"]["runs_per_rate"] = 3;
  const ScenarioSpec sc = parse(j);
  const ScenarioRun three = run_scenario(sc);
  ASSERT_EQ(three.search->status, RateSearchResult::Status::found);
  auto margins_at = [&](double rate) {
    std::vector<double> m;
    for (std::uint64_t seed : {1, 2, 3}) {
      ScenarioSpec s = at_rate(sc, rate);
      s.simulation.workload.seed = seed;
      m.push_back(serving::simulate(s.simulation).ttft.p99 / 0.05);
    }
    return m;
  };
  const std::vector<double> at_found = margins_at(three.search->rate_per_s);
  std::vector<double> sorted = at_found;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_LE(sorted[1], 1.0);
  std::vector<double> above = margins_at(three.search->missed_rate_per_s);
  std::sort(above.begin(), above.end());
  EXPECT_GT(above[1], 1.0);
  EXPECT_LE(three.search->missed_rate_per_s / three.search->rate_per_s, 1.01 + 1e-12);
  const std::uint64_t chosen = three.scenario.simulation.workload.seed;
  ASSERT_GE(chosen, 1u);
  ASSERT_LE(chosen, 3u);
  EXPECT_DOUBLE_EQ(at_found[chosen - 1], sorted[1]);
  EXPECT_DOUBLE_EQ(three.result.ttft.p99 / 0.05, sorted[1]);
  EXPECT_DOUBLE_EQ(three.scenario.simulation.workload.rate_per_s, three.search->rate_per_s);
  EXPECT_EQ(make_report(three)["scenario"]["workload"]["seed"].get<std::uint64_t>(), chosen);  // shown as run
  std::printf("M/D/1: one run per rate %.3f/s (p99 TTFT %.1f ms), median of three %.3f/s (%.1f ms)\n",
              one.search->rate_per_s, one.result.ttft.p99 * 1e3, three.search->rate_per_s, three.result.ttft.p99 * 1e3);
}

TEST(RateSearch, SaysWhenTheRangeDoesNotHoldTheLimit) {
  Json j = Json::parse(kScenario);
  ScenarioSpec sc = parse(j);
  double prefill = 0;
  const double d = service_time_s(sc, 256, 4, prefill);
  // Entirely below capacity: the top of the range meets the SLO after one simulation.
  j["slo"]["find_max_rate"] = Json{{"min_rate_per_s", 0.1 / d}, {"max_rate_per_s", 0.5 / d}};
  ScenarioRun run = run_scenario(parse(j));
  EXPECT_EQ(run.search->status, RateSearchResult::Status::max_rate_meets);
  EXPECT_EQ(run.search->simulations, 1);
  EXPECT_DOUBLE_EQ(run.search->rate_per_s, 0.5 / d);
  // Entirely above it: the bottom misses too; the report has no rate under the SLO.
  j["slo"]["ttft_p99_s"] = prefill * 1.5;
  j["slo"]["find_max_rate"] = Json{{"min_rate_per_s", 2 / d}, {"max_rate_per_s", 8 / d}};
  run = run_scenario(parse(j));
  EXPECT_EQ(run.search->status, RateSearchResult::Status::min_rate_misses);
  EXPECT_EQ(run.search->simulations, 2);
  const Json report = make_report(run);
  EXPECT_TRUE(report["metrics"]["slo"]["max_rate_per_s"].is_null());
  EXPECT_TRUE(report["metrics"]["slo"]["max_output_tokens_per_s"].is_null());
  EXPECT_FALSE(report["metrics"]["slo"]["p99_met"].get<bool>());
}

TEST(RateSearch, BadSearchesAreConfigErrorsWithTheirPath) {
  auto error_of = [](const std::function<void(Json&)>& edit) {
    Json j = Json::parse(kScenario);
    j["slo"]["find_max_rate"] = Json{{"min_rate_per_s", 1}, {"max_rate_per_s", 100}};
    edit(j);
    return message_of([&] { parse(j); });
  };
  // Only a rate-driven arrival process has a rate to search.
  std::string m = error_of([](Json& j) { j["workload"]["arrival"] = Json{{"process", "offline"}}; });
  EXPECT_NE(m.find("/slo/find_max_rate"), std::string::npos) << m;
  EXPECT_NE(m.find("poisson, constant or gamma"), std::string::npos) << m;
  m = error_of([](Json& j) { j["slo"]["find_max_rate"]["max_rate_per_s"] = 0.5; });
  EXPECT_NE(m.find("/slo/find_max_rate/max_rate_per_s"), std::string::npos) << m;
  m = error_of([](Json& j) { j["slo"]["find_max_rate"]["max_rate_per_sec"] = 5; });
  EXPECT_NE(m.find("max_rate_per_s"), std::string::npos) << m;
  m = error_of([](Json& j) { j["slo"]["find_max_rate"]["relative_tolerance"] = 0; });
  EXPECT_NE(m.find("/slo/find_max_rate/relative_tolerance"), std::string::npos) << m;
  m = error_of([](Json& j) { j["slo"]["find_max_rate"]["min_rate_per_s"] = 1e-12; });
  EXPECT_NE(m.find("beyond the simulation horizon"), std::string::npos) << m;
  m = error_of([](Json& j) { j["slo"]["find_max_rate"]["duration_s"] = 1e9; });
  EXPECT_NE(m.find("/slo/find_max_rate/duration_s"), std::string::npos) << m;
  m = error_of([](Json& j) { j["slo"]["find_max_rate"]["runs_per_rate"] = 2; });
  EXPECT_NE(m.find("/slo/find_max_rate/runs_per_rate"), std::string::npos) << m;
  EXPECT_NE(m.find("odd"), std::string::npos) << m;
  m = error_of([](Json& j) { j["slo"]["find_max_rate"]["runs_per_rate"] = 0; });
  EXPECT_NE(m.find("/slo/find_max_rate/runs_per_rate"), std::string::npos) << m;
  m = error_of([](Json& j) { j["slo"].erase("ttft_p99_s"); });
  EXPECT_NE(m.find("an slo needs ttft_p99_s, tpot_p99_s or both"), std::string::npos) << m;
}

}  // namespace
}  // namespace infersim::scenario
