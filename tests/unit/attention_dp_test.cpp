// Attention data parallelism and wide expert parallelism (docs/roofline.md "Attention data parallelism and
// wide expert parallelism", docs/configuration.md deployment.attention_data_parallel): hand-counted KV bytes
// per rank, all-to-all bytes, divisibility rules and the expert-load imbalance against independent computations.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "infersim/core/error.hpp"
#include "infersim/core/random.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/model/model_stats.hpp"
#include "infersim/parallelism/collective.hpp"
#include "infersim/parallelism/expert_load.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/roofline/step_cost.hpp"

namespace infersim {
namespace {

using parallelism::DeploymentSpec;

DeploymentSpec deepseek(int t, int ep, int n) {
  DeploymentSpec d;
  d.tensor_parallel = t;
  d.expert_parallel = ep;
  d.attention_data_parallel = n;
  d.weight_dtype = d.activation_dtype = d.kv_cache_dtype = DType::fp8;  // deepseek-v3's native type
  return d;
}

double sum_of(const roofline::OperatorTable& t, std::string_view name, bool use_bytes) {
  double s = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.name[i] == name) s += t.count[i] * (use_bytes ? static_cast<double>(t.bytes[i]) : t.flops(i));
  }
  return s;
}

TEST(AttentionDataParallel, MlaKvPerRankByHandTensorParallelReplicatesTheLatent) {
  const auto m = model::load_model("deepseek-v3");
  const auto hw = hardware::load_hardware("h200-sxm");
  const parallelism::WorkspaceLimits limits{8192, 256};
  const auto c = model::count_parameters(m);
  const double budget = std::min(hw.memory.capacity_bytes * 0.9, hw.memory.capacity_bytes - hw.memory.reserved_bytes);
  // MLA: 512-wide latent + 64-wide RoPE key per token per layer, 61 layers, fp8; a chip that runs a token's
  // attention holds all of it, whether it shares the heads with 7 others (TP8) or runs them alone (DP8).
  const double kv_per_token = (512 + 64) * 61 * 1.0;

  // TP8: every chip holds 1/8 of every weight and the latent of every token of the replica.
  const auto tp = parallelism::plan_memory(m, hw, deepseek(8, 8, 1), limits);
  const double tp_weights = (c.layers() * 1.0 + (c.embedding + c.lm_head) * 2.0) / 8;
  const double qkv = (128.0 + 2 * 128) * 192;
  const double tp_workspace = 8192 * (4.0 * 7168 + 2 * qkv / 8 + 3.0 * 18432 / 8) * 2 + 256.0 * 129280 / 8 * 4;
  EXPECT_NEAR(tp.weight_bytes_per_chip / tp_weights, 1.0, 1e-12);
  EXPECT_NEAR(tp.workspace_bytes_per_chip / tp_workspace, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(tp.kv_bytes_per_token_per_chip, kv_per_token);
  const auto tp_tokens = static_cast<std::int64_t>((budget - tp_weights - tp_workspace) / kv_per_token);
  EXPECT_NEAR(static_cast<double>(tp.kv_token_capacity), static_cast<double>(tp_tokens), 1.0);
  EXPECT_EQ(tp.kv_token_capacity_per_rank, tp.kv_token_capacity);  // one rank: all 8 chips

  // DP8 + EP8: each chip is a rank with its own sequences. It holds the non-expert weights whole (attention,
  // dense MLP layers, shared experts, router, norms, embedding, LM head) and 1/8 of the routed experts.
  const auto dp = parallelism::plan_memory(m, hw, deepseek(8, 8, 8), limits);
  const double dp_weights = (c.layers() - c.moe_experts) * 1.0 + c.moe_experts * 1.0 / 8 + (c.embedding + c.lm_head) * 2.0;
  const double dp_workspace = 8192 * ((4.0 * 7168 + 2 * qkv) / 8 + 3.0 * 18432 / 8) * 2 + 256.0 / 8 * 129280 * 4;
  EXPECT_NEAR(dp.weight_bytes_per_chip / dp_weights, 1.0, 1e-12);
  EXPECT_NEAR(dp.workspace_bytes_per_chip / dp_workspace, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(dp.kv_bytes_per_token_per_chip, kv_per_token);
  const auto rank_tokens = static_cast<std::int64_t>((budget - dp_weights - dp_workspace) / kv_per_token);
  EXPECT_NEAR(static_cast<double>(dp.kv_token_capacity_per_rank), static_cast<double>(rank_tokens), 1.0);
  EXPECT_EQ(dp.kv_token_capacity, 8 * dp.kv_token_capacity_per_rank);
  // The replicated weights cost KV room per chip, but no token is held 8 times: the replica holds more.
  EXPECT_LT(dp.kv_bytes_per_chip, tp.kv_bytes_per_chip);
  EXPECT_GT(dp.kv_token_capacity, 4 * tp.kv_token_capacity);
}

TEST(AttentionDataParallel, GqaKvHeadsSplitOverTheRanksChips) {
  // Mixtral-8x7B: 8 KV heads of 128, 32 layers, bf16. TP8: one KV head per chip. DP2 x attention-TP4: two.
  const auto m = model::load_model("mixtral-8x7b");
  const auto hw = hardware::load_hardware("h100-sxm");
  DeploymentSpec d;
  d.tensor_parallel = 8;
  d.expert_parallel = 8;
  EXPECT_DOUBLE_EQ(parallelism::plan_memory(m, hw, d).kv_bytes_per_token_per_chip, 2.0 * 1 * 128 * 32 * 2);
  d.attention_data_parallel = 2;
  const auto plan = parallelism::plan_memory(m, hw, d);
  EXPECT_DOUBLE_EQ(plan.kv_bytes_per_token_per_chip, 2.0 * 2 * 128 * 32 * 2);
  EXPECT_EQ(plan.kv_token_capacity, 2 * plan.kv_token_capacity_per_rank);
}

TEST(AttentionDataParallel, HeadCountDivisibility) {
  const auto m = model::load_model("deepseek-v3");
  const auto hw = hardware::load_hardware("h100-sxm");
  // tensor_parallel 24 does not divide 128 heads; the error points at attention data parallelism.
  try {
    parallelism::validate_deployment(m, hw, deepseek(24, 8, 1));
    FAIL() << "expected InfeasibleError";
  } catch (const InfeasibleError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("tensor_parallel 24 does not divide deepseek-v3's 128 attention heads"), std::string::npos) << msg;
    EXPECT_NE(msg.find("attention_data_parallel (one of 3, 6, 12, 24)"), std::string::npos) << msg;
  }
  // 24 chips as 24 ranks of 1 or 3 ranks of 8 split the heads; 8 ranks of 3 do not.
  EXPECT_NO_THROW(parallelism::validate_deployment(m, hw, deepseek(24, 8, 24)));
  EXPECT_NO_THROW(parallelism::validate_deployment(m, hw, deepseek(24, 8, 3)));
  try {
    parallelism::validate_deployment(m, hw, deepseek(24, 8, 8));
    FAIL() << "expected InfeasibleError";
  } catch (const InfeasibleError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("= 3 chips per attention rank cannot split"), std::string::npos) << msg;
    EXPECT_NE(msg.find("valid attention_data_parallel values: 3, 6, 12, 24"), std::string::npos) << msg;
  }
  // N must divide tensor_parallel.
  EXPECT_THROW(parallelism::validate_deployment(m, hw, deepseek(8, 8, 3)), InfeasibleError);
  // A dense model has nothing for the ranks to share.
  const auto dense = model::load_model("llama-3.1-8b");
  DeploymentSpec d;
  d.tensor_parallel = 2;
  d.attention_data_parallel = 2;
  EXPECT_THROW(parallelism::validate_deployment(dense, hw, d), InfeasibleError);
  // 144 ranks over 256 experts need 32 redundant copies (288 = 2 x 144), as DeepSeek's decode units hold.
  auto wide = deepseek(144, 144, 144);
  EXPECT_THROW(parallelism::validate_deployment(m, hw, wide), InfeasibleError);
  wide.redundant_experts = 32;
  EXPECT_NO_THROW(parallelism::validate_deployment(m, hw, wide));
}

