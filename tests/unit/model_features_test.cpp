// Sliding-window and chunked attention, attention sinks, interleaved MoE layers and block-scaled FP4 experts,
// against hand counts (issue 20, section 2).

#include <gtest/gtest.h>

#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/model/model_stats.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/roofline/step_cost.hpp"

namespace infersim {
namespace {

using model::AttentionWindow;
using model::LocalAttentionKind;

/// gpt-oss-120b's shape (config.json): 36 layers alternating 128-token sliding window and full attention,
/// 64 query / 8 KV heads of 64, 128 experts of 2880 (top-4), MXFP4 experts, biases and attention sinks.
model::ModelSpec gpt_oss_120b() {
  model::ModelSpec m;
  m.name = "gpt-oss-120b-shape";
  m.num_layers = 36;
  m.hidden_size = 2880;
  m.num_attention_heads = 64;
  m.num_kv_heads = 8;
  m.head_dim = 64;
  m.ffn_hidden_size = 2880;
  m.vocab_size = 201088;
  m.linear_bias = true;
  m.attention_sinks = true;
  m.max_context_tokens = 131072;
  m.moe = model::MoeSpec{.num_experts = 128, .experts_per_token = 4, .num_shared_experts = 0,
                         .expert_ffn_hidden_size = 2880, .first_dense_layers = 0, .layer_step = 1,
                         .expert_weight_format = model::BlockFormat::mxfp4};
  m.local_attention = model::LocalAttentionSpec{{LocalAttentionKind::sliding_window, 128}, "LG"};
  return m;
}

/// Llama 4 Maverick's text model: 48 layers, chunked attention (8192) on three of every four, MoE on every
/// other layer (128 experts of 8192, top-1, one shared expert), dense layers of 16384.
model::ModelSpec llama4_maverick() {
  model::ModelSpec m;
  m.name = "llama-4-maverick-shape";
  m.num_layers = 48;
  m.hidden_size = 5120;
  m.num_attention_heads = 40;
  m.num_kv_heads = 8;
  m.head_dim = 128;
  m.ffn_hidden_size = 16384;
  m.vocab_size = 202048;
  m.max_context_tokens = 1048576;
  m.moe = model::MoeSpec{.num_experts = 128, .experts_per_token = 1, .num_shared_experts = 1,
                         .expert_ffn_hidden_size = 8192, .first_dense_layers = 0, .layer_step = 2};
  m.local_attention = model::LocalAttentionSpec{{LocalAttentionKind::chunked, 8192}, "LLLG"};
  return m;
}

TEST(LocalAttention, SlidingWindowKeysAndPairs) {
  const AttentionWindow w{LocalAttentionKind::sliding_window, 4};
  // Positions 1..10 attend 1, 2, 3, 4, 4, 4, 4, 4, 4, 4 keys.
  EXPECT_DOUBLE_EQ(w.keys(3), 3);
  EXPECT_DOUBLE_EQ(w.keys(9), 4);
  EXPECT_DOUBLE_EQ(w.pairs(0, 10), 34);  // 1+2+3+4 + 6 x 4
  EXPECT_DOUBLE_EQ(w.pairs(6, 4), 16);   // positions 7..10
  EXPECT_DOUBLE_EQ(w.pairs(2, 3), 11);   // positions 3, 4, 5: 3 + 4 + 4
  EXPECT_DOUBLE_EQ(w.cached_keys(2), 2);
  EXPECT_DOUBLE_EQ(w.cached_keys(100), 3);  // the next query attends itself and the 3 before it
  const AttentionWindow none{};
  EXPECT_DOUBLE_EQ(none.pairs(5, 3), 6 + 7 + 8);  // no window: full causal attention
}

TEST(LocalAttention, ChunkedKeysAndPairs) {
  const AttentionWindow c{LocalAttentionKind::chunked, 4};
  // Positions 1..10 attend 1, 2, 3, 4 | 1, 2, 3, 4 | 1, 2 keys.
  EXPECT_DOUBLE_EQ(c.keys(4), 4);
  EXPECT_DOUBLE_EQ(c.keys(5), 1);
  EXPECT_DOUBLE_EQ(c.pairs(0, 10), 23);
  EXPECT_DOUBLE_EQ(c.pairs(5, 3), 9);  // positions 6, 7, 8: 2 + 3 + 4
  EXPECT_DOUBLE_EQ(c.cached_keys(4), 0);  // position 5 starts a new chunk
  EXPECT_DOUBLE_EQ(c.cached_keys(6), 2);
}

TEST(LocalAttention, LayerCounts) {
  EXPECT_EQ(gpt_oss_120b().num_local_attention_layers(), 18);
  EXPECT_EQ(llama4_maverick().num_local_attention_layers(), 36);
  EXPECT_EQ(llama4_maverick().num_global_attention_layers(), 12);
}

TEST(LocalAttention, KvBytesPerSequenceBoundedByTheWindow) {
  const auto m = gpt_oss_120b();
  // Per token per layer: 8 KV heads x 64 dims x (K, V) = 1024 values = 2048 bytes in bf16.
  EXPECT_DOUBLE_EQ(model::kv_elements_per_token_per_layer(m) * 2, 2048);
  // 10,000 tokens: 18 full layers keep all, 18 sliding layers the last 128.
  EXPECT_DOUBLE_EQ(model::kv_elements_per_sequence(m, 10000) * 2, 18 * 2048.0 * 10000 + 18 * 2048.0 * 128);
  // Below the window every layer keeps every token.
  EXPECT_DOUBLE_EQ(model::kv_elements_per_sequence(m, 100) * 2, 36 * 2048.0 * 100);
  // Chunked (Llama 4): 36 chunked layers keep the current chunk, 20,000 = 2 x 8192 + 3616.
  const auto l4 = llama4_maverick();
  EXPECT_DOUBLE_EQ(model::kv_elements_per_sequence(l4, 20000), 2.0 * 8 * 128 * (12 * 20000.0 + 36 * 3616));
}

TEST(LocalAttention, AttentionFlopsBeyondTheWindow) {
  const auto m = gpt_oss_120b();
  // A token at context 10,000: 4 x 64 heads x 64 dims per key, 10,000 keys on 18 layers, 128 on the other 18.
  EXPECT_DOUBLE_EQ(model::attention_flops_per_token(m, 10000), 4.0 * 64 * 64 * (18 * 10000.0 + 18 * 128));
  EXPECT_DOUBLE_EQ(model::attention_flops_per_token(m, 100), 4.0 * 64 * 64 * 36 * 100);
}

double row_flops(const roofline::OperatorTable& t, std::string_view name) {
  double f = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.name[i] == name) f += t.count[i] * t.flops(i);
  }
  return f;
}

