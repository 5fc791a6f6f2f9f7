// Property tests: random scenarios from a seeded generator (catalog models and chips, parallelism, data
// types, policies, limits, arrival processes, token distributions, traces, speculative decoding, disaggregated
// pools, hybrid CPU/GPU placement) go through the whole path of
// `infersim run` -- parse_scenario, simulate, make_report -- and every result must keep the invariants of
// docs/reliability.md: every request completes exactly once with all its tokens, time runs forward for
// each request, KV blocks never exceed the pool, every metric is finite, cost is not negative, TTFT <= E2E,
// and throughput x duration gives back the tokens. A draw the deployment cannot run must fail as a typed
// error (InfeasibleError), never as a crash.

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "infersim/config/catalog.hpp"
#include "infersim/core/error.hpp"
#include "infersim/core/random.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/scenario/scenario_loader.hpp"

namespace infersim {
namespace {

using config::Json;

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(Rng::stream(seed, 7)) {}

  /// With probability 1/3, replace the chip by an inline copy whose memory holds the weights and workspace
  /// plus the KV of only a few thousand tokens, so that the KV cache runs out and requests are preempted.
  void maybe_tighten_memory(Json& s, const scenario::ScenarioSpec& parsed) {
    if (rng_.uniform() >= 1.0 / 3) return;
    if (s["deployment"].contains("gpu_layers")) return;  // the accelerator holds only part of the model
    const auto& pool = parsed.simulation.pools.front();
    const parallelism::WorkspaceLimits limits{pool.scheduler.max_batched_tokens, pool.scheduler.max_batch_size};
    const auto plan = parallelism::plan_memory(pool.model, pool.hardware, pool.deployment, limits);
    const double kv_tokens = static_cast<double>(int_in(2500, 20000));
    const double need = plan.weight_bytes_per_chip + plan.workspace_bytes_per_chip + kv_tokens * plan.kv_bytes_per_token_per_chip;
    Json hw = config::load_document(config::catalog_path(config::CatalogKind::hardware, s["hardware"])).json;
    hw["memory"]["reserved_gb"] = 0;
    hw["memory"]["capacity_gb"] = need / pool.deployment.memory_utilization / 1e9;
    s["hardware"] = hw;
  }