TEST(AttentionDataParallel, AllToAllBytesByHand) {
  const auto m = model::load_model("deepseek-v3");
  const auto hw = hardware::load_hardware("h200-sxm");
  // DP8 + EP8, decode of 64 sequences: each chip dispatches its 8 tokens x 8 experts x 7168 x 2 bytes (bf16
  // stream), 7/8 of it to the other chips, in each of 58 MoE layers; the combine returns as much. Balanced load
  // here (expert_load_imbalance 1); the busiest rank's share is checked below.
  roofline::OperatorTable t;
  auto balanced = deepseek(8, 8, 8);
  balanced.expert_load_imbalance = 1.0;
  roofline::StepCostModel(m, hw, balanced).build(roofline::StepShape::decode(64, 1024), t);
  const double per_chip = 64.0 / 8 * 8 * 7168 * 2;
  EXPECT_NEAR(sum_of(t, "ep_dispatch", true) / (58 * per_chip * 7 / 8), 1.0, 1e-9);
  EXPECT_NEAR(sum_of(t, "ep_combine", true) / (58 * per_chip * 7 / 8), 1.0, 1e-9);
  // No attention all-reduce: each rank's attention is on one chip.
  EXPECT_EQ(sum_of(t, "tp_all_reduce", true), 0.0);
  // Attention reads only the rank's 8 sequences' latent: 61 layers x (8 x 1024 cached + 8 new) x 576 bytes,
  // plus 8 queries x 128 heads x (576 + 512) fp8 elements.
  EXPECT_NEAR(sum_of(t, "attention_decode", true) / (61 * ((8.0 * 1024 + 8) * 576 + 8.0 * 128 * (576 + 512))), 1.0, 1e-9);

  // EP16 over two 8-GPU H100 nodes: 7/16 of each chip's tokens stay in its NVLink domain, 8/16 cross InfiniBand.
  auto ep16 = deepseek(16, 16, 16);
  ep16.expert_load_imbalance = 1.0;
  const auto h100 = parallelism::plan_memory(m, hardware::load_hardware("h100-sxm"), ep16);
  ASSERT_TRUE(h100.fits());
  roofline::StepCostModel(m, hardware::load_hardware("h100-sxm"), ep16).build(roofline::StepShape::decode(64, 1024), t);
  const double wide = 64.0 / 16 * 8 * 7168 * 2;
  EXPECT_NEAR(sum_of(t, "ep_dispatch_scale_up", true) / (58 * wide * 7 / 16), 1.0, 1e-9);
  EXPECT_NEAR(sum_of(t, "ep_dispatch_scale_out", true) / (58 * wide * 8 / 16), 1.0, 1e-9);
  EXPECT_NEAR(sum_of(t, "ep_combine_scale_out", true) / (58 * wide * 8 / 16), 1.0, 1e-9);
  EXPECT_EQ(sum_of(t, "ep_dispatch", true), 0.0);
}

