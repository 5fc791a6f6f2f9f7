// `infersim plan`: the planner's winner against brute force, the winner re-run at the target, pruning by
// the analytical TPOT bound, and a target nobody meets.

#include <gtest/gtest.h>

#include <limits>
#include <optional>

#include "infersim/core/error.hpp"
#include "infersim/plan/planner.hpp"
#include "infersim/sweep/evaluate.hpp"

namespace infersim {
namespace {

using config::Json;

// Llama-3.1-8B chat on three chips and two TP degrees: 6 candidates, 200 requests per simulation.
const char* kPlan = R"({
  "name": "small",
  "base": {"name": "small", "model": "llama-3.1-8b", "hardware": "h100-sxm", "engine": "vllm",
           "scheduler": {"policy": "chunked_prefill", "max_batch_size": 64, "max_batched_tokens": 4096},
           "workload": {"requests": 200, "seed": 3, "arrival": {"process": "poisson", "rate_per_s": 1},
                        "input_tokens": 512, "output_tokens": {"distribution": "uniform", "min": 32, "max": 128}}},
  "target": {"rate_per_s": 24},
  "slo": {"ttft_p99_s": 0.5, "tpot_p99_s": 0.03},
  "search": {"hardware": ["h100-sxm", "l40s", "mi300x"], "deployment.tensor_parallel": [1, 2]},
  "max_replicas": 8
})";

plan::PlanSpec small_plan(const std::string& text = kPlan) { return plan::parse_plan(text, "small.json", "."); }

/// Candidate i at n replicas, through the same path as `infersim run BASE --set ...`.
std::vector<scenario::Override> overrides_at(const plan::PlanSpec& p, std::size_t i, int n) {
  auto o = p.space.overrides(i);
  o.push_back(sweep::make_override("slo", Json{{"ttft_p99_s", *p.ttft_p99_s}, {"tpot_p99_s", *p.tpot_p99_s}}));
  o.push_back(sweep::make_override("workload.arrival.rate_per_s", *p.target.rate_per_s));
  o.push_back(sweep::make_override("deployment.replicas", n));
  return o;
}

bool meets(const plan::PlanSpec& p, const Json& report) {
  return report.at("/metrics/ttft_s/p99"_json_pointer).get<double>() <= *p.ttft_p99_s &&
         report.at("/metrics/tpot_s/p99"_json_pointer).get<double>() <= *p.tpot_p99_s;
}

TEST(Plan, WinnerEqualsBruteForce) {
  const plan::PlanSpec p = small_plan();
  ASSERT_EQ(p.candidates(), 6u);
  // Brute force: every candidate at every replica count up to the bound; the cheapest per hour that meets
  // the SLO (ties: fewer chips, then the earlier candidate).
  struct Best {
    std::size_t candidate = 0;
    int replicas = 0;
    double usd_per_hour = std::numeric_limits<double>::infinity();
    int chips = 0;
  } best;
  for (std::size_t i = 0; i < p.candidates(); ++i) {
    for (int n = 1; n <= p.max_replicas; ++n) {
      Json report;
      try {
        report = sweep::evaluate(p.space.base, overrides_at(p, i, n));
      } catch (const InfeasibleError&) {
        break;  // does not fit at any replica count
      }
      if (!meets(p, report)) continue;
      const double usd = report.at("/metrics/cost/usd_per_hour"_json_pointer).get<double>();
      const int chips = report.at("/deployment/chips"_json_pointer).get<int>();
      if (usd < best.usd_per_hour || (usd == best.usd_per_hour && chips < best.chips)) best = {i, n, usd, chips};
      break;  // more replicas of the same candidate only cost more
    }
  }
  ASSERT_GT(best.replicas, 0) << "the brute force found no feasible deployment: the test's plan is too hard";

  plan::PlanOptions o;
  o.jobs = 1;
  const plan::PlanResult r = plan::run_plan(p, o);
  const Json& winner = r.json.at("candidates").at(0);
  EXPECT_EQ(winner.at("candidate").get<std::size_t>(), best.candidate) << r.json.dump(2);
  EXPECT_EQ(winner.at("replicas").get<int>(), best.replicas);
  EXPECT_DOUBLE_EQ(winner.at("usd_per_hour").get<double>(), best.usd_per_hour);
  EXPECT_EQ(winner.at("chips").get<int>(), best.chips);
}

