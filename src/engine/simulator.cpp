#include "infersim/engine/simulator.hpp"

#include <algorithm>
#include <stdexcept>

#include "infersim/core/cancel.hpp"
#include "infersim/core/check.hpp"

namespace infersim::engine {

// run() and run_until() poll for cancellation (core/cancel.hpp) once every this many events.
constexpr std::uint64_t kEventsPerCancellationPoll = 256;

// An EventId packs the low 32 bits of the event's sequence number (high half) and its slot (low half).
// cancel() accepts the id only while the slot still holds that event: a stale id (event already run or
// cancelled, slot reused) is rejected, barring a reuse of the same slot exactly 2^32 events later.
namespace {
constexpr std::uint64_t kLow32 = 0xffffffffULL;
EventId make_id(std::uint64_t seq, std::uint32_t slot) { return ((seq & kLow32) << 32) | slot; }
}  // namespace

EventId Simulator::schedule_at(SimTime at, Callback callback) {
  if (at < now_) throw std::logic_error("event scheduled in the past");
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  const std::uint64_t seq = next_seq_++;
  slots_[slot].callback = std::move(callback);
  slots_[slot].seq = seq;
  heap_.push_back(Entry{at, seq, slot});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  ++live_;
  return make_id(seq, slot);
}

bool Simulator::cancel(EventId id) {
  const auto slot = static_cast<std::uint32_t>(id & kLow32);
  const std::uint64_t seq_low = id >> 32;
  if (slot >= slots_.size() || slots_[slot].seq == 0 || (slots_[slot].seq & kLow32) != seq_low) return false;
  slots_[slot].seq = 0;  // tombstone: the heap entry no longer matches its slot
  slots_[slot].callback = nullptr;
  free_slots_.push_back(slot);
  --live_;
  return true;
}

void Simulator::pop_cancelled() {
  while (!heap_.empty()) {
    const Entry& top = heap_.front();
    if (slots_[top.slot].seq == top.seq) return;
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
}

bool Simulator::step() {
  pop_cancelled();
  if (heap_.empty()) return false;
  const Entry top = heap_.front();
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  heap_.pop_back();
  Callback cb = std::move(slots_[top.slot].callback);
  slots_[top.slot].seq = 0;
  slots_[top.slot].callback = nullptr;
  free_slots_.push_back(top.slot);
  --live_;
  INFERSIM_CHECK(top.time >= now_, "simulated time went backwards");
  now_ = top.time;
  ++events_run_;
  cb();
  return true;
}

EventId Simulator::schedule_after(SimTime delay, Callback callback) {
  if (delay < 0 || delay > kNever - now_) throw std::logic_error("event delay negative or beyond the end of time");
  return schedule_at(now_ + delay, std::move(callback));
}

void Simulator::run() {
  while (step()) {
    if (events_run_ % kEventsPerCancellationPoll == 0) poll_cancellation();
  }
}

SimTime Simulator::next_time() const {
  const SimTime pending = heap_.empty() ? kNever : heap_.front().time;
  return bound_ == kNever ? pending : std::min(pending, bound_ + 1);
}

void Simulator::run_until(SimTime until) {
  const SimTime outer = bound_;
  bound_ = std::min(until, outer);
  for (;;) {
    pop_cancelled();
    if (heap_.empty() || heap_.front().time > until) break;
    step();
    if (events_run_ % kEventsPerCancellationPoll == 0) poll_cancellation();
  }
  bound_ = outer;
  if (until > now_) now_ = until;
}

}  // namespace infersim::engine
