// Measurement files, predictions of single rows against hand-derived roofline times, error statistics on
// hand-made results, and calibration recovering known efficiencies from synthetic measurements.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "infersim/core/error.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "infersim/validation/calibrate.hpp"
#include "support/paths.hpp"

namespace infersim::validation {
namespace {

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

MeasurementRow gemm_row(const std::string& hw, double m, double k, double n, DType dtype, double measured_ms) {
  MeasurementRow r;
  r.id = "gemm-" + std::to_string(static_cast<long>(m)) + "x" + std::to_string(static_cast<long>(k)) + "x" +
         std::to_string(static_cast<long>(n));
  r.category = "operator_gemm";
  r.hardware = hw;
  r.kind = RowKind::gemm;
  r.unit = "ms";
  r.m = m, r.k = k, r.n = n;
  r.dtype = dtype;
  r.measured = measured_ms;
  return r;
}

MeasurementRow all_reduce_row(const std::string& hw, int chips, double bytes, double measured_ms) {
  MeasurementRow r;
  r.id = "ar-" + std::to_string(chips) + "x" + std::to_string(static_cast<long>(bytes));
  r.category = "all_reduce";
  r.hardware = hw;
  r.kind = RowKind::all_reduce;
  r.unit = "ms";
  r.chips = chips;
  r.bytes = bytes;
  r.measured = measured_ms;
  return r;
}

TEST(Accuracy, GemmRowIsTheRooflineOfOneKernel) {
  const auto hw = hardware::load_hardware("h100-sxm");
  const auto& e = hw.efficiency;
  // 4096^3 in bf16: compute-bound; 4096 is a whole number of tiles, so no padding.
  const double flops = 2.0 * 4096 * 4096 * 4096;
  const double expected_s = flops / (989e12 * e.compute) + e.kernel_launch_overhead_s;
  EXPECT_NEAR(predict(gemm_row("h100-sxm", 4096, 4096, 4096, DType::bf16, 1)), expected_s * 1e3, 1e-6 * expected_s * 1e3);
  // M = 1: memory-bound, the 4096 x 4096 weights plus the input and output rows in bf16.
  const double bytes = 2.0 * (4096.0 * 4096 + 4096 + 4096);
  const double expected_small_s = bytes / (3.35e12 * e.memory) + e.kernel_launch_overhead_s;
  EXPECT_NEAR(predict(gemm_row("h100-sxm", 1, 4096, 4096, DType::bf16, 1)), expected_small_s * 1e3,
              1e-5 * expected_small_s * 1e3);
}

TEST(Accuracy, AllReduceAlgorithms) {
  // h100-sxm reduces in the NVSwitch: the buffer crosses the link once, in 2 latency steps.
  const auto h100 = hardware::load_hardware("h100-sxm");
  ASSERT_EQ(h100.interconnect.all_reduce, hardware::AllReduceAlgorithm::in_switch);
  const double b = 128.0 * 1024 * 1024;
  const double in_switch = b / (450e9 * h100.efficiency.network) + 2 * h100.interconnect.scale_up_latency_s +
                           h100.efficiency.kernel_launch_overhead_s;
  EXPECT_NEAR(roofline::price_all_reduce(h100, 8, b), in_switch, 1e-6 * in_switch);
  // a100 rings: 2 (t - 1) / t of the buffer, 2 (t - 1) latency steps.
  const auto a100 = hardware::load_hardware("a100-sxm-80gb");
  ASSERT_EQ(a100.interconnect.all_reduce, hardware::AllReduceAlgorithm::ring);
  const double ring = 2.0 * 7 / 8 * b / (*a100.interconnect.scale_up_bandwidth_bytes_per_s * a100.efficiency.network) +
                      14 * a100.interconnect.scale_up_latency_s + a100.efficiency.kernel_launch_overhead_s;
  EXPECT_NEAR(roofline::price_all_reduce(a100, 8, b), ring, 1e-6 * ring);
  EXPECT_EQ(roofline::price_all_reduce(a100, 1, b), 0.0);
}

MeasurementRow all_to_all_row(int ep, double tokens_per_rank, double bytes_per_element) {
  MeasurementRow r;
  r.id = "a2a-ep" + std::to_string(ep);
  r.category = "all_to_all";
  r.hardware = "h800";
  r.kind = RowKind::all_to_all;
  r.unit = "us";
  r.expert_parallel = ep;
  r.tokens_per_rank = tokens_per_rank;
  r.hidden = 7168;
  r.top_k = 8;
  r.bytes_per_element = bytes_per_element;
  r.measured = 1;
  return r;
}

TEST(Accuracy, AllToAllRowIsTheStepModelsDispatch) {
  // DeepEP's normal-kernel setting: 4096 tokens per rank, 8 experts each, 7168 FP8 elements plus one FP32 scale
  // per 128 (1 + 4/128 bytes per element): 4096 x 8 x 7168 x 1.03125 = 242,221,056 bytes held per rank.
  const double S = 242221056.0;
  EXPECT_DOUBLE_EQ(roofline::expert_all_to_all_bytes(4096, 8, 7168, 1.03125), S);
  const auto hw = hardware::load_hardware("h800");
  const auto& e = hw.efficiency;
  ASSERT_EQ(hw.interconnect.scale_up_domain_chips, 8);
  const double nvlink = 200e9 * e.network, ib = 50e9 * e.network;  // bytes/s per direction, h800.json
  const double up_lat = hw.interconnect.scale_up_latency_s, out_lat = hw.interconnect.scale_out_latency_s;
  const double launch = e.kernel_launch_overhead_s;
  // EP8, one node: 7/8 of S goes to the 7 peers over NVLink (1/8 stays on the chip), nothing crosses
  // InfiniBand; every peer is written at once, one latency step.
  const double ep8_s = S * 7 / 8 / nvlink + up_lat + launch;
  EXPECT_NEAR(predict(all_to_all_row(8, 4096, 1.03125)), ep8_s * 1e6, 1e-6 * ep8_s * 1e6);  // the table holds floats
  // EP32, four nodes of 8: 7/32 of S to the node's 7 peers over NVLink, 24/32 to the 24 chips of the other
  // nodes over InfiniBand (one step, every remote write in flight); the two shares one after the other.
  const double ep32_s = S * 7 / 32 / nvlink + up_lat + launch + S * 24 / 32 / ib + out_lat + launch;
  EXPECT_NEAR(predict(all_to_all_row(32, 4096, 1.03125)), ep32_s * 1e6, 1e-6 * ep32_s * 1e6);
  // The InfiniBand share is 6x the NVLink bytes at a quarter of the bandwidth: EP32 is ~4x slower than EP8.
  EXPECT_GT(predict(all_to_all_row(32, 4096, 1.03125)) / predict(all_to_all_row(8, 4096, 1.03125)), 3.5);
  // A group of one chip sends nothing.
  EXPECT_EQ(roofline::price_expert_all_to_all(hw, 1, S), 0.0);
}

TEST(Accuracy, AllToAllRowWithRoutingSendsOneCopyPerRemoteNode) {
  // DeepEP's internode normal kernels at EP32 (4 nodes of 8), top-8 of 256, node limit 4: a token reaches
  // 4 x (1 - C(192,8)/C(256,8)) = 3.61421 nodes, 2.71066 of them remote, each sent once over InfiniBand
  // (S / 8 per copy); over NVLink the 7/32 own-node share plus 7/8 of the 24/32 remote share forwarded. The two
  // links run at once: the call takes the slower one's time (InfiniBand's 1.66 ms of bytes against NVLink's 1.07).
  const double S = 242221056.0;
  const auto hw = hardware::load_hardware("h800");
  const auto& e = hw.efficiency;
  const double nvlink = 200e9 * e.network, ib = 50e9 * e.network;
  const double launch = e.kernel_launch_overhead_s;
  const double remote = 3 * (1 - 0.0964464236);
  const double up_s = S * 28 / 32 / nvlink + hw.interconnect.scale_up_latency_s;
  const double out_s = S / 8 * remote / ib + hw.interconnect.scale_out_latency_s;
  ASSERT_GT(out_s, up_s);
  const double ep32_s = out_s + launch;
  auto row = all_to_all_row(32, 4096, 1.03125);
  row.num_experts = 256;
  row.node_limit = 4;
  EXPECT_NEAR(predict(row), ep32_s * 1e6, 1e-6 * ep32_s * 1e6);
  // Inside one node the routing changes nothing.
  auto ep8 = all_to_all_row(8, 4096, 1.03125);
  const double plain = predict(ep8);
  ep8.num_experts = 256;
  EXPECT_DOUBLE_EQ(predict(ep8), plain);
}

TEST(Accuracy, AllToAllRowPricesWhatTheStepModelAdds) {
  // The step model's EP dispatch of deepseek-v3 (EP8 with 8 attention ranks, decode of 64 sequences: 8 tokens
  // per chip, bf16 stream) costs, per MoE layer, what an all_to_all row of the same shape predicts.
  const auto m = model::load_model("deepseek-v3");
  const auto hw = hardware::load_hardware("h800");
  parallelism::DeploymentSpec d;
  d.tensor_parallel = d.expert_parallel = d.attention_data_parallel = 8;
  d.weight_dtype = d.activation_dtype = d.kv_cache_dtype = DType::fp8;
  d.expert_load_imbalance = 1.0;  // a balanced exchange, as the row prices (the mean rank's share)
  roofline::OperatorTable t;
  roofline::StepCostModel(m, hw, d).build(roofline::StepShape::decode(64, 1024), t);
  double dispatch_s = -1;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.name[i] == "ep_dispatch") dispatch_s = static_cast<double>(t.time_s[i]);
  }
  ASSERT_GT(dispatch_s, 0);
  auto row = all_to_all_row(8, 8, 2);
  EXPECT_NEAR(predict(row), dispatch_s * 1e6, 1e-4 * dispatch_s * 1e6);  // the table holds floats
}

