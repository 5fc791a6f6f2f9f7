// Large-MoE serving mechanisms (docs/roofline.md "Two-batch overlap", docs/configuration.md speculative method
// "mtp"): two-batch overlap of the expert-parallel all-to-all with compute, and DeepSeek-V3's multi-token-
// prediction module as a proposer, against hand-derived values.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "infersim/core/error.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/model/model_stats.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "infersim/roofline/step_cost_cache.hpp"
#include "infersim/serving/simulation.hpp"
#include "infersim/serving/speculative.hpp"

namespace infersim {
namespace {

using parallelism::DeploymentSpec;

DeploymentSpec wide_ep(int t, bool overlap) {
  DeploymentSpec d;
  d.tensor_parallel = d.expert_parallel = d.attention_data_parallel = t;
  d.weight_dtype = d.activation_dtype = DType::fp8;
  d.kv_cache_dtype = DType::bf16;
  d.two_batch_overlap = overlap;
  return d;
}

/// A priced micro-batch by hand: time in the layers, of it in the expert all-to-all, and outside the layers.
struct MicroBatchParts {
  double layers = 0, a2a = 0, ends = 0;
  double dispatch = 0, combine = 0, experts = 0;  // of layers, by name: the exchanges and the expert GEMMs
};
MicroBatchParts split_micro_batch(const roofline::OperatorTable& t) {
  MicroBatchParts p;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const double total = t.count[i] * static_cast<double>(t.time_s[i]);
    const std::string name(t.name[i]);
    if (name == "embedding" || name == "final_norm" || name == "lm_head" || name == "sampling") {
      p.ends += total;
    } else {
      p.layers += total;
      if (name.rfind("ep_dispatch", 0) == 0) p.dispatch += total;
      if (name.rfind("ep_combine", 0) == 0) p.combine += total;
      if (name.rfind("moe_up_gate", 0) == 0 || name == "moe_act" || name == "moe_down" ||
          name.rfind("shared_expert", 0) == 0) {
        p.experts += total;
      }
    }
  }
  p.a2a = p.dispatch + p.combine;
  return p;
}
// The step model and the serving simulation's memoized pricing both give `expected` for the shape.
void expect_step_time(const roofline::StepCostModel& model, const roofline::StepShape& shape, double expected) {
  EXPECT_NEAR(model.evaluate(shape).time_s / expected, 1.0, 1e-6);
  roofline::StepCostCache cache(model);
  EXPECT_NEAR(cache.evaluate(shape).time_s / expected, 1.0, 1e-6);
}

TEST(TwoBatchOverlap, CombinesOneMicroBatchsPartsByHand) {
  // One micro-batch: 6 s of compute and 4 s of all-to-all in its layers over 2 MoE layers (3 + 2 per layer,
  // in balanced pieces: attention and expert sides 1.5 s each, dispatch and combine 1 s each, so the layer is
  // 2 max(c, m)), 1 s before the layers (embedding), 2 s after them (LM head).
  roofline::CostParts half;
  half.layers_s = 10;
  half.dispatch_s = half.combine_s = 2;
  half.expert_side_s = 3;
  half.first_stage_s = 1;
  half.last_stage_s = 2;
  half.flops = 100;
  half.bytes = 50;
  const auto c = roofline::overlap_two_batches(half, 2);
  // Compute stream busy throughout (2 micro-batches x 2 layers x 3 s = 12 s) plus the last exchange (2 s).
  EXPECT_DOUBLE_EQ(c.layers_s, 14.0);
  EXPECT_DOUBLE_EQ(c.dispatch_s + c.combine_s, 8.0);
  EXPECT_DOUBLE_EQ(c.first_stage_s, 2.0);
  EXPECT_DOUBLE_EQ(c.last_stage_s, 4.0);
  EXPECT_DOUBLE_EQ(c.flops, 200.0);
  EXPECT_DOUBLE_EQ(c.bytes, 100.0);
  // Communication-bound: 3 s of compute, 5 s of all-to-all over 5 layers (0.6 + 1 per layer): the exchanges
  // run back to back (2 x 5 x 1 s) after the first compute piece (0.6 s). Balanced pieces: sides 0.3 s,
  // dispatch and combine 0.5 s per layer.
  roofline::CostParts comm;
  comm.layers_s = 8;
  comm.dispatch_s = comm.combine_s = 2.5;
  comm.expert_side_s = 1.5;
  EXPECT_NEAR(roofline::overlap_two_batches(comm, 5).layers_s, 10.6, 1e-12);
}

TEST(TwoBatchOverlap, UnbalancedPiecesOverlapPairByPairByHand) {
  // DeepSeek's H800 decode profile (deepseek-ai/profile-data decode.json, EP128, 64 sequences x 2 tokens per
  // micro-batch; per-kernel table at zdszero.github.io deepseek_profile.html), one MoE layer in microseconds:
  // attention side a = 388 (attention block) + 19 (gate), expert side e = 81 + 8 + 39 (routed GEMMs, SiLU),
  // dispatch d = 187, combine x = 394. Pairs: max(407, 394) + max(407, 187) + max(128, 187) + max(128, 394)
  // = 407 + 407 + 187 + 394 = 1,395 us per layer, against the profile's 87.32 ms / 61 layers = 1,431 us; the
  // pooled form 2 max(535, 581) would give 1,162. Unhidden piece: min(535, 581) = 535 over the 1 layer.
  roofline::CostParts half;
  half.dispatch_s = 187;
  half.combine_s = 394;
  half.expert_side_s = 128;
  half.layers_s = 407 + 128 + 581;
  const double layer = roofline::overlap_two_batches(half, 1).layers_s - 535;
  EXPECT_NEAR(layer, 1395.0, 1e-9);
  EXPECT_NEAR(layer / (87.32e3 / 61), 1.0, 0.03);
  // Balanced pieces (a = e, d = x) reduce to the pooled 2 max(c, m): 4 x max(3, 2) = 12 per layer.
  roofline::CostParts even;
  even.dispatch_s = even.combine_s = 2;
  even.expert_side_s = 3;
  even.layers_s = 10;
  EXPECT_NEAR(roofline::overlap_two_batches(even, 1).layers_s, 2 * std::max(6.0, 4.0) + 4.0, 1e-12);
}

TEST(TwoBatchOverlap, MicroBatchHalvesTheStep) {
  auto s = roofline::StepShape::decode(5, 100);
  const auto h = s.micro_batch();
  EXPECT_EQ(h.decode_sequences, 3);  // the larger half
  EXPECT_EQ(h.decode_context_tokens, 250);
  EXPECT_EQ(h.logit_tokens, 3);
  EXPECT_EQ(h.decode_tokens_per_sequence, 1);
  auto p = roofline::StepShape::prefill(4, 1000);
  const auto hp = p.micro_batch();
  EXPECT_EQ(hp.prefill_tokens, 2000);
  EXPECT_EQ(hp.prefill_sequences, 2);
  EXPECT_DOUBLE_EQ(hp.prefill_attention_pairs, 2 * 1000.0 * 1001 / 2);  // two prompts' causal pairs
}

TEST(TwoBatchOverlap, StepIsTwoMicroBatchesOfTheOperatorTable) {
  // DeepSeek-V3 decode on 16 H800 (EP16, DP16, two nodes): price half the batch without overlap, then combine
  // by hand: per MoE layer the four overlapped pairs max(a, x) + max(a, d) + max(e, d) + max(e, x) (attention
  // side a, expert side e, dispatch d, combine x), plus min(compute, all-to-all) / MoE layers, the rest twice.
  const auto m = model::load_model("deepseek-v3");
  const auto hw = hardware::load_hardware("h800");
  const roofline::StepCostModel plain(m, hw, wide_ep(16, false));
  const roofline::StepCostModel tbo(m, hw, wide_ep(16, true));
  const auto shape = roofline::StepShape::decode(4096, 2000);
  roofline::OperatorTable t;
  plain.build(shape.micro_batch(), t);
  const auto p = split_micro_batch(t);
  ASSERT_GT(p.a2a, 0);
  ASSERT_GT(p.experts, 0);
  const double moe_layers = 58;  // 61 layers, the first 3 dense
  const double a = (p.layers - p.a2a - p.experts) / moe_layers, e = p.experts / moe_layers;
  const double d = p.dispatch / moe_layers, x = p.combine / moe_layers;
  const double staged = std::max(a, x) + std::max(a, d) + std::max(e, d) + std::max(e, x);
  const double expected = moe_layers * staged + std::min(p.layers - p.a2a, p.a2a) / moe_layers + 2 * p.ends;
  // Pairing never beats one pooled compute against one pooled exchange (here compute outlasts every exchange).
  EXPECT_GE(moe_layers * staged, 2 * std::max(p.layers - p.a2a, p.a2a) * (1 - 1e-12));
  expect_step_time(tbo, shape, expected);
  // At 256 sequences per GPU (SGLang's measured point) hiding one stream behind the other beats one batch.
  EXPECT_LT(tbo.evaluate(shape).time_s, plain.evaluate(shape).time_s);
  // A step of one token cannot be split.
  const auto one = roofline::StepShape::decode(1, 2000);
  EXPECT_DOUBLE_EQ(tbo.evaluate(one).time_s, plain.evaluate(one).time_s);
}

TEST(TwoBatchOverlap, CommunicationKernelsTakeSmsFromOverlappedComputeByHand) {
  // A quarter of the SMs (33 of 132) run the exchange. Compute-bound micro-batch: 3 s of compute and 2 s of
  // exchange per layer over 2 layers. Each 3 s piece runs 2 s beside the other micro-batch's exchange on 3/4 of
  // the SMs (1.5 s of its work) and its other 1.5 s alone: 3.5 s; 4 pieces plus the last exchange (2 s) = 16 s.
  // In balanced pieces (sides 1.5 s, dispatch and combine 1 s per layer) each pair is 1.75 s: the same 16 s.
  roofline::CostParts half;
  half.layers_s = 10;
  half.dispatch_s = half.combine_s = 2;
  half.expert_side_s = 3;
  EXPECT_NEAR(roofline::overlap_two_batches(half, 2, 0.25).layers_s, 16.0, 1e-12);
  // Communication-bound (0.6 s compute, 1 s exchange per layer, 5 layers): on 3/4 of the SMs a piece takes 0.8 s,
  // still inside the exchange, so nothing changes (10.6 s as without the kernels' SMs). On half the SMs it
  // would need 1.2 s: 0.5 s of work beside the exchange, 0.1 s alone = 1.1 s; 10 pieces + the first (0.6 s).
  roofline::CostParts comm;
  comm.layers_s = 8;
  comm.dispatch_s = comm.combine_s = 2.5;
  comm.expert_side_s = 1.5;
  EXPECT_NEAR(roofline::overlap_two_batches(comm, 5, 0.25).layers_s, 10.6, 1e-12);
  EXPECT_NEAR(roofline::overlap_two_batches(comm, 5, 0.5).layers_s, 11.6, 1e-12);
}

TEST(TwoBatchOverlap, NormalKernelsSlowPrefillComputeLowLatencyKernelsDoNot) {
  // DeepSeek-V3 on 32 H100 (EP32, DP32, 4 nodes) with SGLang's DeepEP kernels: 20 SMs for the normal kernels
  // (prefill), none for the low-latency ones (decode, hook mode). Prefill: half the batch priced alone, then
  // combined by hand with compute beside an exchange on 112 of the 132 SMs.
  const auto m = model::load_model("deepseek-v3");
  const auto hw = hardware::load_hardware("h100-sxm");
  ASSERT_EQ(hw.compute.compute_units, 132);
  auto d = wide_ep(32, true);
  d.redundant_experts = 32;
  d.all_to_all = {20, 0, true};  // FP8 dispatch: long prompts' compute then outlasts the exchange
  auto plain_d = d;
  plain_d.two_batch_overlap = false;
  const roofline::StepCostModel tbo(m, hw, d), plain(m, hw, plain_d);
  auto no_sms = d;
  no_sms.all_to_all.normal_kernel_sms = 0;
  const roofline::StepCostModel tbo_free(m, hw, no_sms);
  const auto prefill = roofline::StepShape::prefill(8, 16384);
  roofline::OperatorTable t;
  plain.build(prefill.micro_batch(), t);
  const auto p = split_micro_batch(t);
  const double c = p.layers - p.a2a, share = 20.0 / 132, L = 58;
  ASSERT_GT(c / (1 - share), p.a2a);  // the shape exercises the slowed compute
  // Each piece (attention side a, expert side e, per layer) beside one exchange (dispatch d or combine x) of
  // the other micro-batch, slowed on 112 of 132 SMs while the exchange runs.
  const double a = (c - p.experts) / L, e = p.experts / L, dd = p.dispatch / L, x = p.combine / L;
  auto pair = [&](double work, double exchange) {
    return std::max(std::min(work / (1 - share), work + exchange * share), exchange);
  };
  const double expected = L * (pair(a, x) + pair(a, dd) + pair(e, dd) + pair(e, x)) + std::min(c, p.a2a) / L + 2 * p.ends;
  expect_step_time(tbo, prefill, expected);
  EXPECT_GT(tbo.evaluate(prefill).time_s, tbo_free.evaluate(prefill).time_s);
  // Decode runs the low-latency kernels: no SMs taken, the step as before.
  const auto decode = roofline::StepShape::decode(4096, 2000);
  EXPECT_DOUBLE_EQ(tbo.evaluate(decode).time_s, tbo_free.evaluate(decode).time_s);
  // Kernels that take every SM leave nothing to compute with.
  d.all_to_all.normal_kernel_sms = 132;
  EXPECT_THROW(roofline::StepCostModel(m, hw, d), InfeasibleError);
}

TEST(ExpertAllToAll, Fp8DispatchCarriesOneScalePer128ElementsCombineStays16Bit) {
  // DP8 + EP8 decode of 64 sequences on 8 H200: each chip dispatches its 8 tokens x 8 experts x 7168 elements,
  // 7/8 of them to the other chips, in each of 58 MoE layers: FP8 with an FP32 scale per 128 elements is
  // 7168 + 56 x 4 = 7392 bytes per copy; the combine returns BF16, 14336 bytes per copy.
  const auto m = model::load_model("deepseek-v3");
  const auto hw = hardware::load_hardware("h200-sxm");
  DeploymentSpec d;
  d.tensor_parallel = d.expert_parallel = d.attention_data_parallel = 8;
  d.weight_dtype = d.activation_dtype = d.kv_cache_dtype = DType::fp8;
  d.all_to_all.fp8_dispatch = true;
  d.expert_load_imbalance = 1.0;  // the mean rank's bytes
  roofline::OperatorTable t;
  roofline::StepCostModel(m, hw, d).build(roofline::StepShape::decode(64, 1024), t);
  double dispatch = 0, combine = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.name[i] == "ep_dispatch") dispatch += t.count[i] * static_cast<double>(t.bytes[i]);
    if (t.name[i] == "ep_combine") combine += t.count[i] * static_cast<double>(t.bytes[i]);
  }
  EXPECT_NEAR(dispatch / (58 * 8.0 * 8 * 7392 * 7 / 8), 1.0, 1e-6);
  EXPECT_NEAR(combine / (58 * 8.0 * 8 * 14336 * 7 / 8), 1.0, 1e-6);
  // BF16 activations dispatch BF16 whatever the engine's kernels could do.
  d.activation_dtype = DType::bf16;
  roofline::StepCostModel(m, hw, d).build(roofline::StepShape::decode(64, 1024), t);
  dispatch = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.name[i] == "ep_dispatch") dispatch += t.count[i] * static_cast<double>(t.bytes[i]);
  }
  EXPECT_NEAR(dispatch / (58 * 8.0 * 8 * 14336 * 7 / 8), 1.0, 1e-6);
}