TEST(AttentionDataParallel, BusiestRankStretchesExpertGemmsAndAllToAllAlike) {
  // With the derived factor f (uniform top-8 of 256 over 8 ranks, 64 tokens) the busiest rank computes f x the
  // mean token-expert pairs and receives f x the mean copies: the expert GEMM FLOPs and the exchange's bytes
  // both grow by f over a balanced step.
  const auto m = model::load_model("deepseek-v3");
  const auto hw = hardware::load_hardware("h200-sxm");
  auto balanced = deepseek(8, 8, 8);
  balanced.expert_load_imbalance = 1.0;
  roofline::OperatorTable t, b;
  roofline::StepCostModel(m, hw, deepseek(8, 8, 8)).build(roofline::StepShape::decode(64, 1024), t);
  roofline::StepCostModel(m, hw, balanced).build(roofline::StepShape::decode(64, 1024), b);
  const double f = parallelism::expert_load_imbalance(256, 8, 64, 8);
  ASSERT_GT(f, 1.1);
  EXPECT_NEAR(sum_of(t, "moe_up_gate", false) / sum_of(b, "moe_up_gate", false), f, 1e-6);
  EXPECT_NEAR(sum_of(t, "ep_dispatch", true) / sum_of(b, "ep_dispatch", true), f, 1e-6);
  EXPECT_NEAR(sum_of(t, "ep_combine", true) / sum_of(b, "ep_combine", true), f, 1e-6);
}

