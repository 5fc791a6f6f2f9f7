// Past bugs: every crash, hang or unbounded allocation found by fuzzing (tests/fuzz) or by review stays
// fixed. Each test names how it was found; the inputs that crashed a fuzz target are also kept in
// tests/fuzz/corpus/<target>/regression-*, which ctest replays (fuzz_replay.<target>).

#include <gtest/gtest.h>

#include <functional>
#include <sstream>
#include <string>
#include <utility>

#include "infersim/config/json_reader.hpp"
#include "infersim/core/error.hpp"
#include "infersim/core/limits.hpp"
#include "infersim/core/random.hpp"
#include "infersim/engine/simulator.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/scenario/scenario_loader.hpp"
#include "infersim/serving/metrics.hpp"
#include "infersim/serving/simulation.hpp"
#include "infersim/workload/trace.hpp"
#include "support/errors.hpp"
#include "support/serving.hpp"

namespace infersim {
namespace {

using config::Json;

const char* kScenario = R"({"model": "llama-3.2-1b", "hardware": "h100-sxm",
  "workload": {"requests": 20, "arrival": {"process": "poisson", "rate_per_s": 10},
               "input_tokens": 100, "output_tokens": 10}})";

config::Document document(const std::string& text) {
  config::Document doc;
  doc.json = config::parse_json_text(text, "s.json");
  doc.file = "s.json";
  return doc;
}

using testing::message_of;

