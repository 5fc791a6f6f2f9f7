// `infersim import-model`: output, the stderr summary, exit codes.

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "support/cli.hpp"

namespace infersim {
namespace {

using testing::read_text;
using testing::run_cli;
using testing::write_temp;

std::string hf_config(const std::string& name) {
  return std::string(INFERSIM_SOURCE_DIR) + "/tests/hf_configs/" + name + "/config.json";
}

TEST(ImportModelCli, WritesAModelFileAndASummary) {
  const auto r = run_cli("import-model " + hf_config("gpt-oss-120b"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["name"], "gpt-oss-120b");
  EXPECT_EQ(j["local_attention"]["layer_pattern"], "LG");
  EXPECT_EQ(j["moe"]["expert_weight_format"], "mxfp4");
  // One line on stderr, as the issue shows it.
  EXPECT_EQ(r.err.rfind("gpt-oss-120b: 116.8 B parameters, 5.13 B active per token, 36 layers", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // The written file is a model the other commands accept.
  const std::string out = write_temp("gpt-oss-120b.json", "");
  ASSERT_EQ(run_cli("import-model " + hf_config("gpt-oss-120b") + " --name oss --out " + out).exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(read_text(out))["name"], "oss");
  const auto v = run_cli("validate " + out);
  EXPECT_EQ(v.exit_code, 0) << v.err;
  const auto roof = run_cli("roofline --model " + out + " --hardware h100-sxm --batch 8 --context 4096");
  EXPECT_EQ(roof.exit_code, 0) << roof.err;
  EXPECT_NE(roof.out.find("attention_decode_local"), std::string::npos);
}

TEST(ImportModelCli, TheSummarySaysWhenFp8WeightsAreBlockScaled) {
  // DeepSeek-V3's quantization_config.weight_block_size [128, 128]: the file's key and the one-line summary say so.
  const auto r = run_cli("import-model " + hf_config("deepseek-v3"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["fp8_weight_block_size"], 128);
  EXPECT_NE(r.err.find(", fp8 (128 x 128 block scales)"), std::string::npos) << r.err;
  EXPECT_EQ(run_cli("import-model " + hf_config("llama-3.1-8b")).err.find("block scales"), std::string::npos);
}

TEST(ImportModelCli, UnknownArchitectureIsExit2WithTheKnownOnes) {
  const std::string path = write_temp("config.json", R"({"architectures": ["PhiForCausalLM"], "hidden_size": 2560})");
  const auto r = run_cli("import-model " + path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("PhiForCausalLM"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Qwen3MoeForCausalLM"), std::string::npos) << r.err;
}

TEST(ImportModelCli, MissingFieldIsExit2AndNamed) {
  auto j = nlohmann::json::parse(read_text(hf_config("qwen3-8b")));
  j.erase("num_hidden_layers");
  const auto r = run_cli("import-model " + write_temp("config.json", j.dump()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("num_hidden_layers"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

}  // namespace
}  // namespace infersim