TEST(TwoBatchOverlap, NeedsExpertParallelism) {
  const auto m = model::load_model("deepseek-v3");
  auto d = wide_ep(8, true);
  d.expert_parallel = 1;
  d.attention_data_parallel = 1;
  EXPECT_THROW(roofline::StepCostModel(m, hardware::load_hardware("h800"), d), InfeasibleError);
}

TEST(MultiTokenPrediction, ModuleIsTheTargetsLastLayerByHand) {
  const auto m = model::load_model("deepseek-v3");
  const auto module = serving::mtp_module(m);
  EXPECT_EQ(module.num_layers, 1);
  ASSERT_TRUE(module.moe.has_value());
  EXPECT_EQ(module.num_moe_layers(), 1);  // an MoE layer, as layer 61 of the published checkpoint
  // Parameters of one DeepSeek-V3 MoE layer, counted from config.json: MLA (q_a 7168x1536, q_b 1536x(128x192),
  // kv_a 7168x(512+64), kv_b 512x(128x(128+128)), o 128x128x7168), router 7168x256, shared expert 3x7168x2048,
  // 256 routed experts of 3x7168x2048; norms are negligible.
  const double mla = 7168.0 * 1536 + 1536.0 * 128 * 192 + 7168.0 * 576 + 512.0 * 128 * 256 + 128.0 * 128 * 7168;
  const double expert = 3.0 * 7168 * 2048;
  const double layer = mla + 7168.0 * 256 + expert + 256 * expert;
  const auto c = model::count_parameters(module);
  EXPECT_NEAR(c.layers() / layer, 1.0, 1e-4);
  // DeepSeek's README_WEIGHTS: the MTP module holds 11.5B unique parameters (without the shared embedding and
  // head): the layer plus the 2d -> d projection.
  EXPECT_NEAR((layer + 2.0 * 7168 * 7168) / 11.5e9, 1.0, 0.01);

  // Memory on TP8 = EP8 = DP8 in fp8: each chip holds the layer's attention, router and shared expert whole,
  // 1/8 of its routed experts, and the projection; its KV is one layer's latent (576 elements, bf16).
  const auto d = wide_ep(8, false);
  serving::SpeculativeSpec spec;
  spec.method = serving::SpeculativeMethod::mtp;
  spec.num_speculative_tokens = 1;
  spec.acceptance = {0.875};
  const auto dm = serving::draft_memory(spec, m, d);
  const double by_hand = (mla + 7168.0 * 256 + expert) + 256 * expert / 8 + 2.0 * 7168 * 7168;
  EXPECT_NEAR(dm.weight_bytes_per_chip / by_hand, 1.0, 1e-4);
  EXPECT_DOUBLE_EQ(dm.kv_bytes_per_token_per_chip, 576.0 * 2);
  EXPECT_DOUBLE_EQ(spec.expected_tokens_per_step(), 1.875);
}