TEST(Plan, WinnerRunAtTargetMeetsSloWithItsOverrides) {
  const plan::PlanSpec p = small_plan();
  plan::PlanOptions o;
  o.jobs = 2;
  const plan::PlanResult r = plan::run_plan(p, o);
  ASSERT_FALSE(r.json.at("candidates").empty());
  for (const Json& c : r.json.at("candidates")) {
    std::vector<scenario::Override> set;
    for (const auto& [key, value] : c.at("overrides").items()) set.push_back(sweep::make_override(key, value));
    const Json report = sweep::evaluate(p.space.base, set);
    EXPECT_TRUE(meets(p, report)) << c.dump();
    EXPECT_DOUBLE_EQ(report.at("/metrics/ttft_s/p99"_json_pointer).get<double>(), c.at("ttft_p99_s").get<double>());
    EXPECT_DOUBLE_EQ(report.at("/metrics/tpot_s/p99"_json_pointer).get<double>(), c.at("tpot_p99_s").get<double>());
    EXPECT_DOUBLE_EQ(report.at("/metrics/cost/usd_per_hour"_json_pointer).get<double>(), c.at("usd_per_hour").get<double>());
    EXPECT_EQ(report.at("/deployment/chips"_json_pointer).get<int>(), c.at("chips").get<int>());
  }
}

TEST(Plan, TpotBoundPrunesWithoutSimulating) {
  // One decode step of Llama-3.1-8B in bf16 on one H100 reads every weight once: 16.06e9 bytes / 3.35e12 B/s
  // = 4.8 ms, above a 4 ms TPOT target whatever the batch; so no candidate at TP1 on H100 or L40S can run.
  std::string text = kPlan;
  text.replace(text.find("\"tpot_p99_s\": 0.03"), 18, "\"tpot_p99_s\": 0.004");
  const plan::PlanSpec p = small_plan(text);
  const plan::CandidateResult h100 = plan::evaluate_candidate(p, 0);  // hardware=h100-sxm, tp=1
  EXPECT_FALSE(h100.feasible);
  EXPECT_EQ(h100.skip, plan::SkipKind::tpot_bound) << h100.reason;
  EXPECT_EQ(h100.simulations, 0);
  ASSERT_TRUE(h100.miss_ratio);
  EXPECT_GT(*h100.miss_ratio, 16.06e9 / 3.35e12 / 0.004);
  EXPECT_NE(h100.reason.find("above the TPOT target of 4 ms"), std::string::npos) << h100.reason;

  // Requests of one output token have a TPOT of 0, so with them the bound says nothing about the p99.
  text.replace(text.find(R"({"distribution": "uniform", "min": 32, "max": 128})"), 50, R"({"distribution": "uniform", "min": 1, "max": 128})");
  const plan::CandidateResult ones = plan::evaluate_candidate(small_plan(text), 0);
  EXPECT_NE(ones.skip, plan::SkipKind::tpot_bound) << ones.reason;
  EXPECT_GT(ones.simulations, 0);
}

TEST(Plan, UnmeetableTargetNamesTheClosestMiss) {
  std::string text = kPlan;
  text.replace(text.find("\"ttft_p99_s\": 0.5"), 17, "\"ttft_p99_s\": 0.001");
  const plan::PlanSpec p = small_plan(text);
  plan::PlanOptions o;
  o.jobs = 2;
  const plan::PlanResult r = plan::run_plan(p, o);
  EXPECT_EQ(r.feasible, 0u);
  EXPECT_TRUE(r.json.at("candidates").empty());
  const Json& miss = r.json.at("closest_miss");
  ASSERT_FALSE(miss.is_null());
  // The closest miss is the skipped candidate with the smallest miss ratio.
  double smallest = std::numeric_limits<double>::infinity();
  for (const Json& s : r.json.at("skipped")) {
    if (!s.at("miss_ratio").is_null()) smallest = std::min(smallest, s.at("miss_ratio").get<double>());
  }
  EXPECT_EQ(miss.at("miss_ratio").get<double>(), smallest);
  EXPECT_GT(smallest, 1.0);
}