  Json scenario(int index) {
    Json s;
    s["name"] = "property-" + std::to_string(index);
    s["model"] = pick(models_);
    s["hardware"] = pick(hardware_);
    Json d;
    d["tensor_parallel"] = pick<int>({1, 1, 2, 4, 8});
    d["pipeline_parallel"] = pick<int>({1, 1, 1, 2, 4});
    d["replicas"] = int_in(1, 3);
    const std::string activation = pick<std::string>({"bf16", "bf16", "fp16", "fp8"});
    d["activation_dtype"] = activation;
    d["weight_dtype"] = activation == "fp8" ? "fp8" : pick<std::string>({activation, activation, "fp8", "int4"});
    d["kv_cache_dtype"] = pick<std::string>({activation, "fp8"});
    d["memory_utilization"] = pick<double>({0.9, 0.9, 0.5, 0.3});
    d["router"] = pick<std::string>({"round_robin", "least_loaded"});
    s["deployment"] = d;
    Json sch;
    sch["policy"] = pick<std::string>({"static", "continuous", "chunked_prefill"});
    sch["max_batch_size"] = pick<int>({1, 4, 32, 256});
    sch["max_batched_tokens"] = pick<int>({64, 512, 2048, 8192});
    sch["block_size"] = pick<int>({1, 16, 16, 64});
    sch["scheduling_overhead_s"] = pick<double>({0.0, 0.0, 0.002});
    sch["batch_timeout_s"] = pick<double>({0.0, 0.05});
    // The efficiency techniques: speculative decoding, disaggregated pools, a hybrid CPU/GPU placement.
    switch (int_in(0, 9)) {
      case 0:
      case 1: {
        const std::string method = pick<std::string>({"draft_model", "medusa", "eagle"});
        Json sp{{"method", method}, {"num_speculative_tokens", int_in(1, 6)}};
        if (method == "draft_model") sp["draft_model"] = pick<std::string>({"llama-3.2-1b", "vicuna-68m"});
        if (coin()) {
          sp["acceptance_rate"] = pick<double>({0.0, 0.5, 0.8, 1.0});
        } else {
          Json rates = Json::array();
          for (int i = 0; i < sp["num_speculative_tokens"].get<int>(); ++i) rates.push_back(rng_.uniform());
          sp["acceptance_rate"] = rates;
        }
        if (method != "draft_model" && coin()) sp["num_candidate_tokens"] = sp["num_speculative_tokens"].get<int>() + 1 + int_in(0, 60);
        s["speculative"] = sp;
        break;
      }
      case 2: {
        sch["policy"] = "disaggregated";
        for (const char* role : {"prefill", "decode"}) {
          sch[role] = Json{{"tensor_parallel", pick<int>({1, 2, 4, 8})}, {"replicas", int_in(1, 2)},
                           {"max_batch_size", pick<int>({1, 8, 64})}};
          if (coin()) sch[role]["hardware"] = pick(hardware_);
        }
        sch["kv_transfer"] = Json{{"bandwidth_gb_per_s", pick<double>({1, 50, 400})}, {"latency_us", 10}};
        break;
      }
      case 3:
        if (s["hardware"] == "rtx-4090" || s["hardware"] == "a100-sxm-80gb" || s["hardware"] == "h100-sxm") {
          d["tensor_parallel"] = d["pipeline_parallel"] = d["replicas"] = 1;
          d["gpu_layers"] = int_in(1, 40);
          s["deployment"] = d;
        }
        break;
      default: break;
    }
    s["scheduler"] = sch;
    Json w;
    w["requests"] = int_in(10, 300);
    w["seed"] = int_in(0, 1000);
    const std::string process = pick<std::string>({"offline", "poisson", "constant", "gamma", "closed_loop", "trace"});
    Json a{{"process", process}};
    if (process == "poisson" || process == "constant" || process == "gamma") a["rate_per_s"] = pick<double>({0.5, 5, 50, 500});
    if (process == "gamma") a["cv"] = pick<double>({0.3, 1, 4});
    if (process == "closed_loop") {
      a["concurrency"] = int_in(1, 16);
      a["think_time_s"] = pick<double>({0.0, 0.5});
    }
    if (process == "trace") {
      a["path"] = trace_file(index);
      a["rate_scale"] = pick<double>({0.5, 1, 4});
    } else {
      w["input_tokens"] = tokens(2048);
      w["output_tokens"] = tokens(200);
    }
    w["arrival"] = a;
    s["workload"] = w;
    // A front end that batches arrivals before routing them (any process, closed loops included).
    if (int_in(0, 3) == 0) s["dispatch"] = Json{{"max_requests", pick<int>({1, 3, 64})}, {"timeout_s", pick<double>({0.0, 0.01, 0.3})}};
    if (coin()) s["slo"] = Json{{"ttft_p99_s", pick<double>({0.05, 1.0})}, {"tpot_p99_s", pick<double>({0.01, 0.2})}};
    if (coin()) s["pricing"] = Json{{"usd_per_chip_hour", pick<double>({0.0, 1.5})}};
    return s;
  }

 private:
  bool coin() { return rng_.uniform() < 0.5; }
  std::int64_t int_in(std::int64_t lo, std::int64_t hi) { return rng_.uniform_int(lo, hi); }
  template <typename T>
  T pick(const std::vector<T>& xs) {
    return xs[static_cast<std::size_t>(rng_.uniform_int(0, static_cast<std::int64_t>(xs.size()) - 1))];
  }

