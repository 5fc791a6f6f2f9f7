// `infersim run` as users and scripts use it.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/cli.hpp"
#include "support/paths.hpp"

namespace infersim {
namespace {

using testing::run_cli;
using testing::write_temp;

const char* kScenario = R"({"name": "t", "model": "llama-3.1-8b", "hardware": "h100-sxm",
  "deployment": {"tensor_parallel": 1, "weight_dtype": "bf16"},
  "scheduler": {"policy": "continuous", "max_batch_size": 64, "max_batched_tokens": 4096},
  "workload": {"requests": 200, "seed": 1, "arrival": {"process": "poisson", "rate_per_s": 2},
               "input_tokens": 256, "output_tokens": {"distribution": "uniform", "min": 16, "max": 64}},
  "slo": {"ttft_p99_s": 1.0, "tpot_p99_s": 0.05}})";

nlohmann::json get(const nlohmann::json& j, const std::string& dotted) {
  const nlohmann::json* node = &j;
  std::size_t start = 0;
  while (start <= dotted.size()) {
    const auto end = dotted.find('.', start);
    const std::string key = dotted.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!node->contains(key)) throw std::runtime_error("missing " + dotted);
    node = &(*node)[key];
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return *node;
}

TEST(Run, JsonReportHasTheContractKeys) {
  const auto path = write_temp("run_contract.json", kScenario);
  const auto r = run_cli("run " + path + " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema_version"], 1);
  for (const char* k : {"scenario", "deployment.chips", "metrics.requests_completed", "metrics.simulated_duration_s",
                        "metrics.throughput.requests_per_s", "metrics.throughput.input_tokens_per_s",
                        "metrics.throughput.output_tokens_per_s", "metrics.throughput.total_tokens_per_s",
                        "metrics.cost.usd_per_hour", "metrics.cost.usd_per_million_output_tokens",
                        "metrics.cost.usd_per_million_total_tokens", "metrics.energy.joules_per_output_token"}) {
    EXPECT_NO_THROW(get(j, k)) << k;
  }
  for (const char* m : {"ttft_s", "tpot_s", "itl_s", "e2e_s"}) {
    for (const char* s : {"mean", "p50", "p90", "p99", "max"}) EXPECT_NO_THROW(get(j, std::string("metrics.") + m + "." + s));
  }
  EXPECT_EQ(get(j, "metrics.requests_completed"), 200);
  // The resolved scenario has its defaults filled in.
  EXPECT_EQ(get(j, "scenario.deployment.pipeline_parallel"), 1);
  EXPECT_EQ(get(j, "scenario.deployment.kv_cache_dtype"), "bf16");
  // Cost by hand: 1 chip at the profile's price over the simulated duration, per million output tokens.
  const double price = 3.99;  // configs/hardware/h100-sxm.json
  const double hours = get(j, "metrics.simulated_duration_s").get<double>() / 3600;
  const double out_tokens = get(j, "metrics.throughput.output_tokens_per_s").get<double>() *
                            get(j, "metrics.simulated_duration_s").get<double>();
  EXPECT_NEAR(get(j, "metrics.cost.usd_per_million_output_tokens_all_in").get<double>(), price * hours / out_tokens * 1e6, 1e-9);
}

