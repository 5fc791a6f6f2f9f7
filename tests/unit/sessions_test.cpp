// Synthetic sessions (workload.sessions, issue 17): prompts that grow by the history, block hashes that share
// the system prompt across sessions and the history between turns, the closed loop (a turn arrives its think
// time after the previous turn completes), and the prefix cache's hit rate against a count by hand (a turn's
// output blocks are cached when it completes, for the next turn).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "infersim/scenario/report.hpp"
#include "infersim/scenario/scenario_loader.hpp"
#include "infersim/scenario/scenario_run.hpp"
#include "infersim/workload/request_source.hpp"
#include "infersim/workload/sessions.hpp"
#include "support/paths.hpp"
#include "support/request_tables.hpp"
#include "support/serving.hpp"

namespace infersim {
namespace {

using workload::DurationDistribution;
using workload::Request;
using workload::TokenDistribution;

constexpr std::int64_t kSystem = 1000, kMessage = 100, kOutput = 50, kTurns = 4, kBlock = 16;

/// S = 1,000 system-prompt tokens, messages of 100, outputs of 50, 4 turns, 16-token blocks.
workload::WorkloadSpec fixed_sessions(std::int64_t sessions) {
  workload::WorkloadSpec w;
  w.requests = sessions * kTurns;
  w.process = workload::ArrivalProcess::constant;
  w.rate_per_s = 0.01;  // a session every 100 s: each one's first prompt is prefilled before the next starts
  w.sessions.enabled = true;
  w.sessions.system_prompt_tokens = kSystem;
  w.sessions.turns = TokenDistribution::fixed_value(kTurns);
  w.sessions.message = TokenDistribution::fixed_value(kMessage);
  w.sessions.think_time = DurationDistribution::fixed_value(2.0);
  w.sessions.block_tokens = kBlock;
  w.output = TokenDistribution::fixed_value(kOutput);
  return w;
}

/// Turn k (1-based): the system prompt, k - 1 earlier messages and outputs, and its own message.
std::int64_t prompt_of_turn(std::int64_t k) { return kSystem + (k - 1) * (kMessage + kOutput) + kMessage; }

TEST(Sessions, PromptsGrowByTheHistoryAndCarryOneHashPerFullBlock) {
  workload::Sessions s(fixed_sessions(3));
  ASSERT_EQ(s.count(), 3u);
  std::vector<std::vector<std::uint64_t>> last(3);
  for (std::uint32_t id = 0; id < 3; ++id) {
    EXPECT_EQ(s.turns(id), kTurns);
    for (std::int64_t k = 1; k <= kTurns; ++k) {
      Request r;
      double think = -1;
      ASSERT_TRUE(s.next_turn(id, r, think));
      EXPECT_EQ(r.input_tokens, prompt_of_turn(k));
      EXPECT_EQ(r.output_tokens, kOutput);
      EXPECT_EQ(think, k == 1 ? 0.0 : 2.0);
      EXPECT_EQ(r.session, id);
      // Full blocks only: 1,100 tokens are 68 blocks of 16 and 12 tokens that cannot be shared.
      ASSERT_EQ(r.hash_count, static_cast<std::uint32_t>(prompt_of_turn(k) / kBlock));
      // Then the blocks the output fills: 1,100 + 50 tokens are 71 full blocks, 3 more than the prompt's 68.
      ASSERT_EQ(r.hash_count + r.generated_hash_count, static_cast<std::uint32_t>((prompt_of_turn(k) + kOutput) / kBlock));
      const std::vector<std::uint64_t> h(r.hashes, r.hashes + r.hash_count);
      // The previous turn's blocks, its output's included, are a prefix of this turn's (the conversation only grows).
      ASSERT_LE(last[id].size(), h.size());
      EXPECT_TRUE(std::equal(last[id].begin(), last[id].end(), h.begin())) << "session " << id << " turn " << k;
      last[id].assign(r.hashes, r.hashes + r.hash_count + r.generated_hash_count);
    }
    Request r;
    double think = 0;
    EXPECT_FALSE(s.next_turn(id, r, think));
  }
  // Sessions share exactly the 62 blocks wholly inside the 1,000-token system prompt (block 62 holds its last
  // 8 tokens and the session's first message).
  for (std::uint32_t a = 1; a < 3; ++a) {
    const auto mismatch = std::mismatch(last[0].begin(), last[0].end(), last[a].begin(), last[a].end());
    EXPECT_EQ(mismatch.first - last[0].begin(), kSystem / kBlock);
  }
}

TEST(Sessions, DistinctSystemPromptsShareOnlyWithinTheirOwn) {
  auto w = fixed_sessions(40);
  w.sessions.system_prompts = 3;
  workload::Sessions s(w);
  std::set<std::uint64_t> first_blocks;
  for (std::uint32_t id = 0; id < s.count(); ++id) {
    Request r;
    double think = 0;
    ASSERT_TRUE(s.next_turn(id, r, think));
    first_blocks.insert(r.hashes[0]);
  }
  EXPECT_EQ(first_blocks.size(), 3u);  // 40 sessions drew each of the 3 system prompts
}

TEST(Sessions, TheLastSessionIsCutShortToMakeTheRequestCountExact) {
  auto w = fixed_sessions(1);
  w.requests = 10;  // two sessions of 4 and one of 2
  workload::Sessions s(w);
  ASSERT_EQ(s.count(), 3u);
  EXPECT_EQ(s.turns(0) + s.turns(1) + s.turns(2), 10u);
  EXPECT_EQ(s.turns(2), 2u);
}

TEST(Sessions, MeanPromptOfTheWorkloadMatchesTheTurnsByHand) {
  auto w = fixed_sessions(1);
  double sum = 0;
  for (std::int64_t k = 1; k <= kTurns; ++k) sum += static_cast<double>(prompt_of_turn(k));
  EXPECT_DOUBLE_EQ(workload::expected_input_tokens(w), sum / kTurns);
  EXPECT_EQ(workload::input_upper_bound(w), prompt_of_turn(kTurns));
  EXPECT_DOUBLE_EQ(workload::requests_per_arrival(w), 4.0);
  // Turns uniform on 1..3: E[T] = 2, E[T(T - 1)] = (0 + 2 + 6) / 3, mean prompt S + m + (m + o) E[T(T-1)] / (2 E[T]).
  w.sessions.turns = TokenDistribution::uniform_between(1, 3);
  EXPECT_NEAR(workload::expected_input_tokens(w), kSystem + kMessage + (kMessage + kOutput) * (8.0 / 3.0) / 4.0, 1e-9);
}

serving::SimulationSpec session_simulation(std::int64_t sessions, bool cache) {
  auto spec = testing::one_pool("llama-3.1-8b", "h100-sxm", "chunked_prefill");
  spec.workload = fixed_sessions(sessions);
  spec.pools[0].scheduler.prefix_cache.enabled = cache;
  return spec;
}

/// Each session's requests, in turn order (a turn is admitted only after the previous one completed).
std::map<std::uint32_t, std::vector<std::uint32_t>> by_session(const serving::SimulationResult& r) {
  std::map<std::uint32_t, std::vector<std::uint32_t>> out;
  for (std::uint32_t id = 0; id < r.request_sessions.size(); ++id) out[r.request_sessions[id]].push_back(id);
  return out;
}

TEST(SessionServing, HitRateWithAnUnlimitedCacheMatchesACountOfShareableBlocks) {
  constexpr std::int64_t kSessions = 5;
  const auto r = serving::simulate(session_simulation(kSessions, true));
  ASSERT_EQ(r.completed, kSessions * kTurns);
  EXPECT_EQ(r.pools[0].replica_stats[0].prefix.evictions, 0);  // the cache never ran out: it is unlimited here
  // By hand: the cache holds every prompt's full blocks once prefilled, and every turn's full blocks over its
  // prompt and output once it completes (before the next turn arrives).
  // - turn 1 of the first session hits nothing;
  // - turn 1 of a later session hits the system prompt's full blocks, floor(S / b);
  // - turn k > 1 hits the previous turn's full blocks of prompt and output, floor((P(k-1) + o) / b), at most
  //   the (P(k) - 1) / b it may match (one token is always computed).
  // Per session: turn 2 floor(1,150 / 16) = 71 blocks, turn 3 floor(1,300 / 16) = 81, turn 4 floor(1,450 / 16) = 90:
  // 242 blocks = 3,872 tokens; sessions 2 to 5 also hit 62 system-prompt blocks in turn 1 (992 tokens):
  // 5 x 3,872 + 4 x 992 = 23,328 of 5 x (1,100 + 1,250 + 1,400 + 1,550) = 26,500 prompt tokens.
  double hit = 0, input = 0;
  for (std::int64_t s = 0; s < kSessions; ++s) {
    for (std::int64_t k = 1; k <= kTurns; ++k) {
      input += static_cast<double>(prompt_of_turn(k));
      std::int64_t blocks = 0;
      if (k > 1) {
        blocks = std::min((prompt_of_turn(k - 1) + kOutput) / kBlock, (prompt_of_turn(k) - 1) / kBlock);
      } else if (s > 0) {
        blocks = std::min(kSystem / kBlock, (prompt_of_turn(1) - 1) / kBlock);
      }
      hit += static_cast<double>(blocks * kBlock);
    }
  }
  EXPECT_EQ(r.input_tokens, input);
  EXPECT_EQ(r.cached_input_tokens, hit);
  EXPECT_NEAR(r.cached_input_tokens / r.input_tokens, 23328.0 / 26500.0, 1e-12);  // the numbers of the sum above
  // Without the cache nothing is served from it, and the prompts take longer to prefill.
  const auto off = serving::simulate(session_simulation(kSessions, false));
  EXPECT_EQ(off.cached_input_tokens, 0.0);
  EXPECT_GT(off.ttft.mean, r.ttft.mean);
}

TEST(SessionServing, TheSecondTurnFindsTheFirstTurnsPromptAndOutputCached) {
  // One session of two turns: turn 2's prompt is S + m + o + m = 1,250 tokens. The first turn left its full
  // blocks over S + m + o = 1,150 tokens in the cache: floor(1,150 / 16) = 71 blocks = 1,136 tokens (the prompt
  // alone would give floor(1,100 / 16) x 16 = 1,088), of which the output filled 3 blocks (block 68 holds the
  // prompt's last 12 tokens and the output's first 4).
  auto spec = session_simulation(1, true);
  spec.workload.requests = 2;
  spec.workload.sessions.turns = TokenDistribution::fixed_value(2);
  const auto r = serving::simulate(spec);
  ASSERT_EQ(r.completed, 2);
  EXPECT_EQ(r.request_table[0].cached_input, 0);
  EXPECT_EQ(r.request_table[1].input_tokens, kSystem + 2 * kMessage + kOutput);
  EXPECT_EQ(r.request_table[1].cached_input, (kSystem + kMessage + kOutput) / kBlock * kBlock);
  EXPECT_EQ(r.request_table[1].cached_input, 1136);
  // The cache then holds the second turn's full blocks too: floor((1,250 + 50) / 16) = 81 hash blocks.
  EXPECT_EQ(r.pools[0].replica_stats[0].prefix.peak_cached_blocks, 81);
}

TEST(SessionServing, EverySessionHasItsTurnsAndEachArrivesThinkTimeAfterThePreviousCompletes) {
  const auto r = serving::simulate(session_simulation(6, true));
  EXPECT_EQ(r.sessions, 6);
  const auto sessions = by_session(r);
  ASSERT_EQ(sessions.size(), 6u);
  for (const auto& [session, ids] : sessions) {
    ASSERT_EQ(static_cast<std::int64_t>(ids.size()), kTurns) << "session " << session;
    for (std::size_t k = 0; k < ids.size(); ++k) {
      const auto& q = r.request_table[ids[k]];
      EXPECT_EQ(q.input_tokens, prompt_of_turn(static_cast<std::int64_t>(k) + 1));
      if (k == 0) continue;
      const auto& prev = r.request_table[ids[k - 1]];
      EXPECT_EQ(q.arrival, prev.completion + engine::from_seconds(2.0)) << "session " << session << " turn " << k + 1;
    }
  }
}

serving::SimulationSpec random_sessions(std::uint64_t seed) {
  auto spec = testing::one_pool("llama-3.1-8b", "h100-sxm", "chunked_prefill");
  auto& w = spec.workload;
  w.requests = 300;
  w.seed = seed;
  w.process = workload::ArrivalProcess::poisson;
  w.rate_per_s = 2;
  w.sessions.enabled = true;
  w.sessions.system_prompt_tokens = 700;
  w.sessions.system_prompts = 2;
  w.sessions.turns = TokenDistribution::uniform_between(1, 8);
  w.sessions.message = TokenDistribution::uniform_between(20, 300);
  w.sessions.think_time = DurationDistribution::exponential_mean(3.0);
  w.output = TokenDistribution::uniform_between(10, 200);
  spec.pools[0].scheduler.prefix_cache.enabled = true;
  return spec;
}

TEST(SessionServing, RandomLengthsKeepTheHistoryAndTheClosedLoop) {
  const auto spec = random_sessions(7);
  const auto r = serving::simulate(spec);
  ASSERT_EQ(r.completed, 300);
  const workload::Sessions drawn(spec.workload);
  ASSERT_EQ(r.sessions, drawn.count());
  for (const auto& [session, ids] : by_session(r)) {
    EXPECT_EQ(ids.size(), drawn.turns(session));
    // Turn 1 reads the system prompt and a message; turn k + 1 reads turn k's prompt and output and a message.
    const auto m1 = r.request_table[ids[0]].input_tokens - 700;
    EXPECT_GE(m1, 20);
    EXPECT_LE(m1, 300);
    for (std::size_t k = 1; k < ids.size(); ++k) {
      const auto& prev = r.request_table[ids[k - 1]];
      const auto& q = r.request_table[ids[k]];
      const auto message = q.input_tokens - prev.input_tokens - prev.output_tokens;
      EXPECT_GE(message, 20);
      EXPECT_LE(message, 300);
      EXPECT_GE(q.arrival, prev.completion);  // no earlier than the previous turn's completion + its think time
    }
  }
  EXPECT_GT(r.cached_input_tokens, 0.0);
}

TEST(SessionServing, SameSeedSameRunAnotherSeedAnotherRun) {
  const auto a = serving::simulate(random_sessions(11));
  const auto b = serving::simulate(random_sessions(11));
  testing::expect_same_requests(a.request_table, b.request_table);
  EXPECT_EQ(a.request_sessions, b.request_sessions);
  EXPECT_EQ(a.duration_s, b.duration_s);
  const auto c = serving::simulate(random_sessions(12));
  EXPECT_NE(a.duration_s, c.duration_s);
}

TEST(SessionServing, ClosedLoopClientsRunSessionsBackToBack) {
  auto spec = session_simulation(6, true);
  auto& w = spec.workload;
  w.process = workload::ArrivalProcess::closed_loop;
  w.concurrency = 2;
  w.think_time_s = 5;  // between a client's sessions
  const auto r = serving::simulate(spec);
  ASSERT_EQ(r.completed, 24);
  // At most two sessions are ever open: a session's first turn arrives 5 s after some session's last turn.
  const auto sessions = by_session(r);
  int at_zero = 0;
  for (const auto& [session, ids] : sessions) {
    const auto start = r.request_table[ids.front()].arrival;
    if (start == 0) {
      ++at_zero;
      continue;
    }
    bool follows = false;
    for (const auto& [other, other_ids] : sessions) {
      follows = follows || r.request_table[other_ids.back()].completion + engine::from_seconds(5.0) == start;
    }
    EXPECT_TRUE(follows) << "session " << session;
  }
  EXPECT_EQ(at_zero, 2);
}

TEST(SessionServing, RequestSourceAsksNothingOfRequestsOutsideSessions) {
  // Without sessions nothing follows a completion in an open loop; a closed loop's next request follows think_time_s.
  workload::WorkloadSpec w;
  w.requests = 3;
  w.process = workload::ArrivalProcess::poisson;
  workload::RequestSource open(w);
  Request r;
  EXPECT_FALSE(open.follow_up(workload::kNoSession, 0, r));
  w.process = workload::ArrivalProcess::closed_loop;
  w.think_time_s = 1.5;
  workload::RequestSource closed(w);
  ASSERT_TRUE(closed.next(r));
  ASSERT_TRUE(closed.follow_up(workload::kNoSession, 1000, r));
  EXPECT_EQ(r.arrival, 1000 + engine::from_seconds(1.5));
}

TEST(SessionScenario, ShippedScenarioLoadsRunsAndReportsItsSessions) {
  const std::string path = testing::source_path("configs/scenarios/chat-sessions-llama-3.1-8b.json");
  const auto sc = scenario::load_scenario(path, {scenario::parse_override("workload.requests=400"),
                                                 scenario::parse_override("scheduler.block_size=32")});
  const auto& w = sc.simulation.workload;
  ASSERT_TRUE(w.sessions.enabled);
  EXPECT_EQ(w.sessions.system_prompt_tokens, 1500);
  EXPECT_EQ(w.sessions.block_tokens, 32);  // the hash blocks follow the KV blocks
  EXPECT_EQ(sc.resolved["workload"]["sessions"]["think_time_s"]["mean"], 15.0);
  const auto run = scenario::run_scenario(sc);
  const auto report = scenario::make_report(run);
  const auto& m = report["metrics"]["sessions"];
  EXPECT_EQ(m["turns"], 400);
  EXPECT_EQ(m["count"], run.result.sessions);
  EXPECT_DOUBLE_EQ(m["mean_turns_per_session"].get<double>(), 400.0 / static_cast<double>(run.result.sessions));
  EXPECT_GT(report["metrics"]["prefix_cache"]["hit_rate"].get<double>(), 0.5);
  // A rate search's trial of duration_s simulates rate x duration x mean turns requests: the rate starts sessions.
  auto searched = sc;
  searched.slo.find_max_rate = scenario::RateSearchSpec{1, 4, 0.01, 100.0, std::nullopt, 1};
  const double turns = w.sessions.turns.expected();
  EXPECT_EQ(scenario::at_rate(searched, 2).simulation.workload.requests, std::llround(2 * 100.0 * turns));
}

}  // namespace
}  // namespace infersim