TEST(LocalAttention, StepCostBoundsLocalLayers) {
  const auto m = gpt_oss_120b();
  const auto hw = hardware::load_hardware("h100-sxm");
  parallelism::DeploymentSpec d;
  const roofline::StepCostModel cost(m, hw, d);
  roofline::OperatorTable t;
  // Decode, batch 2 at context 10,000: the new token attends 10,001 keys on full layers, 128 on sliding ones.
  cost.build(roofline::StepShape::decode(2, 10000, 1, m.attention_window()), t);
  EXPECT_DOUBLE_EQ(row_flops(t, "attention_decode"), 18 * 4.0 * 64 * 64 * 2 * 10001);
  EXPECT_DOUBLE_EQ(row_flops(t, "attention_decode_local"), 18 * 4.0 * 64 * 64 * 2 * 128);
  // Prefill of 1,000 tokens: sliding pairs = 128 x 129 / 2 + 872 x 128.
  cost.build(roofline::StepShape::prefill(1, 1000, m.attention_window()), t);
  EXPECT_DOUBLE_EQ(row_flops(t, "attention_prefill"), 18 * 4.0 * 64 * 64 * (1000.0 * 1001 / 2));
  EXPECT_DOUBLE_EQ(row_flops(t, "attention_prefill_local"), 18 * 4.0 * 64 * 64 * (128.0 * 129 / 2 + 872.0 * 128));
  // A shape built without the window (a draft model's step) is bounded by tokens x window.
  cost.build(roofline::StepShape::decode(2, 10000), t);
  EXPECT_DOUBLE_EQ(row_flops(t, "attention_decode_local"), 18 * 4.0 * 64 * 64 * 2 * 128);
}

