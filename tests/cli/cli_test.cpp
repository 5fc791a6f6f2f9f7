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

TEST(Cli, ListHardwareHasOneLineAndOneObjectPerProfile) {
  const auto table = run("list hardware");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const auto j = nlohmann::json::parse(run("list hardware --format json").out);
  std::size_t lines = 0;
  for (char c : table.out) lines += c == '\n';
  EXPECT_EQ(lines, j.size() + 2);  // a header and a rule, then one line per profile
  for (const char* name : {"b300", "gb300", "h200-nvl", "mi350x", "h20", "rtx-pro-6000", "rtx-5090", "tpu-v7"}) {
    SCOPED_TRACE(name);
    EXPECT_NE(table.out.find(std::string("\n") + name + " "), std::string::npos);
  }
  // The GB300's summary, from the NVL72 rack's published totals: 1080 PF dense FP4 / 72 GPUs, 576 TB/s / 72.
  bool found = false;
  for (const auto& hw : j) {
    if (hw["name"] != "gb300") continue;
    found = true;
    EXPECT_NEAR(hw["peak_tflops"]["fp4"].get<double>(), 1080e3 / 72, 1e-9);
    EXPECT_NEAR(hw["memory_tb_per_s"].get<double>(), 576.0 / 72, 1e-12);
    // DataCrunch's on-demand 1GB300.32V instance (one GPU), $9.915 an hour, read 2026-10-01; dated, so not "undated".
    EXPECT_NEAR(hw["usd_per_chip_hour"].get<double>(), 9.915, 1e-12);
    EXPECT_EQ(hw["price"]["as_of"].get<std::string>().substr(0, 10), "2026-10-01");
    EXPECT_EQ(hw["price"]["kind"], "on-demand");
  }
  EXPECT_TRUE(found);
}

TEST(Cli, ListEnginesShowsWhichAdmitWithAReserveForOutputs) {
  // sglang's profile carries SGLang's PrefillAdder figures (configs/engines/sglang.json); vllm-v1's has none.
  const auto sglang = nlohmann::json::parse(std::ifstream(testing::source_path("configs/engines/sglang.json")));
  const auto& a = sglang["scheduler"]["admission_reserve"];
  const auto j = nlohmann::json::parse(run("list engines --format json").out);
  int seen = 0;
  for (const auto& e : j) {
    if (e["name"] == "sglang") {
      ++seen;
      EXPECT_DOUBLE_EQ(e["scheduler"]["admission_reserve"]["running_output_fraction_min"].get<double>(),
                       a["running_output_fraction_min"].get<double>());
      EXPECT_EQ(e["scheduler"]["admission_reserve"]["decay_decode_steps"], a["decay_decode_steps"]);
    } else if (e["name"] == "vllm-v1") {
      ++seen;
      EXPECT_TRUE(e["scheduler"]["admission_reserve"].is_null());
    }
  }
  EXPECT_EQ(seen, 2);
  const auto table = run("list engines");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("kv_admission_reserve"), std::string::npos);
  EXPECT_NE(table.out.find("new 1, running 0.7 -> 0.098"), std::string::npos);
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

TEST(Cli, RooflineTakesTheEnginesAllToAllKernels) {
  // deepseek-v3 on 8 H200 (EP8 + DP8), decode of 64 sequences: the dispatch and the combine move the same copies
  // of the 7168-wide hidden state (both stretched by the derived load imbalance, which roofline does not set).
  // SGLang's kernels quantize the dispatch to FP8 with one FP32 scale per 128 elements (1.03125 bytes an element)
  // and return 16-bit outputs; vLLM's profile dispatches in 16 bits both ways.
  const std::string base = "roofline --model deepseek-v3 --hardware h200-sxm --batch 64 --context 1024 --tensor-parallel 8 "
                           "--expert-parallel 8 --attention-data-parallel 8 --activation-dtype fp8 --format json --engine ";
  auto bytes_of = [](const nlohmann::json& j, const std::string& name) {
    for (const auto& op : j["operators"]) {
      if (op["name"] == name) return op["bytes"].get<double>();
    }
    return -1.0;
  };
  const auto sglang = run(base + "sglang");
  ASSERT_EQ(sglang.exit_code, 0) << sglang.err;
  const auto s = nlohmann::json::parse(sglang.out);
  EXPECT_NEAR(bytes_of(s, "ep_dispatch") / bytes_of(s, "ep_combine"), 1.03125 / 2, 1e-6);
  const auto vllm = run(base + "vllm");
  ASSERT_EQ(vllm.exit_code, 0) << vllm.err;
  const auto v = nlohmann::json::parse(vllm.out);
  EXPECT_NEAR(bytes_of(v, "ep_dispatch") / bytes_of(v, "ep_combine"), 1.0, 1e-6);
  EXPECT_DOUBLE_EQ(bytes_of(v, "ep_combine"), bytes_of(s, "ep_combine"));
}

