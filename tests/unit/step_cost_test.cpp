// Operator costs of whole steps against hand derivations (docs/modeling.md sections 1-3 and 7).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/model/model_stats.hpp"
#include "infersim/parallelism/collective.hpp"
#include "infersim/core/random.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "infersim/roofline/step_cost_cache.hpp"

namespace infersim::roofline {
namespace {

parallelism::DeploymentSpec native(const model::ModelSpec& m, int tp = 1) {
  parallelism::DeploymentSpec d;
  d.tensor_parallel = tp;
  d.weight_dtype = d.activation_dtype = d.kv_cache_dtype = m.native_dtype;
  return d;
}

double sum_of(const OperatorTable& t, std::string_view name, bool use_bytes) {
  double s = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.name[i] == name) s += t.count[i] * (use_bytes ? static_cast<double>(t.bytes[i]) : t.flops(i));
  }
  return s;
}

TEST(StepCost, Llama2_7bBatch1DecodeOnA100IsBoundedByWeightStreaming) {
  // docs/modeling.md: Llama-2-7B fp16 (13.5 GB) on A100-80GB (2.039 TB/s) cannot beat ~6.6 ms per token.
  const auto m = model::load_model("llama-2-7b");
  const auto hw = hardware::load_hardware("a100-sxm-80gb");
  const StepCostModel cost(m, hw, native(m));
  OperatorTable t;
  cost.build(StepShape::decode(1, 128), t);
  const StepCost c = cost.summarize(t);
  const double weight_bytes = model::count_parameters(m).total() * 2.0;
  const double floor_s = weight_bytes / hw.memory.bandwidth_bytes_per_s;
  EXPECT_NEAR(floor_s, 6.6e-3, 0.05e-3);
  EXPECT_GT(c.time_s, floor_s);
  // Within the profile's memory efficiency of the floor, plus the fixed per-operator overheads.
  double overhead = 0;
  for (std::size_t i = 0; i < t.size(); ++i) overhead += t.count[i] * static_cast<double>(t.overhead_s[i]);
  EXPECT_LT(c.time_s, floor_s / hw.efficiency.memory * 1.01 + overhead);
  EXPECT_GT(c.time_s, floor_s / hw.efficiency.memory);
  // Every GEMM at batch 1 is memory-bound.
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.op_class[i] == OpClass::gemm) {
      EXPECT_EQ(static_cast<Bound>(t.bound[i]), Bound::memory) << t.name[i];
    }
  }
}

TEST(StepCost, LargePrefillGemmsAreComputeBound) {
  const auto m = model::load_model("llama-3.1-8b");
  const auto hw = hardware::load_hardware("h100-sxm");
  const StepCostModel cost(m, hw, native(m));
  OperatorTable t;
  cost.build(StepShape::prefill(4, 2048), t);
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.name[i] == "mlp_up_gate" || t.name[i] == "qkv_proj") {
      EXPECT_EQ(static_cast<Bound>(t.bound[i]), Bound::compute);
    }
  }
}

TEST(StepCost, PrefillAttentionFlopsAreCausal) {
  // Causal attention over N tokens: sum_{i=1..N} i = N (N + 1) / 2 query-key pairs, 4 n_h d_h FLOPs each, per layer.
  const auto m = model::load_model("llama-2-7b");
  const auto hw = hardware::load_hardware("a100-sxm-80gb");
  const StepCostModel cost(m, hw, native(m));
  OperatorTable t;
  const double n = 1000;
  cost.build(StepShape::prefill(2, 1000), t);
  const double expected = 2 * 4.0 * 32 * 128 * (n * (n + 1) / 2) * 32;
  EXPECT_NEAR(sum_of(t, "attention_prefill", false) / (expected), 1.0, 1e-6);
}

TEST(StepCost, MoeBatch1ReadsTopKExpertsAndLargeBatchReadsAll) {
  const auto m = model::load_model("mixtral-8x7b");
  const auto hw = hardware::load_hardware("h100-sxm");
  const StepCostModel cost(m, hw, native(m));
  const double d = 4096, f = 14336, layers = 32, wb = 2;
  const double one_expert = 3 * d * f * wb;  // gate, up and down matrices
  auto expert_weight_bytes = [&](std::int64_t batch) {
    OperatorTable t;
    cost.build(StepShape::decode(batch, 512), t);
    const double all = sum_of(t, "moe_up_gate", true) + sum_of(t, "moe_down", true);
    // Subtract activation traffic: tokens x k x (d + 2f) in, (f + d) out per expert pair.
    const double tokens = static_cast<double>(batch) * 2;
    const double act = layers * tokens * ((d + 2 * f) + (f + d)) * wb;
    return (all - act) / layers;
  };
  EXPECT_NEAR(expert_weight_bytes(1) / (2 * one_expert), 1.0, 1e-9);     // k = 2 experts
  EXPECT_NEAR(expert_weight_bytes(4096) / (8 * one_expert), 1.0, 1e-9);  // all 8 experts
}

