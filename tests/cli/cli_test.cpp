// The infersim executable as a user meets it: output formats, exit codes and error messages.

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "support/cli.hpp"

namespace infersim {
namespace {

using testing::read_text;
using testing::write_temp;
auto run = testing::run_cli;

TEST(Cli, ListsEveryCatalog) {
  const auto hw = run("list hardware");
  EXPECT_EQ(hw.exit_code, 0);
  EXPECT_NE(hw.out.find("h100-sxm"), std::string::npos);
  EXPECT_NE(hw.out.find("groq-lpu"), std::string::npos);
  const auto models = run("list models --format json");
  EXPECT_EQ(models.exit_code, 0);
  const auto j = nlohmann::json::parse(models.out);
  EXPECT_GE(j.size(), 20u);
}

TEST(Cli, RooflineJsonHasTheContractKeys) {
  const auto r = run("roofline --model llama-2-7b --hardware a100-sxm-80gb --batch 1 --context 128 --phase decode --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_FALSE(j["operators"].empty());
  double sum = 0;
  for (const auto& op : j["operators"]) {
    for (const char* k : {"name", "phase", "count", "flops", "bytes", "arithmetic_intensity", "bound", "time_s"}) {
      EXPECT_TRUE(op.contains(k)) << k;
    }
    sum += op["count"].get<double>() * op["time_s"].get<double>();
  }
  EXPECT_NEAR(j["totals"]["time_s"].get<double>(), sum, 1e-12);
}

TEST(Cli, UnknownModelNameSuggestsAndExits2) {
  const auto r = run("roofline --model llama-3.1-7b --hardware h100-sxm");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("did you mean"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("llama-3.1-8b"), std::string::npos) << r.err;
}

TEST(Cli, ModelThatDoesNotFitSaysHowMuchAndWhatFits) {
  const auto r = run("roofline --model llama-3.1-405b --hardware h100-sxm");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("GB of weights"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("smallest deployment that fits"), std::string::npos) << r.err;
}

TEST(Cli, BadDataTypeAndBadParallelism) {
  auto r = run("roofline --model llama-3.1-8b --hardware a100-sxm-80gb --weight-dtype fp8 --activation-dtype fp8");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no fp8 matrix rate"), std::string::npos) << r.err;
  r = run("roofline --model llama-3.1-70b --hardware h100-sxm --tensor-parallel 3");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("does not divide"), std::string::npos) << r.err;
  r = run("roofline --model llama-3.1-8b --hardware h100-sxm --weight-dtype float8");
  EXPECT_EQ(r.exit_code, 2);
}

TEST(Cli, ValidateAcceptsTheCatalogAndRejectsTypos) {
  const auto ok = run(testing::source_path("configs/hardware/h100-sxm.json").insert(0, "validate "));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  auto j = nlohmann::json::parse(read_text(testing::source_path("configs/models/llama-2-7b.json")));
  j["num_layer"] = j["num_layers"];
  j.erase("num_layers");
  const auto path = write_temp("typo_model.json", j.dump(2));
  const auto bad = run("validate " + path);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("typo_model.json"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("/num_layer"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("did you mean \"num_layers\""), std::string::npos) << bad.err;
}

TEST(Cli, UsageErrorsExit2) {
  EXPECT_EQ(run("").exit_code, 2);
  EXPECT_EQ(run("no-such-command").exit_code, 2);
  EXPECT_EQ(run("roofline --model llama-2-7b").exit_code, 2);  // --hardware missing
  EXPECT_EQ(run("--help").exit_code, 0);
}

}  // namespace
}  // namespace infersim