TEST(AttentionDataParallel, BalancedLoadSkewReproducesTensorRtLlmsEplbRun) {
  // TensorRT-LLM's EP load-balancer example (tech blog 4): DeepSeek-R1 at EP36 with 288 slots (32 redundant
  // experts) placed by measured load, 1024 token-expert pairs per rank per iteration: max / mean rank load
  // 1.1154. The model's factor at that point (4608 tokens x 8 / 36 = 1024) is the uniform one times the skew.
  const auto m = model::load_model("deepseek-r1");
  EXPECT_DOUBLE_EQ(m.moe->balanced_load_skew, 1.047);
  const auto hw = hardware::load_hardware("h200-sxm");
  auto d = deepseek(36, 36, 36);
  d.redundant_experts = 32;
  roofline::OperatorTable t;
  roofline::StepCostModel(m, hw, d).build(roofline::StepShape::decode(4608, 1024), t);
  // moe_up_gate: 2 x pairs x 7168 x (2 x 2048) FLOPs over 58 layers.
  const double f = sum_of(t, "moe_up_gate", false) / (58 * 2.0 * 1024 * 7168 * 2 * 2048);
  EXPECT_NEAR(f / 1.1154, 1.0, 0.002);
  // Without redundant experts the placement is not load-aware: the uniform factor alone.
  d.redundant_experts = 0;
  d.tensor_parallel = d.expert_parallel = d.attention_data_parallel = 32;
  roofline::StepCostModel(m, hw, d).build(roofline::StepShape::decode(4096, 1024), t);
  EXPECT_NEAR(sum_of(t, "moe_up_gate", false) / (58 * 2.0 * 1024 * 7168 * 2 * 2048),
              parallelism::expert_load_imbalance(256, 8, 4096, 32), 1e-6);
}

TEST(AttentionDataParallel, SpanningAllToAllSplitsTheLinks) {
  const parallelism::Link up{450e9, 2e-6}, out{50e9, 10e-6};
  const auto c = parallelism::all_to_all_spanning(1600.0, 32, 8, up, out);
  EXPECT_DOUBLE_EQ(c.scale_up.bytes_per_chip, 1600.0 * 7 / 32);
  EXPECT_DOUBLE_EQ(c.scale_up.latency_s, 2e-6);  // the 7 peers written at once
  EXPECT_DOUBLE_EQ(c.scale_out.bytes_per_chip, 1600.0 * 24 / 32);
  EXPECT_DOUBLE_EQ(c.scale_out.latency_s, 10e-6);
}

TEST(AttentionDataParallel, PerDomainAllToAllSendsOneCopyPerRemoteNode) {
  // 1600 bytes = 8 copies of 200 per token; EP32 over 4 domains of 8, 2.5 distinct remote domains per token:
  // 2.5 x 200 = 500 bytes over scale-out; over scale-up the 7/32 share for the own domain (350) plus the
  // forwarding of the 24/32 remote share inside its domain, 7 of 8 copies leaving the forwarding chip (1050).
  const parallelism::Link up{450e9, 2e-6}, out{50e9, 10e-6};
  const auto c = parallelism::all_to_all_spanning_per_domain(1600.0, 32, 8, 8, 2.5, up, out);
  EXPECT_DOUBLE_EQ(c.scale_out.bytes_per_chip, 500.0);
  EXPECT_DOUBLE_EQ(c.scale_out.latency_s, 10e-6);
  EXPECT_DOUBLE_EQ(c.scale_up.bytes_per_chip, 350.0 + 1050.0);
  EXPECT_DOUBLE_EQ(c.scale_up.latency_s, 2e-6);
  // Inside one domain nothing is deduplicated.
  const auto one = parallelism::all_to_all_spanning_per_domain(1600.0, 8, 8, 8, 0.0, up, out);
  EXPECT_DOUBLE_EQ(one.scale_up.bytes_per_chip, 1600.0 * 7 / 8);
  EXPECT_EQ(one.scale_out.bytes_per_chip, 0.0);
}