TEST(MultiTokenPrediction, EachAttentionRankHoldsTheModulesKvToo) {
  // DeepSeek-V3 with its MTP module on 8 H200s, TP8 = EP8 = DP8: each rank's chip keeps, beside the target's
  // 61 layers of latent (61 x 576 x 2 bytes a token), the module's one layer (576 x 2), and the module's
  // weights come out of its KV budget. So a rank holds floor((KV bytes - module weights) / (62 x 1,152))
  // tokens, and the replica 8 ranks of whole blocks of that (a sequence lives on one rank).
  serving::PoolSpec ps;
  ps.model = model::load_model("deepseek-v3");
  ps.hardware = hardware::load_hardware("h200-sxm");
  ps.deployment = wide_ep(8, false);
  ps.speculative.method = serving::SpeculativeMethod::mtp;
  ps.speculative.num_speculative_tokens = 1;
  ps.speculative.acceptance = {0.875};
  const parallelism::WorkspaceLimits limits{ps.scheduler.max_batched_tokens, ps.scheduler.max_batch_size};
  const auto plan = parallelism::plan_memory(ps.model, ps.hardware, ps.deployment, limits);
  const auto dm = serving::draft_memory(ps.speculative, ps.model, ps.deployment);
  EXPECT_DOUBLE_EQ(plan.kv_bytes_per_token_per_chip, 61 * 576.0 * 2);
  const auto per_rank = static_cast<std::int64_t>((plan.kv_bytes_per_chip - dm.weight_bytes_per_chip) / (62 * 576.0 * 2));
  const auto pm = serving::plan_pool_memory(ps);
  const std::int64_t bs = ps.scheduler.block_size;
  EXPECT_EQ(pm.kv_blocks, 8 * (per_rank / bs));
  EXPECT_EQ(pm.kv_sequence_limit_tokens, per_rank / bs * bs);
}

