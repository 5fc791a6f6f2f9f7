// Serving engines: the host-time formula against hand-worked steps, the catalog, and what an engine does to a
// simulated request (the difference it makes, derived step by step).

#include <gtest/gtest.h>

#include <cmath>

#include "infersim/config/catalog.hpp"
#include "infersim/core/error.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "infersim/roofline/step_report.hpp"
#include "infersim/scenario/scenario_loader.hpp"
#include "infersim/serving/serving_engine_loader.hpp"
#include "support/errors.hpp"
#include "support/serving.hpp"

namespace infersim::serving {
namespace {

ServingEngineSpec hand_engine() {
  ServingEngineSpec e;
  e.name = "hand";
  e.host_time.per_step_s = 1e-3;
  e.host_time.per_sequence_s = 10e-6;
  e.host_time.per_token_s = 1e-6;
  e.host_time.per_forward_pass_s = 0.5e-3;
  e.host_time.speculative_step_s = 2e-3;
  e.launch.cuda_graphs = GraphMode::all;
  e.launch.eager_s_per_layer = 100e-6;
  return e;
}

/// Ten requests of 100 + 10 tokens, all at t = 0, on llama-3.1-8b / h100-sxm, as an inline scenario file.
config::Document small_offline_scenario() {
  config::Document doc;
  doc.file = "inline.json";
  doc.json = config::Json::parse(R"({"model": "llama-3.1-8b", "hardware": "h100-sxm",
      "workload": {"requests": 10, "arrival": {"process": "offline"},
                   "input_tokens": 100, "output_tokens": 10}})");
  return doc;
}

/// One request of `prompt` + `output` tokens, alone at t = 0, on llama-3.1-8b / h100-sxm without an engine.
SimulationSpec one_request(std::int64_t prompt, std::int64_t output) {
  auto spec = testing::one_pool("llama-3.1-8b", "h100-sxm", "continuous");
  testing::fixed_tokens(spec, prompt, output);
  spec.workload.requests = 1;
  spec.workload.process = workload::ArrivalProcess::offline;
  return spec;
}

TEST(ServingEngine, HostTimeOfADecodeStepByHand) {
  const ServingEngineSpec e = hand_engine();
  const auto shape = roofline::StepShape::decode(8, 100);
  // 1 ms + 8 sequences x 10 us + 8 tokens x 1 us; a CUDA graph launches nothing per layer.
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 2e-3), 1e-3 + 80e-6 + 8e-6, 1e-15);
}

TEST(ServingEngine, AttentionRanksScheduleTheirOwnShare) {
  const ServingEngineSpec e = hand_engine();
  const auto shape = roofline::StepShape::decode(20, 100);
  // 8 data-parallel attention ranks, one scheduler each: the busiest holds ceil(20 / 8) = 3 sequences.
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 2e-3, 8), 1e-3 + 3 * 10e-6 + 3 * 1e-6, 1e-15);
}

TEST(ServingEngine, EachAttentionRankReplaysItsOwnGraphs) {
  ServingEngineSpec e = hand_engine();
  e.host_time = {};
  e.launch.cuda_graphs = GraphMode::decode;
  e.launch.cuda_graph_max_batch_size = 160;
  const auto shape = roofline::StepShape::decode(1000, 100);
  // One rank: 1,000 sequences exceed the captured 160, so 32 layers x 100 us launch eagerly, 3.2 ms against a
  // 1 ms device step: 2.2 ms exposed. Eight ranks of ceil(1000 / 8) = 125 sequences each replay graphs: nothing.
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 1e-3), 2.2e-3, 1e-15);
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 1e-3, 8), 0.0, 1e-15);
  // Five ranks of 200 exceed the captured size again.
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 1e-3, 5), 2.2e-3, 1e-15);
}

TEST(ServingEngine, PrefillTokensAndSequencesCount) {
  const ServingEngineSpec e = hand_engine();
  roofline::StepShape shape = roofline::StepShape::prefill(3, 500);  // 3 sequences, 1,500 tokens
  shape.add_decode(40);                                             // and one decoding sequence
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 0.05), 1e-3 + 4 * 10e-6 + 1501 * 1e-6, 1e-15);
}