TEST(ExpertLoad, ExpectedRemoteNodesClosedForm) {
  // Top-8 of 256 experts. A node holding 256/D experts is missed when all 8 picks fall elsewhere:
  // D = 4: C(192,8)/C(256,8) = (192 x 191 x ... x 185) / (256 x 255 x ... x 249) = 0.0964464; the token reaches
  // 4 x (1 - 0.0964464) = 3.61421 nodes, 3/4 of them remote: 2.71066 (DeepEP's test counts 3.61 at EP32).
  EXPECT_NEAR(parallelism::expected_remote_nodes(256, 8, 4, 4), 3 * (1 - 0.0964464236), 1e-9);
  // D = 2: C(128,8)/C(256,8) = 0.00348994; 1.99302 nodes, half remote.
  EXPECT_NEAR(parallelism::expected_remote_nodes(256, 8, 2, 4), 1 - 0.0034899423, 1e-9);
  // D = 8: C(224,8)/C(256,8) = 0.33816850: 5.29465 nodes unlimited (7/8 remote: 4.63282), capped at the
  // node limit M = 4: 4 x 7/8 = 3.5 (DeepEP's test, top-4 of 8 node groups, counts 3.98 incl. the own node).
  EXPECT_NEAR(parallelism::expected_remote_nodes(256, 8, 8, 0), 8 * (1 - 0.3381684999) * 7 / 8, 1e-8);
  EXPECT_DOUBLE_EQ(parallelism::expected_remote_nodes(256, 8, 8, 4), 3.5);
  // Top-1: one node, remote with probability 3/4; one node: nothing remote.
  EXPECT_DOUBLE_EQ(parallelism::expected_remote_nodes(256, 1, 4, 0), 0.75);
  EXPECT_EQ(parallelism::expected_remote_nodes(256, 8, 1, 0), 0.0);
}

TEST(AttentionDataParallel, PrefillDeduplicatesPerNodeDecodeDoesNot) {
  // DeepSeek-V3 on 32 H800 (EP32 = 4 nodes of 8; 8 groups, top-4 groups: node limit 4): a prefill step's
  // dispatch sends 2.71066 remote-node copies per token over InfiniBand (ExpectedRemoteNodesClosedForm), a
  // decode step's all 24/32 x 8 = 6 non-local copies.
  const auto m = model::load_model("deepseek-v3");
  ASSERT_EQ(m.moe->expert_groups, 8);
  ASSERT_EQ(m.moe->groups_per_token, 4);
  EXPECT_DOUBLE_EQ(m.moe->node_limit(4), 4.0);
  EXPECT_DOUBLE_EQ(m.moe->node_limit(18), 4 * 18.0 / 8);  // a group spans 2.25 nodes
  const auto hw = hardware::load_hardware("h800");
  auto d = deepseek(32, 32, 32);
  d.expert_load_imbalance = 1.0;  // balanced: the bytes of the mean rank
  roofline::OperatorTable t;
  roofline::StepCostModel(m, hw, d).build(roofline::StepShape::prefill(1, 4096), t);
  const double token = 7168 * 2.0;  // one copy of the 16-bit hidden state
  const double tokens_per_chip = 4096.0 / 32;
  EXPECT_NEAR(sum_of(t, "ep_dispatch_scale_out", true) / (58 * tokens_per_chip * token * 3 * (1 - 0.0964464236)), 1.0,
              1e-6);  // the table holds floats
  EXPECT_NEAR(sum_of(t, "ep_dispatch_scale_up", true) / (58 * tokens_per_chip * 8 * token * 28 / 32), 1.0, 1e-9);
  roofline::StepCostModel(m, hw, d).build(roofline::StepShape::decode(64, 1024), t);
  EXPECT_NEAR(sum_of(t, "ep_dispatch_scale_out", true) / (58 * 64.0 / 32 * 8 * token * 24 / 32), 1.0, 1e-9);
}