  Json tokens(std::int64_t most) {
    switch (int_in(0, 5)) {
      case 0: return int_in(1, most);
      case 1: return Json{{"distribution", "fixed"}, {"value", int_in(1, most)}};
      case 2: {
        const auto lo = int_in(1, most);
        return Json{{"distribution", "uniform"}, {"min", lo}, {"max", int_in(lo, most)}};
      }
      case 3: return Json{{"distribution", "normal"}, {"mean", static_cast<double>(int_in(1, most))}, {"std", 30.0},
                          {"min", 1}, {"max", most}};
      case 4: return Json{{"distribution", "lognormal"}, {"median", static_cast<double>(int_in(1, most / 2))},
                          {"sigma", 1.0}, {"max", most}};
      default: {
        Json values = Json::array();
        for (int i = 0; i < 5; ++i) values.push_back(int_in(1, most));
        return Json{{"distribution", "empirical"}, {"values", values}};
      }
    }
  }

  std::string trace_file(int index) {
    const std::string path = ::testing::TempDir() + "/property_trace_" + std::to_string(index) + ".csv";
    std::ofstream out(path);
    out << "arrival_s,input_tokens,output_tokens\n";
    double t = 0;
    for (int i = 0, n = static_cast<int>(int_in(5, 80)); i < n; ++i) {
      if (coin()) t += rng_.exponential(0.2);  // some rows share a time
      out << t << ',' << int_in(1, 2048) << ',' << int_in(1, 200) << '\n';
    }
    return path;
  }

  Rng rng_;
  const std::vector<std::string> models_ = config::catalog_names(config::CatalogKind::models);
  const std::vector<std::string> hardware_ = config::catalog_names(config::CatalogKind::hardware);
};

/// Every number in the report's metrics is finite and not negative.
void expect_finite_and_non_negative(const Json& j, const std::string& path) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) expect_finite_and_non_negative(*it, path + "." + it.key());
  } else if (j.is_number()) {
    const double v = j.get<double>();
    EXPECT_TRUE(std::isfinite(v)) << path;
    EXPECT_GE(v, 0) << path;
  }
}

void check_invariants(const scenario::ScenarioSpec& sc, const serving::SimulationResult& r, const Json& report) {
  const auto& w = sc.simulation.workload;
  const std::int64_t expected = w.process == workload::ArrivalProcess::trace ? r.requests : w.requests;
  ASSERT_EQ(r.requests, expected);
  ASSERT_EQ(r.completed, expected);  // every request completes ...
  double input = 0, output = 0;
  engine::SimTime end = 0;
  for (const auto& q : r.request_table) {
    ASSERT_TRUE(q.done());
    ASSERT_EQ(q.generated, q.output_tokens);  // ... once, with exactly the tokens it asked for
    ASSERT_LE(q.arrival, q.first_scheduled);  // time runs forward for every request
    ASSERT_LE(q.first_scheduled, q.first_token);
    ASSERT_LE(q.first_token, q.completion);  // TTFT <= E2E
    input += q.input_tokens;
    output += q.output_tokens;
    end = std::max(end, q.completion);
  }
  for (const auto& pool : r.pools) {
    for (const auto& rs : pool.replica_stats) {
      EXPECT_LE(rs.kv_blocks_peak, rs.kv_blocks_total);  // KV blocks never exceed the pool
      EXPECT_GE(rs.kv_block_ns, 0);
    }
  }
  const Json& m = report["metrics"];
  expect_finite_and_non_negative(m, "metrics");  // finite metrics, cost >= 0
  EXPECT_LE(m["ttft_s"]["max"].get<double>(), m["e2e_s"]["max"].get<double>());
  EXPECT_LE(m["ttft_s"]["mean"].get<double>(), m["e2e_s"]["mean"].get<double>() * (1 + 1e-12));
  EXPECT_LE(m["ttft_s"]["p50"].get<double>(), m["ttft_s"]["max"].get<double>());
  // Throughput x duration gives back the tokens and requests.
  const double duration = m["simulated_duration_s"].get<double>();
  EXPECT_DOUBLE_EQ(duration, engine::to_seconds(end));
  if (duration > 0) {
    const Json& t = m["throughput"];
    EXPECT_NEAR(t["output_tokens_per_s"].get<double>() * duration, output, 1e-9 * output);
    EXPECT_NEAR(t["input_tokens_per_s"].get<double>() * duration, input, 1e-9 * input);
    EXPECT_NEAR(t["requests_per_s"].get<double>() * duration, static_cast<double>(expected), 1e-9 * static_cast<double>(expected));
  }
  const Json& c = m["cost"];
  if (!c["total_usd"].is_null() && output > 0) {
    // All-in: every dollar over the output tokens; split: the input and output parts add up to the total.
    const double total = c["total_usd"].get<double>();
    EXPECT_NEAR(c["usd_per_million_output_tokens_all_in"].get<double>() * output / 1e6, total, 1e-9 * total + 1e-15);
    EXPECT_NEAR(c["usd_per_million_input_tokens"].get<double>() * input / 1e6 +
                    c["usd_per_million_output_tokens"].get<double>() * output / 1e6,
                total, 1e-9 * total + 1e-15);
  }
}

