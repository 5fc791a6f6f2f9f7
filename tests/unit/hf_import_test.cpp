// import-model: every supported architecture, from a config.json written in tests/hf_configs from the published
// values, against the parameter counts its publisher states (issue 20, section 1).

#include <gtest/gtest.h>

#include <set>

#include "infersim/config/catalog.hpp"
#include "infersim/core/error.hpp"
#include "infersim/model/hf_import.hpp"
#include "infersim/model/model_stats.hpp"

namespace infersim {
namespace {

config::Document fixture(const std::string& name) {
  return config::load_document(std::string(INFERSIM_SOURCE_DIR) + "/tests/hf_configs/" + name + "/config.json");
}

model::ImportedModel import(const std::string& name) { return model::import_hf_config(fixture(name), {}); }

struct Published {
  const char* fixture;
  const char* architecture;
  double total_billion;    // the publisher's total
  double total_tolerance;  // relative
  double active_billion;   // 0 = dense
  double active_tolerance;
  bool active_counts_embedding;  // the publisher's convention
  const char* where;
};

// Tolerance 1% unless the published figure is rounded coarser than that ("17B", "3.3B", "1T"): then the
// figure's rounding interval, as the comment says.
const Published kPublished[] = {
    {"llama-3.1-8b", "LlamaForCausalLM", 8.03, 0.01, 0, 0, false, "HF model page: 8,030,261,248"},
    {"mistral-7b-v0.1", "MistralForCausalLM", 7.24, 0.01, 0, 0, false, "HF model page: 7.24B"},
    {"qwen2.5-7b", "Qwen2ForCausalLM", 7.61, 0.01, 0, 0, false, "Qwen2.5-7B card: 7.61B"},
    {"qwen3-8b", "Qwen3ForCausalLM", 8.2, 0.01, 0, 0, false, "Qwen3-8B card: 8.2B"},
    {"qwen3-32b", "Qwen3ForCausalLM", 32.8, 0.01, 0, 0, false, "Qwen3-32B card: 32.8B"},
    // Qwen3-14B card: 14.8B total, 13.2B non-embedding. By hand: 40 x (attention 5120 x (5120 + 1024 + 1024 +
    // 5120) + MLP 3 x 5120 x 17408) = 13.21B, plus the untied 2 x 151,936 x 5120 embedding and head 1.56B = 14.77B.
    {"qwen3-14b", "Qwen3ForCausalLM", 14.8, 0.01, 0, 0, false, "Qwen3-14B card: 14.8B"},
    // Qwen3-0.6B card: 0.6B total (one digit: its rounding interval, 0.55-0.65), 0.44B non-embedding. By hand:
    // 28 x (attention 1024 x (2048 + 1024 + 1024) + 2048 x 1024 + MLP 3 x 1024 x 3072) = 440.4M, plus the tied
    // 151,936 x 1024 embedding 155.6M = 596.0M.
    {"qwen3-0.6b", "Qwen3ForCausalLM", 0.6, 0.084, 0, 0, false, "Qwen3-0.6B card: 0.6B"},
    // Qwen3-30B-A3B card: 30.5B total, 3.3B activated (two digits); the shape counts 3.353B with the embedding,
    // 3.04B without: the card's figure is the former, truncated.
    {"qwen3-30b-a3b", "Qwen3MoeForCausalLM", 30.5, 0.01, 3.3, 0.02, true, "Qwen3-30B-A3B card"},
    {"mixtral-8x7b", "MixtralForCausalLM", 46.7, 0.01, 12.9, 0.01, true, "Mistral AI: 46.7B total, 12.9B active"},
    // DeepSeek-V3 README_WEIGHTS.md: main model 671B total, 36.7B activated (MTP module excluded).
    {"deepseek-v3", "DeepseekV3ForCausalLM", 671, 0.01, 36.7, 0.01, false, "DeepSeek-V3 README_WEIGHTS.md"},
    // Kimi K2 card: "1T" total (one digit), 32B activated; the tech report says 1.04T.
    {"kimi-k2", "DeepseekV3ForCausalLM", 1000, 0.05, 32, 0.01, false, "Kimi-K2 model card"},
    {"gpt-oss-120b", "GptOssForCausalLM", 116.83, 0.01, 5.13, 0.01, false, "gpt-oss model card, table 1"},
    {"gpt-oss-20b", "GptOssForCausalLM", 20.91, 0.01, 3.61, 0.01, false, "gpt-oss model card, table 1"},
    // Llama 4 cards: 109B total with the vision encoder (the text model alone: ~107.8B), 17B active (two digits).
    {"llama-4-scout", "Llama4ForConditionalGeneration", 109, 0.015, 17, 0.015, true, "Llama 4 Scout card"},
    {"llama-4-maverick", "Llama4ForConditionalGeneration", 400, 0.01, 17, 0.015, true, "Llama 4 Maverick card"},
    {"gemma-3-27b", "Gemma3ForConditionalGeneration", 27, 0.01, 0, 0, false, "Gemma 3 card: 27B"},
    {"gemma-3-1b", "Gemma3ForCausalLM", 1.0, 0.01, 0, 0, false, "HF model page: 1,000M (999,885,952)"},
};

TEST(ImportModel, EveryArchitectureMatchesItsPublishedCounts) {
  std::set<std::string> covered;
  for (const auto& p : kPublished) {
    SCOPED_TRACE(std::string(p.fixture) + " (" + p.where + ")");
    const auto imported = import(p.fixture);
    EXPECT_EQ(imported.architecture, p.architecture);
    covered.insert(imported.architecture);
    const auto c = model::count_parameters(imported.spec);
    EXPECT_NEAR(c.total() / (p.total_billion * 1e9), 1.0, p.total_tolerance) << c.total();
    if (p.active_billion > 0) {
      const double active = model::active_parameters(imported.spec) + (p.active_counts_embedding ? c.embedding : 0.0);
      EXPECT_NEAR(active / (p.active_billion * 1e9), 1.0, p.active_tolerance) << active;
    }
  }
  // Every registered architecture is covered (Llama4ForCausalLM is the text model of the ConditionalGeneration one).
  for (const auto& a : model::import_architectures()) {
    if (a != "Llama4ForCausalLM") {
      EXPECT_TRUE(covered.count(a)) << a;
    }
  }
}

// Qwen3-0.6B's card also states 0.44B non-embedding parameters (two digits): the embedding is tied, so it is
// counted once, and the rest is the 28 layers counted by hand above (440.4M).
TEST(ImportModel, Qwen3SmallNonEmbeddingCount) {
  const auto c = model::count_parameters(import("qwen3-0.6b").spec);
  EXPECT_NEAR(c.embedding, 151936.0 * 1024, 1.0);
  EXPECT_NEAR((c.total() - c.embedding) / 0.44e9, 1.0, 0.012) << c.total() - c.embedding;
}

TEST(ImportModel, ArchitectureFeatures) {
  const auto oss = import("gpt-oss-120b").spec;
  EXPECT_TRUE(oss.attention_sinks);
  EXPECT_EQ(oss.moe->expert_weight_format, model::BlockFormat::mxfp4);
  EXPECT_EQ(oss.local_attention->layer_pattern, "LG");
  EXPECT_EQ(oss.local_attention->window.tokens, 128);
  const auto maverick = import("llama-4-maverick").spec;
  EXPECT_EQ(maverick.num_moe_layers(), 24);
  EXPECT_EQ(maverick.moe->num_shared_experts, 1);
  EXPECT_EQ(maverick.ffn_hidden_size, 16384);
  EXPECT_EQ(maverick.local_attention->window.kind, model::LocalAttentionKind::chunked);
  EXPECT_EQ(maverick.local_attention->layer_pattern, "LLLG");
  const auto ds = import("deepseek-v3").spec;
  EXPECT_EQ(ds.moe->first_dense_layers, 3);
  EXPECT_EQ(ds.native_dtype, DType::fp8);
  EXPECT_EQ(ds.fp8_weight_block_size, 128);  // quantization_config.weight_block_size [128, 128]
  EXPECT_EQ(import("kimi-k2").spec.fp8_weight_block_size, 128);
  EXPECT_EQ(import("llama-3.1-8b").spec.fp8_weight_block_size, 0);  // BF16: no FP8 scaling at all
  EXPECT_EQ(ds.mla->kv_lora_rank, 512);
  EXPECT_EQ(ds.moe->expert_groups, 8);  // config.json n_group, topk_group
  EXPECT_EQ(ds.moe->groups_per_token, 4);
  const auto gemma = import("gemma-3-27b").spec;
  EXPECT_EQ(gemma.local_attention->layer_pattern, "LLLLLG");
  EXPECT_EQ(gemma.num_local_attention_layers(), 52);  // 62 layers: 10 full periods + 2 sliding
  EXPECT_TRUE(gemma.tied_embeddings);
  EXPECT_FALSE(import("qwen3-8b").spec.local_attention.has_value());
}

TEST(ImportModel, NotesListDerivedAndDefaultedFields) {
  const auto mixtral = import("mixtral-8x7b");
  EXPECT_EQ(mixtral.file["source"], std::string(INFERSIM_SOURCE_DIR) + "/tests/hf_configs/mixtral-8x7b/config.json");
  EXPECT_EQ(mixtral.file["name"], "mixtral-8x7b");
  // Mixtral's config has no head_dim: derived from hidden_size / num_attention_heads, and said so.
  EXPECT_NE(mixtral.spec.notes.find("head_dim absent: 128"), std::string::npos) << mixtral.spec.notes;
  model::ImportOptions named;
  named.name = "mine";
  named.source = "https://example.org/config.json";
  named.published_parameters_billion = 46.7;
  const auto m = model::import_hf_config(fixture("mixtral-8x7b"), named);
  EXPECT_EQ(m.spec.name, "mine");
  EXPECT_EQ(m.spec.source, "https://example.org/config.json");
  EXPECT_DOUBLE_EQ(m.spec.published_parameters, 46.7e9);
}

TEST(ImportModel, CatalogModelsAreWhatImportModelWrites) {
  // The issue-20 catalog entries were generated from these fixtures; a change to the importer or a hand edit
  // of the catalog shows here. The source URL and the model card's count are the two import options.
  for (const std::string name : {"gpt-oss-120b", "gpt-oss-20b", "llama-4-scout", "llama-4-maverick", "qwen3-8b",
                                 "qwen3-14b", "qwen3-32b", "qwen3-30b-a3b", "kimi-k2", "gemma-3-27b", "qwen3-0.6b"}) {
    SCOPED_TRACE(name);
    const auto catalog = config::load_document(config::catalog_path(config::CatalogKind::models, name));
    model::ImportOptions options;
    options.name = name;
    options.source = catalog.json.at("source").get<std::string>();
    options.published_parameters_billion = catalog.json.at("published_parameters_billion").get<double>();
    EXPECT_EQ(config::Json::parse(model::import_hf_config(fixture(name), options).file.dump()), catalog.json);
  }
}

std::string error_of(const std::string& json) {
  config::Document doc;
  doc.json = config::Json::parse(json);
  doc.file = "config.json";
  try {
    model::import_hf_config(doc, {});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ImportModel, UnknownArchitectureListsTheKnownOnes) {
  const std::string e = error_of(R"({"architectures": ["FalconForCausalLM"], "hidden_size": 4096})");
  EXPECT_NE(e.find("unknown architecture \"FalconForCausalLM\""), std::string::npos) << e;
  EXPECT_NE(e.find("GptOssForCausalLM"), std::string::npos) << e;
  EXPECT_NE(e.find("LlamaForCausalLM"), std::string::npos) << e;
}

TEST(ImportModel, MissingFieldIsNamed) {
  auto j = fixture("gpt-oss-20b").json;
  j.erase("num_local_experts");
  j.erase("sliding_window");
  const std::string e = error_of(j.dump());
  EXPECT_NE(e.find("/num_local_experts"), std::string::npos) << e;
  EXPECT_NE(e.find("missing field \"num_local_experts\", which GptOssForCausalLM needs"), std::string::npos) << e;
  EXPECT_NE(e.find("/sliding_window"), std::string::npos) << e;
  auto l4 = fixture("llama-4-scout").json;
  l4["text_config"].erase("intermediate_size_mlp");
  const std::string e4 = error_of(l4.dump());
  EXPECT_NE(e4.find("/text_config/intermediate_size_mlp"), std::string::npos) << e4;
}

}  // namespace
}  // namespace infersim