TEST(Accuracy, ErrorStatisticsOfHandMadeResults) {
  std::vector<MeasurementRow> rows(5);
  std::vector<RowResult> results(5);
  const double measured[] = {100, 100, 100, 100, 100};
  const double predicted[] = {90, 110, 130, 100, 50};  // errors -10, +10, +30, 0, -50 %
  for (int i = 0; i < 5; ++i) {
    rows[i].measured = measured[i];
    results[i].row = &rows[i];
    results[i].predicted = predicted[i];
  }
  RowResult failed;
  failed.row = &rows[0];
  results.push_back(failed);  // rows that could not run do not count
  const auto s = error_stats(results);
  EXPECT_EQ(s.rows, 5u);
  EXPECT_NEAR(s.median_abs_pct, 10.0, 1e-9);        // |errors| 0, 10, 10, 30, 50
  EXPECT_NEAR(s.p90_abs_pct, 50.0, 1e-9);           // nearest rank: ceil(0.9 * 5) = 5th
  EXPECT_NEAR(s.mean_signed_pct, -20.0 / 5, 1e-9);  // (-10 + 10 + 30 + 0 - 50) / 5
}

TEST(Calibrate, RecoversKnownEfficienciesFromSyntheticMeasurements) {
  // "Measurements" priced with a profile whose efficiencies are known; calibration starts from fixed
  // uncalibrated values (not the shipped profile's, which recalibration moves) and must find the known ones
  // again from GEMMs (compute- and memory-bound, small and large) and all-reduces. The fit is a MAP estimate
  // whose prior pulls towards the starting values with weight ~1/rows, so exact data are recovered to within
  // a few percent, not exactly.
  auto start = hardware::load_hardware("h100-sxm");
  start.efficiency.compute = 0.80;
  start.efficiency.memory = 0.85;
  start.efficiency.network = 0.82;
  start.efficiency.kernel_launch_overhead_s = 6e-6;
  start.interconnect.scale_up_latency_s = 2.4e-6;
  auto truth = start;
  truth.efficiency.compute = 0.62;
  truth.efficiency.memory = 0.71;
  truth.efficiency.network = 0.66;
  truth.efficiency.kernel_launch_overhead_s = 4e-6;
  truth.interconnect.scale_up_latency_s = 3e-6;
  std::vector<MeasurementRow> rows;
  for (double m : {1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0}) {
    for (auto [k, n] : {std::pair{4096.0, 12288.0}, std::pair{14336.0, 4096.0}, std::pair{1024.0, 1024.0}}) {
      rows.push_back(gemm_row("h100-sxm", m, k, n, DType::bf16, 1));
    }
  }
  for (int chips : {2, 4, 8}) {
    for (double bytes : {4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0, 134217728.0}) {
      rows.push_back(all_reduce_row("h100-sxm", chips, bytes, 1));
    }
  }
  for (auto& r : rows) {
    r.id += "-" + std::to_string(&r - rows.data());
    r.measured = predict(r, {{"h100-sxm", truth}});
  }
  const auto result = calibrate(rows, "h100-sxm", start, 600);
  EXPECT_NEAR(result.after.efficiency.compute, 0.62, 0.62 * 0.02);
  EXPECT_NEAR(result.after.efficiency.memory, 0.71, 0.71 * 0.02);
  EXPECT_NEAR(result.after.efficiency.network, 0.66, 0.66 * 0.03);
  EXPECT_NEAR(result.after.efficiency.kernel_launch_overhead_s, 4e-6, 4e-6 * 0.08);
  EXPECT_NEAR(result.after.interconnect.scale_up_latency_s, 3e-6, 3e-6 * 0.15);
  EXPECT_LT(result.error_after.median_abs_pct, 1.5);
  EXPECT_GT(result.error_before.median_abs_pct, 5.0);
  EXPECT_EQ(result.fitted.size(), 5u);
}

