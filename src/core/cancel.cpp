#include "infersim/core/cancel.hpp"

#include <atomic>
#include <cstdint>

namespace infersim {

namespace {

std::atomic<bool> g_requested{false};
thread_local CancellationScope::Check t_check = nullptr;
thread_local std::uint32_t t_polls = 0;
constexpr std::uint32_t kPollsPerCheck = 64;

void run_check() {
  if (t_check && t_check()) g_requested.store(true, std::memory_order_relaxed);
}

}  // namespace

CancellationScope::CancellationScope(Check check) : previous_(t_check) {
  t_check = check;
  t_polls = 0;
  g_requested.store(false, std::memory_order_relaxed);
}

CancellationScope::~CancellationScope() {
  t_check = previous_;
  g_requested.store(false, std::memory_order_relaxed);
}

void poll_cancellation() {
  if (t_check && ++t_polls % kPollsPerCheck == 0) run_check();
  if (g_requested.load(std::memory_order_relaxed)) throw Cancelled();
}

void check_cancellation_now() {
  run_check();
  if (g_requested.load(std::memory_order_relaxed)) throw Cancelled();
}

}  // namespace infersim