TEST(StepCost, MoeGemmEfficiencySlowsOnlyTheExpertGemms) {
  // efficiency.moe_gemm is the expert GEMMs' rate relative to the dense GEMMs'. A prefill of 8 x 2048 tokens
  // of Mixtral-8x7B on one A100 is compute-bound in every GEMM: from moe_gemm 1 (as dense) to 0.5 the expert
  // GEMMs' time (FLOPs x seconds per FLOP, plus the kernel cost) doubles, the dense ones (attention
  // projections, router, LM head) do not move.
  const auto m = model::load_model("mixtral-8x7b");
  auto hw = hardware::load_hardware("a100-sxm-80gb");
  hw.efficiency.moe_gemm = 1.0;
  const auto shape = StepShape::prefill(8, 2048);
  OperatorTable full, half;
  StepCostModel(m, hw, native(m)).build(shape, full);
  hw.efficiency.moe_gemm = 0.5;
  StepCostModel(m, hw, native(m)).build(shape, half);
  for (std::size_t i = 0; i < full.size(); ++i) {
    const double launch = hw.efficiency.kernel_launch_overhead_s;
    const double a = static_cast<double>(full.time_s[i]) - launch, b = static_cast<double>(half.time_s[i]) - launch;
    if (full.name[i] == "moe_up_gate" || full.name[i] == "moe_down") {
      EXPECT_EQ(full.bound[i], static_cast<std::uint8_t>(Bound::compute)) << full.name[i];
      EXPECT_NEAR(b / a, 2.0, 1e-4) << full.name[i];
    } else {
      EXPECT_NEAR(b / a, 1.0, 1e-6) << full.name[i];
    }
  }
}

// A serving engine's fused-MoE kernels (deployment.moe_gemm, from its moe_gemm.efficiency) reach a fraction of
// the chip's calibrated efficiency.moe_gemm on the architectures it names: at 0.5 a compute-bound expert GEMM's
// time (less its kernel cost) doubles, exactly as halving the chip's figure would; a memory-bound one (one
// decoding sequence reads two experts' weights) does not move, and no other operator does. A figure for another
// architecture changes nothing on this chip.
TEST(StepCost, EngineMoeGemmEfficiencyScalesTheChipsFigure) {
  const auto m = model::load_model("mixtral-8x7b");
  const auto hw = hardware::load_hardware("h100-sxm");  // 32-row tiles: one sequence's two experts are memory-bound
  auto halved_hw = hw;
  halved_hw.efficiency.moe_gemm = hw.efficiency.moe_gemm / 2;
  ASSERT_EQ(hw.architecture, "nvidia-hopper");
  auto slow_engine = native(m);
  slow_engine.moe_gemm.efficiency_by_architecture["nvidia-hopper"] = 0.5;
  auto other_chips_engine = native(m);
  other_chips_engine.moe_gemm.efficiency_by_architecture["nvidia-ampere-ga100"] = 0.5;
  const double launch = hw.efficiency.kernel_launch_overhead_s;
  for (const StepShape& shape : {StepShape::prefill(8, 2048), StepShape::decode(1, 512)}) {
    const bool prefill = shape.prefill_tokens > 0;
    SCOPED_TRACE(prefill ? "prefill" : "decode");
    OperatorTable base, slow, halved, other;
    StepCostModel(m, hw, native(m)).build(shape, base);
    StepCostModel(m, hw, slow_engine).build(shape, slow);
    StepCostModel(m, halved_hw, native(m)).build(shape, halved);
    StepCostModel(m, hw, other_chips_engine).build(shape, other);
    ASSERT_EQ(base.size(), slow.size());
    ASSERT_EQ(base.size(), other.size());
    int experts = 0;
    for (std::size_t i = 0; i < base.size(); ++i) {
      const double a = static_cast<double>(base.time_s[i]) - launch, b = static_cast<double>(slow.time_s[i]) - launch;
      EXPECT_DOUBLE_EQ(static_cast<double>(slow.time_s[i]), static_cast<double>(halved.time_s[i])) << base.name[i];
      EXPECT_EQ(other.time_s[i], base.time_s[i]) << base.name[i];
      const bool expert = base.name[i] == "moe_up_gate" || base.name[i] == "moe_down";
      experts += expert;
      if (expert && prefill) {
        EXPECT_EQ(base.bound[i], static_cast<std::uint8_t>(Bound::compute)) << base.name[i];
        EXPECT_NEAR(b / a, 2.0, 1e-4) << base.name[i];
      } else {
        if (expert) {
          EXPECT_EQ(base.bound[i], static_cast<std::uint8_t>(Bound::memory)) << base.name[i];
        }
        EXPECT_NEAR(b / a, 1.0, 1e-9) << base.name[i];
      }
    }
    EXPECT_EQ(experts, 2);
  }
}