TEST(MultiTokenPrediction, StepIsTheVerificationPlusOneExpertParallelModuleStep) {
  const auto m = model::load_model("deepseek-v3");
  const auto hw = hardware::load_hardware("h800");
  const auto d = wide_ep(16, false);
  const roofline::StepCostModel target(m, hw, d);
  serving::SpeculativeSpec spec;
  spec.method = serving::SpeculativeMethod::mtp;
  spec.num_speculative_tokens = 1;
  spec.acceptance = {0.875};
  serving::SpeculativePricer pricer(spec, target, hw, d);
  EXPECT_EQ(pricer.decode_tokens_per_sequence(), 2);
  // 1,024 sequences at context 3,000 verifying 2 tokens each, then one module step drafting the next token
  // (its context: the sequences' contexts) and the module's projection: 64 rows per rank, 2d in, d out.
  const auto verify = roofline::StepShape::decode(1024, 3000, 2);
  roofline::StepShape draft;
  draft.decode_sequences = 1024;
  draft.decode_context_tokens = verify.decode_context_tokens;
  draft.logit_tokens = 1024;
  const roofline::StepCostModel module(serving::mtp_module(m), hw, d);
  const double expected = target.evaluate(verify).time_s + module.evaluate(draft).time_s +
                          module.price_gemm("mtp_projection", 64, 2.0 * 7168, 7168).time_s;
  EXPECT_NEAR(pricer.price(verify).time_s / expected, 1.0, 1e-9);
  // The module's experts stay spread over the 16 chips: its step exchanges tokens with them.
  roofline::OperatorTable t;
  module.build(draft, t);
  bool dispatch = false;
  for (std::size_t i = 0; i < t.size(); ++i) dispatch = dispatch || std::string(t.name[i]).rfind("ep_dispatch", 0) == 0;
  EXPECT_TRUE(dispatch);
}

