// Multi-step scheduling (scheduler.scheduler_steps, vLLM's num_scheduler_steps): one scheduler pass, and its
// host time, per window of up to N decode steps; arrivals join only when a window ends; a sequence that
// finishes inside a window keeps its slot and its KV until the window ends. Each value is derived by hand
// from the step structure, against the same simulation without multi-step.

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "infersim/config/catalog.hpp"
#include "infersim/core/error.hpp"
#include "infersim/scenario/scenario_loader.hpp"
#include "infersim/serving/serving_engine_loader.hpp"
#include "support/serving.hpp"

namespace infersim::serving {
namespace {

using testing::one_pool;

/// Every step of the run: when it started, when it ended, and its shape's sequences and context.
struct Steps : StepListener {
  struct Step {
    engine::SimTime start, end;
    std::int64_t prefill_tokens, decode_sequences, decode_context_tokens;
  };
  std::vector<Step> steps;
  void step(int, int, std::size_t, engine::SimTime start, engine::SimTime duration, const roofline::StepShape& shape) override {
    steps.push_back({start, start + duration, shape.prefill_tokens, shape.decode_sequences, shape.decode_context_tokens});
  }
};

/// A pool of llama-3.1-8b on one H100 whose requests come from `rows` ("arrival_s,input_tokens,output_tokens").
SimulationSpec traced(const std::string& name, const std::string& rows, std::int64_t scheduler_steps) {
  auto spec = one_pool("llama-3.1-8b", "h100-sxm", "continuous");
  const std::string path = ::testing::TempDir() + "multi_step_" + name + ".csv";
  std::FILE* f = std::fopen(path.c_str(), "w");
  EXPECT_NE(f, nullptr);
  if (f) {
    std::fprintf(f, "arrival_s,input_tokens,output_tokens\n%s", rows.c_str());
    std::fclose(f);
  }
  spec.workload.process = workload::ArrivalProcess::trace;
  spec.workload.trace.path = path;
  spec.workload.trace.format = "csv";
  spec.pools[0].scheduler.scheduler_steps = scheduler_steps;
  return spec;
}

/// An engine whose only host time is `per_step_s` per scheduler pass (CUDA graphs: no launch time).
ServingEngineSpec pass_engine(double per_step_s) {
  ServingEngineSpec e;
  e.name = "pass";
  e.host_time.per_step_s = per_step_s;
  e.launch.cuda_graphs = GraphMode::all;
  return e;
}

TEST(MultiStep, HostTimeIsPaidOncePerWindow) {
  // 4 requests of 100 prompt and 10 output tokens at t = 0: one prefill step (all four, the first token of
  // each), then 9 decode steps of the same 4 sequences. Device time is the same with or without multi-step;
  // the host time is 1 pass for the prefill plus one per window: N = 1: 1 + 9 passes; N = 4: windows of
  // 4, 4 and 1 decode steps, 1 + ceil(9 / 4) = 4 passes.
  const std::string rows = "0,100,10\n0,100,10\n0,100,10\n0,100,10\n";
  const double h = 2e-3;
  for (const std::int64_t n : {1, 4, 9, 32}) {
    auto spec = traced("host", rows, n);
    const auto device_only = simulate(spec);
    spec.pools[0].engine = pass_engine(h);
    Steps s;
    const auto with = simulate(spec, &s);
    ASSERT_EQ(s.steps.size(), 10u) << n;
    const double passes = 1.0 + static_cast<double>((9 + n - 1) / n);
    EXPECT_NEAR(with.e2e.max - device_only.e2e.max, passes * h, 10 * 2e-9) << n;  // steps round to whole ns
    EXPECT_NEAR(with.pools[0].replica_stats[0].host_s, passes * h, 1e-12) << n;
    // The windows' first decode steps carry the host time: step 1 (and 5, 9 for N = 4).
    const double step1 = engine::to_seconds(s.steps[1].end - s.steps[1].start);
    const double step2 = engine::to_seconds(s.steps[2].end - s.steps[2].start);
    if (n > 1) {
      EXPECT_NEAR(step1 - step2, h, 1e-6) << n;  // the device parts differ by one token of context a sequence
    }
  }
}

TEST(MultiStep, AnArrivalMidWindowWaitsForTheWindowToEnd) {
  // Request A (100 prompt, 40 output tokens) alone: a prefill step, then windows of 8 decode steps. Request
  // B arrives 1 us after A's 2nd decode step ends, inside A's first window (decode steps 1-8). Without
  // multi-step B is admitted when the step it arrived in (decode step 3) ends; with 8 steps a window, when
  // decode step 8 ends. A's steps before that do not depend on B, so A's run alone gives both times.
  for (const std::int64_t n : {1, 8}) {
    Steps alone;
    simulate(traced("alone" + std::to_string(n), "0,100,40\n", n), &alone);
    ASSERT_GT(alone.steps.size(), 9u);
    const engine::SimTime arrival = alone.steps[2].end + 1000;
    char rows[128];
    std::snprintf(rows, sizeof rows, "0,100,40\n%.9f,50,5\n", engine::to_seconds(arrival));
    const auto both = simulate(traced("both" + std::to_string(n), rows, n));
    const RequestRecord& b = both.request_table.at(1);
    ASSERT_EQ(b.arrival, arrival);
    const engine::SimTime expected = n == 1 ? alone.steps[3].end : alone.steps[8].end;
    EXPECT_EQ(b.first_scheduled, expected) << n;
  }
}

TEST(MultiStep, ASequenceFinishingInAWindowKeepsItsSlotAndKvUntilTheWindowEnds) {
  // A (100 prompt, 4 output tokens) and B (100, 20) start together: a prefill step gives each its first
  // token, then A's tokens 2, 3 and 4 come from decode steps 1, 2 and 3. With windows of 8, decode steps 4-8
  // still run A (its KV of 103 tokens read, nothing emitted) and only step 9, a new window, runs B alone.
  // Without multi-step A leaves after decode step 3. A completes at the end of decode step 3 either way.
  for (const std::int64_t n : {1, 8}) {
    Steps s;
    const auto r = simulate(traced("finish" + std::to_string(n), "0,100,4\n0,100,20\n", n), &s);
    ASSERT_EQ(s.steps.size(), 20u) << n;  // 1 prefill + 19 decode steps of B
    EXPECT_EQ(r.request_table.at(0).completion, s.steps[3].end) << n;
    for (std::size_t k = 1; k < s.steps.size(); ++k) {
      const std::int64_t expected = k <= 3 || (n == 8 && k <= 8) ? 2 : 1;
      EXPECT_EQ(s.steps[k].decode_sequences, expected) << "N " << n << ", decode step " << k;
    }
    // Decode step 4 reads B's 103 cached tokens, and with multi-step A's 103 too.
    EXPECT_EQ(s.steps[4].decode_context_tokens, n == 8 ? 206 : 103) << n;
  }
}

TEST(MultiStep, TheWindowsPassReservesItsKvBlocksUpFront) {
  // One request of 95 prompt and 10 output tokens, blocks of 16 tokens. Without multi-step each decode step
  // reserves room for its one token: the last (the 9th, at 103 cached tokens) holds ceil(104 / 16) = 7
  // blocks. With windows of 32 the first decode pass reserves all 32 tokens, as vLLM's lookahead slots:
  // ceil((95 + 32) / 16) = 8 blocks, though the request ends after 9 of them.
  for (const auto& [n, blocks] : {std::pair<std::int64_t, std::int64_t>{1, 7}, {32, 8}}) {
    const auto r = simulate(traced("reserve" + std::to_string(n), "0,95,10\n", n));
    EXPECT_EQ(r.pools[0].replica_stats[0].kv_blocks_peak, blocks) << n;
  }
}

TEST(MultiStep, TheEngineGivesTheDefaultAndTheScenarioOverridesIt) {
  for (const auto& name : config::catalog_names(config::CatalogKind::engines)) {
    EXPECT_GE(load_serving_engine(name).scheduler.scheduler_steps, 1) << name;
  }
  config::Document doc;
  doc.file = "inline.json";
  doc.json = config::Json::parse(R"({"model": "llama-3.1-8b", "hardware": "h100-sxm",
      "workload": {"requests": 10, "arrival": {"process": "offline"}, "input_tokens": 100, "output_tokens": 10}})");
  EXPECT_EQ(scenario::parse_scenario(doc).simulation.pools.at(0).scheduler.scheduler_steps, 1);
  EXPECT_FALSE(scenario::parse_scenario(doc).resolved["scheduler"].contains("scheduler_steps"));
  // An inline engine profile's default ...
  config::Json engine = config::load_document(config::catalog_path(config::CatalogKind::engines, "vllm")).json;
  engine["scheduler"]["scheduler_steps"] = 11;
  doc.json["engine"] = engine;
  const auto from_engine = scenario::parse_scenario(doc);
  EXPECT_EQ(from_engine.simulation.pools.at(0).scheduler.scheduler_steps, 11);
  EXPECT_EQ(from_engine.resolved["scheduler"]["scheduler_steps"], 11);
  // ... and the scenario's scheduler key wins over it.
  doc.json["scheduler"] = {{"scheduler_steps", 9}};
  EXPECT_EQ(scenario::parse_scenario(doc).simulation.pools.at(0).scheduler.scheduler_steps, 9);
}

TEST(MultiStep, ScenariosItCannotApplyToAreRefused) {
  auto refused = [](const char* text, const char* fragment) {
    config::Document doc;
    doc.file = "inline.json";
    doc.json = config::Json::parse(text);
    try {
      scenario::parse_scenario(doc);
      ADD_FAILURE() << "accepted " << text;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  refused(R"({"model": "llama-3.1-8b", "hardware": "h100-sxm", "scheduler": {"policy": "static", "scheduler_steps": 8},
      "workload": {"requests": 10, "arrival": {"process": "offline"}, "input_tokens": 100, "output_tokens": 10}})",
          "/scheduler/scheduler_steps");
  refused(R"({"model": "llama-3.1-8b", "hardware": "h100-sxm", "scheduler": {"scheduler_steps": 0},
      "workload": {"requests": 10, "arrival": {"process": "offline"}, "input_tokens": 100, "output_tokens": 10}})",
          "/scheduler/scheduler_steps");
  refused(R"({"model": "llama-3.1-8b", "hardware": "h100-sxm", "scheduler": {"scheduler_steps": 4},
      "speculative": {"method": "draft_model", "draft_model": "llama-3.2-1b", "num_speculative_tokens": 3, "acceptance_rate": 0.5},
      "workload": {"requests": 10, "arrival": {"process": "offline"}, "input_tokens": 100, "output_tokens": 10}})",
          "multi-step");
}

}  // namespace
}  // namespace infersim::serving