TEST(StepCost, Mxfp4ExpertsOnChipsWithoutFp4RunInSixteenRowTiles) {
  // gpt-oss publishes its routed experts in MXFP4 and runs bf16 elsewhere. A chip without an FP4 rate dequantizes
  // them in a weight-only grouped GEMM (16-row MMA fragments), so their rows pad to 16 while the bf16 GEMMs
  // keep the chip's own tile; a chip with FP4 runs them as its dense GEMMs.
  const auto m = model::load_model("gpt-oss-20b");
  ASSERT_NE(m.moe->expert_weight_format, model::BlockFormat::none);
  auto unquantized = m;
  unquantized.moe->expert_weight_format = model::BlockFormat::none;
  struct Case {
    const char* chip;
    const model::ModelSpec* model;
    double expert_tile, dense_tile;
  };
  for (const Case& c : {Case{"a100-sxm-80gb", &m, 16, 128}, Case{"h100-sxm", &m, 16, 32},
                        Case{"b200", &m, 64, 64}, Case{"a100-sxm-80gb", &unquantized, 128, 128}}) {
    SCOPED_TRACE(std::string(c.chip) + (c.model == &m ? " mxfp4" : " bf16 experts"));
    const auto hw = hardware::load_hardware(c.chip);
    ASSERT_DOUBLE_EQ(std::max(hw.compute.gemm_tile_rows, hw.compute.systolic_array_size), c.dense_tile);
    OperatorTable t;
    // 800 tokens x top-4 over 32 experts: 100 rows per expert, every expert touched.
    StepCostModel(*c.model, hw, native(*c.model)).build(StepShape::prefill(1, 800), t);
    int experts = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t.op_class[i] != OpClass::gemm) continue;
      const bool expert = t.name[i] == "moe_up_gate" || t.name[i] == "moe_down";
      experts += expert;
      EXPECT_EQ(t.tile_rows[i], expert ? c.expert_tile : c.dense_tile) << t.name[i];
    }
    EXPECT_EQ(experts, 2);
  }
  // The time by hand on the A100: 100 rows pad to 112 (seven 16-row tiles), not 128, at the bf16 rate (the
  // dequantization's cost added) over the chip's grouped-GEMM efficiency.
  const auto hw = hardware::load_hardware("a100-sxm-80gb");
  const auto d = native(m);
  OperatorTable t;
  StepCostModel(m, hw, d).build(StepShape::prefill(1, 800), t);
  const double rows = 800.0 * 4 / expected_distinct_experts(32, 4, 800, d.moe_routing_skew);
  ASSERT_NEAR(rows, 100.0, 1e-6);
  const double s_per_flop = (1.0 + d.dequant_overhead) /
                            (hw.peak_flops_per_s(DType::bf16) * hw.efficiency.compute * hw.efficiency.moe_gemm);
  const double f = static_cast<double>(m.moe->expert_ffn_hidden_size), h = static_cast<double>(m.hidden_size);
  const double flops[] = {2.0 * 800 * 4 * h * 2 * f, 2.0 * 800 * 4 * f * h};  // up+gate, down
  int k = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.name[i] != "moe_up_gate" && t.name[i] != "moe_down") continue;
    EXPECT_EQ(t.bound[i], static_cast<std::uint8_t>(Bound::compute)) << t.name[i];
    EXPECT_NEAR(t.time_s[i], flops[k] * 112.0 / 100.0 * s_per_flop + hw.efficiency.kernel_launch_overhead_s,
                2e-6 * t.time_s[i])
        << t.name[i];
    ++k;
  }
}

TEST(StepCost, ExpectedDistinctExperts) {
  // Uniform routing: E (1 - (1 - k/E)^T).
  EXPECT_DOUBLE_EQ(expected_distinct_experts(8, 2, 1, 0), 2.0);
  EXPECT_NEAR(expected_distinct_experts(8, 2, 2, 0), 8 * (1 - 0.75 * 0.75), 1e-12);
  EXPECT_NEAR(expected_distinct_experts(256, 8, 32, 0), 256 * (1 - std::pow(1 - 8.0 / 256, 32)), 1e-9);
  // Skew: one token still picks k experts; at moderate batches fewer distinct experts than uniform.
  EXPECT_NEAR(expected_distinct_experts(256, 8, 1, 0.5), 8.0, 1e-12);
  EXPECT_LT(expected_distinct_experts(256, 8, 16, 0.5), expected_distinct_experts(256, 8, 16, 0));
  EXPECT_NEAR(expected_distinct_experts(8, 2, 1e6, 0.9), 8.0, 1e-6);
}

TEST(StepCost, TensorParallelAllReduceBytes) {
  // Two all-reduces per layer of T d b_a bytes. In a ring each chip sends 2 (t-1)/t of it; reduced in the
  // switch (h100-sxm's NVLink SHARP) each chip sends it once.
  const auto m = model::load_model("llama-3.1-70b");
  auto hw = hardware::load_hardware("h100-sxm");
  ASSERT_EQ(hw.interconnect.all_reduce, hardware::AllReduceAlgorithm::in_switch);
  const StepCostModel cost(m, hw, native(m, 8));
  OperatorTable t;
  cost.build(StepShape::decode(64, 1024), t);
  const double buffer = 64.0 * 8192 * 2;
  EXPECT_NEAR(sum_of(t, "tp_all_reduce", true) / (2 * 80 * buffer), 1.0, 1e-6);
  hw.interconnect.all_reduce = hardware::AllReduceAlgorithm::ring;
  StepCostModel(m, hw, native(m, 8)).build(StepShape::decode(64, 1024), t);
  EXPECT_NEAR(sum_of(t, "tp_all_reduce", true) / (2 * 80 * 2.0 * 7 / 8 * buffer), 1.0, 1e-6);
  // And the GEMM weights are split 8 ways: qkv N = (64 + 2 * 8) * 128 / 8.
  EXPECT_NEAR(sum_of(t, "qkv_proj", false) / (80 * 2.0 * 64 * 8192 * (80 * 128 / 8)), 1.0, 1e-6);
}

