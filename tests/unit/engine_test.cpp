// The discrete-event engine on its own: ordering, ties, cancellation, run_until.

#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <vector>

#include "infersim/core/cancel.hpp"
#include "infersim/engine/simulator.hpp"

namespace infersim::engine {
namespace {

TEST(Simulator, RunsEventsInTimeOrder) {
  Simulator sim;
  std::vector<int> order;
  sim.schedule_at(30, [&] { order.push_back(3); });
  sim.schedule_at(10, [&] { order.push_back(1); });
  sim.schedule_at(20, [&] { order.push_back(2); });
  sim.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(sim.now(), 30);
  EXPECT_EQ(sim.events_run(), 3u);
}

TEST(Simulator, TiesRunInSchedulingOrder) {
  Simulator sim;
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) sim.schedule_at(5, [&order, i] { order.push_back(i); });
  sim.run();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(Simulator, EventsScheduledNowRunAfterThoseAlreadyPending) {
  Simulator sim;
  std::vector<int> order;
  sim.schedule_at(1, [&] {
    order.push_back(1);
    sim.schedule_after(0, [&] { order.push_back(3); });
  });
  sim.schedule_at(1, [&] { order.push_back(2); });
  sim.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Simulator, CancelledEventsDoNotRun) {
  Simulator sim;
  int ran = 0;
  const EventId a = sim.schedule_at(10, [&] { ran += 1; });
  const EventId b = sim.schedule_at(20, [&] { ran += 10; });
  EXPECT_TRUE(sim.cancel(a));
  EXPECT_FALSE(sim.cancel(a));  // already cancelled
  EXPECT_EQ(sim.pending(), 1u);
  sim.run();
  EXPECT_EQ(ran, 10);
  EXPECT_FALSE(sim.cancel(b));  // already ran
  EXPECT_FALSE(sim.cancel(12345678));  // never existed
}

TEST(Simulator, StaleIdDoesNotCancelAReusedSlot) {
  Simulator sim;
  int ran = 0;
  const EventId a = sim.schedule_at(1, [&] { ran += 1; });
  sim.run();  // a ran; its slot is free
  sim.schedule_at(2, [&] { ran += 10; });  // reuses the slot
  EXPECT_FALSE(sim.cancel(a));
  sim.run();
  EXPECT_EQ(ran, 11);
}

TEST(Simulator, RunUntilStopsAtTheBoundary) {
  Simulator sim;
  std::vector<SimTime> times;
  for (SimTime t : {5, 10, 15, 20}) sim.schedule_at(t, [&times, &sim] { times.push_back(sim.now()); });
  sim.run_until(15);
  EXPECT_EQ(times, (std::vector<SimTime>{5, 10, 15}));
  EXPECT_EQ(sim.now(), 15);
  sim.run_until(17);
  EXPECT_EQ(sim.now(), 17);  // time advances to the boundary even without events
  EXPECT_TRUE(sim.step());
  EXPECT_EQ(times.back(), 20);
  EXPECT_FALSE(sim.step());
}

TEST(Simulator, NextTimeIsTheEarliestOtherEventOrJustPastTheRunUntilBound) {
  Simulator sim;
  EXPECT_EQ(sim.next_time(), kNever);
  std::vector<SimTime> seen;
  sim.schedule_at(30, [] {});
  sim.schedule_at(10, [&] { seen.push_back(sim.next_time()); });  // while it runs, 20 is the next
  sim.schedule_at(20, [&] { seen.push_back(sim.next_time()); });  // bounded by run_until(25): 26
  EXPECT_EQ(sim.next_time(), 10);
  sim.run_until(25);
  EXPECT_EQ(seen, (std::vector<SimTime>{20, 26}));
  EXPECT_EQ(sim.next_time(), 30);  // the bound ends with run_until
}

TEST(Simulator, SchedulingInThePastIsALogicError) {
  Simulator sim;
  sim.schedule_at(10, [] {});
  sim.run();
  EXPECT_THROW(sim.schedule_at(5, [] {}), std::logic_error);
}

namespace cancellation {
int checks = 0;
bool never() { return ++checks, false; }
bool after_three() { return ++checks >= 3; }

// A chain of `events` events, each scheduling the next.
std::uint64_t run_chain(engine::Simulator& sim, int events) {
  int left = events;
  std::function<void()> tick = [&] {
    if (--left > 0) sim.schedule_after(1, tick);
  };
  sim.schedule_after(0, tick);
  sim.run();
  return sim.events_run();
}
}  // namespace cancellation

TEST(Cancellation, TheEventLoopAsksTheFrontEndsCheckEvery256x64Events) {
  cancellation::checks = 0;
  {
    CancellationScope scope(&cancellation::never);
    engine::Simulator sim;
    EXPECT_EQ(cancellation::run_chain(sim, 100000), 100000u);
  }
  EXPECT_EQ(cancellation::checks, 100000 / (256 * 64));  // 6 checks in 100,000 events
  engine::Simulator sim;  // no scope: nothing asked, nothing thrown
  EXPECT_EQ(cancellation::run_chain(sim, 100000), 100000u);
  EXPECT_EQ(cancellation::checks, 6);
}

TEST(Cancellation, ACheckThatAnswersTrueStopsTheRun) {
  cancellation::checks = 0;
  CancellationScope scope(&cancellation::after_three);
  engine::Simulator sim;
  EXPECT_THROW(cancellation::run_chain(sim, 1000000), Cancelled);
  EXPECT_EQ(cancellation::checks, 3);
  EXPECT_EQ(sim.events_run(), 3u * 256 * 64);  // stopped at the third check, not at the end
}

TEST(SimTime, SecondsConversionRounds) {
  EXPECT_EQ(from_seconds(1.5e-9), 2);
  EXPECT_EQ(from_seconds(0.25), 250000000);
  EXPECT_EQ(from_seconds(-1.0), 0);
  EXPECT_DOUBLE_EQ(to_seconds(1500000000), 1.5);
}

}  // namespace
}  // namespace infersim::engine