/// Time of the named row of a priced table (one instance), or -1.
double row_time_s(const roofline::OperatorTable& t, std::string_view name, double* flops = nullptr) {
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.name[i] != name) continue;
    if (flops) *flops = t.flops(i);
    return static_cast<double>(t.time_s[i]);
  }
  return -1;
}

/// One micro-batch of DeepSeek's H800 decode profile on one GPU, priced without overlap: DeepSeek-V3 in FP8 on
/// EP128 / DP128, 64 sequences per GPU with 2 query tokens each (MTP) over 4,096 cached tokens.
roofline::OperatorTable profile_micro_batch(const hardware::HardwareSpec& hw) {
  const roofline::StepCostModel model(model::load_model("deepseek-v3"), hw, wide_ep(128, false));
  roofline::OperatorTable t;
  model.build(roofline::StepShape::decode(64 * 128, 4096, 2), t);
  return t;
}

TEST(DecodeAttention, MlaDecodeOfDeepSeeksProfileAtFlashMlasRate) {
  // DeepSeek's H800 decode profile (deepseek-ai/profile-data decode.json; per-kernel table at zdszero.github.io
  // deepseek_profile.html): EP128, 64 sequences per micro-batch per GPU, MTP (2 query tokens each), 4K context;
  // the MLA attention kernel takes 255 us per layer. Hand count (absorbed MLA: 128 heads over the 576-wide
  // latent for scores and the 512-wide latent for values): pairs = 64 x (2 x 4096 + 2 x 3 / 2) = 524,480;
  // FLOPs = 2 x 128 x (576 + 512) x 524,480 = 146.08 GFLOP; at FlashMLA's published 580 TFLOPS on H800 (BF16)
  // that is 251.9 us.
  const auto hw = hardware::load_hardware("h800");
  const auto t = profile_micro_batch(hw);
  double flops = 0;
  const double time_s = row_time_s(t, "attention_decode", &flops);
  EXPECT_NEAR(flops / (2.0 * 128 * (576 + 512) * 524480), 1.0, 1e-6);
  // 989 TFLOPS x compute 0.732 x attention_decode 0.801 = 579.9 TFLOPS, plus the launch overhead.
  EXPECT_NEAR((time_s - hw.efficiency.kernel_launch_overhead_s) / (flops / 580e12), 1.0, 1e-3);
  EXPECT_NEAR(time_s / 255e-6, 1.0, 0.03);            // the profile's kernel
  // Memory-bound decode attention (GQA: Llama-3.1-8B, 64 sequences at 2,000 tokens) does not move with the key.
  auto slow = hardware::load_hardware("h100-sxm");
  auto same = slow;
  slow.efficiency.attention_decode = 0.5;
  same.efficiency.attention_decode = 1.0;
  const auto llama = model::load_model("llama-3.1-8b");
  DeploymentSpec d;
  roofline::OperatorTable a, b;
  roofline::StepCostModel(llama, slow, d).build(roofline::StepShape::decode(64, 2000), a);
  roofline::StepCostModel(llama, same, d).build(roofline::StepShape::decode(64, 2000), b);
  EXPECT_DOUBLE_EQ(row_time_s(a, "attention_decode"), row_time_s(b, "attention_decode"));
}