// An engine's own all-reduce kernel (vLLM's custom all-reduce; csrc/custom_all_reduce.cuh): one-shot on two chips
// and below 512 KiB on up to four or 256 KiB on up to eight (each chip receives the other t-1 buffers whole, two
// barriers), two-shot otherwise (2 (t-1)/t of the buffer, three barriers).
TEST(StepCost, CustomAllReduceOneAndTwoShotByHand) {
  const parallelism::Link link{300e9, 5e-6, hardware::AllReduceAlgorithm::ring};
  const double KiB = 1024;
  auto c = parallelism::custom_all_reduce(28 * KiB, 8, link);
  EXPECT_DOUBLE_EQ(c.bytes_per_chip, 7 * 28 * KiB);
  EXPECT_DOUBLE_EQ(c.latency_s, 10e-6);
  c = parallelism::custom_all_reduce(1024 * KiB, 8, link);
  EXPECT_DOUBLE_EQ(c.bytes_per_chip, 2.0 * 7 / 8 * 1024 * KiB);
  EXPECT_DOUBLE_EQ(c.latency_s, 15e-6);
  EXPECT_DOUBLE_EQ(parallelism::custom_all_reduce(400 * KiB, 4, link).bytes_per_chip, 3 * 400 * KiB);  // < 512 KiB
  EXPECT_DOUBLE_EQ(parallelism::custom_all_reduce(400 * KiB, 8, link).latency_s, 15e-6);               // >= 256 KiB
  EXPECT_DOUBLE_EQ(parallelism::custom_all_reduce(4096 * KiB, 2, link).bytes_per_chip, 4096 * KiB);   // two chips: one-shot

  // Where it runs: 2, 4, 6 or 8 chips of a fully connected domain whose own all-reduce is a ring or a tree, below
  // the engine's max_bytes.
  const auto a100 = hardware::load_hardware("a100-sxm-80gb");
  ASSERT_TRUE(a100.interconnect.scale_up_fully_connected);
  const double max = 8 * 1024 * KiB;
  EXPECT_TRUE(parallelism::runs_custom_all_reduce(28 * KiB, 8, max, a100));
  EXPECT_FALSE(parallelism::runs_custom_all_reduce(max, 8, max, a100));
  EXPECT_FALSE(parallelism::runs_custom_all_reduce(28 * KiB, 8, 0, a100));  // the engine has none
  EXPECT_FALSE(parallelism::runs_custom_all_reduce(28 * KiB, 3, max, a100));
  EXPECT_FALSE(parallelism::runs_custom_all_reduce(28 * KiB, 16, max, a100));  // beyond the domain
  EXPECT_FALSE(parallelism::runs_custom_all_reduce(28 * KiB, 8, max, hardware::load_hardware("h100-sxm")));  // in-switch
  EXPECT_FALSE(parallelism::runs_custom_all_reduce(28 * KiB, 2, max, hardware::load_hardware("rtx-4090")));   // PCIe

  // Llama-3.1-70B decode of one sequence on 8 A100s: two all-reduces a layer of 8192 x 2 bytes. With the kernel
  // each is one-shot: 7 x 16 KiB received and 2 latency steps; NCCL's ring sends 2 x 7/8 of it in 14 steps.
  const auto m = model::load_model("llama-3.1-70b");
  auto d = native(m, 8);
  OperatorTable ring, custom;
  StepCostModel(m, a100, d).build(StepShape::decode(1, 1024), ring);
  d.all_reduce.max_bytes = max;
  StepCostModel(m, a100, d).build(StepShape::decode(1, 1024), custom);
  const double buffer = 8192.0 * 2;
  const double lambda = a100.interconnect.scale_up_latency_s;
  const double launch = a100.efficiency.kernel_launch_overhead_s;  // every network row pays one launch
  for (std::size_t i = 0; i < custom.size(); ++i) {
    if (custom.name[i] != "tp_all_reduce") continue;
    EXPECT_NEAR(custom.bytes[i], 7 * buffer, 1e-3);
    EXPECT_NEAR(custom.overhead_s[i], 2 * lambda + launch, 1e-9);
    EXPECT_NEAR(ring.bytes[i], 2.0 * 7 / 8 * buffer, 1e-3);
    EXPECT_NEAR(ring.overhead_s[i], 14 * lambda + launch, 1e-9);
  }
  EXPECT_NEAR(sum_of(custom, "tp_all_reduce", true), 2 * 80 * 7 * buffer, 1.0);
}