// Fuzzing (model, scenario and trace targets, first minute): a number beyond the range of a double, such as
// 1e400, made nlohmann throw out_of_range, which is not a parse_error: `infersim validate` of such a file
// and `--set key=1e999` ended as "internal error" (exit 3) instead of a message naming the place.
TEST(PastBugs, NumberBeyondDoubleIsAConfigError) {
  try {
    config::parse_json_text("{\n  \"num_layers\": 1e400\n}", "m.json");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("m.json: invalid JSON at line:column 2:17: the number 1e400"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(scenario::parse_override("workload.arrival.rate_per_s=1e999"), UsageError);
  workload::TraceSpec spec;
  spec.path = "t.jsonl";
  std::istringstream jsonl("{\"arrival_s\": 0, \"input_tokens\": 1e999, \"output_tokens\": 1}\n");
  EXPECT_THROW(workload::parse_trace(jsonl, spec, 0), ConfigError);
}

// Review: copying a JSON value recurses once per level of nesting, so a file of 100,000 '[' would overflow
// the stack when an inline model is copied; nesting is now limited (limits::kMaxJsonDepth).
TEST(PastBugs, DeepNestingIsAConfigErrorNotAStackOverflow) {
  const std::string deep = "{\"model\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_NE(message_of([&] { config::parse_json_text(deep, "deep.json"); }).find("nest deeper than 100 levels"),
            std::string::npos);
  const std::string fine = std::string(100, '[') + std::string(100, ']');
  EXPECT_NO_THROW(config::parse_json_text(fine, "fine.json"));
  EXPECT_NO_THROW(config::parse_json_text("[\"[[[[[[\\\"[[[[\"]", "brackets_in_strings.json"));
}

// Review: a trace or token-count file without line breaks (a binary file, /dev/zero) was read into one
// string until memory ran out; lines are now bounded and a NUL byte is reported as binary data.
TEST(PastBugs, TraceLinesAreBounded) {
  workload::TraceSpec spec;
  spec.path = "zeros.csv";
  std::istringstream zeros(std::string(3 << 20, 'x'));
  EXPECT_NE(message_of([&] { workload::parse_trace(zeros, spec, 0); }).find("zeros.csv:1: line longer than"),
            std::string::npos);
  const char with_nul[] = "arrival_s,input_tokens,output_tokens\n0,1\0,1\n";
  std::istringstream nul(std::string(with_nul, sizeof with_nul - 1));
  EXPECT_NE(message_of([&] { workload::parse_trace(nul, spec, 0); }).find("zeros.csv:2: binary data"), std::string::npos);
}

// Review: `infersim validate /dev/zero` read the device into one string until memory ran out, and a folder
// was reported as an empty file. Config files are read in blocks, stop at binary data and at 256 MiB; a
// device, a FIFO (whose open blocks until a writer comes) or a folder is refused before it is opened.
TEST(PastBugs, ConfigFilesAreReadBounded) {
  EXPECT_NE(message_of([] { config::parse_json_file("/dev/zero"); }).find("/dev/zero: is a character device, not a regular file"),
            std::string::npos);
  std::istringstream zeros(std::string(100, '\0'));
  EXPECT_NE(message_of([&] { config::parse_json_stream(zeros, "zeros"); }).find("zeros: binary data"), std::string::npos);
  EXPECT_NE(message_of([] { config::parse_json_file("/tmp"); }).find("is a folder"), std::string::npos);
}

// Review: tensor_parallel x pipeline_parallel x replicas was computed in int (4096 x 4096 x 100000 overflows,
// undefined behaviour) and 100,000 replicas of 4096 pipeline lanes would allocate ~100 GB.
TEST(PastBugs, ChipCountIsBounded) {
  Json j = Json::parse(kScenario);
  j["deployment"] = Json{{"tensor_parallel", 4096}, {"pipeline_parallel", 4096}, {"replicas", 100000}};
  config::Document doc = document(j.dump());
  EXPECT_NE(message_of([&] { scenario::parse_scenario(doc); }).find("/deployment/replicas"), std::string::npos);
}

// Review: "requests": 1e9 reserved 64 GB for the request table before simulating anything.
TEST(PastBugs, RequestCountIsBounded) {
  Json j = Json::parse(kScenario);
  j["workload"]["requests"] = 1e9;
  config::Document doc = document(j.dump());
  EXPECT_NE(message_of([&] { scenario::parse_scenario(doc); }).find("[1, 100000000]"), std::string::npos);
}

// Review: simulated time is int64 nanoseconds (292 years). A rate of 1e-9 per second, a trace in
// milliseconds read as seconds, or a chip with a bandwidth of 1e-300 TB/s pushed times to kNever and adding
// a step to them overflowed (undefined behaviour). Arrivals and steps now stop at the horizon with a message.
TEST(PastBugs, SimulatedTimeStopsAtTheHorizon) {
  Json slow = Json::parse(kScenario);
  slow["workload"]["arrival"]["rate_per_s"] = 1e-9;
  config::Document doc = document(slow.dump());
  EXPECT_NE(message_of([&] { scenario::parse_scenario(doc); }).find("beyond the simulation horizon"), std::string::npos);

  workload::TraceSpec spec;
  spec.path = "ms.csv";
  std::istringstream far("arrival_s,input_tokens,output_tokens\n0,1,1\n2e9,1,1\n");
  EXPECT_NE(message_of([&] { workload::parse_trace(far, spec, 0); }).find("ms.csv:3:"), std::string::npos);

  Json crawl = Json::parse(kScenario);
  crawl["hardware"] = Json::parse(R"({"name": "crawl", "kind": "npu", "source": "test",
    "compute": {"peak_tflops": {"bf16": 1e-12}, "gemm_tile_rows": 1, "systolic_array_size": null},
    "memory": {"type": "DDR", "capacity_gb": 100, "bandwidth_tb_per_s": 1e-300, "on_chip_sram_mb": null, "reserved_gb": 0},
    "interconnect": {"scale_up_bandwidth_gb_per_s": null, "scale_up_latency_us": 1, "scale_up_domain_chips": 1,
                     "scale_out_bandwidth_gb_per_s": null, "scale_out_latency_us": 1},
    "power": {"tdp_w": null, "idle_w": null}, "price": {"usd_per_chip_hour": null},
    "efficiency": {"compute": 1, "memory": 1, "network": 1, "kernel_launch_overhead_us": 0}})");
  const auto sc = scenario::parse_scenario(document(crawl.dump()));
  EXPECT_NE(message_of([&] { serving::simulate(sc.simulation); }).find("past its horizon"), std::string::npos);

  engine::Simulator sim;
  sim.schedule_at(engine::kNever - 5, [] {});
  sim.run();
  EXPECT_THROW(sim.schedule_after(10, [] {}), std::logic_error);  // the engine refuses to overflow
}