double row_time_s(const roofline::OperatorTable& t, std::string_view name) {
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.name[i] == name) return static_cast<double>(t.time_s[i]);
  }
  ADD_FAILURE() << "no row " << name;
  return -1;
}

TEST(AttentionDataParallel, NormalKernelsRunBothLinksAtOncePricedAsTheSlower) {
  // DeepEP's normal kernels send over RDMA, forward over NVLink and receive at once (DeepSeek-V3 report 3.2.2):
  // the exchange takes the slower link's time; the other link's row keeps its bytes at no time. H800: NVLink
  // 200 GB/s, InfiniBand 50 GB/s per GPU, both at efficiency.network.
  const auto m = model::load_model("deepseek-v3");
  const auto hw = hardware::load_hardware("h800");
  const double eff = hw.efficiency.network;
  const double launch = hw.efficiency.kernel_launch_overhead_s;
  const double token = 7168 * 2.0;
  auto d = deepseek(32, 32, 32);
  d.expert_load_imbalance = 1.0;
  roofline::OperatorTable t;
  // EP32 (4 nodes), 128 tokens per chip: InfiniBand 128 x 2.71066 copies = 4.97 MB at 50 GB/s = 99.5 us against
  // NVLink 128 x 8 x 28/32 copies = 12.85 MB at 200 GB/s = 64.2 us: InfiniBand binds.
  roofline::StepCostModel(m, hw, d).build(roofline::StepShape::prefill(1, 4096), t);
  const double out_bytes = 128 * token * 3 * (1 - 0.0964464236);
  EXPECT_NEAR(row_time_s(t, "ep_dispatch_scale_out") / (out_bytes / (50e9 * eff) + 10e-6 + launch), 1.0, 1e-6);
  EXPECT_EQ(row_time_s(t, "ep_dispatch_scale_up"), 0.0);
  EXPECT_GT(sum_of(t, "ep_dispatch_scale_up", true), 0.0);  // its bytes stay on the table
  EXPECT_EQ(row_time_s(t, "ep_combine_scale_up"), 0.0);
  // EP16 (2 nodes), 256 tokens per chip: NVLink 256 x 8 x 14/16 copies = 25.7 MB = 128 us against InfiniBand
  // 256 x 0.99651 copies = 3.66 MB = 73 us: NVLink binds.
  auto d16 = deepseek(16, 16, 16);
  d16.expert_load_imbalance = 1.0;
  roofline::StepCostModel(m, hw, d16).build(roofline::StepShape::prefill(1, 4096), t);
  const double up_bytes = 256 * 8 * token * 14 / 16;
  EXPECT_NEAR(row_time_s(t, "ep_dispatch_scale_up") / (up_bytes / (200e9 * eff) + 14.42e-6 + launch), 1.0, 1e-6);
  EXPECT_EQ(row_time_s(t, "ep_dispatch_scale_out"), 0.0);
  // Decode runs the low-latency kernels, which write every copy directly: both links' rows take their time.
  roofline::StepCostModel(m, hw, d).build(roofline::StepShape::decode(64, 1024), t);
  EXPECT_GT(row_time_s(t, "ep_dispatch_scale_up"), 0.0);
  EXPECT_GT(row_time_s(t, "ep_dispatch_scale_out"), 0.0);
}