TEST(StepCost, PipelineStagesSplitLayersAndAddLatency) {
  const auto m = model::load_model("llama-3.1-70b");
  const auto hw = hardware::load_hardware("h100-sxm");
  auto d1 = native(m, 4);
  auto d2 = d1;
  d2.pipeline_parallel = 2;
  const auto shape = StepShape::decode(32, 2048);
  const StepCost c1 = StepCostModel(m, hw, d1).evaluate(shape);
  const StepCost c2 = StepCostModel(m, hw, d2).evaluate(shape);
  // A stage holds half the layers: roughly half the time; one step still passes all layers, plus a hop.
  EXPECT_NEAR(c2.stage_time_s / c1.stage_time_s, 0.5, 0.05);
  EXPECT_GT(c2.time_s, c1.time_s);
  EXPECT_LT(c2.time_s, c1.time_s * 1.05);
}

TEST(StepCost, Fp8HalvesWeightBytesAndUsesTheFp8Rate) {
  const auto m = model::load_model("llama-3.1-8b");
  const auto hw = hardware::load_hardware("h100-sxm");
  auto d16 = native(m);
  auto d8 = d16;
  d8.weight_dtype = d8.activation_dtype = d8.kv_cache_dtype = DType::fp8;
  OperatorTable t16, t8;
  StepCostModel(m, hw, d16).build(StepShape::prefill(8, 2048), t16);
  StepCostModel(m, hw, d8).build(StepShape::prefill(8, 2048), t8);
  for (std::size_t i = 0; i < t16.size(); ++i) {
    if (t16.name[i] != "mlp_up_gate") continue;
    EXPECT_DOUBLE_EQ(t8.flops(i), t16.flops(i));
    EXPECT_NEAR(t8.seconds_per_flop[i] / t16.seconds_per_flop[i], 989.0 / 1979.0, 1e-6);
  }
}

// DeepSeek-V3's checkpoint scales its FP8 weights per 128 x 128 block; its GEMMs run block-scaled kernels
// (DeepGEMM) that pay a fixed cost per output tile, priced as K + k0 elements of depth at the FP8 rate. By hand on
// h800 (1979 TFLOP/s FP8 dense, efficiency.compute e, k0 = efficiency.block_fp8_gemm_overhead_k), the README shape
// M 4096, N 32768, K 512 (2 M N K = 137.4 GFLOP): 2 M N (K + k0) / (1979e12 e) + one launch, compute-bound
// (its bytes, K N + M K at 1 B and the BF16 output M N x 2 B = 287 MB, stream in ~107 us at 3.35 TB/s x
// efficiency.memory). The same shape over a per-tensor FP8 checkpoint (Llama-3.1-8B at FP8) is the larger of
// 2 M N K / (1979e12 e) and that stream, plus one launch; DeepSeek-V3 dequantized to BF16 runs per-tensor BF16 GEMMs.
// Against DeepGEMM's published time (README as first released: 590 TFLOPS, 0.2329 ms) within 3%.
TEST(StepCost, BlockScaledFp8GemmsPayAFixedCostPerTile) {
  const auto ds = model::load_model("deepseek-v3");
  const auto llama = model::load_model("llama-3.1-8b");
  const auto hw = hardware::load_hardware("h800");
  ASSERT_EQ(ds.fp8_weight_block_size, 128);
  const double e = hw.efficiency.compute, k0 = hw.efficiency.block_fp8_gemm_overhead_k;
  const double launch = hw.efficiency.kernel_launch_overhead_s;
  ASSERT_GT(k0, 0.0);
  const double M = 4096, N = 32768, K = 512;
  parallelism::DeploymentSpec fp8;
  fp8.weight_dtype = fp8.activation_dtype = fp8.kv_cache_dtype = DType::fp8;
  const double block = StepCostModel(ds, hw, fp8).price_gemm("g", M, K, N).time_s;
  const double per_tensor = StepCostModel(llama, hw, fp8).price_gemm("g", M, K, N).time_s;
  EXPECT_NEAR(block, 2 * M * N * (K + k0) / (1979e12 * e) + launch, 1e-9);
  const double stream = (K * N + M * K + 2 * M * N) / (hw.memory.bandwidth_bytes_per_s * hw.efficiency.memory);
  EXPECT_NEAR(per_tensor, std::max(2 * M * N * K / (1979e12 * e), stream) + launch, 1e-9);
  EXPECT_GT(2 * M * N * (K + k0) / (1979e12 * e), stream);
  EXPECT_NEAR(block / 0.2329e-3, 1.0, 0.03);
  parallelism::DeploymentSpec bf16;
  bf16.weight_dtype = bf16.activation_dtype = bf16.kv_cache_dtype = DType::bf16;
  const double stream16 = (2 * K * N + 2 * M * K + 2 * M * N) / (hw.memory.bandwidth_bytes_per_s * hw.efficiency.memory);
  EXPECT_NEAR(StepCostModel(ds, hw, bf16).price_gemm("g", M, K, N).time_s,
              std::max(2 * M * N * K / (989e12 * e), stream16) + launch, 1e-9);

  // In a whole prefill step every GEMM over the model's own FP8 weights slows by (K + k0) / K at its own depth:
  // the MLA projections, o_proj, the dense and shared MLPs and the routed experts (d = 7168 into up/gate, the
  // expert width 2048 into down). The 16-bit router and LM head, and MLA's absorbed per-head products, do not.
  auto plain_hw = hw;
  plain_hw.efficiency.block_fp8_gemm_overhead_k = 0.0;
  OperatorTable with, without;
  const auto shape = StepShape::prefill(2, 4096);
  StepCostModel(ds, hw, fp8).build(shape, with);
  StepCostModel(ds, plain_hw, fp8).build(shape, without);
  ASSERT_EQ(with.size(), without.size());
  const std::map<std::string, double> depth = {
      {"mla_down_proj", 7168}, {"mla_q_up_proj", 1536},  {"mla_kv_up_proj", 512},       {"o_proj", 16384},
      {"mlp_up_gate", 7168},   {"mlp_down", 18432},      {"moe_up_gate", 7168},         {"moe_down", 2048},
      {"shared_expert_up_gate", 7168}, {"shared_expert_down", 2048}, {"moe_router", 0}, {"lm_head", 0}};
  std::set<std::string> seen;
  for (std::size_t i = 0; i < with.size(); ++i) {
    const std::string name(with.name[i]);
    const auto it = depth.find(name);
    if (it == depth.end()) continue;
    seen.insert(name);
    const double expected = it->second > 0 ? (it->second + k0) / it->second : 1.0;
    EXPECT_NEAR(with.seconds_per_flop[i] / without.seconds_per_flop[i], expected, 1e-6) << name;
  }
  EXPECT_EQ(seen.size(), depth.size());
  OperatorTable decode_with, decode_without;
  StepCostModel(ds, hw, fp8).build(StepShape::decode(64, 4096), decode_with);
  StepCostModel(ds, plain_hw, fp8).build(StepShape::decode(64, 4096), decode_without);
  for (std::size_t i = 0; i < decode_with.size(); ++i) {
    if (decode_with.name[i] != "mla_absorb_q" && decode_with.name[i] != "mla_absorb_out") continue;
    EXPECT_DOUBLE_EQ(decode_with.seconds_per_flop[i], decode_without.seconds_per_flop[i]) << decode_with.name[i];
  }
}

