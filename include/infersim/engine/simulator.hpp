#pragma once
// The discrete-event engine. It knows only time and callbacks: no LLMs, requests or batches.
//
// Contract:
// - Events run in order of (time, sequence number); the sequence number is the order of scheduling, so
//   events at the same time run first-scheduled first (FIFO), deterministically.
// - A callback may schedule and cancel events, at the current time or later; scheduling in the past (or past
//   kNever) is a logic error (std::logic_error). Time never goes backwards (checked as events run).
// - cancel() is O(1) (a tombstone); cancelled events are skipped when they reach the top of the heap.
// - now() is the time of the event being run (or of the last one run).

#include <cstdint>
#include <functional>
#include <vector>

#include "infersim/engine/sim_time.hpp"

namespace infersim::engine {

using EventId = std::uint64_t;

class Simulator {
 public:
  using Callback = std::function<void()>;

  SimTime now() const { return now_; }

  /// Run `callback` at absolute time `at` (>= now()). Returns an id for cancel().
  EventId schedule_at(SimTime at, Callback callback);
  /// Run `callback` `delay` (>= 0) nanoseconds from now; a time past kNever is a logic error.
  EventId schedule_after(SimTime delay, Callback callback);
  /// Cancel a pending event; returns false if it already ran, was cancelled, or never existed.
  bool cancel(EventId id);

  /// Run the next pending event; false when there is none.
  bool step();
  /// Run until no events remain. Both run() and run_until() poll for cancellation (core/cancel.hpp) every 256
  /// events and throw Cancelled when a front end asked for it.
  void run();
  /// Run every event with time <= `until`, then set now() to `until` (if later than the last event).
  void run_until(SimTime until);

  /// The earliest time another event can run: that of the earliest pending event (kNever when none; a
  /// cancelled one may make it earlier than needed, never later), or just past run_until's bound. An event
  /// that would fall strictly before it, scheduled by the running callback as its last act, would run next
  /// with nothing in between, so that callback may do the event's work itself (the serving replica's runs
  /// of decode steps).
  SimTime next_time() const;
  std::size_t pending() const { return live_; }
  std::uint64_t events_run() const { return events_run_; }

 private:
  struct Entry {
    SimTime time;
    std::uint64_t seq;
    std::uint32_t slot;  // index into slots_
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.time != b.time ? a.time > b.time : a.seq > b.seq;
    }
  };
  struct Slot {
    Callback callback;
    std::uint64_t seq = 0;  // sequence number of the event occupying the slot (0 = free)
  };

  void pop_cancelled();

  SimTime now_ = 0;
  SimTime bound_ = kNever;  // run_until: events past this do not run
  std::uint64_t next_seq_ = 1;
  std::uint64_t events_run_ = 0;
  std::size_t live_ = 0;
  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
};

}  // namespace infersim::engine