TEST(ServingEngine, StreamingAddsItsTermPerSequenceOnlyWhenResponsesStream) {
  ServingEngineSpec e = hand_engine();
  e.host_time.per_streamed_sequence_s = 12e-6;
  roofline::StepShape shape = roofline::StepShape::decode(900, 300);
  shape.add_prefill_chunk(250, 0, true);  // 901 sequences, 1,150 tokens
  // Not streaming: 1 ms + 901 x 10 us + 1,150 x 1 us = 11.16 ms.
  const double plain = 1e-3 + 901 * 10e-6 + 1150 * 1e-6;
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 0.15), plain, 1e-15);
  // Streaming: every one of the 901 sequences also costs 12 us, 10.812 ms more (21.972 ms in all).
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 0.15, 1, true, true), plain + 901 * 12e-6, 1e-15);
  // Eight attention ranks: the busiest schedules ceil(901 / 8) = 113 sequences, and streams them.
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 0.15, 8, true, true),
              1e-3 + 113 * (10e-6 + 12e-6) + 144 * 1e-6, 1e-15);
  // A step that continues a multi-step window pays no host work, streamed or not.
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 0.15, 1, false, true), 0.0, 1e-15);
}

TEST(ServingEngine, EagerLaunchesShowOnlyWhenSlowerThanTheDevice) {
  ServingEngineSpec e = hand_engine();
  e.launch.cuda_graphs = GraphMode::none;
  e.host_time = {};
  const auto shape = roofline::StepShape::decode(1, 100);
  // 32 layers x 100 us = 3.2 ms of launches: a 2 ms device step waits 1.2 ms for them ...
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 2e-3), 1.2e-3, 1e-15);
  // ... a 5 ms one hides them.
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 5e-3), 0.0, 1e-15);
}

TEST(ServingEngine, DraftPassesAndVerificationAddHostTime) {
  const ServingEngineSpec e = hand_engine();
  const auto shape = roofline::StepShape::decode(1, 100, 5);  // 5 tokens verified
  // 4 draft passes beyond the target's: 4 x 0.5 ms; the verification step 2 ms.
  EXPECT_NEAR(host_overhead_s(e, shape, {5, 40, true}, 1e-3), 1e-3 + 10e-6 + 5e-6 + 4 * 0.5e-3 + 2e-3, 1e-15);
}

TEST(ServingEngine, OverlappedHostTimeHidesBehindTheDevice) {
  ServingEngineSpec e = hand_engine();
  e.host_time.overlaps_device = true;
  const auto shape = roofline::StepShape::decode(8, 100);
  const double host = 1e-3 + 80e-6 + 8e-6;
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 5e-3), 0.0, 1e-15);          // hidden
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 0.4e-3), host - 0.4e-3, 1e-15);  // the excess shows
}

TEST(ServingEngine, APartlyOverlappedHostTimeKeepsTheRestOnThePath) {
  // A share s of the host time runs beside the device step, the rest after it: max(device, s host) + (1 - s) host,
  // so the overhead beyond the device is (1 - s) host + max(0, s host - device).
  ServingEngineSpec e = hand_engine();
  e.host_time.overlaps_device = true;
  e.host_time.overlapped_share = 0.25;
  const auto shape = roofline::StepShape::decode(8, 100);
  const double host = 1e-3 + 80e-6 + 8e-6;  // as above: 1.088 ms
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 5e-3), 0.75 * host, 1e-15);  // its share hidden
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 0.1e-3), 0.75 * host + (0.25 * host - 0.1e-3), 1e-15);
  // The two ends: share 1 is the full overlap, share 0 the serial engine.
  e.host_time.overlapped_share = 1;
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 5e-3), 0.0, 1e-15);
  e.host_time.overlapped_share = 0;
  EXPECT_NEAR(host_overhead_s(e, shape, {1, 32, false}, 5e-3), host, 1e-15);
}