TEST(Calibrate, FitsOnlyWhatTheRowsConstrain) {
  // GEMMs alone say nothing about the network: its efficiency and latency keep the profile's values.
  std::vector<MeasurementRow> rows;
  for (double m : {1.0, 64.0, 4096.0}) rows.push_back(gemm_row("h100-sxm", m, 4096, 4096, DType::bf16, 0.05));
  const auto before = hardware::load_hardware("h100-sxm");
  const auto result = calibrate(rows, "h100-sxm", 100);
  EXPECT_EQ(result.after.efficiency.network, before.efficiency.network);
  EXPECT_EQ(result.after.interconnect.scale_up_latency_s, before.interconnect.scale_up_latency_s);
  for (const auto& f : result.fitted) EXPECT_EQ(f.find("network"), std::string::npos) << f;
}

TEST(Calibrate, NoRowsForTheHardwareIsAClearError) {
  std::vector<MeasurementRow> rows{gemm_row("h100-sxm", 64, 4096, 4096, DType::bf16, 0.05)};
  try {
    calibrate(rows, "mi300x");
    FAIL() << "expected an error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("mi300x"), std::string::npos);
  }
}

TEST(MeasurementFile, ProblemsNameFileRowAndKey) {
  const std::string path = write_file("bad-measurements.json", R"({"rows": [
    {"id": "a", "category": "operator_gemm", "hardware": "h100-sxm", "measured": 0.1, "unit": "ms", "source": "x",
     "kind": "gem", "m": 1, "n": 1, "k": 1, "dtype": "bf16"},
    {"id": "b", "category": "operator_gemm", "hardware": "h100-sxm", "measured": 0.1, "unit": "tokens/s", "source": "x",
     "kind": "gemm", "m": 1, "n": 1, "k": 1, "dtype": "bf16"},
    {"id": "b", "category": "operator_gemm", "hardware": "h100-sxm", "measured": -1, "unit": "ms", "source": "x",
     "kind": "gemm", "m": 1, "n": 1, "k": 1, "dtype": "bf16"}
  ]})");
  try {
    load_measurements({path});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("/rows/0/kind"), std::string::npos) << msg;
    EXPECT_NE(msg.find("gemm"), std::string::npos) << msg;  // the closest valid kind
    EXPECT_NE(msg.find("/rows/1/unit"), std::string::npos) << msg;
    EXPECT_NE(msg.find("/rows/2/measured"), std::string::npos) << msg;
    EXPECT_NE(msg.find("duplicate row id"), std::string::npos) << msg;
    EXPECT_NE(msg.find("bad-measurements.json"), std::string::npos) << msg;
  }
}

TEST(Accuracy, ModelKindOfEachRowKind) {
  MeasurementRow op;
  op.kind = RowKind::op;
  op.model = "mixtral-8x7b";  // 8 experts
  EXPECT_EQ(row_model_kind(op), "moe");
  op.model = "llama-2-7b";
  EXPECT_EQ(row_model_kind(op), "dense");
  EXPECT_EQ(row_model_kind(gemm_row("h100-sxm", 16, 4096, 4096, DType::bf16, 1)), "none");
  // A scenario row: the model after the row's overrides.
  const std::string path = write_file("kind_rows.json", R"({"rows": [
    {"id": "a", "category": "throughput", "hardware": "h100-sxm", "measured": 1, "unit": "tokens/s", "source": "test",
     "kind": "scenario", "scenario": {"model": "llama-3.1-8b", "hardware": "h100-sxm",
       "workload": {"requests": 4, "arrival": {"process": "offline"}, "input_tokens": 64, "output_tokens": 8}},
     "metric": "metrics.throughput.output_tokens_per_s"},
    {"id": "b", "category": "throughput", "hardware": "h100-sxm", "measured": 1, "unit": "tokens/s", "source": "test",
     "kind": "scenario", "scenario": {"model": "llama-3.1-8b", "hardware": "h100-sxm",
       "workload": {"requests": 4, "arrival": {"process": "offline"}, "input_tokens": 64, "output_tokens": 8}},
     "set": {"model": "qwen3-30b-a3b"}, "metric": "metrics.throughput.output_tokens_per_s"}]})");
  const auto rows = load_measurements({path});
  EXPECT_EQ(row_model_kind(rows[0]), "dense");
  EXPECT_EQ(row_model_kind(rows[1]), "moe");
}

TEST(Accuracy, ErrorStatisticsByModelKind) {
  // Errors by hand: dense -10, +20, +40 % (median |error| 20); moe -30, +10 % (median 20 = (10 + 30) / 2);
  // a kernel row +5 %; a failed moe row counts as failed, not in the median.
  std::vector<MeasurementRow> rows(7);
  AccuracyReport report;
  const double predicted[] = {90, 120, 140, 70, 110, 105, 0};
  const char* kinds[] = {"dense", "dense", "dense", "moe", "moe", "none", "moe"};
  for (int i = 0; i < 7; ++i) {
    rows[i].measured = 100;
    rows[i].category = i < 3 ? "throughput" : "tpot_p50";
    RowResult r;
    r.row = &rows[i];
    if (i < 6) r.predicted = predicted[i];
    r.model_kind = kinds[i];
    report.rows.push_back(r);
  }
  summarize_report(report);
  EXPECT_EQ(report.failed, 1u);
  ASSERT_EQ(report.by_model_kind.size(), 3u);
  EXPECT_EQ(report.by_model_kind["dense"].rows, 3u);
  EXPECT_NEAR(report.by_model_kind["dense"].median_abs_pct, 20.0, 1e-9);
  EXPECT_NEAR(report.by_model_kind["dense"].mean_signed_pct, 50.0 / 3, 1e-9);
  EXPECT_EQ(report.by_model_kind["moe"].rows, 2u);
  EXPECT_NEAR(report.by_model_kind["moe"].median_abs_pct, 20.0, 1e-9);
  EXPECT_NEAR(report.by_model_kind["moe"].mean_signed_pct, -10.0, 1e-9);
  EXPECT_NEAR(report.by_model_kind["none"].median_abs_pct, 5.0, 1e-9);
  EXPECT_EQ(report.overall.rows, 6u);
  // JSON: a summary per kind beside the categories, and each row's kind.
  const auto j = report_json_object(report);
  EXPECT_EQ(j["model_kinds"]["moe"]["rows"], 2);
  EXPECT_NEAR(j["model_kinds"]["dense"]["median_abs_error_pct"].get<double>(), 20.0, 1e-9);
  EXPECT_EQ(j["rows"][3]["model_kind"], "moe");
  EXPECT_TRUE(j.contains("categories"));  // unchanged keys stay
}

