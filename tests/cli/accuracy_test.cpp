// `infersim accuracy` and `infersim calibrate` from the command line, and the CI guard on the shipped
// measurement set (configs/baselines/accuracy-guard.json).

#include <algorithm>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/serving/serving_engine_loader.hpp"
#include "infersim/validation/accuracy.hpp"
#include "infersim/validation/calibrate.hpp"
#include "infersim/validation/holdout.hpp"
#include "support/cli.hpp"
#include "support/paths.hpp"

namespace infersim {
namespace {

/// Two GEMM rows whose "measurements" are the prediction x 1.25 (error -20%) and x 0.8 (error +25%).
std::string two_gemm_rows() {
  validation::MeasurementRow r;
  r.kind = validation::RowKind::gemm;
  r.hardware = "h100-sxm";
  r.unit = "ms";
  r.dtype = DType::bf16;
  r.m = 4096, r.k = 4096, r.n = 4096;
  const double big = validation::predict(r);
  r.m = 1;
  const double small = validation::predict(r);
  nlohmann::json rows = nlohmann::json::array();
  rows.push_back({{"id", "big"}, {"category", "operator_gemm"}, {"hardware", "h100-sxm"}, {"measured", big * 1.25},
                  {"unit", "ms"}, {"source", "test"}, {"kind", "gemm"}, {"m", 4096}, {"n", 4096}, {"k", 4096},
                  {"dtype", "bf16"}});
  rows.push_back({{"id", "small"}, {"category", "operator_gemm"}, {"hardware", "h100-sxm"}, {"measured", small * 0.8},
                  {"unit", "ms"}, {"source", "test"}, {"kind", "gemm"}, {"m", 1}, {"n", 4096}, {"k", 4096},
                  {"dtype", "bf16"}});
  return testing::write_temp("two_gemms.json", nlohmann::json{{"rows", rows}}.dump());
}

TEST(AccuracyCli, ReportsErrorsAndStatistics) {
  const auto file = two_gemm_rows();
  const auto r = testing::run_cli("accuracy " + file + " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_NEAR(j["rows"][0]["error_pct"].get<double>(), -20.0, 1e-6);
  EXPECT_NEAR(j["rows"][1]["error_pct"].get<double>(), 25.0, 1e-6);
  EXPECT_NEAR(j["overall"]["median_abs_error_pct"].get<double>(), 22.5, 1e-6);
  EXPECT_NEAR(j["overall"]["mean_signed_error_pct"].get<double>(), 2.5, 1e-6);
  EXPECT_NEAR(j["categories"]["operator_gemm"]["p90_abs_error_pct"].get<double>(), 25.0, 1e-6);
  const auto md = testing::run_cli("accuracy " + file + " --format markdown");
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("| **overall** | 2 | 22.5% | 25.0% | +2.5% |"), std::string::npos) << md.out;
}

TEST(AccuracyCli, GuardFailsWhenTheErrorRisesMoreThanTheTolerance) {
  const auto file = two_gemm_rows();
  const auto low = testing::write_temp("guard_low.json", R"({"median_abs_error_pct": 20.0, "rows": 2})");
  const auto ok = testing::write_temp("guard_ok.json", R"({"median_abs_error_pct": 21.0, "rows": 2})");
  const auto failed = testing::run_cli("accuracy " + file + " --guard " + low);  // 22.5 > 20 + 2
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_NE(failed.err.find("rose by 2.50 points"), std::string::npos) << failed.err;
  EXPECT_EQ(testing::run_cli("accuracy " + file + " --guard " + ok).exit_code, 0);
  EXPECT_EQ(testing::run_cli("accuracy " + file + " --guard " + low + " --tolerance 3").exit_code, 0);
}

TEST(AccuracyCli, CalibrateWritesAProfileThatFitsBetter) {
  const auto file = two_gemm_rows();
  const std::string out = ::testing::TempDir() + "/calibrated-h100.json";
  const auto r = testing::run_cli("calibrate " + file + " --hardware h100-sxm --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("median |error| 22.5% ->"), std::string::npos) << r.err;
  const auto profile = nlohmann::json::parse(testing::read_text(out));
  EXPECT_EQ(profile["name"], "h100-sxm");
  EXPECT_NE(profile["efficiency"]["source"].get<std::string>().find("Calibrated with `infersim calibrate`"), std::string::npos);
  // The calibrated profile loads and predicts the rows better.
  const auto check = testing::run_cli("validate " + out);
  EXPECT_EQ(check.exit_code, 0) << check.err;
  const auto bad = testing::run_cli("calibrate " + file + " --hardware mi300x");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("mi300x"), std::string::npos) << bad.err;
}

validation::HoldoutOptions options(int max_evaluations, bool refit_engines = true, int jobs = 1) {
  validation::HoldoutOptions o;
  o.max_evaluations = max_evaluations;
  o.refit_engines = refit_engines;
  o.jobs = jobs;
  return o;
}

/// A device-to-device copy row: its time is bytes / (bandwidth x memory efficiency) + one kernel launch.
nlohmann::json copy_row(const std::string& id, const std::string& group, const std::string& hardware, double bytes,
                        double measured_ms) {
  return {{"id", id}, {"category", "memory_copy"}, {"group", group}, {"hardware", hardware}, {"measured", measured_ms},
          {"unit", "ms"}, {"source", "test"}, {"kind", "copy"}, {"bytes", bytes}};
}

double copy_ms(const hardware::HardwareSpec& h, double bytes, double memory_efficiency, double launch_s) {
  return 1e3 * (bytes / (h.memory.bandwidth_bytes_per_s * memory_efficiency) + launch_s);
}

// Held out by hardware, a chip with no other row is predicted with its own datasheet figures and the
// calibrated parameters of the chips that are not held out (here only a100-sxm-80gb's).
TEST(AccuracyHoldout, AChipWithNoOtherRowTakesTheOtherChipsCalibratedParameters) {
  const auto h100 = hardware::load_hardware("h100-sxm");
  const auto a100 = hardware::load_hardware("a100-sxm-80gb");
  ASSERT_FALSE(validation::fitted_parameters(a100).empty()) << "a100-sxm-80gb is a calibrated profile";
  const double bytes = 8e9;
  nlohmann::json rows = nlohmann::json::array();
  rows.push_back(copy_row("h100-copy", "g1", "h100-sxm", bytes, 5.0));
  rows.push_back(copy_row("a100-copy", "g2", "a100-sxm-80gb", bytes, 7.0));
  const auto file = testing::write_temp("holdout_hw.json", nlohmann::json{{"rows", rows}}.dump());
  const auto r = testing::run_cli("accuracy " + file + " --holdout hardware --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& held = j["holdout"];
  EXPECT_EQ(held["field"], "hardware");
  ASSERT_EQ(held["folds"].size(), 2u);
  ASSERT_EQ(held["rows"].size(), 2u);
  // h100 held out: its bandwidth, a100's fitted memory efficiency and launch cost.
  const double expected = copy_ms(h100, bytes, a100.efficiency.memory, a100.efficiency.kernel_launch_overhead_s);
  EXPECT_NEAR(held["rows"][0]["predicted"].get<double>(), expected, 1e-9 * expected);
  EXPECT_EQ(held["folds"][1]["value"], "h100-sxm");
  EXPECT_EQ(held["folds"][1]["transferred"], nlohmann::json::array({"h100-sxm"}));
  EXPECT_EQ(held["folds"][1]["references"], nlohmann::json::array({"a100-sxm-80gb"}));
  // The in-sample prediction uses h100's own profile.
  EXPECT_NEAR(j["rows"][0]["predicted"].get<double>(),
              copy_ms(h100, bytes, h100.efficiency.memory, h100.efficiency.kernel_launch_overhead_s), 1e-9);
}

// An unmeasured chip starts from the chips of its own architecture (the same cores and kernels) where any of them
// was calibrated, as the catalog's own unmeasured Hopper profiles do, and from the median of all the others only
// where none was: an H200 takes the H100's fitted efficiencies, not the middle of a Blackwell, a Hopper and a CDNA 3.
TEST(AccuracyHoldout, AnUnmeasuredChipStartsFromTheChipsOfItsOwnArchitecture) {
  const auto h100 = hardware::load_hardware("h100-sxm");
  const auto a100 = hardware::load_hardware("a100-sxm-80gb");
  const auto mi300x = hardware::load_hardware("mi300x");
  const auto b200 = hardware::load_hardware("b200");
  ASSERT_EQ(hardware::load_hardware("h200-sxm").architecture, "nvidia-hopper");
  ASSERT_EQ(h100.architecture, "nvidia-hopper");
  ASSERT_NE(b200.architecture, h100.architecture);
  ASSERT_NE(mi300x.architecture, h100.architecture);
  const auto h200 = validation::transfer_profile("h200-sxm", {"b200", "h100-sxm", "mi300x"});
  EXPECT_DOUBLE_EQ(h200.efficiency.compute, h100.efficiency.compute);
  EXPECT_DOUBLE_EQ(h200.efficiency.memory, h100.efficiency.memory);
  EXPECT_DOUBLE_EQ(h200.efficiency.moe_gemm, h100.efficiency.moe_gemm);
  EXPECT_DOUBLE_EQ(h200.efficiency.kernel_launch_overhead_s, h100.efficiency.kernel_launch_overhead_s);
  // No Blackwell among the references: b200 takes the middle of the three fitted compute efficiencies.
  const auto b = validation::transfer_profile("b200", {"a100-sxm-80gb", "h100-sxm", "mi300x"});
  const double x = a100.efficiency.compute, y = h100.efficiency.compute, z = mi300x.efficiency.compute;
  EXPECT_DOUBLE_EQ(b.efficiency.compute, std::max(std::min(x, y), std::min(std::max(x, y), z)));
}

// Held out by group, a chip with rows in the other groups is calibrated on them: rows made with memory
// efficiency 0.6 and a 20 us launch are then predicted within a few percent, where the transferred start
// (a100's 0.782) alone would be ~23% fast.
TEST(AccuracyHoldout, AChipWithRowsElsewhereIsRefittedOnThem) {
  const auto h100 = hardware::load_hardware("h100-sxm");
  nlohmann::json rows = nlohmann::json::array();
  int i = 0;
  for (const char* group : {"A", "B"}) {
    for (double bytes : {2e8, 2e9, 2e10}) {
      rows.push_back(copy_row("copy-" + std::to_string(i++), group, "h100-sxm", bytes, copy_ms(h100, bytes, 0.6, 20e-6)));
    }
  }
  rows.push_back(copy_row("a100", "C", "a100-sxm-80gb", 2e9, 3.0));
  const auto file = testing::write_temp("holdout_group.json", nlohmann::json{{"rows", rows}}.dump());
  const auto loaded = validation::load_measurements({file});
  const auto report = validation::evaluate_holdout(loaded, "group", options(60));
  ASSERT_EQ(report.folds.size(), 3u);
  for (std::size_t f = 0; f < 2; ++f) {
    EXPECT_EQ(report.folds[f].refitted, std::vector<std::string>{"h100-sxm"});
    EXPECT_LT(report.folds[f].error.median_abs_pct, 5.0) << report.folds[f].value;
  }
  // The start the fit begins from is a100's memory efficiency: the large copy alone would be off by ~23%.
  const auto start = validation::transfer_profile("h100-sxm", {"a100-sxm-80gb"});
  const double start_ms = copy_ms(h100, 2e10, start.efficiency.memory, start.efficiency.kernel_launch_overhead_s);
  EXPECT_LT(start_ms / copy_ms(h100, 2e10, 0.6, 20e-6), 0.8);
  // Every row is predicted by exactly one fold.
  std::size_t predicted = 0;
  for (const auto& row : report.held_out.rows) predicted += row.predicted.has_value();
  EXPECT_EQ(predicted, loaded.size());
}

// Held out by hardware, the host time of a serving engine fitted to rows (tensorrt-llm's catalog profile
// was, to the MLPerf rows) is refitted on the other chips' rows that run on it, as one scale on its per-step
// and per-sequence figures. Rows made with both catalog figures x 1.6 (4 ms + 16 us -> 6.4 ms + 25.6 us) at
// batch limits 1-256 give back those figures (within 2%: the weak pull towards the start is worth ~0.2% on
// five rows), the split between the two stays the catalog's (250 sequences' worth of per-sequence time per
// step, to the rounding of the figures), and the held-out row is predicted closer than with the catalog's
// engine.
TEST(AccuracyHoldout, AFittedEnginesHostTimeIsRefittedOnTheOtherRows) {
  auto engine = serving::load_serving_engine("tensorrt-llm");
  ASSERT_TRUE(validation::engine_host_time_fitted("tensorrt-llm"));
  ASSERT_FALSE(validation::engine_host_time_fitted("sglang"))
      << "sglang's host time was fitted by tools/fit_engine.py on rows no held-out run uses, as vllm-v1's";
  ASSERT_DOUBLE_EQ(engine.host_time.per_step_s, 4e-3);  // the catalog's, which the comment above derives from
  ASSERT_DOUBLE_EQ(engine.host_time.per_sequence_s, 16e-6);
  engine.host_time.per_step_s = 6.4e-3;
  engine.host_time.per_sequence_s = 25.6e-6;
  const nlohmann::json scenario = {
      {"model", "llama-3.2-1b"},  // small: the host time is most of each step
      {"hardware", "h200-sxm"},
      {"engine", "tensorrt-llm"},
      {"deployment", {{"tensor_parallel", 1}, {"replicas", 1}}},
      {"scheduler", {{"policy", "continuous"}, {"max_batch_size", 8}, {"max_batched_tokens", 8192}}},
      {"workload",
       {{"requests", 256},
        {"seed", 1},
        {"arrival", {{"process", "offline"}}},
        {"input_tokens", {{"distribution", "fixed"}, {"value", 128}}},
        {"output_tokens", {{"distribution", "fixed"}, {"value", 64}}}}}};
  nlohmann::json rows = nlohmann::json::array();
  auto add = [&](const std::string& hardware, int batch) {
    rows.push_back({{"id", hardware + "-b" + std::to_string(batch)}, {"category", "throughput"}, {"hardware", hardware},
                    {"measured", 1.0}, {"unit", "output tokens/s"}, {"source", "test"}, {"kind", "scenario"},
                    {"scenario", scenario}, {"metric", "metrics.throughput.output_tokens_per_s"},
                    {"set", {{"hardware", hardware}, {"scheduler.max_batch_size", batch}}}});
  };
  for (int batch : {1, 4, 16, 64, 256}) add("h200-sxm", batch);
  add("h100-sxm", 32);
  // The "measurements": the catalog hardware with the engine above.
  auto measured_with = [&](const serving::ServingEngineSpec& truth_engine) {
    const auto truth_file = testing::write_temp("holdout_engine_truth.json", nlohmann::json{{"rows", rows}}.dump());
    const auto truth = validation::evaluate(validation::load_measurements({truth_file}), {},
                                            {{{"tensorrt-llm", truth_engine}}, std::nullopt});
    for (std::size_t i = 0; i < rows.size(); ++i) {
      EXPECT_TRUE(truth.rows[i].predicted) << truth.rows[i].error;
      rows[i]["measured"] = truth.rows[i].predicted.value_or(1.0);
    }
    return validation::load_measurements({testing::write_temp("holdout_engine.json", nlohmann::json{{"rows", rows}}.dump())});
  };
  const auto loaded = measured_with(engine);
  const auto report = validation::evaluate_holdout(loaded, "hardware", options(80));
  ASSERT_EQ(report.folds.size(), 2u);
  const auto& fold = report.folds[0];  // h100-sxm held out: the engine is fitted on h200's five rows
  ASSERT_EQ(fold.value, "h100-sxm");
  EXPECT_EQ(fold.refitted_engines, std::vector<std::string>{"tensorrt-llm"});
  EXPECT_EQ(fold.transferred, std::vector<std::string>{"h100-sxm"});
  ASSERT_EQ(fold.engines.count("tensorrt-llm"), 1u);
  const auto& fitted = fold.engines.at("tensorrt-llm").host_time;
  EXPECT_NEAR(fitted.per_step_s, 6.4e-3, 0.13e-3);
  EXPECT_NEAR(fitted.per_sequence_s, 25.6e-6, 0.5e-6);
  // 1 us and 0.01 us roundings: the ratio is 250 to within 0.1%.
  EXPECT_NEAR(fitted.per_step_s / fitted.per_sequence_s, 250.0, 0.25);
  // The catalog's engine (shared) predicts the held-out row worse than the refitted one.
  const auto shared = validation::evaluate_holdout(loaded, "hardware", options(80, false));
  EXPECT_EQ(shared.folds[0].shared_engines, std::vector<std::string>{"tensorrt-llm"});
  EXPECT_TRUE(shared.folds[0].refitted_engines.empty());
  const auto h100_row = loaded.size() - 1;
  EXPECT_LT(std::abs(report.held_out.rows[h100_row].error_fraction()),
            std::abs(shared.held_out.rows[h100_row].error_fraction()));
  // The folds run in parallel with the same result.
  const auto parallel = validation::evaluate_holdout(loaded, "hardware", options(80, true, 2));
  for (std::size_t i = 0; i < loaded.size(); ++i) {
    EXPECT_EQ(*parallel.held_out.rows[i].predicted, *report.held_out.rows[i].predicted) << loaded[i].id;
  }
  // Rows made with another split (2.5 ms + 20 us: 125 sequences' worth) move the scale, never the split: the
  // fit keeps the catalog's 250, where two free figures would have followed the rows to 125.
  engine.host_time.per_step_s = 2.5e-3;
  engine.host_time.per_sequence_s = 20e-6;
  const auto split = validation::evaluate_holdout(measured_with(engine), "hardware", options(80));
  const auto& kept = split.folds[0].engines.at("tensorrt-llm").host_time;
  EXPECT_NEAR(kept.per_step_s / kept.per_sequence_s, 250.0, 0.25);
}

TEST(AccuracyHoldout, RefusesAFieldWithOneValueAndAnUnknownField) {
  const auto file = two_gemm_rows();
  const auto one = testing::run_cli("accuracy " + file + " --holdout hardware");
  EXPECT_EQ(one.exit_code, 2);
  EXPECT_NE(one.err.find("at least two"), std::string::npos) << one.err;
  const auto unknown = testing::run_cli("accuracy " + file + " --holdout hardwar");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("hardware"), std::string::npos) << unknown.err;
}

TEST(AccuracyHoldout, GuardChecksTheRecordedHeldOutError) {
  nlohmann::json rows = nlohmann::json::array();
  rows.push_back(copy_row("h100-copy", "g1", "h100-sxm", 8e9, 5.0));
  rows.push_back(copy_row("a100-copy", "g2", "a100-sxm-80gb", 8e9, 7.0));
  const auto file = testing::write_temp("holdout_guard.json", nlohmann::json{{"rows", rows}}.dump());
  const auto j = nlohmann::json::parse(testing::run_cli("accuracy " + file + " --holdout hardware --format json").out);
  const double in_sample = j["overall"]["median_abs_error_pct"].get<double>();
  const double held = j["holdout"]["overall"]["median_abs_error_pct"].get<double>();
  auto guard = [&](double recorded_held) {
    return testing::write_temp("guard_holdout.json",
                               nlohmann::json{{"median_abs_error_pct", in_sample},
                                              {"rows", 2},
                                              {"holdout", {{"field", "hardware"}, {"median_abs_error_pct", recorded_held}}}}
                                   .dump());
  };
  // The guard's holdout section makes the run hold out by its field without --holdout.
  EXPECT_EQ(testing::run_cli("accuracy " + file + " --guard " + guard(held)).exit_code, 0);
  const auto failed = testing::run_cli("accuracy " + file + " --guard " + guard(held - 3));
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_NE(failed.err.find("held-out error rose by 3.00 points"), std::string::npos) << failed.err;
  const auto other = testing::run_cli("accuracy " + file + " --holdout group --guard " + guard(held));
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("--holdout hardware"), std::string::npos) << other.err;
}

// The CI guard: every shipped measurement row runs and the overall median error stays within 2 points of the
// value recorded in configs/baselines/accuracy-guard.json (regenerate with tools/update_accuracy.sh).
TEST(AccuracyCli, ShippedMeasurementsStayWithinTheRecordedError) {
  std::string files;
  for (const char* f : {"mlperf.json", "single-user.json", "models-2025.json", "speculative.json", "quantization.json",
                        "operators.json", "h200-kernels.json"}) {
    files += " " + testing::source_path(std::string("configs/validation/") + f);
  }
  const auto r = testing::run_cli("accuracy" + files + " --guard " +
                                  testing::source_path("configs/baselines/accuracy-guard.json"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace infersim