TEST(LocalAttention, ChunkedPrefillPairs) {
  const auto m = llama4_maverick();
  const auto hw = hardware::load_hardware("h100-sxm");
  parallelism::DeploymentSpec d;
  d.tensor_parallel = 8;
  roofline::OperatorTable t;
  roofline::StepCostModel(m, hw, d).build(roofline::StepShape::prefill(1, 20000, m.attention_window()), t);
  // 5 heads per chip x 128 dims; chunked pairs: 2 full chunks of 8192 x 8193 / 2, then 3616 x 3617 / 2.
  // (The kernel's columns are single precision: 6e-8 relative.)
  EXPECT_NEAR(row_flops(t, "attention_prefill_local") / (36 * 4.0 * 5 * 128 * (8192.0 * 8193 + 3616.0 * 3617 / 2)), 1.0, 1e-6);
  EXPECT_NEAR(row_flops(t, "attention_prefill") / (12 * 4.0 * 5 * 128 * (20000.0 * 20001 / 2)), 1.0, 1e-6);
}

TEST(LocalAttention, MemoryPlanSetsNothingAsideForWindows) {
  // gpt-oss-120b on one H100: 18 full-attention and 18 sliding-window (128) layers, 8 KV heads of 64 dims in
  // bf16: 2 x 8 x 64 x 2 = 2,048 bytes a token a layer on each kind. Engines hand a window's blocks back as
  // tokens leave it, so nothing is kept per sequence: the cache is all that the weights and workspace leave,
  // whatever scheduler.max_batch_size is, counted in tokens of the 18 full-attention layers.
  const auto m = gpt_oss_120b();
  const auto hw = hardware::load_hardware("h100-sxm");
  parallelism::DeploymentSpec d;
  for (const std::int64_t batch : {64, 4096}) {
    parallelism::WorkspaceLimits limits;
    limits.max_batch_size = batch;
    const auto plan = parallelism::plan_memory(m, hw, d, limits);
    EXPECT_DOUBLE_EQ(plan.kv_bytes_per_token_per_chip, 18 * 2048.0);
    EXPECT_DOUBLE_EQ(plan.kv_local_bytes_per_token_per_chip, 18 * 2048.0);
    EXPECT_EQ(plan.kv_window_tokens, 128);
    EXPECT_NEAR(plan.kv_bytes_per_chip, plan.budget_bytes_per_chip - plan.weight_bytes_per_chip - plan.workspace_bytes_per_chip, 1.0);
    EXPECT_EQ(plan.kv_token_capacity, static_cast<std::int64_t>(std::floor(plan.kv_bytes_per_chip / (18 * 2048.0))));
    // A sequence of n tokens holds n + min(n, 128) of those tokens' worth.
    const auto f = plan.kv_footprint();
    EXPECT_EQ(f.units(100), 200);
    EXPECT_EQ(f.units(1000), 1128);
    EXPECT_EQ(f.longest_sequence(1128, 131072), 1000);
    EXPECT_EQ(f.longest_sequence(255, 131072), 127);
  }
}

TEST(LocalAttention, Gemma3OnOneH100FitsAtTheEnginesBatchLimit) {
  // Gemma 3 27B (62 layers, 5 sliding-window layers of 1,024 to 1 global: 52 and 10; 16 KV heads of 128 dims,
  // bf16: 8,192 bytes a token a layer) on one H100 at vLLM's 256 sequences. Keeping 256 windows aside took
  // 256 x 1,024 x 52 x 8,192 = 112 GB and it did not fit; it does now, and a token inside the window takes
  // 1 + 52 / 10 = 6.2 tokens of the global layers' cache.
  const auto m = model::load_model("gemma-3-27b");
  const auto hw = hardware::load_hardware("h100-sxm");
  parallelism::DeploymentSpec d;
  parallelism::WorkspaceLimits limits;
  limits.max_batch_size = 256;
  const auto plan = parallelism::plan_memory(m, hw, d, limits);
  ASSERT_TRUE(plan.fits());
  EXPECT_DOUBLE_EQ(plan.kv_bytes_per_token_per_chip, 10 * 8192.0);
  EXPECT_DOUBLE_EQ(plan.kv_local_bytes_per_token_per_chip, 52 * 8192.0);
  const auto f = plan.kv_footprint();
  EXPECT_EQ(f.units(500), 3100);
  EXPECT_EQ(f.units(4000), 4000 + 5325);  // 5.2 x 1,024 = 5,324.8, rounded up
  EXPECT_EQ(f.blocks(4000, 16), (9325 + 15) / 16);
}

