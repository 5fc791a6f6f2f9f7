// Every catalog name of the interface contract loads, carries its sources, and is named after its file.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "infersim/config/catalog.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/serving/serving_engine_loader.hpp"
#include "support/paths.hpp"

namespace infersim {
namespace {

const std::vector<std::string> kContractHardware = {
    "a100-sxm-80gb", "h100-sxm", "h100-pcie", "h200-sxm",  "gh200",       "b200",           "gb200",
    "mi300x",        "mi325x",   "mi355x",    "gaudi2",    "gaudi3",      "tpu-v5e",        "tpu-v5p",
    "tpu-v6e",       "groq-lpu", "cerebras-wse3", "trainium2", "inferentia2", "l40s",      "l4",
    "rtx-4090",      "rtx-3090", "rtx-a6000", "apple-m2-ultra", "apple-m3-max"};
const std::vector<std::string> kContractModels = {
    "llama-2-7b",   "llama-2-13b",   "llama-2-70b",   "llama-3-8b",   "llama-3-70b", "llama-3.1-8b", "llama-3.1-70b",
    "llama-3.1-405b", "llama-3.2-1b", "llama-3.3-70b", "vicuna-7b",   "vicuna-13b",  "vicuna-33b",   "mixtral-8x7b",
    "mixtral-8x22b", "deepseek-v3",  "deepseek-r1",   "qwen3-235b-a22b", "gpt-j-6b", "gpt-3-175b"};

TEST(Catalog, EveryContractHardwareLoadsWithSources) {
  for (const auto& name : kContractHardware) {
    SCOPED_TRACE(name);
    const auto hw = hardware::load_hardware(name);
    EXPECT_EQ(hw.name, name);
    EXPECT_FALSE(hw.source.empty());
    EXPECT_FALSE(hw.efficiency.source.empty());
    if (hw.price.usd_per_chip_hour) {
      EXPECT_FALSE(hw.price.as_of.empty());
      EXPECT_FALSE(hw.price.source.empty());
    }
  }
}

// Beyond the contract's names: every profile shipped in configs/hardware loads, with its sources, and a price
// only with its date and where it was quoted.
TEST(Catalog, EveryCatalogHardwareLoadsWithSources) {
  const auto names = config::catalog_names(config::CatalogKind::hardware);
  EXPECT_GE(names.size(), kContractHardware.size());
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    const auto hw = hardware::load_hardware(name);
    EXPECT_FALSE(hw.source.empty());
    EXPECT_FALSE(hw.efficiency.source.empty());
    EXPECT_FALSE(hw.power.source.empty());
    if (hw.price.usd_per_chip_hour) {
      EXPECT_FALSE(hw.price.basis.empty());
      EXPECT_FALSE(hw.price.as_of.empty());
      EXPECT_FALSE(hw.price.source.empty());
    }
  }
}

// Prices decide plans: every priced profile states its basis the same way, "<terms>, per <unit>-hour: ...",
// with terms on-demand, reserved or a purchase amortisation and the unit one chip (a GPU, a chip, one
// system of one chip); a price read off an instance of several chips says it was divided by their number.
TEST(Catalog, EveryPriceStatesItsTermsPerChip) {
  int undated = 0;
  for (const auto& name : config::catalog_names(config::CatalogKind::hardware)) {
    SCOPED_TRACE(name);
    const auto hw = hardware::load_hardware(name);
    if (!hw.price.usd_per_chip_hour) continue;
    const std::string& b = hw.price.basis;
    EXPECT_NE(hw.price.kind(), hardware::PriceKind::unstated) << b;
    const std::string terms(hardware::to_string(hw.price.kind()));
    const bool per_chip = b.find(", per GPU-hour") != std::string::npos || b.find(", per chip-hour") != std::string::npos ||
                          b.find(", per system-hour (one chip)") != std::string::npos;
    EXPECT_TRUE(b.starts_with(terms) && per_chip) << b;
    for (const char* several : {"8x", "gpu_8x", "inf2.48xlarge"}) {
      if (b.find(several) != std::string::npos && b.find("component only") == std::string::npos) {
        EXPECT_TRUE(b.find("/ 8 GPUs") != std::string::npos || b.find("/ 12 chips") != std::string::npos) << b;
      }
    }
    undated += hw.price.dated() ? 0 : 1;
    EXPECT_EQ(hw.price.as_of_label().starts_with("undated"), !hw.price.dated());
  }
  EXPECT_GT(undated, 0);  // the SkyPilot snapshots; each run priced by one warns (tests/cli/trust_test.cpp)
}

TEST(Catalog, PriceDatesAreRealMonthsOrDays) {
  auto dated = [](const std::string& as_of) {
    hardware::PriceSpec p;
    p.as_of = as_of;
    return p.dated();
  };
  EXPECT_TRUE(dated("2023-06"));
  EXPECT_TRUE(dated("2024-02-29"));  // a leap year
  EXPECT_TRUE(dated("2026-03-10 (guide's 'data as of March 2026')"));
  EXPECT_FALSE(dated("2023-02-29"));
  EXPECT_FALSE(dated("2023-13"));
  EXPECT_FALSE(dated("2023-04-31"));
  EXPECT_FALSE(dated("2026 (a research note)"));
  EXPECT_FALSE(dated("undated: SkyPilot catalog snapshot"));
  EXPECT_FALSE(dated("rates in effect until 2025-01-01"));
  EXPECT_FALSE(dated(""));
}

TEST(Catalog, HasAServerCpu) {
  int cpus = 0;
  for (const auto& name : config::catalog_names(config::CatalogKind::hardware)) {
    if (hardware::load_hardware(name).kind == hardware::DeviceKind::cpu) ++cpus;
  }
  EXPECT_GE(cpus, 1);
}

// A profile with no measurement of its own carries its sibling's calibrated efficiencies (docs/configuration.md),
// and says so in efficiency.source. When the sibling is recalibrated the copy must follow: h20 and h200-nvl kept
// h200-sxm's 2026-12-02 fit for a day after its 2026-12-06 recalibration, and b300 b200's. To fix a failure,
// copy the named fields from the source profile (and its date in the note), never the other way round.
struct EfficiencyCopy {
  const char* copy;
  const char* source;
  std::vector<double hardware::EfficiencySpec::*> fields;
};
const auto kCompute = &hardware::EfficiencySpec::compute;
const auto kMemory = &hardware::EfficiencySpec::memory;
const auto kNetwork = &hardware::EfficiencySpec::network;
const auto kKernel = &hardware::EfficiencySpec::kernel_launch_overhead_s;
const auto kMoe = &hardware::EfficiencySpec::moe_gemm;
const auto kAttentionDecode = &hardware::EfficiencySpec::attention_decode;
const auto kAttentionPrefill = &hardware::EfficiencySpec::attention_prefill;
const auto kPrefillKeys = &hardware::EfficiencySpec::attention_prefill_overhead_keys;
const auto kBlockK = &hardware::EfficiencySpec::block_fp8_gemm_overhead_k;
const std::vector<EfficiencyCopy> kEfficiencyCopies = {
    {"gh200", "h200-sxm", {kCompute, kMemory, kKernel, kMoe, kAttentionDecode, kAttentionPrefill, kPrefillKeys, kBlockK}},  // same Hopper GPU
    {"gh200-144gb", "h200-sxm", {kCompute, kMemory, kKernel, kMoe, kAttentionDecode, kAttentionPrefill, kPrefillKeys, kBlockK}},
    {"h200-nvl", "h200-sxm", {kCompute, kMemory, kKernel, kMoe, kAttentionDecode, kAttentionPrefill, kPrefillKeys, kBlockK}},  // same GH100 die, lower clock in the peaks
    {"h20", "h200-sxm", {kCompute, kMemory, kKernel, kMoe, kAttentionDecode, kAttentionPrefill, kPrefillKeys, kBlockK}},       // same Hopper SM, fewer SMs in the peaks
    {"h800", "h100-sxm", {kCompute, kMemory, kNetwork, kKernel, kMoe, kAttentionDecode, kAttentionPrefill, kPrefillKeys, kBlockK}},
    {"b300", "b200", {kCompute, kMemory, kKernel}},                      // same Blackwell SM and software stack
    {"mi325x", "mi300x", {kCompute, kMemory, kNetwork, kKernel, kMoe}},  // same CDNA3 compute die, HBM3E
    {"gb300", "gb200", {kCompute}},    // gb200's measured matmul fraction
    {"mi350x", "mi355x", {kCompute}},  // mi355x's measured matmul fraction
    {"rtx-4070-laptop", "rtx-4090", {kCompute, kMemory, kNetwork, kKernel}},  // same Ada SM, GDDR memory
    {"a100-40gb", "a100-sxm-80gb", {kCompute, kMemory, kNetwork, kKernel, kMoe}},  // same GA100, HBM2 for HBM2e
    {"rtx-5090", "rtx-pro-6000", {kMemory, kKernel}},  // same GB202 die and 512-bit GDDR7; compute differs (GeForce halves FP32-accumulate rates)
};

TEST(Catalog, CopiedEfficienciesEqualTheirSourceProfiles) {
  for (const auto& c : kEfficiencyCopies) {
    SCOPED_TRACE(std::string(c.copy) + " from " + c.source);
    const auto copy = hardware::load_hardware(c.copy);
    const auto source = hardware::load_hardware(c.source);
    EXPECT_NE(copy.efficiency.source.find(c.source), std::string::npos) << "the note names its source profile";
    for (auto field : c.fields) EXPECT_EQ(copy.efficiency.*field, source.efficiency.*field);
  }
}

// An engine profile whose host time says it is another profile's ("the vllm profile's figures") carries that
// profile's current figures, so a refit of the source is not left behind in the copy. No shipped profile copies
// another's now (sglang did, vllm's, until its own fit of 2026-12-07); the check guards the next one.
TEST(Catalog, CopiedHostTimesEqualTheirSourceEngines) {
  const std::regex copy_of(R"(the ([A-Za-z0-9.\-]+) profile's figures)");
  for (const auto& name : config::catalog_names(config::CatalogKind::engines)) {
    const auto doc = config::load_document(config::catalog_path(config::CatalogKind::engines, name));
    const std::string note = doc.json.at("host_time").at("source").get<std::string>();
    std::smatch match;
    if (!std::regex_search(note, match, copy_of)) continue;
    SCOPED_TRACE(name + " from " + match[1].str());
    const auto copy = serving::load_serving_engine(doc).host_time;
    const auto source = serving::load_serving_engine(match[1].str()).host_time;
    EXPECT_EQ(copy.per_step_s, source.per_step_s);
    EXPECT_EQ(copy.per_sequence_s, source.per_sequence_s);
    EXPECT_EQ(copy.per_token_s, source.per_token_s);
    EXPECT_EQ(copy.per_forward_pass_s, source.per_forward_pass_s);
  }
}

// moe_gemm is fitted only where MoE rows exist (h100-sxm and h200-sxm, on the MLPerf Mixtral rows). Every other
// shipped profile takes the h200-sxm fit by analogy (docs/configuration.md) or, as a sibling above, its source's:
// never the loader's flattering 1, and never a fit h200-sxm no longer holds.
TEST(Catalog, ProfilesWithoutMoeRowsTakeTheH200MoeFit) {
  const double h200 = hardware::load_hardware("h200-sxm").efficiency.moe_gemm;
  EXPECT_LT(h200, 1.0);
  for (const auto& name : config::catalog_names(config::CatalogKind::hardware)) {
    if (name == "h100-sxm" || name == "h200-sxm") continue;  // fitted on their own Mixtral rows
    const auto sibling = std::find_if(kEfficiencyCopies.begin(), kEfficiencyCopies.end(),
                                      [&](const EfficiencyCopy& c) { return c.copy == name; });
    const bool copies_moe = sibling != kEfficiencyCopies.end() &&
                            std::find(sibling->fields.begin(), sibling->fields.end(), kMoe) != sibling->fields.end();
    if (copies_moe) continue;  // checked against its source above
    SCOPED_TRACE(name);
    EXPECT_EQ(hardware::load_hardware(name).efficiency.moe_gemm, h200);
  }
}

TEST(Catalog, EveryContractModelLoadsWithSource) {
  for (const auto& name : kContractModels) {
    SCOPED_TRACE(name);
    const auto m = model::load_model(name);
    EXPECT_EQ(m.name, name);
    EXPECT_FALSE(m.source.empty());
  }
}

TEST(Catalog, EveryFileIsNamedAfterItsName) {
  for (auto kind : {config::CatalogKind::hardware, config::CatalogKind::models}) {
    for (const auto& name : config::catalog_names(kind)) {
      const auto doc = config::load_document(config::catalog_path(kind, name));
      EXPECT_EQ(doc.json.at("name").get<std::string>(), name) << doc.file;
    }
  }
}

TEST(Catalog, UnknownNameSuggestsTheClosestAndListsValidOnes) {
  try {
    hardware::load_hardware("h100-sxn");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("did you mean \"h100-sxm\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("mi300x"), std::string::npos) << msg;  // the valid names are listed
  }
}

TEST(Catalog, InlineObjectsAndPathsWorkWhereANameDoes) {
  const config::Document where{config::Json::object(), "scenario.json", "", std::filesystem::path(INFERSIM_SOURCE_DIR)};
  // A path relative to the referencing file's directory.
  const auto by_path = config::resolve_reference(config::CatalogKind::models, config::Json("configs/models/llama-2-7b.json"),
                                                 where, "/model");
  EXPECT_EQ(model::load_model(by_path).num_layers, 32);
  // An inline object: errors inside it name the referencing file and the path of the object.
  config::Json inline_model = config::load_document(config::catalog_path(config::CatalogKind::models, "llama-2-7b")).json;
  inline_model["num_layers"] = -1;
  const auto doc = config::resolve_reference(config::CatalogKind::models, inline_model, where, "/model");
  try {
    model::load_model(doc);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_FALSE(e.diagnostics().empty());
    EXPECT_EQ(e.diagnostics()[0].file, "scenario.json");
    EXPECT_EQ(e.diagnostics()[0].path, "/model/num_layers");
  }
}

}  // namespace
}  // namespace infersim