TEST(MeasurementFile, ShippedFilesLoadAndEveryRowCarriesItsSource) {
  // Every measurement file shipped in configs/validation (its subfolders hold scenario bases and raw data), so a
  // new file cannot be left out of the check.
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(testing::source_path("configs/validation"))) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  EXPECT_GE(files.size(), 18u);
  const auto rows = load_measurements(files);
  EXPECT_GT(rows.size(), 250u);
  for (const auto& r : rows) {
    EXPECT_FALSE(r.source.empty()) << r.id;
    EXPECT_GT(r.measured, 0) << r.id;
    if (r.kind == RowKind::scenario || r.kind == RowKind::ratio) {
      EXPECT_FALSE(r.assumptions.empty()) << r.id;
    }
  }
}

// The recent-vLLM rows (held out) and the rows vllm-v1 was fitted on (small and large batch, unstreamed): every row runs, and
// each runs on the profile of the vLLM engine it measured: V1 (0.9.0 V1, 0.11.0, nano-vllm's mid-2025 V1, 0.10.2
// V1, the nano-vllm fork's unstated V1 release) on vllm-v1, V0 (0.6.0 with multi-step 10, 0.9.0 V0) on vllm.
TEST(MeasurementFile, RecentVllmRowsRunOnTheEngineTheyMeasured) {
  const auto rows = load_measurements({testing::source_path("configs/validation/vllm-recent.json"),
                                       testing::source_path("configs/validation/vllm-v1-fit.json"),
                                       testing::source_path("configs/validation/vllm-v1-fit-large-batch.json"),
                                       testing::source_path("configs/validation/vllm-v1-fit-offline.json")});
  ASSERT_EQ(rows.size(), 37u);
  EXPECT_EQ(evaluate(rows).failed, 0u);
  for (const auto& r : rows) {
    std::map<std::string, config::Json> set(r.set.begin(), r.set.end());
    ASSERT_TRUE(set.count("engine")) << r.id;
    const bool v1 = r.id.find("-v1/") != std::string::npos || r.id.find("vllm-0.11.0/") != std::string::npos;
    EXPECT_EQ(set.at("engine").get<std::string>(), v1 ? "vllm-v1" : "vllm") << r.id;
    if (r.id.find("vllm-0.6.0/") == 0) {
      EXPECT_EQ(set.at("scheduler.scheduler_steps").get<int>(), 10) << r.id;
    }
  }
}


// Mean of a lognormal (median m, sigma s) clamped to [lo, hi], as the workload loader draws lengths: the clamped
// tails at lo and hi plus exp(mu + s^2/2) times the mass of the shifted normal between the clamps.
double clamped_lognormal_mean(double m, double s, double lo, double hi) {
  const auto phi = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  const double a = (std::log(lo) - std::log(m)) / s;
  const double b = (std::log(hi) - std::log(m)) / s;
  return lo * phi(a) + m * std::exp(s * s / 2) * (phi(b - s) - phi(a - s)) + hi * (1 - phi(b));
}

// GPUStack's vLLM 0.11.0 ShareGPT baselines (1,000 prompts at once, `vllm serve` defaults): each throughput row is
// its page's generated tokens over its benchmark duration, its output lengths average the run's tokens per request
// and its input lengths the 217,393 / 1,000 every run of the case printed, and each ran with vLLM's server defaults
// for its chip: 8,192 tokens and 1,024 sequences a step on an H100, 2,048 and 256 on an A100 (vllm-project/vllm#17885).
TEST(MeasurementFile, GpustackShareGptRowsAreTheirPagesRuns) {
  struct Run {
    double generated_tokens, duration_s;
    int max_batched_tokens, max_batch_size;
  };
  const std::map<std::string, Run> runs = {
      {"qwen3-32b-1xh100", {201422, 178.01, 8192, 1024}},
      {"qwen3-14b-1xh100", {201648, 63.53, 8192, 1024}},
      {"qwen3-14b-1xa100", {201605, 106.82, 2048, 256}},
      {"qwen3-32b-1xa100", {201396, 241.94, 2048, 256}},
  };
  const auto rows = load_measurements({testing::source_path("configs/validation/vllm-recent.json")});
  int seen = 0;
  for (const auto& r : rows) {
    if (r.id.find("vllm-0.11.0/gpustack-sharegpt/") != 0) continue;
    const std::string key = r.id.substr(30, r.id.find('/', 30) - 30);
    ASSERT_TRUE(runs.count(key)) << r.id;
    const Run& run = runs.at(key);
    std::map<std::string, config::Json> set(r.set.begin(), r.set.end());
    if (r.category == "throughput") {
      // The duration is printed to two decimals (+-0.005 s).
      EXPECT_NEAR(r.measured * run.duration_s, run.generated_tokens, r.measured * 0.005) << r.id;
    }
    EXPECT_EQ(set.at("scheduler.max_batched_tokens").get<int>(), run.max_batched_tokens) << r.id;
    EXPECT_EQ(set.at("scheduler.max_batch_size").get<int>(), run.max_batch_size) << r.id;
    EXPECT_EQ(set.at("workload.requests").get<int>(), 1000) << r.id;
    const auto& out = set.at("workload.output_tokens");
    EXPECT_NEAR(clamped_lognormal_mean(out.at("median").get<double>(), 1.0, 4, 1536), run.generated_tokens / 1000,
                0.2) << r.id;  // medians to 0.1 token
    const auto& in = set.at("workload.input_tokens");
    EXPECT_NEAR(clamped_lognormal_mean(in.at("median").get<double>(), 1.0, 4, 1024), 217.393, 0.2) << r.id;
    ++seen;
  }
  EXPECT_EQ(seen, 8);
}

// One printed run of a serving benchmark (GPUStack's pages): its totals, duration and requests.
struct PrintedRun {
  double generated_tokens, duration_s, input_tokens;
  int requests;
};