TEST(PrefillAttention, MlaPrefillAtFlashAttention3sCausalRate) {
  // DeepSeek-V3 prefill on one H100 of an EP32 / DP32 unit (the SGLang prefill rows' layout), 4 prompts of
  // 4,000 tokens per GPU. Hand count (non-absorbed MLA: 128 heads, query-key head dim 128 + 64 = 192, value
  // 128): pairs = 4 x 4,000 x 4,001 / 2 = 32,008,000; FLOPs = 2 x 128 x (192 + 128) x pairs = 2.622 TFLOP per
  // layer. FlashAttention-3's causal head-dim-128 forward (arXiv:2407.08608, Figure 5) fits R = 664 TFLOPS
  // with 317 extra keys per query token: 2.622e12 / 664e12 x (1 + 317 x 16,000 / 32,008,000) = 4.576 ms.
  const auto hw = hardware::load_hardware("h100-sxm");
  const roofline::StepCostModel model(model::load_model("deepseek-v3"), hw, wide_ep(32, false));
  roofline::OperatorTable t;
  model.build(roofline::StepShape::prefill(32 * 4, 4000), t);
  double flops = 0;
  const double launch = hw.efficiency.kernel_launch_overhead_s;
  const double time_s = row_time_s(t, "attention_prefill", &flops) - launch;
  EXPECT_NEAR(flops / (2.0 * 128 * (192 + 128) * 32008000.0), 1.0, 1e-9);
  EXPECT_NEAR(time_s / (flops / 664e12 * (1 + 317 * 16000 / 32008000.0)), 1.0, 2e-3);
  EXPECT_NEAR(time_s / 4.576e-3, 1.0, 2e-3);
  EXPECT_NEAR(flops / time_s / 579e12, 1.0, 0.02);  // FA3's published 579 TFLOPS at 4k
  // 16 prompts of 1,024 tokens: 16 x 1,024 x 1,025 / 2 = 8,396,800 pairs, FA3's 423 TFLOPS at 1k (the fit: 410).
  roofline::OperatorTable s;
  model.build(roofline::StepShape::prefill(32 * 16, 1024), s);
  const double short_s = row_time_s(s, "attention_prefill", &flops) - launch;
  EXPECT_NEAR(flops / (2.0 * 128 * 320 * 8396800.0), 1.0, 1e-9);
  EXPECT_NEAR(flops / short_s / 423e12, 1.0, 0.04);
  // Without the keys (a profile with no prefill-attention measurement) attention runs at the dense GEMM rate.
  auto plain = hw;
  plain.efficiency.attention_prefill = 1.0;
  plain.efficiency.attention_prefill_overhead_keys = 0.0;
  roofline::StepCostModel(model::load_model("deepseek-v3"), plain, wide_ep(32, false)).build(roofline::StepShape::prefill(32 * 4, 4000), s);
  EXPECT_NEAR((row_time_s(s, "attention_prefill") - launch) / (2.622e12 / (989e12 * 0.732)), 1.0, 1e-3);
}

