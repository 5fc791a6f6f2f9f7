// Runs of decode steps (docs/serving.md): a replica advances a run of plain decode steps in one event. The
// reference is the same simulation with one event per step (SimulationSpec::step_by_step): every metric,
// every request's timeline and every replica's statistics must agree (times and counts exactly, sums of
// doubles within 1e-9 relative), on the shipped scenarios and on set-ups chosen for what could break the
// equivalence: ties between a step's end and an arrival (closed loop, lockstep replicas), KV blocks running
// out mid-run (preemption), routers that read the replicas' load, front-end batching, chunked prefill.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "infersim/core/error.hpp"
#include "infersim/scenario/scenario_loader.hpp"
#include "support/paths.hpp"
#include "support/request_tables.hpp"
#include "support/serving.hpp"

namespace infersim::serving {
namespace {

using testing::fixed_tokens;
using testing::one_pool;

void expect_near(double runs, double steps, const std::string& what) {
  EXPECT_LE(std::abs(runs - steps), 1e-9 * std::max(std::abs(runs), std::abs(steps))) << what << ": " << runs << " vs " << steps;
}

void expect_same(const Distribution& a, const Distribution& b, const std::string& what) {
  EXPECT_EQ(a.count, b.count) << what;
  expect_near(a.mean, b.mean, what + ".mean");
  expect_near(a.p50, b.p50, what + ".p50");
  expect_near(a.p90, b.p90, what + ".p90");
  expect_near(a.p99, b.p99, what + ".p99");
  expect_near(a.max, b.max, what + ".max");
}

struct Both {
  SimulationResult runs, steps;
};

/// Simulate `spec` with runs of decode steps and step by step, and check that they agree.
Both compare(SimulationSpec spec, const std::string& name) {
  SCOPED_TRACE(name);
  spec.step_by_step = false;
  Both b{simulate(spec), {}};
  spec.step_by_step = true;
  b.steps = simulate(spec);
  const SimulationResult& r = b.runs;
  const SimulationResult& s = b.steps;
  EXPECT_EQ(r.requests, s.requests);
  EXPECT_EQ(r.completed, s.completed);
  EXPECT_EQ(r.input_tokens, s.input_tokens);
  EXPECT_EQ(r.output_tokens, s.output_tokens);
  EXPECT_EQ(r.preemptions, s.preemptions);
  EXPECT_LE(r.events, s.events);
  expect_near(r.duration_s, s.duration_s, "duration_s");
  expect_near(r.mean_in_system, s.mean_in_system, "mean_in_system");
  expect_near(r.kv_transfer_s_mean, s.kv_transfer_s_mean, "kv_transfer_s_mean");
  expect_same(r.ttft, s.ttft, "ttft");
  expect_same(r.tpot, s.tpot, "tpot");
  expect_same(r.itl, s.itl, "itl");
  expect_same(r.e2e, s.e2e, "e2e");
  expect_same(r.queue, s.queue, "queue");
  testing::expect_same_requests(r.request_table, s.request_table, 1e-9);
  EXPECT_EQ(r.pools.size(), s.pools.size());
  for (std::size_t p = 0; p < std::min(r.pools.size(), s.pools.size()); ++p) {
    const auto &rp = r.pools[p].replica_stats, &sp = s.pools[p].replica_stats;
    EXPECT_EQ(rp.size(), sp.size());
    if (rp.size() != sp.size()) continue;
    for (std::size_t i = 0; i < rp.size(); ++i) {
      const ReplicaStats &x = rp[i], &y = sp[i];
      const std::string at = "pool " + std::to_string(p) + " replica " + std::to_string(i) + " ";
      EXPECT_EQ(x.steps, y.steps) << at;
      EXPECT_EQ(x.preemptions, y.preemptions) << at;
      EXPECT_EQ(x.kv_blocks_total, y.kv_blocks_total) << at;
      EXPECT_EQ(x.kv_blocks_peak, y.kv_blocks_peak) << at;
      EXPECT_EQ(x.decode_sequence_steps, y.decode_sequence_steps) << at;
      EXPECT_EQ(x.decode_tokens, y.decode_tokens) << at;
      EXPECT_EQ(y.chained_steps, 0) << at;
      expect_near(x.busy_chip_s, y.busy_chip_s, at + "busy_chip_s");
      expect_near(x.flops_per_chip, y.flops_per_chip, at + "flops_per_chip");
      expect_near(x.bytes_per_chip, y.bytes_per_chip, at + "bytes_per_chip");
      expect_near(x.utilized_chip_s, y.utilized_chip_s, at + "utilized_chip_s");
      expect_near(x.kv_block_ns, y.kv_block_ns, at + "kv_block_ns");
      expect_near(x.step_s, y.step_s, at + "step_s");
      expect_near(x.host_s, y.host_s, at + "host_s");
      expect_near(x.prefill_busy_s, y.prefill_busy_s, at + "prefill_busy_s");
      expect_near(x.decode_busy_s, y.decode_busy_s, at + "decode_busy_s");
      expect_near(x.cached_prefill_busy_s, y.cached_prefill_busy_s, at + "cached_prefill_busy_s");
    }
  }
  return b;
}

std::int64_t chained(const SimulationResult& r) {
  std::int64_t n = 0;
  for (const auto& pool : r.pools) {
    for (const auto& rs : pool.replica_stats) n += rs.chained_steps;
  }
  return n;
}

TEST(DecodeRuns, ShippedScenariosMatchStepByStep) {
  namespace fs = std::filesystem;
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(testing::source_path("configs/scenarios"))) {
    if (entry.path().extension() != ".json") continue;
    auto sc = scenario::load_scenario(entry.path().string());
    auto& w = sc.simulation.workload;
    if (w.process != workload::ArrivalProcess::trace) w.requests = std::min<std::int64_t>(w.requests, 600);
    compare(sc.simulation, entry.path().filename().string());
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

TEST(DecodeRuns, LightLoadAdvancesMostStepsWithoutEvents) {
  // Issue 16's light load, shortened: 512/128 tokens at 4 requests/s on one H100, a batch of a few.
  auto spec = one_pool("llama-3.1-8b", "h100-sxm", "continuous");
  fixed_tokens(spec, 512, 128);
  spec.workload.requests = 2000;
  spec.workload.process = workload::ArrivalProcess::poisson;
  spec.workload.rate_per_s = 4;
  const Both b = compare(spec, "light load");
  const auto& rs = b.runs.pools[0].replica_stats[0];
  // Each request ends at least one run (its prefill step and its last decode step have their own events);
  // arrivals end runs too. Everything else is chained: 127 decode steps per request, ~3 runs each.
  EXPECT_GT(rs.chained_steps, rs.steps / 2);
  EXPECT_LT(b.runs.events * 3, b.steps.events);
}

TEST(DecodeRuns, ClosedLoopLockstepReplicasTieExactly) {
  // Two identical replicas fed by a closed loop without think time: a completion on one schedules an arrival
  // at the very nanosecond the other replica's step ends, so the order of same-time events decides which
  // step a request joins.
  auto spec = one_pool("llama-3.1-8b", "h100-sxm", "continuous");
  spec.pools[0].deployment.replicas = 2;
  fixed_tokens(spec, 128, 64);
  spec.workload.requests = 400;
  spec.workload.process = workload::ArrivalProcess::closed_loop;
  spec.workload.concurrency = 6;
  spec.workload.think_time_s = 0;
  compare(spec, "closed loop, round robin");
  spec.pools[0].router = Router::least_loaded;
  compare(spec, "closed loop, least loaded");
  // Lockstep replicas end their steps at the same nanoseconds, so neither advances a run (each step end ties
  // with the other's); an odd number of clients splits them unevenly, and runs advance between the ties.
  spec.workload.concurrency = 5;
  spec.workload.output = workload::TokenDistribution::uniform_between(20, 120);
  const Both b = compare(spec, "closed loop, uneven replicas");
  EXPECT_GT(chained(b.runs), 0);
}

class StepEnds final : public StepListener {
 public:
  std::vector<engine::SimTime> ends;
  void step(int, int, std::size_t, engine::SimTime start, engine::SimTime duration, const roofline::StepShape&) override {
    ends.push_back(start + duration);
  }
};

TEST(DecodeRuns, AnArrivalAtAStepEndJoinsTheNextStepAsStepByStep) {
  // Request B arrives at the very nanosecond a decode step of request A ends. Its arrival event was scheduled
  // first (when A arrived), so it runs before that step's end: the replica admits B at once. A run of A's
  // decode steps must stop before that end, not take it (ties go to the pending event).
  auto spec = one_pool("llama-3.1-8b", "h100-sxm", "continuous");
  spec.workload.process = workload::ArrivalProcess::trace;
  const std::string path = ::testing::TempDir() + "decode_runs_tie.csv";
  auto write_trace = [&](engine::SimTime b_arrival) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fprintf(f, "arrival_s,input_tokens,output_tokens\n0,512,64\n");
    if (b_arrival > 0) std::fprintf(f, "%.9f,256,16\n", engine::to_seconds(b_arrival));
    std::fclose(f);
  };
  spec.workload.trace.path = path;
  spec.workload.trace.format = "csv";
  write_trace(0);
  StepEnds alone;
  spec.step_by_step = true;
  simulate(spec, &alone);
  ASSERT_GT(alone.ends.size(), 20u);
  const engine::SimTime tie = alone.ends[10];  // A's tenth decode step
  write_trace(tie);
  const Both b = compare(spec, "arrival at a step end");
  ASSERT_EQ(b.steps.request_table.size(), 2u);
  EXPECT_EQ(b.steps.request_table[1].arrival, tie);
  EXPECT_EQ(b.steps.request_table[1].first_scheduled, tie);  // admitted at the step end it tied with
  EXPECT_GT(chained(b.runs), 0);
}

TEST(DecodeRuns, KvBlocksRunningOutMidRunPreemptAsStepByStep) {
  for (const char* policy : {"continuous", "chunked_prefill"}) {
    auto spec = one_pool("llama-3.2-1b", "h100-sxm", policy, 256, 8192);
    testing::limit_kv_tokens(spec, 3000);  // requests of 500 tokens preempt one another
    fixed_tokens(spec, 200, 300);
    spec.workload.requests = 200;
    spec.workload.process = workload::ArrivalProcess::poisson;
    spec.workload.rate_per_s = 30;
    const Both b = compare(spec, policy);
    EXPECT_GT(b.steps.preemptions, 0) << policy;
    EXPECT_GT(chained(b.runs), 0) << policy;
  }
}

TEST(DecodeRuns, RoutersAndFrontEndBatchingMatchStepByStep) {
  auto spec = one_pool("llama-3.1-8b", "h100-sxm", "chunked_prefill", 64, 2048);
  spec.pools[0].deployment.replicas = 3;
  spec.pools[0].router = Router::least_loaded;
  spec.workload.input = workload::TokenDistribution::uniform_between(50, 3000);
  spec.workload.output = workload::TokenDistribution::uniform_between(1, 300);
  spec.workload.requests = 600;
  spec.workload.process = workload::ArrivalProcess::poisson;
  spec.workload.rate_per_s = 12;
  compare(spec, "least loaded");
  spec.dispatch.max_requests = 4;
  spec.dispatch.timeout_s = 0.05;
  compare(spec, "front-end batching");
}

// A first token reported late falls inside a run of decode steps: the run must stop there as the step's own
// event would (the requests' timelines agree with step by step), and still chain the other steps.
TEST(DecodeRuns, FirstTokensReportedLateMatchStepByStep) {
  auto spec = one_pool("llama-3.1-8b", "h100-sxm", "inflight", 128, 8192);
  ServingEngineSpec e;
  e.name = "lagging";
  e.host_time.per_step_s = 2e-3;
  e.first_token_lag_steps = 3;
  spec.pools[0].engine = e;
  spec.workload.input = workload::TokenDistribution::uniform_between(50, 1000);
  spec.workload.output = workload::TokenDistribution::uniform_between(1, 200);
  spec.workload.requests = 300;
  spec.workload.process = workload::ArrivalProcess::poisson;
  spec.workload.rate_per_s = 4;
  const Both b = compare(spec, "first_token_lag_steps 3");
  EXPECT_GT(chained(b.runs), 0);
}

TEST(DecodeRuns, EnvironmentForcesStepByStep) {
  auto spec = one_pool("llama-3.1-8b", "h100-sxm", "continuous");
  fixed_tokens(spec, 256, 64);
  spec.workload.requests = 50;
  spec.workload.process = workload::ArrivalProcess::poisson;
  spec.workload.rate_per_s = 2;
  EXPECT_GT(chained(simulate(spec)), 0);
  ::setenv("INFERSIM_STEP_BY_STEP", "1", 1);
  const auto forced = simulate(spec);
  ::setenv("INFERSIM_STEP_BY_STEP", "yes", 1);
  EXPECT_THROW(simulate(spec), UsageError);
  ::unsetenv("INFERSIM_STEP_BY_STEP");
  EXPECT_EQ(chained(forced), 0);
}

}  // namespace
}  // namespace infersim::serving