// GPUStack's vLLM 0.11.0 gpt-oss baselines: the rows vllm-v1's fused-MoE figure was fitted on (gpt-oss-20b on an
// H100) and the held-out A100 rows. Each throughput row is its run's generated tokens over its printed duration; a
// random run's lengths are its printed totals over its requests (every prompt drawn at --random-input-len and
// re-tokenized, so the mean is the length), a ShareGPT run's a lognormal whose clamped mean is the run's; each runs
// on vllm-v1 with vLLM's server defaults for its chip (8,192 tokens and 1,024 sequences on an H100, 2,048 and 256 on an
// A100, vllm-project/vllm#17885).
TEST(MeasurementFile, GptOssRowsAreTheirPagesRuns) {
  const std::map<std::string, PrintedRun> runs = {
      {"random-32000-100/gpt-oss-20b-1xh100/rate-inf", {9350, 107.95, 3200000, 100}},
      {"random-4000-200/gpt-oss-20b-1xh100/rate-inf", {52309, 61.73, 1999249, 500}},
      {"random-2000-100/gpt-oss-20b-1xh100/rate-inf", {47022, 32.58, 999120, 500}},
      {"random-128-4/gpt-oss-20b-1xh100/rate-inf", {4000, 4.70, 127755, 1000}},
      {"sharegpt/gpt-oss-20b-1xa100/rate-inf", {194171, 42.03, 215312, 1000}},
      {"random-32000-100/gpt-oss-20b-1xa100/rate-inf", {9533, 440.85, 3200000, 100}},
      {"random-4000-200/gpt-oss-20b-1xa100/rate-inf", {53530, 128.79, 1999249, 500}},
      {"random-2000-100/gpt-oss-20b-1xa100/rate-inf", {47224, 58.06, 999120, 500}},
      {"random-128-4/gpt-oss-20b-1xa100/rate-inf", {4000, 5.44, 127755, 1000}},
      {"sharegpt/gpt-oss-120b-1xa100/rate-inf", {196656, 86.39, 215312, 1000}},
      {"random-32000-100/gpt-oss-120b-1xa100/rate-inf", {9988, 740.10, 3200000, 100}},
      {"random-4000-200/gpt-oss-120b-1xa100/rate-inf", {67259, 269.39, 1999249, 500}},
      {"random-2000-100/gpt-oss-120b-1xa100/rate-inf", {48981, 123.94, 999120, 500}},
      {"random-128-4/gpt-oss-120b-1xa100/rate-inf", {4000, 14.09, 127755, 1000}},
      {"sharegpt/gpt-oss-120b-1xa100/c4", {21691, 66.52, 22946, 100}},
  };
  const auto rows = load_measurements({testing::source_path("configs/validation/vllm-v1-fit-moe.json"),
                                       testing::source_path("configs/validation/gpustack-gpt-oss-a100.json")});
  ASSERT_EQ(rows.size(), 3 * runs.size());
  EXPECT_EQ(evaluate(rows).failed, 0u);
  std::map<std::string, int> seen;
  for (const auto& r : rows) {
    const std::size_t at = r.id.find("/gpustack-") + 10;
    const std::string key = r.id.substr(at, r.id.rfind('/') - at);
    ASSERT_TRUE(runs.count(key)) << r.id;
    ++seen[key];
    const PrintedRun& run = runs.at(key);
    const bool a100 = key.find("-1xa100/") != std::string::npos;
    std::map<std::string, config::Json> set(r.set.begin(), r.set.end());
    EXPECT_EQ(set.at("engine").get<std::string>(), "vllm-v1") << r.id;
    EXPECT_EQ(set.at("hardware").get<std::string>(), a100 ? "a100-sxm-80gb" : "h100-sxm") << r.id;
    EXPECT_EQ(set.at("scheduler.max_batched_tokens").get<int>(), a100 ? 2048 : 8192) << r.id;
    EXPECT_EQ(set.at("scheduler.max_batch_size").get<int>(), a100 ? 256 : 1024) << r.id;
    EXPECT_EQ(set.at("workload.requests").get<int>(), run.requests) << r.id;
    if (r.category == "throughput") {
      // Both printed to two decimals: throughput x duration is within 0.005 (throughput + duration) of the tokens.
      EXPECT_NEAR(r.measured * run.duration_s, run.generated_tokens, 0.005 * (r.measured + run.duration_s)) << r.id;
    }
    const auto& in = set.at("workload.input_tokens");
    const auto& out = set.at("workload.output_tokens");
    if (key.rfind("sharegpt/", 0) == 0) {
      EXPECT_NEAR(clamped_lognormal_mean(in.at("median").get<double>(), 1.0, 4, 1024), run.input_tokens / run.requests, 0.2)
          << r.id;
      EXPECT_NEAR(clamped_lognormal_mean(out.at("median").get<double>(), 1.0, 4, 1536), run.generated_tokens / run.requests,
                  0.2)
          << r.id;
    } else {
      EXPECT_EQ(in.get<double>(), std::round(run.input_tokens / run.requests)) << r.id;
      EXPECT_EQ(out.get<double>(), std::round(run.generated_tokens / run.requests)) << r.id;
    }
  }
  for (const auto& [key, run] : runs) EXPECT_EQ(seen[key], 3) << key;  // throughput, TPOT p50, TTFT p50
}