// Property test (random scenario 325 of seed 20261128): with pipeline parallelism each lane is a micro-batch
// with its own scheduler, all sharing the replica's KV cache. With chunked prefill and a cache of a few
// thousand tokens every lane came to hold a partly prefilled prompt and wait for blocks the others held:
// the events ran out with no request completed, and the report averaged over nothing. The replica now
// preempts its newest request when every lane is stalled, oldest lanes first (a first fix that let the
// preempted lane re-admit at once livelocked: this test hung).
TEST(PastBugs, PipelineLanesWithATightCacheDoNotStall) {
  auto spec = testing::one_pool("llama-3.1-8b", "h100-sxm", "chunked_prefill", 256, 64);
  auto& pool = spec.pools.front();
  pool.deployment.pipeline_parallel = 4;
  pool.scheduler.block_size = 64;
  const parallelism::WorkspaceLimits limits{pool.scheduler.max_batched_tokens, pool.scheduler.max_batch_size};
  const auto plan = parallelism::plan_memory(pool.model, pool.hardware, pool.deployment, limits);
  pool.hardware.memory.reserved_bytes = 0;
  pool.hardware.memory.capacity_bytes = (plan.weight_bytes_per_chip + plan.workspace_bytes_per_chip +
                                         2600 * plan.kv_bytes_per_token_per_chip) / pool.deployment.memory_utilization;
  auto& w = spec.workload;
  w.process = workload::ArrivalProcess::closed_loop;
  w.concurrency = 4;
  w.requests = 40;
  w.input = workload::TokenDistribution::uniform_between(1131, 1421);
  w.output = workload::TokenDistribution::fixed_value(17);
  const auto r = serving::simulate(spec);
  EXPECT_EQ(r.completed, 40);
  EXPECT_GT(r.preemptions, 0);
  EXPECT_LE(r.pools[0].kv_blocks_per_replica, 41);  // the cache holds about two prompts, not four
}

/// Summaries of the same multiset of inter-token gaps: equal percentiles, and the mean up to the order of its sum.
void expect_same_gaps(const serving::Distribution& a, const serving::Distribution& b) {
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.p50, b.p50);
  EXPECT_EQ(a.p90, b.p90);
  EXPECT_EQ(a.p99, b.p99);
  EXPECT_EQ(a.max, b.max);
  EXPECT_NEAR(a.mean, b.mean, 1e-12 * b.mean);
}

// Scale test (10,000,000 requests at low load): inter-token gaps were kept as one 16-byte run per step, 2.5 GB
// for the run's 158 million steps (4.7 GB peak while the vector doubled). Past a threshold the runs are now
// sorted and merged by gap; the summary must not change.
TEST(PastBugs, CompactedGapRunsGiveTheSameSummary) {
  serving::GapRecorder compacting(1000), plain(std::size_t{1} << 30);
  Rng rng = Rng::stream(5, 1);
  for (int i = 0; i < 100000; ++i) {
    const engine::SimTime gap = 1000 * rng.uniform_int(1, 3000) + (i % 7 == 0 ? rng.uniform_int(0, 1LL << 40) : 0);
    const auto count = static_cast<std::uint64_t>(rng.uniform_int(1, 4));
    compacting.add(gap, count);
    plain.add(gap, count);
  }
  EXPECT_LT(compacting.runs(), plain.runs() / 4);
  expect_same_gaps(compacting.summarize(), plain.summarize());
}

// A compaction now sorts only the runs added since the one before and merges them into those it left
// sorted (BM_LightLoad spent 15% of its time re-sorting them); a summary reorders the runs, and recording
// may go on after it. Against a recorder that never compacts, in two rounds.
TEST(PastBugs, GapRunsCompactedInStepsAndSummarizedMidwayGiveTheSameSummary) {
  serving::GapRecorder compacting(64), plain(std::size_t{1} << 30);
  for (const auto& [from, to] : {std::pair{0, 5000}, std::pair{5000, 12000}}) {
    for (int i = from; i < to; ++i) {
      // 331 distinct gaps in a scrambled order, repeated within and across compactions, and a few far larger.
      const engine::SimTime gap = 1000 + 7 * ((i * 7919) % 331) + (i % 97 == 0 ? (std::int64_t{1} << 33) : 0);
      const auto count = static_cast<std::uint64_t>(1 + i % 3);
      compacting.add(gap, count);
      plain.add(gap, count);
    }
    EXPECT_LT(compacting.runs(), plain.runs() / 4);
    expect_same_gaps(compacting.summarize(), plain.summarize());
  }
}

}  // namespace
}  // namespace infersim
