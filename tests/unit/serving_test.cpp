// The serving simulation against closed-form results and invariants.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "infersim/serving/batch_scheduler.hpp"
#include "support/request_tables.hpp"
#include "support/serving.hpp"

namespace infersim::serving {
namespace {

using testing::fixed_tokens;
using testing::one_pool;

void expect_conservation(const SimulationSpec& spec, const SimulationResult& r) {
  const auto total = spec.workload.process == workload::ArrivalProcess::trace ? r.requests : spec.workload.requests;
  ASSERT_EQ(r.requests, total);
  ASSERT_EQ(r.completed, total);
  double asked = 0;
  for (const RequestRecord& q : r.request_table) {
    ASSERT_TRUE(q.done());
    ASSERT_EQ(q.generated, q.output_tokens);  // every token asked for was produced, none more
    ASSERT_GE(q.first_scheduled, q.arrival);
    ASSERT_GE(q.first_token, q.first_scheduled);
    ASSERT_GE(q.completion, q.first_token);
    asked += q.output_tokens;
  }
  EXPECT_DOUBLE_EQ(r.output_tokens, asked);
  for (const auto& pool : r.pools) {
    for (const auto& rs : pool.replica_stats) EXPECT_LE(rs.kv_blocks_peak, rs.kv_blocks_total);
  }
}

TEST(Serving, LittlesLawOnALongRun) {
  auto spec = one_pool("llama-3.1-8b", "h100-sxm", "chunked_prefill");
  auto& w = spec.workload;
  w.requests = 20000;
  w.process = workload::ArrivalProcess::poisson;
  w.rate_per_s = 20;
  w.input = workload::TokenDistribution::uniform_between(100, 1500);
  w.output = workload::TokenDistribution::uniform_between(10, 400);
  const auto r = simulate(spec);
  expect_conservation(spec, r);
  // L (time-average of requests in the system, counted at arrivals and completions) = lambda x W.
  const double lambda = static_cast<double>(r.completed) / r.duration_s;
  std::printf("Little: L = %.4f, lambda W = %.4f\n", r.mean_in_system, lambda * r.e2e.mean);
  EXPECT_NEAR(r.mean_in_system / (lambda * r.e2e.mean), 1.0, 0.02);
}

TEST(Serving, LowLoadTtftIsOnePrefillStep) {
  auto spec = one_pool("llama-3.1-8b", "h100-sxm", "continuous");
  spec.pools[0].scheduler.scheduling_overhead_s = 0.0005;
  fixed_tokens(spec, 512, 8);
  spec.workload.requests = 200;
  spec.workload.process = workload::ArrivalProcess::poisson;
  spec.workload.rate_per_s = 0.01;  // one request every 100 s: each finds the replica idle
  const auto r = simulate(spec);
  expect_conservation(spec, r);
  const roofline::StepCostModel cost(spec.pools[0].model, spec.pools[0].hardware, spec.pools[0].deployment);
  const double prefill = cost.evaluate(roofline::StepShape::prefill(1, 512)).time_s + 0.0005;
  EXPECT_NEAR(r.ttft.p50, prefill, 1e-9);
  EXPECT_NEAR(r.ttft.max, prefill, 1e-9);
  EXPECT_NEAR(r.queue.max, 0.0, 1e-12);
}

TEST(Serving, SingleRequestBatchesQueueLikeMD1) {
  // With max_batch_size 1 and fixed lengths the replica is one server with a deterministic service time D:
  // the prefill step plus (out - 1) decode steps. Poisson arrivals make it M/D/1, whose mean wait in queue is
  // W_q = rho D / (2 (1 - rho)) (Pollaczek-Khinchine with zero service variance).
  auto spec = one_pool("llama-3.2-1b", "h100-sxm", "continuous", 1, 8192);
  const std::int64_t in = 256, out = 4;
  fixed_tokens(spec, in, out);
  const roofline::StepCostModel cost(spec.pools[0].model, spec.pools[0].hardware, spec.pools[0].deployment);
  engine::SimTime d_ns = engine::from_seconds(cost.evaluate(roofline::StepShape::prefill(1, in)).time_s);
  for (std::int64_t i = 0; i < out - 1; ++i) {
    d_ns += engine::from_seconds(cost.evaluate(roofline::StepShape::decode(1, in + i)).time_s);
  }
  const double D = engine::to_seconds(d_ns);
  const double rho = 0.7;
  spec.workload.requests = 200000;
  spec.workload.process = workload::ArrivalProcess::poisson;
  spec.workload.rate_per_s = rho / D;
  const auto r = simulate(spec);
  expect_conservation(spec, r);
  EXPECT_NEAR(r.e2e.p50 - r.queue.p50, D, 1e-9);  // service time is D for every request
  const double wq = rho * D / (2 * (1 - rho));
  std::printf("M/D/1: D = %.6f ms, simulated mean wait %.6f ms, formula %.6f ms\n", D * 1e3, r.queue.mean * 1e3, wq * 1e3);
  EXPECT_NEAR(r.queue.mean / wq, 1.0, 0.05);
}

TEST(Serving, ContinuousBatchingBeatsStaticOnMixedLengths) {
  // Offline, batch limit 32, outputs uniform in [16, 512]. A static batch runs for its longest request:
  // E[max of 32] = 512 - 496/33 ~ 497 decode steps per batch of 32, where continuous batching refills a slot
  // as soon as it frees: ~mean 264 steps per 32 requests. Decode steps cost the same (32 sequences, padding
  // included), so static needs ~1.88x the decode steps; continuous adds about one 128-token prefill step per
  // request (~12% more steps). Expected throughput ratio ~1.88 / 1.12 = 1.68; assert at least 1.4.
  double throughput[2];
  int i = 0;
  for (const char* policy : {"static", "continuous"}) {
    auto spec = one_pool("llama-3.2-1b", "h100-sxm", policy, 32, 8192);
    spec.workload.requests = 2000;
    spec.workload.process = workload::ArrivalProcess::offline;
    spec.workload.input = workload::TokenDistribution::fixed_value(128);
    spec.workload.output = workload::TokenDistribution::uniform_between(16, 512);
    const auto r = simulate(spec);
    expect_conservation(spec, r);
    throughput[i++] = r.output_tokens / r.duration_s;
  }
  std::printf("static %.0f tokens/s, continuous %.0f tokens/s, ratio %.3f\n", throughput[0], throughput[1],
              throughput[1] / throughput[0]);
  EXPECT_GT(throughput[1] / throughput[0], 1.4) << "static " << throughput[0] << " continuous " << throughput[1];
}

TEST(Serving, SmallKvCacheCausesPreemptionsAndEveryRequestCompletes) {
  auto spec = one_pool("llama-3.2-1b", "h100-sxm", "continuous", 256, 8192);
  auto& pool = spec.pools[0];
  // Size memory_utilization so that the KV cache holds about 3,000 tokens.
  testing::limit_kv_tokens(spec, 3000);
  const parallelism::WorkspaceLimits limits{8192, 256};
  const auto plan = parallelism::plan_memory(pool.model, pool.hardware, pool.deployment, limits);
  ASSERT_NEAR(static_cast<double>(plan.kv_token_capacity), 3000.0, 2.0);
  fixed_tokens(spec, 200, 300);  // 500 tokens each: ~6 fit, but prompts alone admit ~15
  spec.workload.requests = 300;
  spec.workload.process = workload::ArrivalProcess::offline;
  const auto r = simulate(spec);
  expect_conservation(spec, r);
  std::printf("preemptions: %lld\n", static_cast<long long>(r.preemptions));
  EXPECT_GT(r.preemptions, 0);
}

class StepChecker final : public StepListener {
 public:
  std::int64_t max_tokens = 0, max_sequences = 0, steps = 0, mixed = 0;
  void step(int, int, std::size_t, engine::SimTime, engine::SimTime, const roofline::StepShape& s) override {
    ++steps;
    max_tokens = std::max(max_tokens, s.total_tokens());
    max_sequences = std::max(max_sequences, s.prefill_sequences + s.decode_sequences);
    mixed += s.prefill_tokens > 0 && s.decode_sequences > 0;
  }
};

// 300 prompts of 2,000 tokens (50 out) at 5 a second, steps of at most 64 sequences and 512 tokens.
StepChecker run_long_prompts(const std::string& policy) {
  auto spec = one_pool("llama-3.1-8b", "h100-sxm", policy, 64, 512);
  fixed_tokens(spec, 2000, 50);
  spec.workload.requests = 300;
  spec.workload.process = workload::ArrivalProcess::poisson;
  spec.workload.rate_per_s = 5;
  StepChecker check;
  const auto r = simulate(spec, &check);
  expect_conservation(spec, r);
  EXPECT_LE(check.max_tokens, 512);
  EXPECT_LE(check.max_sequences, 64);
  return check;
}

TEST(Serving, ChunkedPrefillRespectsTheTokenBudgetAndMixesSteps) {
  const StepChecker check = run_long_prompts("chunked_prefill");
  EXPECT_GT(check.mixed, check.steps / 10);  // prompts of 2000 tokens arrive in 512-token chunks beside decodes
}

// ---- In-flight batching with whole prompts (TensorRT-LLM without chunked context), one schedule() by hand:
// a pool of 16-token blocks, three requests decoding (20-token prompts prefilled: 2 blocks each, their next
// token fits), then waiting prompts.

struct InflightFixture {
  RequestTable requests;
  RunningSet run;
  std::deque<std::uint32_t> waiting;
  BlockPool kv;
  SchedulerSpec limits;
  std::unique_ptr<BatchScheduler> scheduler;
  InflightFixture(const std::string& policy, std::int64_t blocks, std::int64_t budget, std::vector<std::int32_t> prompts)
      : kv(blocks, 16) {
    limits.policy = policy;
    limits.max_batch_size = 16;
    limits.max_batched_tokens = budget;
    scheduler = scheduler_registry().make(limits);
    for (int i = 0; i < 3; ++i) prompts.insert(prompts.begin(), 20);
    for (std::int32_t p : prompts) {
      RequestRecord r;
      r.input_tokens = p;
      r.output_tokens = 50;
      waiting.push_back(static_cast<std::uint32_t>(requests.size()));
      requests.push_back(r);
    }
    SchedulerContext ctx = context();
    for (int i = 0; i < 3; ++i) {  // the three running requests, prefilled
      EXPECT_TRUE(ctx.admit(20));
      run.prefill_left[i] = 0;
      run.kv_tokens[i] = 20;
      requests[i].generated = 1;
      run.generated[i] = 1;
    }
  }
  SchedulerContext context() { return SchedulerContext(0, run, waiting, kv, requests, limits, true); }
  StepPlan schedule() {
    SchedulerContext ctx = context();
    StepPlan plan;
    scheduler->schedule(ctx, plan);
    return plan;
  }
};

TEST(Inflight, WholePromptsInArrivalOrderUntilOneDoesNotFit) {
  // Budget 100: 3 decodes leave 97; the 50-token prompt fits (47 left); the 60-token one does not and is not
  // split, and the 10-token one behind it is not admitted either (no overtaking).
  InflightFixture f("inflight", 1000, 100, {50, 60, 10});
  const StepPlan plan = f.schedule();
  EXPECT_EQ(plan.decodes.size(), 3u);
  ASSERT_EQ(plan.prefills.size(), 1u);
  EXPECT_EQ(f.run.id[plan.prefills[0].slot], 3u);
  EXPECT_EQ(plan.prefills[0].tokens, 50);
  EXPECT_EQ(f.waiting, (std::deque<std::uint32_t>{4, 5}));
  EXPECT_EQ(f.kv.used(), 3 * 2 + 4);  // the whole 50-token prompt holds ceil(50 / 16) = 4 blocks
  // chunked_prefill, on the same state, splits the 60-token prompt into the 47 tokens left.
  InflightFixture c("chunked_prefill", 1000, 100, {50, 60, 10});
  const StepPlan chunked = c.schedule();
  ASSERT_EQ(chunked.prefills.size(), 2u);
  EXPECT_EQ(chunked.prefills[1].tokens, 47);
  EXPECT_EQ(c.waiting, (std::deque<std::uint32_t>{5}));
}

TEST(Inflight, AdmissionWaitsForBlocksForTheWholePrompt) {
  // 10 blocks, 6 held by the running requests: 4 free (64 tokens). A 70-token prompt needs 5 and waits, though
  // the budget has room; the 10-token prompt behind it waits too.
  InflightFixture f("inflight", 10, 1000, {70, 10});
  const StepPlan plan = f.schedule();
  EXPECT_EQ(plan.decodes.size(), 3u);
  EXPECT_TRUE(plan.prefills.empty());
  EXPECT_EQ(f.waiting.size(), 2u);
  EXPECT_EQ(f.kv.used(), 6);
}

TEST(Inflight, APromptLargerThanTheBudgetRunsAloneAtTheHeadOfTheQueue) {
  // Budget 100: a 30-token prompt fits beside the decodes; the 150-token one behind it never can, so it waits
  // for the next step, which it takes alone (the decodes wait one step).
  InflightFixture f("inflight", 1000, 100, {30, 150});
  StepPlan plan = f.schedule();
  ASSERT_EQ(plan.prefills.size(), 1u);
  EXPECT_EQ(plan.prefills[0].tokens, 30);
  EXPECT_EQ(plan.decodes.size(), 3u);
  f.run.prefill_left[plan.prefills[0].slot] = 0;  // as the replica applies the step
  f.run.kv_tokens[plan.prefills[0].slot] = 30;
  plan = f.schedule();
  EXPECT_TRUE(plan.decodes.empty());
  ASSERT_EQ(plan.prefills.size(), 1u);
  EXPECT_EQ(plan.prefills[0].tokens, 150);
  EXPECT_TRUE(f.waiting.empty());
}

TEST(Inflight, TheSecondPromptWaitsOneStepWhenTheFirstFillsTheBudget) {
  // Two 500-token prompts at t = 0, budget 600: step 1 prefills request 0 alone (500 + 500 > 600); step 2 holds
  // request 0's first decode (context 500) and request 1's whole prompt (501 tokens). So request 1's first
  // token comes at t1 + t2, with both steps priced by the roofline (no host time in this pool).
  auto spec = one_pool("llama-3.2-1b", "h100-sxm", "inflight", 64, 600);
  fixed_tokens(spec, 500, 3);
  spec.workload.requests = 2;
  spec.workload.process = workload::ArrivalProcess::offline;
  const auto r = simulate(spec);
  expect_conservation(spec, r);
  const roofline::StepCostModel cost(spec.pools[0].model, spec.pools[0].hardware, spec.pools[0].deployment);
  const engine::SimTime t1 = engine::from_seconds(cost.evaluate(roofline::StepShape::prefill(1, 500)).time_s);
  roofline::StepShape mixed;
  mixed.add_prefill_chunk(500, 0, true);
  mixed.add_decode(500);
  const engine::SimTime t2 = engine::from_seconds(cost.evaluate(mixed).time_s);
  EXPECT_EQ(r.request_table[0].first_token, t1);
  EXPECT_EQ(r.request_table[1].first_token, t1 + t2);
}

// ---- Chunked prefill in steps of its own (SGLang without --enable-mixed-chunk), on the same fixture.

TEST(ChunkedPrefillUnmixed, PrefillStepsRunAloneAndSplitAtTheBudget) {
  // Budget 100 and three decoding requests: the step is prefill only. The 50-token prompt fits whole, the
  // 60-token one is cut at the 50 tokens left, the 10-token one waits (no room).
  InflightFixture f("chunked_prefill_unmixed", 1000, 100, {50, 60, 10});
  StepPlan plan = f.schedule();
  EXPECT_TRUE(plan.decodes.empty());
  ASSERT_EQ(plan.prefills.size(), 2u);
  EXPECT_EQ(plan.prefills[0].tokens, 50);
  EXPECT_EQ(plan.prefills[1].tokens, 50);
  EXPECT_EQ(f.waiting, (std::deque<std::uint32_t>{5}));
  for (const auto& p : plan.prefills) {  // as the replica applies the step
    f.run.prefill_left[p.slot] -= p.tokens;
    f.run.kv_tokens[p.slot] += p.tokens;
  }
  // Next: the 10 tokens left of the partial prompt first, then the waiting 10-token prompt; still no decodes.
  plan = f.schedule();
  EXPECT_TRUE(plan.decodes.empty());
  ASSERT_EQ(plan.prefills.size(), 2u);
  EXPECT_EQ(f.run.id[plan.prefills[0].slot], 4u);
  EXPECT_EQ(plan.prefills[0].tokens, 10);
  EXPECT_EQ(f.run.id[plan.prefills[1].slot], 5u);
  EXPECT_EQ(plan.prefills[1].tokens, 10);
  for (const auto& p : plan.prefills) {
    f.run.prefill_left[p.slot] -= p.tokens;
    f.run.kv_tokens[p.slot] += p.tokens;
  }
  // Nothing left to prefill: every one of the six decodes, nothing else.
  plan = f.schedule();
  EXPECT_TRUE(plan.prefills.empty());
  EXPECT_EQ(plan.decodes.size(), 6u);
}

TEST(Serving, UnmixedPrefillStepsHoldNoDecodes) {
  const StepChecker check = run_long_prompts("chunked_prefill_unmixed");
  EXPECT_EQ(check.mixed, 0);
  // The prompts' 600,000 tokens need at least ceil(600000 / 512) = 1,172 prefill steps, and as no step holds both,
  // the last request's 49 decodes (its first token comes with its prefill) at least 49 more.
  EXPECT_GE(check.steps, 1172 + 49);
}

// ---- KV admission that keeps room for output still to come (scheduler.admission_reserve).

TEST(AdmissionReserve, HoldsBackARequestTheRunningOutputsWillNeedRoomFor) {
  // 20 blocks of 16 tokens; the fixture's three running requests hold 2 blocks each (20-token prompts) and have
  // 49 output tokens to go. Free: 14 blocks = 224 tokens. Half of each remaining output is counted as taken:
  // 3 x 0.5 x 49 = 73.5 tokens.
  InflightFixture f("chunked_prefill_unmixed", 20, 1000, {30, 40});
  AdmissionReserveSpec spec;
  spec.new_output_fraction = 1.0;
  spec.running_output_fraction = spec.running_output_fraction_min = 0.5;
  AdmissionReserve reserve(spec);
  const RunningSet* lanes[] = {&f.run};
  reserve.begin_pass(0, lanes);
  EXPECT_DOUBLE_EQ(reserve.reserved_tokens(), 73.5);
  SchedulerContext ctx = f.context();
  ctx.set_admission_reserve(&reserve);
  StepPlan plan;
  f.scheduler->schedule(ctx, plan);
  // The 30-token prompt needs 30 + 50 = 80 < 224 - 73.5: admitted, taking 2 blocks (192 free) and counting its
  // 50 output tokens (123.5 taken). The 40-token prompt needs 90, not below 192 - 123.5 = 68.5: it waits.
  ASSERT_EQ(plan.prefills.size(), 1u);
  EXPECT_EQ(plan.prefills[0].tokens, 30);
  EXPECT_DOUBLE_EQ(reserve.reserved_tokens(), 123.5);
  EXPECT_EQ(f.waiting, (std::deque<std::uint32_t>{4}));
  EXPECT_EQ(f.kv.used(), 3 * 2 + 2);
  // Without the reserve the same state admits both (the budget and the blocks allow it).
  InflightFixture g("chunked_prefill_unmixed", 20, 1000, {30, 40});
  EXPECT_EQ(g.schedule().prefills.size(), 2u);
}

TEST(AdmissionReserve, TheRunningShareDecaysRestartsWhenIdleAndFollowsProgressAfterAPreemption) {
  AdmissionReserveSpec spec;  // SGLang's figures (configs/engines/sglang.json)
  spec.new_output_fraction = 1.0;
  spec.running_output_fraction = 0.7;
  spec.running_output_fraction_min = 0.098;
  spec.decay_decode_steps = 600;
  spec.output_clip_tokens = 4096;
  spec.preemption_lookahead_steps = 20;
  AdmissionReserve reserve(spec);
  RunningSet run;
  RequestRecord a, b;
  a.output_tokens = 100;
  b.output_tokens = 5000;
  run.push(0, 0, 0, a);
  run.push(1, 1, 0, b);
  run.generated = {10, 20};
  const RunningSet* lanes[] = {&run};
  // 300 decode steps: 0.7 - 300 x (0.7 - 0.098) / 600 = 0.399; remaining outputs 90 and min(4980, 4096).
  reserve.begin_pass(300, lanes);
  EXPECT_NEAR(reserve.running_share(), 0.399, 1e-12);
  EXPECT_NEAR(reserve.reserved_tokens(), 0.399 * (90 + 4096), 1e-9);
  // 700 more: floored at the minimum.
  reserve.begin_pass(1000, lanes);
  EXPECT_NEAR(reserve.running_share(), 0.098, 1e-12);
  // A preemption: (10 + 20 generated + 20 x 2 requests) / (100 + 5000 outputs + 1).
  reserve.after_preemption(lanes);
  EXPECT_NEAR(reserve.running_share(), 70.0 / 5101.0, 1e-12);
  // Idle (no lane holds a request): back to the start, and nothing is held back.
  RunningSet empty;
  const RunningSet* idle[] = {&empty};
  reserve.begin_pass(1200, idle);
  EXPECT_DOUBLE_EQ(reserve.running_share(), 0.7);
  EXPECT_TRUE(reserve.admits(10, 0, 1000, 1000));
}

TEST(AdmissionReserve, ReservingEveryOutputWholeNeverPreempts) {
  // A cache of 3,000 tokens in blocks of one token and requests of 200 + 300 tokens: admission on the prompt
  // alone admits ~15 and must preempt (Serving.SmallKvCacheCausesPreemptionsAndEveryRequestCompletes); holding
  // every running request's remaining output (TensorRT-LLM's GUARANTEED_NO_EVICT) admits at most
  // floor(3000 / 500) = 6 at once and never runs out.
  for (const bool reserved : {false, true}) {
    auto spec = one_pool("llama-3.2-1b", "h100-sxm", "chunked_prefill_unmixed", 256, 8192);
    auto& pool = spec.pools[0];
    pool.scheduler.block_size = 1;
    testing::limit_kv_tokens(spec, 3000);
    if (reserved) {
      pool.scheduler.admission_reserve.new_output_fraction = 1.0;
      pool.scheduler.admission_reserve.running_output_fraction = 1.0;
      pool.scheduler.admission_reserve.running_output_fraction_min = 1.0;
    }
    fixed_tokens(spec, 200, 300);
    spec.workload.requests = 300;
    spec.workload.process = workload::ArrivalProcess::offline;
    StepChecker check;
    const auto r = simulate(spec, &check);
    expect_conservation(spec, r);
    if (reserved) {
      EXPECT_EQ(r.preemptions, 0);
      EXPECT_LE(check.max_sequences, 6);
    } else {
      EXPECT_GT(r.preemptions, 0);
    }
  }
}

TEST(LocalAttention, WindowBlocksStopGrowingPastTheWindow) {
  // Gemma 3 27B on one H100: 10 global layers, 52 sliding-window layers of 1,024. In tokens of the global
  // layers' cache, a sequence of n tokens holds size(n) = n + 5.2 min(n, 1,024). A cache of about 31,000 such
  // tokens (C, in blocks of one), admission holding every output whole (never preempts): a running request
  // takes size(input + output - 1) in all (its last token's KV is never written), a new one is counted at
  // size(input + output), and it is admitted while that is below what the running ones leave. So 1 + the most
  // n with n x size(in + out - 1) + size(in + out) < C run at once:
  // - 400 + 100 tokens, all inside the window: 6.2 x 499 = 3,093.8 and 3,100: 10 at once;
  // - 1,024 + 2,000 tokens, past the window: 3,023 + 5,324.8 = 8,347.8 and 8,348.8: 3 at once. Counting every
  //   token at the window's rate (18,742.6 each) would run one at a time; counting none of the window, ten.
  const auto size = [](double n) { return n + 5.2 * std::min(n, 1024.0); };
  for (const auto& [input, output] : {std::pair{400, 100}, std::pair{1024, 2000}}) {
    auto spec = one_pool("gemma-3-27b", "h100-sxm", "chunked_prefill_unmixed", 256, 8192);
    auto& pool = spec.pools[0];
    pool.scheduler.block_size = 1;
    testing::limit_kv_tokens(spec, 31000);
    pool.scheduler.admission_reserve.new_output_fraction = 1.0;
    pool.scheduler.admission_reserve.running_output_fraction = 1.0;
    pool.scheduler.admission_reserve.running_output_fraction_min = 1.0;
    fixed_tokens(spec, input, output);
    spec.workload.requests = 30;
    spec.workload.process = workload::ArrivalProcess::offline;
    StepChecker check;
    const auto r = simulate(spec, &check);
    expect_conservation(spec, r);
    ASSERT_EQ(r.pools[0].replica_stats.size(), 1u);
    const auto& stats = r.pools[0].replica_stats[0];
    const auto capacity = static_cast<double>(stats.kv_blocks_total);
    ASSERT_NEAR(capacity, 31000, 2);
    const double running = size(input + output - 1), admitted = size(input + output);
    std::int64_t most = 1;
    while (static_cast<double>(most) * running + admitted < capacity - 1e-6) ++most;
    EXPECT_EQ(r.preemptions, 0) << input;
    EXPECT_EQ(check.max_sequences, most) << input;
    EXPECT_LE(stats.kv_blocks_peak, stats.kv_blocks_total);
  }
}

TEST(Serving, ClosedLoopNeverExceedsItsConcurrency) {
  auto spec = one_pool("llama-3.1-8b", "h100-sxm", "continuous");
  fixed_tokens(spec, 300, 100);
  spec.workload.requests = 500;
  spec.workload.process = workload::ArrivalProcess::closed_loop;
  spec.workload.concurrency = 8;
  spec.workload.think_time_s = 0.5;
  const auto r = simulate(spec);
  expect_conservation(spec, r);
  std::vector<std::pair<engine::SimTime, int>> events;
  for (const auto& q : r.request_table) {
    events.emplace_back(q.arrival, +1);
    events.emplace_back(q.completion, -1);
  }
  std::sort(events.begin(), events.end());  // a completion sorts before an arrival at the same time
  int in_system = 0, peak = 0;
  for (const auto& [t, d] : events) peak = std::max(peak, in_system += d);
  EXPECT_EQ(peak, 8);
  // Each client waits think_time after a response: request 8 arrives 0.5 s after the first completion.
  std::vector<engine::SimTime> completions;
  for (const auto& q : r.request_table) completions.push_back(q.completion);
  std::sort(completions.begin(), completions.end());
  EXPECT_EQ(r.request_table[8].arrival, completions[0] + engine::from_seconds(0.5));
}

TEST(Serving, RoundRobinSpreadsRequestsEvenly) {
  auto spec = one_pool("llama-3.1-8b", "h100-sxm", "continuous");
  spec.pools[0].deployment.replicas = 4;
  fixed_tokens(spec, 200, 50);
  spec.workload.requests = 1000;
  spec.workload.process = workload::ArrivalProcess::poisson;
  spec.workload.rate_per_s = 40;
  const auto r = simulate(spec);
  expect_conservation(spec, r);
  std::map<int, int> per;
  for (const auto& q : r.request_table) per[q.replica]++;
  ASSERT_EQ(per.size(), 4u);
  for (const auto& [rep, n] : per) EXPECT_EQ(n, 250) << rep;
  spec.pools[0].router = Router::least_loaded;
  const auto l = simulate(spec);
  expect_conservation(spec, l);
  // Least-loaded never leaves a replica idle while another has a queue, so it is not slower at the tail.
  EXPECT_LE(l.e2e.p99, r.e2e.p99 * 1.05);
}

// Front-end batching (spec.dispatch). A 1B model's steps of a few hundred tokens take about a millisecond, so
// each batch finds its replica idle and a request's queue time is its wait in the front end alone.
SimulationSpec dispatch_spec(workload::ArrivalProcess process, double rate_per_s, std::int64_t max_requests,
                             double timeout_s, int replicas = 1) {
  auto spec = one_pool("llama-3.2-1b", "h100-sxm", "continuous");
  spec.pools[0].deployment.replicas = replicas;
  fixed_tokens(spec, 64, 2);
  spec.workload.requests = 3000;
  spec.workload.process = process;
  spec.workload.rate_per_s = rate_per_s;
  spec.dispatch.max_requests = max_requests;
  spec.dispatch.timeout_s = timeout_s;
  return spec;
}

TEST(Serving, DispatchTimeoutHoldsEachBatchFromItsFirstArrival) {
  // One arrival every 0.1 s and a 0.25 s timeout: the batch opened at t holds the arrivals at t, t+0.1 and
  // t+0.2 and leaves at t+0.25; the arrival at t+0.3 opens the next. Waits 0.25, 0.15, 0.05: mean 0.15.
  const auto spec = dispatch_spec(workload::ArrivalProcess::constant, 10, 1000, 0.25, 2);
  const auto r = simulate(spec);
  expect_conservation(spec, r);
  EXPECT_NEAR(r.queue.mean, 0.15, 1e-6);
  EXPECT_NEAR(r.queue.max, 0.25, 1e-6);
  double shortest = 1e9;
  for (const auto& q : r.request_table) shortest = std::min(shortest, engine::to_seconds(q.first_scheduled - q.arrival));
  EXPECT_NEAR(shortest, 0.05, 1e-6);
  // A batch goes whole to one replica: with round robin, replica = batch number mod 2 (requests 3k..3k+2
  // form batch k).
  for (std::size_t i = 0; i < r.request_table.size(); ++i) {
    ASSERT_EQ(r.request_table[i].replica, static_cast<int>((i / 3) % 2)) << i;
  }
}

TEST(Serving, DispatchSendsAFullBatchAtOnce) {
  // max_requests 2 with a long timeout: pairs; the first of each waits 0.1 s for the second, which waits 0.
  const auto spec = dispatch_spec(workload::ArrivalProcess::constant, 10, 2, 10.0);
  const auto r = simulate(spec);
  expect_conservation(spec, r);
  EXPECT_NEAR(r.queue.mean, 0.05, 1e-6);
  EXPECT_NEAR(r.queue.max, 0.1, 1e-6);
  // max_requests 1 is no batching: nothing waits.
  const auto none = simulate(dispatch_spec(workload::ArrivalProcess::constant, 10, 1, 10.0));
  EXPECT_NEAR(none.queue.max, 0.0, 1e-12);
}

TEST(Serving, DispatchWaitUnderPoissonArrivalsMatchesTheRenewalFormula) {
  // Poisson arrivals at rate L, timeout T, no size limit. A batch is one opener, who waits T, and
  // N ~ Poisson(L T) joiners, each arriving uniformly within the window and waiting T/2 on average. By the
  // renewal-reward theorem the mean wait per request is (T + L T * T/2) / (1 + L T): 0.1875 s at L = 10, T = 0.3.
  auto spec = dispatch_spec(workload::ArrivalProcess::poisson, 10, 1'000'000, 0.3);
  spec.workload.requests = 40000;
  const auto r = simulate(spec);
  expect_conservation(spec, r);
  const double l = 10, t = 0.3, expected = (t + l * t * t / 2) / (1 + l * t);
  EXPECT_NEAR(r.queue.mean, expected, 0.01 * expected);
  EXPECT_NEAR(r.queue.max, t, 1e-6);
}

TEST(Serving, SameSeedGivesIdenticalRuns) {
  auto spec = one_pool("mixtral-8x7b", "h100-sxm", "chunked_prefill");
  spec.pools[0].deployment.tensor_parallel = 2;
  spec.workload.requests = 3000;
  spec.workload.process = workload::ArrivalProcess::gamma;
  spec.workload.rate_per_s = 8;
  spec.workload.cv = 3;
  spec.workload.input.kind = workload::TokenDistribution::Kind::lognormal;
  spec.workload.input.median = 500;
  spec.workload.input.sigma = 1;
  spec.workload.input.max = 8000;
  spec.workload.output = workload::TokenDistribution::uniform_between(1, 300);
  const auto a = simulate(spec), b = simulate(spec);
  testing::expect_same_requests(a.request_table, b.request_table);
  EXPECT_EQ(a.itl.p99, b.itl.p99);
  spec.workload.seed = 2;
  const auto c = simulate(spec);
  EXPECT_NE(a.e2e.mean, c.e2e.mean);
}

TEST(Percentiles, LinearInterpolationLikeNumPy) {
  std::vector<double> v{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const auto d = summarize(v);
  EXPECT_DOUBLE_EQ(d.p50, 5.5);   // numpy.percentile(range(1, 11), 50)
  EXPECT_DOUBLE_EQ(d.p90, 9.1);   // numpy.percentile(range(1, 11), 90)
  EXPECT_DOUBLE_EQ(d.p99, 9.91);
  EXPECT_DOUBLE_EQ(d.max, 10.0);
  EXPECT_DOUBLE_EQ(d.mean, 5.5);
  // Runs of gaps give the same answer as the expanded list.
  GapRecorder g;
  g.add(3000, 2);
  g.add(1000, 3);
  g.add(2000, 1);
  g.add(1000, 1);
  std::vector<double> expanded{3e-6, 3e-6, 1e-6, 1e-6, 1e-6, 2e-6, 1e-6};
  const auto e = summarize(expanded);
  const auto gd = g.summarize();
  EXPECT_NEAR(gd.p50, e.p50, 1e-15);
  EXPECT_NEAR(gd.p90, e.p90, 1e-15);
  EXPECT_NEAR(gd.p99, e.p99, 1e-15);
  EXPECT_NEAR(gd.mean, e.mean, 1e-15);
  EXPECT_EQ(gd.count, 7u);
}

}  // namespace
}  // namespace infersim::serving