TEST(Run, ThroughputPerChipCountsEveryChipOfEveryReplica) {
  const auto path = write_temp("run_per_chip.json", kScenario);
  const auto r = run_cli("run " + path + " --format json --set deployment.tensor_parallel=2 --set deployment.replicas=3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  // Two chips per replica, three replicas: six chips share the output tokens.
  EXPECT_EQ(get(j, "deployment.chips"), 6);
  EXPECT_DOUBLE_EQ(get(j, "metrics.throughput.output_tokens_per_s_per_chip").get<double>(),
                   get(j, "metrics.throughput.output_tokens_per_s").get<double>() / 6);
}

TEST(Run, TheReportSaysWhenGemmsRunBlockScaled) {
  // DeepSeek-V3 at FP8 on H200: its checkpoint is block-scaled, so the pool carries the chip's per-tile cost, in
  // the JSON and in a line of the text; Llama-3.1-8B at FP8 is scaled per tensor and carries none.
  const double k0 = nlohmann::json::parse(std::ifstream(testing::source_path("configs/hardware/h200-sxm.json")))
                        ["efficiency"]["block_fp8_gemm_overhead_k"];
  ASSERT_GT(k0, 0.0);
  const std::string ds = "run " + testing::source_path("configs/scenarios/deepseek-v3-8xh200.json") +
                         " --set workload.requests=40";
  const auto j = run_cli(ds + " --format json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(j.out)["deployment"]["pools"][0]["block_fp8_gemm_overhead_k"].get<double>(), k0);
  const std::string line = "block-scaled FP8 weights: each GEMM priced at depth K + " + std::to_string(static_cast<int>(k0));
  EXPECT_NE(run_cli(ds).out.find(line), std::string::npos);
  const auto path = write_temp("run_per_tensor_fp8.json", kScenario);
  const auto llama = run_cli("run " + path + " --format json --set deployment.weight_dtype=fp8 --set deployment.activation_dtype=fp8");
  ASSERT_EQ(llama.exit_code, 0) << llama.err;
  EXPECT_FALSE(nlohmann::json::parse(llama.out)["deployment"]["pools"][0].contains("block_fp8_gemm_overhead_k"));
}

TEST(Run, TheReportSaysWhenAdmissionKeepsRoomForOutputs) {
  // On sglang the engine's reserve applies (its figures from configs/engines/sglang.json, in the resolved
  // scenario and a line of the text); the scenario's own keys override it; on vllm there is none.
  const auto sglang = nlohmann::json::parse(std::ifstream(testing::source_path("configs/engines/sglang.json")));
  const auto& a = sglang["scheduler"]["admission_reserve"];
  const auto path = write_temp("run_admission_reserve.json", kScenario);
  const std::string run = "run " + path + " --set engine=sglang";
  const auto j = run_cli(run + " --format json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto resolved = get(nlohmann::json::parse(j.out), "scenario.scheduler.admission_reserve");
  EXPECT_DOUBLE_EQ(resolved["running_output_fraction"].get<double>(), a["running_output_fraction"].get<double>());
  EXPECT_DOUBLE_EQ(resolved["running_output_fraction_min"].get<double>(), a["running_output_fraction_min"].get<double>());
  EXPECT_EQ(resolved["decay_decode_steps"], a["decay_decode_steps"]);
  EXPECT_NE(run_cli(run).out.find("KV admission keeps room for outputs: 1 of a new request's and 0.7 -> 0.098 of each "
                                  "running request's remaining output"),
            std::string::npos);
  const auto own = run_cli(run + " --set scheduler.admission_reserve.running_output_fraction=1"
                                 " --set scheduler.admission_reserve.running_output_fraction_min=1");
  EXPECT_NE(own.out.find("1 of a new request's and 1 of each running request's remaining output"), std::string::npos)
      << own.out << own.err;
  const auto vllm = run_cli("run " + path + " --format json");
  ASSERT_EQ(vllm.exit_code, 0) << vllm.err;
  EXPECT_FALSE(nlohmann::json::parse(vllm.out)["scenario"]["scheduler"].contains("admission_reserve"));
}

TEST(Run, TheReportSaysWhatTheKvCacheHolds) {
  // Llama-3.1-8B: 32 layers x 8 KV heads x 128 dims x 2 (K and V) x 2 bytes = 131,072 bytes a token.
  // Gemma 3 27B: 10 global layers x 16 x 128 x 2 x 2 = 81,920 bytes a token, and 52 sliding-window layers
  // (1,024 tokens) x 8,192 = 425,984 more for each of a sequence's last 1,024 tokens.
  const auto path = write_temp("run_kv_line.json", kScenario);
  const auto dense = run_cli("run " + path);
  ASSERT_EQ(dense.exit_code, 0) << dense.err;
  EXPECT_NE(dense.out.find(" tokens a replica, 131 kB a token a chip ("), std::string::npos) << dense.out;
  const auto json = run_cli("run " + path + " --set model=gemma-3-27b --format json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto pool = nlohmann::json::parse(json.out)["deployment"]["pools"][0];
  EXPECT_EQ(pool["kv_window_tokens"], 1024);
  EXPECT_DOUBLE_EQ(pool["kv_bytes_per_token_per_chip"].get<double>(), 81920.0);
  EXPECT_DOUBLE_EQ(pool["kv_local_bytes_per_token_per_chip"].get<double>(), 425984.0);
  const auto text = run_cli("run " + path + " --set model=gemma-3-27b");
  EXPECT_NE(text.out.find("81.9 kB a token a chip on the full-attention layers; a sequence's last 1024 tokens take 426 kB more "
                          "each on the local-attention layers"),
            std::string::npos)
      << text.out;
}

TEST(Run, AutoSizingCountsTheLocalLayersWindows) {
  // Gemma 3 27B (54 GB of bf16 weights) on H100s, 256 requests of 400 + 100 tokens, tensor_parallel "auto".
  // Inside the 1,024-token window each token holds 10 global + 52 local layers' KV: 6.2 tokens of the global
  // layers' cache, so the 256 requests need 256 x 6.2 x 500 = 793,600 of them. One chip leaves about 21 GB
  // beside the weights: 21e9 / 81,920 bytes a token (10 layers x 2 x 16 heads x 128 x 2) ~ 256,000, too few
  // (counting 1 a token, 128,000, would have looked enough); two chips leave about 49 GB each at 40,960
  // bytes a token (8 heads a chip): ~1.2 million. So 2.
  const auto path = write_temp("run_auto_gemma.json", R"({"name": "t", "model": "gemma-3-27b", "hardware": "h100-sxm",
    "deployment": {"tensor_parallel": "auto", "weight_dtype": "bf16"},
    "scheduler": {"policy": "continuous", "max_batch_size": 256, "max_batched_tokens": 4096},
    "workload": {"requests": 20, "seed": 1, "arrival": {"process": "poisson", "rate_per_s": 2},
                 "input_tokens": 400, "output_tokens": 100}})");
  const auto r = run_cli("run " + path + " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto pool = nlohmann::json::parse(r.out)["deployment"]["pools"][0];
  EXPECT_EQ(pool["tensor_parallel"], 2) << pool.dump();
  EXPECT_GE(pool["kv_cache_tokens_per_replica"].get<double>(), 793600.0);
}

TEST(Run, SetOverridesAKeyAndAnUnknownPathIsAnError) {
  const auto path = write_temp("run_set.json", kScenario);
  const auto base = nlohmann::json::parse(run_cli("run " + path + " --format json").out);
  const auto faster = run_cli("run " + path + " --format json --set workload.arrival.rate_per_s=4 --set deployment.replicas=2");
  ASSERT_EQ(faster.exit_code, 0) << faster.err;
  const auto j = nlohmann::json::parse(faster.out);
  EXPECT_EQ(get(j, "scenario.workload.arrival.rate_per_s"), 4);
  EXPECT_EQ(get(j, "deployment.chips"), 2);
  EXPECT_LT(get(j, "metrics.simulated_duration_s").get<double>(), get(base, "metrics.simulated_duration_s").get<double>());
  const auto bad = run_cli("run " + path + " --set workload.arival.rate_per_s=4");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--set workload.arival.rate_per_s=4"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("did you mean \"arrival\""), std::string::npos) << bad.err;
  const auto not_kv = run_cli("run " + path + " --set workload");
  EXPECT_EQ(not_kv.exit_code, 2);
  const auto policy = run_cli("run " + path + " --set scheduler.policy=contiuous");
  EXPECT_EQ(policy.exit_code, 2);
  EXPECT_NE(policy.err.find("did you mean \"continuous\""), std::string::npos) << policy.err;
}

TEST(Run, CsvRequestsOutAndTraceOut) {
  const auto path = write_temp("run_files.json", kScenario);
  const std::string requests = ::testing::TempDir() + "/requests.csv", trace = ::testing::TempDir() + "/trace.json";
  const auto r = run_cli("run " + path + " --format csv --requests-out " + requests + " --trace-out " + trace);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // CSV: a header and one row with the same number of cells.
  const auto nl = r.out.find('\n');
  const std::string header = r.out.substr(0, nl), row = r.out.substr(nl + 1);
  EXPECT_NE(header.find("metrics.ttft_s.p99"), std::string::npos);
  EXPECT_EQ(std::count(header.begin(), header.end(), ','), std::count(row.begin(), row.end(), ','));
  std::ifstream rq(requests);
  std::size_t lines = 0;
  for (std::string line; std::getline(rq, line);) ++lines;
  EXPECT_EQ(lines, 201u);
  std::ifstream tr(trace);
  const auto t = nlohmann::json::parse(tr);
  ASSERT_TRUE(t.contains("traceEvents"));
  std::size_t steps = 0, begins = 0;
  for (const auto& e : t["traceEvents"]) {
    steps += e["ph"] == "X";
    begins += e["ph"] == "b" && e["cat"] == "request" && e["name"].get<std::string>().starts_with("request ");
  }
  EXPECT_GT(steps, 200u);
  EXPECT_EQ(begins, 200u);
}

TEST(Run, SameSeedGivesByteIdenticalOutput) {
  const auto path = write_temp("run_det.json", kScenario);
  const std::string requests_a = ::testing::TempDir() + "/det_a.csv", requests_b = ::testing::TempDir() + "/det_b.csv";
  const auto a = run_cli("run " + path + " --format json --requests-out " + requests_a);
  const auto b = run_cli("run " + path + " --format json --requests-out " + requests_b);
  ASSERT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(testing::read_text(requests_a), testing::read_text(requests_b));
}

TEST(Run, ErrorsInScenariosNameFileAndPath) {
  auto j = nlohmann::json::parse(kScenario);
  j["workload"]["arrival"]["rate_per_s"] = -3;
  j["deployment"]["tensor_paralel"] = 2;
  const auto path = write_temp("run_bad.json", j.dump());
  const auto r = run_cli("run " + path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("run_bad.json: /workload/arrival/rate_per_s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("run_bad.json: /deployment/tensor_paralel"), std::string::npos) << r.err;  // both reported
  j = nlohmann::json::parse(kScenario);
  j["model"] = "llama-3.1-405b";
  const auto big = run_cli("run " + write_temp("run_big.json", j.dump()));
  EXPECT_EQ(big.exit_code, 2);
  EXPECT_NE(big.err.find("smallest deployment that fits"), std::string::npos) << big.err;
}

TEST(Run, EveryShippedScenarioRunsAndValidates) {
  for (const auto& entry : std::filesystem::directory_iterator(testing::source_path("configs/scenarios"))) {
    SCOPED_TRACE(entry.path().string());
    const auto v = run_cli("validate " + entry.path().string());
    EXPECT_EQ(v.exit_code, 0) << v.err;
    const auto r = run_cli("run " + entry.path().string() + " --format json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_GT(get(j, "metrics.requests_completed").get<int>(), 0);
  }
}

}  // namespace
}  // namespace infersim

namespace infersim {
namespace {

TEST(Study, EfficiencyTableRunsEveryRow) {
  // Fewer requests than the shipped study, so that the test is quick; every row must run.
  const auto r = testing::run_cli("study " + testing::source_path("configs/studies/efficiency-table.json") +
                                  " --set workload.requests=150");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* row : {"Dense baseline", "Mixture of experts", "FP8", "INT4", "Speculative decoding", "LPU (Groq)",
                          "Disaggregated"}) {
    EXPECT_NE(r.out.find(std::string("| ") + row), std::string::npos) << row;
  }
  EXPECT_EQ(r.out.find("cannot run"), std::string::npos) << r.out;
  const auto csv = testing::run_cli("study " + testing::source_path("configs/studies/efficiency-table.json") +
                                    " --set workload.requests=50 --format csv");
  ASSERT_EQ(csv.exit_code, 0);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 9);  // header + 8 rows
}

}  // namespace
}  // namespace infersim

namespace infersim {
namespace {

TEST(Compare, ColumnsAndChangesAgainstTheFirst) {
  const auto path = testing::write_temp("compare_base.json", kScenario);
  const auto r = testing::run_cli("compare " + path + " " + path + " --variant 'double|pricing={\"usd_per_chip_hour\":7.98}'" +
                                  " --variant 'MI300X|hardware=mi300x' --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 4u);
  EXPECT_EQ(j[2]["name"], "double");
  EXPECT_EQ(j[3]["report"]["deployment"]["pools"][0]["hardware"], "mi300x");
  // The same scenario twice gives the same numbers; twice the price, twice the cost and the same latency.
  EXPECT_EQ(j[0]["report"]["metrics"], j[1]["report"]["metrics"]);
  const auto& c0 = j[0]["report"]["metrics"]["cost"];
  const auto& c2 = j[2]["report"]["metrics"]["cost"];
  EXPECT_NEAR(c2["usd_per_million_total_tokens"].get<double>() / c0["usd_per_million_total_tokens"].get<double>(), 2.0, 1e-9);
  EXPECT_EQ(j[2]["report"]["metrics"]["ttft_s"], j[0]["report"]["metrics"]["ttft_s"]);
  // The table shows the change against the first column.
  const auto t = testing::run_cli("compare " + path + " --variant 'double|pricing={\"usd_per_chip_hour\":7.98}'");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("(+100%)"), std::string::npos) << t.out;
  EXPECT_EQ(testing::run_cli("compare " + path + " --variant 'hardware=h100-sxn'").exit_code, 2);
  // Without a rate search there is no capacity row.
  EXPECT_EQ(t.out.find("within the SLO"), std::string::npos) << t.out;
}

TEST(Compare, CapacityUnderTheSloSideBySide) {
  // Each column searches its own highest rate within the SLO. The price does not change what the hardware
  // can serve: twice the price, the same capacity and twice the cost per token.
  const std::string scenario = testing::source_path("configs/scenarios/capacity-llama-3.1-70b-4xh100-fp8.json");
  const std::string shorter = " --set slo.find_max_rate.duration_s=20";
  const auto r = testing::run_cli("compare " + scenario + shorter + " --variant 'double|pricing={\"usd_per_chip_hour\":7.98}' --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& a = j[0]["report"]["metrics"];
  const auto& b = j[1]["report"]["metrics"];
  ASSERT_EQ(a["slo"]["rate_search"]["status"], "found");
  EXPECT_EQ(a["slo"]["max_rate_per_s"], b["slo"]["max_rate_per_s"]);
  EXPECT_NEAR(b["cost"]["usd_per_million_output_tokens"].get<double>() / a["cost"]["usd_per_million_output_tokens"].get<double>(),
              2.0, 1e-9);
  const auto t = testing::run_cli("compare " + scenario + shorter + " --variant 'hardware=h200-sxm'");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("max requests/s within the SLO"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("max output tokens/s within the SLO"), std::string::npos) << t.out;
}

}  // namespace
}  // namespace infersim