TEST(Property, RandomScenariosKeepTheInvariants) {
  const auto start = std::chrono::steady_clock::now();
  // INFERSIM_PROPERTY_SCENARIOS and INFERSIM_PROPERTY_SEED run a longer soak (docs/reliability.md).
  const char* n_env = std::getenv("INFERSIM_PROPERTY_SCENARIOS");
  const char* seed_env = std::getenv("INFERSIM_PROPERTY_SEED");
  const int kScenarios = n_env ? std::atoi(n_env) : 150;
  Generator gen(seed_env ? std::strtoull(seed_env, nullptr, 10) : 20261128);
  int simulated = 0, infeasible = 0, preempting = 0;
  std::int64_t requests = 0;
  for (int i = 0; simulated < kScenarios; ++i) {
    ASSERT_LT(i, 50 * kScenarios) << "the generator draws too few feasible scenarios";
    config::Document doc;
    doc.json = gen.scenario(i);
    doc.file = "property-" + std::to_string(i) + ".json";
    SCOPED_TRACE(doc.json.dump());
    scenario::ScenarioSpec sc;
    try {
      sc = scenario::parse_scenario(doc);
      gen.maybe_tighten_memory(doc.json, sc);
      sc = scenario::parse_scenario(doc);
    } catch (const InfeasibleError&) {
      ++infeasible;  // a deployment that does not divide or fit: a typed error is the right outcome
      continue;
    }
    serving::SimulationResult r;
    try {
      r = serving::simulate(sc.simulation);
    } catch (const InfeasibleError&) {
      ++infeasible;  // a trace request longer than the KV cache
      continue;
    } catch (const std::exception& e) {
      FAIL() << e.what() << "\nscenario: " << doc.json.dump();
    }
    const Json report = scenario::make_report(sc, r);
    check_invariants(sc, r, report);
    if (::testing::Test::HasFatalFailure()) return;
    ++simulated;
    requests += r.completed;
    preempting += r.preemptions > 0;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("property: %d scenarios simulated (%lld requests, %d with preemptions), %d infeasible draws, %.2f s\n",
              simulated, static_cast<long long>(requests), preempting, infeasible, seconds);
  EXPECT_GT(preempting, 0) << "no draw exercised preemption";
}

TEST(Property, SameScenarioSameResult) {
  Generator gen(7);
  for (int i = 0, done = 0; done < 5 && i < 100; ++i) {
    config::Document doc;
    doc.json = gen.scenario(i);
    doc.file = "determinism.json";
    try {
      const auto sc = scenario::parse_scenario(doc);
      const Json a = scenario::make_report(sc, serving::simulate(sc.simulation));
      const Json b = scenario::make_report(sc, serving::simulate(sc.simulation));
      EXPECT_EQ(a.dump(), b.dump()) << doc.json.dump();
      ++done;
    } catch (const InfeasibleError&) {
    }
  }
}

}  // namespace
}  // namespace infersim
