// The efficiency techniques in the serving simulation against closed forms: speculative decoding,
// disaggregated prefill/decode, SRAM-only chips, hybrid CPU/GPU placement, expert parallelism.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "infersim/model/model_stats.hpp"
#include "infersim/serving/hybrid.hpp"
#include "infersim/scenario/scenario_loader.hpp"
#include "support/paths.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "support/serving.hpp"

namespace infersim::serving {
namespace {

using testing::fixed_tokens;
using testing::one_pool;

SpeculativeSpec draft_spec(double acceptance, int s) {
  SpeculativeSpec sp;
  sp.method = SpeculativeMethod::draft_model;
  sp.draft_model = model::load_model("llama-3.2-1b");
  sp.num_speculative_tokens = s;
  sp.acceptance = {acceptance};
  return sp;
}

TEST(Speculative, ExpectedTokensPerStepFormula) {
  const auto sp = draft_spec(0.7, 4);
  EXPECT_NEAR(sp.expected_tokens_per_step(), (1 - std::pow(0.7, 5)) / (1 - 0.7), 1e-12);
  SpeculativeSpec v = sp;
  v.acceptance = {0.9, 0.8, 0.5, 0.1};
  EXPECT_NEAR(v.expected_tokens_per_step(), 1 + 0.9 + 0.9 * 0.8 + 0.9 * 0.8 * 0.5 + 0.9 * 0.8 * 0.5 * 0.1, 1e-12);
}

TEST(Speculative, SampledTokensPerStepMatchTheExpectationOverALongRun) {
  // E[tokens per step] = (1 - a^(s+1)) / (1 - a) for per-token acceptance a and s drafted tokens.
  for (const double a : {0.5, 0.7, 0.9}) {
    auto spec = one_pool("llama-3.1-8b", "h100-sxm", "continuous");
    spec.pools[0].speculative = draft_spec(a, 4);
    fixed_tokens(spec, 128, 4000);  // long outputs: the cap at the last step barely matters
    spec.workload.requests = 64;
    spec.workload.process = workload::ArrivalProcess::offline;
    const auto r = simulate(spec);
    ASSERT_EQ(r.completed, 64);
    double steps = 0, tokens = 0;
    for (const auto& rs : r.pools[0].replica_stats) {
      steps += static_cast<double>(rs.decode_sequence_steps);
      tokens += static_cast<double>(rs.decode_tokens);
    }
    const double expected = (1 - std::pow(a, 5)) / (1 - a);
    std::printf("acceptance %.1f: %.4f tokens per step, expected %.4f\n", a, tokens / steps, expected);
    EXPECT_NEAR(tokens / steps / expected, 1.0, 0.02) << a;
    for (const auto& q : r.request_table) ASSERT_EQ(q.generated, q.output_tokens);
  }
}

double tpot_p50(const SimulationSpec& spec) { return simulate(spec).tpot.p50; }

TEST(Speculative, SpeedsUpBatchOneAndLosesAtLargeBatches) {
  // Batch 1: decode is memory-bound, so verifying 5 tokens costs about what 1 does, and a 1B draft adds
  // 4 cheap steps: speed-up 1.5-3x with acceptance 0.75. At batch 256 the verification of 5 x 256 tokens is
  // compute-bound and costs ~5x a decode step, which 3.05 tokens per step cannot pay back.
  auto base = one_pool("llama-3.1-8b", "h100-sxm", "continuous");
  fixed_tokens(base, 512, 512);
  base.workload.requests = 20;
  base.workload.process = workload::ArrivalProcess::poisson;
  base.workload.rate_per_s = 0.01;  // one request at a time
  auto spec = base;
  spec.pools[0].speculative = draft_spec(0.75, 4);
  const double speedup_batch1 = tpot_p50(base) / tpot_p50(spec);
  auto big = base;
  big.workload.requests = 1024;
  big.workload.process = workload::ArrivalProcess::offline;
  auto big_spec = big;
  big_spec.pools[0].speculative = draft_spec(0.75, 4);
  const auto plain = simulate(big), speculative = simulate(big_spec);
  const double speedup_batch256 = (speculative.output_tokens / speculative.duration_s) / (plain.output_tokens / plain.duration_s);
  std::printf("speed-up at batch 1: %.2fx; throughput ratio at batch 256: %.2fx\n", speedup_batch1, speedup_batch256);
  EXPECT_GE(speedup_batch1, 1.5);
  EXPECT_LE(speedup_batch1, 3.0);
  EXPECT_LT(speedup_batch256, 1.0);
}

TEST(Disaggregated, TtftIncludesTheKvTransfer) {
  // At low load a request's TTFT is its prefill step on the prefill pool plus moving its KV:
  // 2 L n_kv d_h b_kv x input bytes over min(prefill, decode chips) links, plus the link latency.
  auto spec = one_pool("llama-3.1-70b", "h100-sxm", "continuous");
  PoolSpec prefill = spec.pools[0], decode = spec.pools[0];
  prefill.name = "prefill";
  prefill.role = ReplicaRole::prefill;
  prefill.deployment.tensor_parallel = 4;
  decode.name = "decode";
  decode.role = ReplicaRole::decode;
  decode.hardware = hardware::load_hardware("h200-sxm");
  decode.deployment.tensor_parallel = 2;
  spec.pools = {prefill, decode};
  spec.kv_transfer.bandwidth_bytes_per_s = 50e9;
  spec.kv_transfer.latency_s = 20e-6;
  fixed_tokens(spec, 2000, 100);
  spec.workload.requests = 30;
  spec.workload.process = workload::ArrivalProcess::poisson;
  spec.workload.rate_per_s = 0.01;
  const auto r = simulate(spec);
  ASSERT_EQ(r.completed, 30);
  const roofline::StepCostModel pre(prefill.model, prefill.hardware, prefill.deployment);
  const double prefill_s = pre.evaluate(roofline::StepShape::prefill(1, 2000)).time_s;
  const double kv_bytes = 2.0 * 80 * 8 * 128 * 2 * 2000;  // bf16 KV of Llama-3.1-70B
  const double transfer_s = kv_bytes / (50e9 * 2) + 20e-6;
  EXPECT_NEAR(r.ttft.p50, prefill_s + transfer_s, 2e-9);
  EXPECT_NEAR(r.kv_transfer_s_mean, transfer_s, 1e-12);
  // Decode runs on the other pool: the decode pool's chips did the decode steps.
  EXPECT_GT(r.pools[1].replica_stats[0].decode_sequence_steps, 0);
  EXPECT_EQ(r.pools[0].replica_stats[0].decode_sequence_steps, 0);
  for (const auto& q : r.request_table) ASSERT_EQ(q.generated, q.output_tokens);
}

TEST(SramOnlyChips, LpuChipCountForLlama2_70bFollowsTheSramArithmetic) {
  // configs/scenarios/groq-lpu-llama-2-70b.json sizes the deployment automatically. By hand: every chip gives
  // 0.23 GB of SRAM less its activation workspace; the model needs 2 bytes per parameter (68.98e9 parameters)
  // plus the KV cache of 32 requests of the workload's mean length, 2 x 80 layers x 8 KV heads x 128 x 2 bytes
  // = 327,680 bytes per token (more when tensor parallelism exceeds the 8 KV heads and replicates them).
  const auto sc = scenario::load_scenario(testing::source_path("configs/scenarios/groq-lpu-llama-2-70b.json"));
  const auto& pool = sc.simulation.pools[0];
  const int chips = pool.deployment.chips_per_replica();
  const auto& w = sc.simulation.workload;
  const double mean_tokens = w.input.expected() + w.output.expected();
  const double kv = 327680.0 * std::ceil(32 * mean_tokens);
  const double weights = model::count_parameters(pool.model).total() * 2.0;
  const parallelism::WorkspaceLimits limits{pool.scheduler.max_batched_tokens, pool.scheduler.max_batch_size};
  const auto plan = parallelism::plan_memory(pool.model, pool.hardware, pool.deployment, limits);
  const double usable = 0.23e9 - plan.workspace_bytes_per_chip;
  const double minimum = (weights + kv) / usable;
  std::printf("LPU chips: %d (tensor %d x pipeline %d); SRAM arithmetic: %.1f\n", chips, pool.deployment.tensor_parallel,
              pool.deployment.pipeline_parallel, minimum);
  EXPECT_GE(chips, std::ceil(minimum));
  EXPECT_LE(chips, 1.1 * minimum);  // rounding to whole tensor x pipeline shapes, and KV replication
  EXPECT_FALSE(pool.sizing.empty());
}

TEST(Hybrid, DecodeTimeIsTheBytesOnEachDevice) {
  // Batch-1 decode of a llama.cpp-style split is memory-bound on both devices: time ~ the accelerator's
  // share of the weights / its effective bandwidth + the host's share / the host's effective bandwidth.
  auto spec = one_pool("llama-3.1-8b", "rtx-4090", "continuous", 1, 2048);
  auto& pool = spec.pools[0];
  pool.hybrid.gpu_layers = 16;
  pool.hybrid.host = hardware::load_hardware("epyc-9654");
  fixed_tokens(spec, 128, 64);
  spec.workload.requests = 3;
  spec.workload.process = workload::ArrivalProcess::poisson;
  spec.workload.rate_per_s = 0.001;
  const auto r = simulate(spec);
  ASSERT_EQ(r.completed, 3);
  const auto c = model::count_parameters(pool.model);
  const double per_layer = c.layers() / 32 * 2.0;
  const double gpu_bw = pool.hardware.memory.bandwidth_bytes_per_s * pool.hardware.efficiency.memory;
  const double host_bw = pool.hybrid.host.memory.bandwidth_bytes_per_s * pool.hybrid.host.efficiency.memory;
  // The host reads its layers and the whole LM head; of the embedding only the token's row.
  auto expected = [&](int gpu_layers) {
    return gpu_layers * per_layer / gpu_bw + ((32 - gpu_layers) * per_layer + c.lm_head * 2.0) / host_bw;
  };
  std::printf("hybrid TPOT %.2f ms; bytes / bandwidth %.2f ms\n", r.tpot.p50 * 1e3, expected(16) * 1e3);
  EXPECT_NEAR(r.tpot.p50 / expected(16), 1.0, 0.1);
  // More layers on the accelerator: faster, by the bytes that moved to the faster memory.
  pool.hybrid.gpu_layers = 28;
  const double t28 = simulate(spec).tpot.p50;
  EXPECT_NEAR((t28 / r.tpot.p50) / (expected(28) / expected(16)), 1.0, 0.1);
}

TEST(Hybrid, KvCapacityHoldsOnBothSidesWhenTheirWindowSharesDiffer) {
  // gpt-oss-20b alternates sliding-window (128) and full-attention layers, L G L G ..., 12 of each: a sequence
  // of n tokens holds n + min(n, 128) tokens of the whole model's full-attention cache. With one layer on the
  // GPU, the GPU holds only a window layer (its cache counts min(n, 128) a sequence) and the host 11 window
  // and 12 full layers (n + 11/12 min(n, 128)). The whole model's units over the GPU's are at least
  // (128 + 128) / 128 = 2 (at n <= 128, and more past it), over the host's at least 1 (n -> infinity, where
  // (n + 128) / (n + 117.3) -> 1; 2 / (1 + 11/12) = 1.04 inside the window): the replica holds
  // min(2 C_gpu, C_host) of the whole model's units.
  const auto m = model::load_model("gpt-oss-20b");
  const auto gpu = hardware::load_hardware("rtx-4090");
  serving::HybridSpec h;
  h.gpu_layers = 1;
  h.host = hardware::load_hardware("epyc-9654");
  parallelism::DeploymentSpec d;
  const parallelism::WorkspaceLimits limits{2048, 8};
  const auto hm = serving::plan_hybrid_memory(m, gpu, d, h, limits);
  EXPECT_EQ(hm.accelerator.kv_bytes_per_token_per_chip, 0.0);  // no full-attention layer on the GPU
  EXPECT_DOUBLE_EQ(hm.kv_footprint.full_weight, 1.0);
  EXPECT_DOUBLE_EQ(hm.kv_footprint.window_weight, 1.0);
  EXPECT_EQ(hm.kv_footprint.window_tokens, 128);
  EXPECT_EQ(hm.kv_token_capacity, std::min(2 * hm.accelerator.kv_token_capacity, hm.host.kv_token_capacity));
  // Every request completes and the pool never overflows (debug builds check the blocks every step).
  auto spec = one_pool("gpt-oss-20b", "rtx-4090", "continuous", 8, 2048);
  spec.pools[0].hybrid = h;
  fixed_tokens(spec, 300, 40);
  spec.workload.requests = 12;
  spec.workload.process = workload::ArrivalProcess::offline;
  const auto r = simulate(spec);
  EXPECT_EQ(r.completed, 12);
}

TEST(ExpertParallel, AllToAllMovesTheRoutedTokens) {
  // Dispatch and combine each move T k d b_a bytes across the expert-parallel group: T k d b_a / e per chip, of
  // which (e - 1) / e leaves it.
  const auto m = model::load_model("mixtral-8x7b");
  parallelism::DeploymentSpec d;
  d.tensor_parallel = 8;
  d.expert_parallel = 8;
  const roofline::StepCostModel cost(m, hardware::load_hardware("h100-sxm"), d);
  roofline::OperatorTable t;
  cost.build(roofline::StepShape::decode(64, 1000), t);
  double dispatch = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.name[i] == "ep_dispatch") dispatch = t.bytes[i];
  }
  EXPECT_NEAR(dispatch / (64.0 * 2 * 4096 * 2 / 8 * 7 / 8), 1.0, 1e-6);
}

}  // namespace
}  // namespace infersim::serving
