// `infersim accuracy` and `infersim calibrate` from the command line, and the CI guard on the shipped
// measurement set (configs/baselines/accuracy-guard.json).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "infersim/validation/accuracy.hpp"
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