TEST(ServingEngine, GraphModes) {
  LaunchSpec l;
  l.cuda_graphs = GraphMode::decode;
  l.cuda_graph_max_batch_size = 160;
  EXPECT_TRUE(runs_as_graph(l, roofline::StepShape::decode(160, 10)));
  EXPECT_FALSE(runs_as_graph(l, roofline::StepShape::decode(161, 10)));   // above the captured sizes
  EXPECT_FALSE(runs_as_graph(l, roofline::StepShape::prefill(1, 10)));    // decode graphs only
  l.cuda_graphs = GraphMode::all;
  EXPECT_TRUE(runs_as_graph(l, roofline::StepShape::prefill(1, 10)));
  l.cuda_graphs = GraphMode::none;
  EXPECT_FALSE(runs_as_graph(l, roofline::StepShape::decode(1, 10)));
}

TEST(ServingEngine, EveryCatalogEntryLoadsWithSourcesAndTheDefaultIsNeverFree) {
  const auto names = config::catalog_names(config::CatalogKind::engines);
  for (const char* required : {"vllm", "sglang", "tensorrt-llm", "llama.cpp", "hf-transformers"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
  }
  for (const auto& name : names) {
    const ServingEngineSpec e = load_serving_engine(name);
    EXPECT_EQ(e.name, name);
    EXPECT_FALSE(e.source.empty()) << name;
    EXPECT_FALSE(e.version.empty()) << name;
  }
  // A single-sequence decode step of a small model costs the default engine host time.
  const ServingEngineSpec d = load_serving_engine(std::string(kDefaultEngine));
  EXPECT_GT(host_overhead_s(d, roofline::StepShape::decode(1, 100), {1, 16, false}, 1e-3), 0.0);
}

// vllm-v1's host time as docs/accuracy.md states it (450 us a step, fitted at 1-8 clients; 22 us a sequence, fitted
// on unstreamed offline runs with every sequence resident; 18 us more a streamed sequence, fitted at 1,000 streamed
// prompts at once; no per-token term): a decode step of 1,000 sequences (above the 512 captured sizes: 36 layers
// launched eagerly at 100 us, 3.6 ms, hidden under 50 ms of device time) costs 0.45 + 1,000 x 0.022 = 22.45 ms of host
// time unstreamed and 0.45 + 1,000 x (0.022 + 0.018) = 40.45 ms streamed; a captured step of 8 sequences 0.45 + 8 x
// 0.022 = 0.626 ms and 0.45 + 8 x 0.040 = 0.77 ms.
TEST(ServingEngine, VllmV1HostTimeAtSmallAndLargeBatch) {
  const ServingEngineSpec v1 = load_serving_engine("vllm-v1");
  const auto large = roofline::StepShape::decode(1000, 300), small = roofline::StepShape::decode(8, 300);
  EXPECT_NEAR(host_overhead_s(v1, large, {1, 36, false}, 0.05, 1, true, false), 22.45e-3, 1e-12);
  EXPECT_NEAR(host_overhead_s(v1, large, {1, 36, false}, 0.05, 1, true, true), 40.45e-3, 1e-12);
  EXPECT_NEAR(host_overhead_s(v1, small, {1, 36, false}, 0.05, 1, true, false), 0.626e-3, 1e-12);
  EXPECT_NEAR(host_overhead_s(v1, small, {1, 36, false}, 0.05, 1, true, true), 0.77e-3, 1e-12);
}

TEST(ServingEngine, OneRequestPaysTheHostTimeOfEveryStep) {
  // One request of P prompt tokens and N output tokens, alone: one prefill step and N - 1 decode steps.
  // With the engine its end-to-end latency grows by N x per_step + N x per_sequence + (P + N - 1) x per_token.
  const std::int64_t P = 300, N = 20;
  auto spec = one_request(P, N);
  const auto without = simulate(spec);
  ServingEngineSpec e = hand_engine();
  e.host_time.per_forward_pass_s = e.host_time.speculative_step_s = 0;
  spec.pools[0].engine = e;
  const auto with = simulate(spec);
  const double expected = N * (1e-3 + 10e-6) + static_cast<double>(P + N - 1) * 1e-6;
  EXPECT_NEAR(with.e2e.max - without.e2e.max, expected, N * 2e-9);  // steps are rounded to whole nanoseconds
  EXPECT_NEAR(with.ttft.max - without.ttft.max, 1e-3 + 10e-6 + P * 1e-6, 2e-9);
  EXPECT_GT(with.pools[0].replica_stats[0].host_s, 0.0);
}

TEST(ServingEngine, ScenarioWithoutEngineGetsTheDefaultAndItsBatching) {
  config::Document doc = small_offline_scenario();
  const auto sc = scenario::parse_scenario(doc);
  EXPECT_EQ(sc.resolved["engine"], std::string(kDefaultEngine));
  const ServingEngineSpec d = load_serving_engine(std::string(kDefaultEngine));
  const auto& pool = sc.simulation.pools.at(0);
  ASSERT_TRUE(pool.engine.has_value());
  EXPECT_EQ(pool.engine->name, d.name);
  EXPECT_EQ(pool.scheduler.policy, d.scheduler.policy);
  EXPECT_EQ(pool.scheduler.max_batch_size, d.scheduler.max_batch_size);
  // A scheduler key the scenario gives wins over the engine's default.
  doc.json["scheduler"] = {{"max_batch_size", 7}};
  doc.json["engine"] = "tensorrt-llm";
  const auto sc2 = scenario::parse_scenario(doc);
  EXPECT_EQ(sc2.simulation.pools.at(0).scheduler.max_batch_size, 7);
  EXPECT_EQ(sc2.simulation.pools.at(0).scheduler.policy, load_serving_engine("tensorrt-llm").scheduler.policy);
}

// The engine's attention kernels reach the deployment the step model prices: FP8 attention under TensorRT-LLM
// and vLLM (FP8 KV cache), BF16 under SGLang, llama.cpp and HuggingFace transformers, FP16 for an FP16 model.
TEST(ServingEngine, EngineDecidesWhetherFp8AttentionRunsInFp8) {
  config::Document doc = small_offline_scenario();
  doc.json["deployment"] = {{"weight_dtype", "fp8"}, {"activation_dtype", "fp8"}, {"kv_cache_dtype", "fp8"}};
  const std::vector<std::pair<std::string, DType>> expected = {
      {"tensorrt-llm", DType::fp8}, {"vllm", DType::fp8}, {"sglang", DType::bf16}, {"llama.cpp", DType::bf16},
      {"hf-transformers", DType::bf16}};
  for (const auto& [engine, dtype] : expected) {
    SCOPED_TRACE(engine);
    doc.json["engine"] = engine;
    const auto parsed = scenario::parse_scenario(doc);  // the pool lives in it: no reference into a temporary
    const auto& pool = parsed.simulation.pools.at(0);
    EXPECT_EQ(roofline::attention_math_dtype(pool.hardware, pool.deployment), dtype);
  }
  doc.json["engine"] = "tensorrt-llm";
  doc.json["deployment"]["kv_cache_dtype"] = "bf16";  // a BF16 cache: no FP8 attention under any engine
  const auto parsed_bf16 = scenario::parse_scenario(doc);
  const auto& bf16_cache = parsed_bf16.simulation.pools.at(0);
  EXPECT_EQ(roofline::attention_math_dtype(bf16_cache.hardware, bf16_cache.deployment), DType::bf16);
}

// The engine's routed-expert GEMM efficiency, by architecture, reaches the deployment a scenario prices and the
// roofline query of `infersim roofline --engine`; an engine without the block, or a chip of an architecture it does
// not name, runs the chip's own figure (1). An efficiency outside [0.05, 4] or a misspelled architecture is refused
// with its JSON path (and the closest name).
TEST(ServingEngine, EngineMoeGemmEfficiencyReachesTheDeployment) {
  config::Document doc = small_offline_scenario();
  config::Json engine = config::load_document(config::catalog_path(config::CatalogKind::engines, "tensorrt-llm")).json;
  ASSERT_FALSE(engine.contains("moe_gemm"));
  doc.json["engine"] = engine;
  auto efficiency_of_pool = [&] {
    const auto parsed = scenario::parse_scenario(doc);
    const auto& pool = parsed.simulation.pools.at(0);
    return pool.deployment.moe_gemm.efficiency_on(pool.hardware.architecture);
  };
  EXPECT_DOUBLE_EQ(efficiency_of_pool(), 1.0);
  engine["moe_gemm"] = {{"efficiency", {{"nvidia-hopper", 0.4}}}, {"source", "hand"}};
  doc.json["engine"] = engine;
  EXPECT_DOUBLE_EQ(efficiency_of_pool(), 0.4);  // h100-sxm: nvidia-hopper
  doc.json["hardware"] = "a100-sxm-80gb";
  EXPECT_DOUBLE_EQ(efficiency_of_pool(), 1.0);  // nvidia-ampere-ga100: not named
  config::Document engine_doc;
  engine_doc.file = "engine.json";
  engine_doc.json = engine;
  roofline::StepQuery query;
  use_engine_kernels(query, load_serving_engine(engine_doc));
  EXPECT_DOUBLE_EQ(query.moe_gemm.efficiency_on("nvidia-hopper"), 0.4);
  engine_doc.json["moe_gemm"]["efficiency"]["nvidia-hopper"] = 0;
  std::string message = testing::message_of([&] { load_serving_engine(engine_doc); });
  EXPECT_NE(message.find("engine.json"), std::string::npos) << message;
  EXPECT_NE(message.find("/moe_gemm/efficiency/nvidia-hopper"), std::string::npos) << message;
  engine_doc.json["moe_gemm"]["efficiency"] = {{"nvidia-hoper", 0.4}};
  message = testing::message_of([&] { load_serving_engine(engine_doc); });
  EXPECT_NE(message.find("nvidia-hoper"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean \"nvidia-hopper\""), std::string::npos) << message;
  // The layout overhead of block-format experts reaches the pool's deployment the same way, on its architecture only;
  // it is a fraction in [0, 1].
  engine_doc.json["moe_gemm"]["efficiency"] = {{"nvidia-hopper", 0.4}};
  engine_doc.json["moe_gemm"]["block_format_weight_overhead"] = {{"nvidia-hopper", 0.065}};
  doc.json["engine"] = engine_doc.json;
  doc.json["hardware"] = "h100-sxm";
  EXPECT_DOUBLE_EQ(scenario::parse_scenario(doc).simulation.pools.at(0).deployment.moe_gemm.block_format_weight_overhead_on(
                       "nvidia-hopper"),
                   0.065);
  EXPECT_DOUBLE_EQ(load_serving_engine(engine_doc).moe_gemm.block_format_weight_overhead_on("nvidia-ampere-ga100"), 0.0);
  engine_doc.json["moe_gemm"]["block_format_weight_overhead"]["nvidia-hopper"] = 1.5;
  message = testing::message_of([&] { load_serving_engine(engine_doc); });
  EXPECT_NE(message.find("/moe_gemm/block_format_weight_overhead/nvidia-hopper"), std::string::npos) << message;
  engine_doc.json["moe_gemm"]["block_format_weight_overhead"] = {{"nvidia-amper-ga100", 0.09}};
  message = testing::message_of([&] { load_serving_engine(engine_doc); });
  EXPECT_NE(message.find("did you mean \"nvidia-ampere-ga100\""), std::string::npos) << message;
}

TEST(ServingEngine, StreamingDefaultsToOnlineArrivalsAndEveryStreamedStepPaysIt) {
  // workload.streaming defaults to true, except for offline arrivals (a batch takes whole results).
  config::Document doc = small_offline_scenario();
  EXPECT_FALSE(scenario::parse_scenario(doc).simulation.workload.streaming);
  doc.json["workload"]["arrival"] = {{"process", "poisson"}, {"rate_per_s", 2}};
  const auto online = scenario::parse_scenario(doc);
  EXPECT_TRUE(online.simulation.workload.streaming);
  EXPECT_EQ(online.resolved["workload"]["streaming"], true);
  doc.json["workload"]["streaming"] = false;
  EXPECT_FALSE(scenario::parse_scenario(doc).simulation.workload.streaming);

  // One request of P prompt tokens and N output tokens, alone: N steps (one prefill, N - 1 decodes), each of
  // one sequence, so streaming adds N x per_streamed_sequence to its end-to-end latency and one to its TTFT.
  const std::int64_t P = 300, N = 20;
  auto spec = one_request(P, N);
  ServingEngineSpec e = hand_engine();
  e.host_time.per_streamed_sequence_s = 50e-6;
  spec.pools[0].engine = e;
  spec.workload.streaming = false;
  const auto whole = simulate(spec);
  spec.workload.streaming = true;
  const auto streamed = simulate(spec);
  EXPECT_NEAR(streamed.e2e.max - whole.e2e.max, N * 50e-6, N * 2e-9);
  EXPECT_NEAR(streamed.ttft.max - whole.ttft.max, 50e-6, 2e-9);
}

// first_token_lag_steps: the first token reaches the client with the token of the lag-th step after the one that
// completed the prompt. One request of P + N tokens alone: its steps are one prefill and N - 1 decodes of one
// sequence, so a lag of 1 adds exactly the first decode step to its TTFT: that step's device time (the gap between
// the two tokens of a two-token request without an engine: the same decode, batch 1 after the same prompt) plus
// the engine's host time of a one-sequence, one-token step, 1 ms + 10 us + 1 us by hand. Its completion does not
// move, and TPOT is LoadGen's (completion - first token) / (N - 1), so it shrinks by that step / (N - 1).
TEST(ServingEngine, FirstTokenLagAddsOneIterationToTtftAndNothingToCompletion) {
  const std::int64_t P = 300, N = 20;
  const auto bare = simulate(one_request(P, 2));
  const double decode_device_s = bare.e2e.max - bare.ttft.max;
  ASSERT_GT(decode_device_s, 0.0);
  ServingEngineSpec e = hand_engine();
  e.host_time.per_forward_pass_s = e.host_time.speculative_step_s = 0;
  auto spec = one_request(P, N);
  spec.pools[0].engine = e;
  const auto lag0 = simulate(spec);
  e.first_token_lag_steps = 1;
  spec.pools[0].engine = e;
  const auto lag1 = simulate(spec);
  const double iteration_s = decode_device_s + 1e-3 + 10e-6 + 1e-6;
  EXPECT_NEAR(lag1.ttft.max - lag0.ttft.max, iteration_s, 3e-9);  // steps are rounded to whole nanoseconds
  EXPECT_DOUBLE_EQ(lag1.e2e.max, lag0.e2e.max);
  EXPECT_NEAR(lag1.tpot.max, lag0.tpot.max - iteration_s / (N - 1), 1e-9);
  // A lag longer than the request: the first token is reported with its last.
  e.first_token_lag_steps = kMaxFirstTokenLagSteps;
  spec.pools[0].engine = e;
  const auto late = simulate(spec);
  EXPECT_DOUBLE_EQ(late.ttft.max, lag0.e2e.max);
  EXPECT_DOUBLE_EQ(late.e2e.max, lag0.e2e.max);
  // Without the key a profile reports the first token at once.
  EXPECT_EQ(load_serving_engine("tensorrt-llm").first_token_lag_steps, 0);
}

// The HTTP front end (the engine's front_end latency, workload.api "http"): every request reaches the scheduler L
// after the client sent it, and nothing else changes. One request alone: its TTFT, end-to-end latency and queue
// time grow by exactly L, its TPOT not at all. In process, or with an engine that has no front end, nothing moves.
TEST(ServingEngine, HttpFrontEndDelaysEveryRequestByItsLatency) {
  const std::int64_t P = 300, N = 20;
  const double L = 0.045;
  auto spec = one_request(P, N);
  ServingEngineSpec e = hand_engine();
  spec.pools[0].engine = e;
  spec.workload.api = workload::Api::http;
  const auto none = simulate(spec);  // the engine has no measured front end
  e.front_end_request_latency_s = L;
  spec.pools[0].engine = e;
  EXPECT_DOUBLE_EQ(front_end_latency_s(spec), L);
  const auto served = simulate(spec);
  EXPECT_NEAR(served.ttft.max - none.ttft.max, L, 2e-9);
  EXPECT_NEAR(served.e2e.max - none.e2e.max, L, 2e-9);
  EXPECT_NEAR(served.queue.max - none.queue.max, L, 2e-9);
  EXPECT_NEAR(served.tpot.max, none.tpot.max, 1e-12);
  spec.workload.api = workload::Api::in_process;
  EXPECT_DOUBLE_EQ(front_end_latency_s(spec), 0.0);
  EXPECT_DOUBLE_EQ(simulate(spec).ttft.max, none.ttft.max);
}

// One closed-loop client of K requests: each request's cycle is the front end's L plus what the engine takes (the
// same every time: one request alone on an idle replica), so the run lasts K (L + e2e alone) and the client's
// throughput is K / that. Little's law holds with the requests in the front end counted as in the system.
TEST(ServingEngine, HttpFrontEndLengthensAClosedLoopCycle) {
  const std::int64_t K = 5;
  const double L = 0.030;
  auto spec = one_request(200, 8);
  spec.workload.requests = K;
  spec.workload.process = workload::ArrivalProcess::closed_loop;
  spec.workload.concurrency = 1;
  spec.workload.think_time_s = 0;
  ServingEngineSpec e = hand_engine();
  spec.pools[0].engine = e;
  const auto bare = simulate(spec);
  const double cycle_s = bare.duration_s / K;
  EXPECT_NEAR(bare.e2e.max, cycle_s, 1e-8);
  e.front_end_request_latency_s = L;
  spec.pools[0].engine = e;
  const auto served = simulate(spec);
  EXPECT_NEAR(served.duration_s, K * (L + cycle_s), K * 2e-9);
  EXPECT_NEAR(served.e2e.p50, L + cycle_s, 2e-9);
  // Little: mean requests in the system = throughput x mean e2e = 1 client, always waiting on one request.
  EXPECT_NEAR(served.mean_in_system, 1.0, 1e-6);
}

TEST(ServingEngine, ApiDefaultsToHttpOnlineAndInProcessOffline) {
  config::Document doc = small_offline_scenario();
  auto sc = scenario::parse_scenario(doc);
  EXPECT_EQ(sc.simulation.workload.api, workload::Api::in_process);
  EXPECT_EQ(sc.resolved["workload"]["api"], "in_process");
  doc.json["workload"]["arrival"] = {{"process", "poisson"}, {"rate_per_s", 2}};
  sc = scenario::parse_scenario(doc);
  EXPECT_EQ(sc.simulation.workload.api, workload::Api::http);
  EXPECT_EQ(sc.resolved["workload"]["api"], "http");
  doc.json["workload"]["api"] = "in_process";
  EXPECT_EQ(scenario::parse_scenario(doc).simulation.workload.api, workload::Api::in_process);
  doc.json["workload"]["api"] = "htpp";
  EXPECT_THROW(scenario::parse_scenario(doc), ConfigError);
  const std::string what = testing::message_of([&] { scenario::parse_scenario(doc); });
  EXPECT_NE(what.find("/workload/api"), std::string::npos) << what;
  EXPECT_NE(what.find("\"http\""), std::string::npos) << what;
  // The shipped profiles that carry a front end: vLLM's V1, SGLang's and TensorRT-LLM's OpenAI servers, each
  // tens of milliseconds (fitted, docs/accuracy.md); an engine without one has none.
  for (const char* name : {"vllm-v1", "sglang", "tensorrt-llm"}) {
    const auto fe = load_serving_engine(name).front_end_request_latency_s;
    ASSERT_TRUE(fe.has_value()) << name;
    EXPECT_GT(*fe, 5e-3) << name;
    EXPECT_LT(*fe, 0.1) << name;
  }
  EXPECT_FALSE(load_serving_engine("llama.cpp").front_end_request_latency_s.has_value());
}

TEST(ServingEngine, MisspelledEngineNamesTheClosest) {
  config::Document doc;
  doc.file = "inline.json";
  doc.json = config::Json::parse(R"({"model": "llama-3.1-8b", "hardware": "h100-sxm", "engine": "vllmm",
      "workload": {"requests": 10, "arrival": {"process": "offline"},
                   "input_tokens": 100, "output_tokens": 10}})");
  try {
    scenario::parse_scenario(doc);
    FAIL() << "accepted an unknown engine";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("/engine"), std::string::npos) << what;
    EXPECT_NE(what.find("did you mean \"vllm\""), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace infersim::serving