TEST(AttentionDataParallel, NormalKernelsPermuteTokensIntoExpertRowsAndBack) {
  // DeepSeek-V3 on one node of 8 H200, EP8 + DP8, balanced, a prefill of 4,096 tokens: each chip computes
  // 4096 x 8 / 8 = 4,096 token-expert pairs; it receives each token that picked one of its 32 experts,
  // 4096 (1 - C(224,8)/C(256,8)) = 4096 x 0.66183150 tokens. The permute copies every pair (read and write) at
  // the dispatch's width, the reduction reads each pair's 16-bit output and writes a 16-bit row per token.
  const auto m = model::load_model("deepseek-v3");
  const auto hw = hardware::load_hardware("h200-sxm");
  auto d = deepseek(8, 8, 8);
  d.expert_load_imbalance = 1.0;
  roofline::OperatorTable t;
  roofline::StepCostModel(m, hw, d).build(roofline::StepShape::prefill(1, 4096), t);
  const double pairs = 4096, received = 4096 * (1 - 0.3381684999);
  EXPECT_NEAR(sum_of(t, "moe_permute", true) / (58 * 2 * pairs * 7168 * 2.0), 1.0, 1e-6);
  EXPECT_NEAR(sum_of(t, "moe_unpermute", true) / (58 * (pairs + received) * 7168 * 2.0), 1.0, 1e-6);
  EXPECT_NEAR(sum_of(t, "moe_unpermute", false) / (58 * 2 * pairs * 7168), 1.0, 1e-6);
  // An FP8 dispatch (one FP32 scale per 128 elements) moves the permuted copies at 1 + 4/128 bytes an element.
  d.all_to_all.fp8_dispatch = true;
  roofline::StepCostModel(m, hw, d).build(roofline::StepShape::prefill(1, 4096), t);
  EXPECT_NEAR(sum_of(t, "moe_permute", true) / (58 * 2 * pairs * 7168 * 1.03125), 1.0, 1e-6);
  // The low-latency kernels of a decode step write and read the per-expert layout themselves: no copies.
  roofline::StepCostModel(m, hw, d).build(roofline::StepShape::decode(64, 1024), t);
  EXPECT_EQ(sum_of(t, "moe_permute", true) + sum_of(t, "moe_unpermute", true), 0.0);
  // One chip holding every expert exchanges nothing and permutes nothing here.
  roofline::StepCostModel(m, hw, deepseek(8, 1, 1)).build(roofline::StepShape::prefill(1, 4096), t);
  EXPECT_EQ(sum_of(t, "moe_permute", true), 0.0);
}

TEST(ExpertLoad, ChanceTokenReachesClosedForm) {
  // 1 - C(E - E/D, k) / C(E, k), the ratios computed exactly with Python's math.comb:
  // C(192,8)/C(256,8) = 0.0964464236, C(248,8)/C(256,8) = 0.7729125026.
  EXPECT_NEAR(parallelism::chance_token_reaches(256, 8, 4), 1 - 0.0964464236, 1e-9);
  EXPECT_NEAR(parallelism::chance_token_reaches(256, 8, 32), 1 - 0.7729125026, 1e-9);
  EXPECT_DOUBLE_EQ(parallelism::chance_token_reaches(256, 1, 4), 0.25);  // top-1: a quarter of the experts
  EXPECT_DOUBLE_EQ(parallelism::chance_token_reaches(256, 8, 1), 1.0);
  EXPECT_DOUBLE_EQ(parallelism::chance_token_reaches(256, 0, 4), 0.0);
}

TEST(ExpertLoad, ExpectedMaxOfNormalsClosedForms) {
  EXPECT_DOUBLE_EQ(parallelism::expected_max_standard_normal(1), 0.0);
  EXPECT_NEAR(parallelism::expected_max_standard_normal(2), 1.0 / std::sqrt(std::numbers::pi), 1e-9);
  EXPECT_NEAR(parallelism::expected_max_standard_normal(3), 1.5 / std::sqrt(std::numbers::pi), 1e-9);
  // Tabulated: E[max of 10 standard normals] = 1.538753 (Harter 1961).
  EXPECT_NEAR(parallelism::expected_max_standard_normal(10), 1.538753, 1e-5);
}

TEST(ExpertLoad, TwoRanksAgainstTheExactBinomial) {
  // Top-1 over 2 experts on 2 ranks: rank 0 gets X ~ Binomial(T, 1/2), the busiest max(X, T - X).
  const int T = 100;
  double expected_max = 0, p = std::pow(0.5, T);  // P(X = 0)
  for (int x = 0; x <= T; ++x) {
    expected_max += p * std::max(x, T - x);
    p *= static_cast<double>(T - x) / (x + 1);
  }
  EXPECT_NEAR(parallelism::expert_load_imbalance(2, 1, T, 2), expected_max / (T / 2.0), 2e-3);
}