/// Bytes of the named row of a table (one instance), or -1.
double row_bytes(const roofline::OperatorTable& t, std::string_view name) {
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.name[i] == name) return static_cast<double>(t.bytes[i]);
  }
  return -1;
}

TEST(SmallKernels, RotaryAndTopKOfDeepSeeksProfileByHand) {
  // The profile's micro-batch (EP128, 64 sequences x 2 MTP tokens = 128 tokens per GPU). Rotary on the decoupled
  // rope dimensions: (128 query heads + 1 shared key) x 64 x 128 tokens, read and written in BF16 =
  // 2 x 128 x 129 x 64 x 2 = 4,227,072 bytes. Top-k over 256 experts: FP32 scores 128 x 256 x 4 = 131,072 bytes
  // in, 8 ids and weights (4 + 4 bytes) per token 8,192 out. Both are launch-bound: the profile measures 7 us
  // (rotary_embedding_kernel) and 8 us (topk); the model prices each at the launch overhead (3.88 us) plus its
  // bytes, within a factor of 2 below the profile.
  const auto hw = hardware::load_hardware("h800");
  const auto t = profile_micro_batch(hw);
  EXPECT_DOUBLE_EQ(row_bytes(t, "mla_rope"), 4227072.0);
  EXPECT_DOUBLE_EQ(row_bytes(t, "moe_topk"), 131072.0 + 8192.0);
  const double rope = row_time_s(t, "mla_rope"), topk = row_time_s(t, "moe_topk");
  const double floor = hw.efficiency.kernel_launch_overhead_s;
  EXPECT_NEAR(rope, floor + 4227072.0 / (3.35e12 * hw.efficiency.memory), 1e-8);
  EXPECT_GT(topk, floor);
  EXPECT_GT(rope / 7e-6, 0.5);
  EXPECT_LT(rope / 7e-6, 1.0);
  EXPECT_GT(topk / 8e-6, 0.45);
  EXPECT_LT(topk / 8e-6, 1.0);
}

}  // namespace
}  // namespace infersim