TEST(AttentionSinks, OneParameterPerHeadAndLayer) {
  auto m = gpt_oss_120b();
  const double with = model::count_parameters(m).attention;
  m.attention_sinks = false;
  EXPECT_DOUBLE_EQ(with - model::count_parameters(m).attention, 36 * 64);
}

TEST(InterleavedMoe, EveryOtherLayer) {
  const auto m = llama4_maverick();
  EXPECT_EQ(m.num_moe_layers(), 24);
  EXPECT_EQ(m.num_dense_mlp_layers(), 24);
  EXPECT_FALSE(m.moe_layer(0));
  EXPECT_TRUE(m.moe_layer(1));
  const auto c = model::count_parameters(m);
  EXPECT_DOUBLE_EQ(c.dense_mlp, 24 * 3.0 * 5120 * 16384);
  EXPECT_DOUBLE_EQ(c.moe_experts, 24 * 128 * 3.0 * 5120 * 8192);
  EXPECT_DOUBLE_EQ(c.moe_shared, 24 * 3.0 * 5120 * 8192);
  EXPECT_DOUBLE_EQ(c.moe_router, 24 * 5120.0 * 128);
  // A slice of layers 1..4 (hybrid placement) holds MoE layers 1 and 3, and the attention pattern shifted by one.
  const auto s = parallelism::slice_layers(m, 1, 4);
  EXPECT_EQ(s.num_moe_layers(), 2);
  EXPECT_EQ(s.local_attention->layer_pattern, "LLGL");
  EXPECT_EQ(s.num_local_attention_layers(), 3);
  EXPECT_TRUE(s.moe_layer(0));
  EXPECT_FALSE(s.moe_layer(1));
  const auto tail = parallelism::slice_layers(m, 2, 3);  // layers 2, 3, 4: MoE only at 3
  EXPECT_EQ(tail.num_moe_layers(), 1);
  EXPECT_FALSE(tail.moe_layer(0));
  EXPECT_TRUE(tail.moe_layer(1));
}

TEST(BlockFormats, BitsPerWeightWithScales) {
  EXPECT_DOUBLE_EQ(model::block_format_bytes_per_weight(model::BlockFormat::mxfp4) * 8, 4.25);
  EXPECT_DOUBLE_EQ(model::block_format_bytes_per_weight(model::BlockFormat::nvfp4) * 8, 4.5);
}

TEST(BlockFormats, Mxfp4ExpertsKeepTheirFormat) {
  const auto m = gpt_oss_120b();
  const auto c = model::count_parameters(m);
  const auto hw = hardware::load_hardware("h100-sxm");
  parallelism::DeploymentSpec d;  // bf16 for everything else
  const auto plan = parallelism::plan_memory(m, hw, d);
  const double experts = 36 * 128 * (3.0 * 2880 * 2880 + 2 * 2880 + 2880);  // with the gate_up and down biases
  EXPECT_DOUBLE_EQ(c.moe_experts, experts);
  EXPECT_NEAR(plan.weight_bytes_total, experts * 4.25 / 8 + (c.total() - experts) * 2, 1.0);
}