TEST(Cli, RooflineSaysWhenGemmsRunBlockScaled) {
  // DeepSeek-V3's FP8 checkpoint is block-scaled: at FP8 its GEMMs carry the chip's per-tile cost, and the report
  // says so (text and JSON); Llama-3.1-8B at FP8 is scaled per tensor, and DeepSeek-V3 dequantized to BF16 is not FP8.
  const double k0 = nlohmann::json::parse(read_text(testing::source_path("configs/hardware/h800.json")))["efficiency"]
                                         ["block_fp8_gemm_overhead_k"];
  ASSERT_GT(k0, 0.0);
  const std::string ds = "roofline --model deepseek-v3 --hardware h800 --batch 64 --context 1024 --tensor-parallel 32 "
                         "--expert-parallel 32 --attention-data-parallel 32 --ignore-memory ";
  auto overhead_of = [](const std::string& out) {
    return nlohmann::json::parse(out)["deployment"]["block_fp8_gemm_overhead_k"].get<double>();
  };
  const auto fp8 = run(ds + "--format json");
  ASSERT_EQ(fp8.exit_code, 0) << fp8.err;
  EXPECT_DOUBLE_EQ(overhead_of(fp8.out), k0);
  const auto text = run(ds);
  EXPECT_NE(text.out.find("FP8 weights scaled per 128 x 128 block"), std::string::npos) << text.out;
  const auto bf16 = run(ds + "--weight-dtype bf16 --activation-dtype bf16 --format json");
  ASSERT_EQ(bf16.exit_code, 0) << bf16.err;
  EXPECT_DOUBLE_EQ(overhead_of(bf16.out), 0.0);
  const auto llama = run("roofline --model llama-3.1-8b --hardware h800 --weight-dtype fp8 --activation-dtype fp8 --format json");
  ASSERT_EQ(llama.exit_code, 0) << llama.err;
  EXPECT_DOUBLE_EQ(overhead_of(llama.out), 0.0);
  EXPECT_EQ(run("roofline --model llama-3.1-8b --hardware h800 --weight-dtype fp8 --activation-dtype fp8").out.find("block"),
            std::string::npos);
}

TEST(Cli, InlineObjectsOnTheCommandLine) {
  // `--model '{...}'` (and --hardware, --engine) is an inline object, as the help says: the same step as the
  // catalog entry it copies. Broken JSON names the command line and where it broke.
  const std::string model = read_text(testing::source_path("configs/models/llama-2-7b.json"));
  const std::string engine = read_text(testing::source_path("configs/engines/sglang.json"));
  const auto by_name = run("roofline --model llama-2-7b --hardware h100-sxm --engine sglang --format json");
  ASSERT_EQ(by_name.exit_code, 0) << by_name.err;
  auto quoted = [](const std::string& text) {  // one shell word: ' closes, \' is a quote, ' reopens
    std::string q = "'";
    for (const char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  const auto inline_run =
      run("roofline --model " + quoted(model) + " --hardware h100-sxm --engine " + quoted(engine) + " --format json");
  ASSERT_EQ(inline_run.exit_code, 0) << inline_run.err;
  EXPECT_EQ(nlohmann::json::parse(inline_run.out)["operators"], nlohmann::json::parse(by_name.out)["operators"]);
  const auto broken = run("roofline --model '{\"name\": ' --hardware h100-sxm");
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_NE(broken.err.find("<command line>: invalid JSON at line:column 1:"), std::string::npos) << broken.err;
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