// GPUStack's async-scheduling pairs (vllm-v1-async's fit rows and the held-out ones): each row pairs two printed runs of
// one case whose serving commands differ only by --async-scheduling. The throughput gain is the async run's generated
// tokens per second over the plain run's, from the printed totals and durations; the TPOT gain the plain run's TPOT p50
// over the async run's; both sides run the plain row's scenario (the same set as the row in its baseline file), on
// vllm-v1 and on vllm-v1-async.
TEST(MeasurementFile, AsyncSchedulingPairsAreTheirPagesRuns) {
  struct Pair {
    PrintedRun plain, async;
    double plain_tpot_ms, async_tpot_ms;
  };
  const std::map<std::string, Pair> pairs = {
      {"vllm-0.11.0/gpustack-sharegpt/gpt-oss-20b-1xh100", {{193979, 24.81, 0, 1000}, {193919, 21.39, 0, 1000}, 55.52, 52.23}},
      {"vllm-0.11.0/gpustack-random-32000-100/gpt-oss-20b-1xh100", {{9350, 107.95, 0, 100}, {9404, 107.99, 0, 100}, 273.86, 275.30}},
      {"vllm-0.11.0/gpustack-random-4000-200/gpt-oss-20b-1xh100", {{52309, 61.73, 0, 500}, {52966, 60.67, 0, 500}, 225.55, 224.54}},
      {"vllm-0.11.0/gpustack-random-2000-100/gpt-oss-20b-1xh100", {{47022, 32.58, 0, 500}, {46814, 31.55, 0, 500}, 159.20, 154.39}},
      {"vllm-0.11.0/gpustack-random-128-4/gpt-oss-20b-1xh100", {{4000, 4.70, 0, 1000}, {4000, 4.04, 0, 1000}, 208.03, 16.98}},
      {"vllm-0.11.0/gpustack-sharegpt/gpt-oss-20b-1xa100", {{194171, 42.03, 0, 1000}, {194303, 37.51, 0, 1000}, 45.15, 39.47}},
      {"vllm-0.11.0/gpustack-random-32000-100/gpt-oss-20b-1xa100", {{9533, 440.85, 0, 100}, {9394, 435.88, 0, 100}, 278.17, 275.04}},
      {"vllm-0.11.0/gpustack-random-4000-200/gpt-oss-20b-1xa100", {{53530, 128.79, 0, 500}, {52857, 123.99, 0, 500}, 129.79, 125.63}},
      {"vllm-0.11.0/gpustack-random-2000-100/gpt-oss-20b-1xa100", {{47224, 58.06, 0, 500}, {46961, 55.29, 0, 500}, 119.20, 114.20}},
      {"vllm-0.11.0/gpustack-random-128-4/gpt-oss-20b-1xa100", {{4000, 5.44, 0, 1000}, {4000, 5.23, 0, 1000}, 65.44, 46.59}},
      {"vllm-0.11.0/gpustack-sharegpt/gpt-oss-120b-1xa100", {{196656, 86.39, 0, 1000}, {195312, 82.35, 0, 1000}, 90.70, 86.19}},
      {"vllm-0.10.2/gpustack-sharegpt/gpt-oss-120b-1xh100", {{195544, 67.40, 0, 1000}, {187289, 63.65, 0, 1000}, 47.57, 46.51}},
  };
  // The plain rows' sets, from the files that hold them.
  std::map<std::string, std::map<std::string, config::Json>> plain_sets;
  for (const auto& r : load_measurements({testing::source_path("configs/validation/vllm-v1-fit-large-batch.json"),
                                          testing::source_path("configs/validation/vllm-v1-fit-moe.json"),
                                          testing::source_path("configs/validation/gpustack-gpt-oss-a100.json"),
                                          testing::source_path("configs/validation/gpustack-gpt-oss-120b.json")})) {
    std::map<std::string, config::Json> set(r.set.begin(), r.set.end());
    set.erase("engine");
    plain_sets[r.id.substr(0, r.id.rfind("/rate-inf/"))] = set;
  }
  const auto fit = load_measurements({testing::source_path("configs/validation/vllm-v1-async-fit.json")});
  const auto held = load_measurements({testing::source_path("configs/validation/gpustack-async.json")});
  ASSERT_EQ(fit.size(), 9u);    // 5 throughput gains, 4 TPOT gains (not the 4-token outputs')
  ASSERT_EQ(held.size(), 13u);  // 7 and 6
  std::vector<MeasurementRow> rows = fit;
  rows.insert(rows.end(), held.begin(), held.end());
  EXPECT_EQ(evaluate(rows).failed, 0u);
  std::map<std::string, int> seen;
  for (const auto& r : rows) {
    const std::string key = r.id.substr(0, r.id.rfind("/rate-inf/"));
    ASSERT_TRUE(pairs.count(key)) << r.id;
    ASSERT_TRUE(plain_sets.count(key)) << r.id;
    ++seen[key];
    const bool fit_row = key.find("gpt-oss-20b-1xh100") != std::string::npos;
    EXPECT_EQ(std::find_if(fit.begin(), fit.end(), [&](const MeasurementRow& f) { return f.id == r.id; }) != fit.end(),
              fit_row)
        << r.id;
    const Pair& p = pairs.at(key);
    EXPECT_EQ(r.kind, RowKind::ratio) << r.id;
    std::map<std::string, config::Json> set(r.set.begin(), r.set.end());
    EXPECT_EQ(set, plain_sets.at(key)) << r.id;
    const std::map<std::string, config::Json> plain(r.baseline_set.begin(), r.baseline_set.end());
    const std::map<std::string, config::Json> async(r.variant_set.begin(), r.variant_set.end());
    EXPECT_EQ(plain, (std::map<std::string, config::Json>{{"engine", "vllm-v1"}})) << r.id;
    EXPECT_EQ(async, (std::map<std::string, config::Json>{{"engine", "vllm-v1-async"}})) << r.id;
    if (r.category == "async_throughput_gain") {
      EXPECT_EQ(r.metric, "metrics.simulated_duration_s") << r.id;
      const double gain = (p.async.generated_tokens / p.async.duration_s) / (p.plain.generated_tokens / p.plain.duration_s);
      // The measured gain is the printed throughputs' ratio, rounded to 4 decimals; durations and throughputs are
      // printed to 0.01 (each +-0.005).
      const double slack = gain * 0.005 *
                               (1 / p.async.duration_s + 1 / p.plain.duration_s +
                                p.async.duration_s / p.async.generated_tokens + p.plain.duration_s / p.plain.generated_tokens) +
                           5e-5;
      EXPECT_NEAR(r.measured, gain, slack) << r.id;
    } else {
      ASSERT_EQ(r.category, "async_tpot_gain") << r.id;
      EXPECT_EQ(r.metric, "metrics.tpot_s.p50") << r.id;
      EXPECT_NEAR(r.measured, p.plain_tpot_ms / p.async_tpot_ms, 1e-4) << r.id;
    }
  }
  for (const auto& [key, pair] : pairs) {
    EXPECT_EQ(seen[key], key.find("random-128-4") != std::string::npos ? 1 : 2) << key;  // no TPOT gain of 4-token outputs
  }
}

