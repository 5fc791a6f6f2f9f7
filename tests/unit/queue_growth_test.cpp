// The overload warning's statistic (scenario::queue_growth): how the wait before a request's first step moves
// from the first to the last quarter of an open-loop run, against hand-built request tables whose queue is
// known in closed form, and on the reasoning scenario below and above its capacity.

#include <gtest/gtest.h>

#include "infersim/engine/sim_time.hpp"
#include "infersim/scenario/warnings.hpp"
#include "infersim/serving/request_table.hpp"

namespace infersim {
namespace {

engine::SimTime ns(double s) { return static_cast<engine::SimTime>(s * 1e9); }

/// Requests arriving every second (t = 0, 1, ..., n - 1), each waiting wait(t) before its first step and
/// finishing one second after it.
template <class Wait>
serving::RequestTable fifo_table(int n, Wait wait) {
  serving::RequestTable t(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto& q = t[static_cast<std::size_t>(i)];
    q.arrival = ns(i);
    q.first_scheduled = ns(i + wait(i));
    q.first_token = q.first_scheduled;
    q.completion = ns(i + wait(i) + 1.0);
  }
  return t;
}

TEST(QueueGrowth, OverloadedFifoQueueGrowsAtLambdaOverMuMinusOne) {
  // Arrivals at lambda = 1/s into a server of mu = 2/3 per second (FIFO): by time t the backlog is
  // (lambda - mu) t = t/3 requests, waited out at mu: t/2 seconds. Growth lambda/mu - 1 = 0.5.
  const auto t = fifo_table(100, [](int i) { return 0.5 * i; });
  const auto g = scenario::queue_growth(t);
  ASSERT_TRUE(g.has_value());
  // Quarters of 25: arrivals 0-24 (median 12, wait 6) and 75-99 (median 87, wait 43.5).
  EXPECT_DOUBLE_EQ(g->arrival_first_s, 12.0);
  EXPECT_DOUBLE_EQ(g->arrival_last_s, 87.0);
  EXPECT_DOUBLE_EQ(g->wait_first_s, 6.0);
  EXPECT_DOUBLE_EQ(g->wait_last_s, 43.5);
  EXPECT_DOUBLE_EQ(g->growth, 0.5);
  EXPECT_DOUBLE_EQ(g->offered_per_s, 1.0);                // 99 gaps over 99 s
  EXPECT_DOUBLE_EQ(g->served_per_s, 100.0 / (99 + 49.5 + 1));  // the last completes at 149.5 s
  EXPECT_GE(g->growth, scenario::kQueueGrowthWarning);
}

TEST(QueueGrowth, StableQueueDoesNotGrow) {
  // A constant wait of 0.2 s (a queue below capacity): growth 0 however long the run.
  const auto g = scenario::queue_growth(fifo_table(400, [](int) { return 0.2; }));
  ASSERT_TRUE(g.has_value());
  EXPECT_NEAR(g->growth, 0.0, 1e-9);
  EXPECT_NEAR(g->wait_last_s, 0.2, 1e-9);
  // Even quarters (100 each): the median arrival of 0..99 is 49.5.
  EXPECT_DOUBLE_EQ(g->arrival_first_s, 49.5);
}

TEST(QueueGrowth, NeedsFortyScheduledRequestsAndSpreadArrivals) {
  EXPECT_FALSE(scenario::queue_growth(fifo_table(39, [](int i) { return 1.0 * i; })).has_value());
  auto burst = fifo_table(100, [](int i) { return 0.1 * i; });
  for (auto& q : burst) q.arrival = 0;  // every request at t = 0 (offline): no span to grow over
  EXPECT_FALSE(scenario::queue_growth(burst).has_value());
  auto never = fifo_table(100, [](int) { return 0.0; });
  for (std::size_t i = 0; i < 70; ++i) never[i].first_scheduled = -1;  // only 30 ever scheduled
  EXPECT_FALSE(scenario::queue_growth(never).has_value());
}

}  // namespace
}  // namespace infersim