TEST(BlockFormats, TheEnginesLayoutOfBlockFormatExpertsTakesItsOverheadOnItsArchitecture) {
  // An engine whose kernels lay MXFP4 experts out larger than the checkpoint (vLLM's Triton backend on Hopper: 6.5%)
  // holds that much more of them, and streams it: the memory plan's weights grow by 6.5% of the experts' 4.25-bit
  // bytes and a decode step's expert GEMMs read 6.5% more weight bytes, on a Hopper chip only.
  const auto m = gpt_oss_120b();
  const auto c = model::count_parameters(m);
  parallelism::DeploymentSpec plain;
  parallelism::DeploymentSpec laid_out;
  laid_out.moe_gemm.block_format_weight_overhead_by_architecture.emplace("nvidia-hopper", 0.065);
  const double expert_bytes = c.moe_experts * 4.25 / 8;
  for (const std::string name : {"h100-sxm", "a100-sxm-80gb"}) {
    SCOPED_TRACE(name);
    const auto hw = hardware::load_hardware(name);
    const double x = hw.architecture == "nvidia-hopper" ? 0.065 : 0.0;
    const auto a = parallelism::plan_memory(m, hw, plain), b = parallelism::plan_memory(m, hw, laid_out);
    EXPECT_NEAR(b.weight_bytes_total - a.weight_bytes_total, x * expert_bytes, 1.0);
    EXPECT_NEAR(b.weight_bytes_per_chip - a.weight_bytes_per_chip, x * expert_bytes, 1.0);
    roofline::OperatorTable ta, tb;
    const auto shape = roofline::StepShape::decode(64, 1000, 1, m.attention_window());
    roofline::StepCostModel(m, hw, plain).build(shape, ta);
    roofline::StepCostModel(m, hw, laid_out).build(shape, tb);
    ASSERT_EQ(ta.size(), tb.size());
    const double touched = roofline::expected_distinct_experts(128, 4, 64, 0);
    for (std::size_t i = 0; i < ta.size(); ++i) {
      const double depth_by_width = ta.name[i] == "moe_up_gate" ? 2880.0 * 5760 : ta.name[i] == "moe_down" ? 2880.0 * 2880 : 0;
      EXPECT_NEAR(static_cast<double>(tb.bytes[i]) - ta.bytes[i], x * touched * depth_by_width * 4.25 / 8,
                  1e-6 * ta.bytes[i])
          << ta.name[i];
    }
  }
}

TEST(BlockFormats, ExpertsAtFp4RateWhereTheChipHasIt) {
  const auto m = gpt_oss_120b();
  parallelism::DeploymentSpec d;
  for (const std::string name : {"h100-sxm", "b200"}) {
    SCOPED_TRACE(name);
    const auto hw = hardware::load_hardware(name);
    roofline::OperatorTable t;
    roofline::StepCostModel(m, hw, d).build(roofline::StepShape::decode(64, 1000, 1, m.attention_window()), t);
    // H100 has no FP4: the experts are dequantized and multiplied at the bf16 rate; B200 runs them at FP4.
    const double rate = hw.supports(DType::fp4) ? hw.peak_flops_per_s(DType::fp4) : hw.peak_flops_per_s(DType::bf16);
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t.name[i] == "moe_up_gate") {
        EXPECT_NEAR(t.seconds_per_flop[i] * rate * hw.efficiency.compute * hw.efficiency.moe_gemm, 1.0, 1e-6);
        // The touched experts' gate and up weights at 4.25 bits, 256 token-expert rows in bf16 in and out.
        const double touched = roofline::expected_distinct_experts(128, 4, 64, 0);
        EXPECT_NEAR(t.bytes[i] / (touched * 2880.0 * 5760 * 4.25 / 8 + 256 * (2880 * 2.0 + 5760 * 2.0)), 1.0, 1e-6);
      }
    }
  }
}

TEST(BlockFormats, Fp4WeightsEmulatedWithoutAnFp4Rate) {
  auto m = gpt_oss_120b();
  m.moe->expert_weight_format = model::BlockFormat::none;
  parallelism::DeploymentSpec d;
  d.weight_dtype = DType::fp4;  // NVFP4 by default (group 16); dequantized to bf16 on H100
  d.quantization_group_size = 32;  // MXFP4
  EXPECT_DOUBLE_EQ(parallelism::weight_bytes_per_element(d) * 8, 4.25);
  EXPECT_NO_THROW(roofline::StepCostModel(m, hardware::load_hardware("h100-sxm"), d));
}

}  // namespace
}  // namespace infersim