// Attention's QK^T and PV run in FP8 only where the engine has FP8 attention kernels and the KV cache is FP8
// (TensorRT-LLM's FP8 context FMHA); an engine that reads the cache into 16-bit math (SGLang) or a BF16 KV cache
// keeps attention at the BF16 rate whatever the GEMMs' type. Llama-3.1-8B prefill of 8 x 2048 tokens on one
// H100 (989 BF16 / 1979 FP8 dense TFLOP/s, efficiency.compute e): 32 heads of 128, 32 layers, causal
// 8 x 2048 x 2049 / 2 pairs of 4 x 32 x 128 FLOPs: 2.2003e13 FLOPs, compute-bound at either rate (its bytes,
// ~2.4 GB, take ~0.8 ms at 3.35 TB/s). Time: FLOPs / (rate x e) plus one launch per layer.
TEST(StepCost, AttentionRunsInFp8OnlyWithFp8KernelsAndAnFp8KvCache) {
  const auto m = model::load_model("llama-3.1-8b");
  auto hw = hardware::load_hardware("h100-sxm");
  // The data type's rate alone: the prefill-attention kernel keys (tested in PrefillAttention) left neutral.
  hw.efficiency.attention_prefill = 1.0;
  hw.efficiency.attention_prefill_overhead_keys = 0.0;
  const double e = hw.efficiency.compute, launch = hw.efficiency.kernel_launch_overhead_s;
  const double flops = 8 * 4.0 * 32 * 128 * (2048.0 * 2049 / 2) * 32;
  const double at_bf16 = flops / (989e12 * e) + 32 * launch, at_fp8 = flops / (1979e12 * e) + 32 * launch;
  auto time_of = [&](DType kv, bool fp8_kernels) {
    auto d = native(m);
    d.weight_dtype = d.activation_dtype = DType::fp8;
    d.kv_cache_dtype = kv;
    d.fp8_attention = fp8_kernels;
    OperatorTable t;
    StepCostModel(m, hw, d).build(StepShape::prefill(8, 2048), t);
    double s = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t.name[i] == "attention_prefill") s += t.count[i] * static_cast<double>(t.time_s[i]);
    }
    return s;
  };
  OperatorTable bf16;
  StepCostModel(m, hw, native(m)).build(StepShape::prefill(8, 2048), bf16);
  EXPECT_NEAR(sum_of(bf16, "attention_prefill", false) / flops, 1.0, 1e-9);
  EXPECT_NEAR(time_of(DType::fp8, true) / at_fp8, 1.0, 1e-6);    // TensorRT-LLM, vLLM (FA3): FP8 cache, FP8 math
  EXPECT_NEAR(time_of(DType::fp8, false) / at_bf16, 1.0, 1e-6);  // SGLang: FP8 cache read into BF16 math
  EXPECT_NEAR(time_of(DType::bf16, true) / at_bf16, 1.0, 1e-6);  // BF16 cache: BF16 attention under any engine
  EXPECT_NEAR(time_of(DType::bf16, false) / at_bf16, 1.0, 1e-6);
}