// The rows the sglang profile's host time was fitted on are SGLang's runs on GPUStack's pages, each on the sglang
// engine with SGLang's own batching (no scheduler key: the page's serving script sets none): throughput is the
// run's generated tokens over its duration, and the lengths average the run's tokens per request (100 requests
// at 4 clients on the Qwen3-8B latency page, 1,000 at once on the Qwen3-14B pages).
TEST(MeasurementFile, SglangFitRowsAreTheirPagesRuns) {
  const std::map<std::string, PrintedRun> runs = {
      {"qwen3-8b-1xh100", {22061, 41.97, 23260, 100}},
      {"qwen3-14b-1xh100", {201628, 49.86, 217393, 1000}},
      {"qwen3-14b-1xa100", {201706, 79.35, 217393, 1000}},
  };
  const auto rows = load_measurements({testing::source_path("configs/validation/sglang-fit.json")});
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(evaluate(rows).failed, 0u);
  for (const auto& r : rows) {
    const std::size_t at = r.id.find("/gpustack-sharegpt/") + 19;
    const std::string key = r.id.substr(at, r.id.find('/', at) - at);
    ASSERT_TRUE(runs.count(key)) << r.id;
    const PrintedRun& run = runs.at(key);
    std::map<std::string, config::Json> set(r.set.begin(), r.set.end());
    EXPECT_EQ(set.at("engine").get<std::string>(), "sglang") << r.id;
    for (const auto& [k, v] : set) EXPECT_NE(k.rfind("scheduler.", 0), 0u) << r.id << " sets " << k;
    if (r.category == "throughput") {
      EXPECT_NEAR(r.measured * run.duration_s, run.generated_tokens, r.measured * 0.005) << r.id;
    }
    EXPECT_EQ(set.at("workload.requests").get<int>(), run.requests) << r.id;
    const auto& out = set.at("workload.output_tokens");
    EXPECT_NEAR(clamped_lognormal_mean(out.at("median").get<double>(), 1.0, 4, 1536),
                run.generated_tokens / run.requests, 0.2) << r.id;
    const auto& in = set.at("workload.input_tokens");
    EXPECT_NEAR(clamped_lognormal_mean(in.at("median").get<double>(), 1.0, 4, 1024), run.input_tokens / run.requests,
                0.2) << r.id;
  }
}

// The RTX PRO 6000 rows of single-user.json are the llama-bench tg128 lines of the published log
// (AUGMXNT/llm-tracker.info-vault 'RTX PRO 6000.md'@0552f38: 278.95 and 34.05 tokens/s), each decoding 128
// tokens with its GGUF's block size (Q4_0: 32 weights per scale, Q4_K_M: 20 as the other Q4_K_M rows), and run.
TEST(MeasurementFile, RtxProBlackwellRowsAreThePublishedTg128Lines) {
  const auto rows = load_measurements({testing::source_path("configs/validation/single-user.json")});
  const std::map<std::string, std::pair<double, int>> expected = {
      {"llamacpp/llama-2-7b-q4_0-rtx-pro-6000-x1", {278.95, 32}},
      {"llamacpp/llama-3.3-70b-q4_k_m-rtx-pro-6000-x1", {34.05, 20}},
  };
  std::vector<MeasurementRow> pro;
  for (const auto& r : rows) {
    if (r.hardware != "rtx-pro-6000") continue;
    pro.push_back(r);
    ASSERT_TRUE(expected.count(r.id)) << r.id;
    EXPECT_EQ(r.measured, expected.at(r.id).first) << r.id;
    std::map<std::string, config::Json> set(r.set.begin(), r.set.end());
    EXPECT_EQ(set.at("workload.output_tokens").get<int>(), 128) << r.id;
    EXPECT_EQ(set.at("deployment.quantization_group_size").get<int>(), expected.at(r.id).second) << r.id;
    EXPECT_NE(r.source.find("0552f3831d2088201d9b0e627a47d0df5f30f5dc"), std::string::npos) << r.id;
  }
  ASSERT_EQ(pro.size(), 2u);
  EXPECT_EQ(evaluate(pro).failed, 0u);
}
// The nano-vllm row replays bench.py's requests: 256 of them, all at t = 0, with the 133,966 output tokens its
// README prints (the sum of max_tokens), each length in bench.py's randint(100, 1024) range.
TEST(MeasurementFile, NanoVllmTraceIsTheBenchmarksRequests) {
  std::ifstream in(testing::source_path("configs/validation/scenarios/nano-vllm-bench-seed0.csv"));
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line, "arrival_s,input_tokens,output_tokens");
  int requests = 0;
  long input = 0, output = 0;
  while (std::getline(in, line)) {
    int t = -1, i = 0, o = 0;
    ASSERT_EQ(std::sscanf(line.c_str(), "%d,%d,%d", &t, &i, &o), 3) << line;
    EXPECT_EQ(t, 0);
    EXPECT_TRUE(i >= 100 && i <= 1024 && o >= 100 && o <= 1024) << line;
    ++requests;
    input += i;
    output += o;
  }
  EXPECT_EQ(requests, 256);
  EXPECT_EQ(output, 133966);
  // Uniform 100-1024 has a mean of 562 tokens; the seed-0 draw's prompts average 557.9.
  EXPECT_EQ(input, 142827);
}

// The rows of `file` (under configs/validation) whose id holds `id_part` replay nano-vllm's bench.py (the trace above): each one's
// throughput times the wall time its source printed for its model (two decimals, so +-0.005 s) gives back the
// trace's 133,966 output tokens. Checks the chip and the step limits each ran with; returns how many rows it saw.
int expect_bench_rows_are_the_trace_over(const std::string& file, const std::string& id_part,
                                         const std::map<std::string, double>& wall_s, const std::string& hardware,
                                         int max_batched_tokens, int max_batch_size) {
  const auto rows = load_measurements({testing::source_path("configs/validation/" + file)});
  int seen = 0;
  for (const auto& r : rows) {
    if (r.id.find(id_part) == std::string::npos) continue;
    std::map<std::string, config::Json> set(r.set.begin(), r.set.end());
    const double t = wall_s.at(set.at("model").get<std::string>());
    EXPECT_NEAR(r.measured * t, 133966.0, r.measured * 0.005) << r.id;
    EXPECT_EQ(r.hardware, hardware) << r.id;
    EXPECT_EQ(set.at("hardware").get<std::string>(), hardware) << r.id;
    EXPECT_EQ(set.at("scheduler.max_batched_tokens").get<int>(), max_batched_tokens) << r.id;
    EXPECT_EQ(set.at("scheduler.max_batch_size").get<int>(), max_batch_size) << r.id;
    ++seen;
  }
  return seen;
}

// The nano-vllm-triton rows (vLLM 0.10.2 on an A800, which vLLM gives the H100-class defaults for the LLM class:
// 16,384 tokens and 1,024 sequences a step; vllm-v1's per-sequence fit rows since 2026-12-07) ran the same 256
// requests in 15.60 s and 10.61 s.
TEST(MeasurementFile, NanoVllmTritonRowsAreTheTraceOverTheirWallTime) {
  const std::map<std::string, double> wall_s = {{"qwen3-0.6b", 15.60}, {"llama-3.2-1b", 10.61}};
  EXPECT_EQ(expect_bench_rows_are_the_trace_over("vllm-v1-fit-offline.json", "nano-vllm-triton-bench/", wall_s,
                                                 "a100-sxm-80gb", 16384, 1024),
            2);
}