TEST(Plan, InvalidCandidateNamesKeyAndCandidate) {
  std::string text = kPlan;
  text.replace(text.find("[1, 2]"), 6, "[1, 3]");
  const plan::PlanSpec p = small_plan(text);
  // A parallelism the model cannot take is infeasible (skipped); a value the scenario format rejects is bad input.
  const plan::CandidateResult c = plan::evaluate_candidate(p, 1);
  EXPECT_EQ(c.skip, plan::SkipKind::infeasible);
  EXPECT_EQ(c.label, "hardware=h100-sxm, deployment.tensor_parallel=3");
  EXPECT_NE(c.reason.find("tensor_parallel 3 does not divide"), std::string::npos) << c.reason;

  text.replace(text.find("\"l40s\""), 6, "\"l40\"");
  const plan::CandidateResult typo = plan::evaluate_candidate(small_plan(text), 2);
  EXPECT_EQ(typo.skip, plan::SkipKind::invalid);
  EXPECT_EQ(typo.label, "hardware=l40, deployment.tensor_parallel=1");
  EXPECT_NE(typo.reason.find("l40"), std::string::npos) << typo.reason;
  plan::PlanOptions o;
  o.jobs = 1;
  const plan::PlanResult r = plan::run_plan(small_plan(text), o);
  EXPECT_EQ(r.invalid, 2u);
  EXPECT_EQ(r.first_problem.rfind("hardware=l40, deployment.tensor_parallel=1: ", 0), 0u) << r.first_problem;
}

TEST(Plan, ShardsMergeIntoTheFullRanking) {
  const plan::PlanSpec p = small_plan();
  plan::PlanOptions o;
  o.jobs = 1;
  o.top = 2;
  const Json full = plan::run_plan(p, o).json;
  std::vector<Json> shards;
  for (std::size_t s = 0; s < 3; ++s) {
    o.shard = sweep::Shard{s, 3};
    shards.push_back(plan::run_plan(p, o).json);
  }
  EXPECT_EQ(plan::merge_plan_outputs(shards, {"a", "b", "c"}).dump(2), full.dump(2));
  EXPECT_THROW(plan::merge_plan_outputs({shards[0], shards[2]}, {"a", "c"}), UsageError);
}

TEST(Plan, TraceAsIsPlansTheRecordedLoad) {
  // The base's trace replayed as recorded: no rate search; the fleet is grown from one replica.
  const std::string text = std::string(R"({"base": ")") + INFERSIM_SOURCE_DIR +
                           R"(/configs/scenarios/azure-conv-trace-replay.json", "target": {"trace": "as_is"},
      "slo": {"ttft_p99_s": 2.0, "tpot_p99_s": 0.1}, "search": {"hardware": ["mi300x"]}, "max_replicas": 8})";
  const plan::PlanSpec p = small_plan(text);
  const plan::CandidateResult c = plan::evaluate_candidate(p, 0);
  ASSERT_TRUE(c.feasible) << c.reason;
  EXPECT_FALSE(c.capacity_per_s);
  EXPECT_FALSE(c.overrides.contains("workload.arrival.rate_per_s"));
  std::vector<scenario::Override> set;
  for (const auto& [key, value] : c.overrides.items()) set.push_back(sweep::make_override(key, value));
  const Json report = sweep::evaluate(p.space.base, set);
  EXPECT_LE(report.at("/metrics/ttft_s/p99"_json_pointer).get<double>(), 2.0);
  EXPECT_LE(report.at("/metrics/tpot_s/p99"_json_pointer).get<double>(), 0.1);
  EXPECT_DOUBLE_EQ(report.at("/metrics/ttft_s/p99"_json_pointer).get<double>(), c.ttft_p99_s);
  if (c.replicas > 1) {
    // The fleet is the smallest: one replica fewer misses the SLO.
    for (auto& o : set) {
      if (o.path == "deployment.replicas") o = sweep::make_override("deployment.replicas", c.replicas - 1);
    }
    const Json fewer = sweep::evaluate(p.space.base, set);
    EXPECT_TRUE(fewer.at("/metrics/ttft_s/p99"_json_pointer).get<double>() > 2.0 ||
                fewer.at("/metrics/tpot_s/p99"_json_pointer).get<double>() > 0.1);
  }
}

TEST(Plan, PlanFileErrorsNameThePath) {
  try {
    (void)plan::parse_plan(R"({"base": {}, "target": {"rate_per_s": 1}, "slo": {"ttft_p99_s": 1},
                               "search": {"deployment.replicas": [1, 2]}, "objectve": "chips"})",
                           "p.json", ".");
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    std::string all;
    for (const auto& d : e.diagnostics()) all += format_diagnostic(d) + "\n";
    EXPECT_NE(all.find("/search/deployment.replicas"), std::string::npos) << all;
    EXPECT_NE(all.find("the planner sets deployment.replicas"), std::string::npos) << all;
    EXPECT_NE(all.find("did you mean \"objective\""), std::string::npos) << all;
  }
}

}  // namespace
}  // namespace infersim