TEST(StepCost, AttentionMathDtypeFollowsActivationsKvCacheAndEngine) {
  const auto h100 = hardware::load_hardware("h100-sxm");
  const auto b200 = hardware::load_hardware("b200");
  parallelism::DeploymentSpec d;
  d.weight_dtype = d.activation_dtype = d.kv_cache_dtype = DType::fp16;  // 16-bit activations: their own type
  EXPECT_EQ(attention_math_dtype(h100, d), DType::fp16);
  d.activation_dtype = DType::fp4;  // NVFP4 GEMMs with an FP8 cache and FP8 kernels: attention in FP8, not FP4
  d.kv_cache_dtype = DType::fp8;
  d.fp8_attention = true;
  EXPECT_EQ(attention_math_dtype(b200, d), DType::fp8);
  d.fp8_attention = false;
  EXPECT_EQ(attention_math_dtype(b200, d), DType::bf16);
  d.activation_dtype = DType::int8;  // W8A8 INT8 with an INT8 cache: no INT8 attention kernels, 16 bits
  d.kv_cache_dtype = DType::int8;
  d.fp8_attention = true;
  EXPECT_EQ(attention_math_dtype(h100, d), DType::bf16);
}

TEST(StepCost, Fp8GemmInputsButA16BitStream) {
  // FP8 engines quantize each GEMM's input to 8 bits and write its output, the residual stream and the
  // all-reduce in 16 bits. Llama-3.1-70B, TP 2, a decode step of T = 100 tokens, d = 8192, f = 28672 / 2:
  //   mlp_down per layer:  weights f d x 1 B + input T f x 1 B + output T d x 2 B
  //   mlp_norm per layer:  residual read, add, write in 2 B (3 T d x 2) + quantized output T d x 1 B
  //   mlp_act per layer:   gate and up outputs 2 T f x 2 B in, quantized T f x 1 B out
  //   all-reduce:          2 per layer of T d x 2 B; in the switch each chip sends the buffer once
  const auto m = model::load_model("llama-3.1-70b");
  const auto hw = hardware::load_hardware("h100-sxm");
  auto d = native(m, 2);
  d.weight_dtype = d.activation_dtype = d.kv_cache_dtype = DType::fp8;
  OperatorTable t;
  StepCostModel(m, hw, d).build(StepShape::decode(100, 1000), t);
  const double T = 100, dm = 8192, f = 28672 / 2.0, layers = 80;
  EXPECT_NEAR(sum_of(t, "mlp_down", true) / (layers * (f * dm + T * f + T * dm * 2)), 1.0, 1e-9);
  EXPECT_NEAR(sum_of(t, "mlp_norm", true) / (layers * (3 * T * dm * 2 + T * dm)), 1.0, 1e-9);
  EXPECT_NEAR(sum_of(t, "mlp_act", true) / (layers * (2 * T * f * 2 + T * f)), 1.0, 1e-9);
  EXPECT_NEAR(sum_of(t, "tp_all_reduce", true) / (2 * layers * T * dm * 2), 1.0, 1e-9);
  // In bf16 the same operators move 2 bytes everywhere.
  OperatorTable b;
  StepCostModel(m, hw, native(m, 2)).build(StepShape::decode(100, 1000), b);
  EXPECT_NEAR(sum_of(b, "mlp_norm", true) / (layers * 4 * T * dm * 2), 1.0, 1e-9);
  EXPECT_NEAR(sum_of(b, "tp_all_reduce", true) / sum_of(t, "tp_all_reduce", true), 1.0, 1e-9);
}

TEST(StepCost, Fp8OnAChipWithoutFp8IsAClearError) {
  const auto m = model::load_model("llama-3.1-8b");
  const auto hw = hardware::load_hardware("a100-sxm-80gb");
  auto d = native(m);
  d.weight_dtype = d.activation_dtype = DType::fp8;
  try {
    StepCostModel c(m, hw, d);
    FAIL() << "expected InfeasibleError";
  } catch (const InfeasibleError& e) {
    EXPECT_NE(std::string(e.what()).find("no fp8 matrix rate"), std::string::npos) << e.what();
  }
}

TEST(StepCost, LmHeadOnlyForTokensThatEmitLogits) {
  const auto m = model::load_model("llama-3.1-8b");
  const auto hw = hardware::load_hardware("h100-sxm");
  const StepCostModel cost(m, hw, native(m));
  OperatorTable t;
  StepShape s;
  s.add_prefill_chunk(512, 0, false);   // a middle chunk emits nothing
  s.add_prefill_chunk(256, 1024, true); // the last chunk of another prompt emits one logit
  s.add_decode(300);
  s.add_decode(400);
  cost.build(s, t);
  EXPECT_NEAR(sum_of(t, "lm_head", false) / (3 * 2.0 * 4096 * 128256), 1.0, 1e-6);
}