// The limei1221/nano-vllm rows (vLLM's V1 engine, release not stated, on an A100 40GB, which gets the LLM class's A100
// defaults: 8,192 tokens and 256 sequences a step) ran them in 17.90 s and 12.06 s.
TEST(MeasurementFile, NanoVllmForkRowsAreTheTraceOverTheirWallTime) {
  const std::map<std::string, double> wall_s = {{"qwen3-0.6b", 17.90}, {"llama-3.2-1b", 12.06}};
  EXPECT_EQ(
      expect_bench_rows_are_the_trace_over("vllm-recent.json", "limei1221-nano-vllm-bench/", wall_s, "a100-40gb", 8192, 256),
      2);
}

// DeepGEMM's published H800 table as kernel times: every row runs over DeepSeek-V3's block-scaled FP8 weights, and
// its time is the published rate over 2 M N K, derived here again for two rows (README as first released:
// M 4096 N 32768 K 512 at 590 TFLOPS; M 64 N 2112 K 7168 at 206 TFLOPS).
TEST(MeasurementFile, DeepGemmRowsArePublishedRatesOverBlockScaledWeights) {
  const auto rows = load_measurements({testing::source_path("configs/validation/deepgemm.json")});
  ASSERT_EQ(rows.size(), 18u);
  EXPECT_EQ(evaluate(rows).failed, 0u);
  std::map<std::string, double> measured_ms;
  for (const auto& r : rows) {
    EXPECT_EQ(r.kind, RowKind::gemm) << r.id;
    EXPECT_EQ(r.hardware, "h800") << r.id;
    EXPECT_EQ(r.model, "deepseek-v3") << r.id;
    EXPECT_EQ(r.dtype, DType::fp8) << r.id;
    EXPECT_NE(r.source.find("deepseek-ai/DeepGEMM"), std::string::npos) << r.id;
    measured_ms[r.id] = r.measured;
  }
  EXPECT_NEAR(measured_ms.at("deepgemm/h800/dense/m4096/n32768/k512"), 2.0 * 4096 * 32768 * 512 / 590e12 * 1e3, 1e-5);
  EXPECT_NEAR(measured_ms.at("deepgemm/h800/dense/m64/n2112/k7168"), 2.0 * 64 * 2112 * 7168 / 206e12 * 1e3, 1e-6);
}

// The held-out DeepEP rows (left out of the CI guard's row set): every row runs, cites the README's commit, and
// the normal rows' times are the published bandwidths over the bytes DeepEP's tests count, derived here again.
TEST(MeasurementFile, ExpertParallelRowsAllRun) {
  const auto rows = load_measurements({testing::source_path("configs/validation/expert-parallel.json")});
  ASSERT_EQ(rows.size(), 20u);
  const auto report = evaluate(rows);
  EXPECT_EQ(report.failed, 0u);
  std::map<std::string, double> measured;
  for (const auto& r : rows) {
    EXPECT_EQ(r.kind, RowKind::all_to_all) << r.id;
    EXPECT_EQ(r.hardware, "h800") << r.id;
    EXPECT_NE(r.source.find("0aaa6744c890c5af051f622252975c4393795000"), std::string::npos) << r.id;
    EXPECT_FALSE(r.assumptions.empty()) << r.id;
    measured[r.id] = r.measured;
  }
  // Intranode EP8 dispatch: each rank receives 8 x 4096 x P(a token picks one of its 32 of 256 experts) rows of
  // 7168 FP8 bytes plus 56 FP32 scales; P = 1 - C(224,8)/C(256,8). At 153 GB/s.
  double untouched = 1;
  for (int i = 0; i < 8; ++i) untouched *= (224.0 - i) / (256.0 - i);
  const double ep8_bytes = 8 * 4096 * (1 - untouched) * 7168 * (1 + 4.0 / 128);
  EXPECT_NEAR(measured.at("deepep/normal/dispatch-ep8"), ep8_bytes / 153e9 * 1e6, 0.1);
  // Internode EP32 combine: 4096 tokens x distinct nodes of 4 (1 - C(192,8)/C(256,8) each) x 7168 x 2 bytes at 57 GB/s.
  double off_node = 1;
  for (int i = 0; i < 8; ++i) off_node *= (192.0 - i) / (256.0 - i);
  EXPECT_NEAR(measured.at("deepep/normal/combine-ep32"), 4096 * 4 * (1 - off_node) * 7168 * 2 / 57e9 * 1e6, 0.1);
  // Low-latency rows are the published times.
  EXPECT_EQ(measured.at("deepep/low-latency/dispatch-ep128"), 192);
}

// Little's law on the published Server logs: the sequences decoding at once are the output rate times the
// time per output token. A row whose assumed batch limit is below that mean contradicts its own measurement
// (the engine could not have held that many); B200's once-assumed 1024 against the ~1,460 its log implies
// was such a row. With pipeline parallelism the limit holds per micro-batch, and a replica runs one micro-batch
// per stage (H100's v5.0 PP2 instances: 1,024 each, ~1,080 decoding per instance).
TEST(MeasurementFile, ServerBatchLimitsHoldTheSequencesTheLogsImply) {
  const auto rows = load_measurements({testing::source_path("configs/validation/mlperf.json"),
                                       testing::source_path("configs/validation/mlperf-v5.0.json")});
  std::map<std::string, double> tokens_per_s, tpot_s;
  std::map<std::string, const MeasurementRow*> server_row;
  for (const auto& r : rows) {
    if (r.group.find("-server") == std::string::npos) continue;
    if (r.category == "throughput") tokens_per_s[r.group] = r.measured, server_row[r.group] = &r;
    if (r.category == "tpot_p50") tpot_s[r.group] = r.measured / 1000;
  }
  int checked = 0;
  for (const auto& [group, rate] : tokens_per_s) {
    if (!tpot_s.count(group)) continue;
    double batch_limit = 0, replicas = 1, stages = 1;
    for (const auto& [key, value] : server_row[group]->set) {
      if (key == "scheduler.max_batch_size") batch_limit = value.get<double>();
      if (key == "deployment.replicas") replicas = value.get<double>();
      if (key == "deployment.pipeline_parallel") stages = value.get<double>();
    }
    ASSERT_GT(batch_limit, 0) << group;
    EXPECT_LE(rate * tpot_s[group] / replicas, batch_limit * stages) << group;
    ++checked;
  }
  EXPECT_EQ(checked, 23);  // every Server row with a TPOT in the logs: 12 of v4.x, 11 of v5.0
}

}  // namespace
}  // namespace infersim::validation