TEST(ExpertLoad, TopKRoutingAgainstMonteCarlo) {
  // 64 experts, top-4, 8 ranks of 8 experts, 128 tokens: draw the routing and average the busiest rank.
  const int E = 64, k = 4, R = 8, T = 128, trials = 20000;
  Rng rng(2026);
  double sum_max = 0;
  std::vector<int> experts(E);
  for (int trial = 0; trial < trials; ++trial) {
    std::vector<int> load(R, 0);
    for (int tok = 0; tok < T; ++tok) {
      for (int e = 0; e < E; ++e) experts[e] = e;
      for (int j = 0; j < k; ++j) {  // k distinct experts: partial Fisher-Yates
        const auto pick = rng.uniform_int(j, E - 1);
        std::swap(experts[j], experts[pick]);
        ++load[experts[j] / (E / R)];
      }
    }
    sum_max += *std::max_element(load.begin(), load.end());
  }
  const double simulated = sum_max / trials / (static_cast<double>(T) * k / R);
  EXPECT_NEAR(parallelism::expert_load_imbalance(E, k, T, R), simulated, 0.01 * simulated);
  // More tokens per step even the ranks out.
  EXPECT_LT(parallelism::expert_load_imbalance(E, k, 100 * T, R), parallelism::expert_load_imbalance(E, k, T, R));
  EXPECT_DOUBLE_EQ(parallelism::expert_load_imbalance(E, k, T, 1), 1.0);
}

TEST(AttentionDataParallel, ImbalanceScalesTheBusiestRanksExpertWork) {
  const auto m = model::load_model("deepseek-v3");
  const auto hw = hardware::load_hardware("h200-sxm");
  const auto shape = roofline::StepShape::decode(64, 1024);
  roofline::OperatorTable tp, dp;
  roofline::StepCostModel(m, hw, deepseek(8, 8, 1)).build(shape, tp);
  roofline::StepCostModel(m, hw, deepseek(8, 8, 8)).build(shape, dp);
  // Same expert layout (FLOPs held in single precision); with data-parallel attention the derived factor applies (tensor-parallel keeps 1).
  EXPECT_NEAR(sum_of(dp, "moe_up_gate", false) / sum_of(tp, "moe_up_gate", false),
              parallelism::expert_load_imbalance(256, 8, 64, 8), 1e-6);
  auto fixed = deepseek(8, 8, 8);
  fixed.expert_load_imbalance = 1.25;
  roofline::StepCostModel(m, hw, fixed).build(shape, dp);
  EXPECT_NEAR(sum_of(dp, "moe_down", false) / sum_of(tp, "moe_down", false), 1.25, 1e-6);
  auto derived = deepseek(8, 8, 1);
  derived.expert_load_imbalance = parallelism::kDerivedImbalance;
  roofline::StepCostModel(m, hw, derived).build(shape, dp);
  EXPECT_NEAR(sum_of(dp, "moe_down", false) / sum_of(tp, "moe_down", false), parallelism::expert_load_imbalance(256, 8, 64, 8), 1e-6);
}

TEST(AttentionDataParallel, DeepSeekDecodeIsFasterPerGpuWithDataParallelAttention) {
  // 512 sequences at 2048 tokens of context on 8 H200: with TP8 every chip reads the latent KV of all 512
  // sequences in every layer (61 x 512 x 2048 x 576 B = 36.8 GB per step); with DP8 each reads its 64
  // (4.6 GB) and pays instead for holding the non-expert weights whole (about 15 GB more per step).
  const auto m = model::load_model("deepseek-v3");
  const auto hw = hardware::load_hardware("h200-sxm");
  const auto shape = roofline::StepShape::decode(512, 2048);
  const auto tp = roofline::StepCostModel(m, hw, deepseek(8, 8, 1)).evaluate(shape);
  const auto dp = roofline::StepCostModel(m, hw, deepseek(8, 8, 8)).evaluate(shape);
  EXPECT_GT(tp.bytes_per_chip - dp.bytes_per_chip, 10e9);
  EXPECT_LT(dp.time_s, tp.time_s);
}

}  // namespace
}  // namespace infersim