TEST(StepCostCache, EqualsFullEvaluationOnRandomSteps) {
  struct Case {
    const char* model;
    int tp, pp;
  };
  const auto hw = hardware::load_hardware("h100-sxm");
  Rng rng(11);
  for (const Case c : {Case{"llama-3.1-8b", 1, 1}, Case{"llama-3.1-70b", 4, 2}, Case{"mixtral-8x7b", 2, 1},
                       Case{"deepseek-v3", 8, 4}}) {
    SCOPED_TRACE(c.model);
    const auto m = model::load_model(c.model);
    auto d = native(m, c.tp);
    d.pipeline_parallel = c.pp;
    if (m.native_dtype == DType::fp8) d.weight_dtype = d.activation_dtype = d.kv_cache_dtype = DType::fp8;
    const StepCostModel model(m, hw, d);
    StepCostCache cache(model);
    for (int i = 0; i < 200; ++i) {
      StepShape s;
      const auto prefills = rng.uniform_int(0, 3), decodes = rng.uniform_int(0, 64);
      for (std::int64_t j = 0; j < prefills; ++j) s.add_prefill_chunk(rng.uniform_int(1, 2048), rng.uniform_int(0, 4096), rng.uniform() < 0.5);
      for (std::int64_t j = 0; j < decodes; ++j) s.add_decode(rng.uniform_int(1, 8192));
      if (s.empty()) continue;
      const StepCost a = model.evaluate(s);
      const StepCost b = cache.evaluate(s);
      ASSERT_NEAR(b.time_s / a.time_s, 1.0, 1e-12);
      ASSERT_NEAR(b.stage_time_s / a.stage_time_s, 1.0, 1e-12);
      ASSERT_NEAR(b.flops_per_chip / a.flops_per_chip, 1.0, 1e-12);
      ASSERT_NEAR(b.bytes_per_chip / a.bytes_per_chip, 1.0, 1e-12);
    }
  }
}

}  // namespace
}  // namespace infersim::roofline

namespace infersim::roofline {
namespace {

TEST(Quantization, Int4WeightBytesAndBatchOneSpeedup) {
  // AWQ-style W4A16: 4-bit weights with one fp16 scale per 128, 16-bit embedding and LM head. On a
  // memory-bound GPU batch-1 decode time tracks the bytes read, so the speed-up over fp16 is about the ratio of
  // weight bytes: (2 x 6.74e9) / (0.5156 x 6.48e9 + 2 x 0.26e9) ~ 3.5, less the fixed per-kernel costs.
  // The AWQ paper measures 2.61x for Llama-2-7B on an RTX A6000 (TinyChat); the issue asks for 2.5-3.5x.
  const auto m = model::load_model("llama-2-7b");
  const auto hw = hardware::load_hardware("rtx-a6000");
  auto fp16 = native(m);
  auto int4 = fp16;
  int4.weight_dtype = DType::int4;
  OperatorTable t;
  StepCostModel(m, hw, int4).build(StepShape::decode(1, 256), t);
  const double layer_weights = 32 * (4096.0 * 4096 * 4 + 3 * 4096.0 * 11008);
  double int4_gemm_bytes = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.name[i] == "qkv_proj" || t.name[i] == "o_proj" || t.name[i] == "mlp_up_gate" || t.name[i] == "mlp_down") {
      int4_gemm_bytes += t.count[i] * static_cast<double>(t.bytes[i]);
    }
  }
  const double activations = 32 * 2.0 * (4096 + 12288 + 4096 + 4096 + 4096 + 22016 + 11008 + 4096);
  EXPECT_NEAR((int4_gemm_bytes - activations) / (layer_weights * (0.5 + 2.0 / 128)), 1.0, 1e-5);
  const double t16 = StepCostModel(m, hw, fp16).evaluate(StepShape::decode(1, 256)).time_s;
  const double t4 = StepCostModel(m, hw, int4).evaluate(StepShape::decode(1, 256)).time_s;
  std::printf("llama-2-7b batch-1 decode on rtx-a6000: fp16 %.2f ms, int4 %.2f ms, %.2fx\n", t16 * 1e3, t4 * 1e3, t16 / t4);
  EXPECT_GE(t16 / t4, 2.5);
  EXPECT_LE(t16 / t4, 3.5);
}

TEST(Quantization, Fp4ComputeOnlyWhereTheChipHasIt) {
  const auto m = model::load_model("llama-3.1-8b");
  auto d = native(m);
  d.weight_dtype = DType::fp4;
  // FP4 weights with 16-bit activations: dequantized in the GEMM on a chip without FP4 (vLLM's Marlin path).
  EXPECT_NO_THROW(StepCostModel(m, hardware::load_hardware("h100-sxm"), d));
  EXPECT_NO_THROW(StepCostModel(m, hardware::load_hardware("b200"), d));
  d.activation_dtype = DType::fp4;
  EXPECT_THROW(StepCostModel(m, hardware::load_hardware("h100-sxm"), d), InfeasibleError);
  EXPECT_NO_THROW(StepCostModel(m, hardware::load_hardware("b200"), d));
}

}  // namespace
}  // namespace infersim::roofline
