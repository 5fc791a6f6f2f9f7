#pragma once
// Cooperative cancellation of long computations, for front ends that embed the library (the Python module's
// Ctrl-C). Long loops (the event loop, the sweep's pool) call poll_cancellation(), which costs one relaxed
// atomic load and a counter (the event loop polls once every 256 events). A front end that wants to be able to stop them installs a
// CancellationCheck on the thread it calls from: every 64 polls on that thread (and at least each
// time the sweep's pool ticks) the check runs, and when it answers true every poll on every thread throws
// Cancelled until the scope ends. The command-line front end installs nothing (Ctrl-C ends the process).

#include <stdexcept>

namespace infersim {

/// Thrown by poll_cancellation() once a cancellation was requested. Not an input error: nothing catches it
/// but the front end that asked for it (sweeps do not turn it into an error row).
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("interrupted") {}
};

/// Installs `check` on the calling thread for the scope's lifetime and clears any earlier request. `check`
/// runs on that thread only (it may take a lock, e.g. Python's GIL); it returns true to cancel.
class CancellationScope {
 public:
  using Check = bool (*)();
  explicit CancellationScope(Check check);
  ~CancellationScope();
  CancellationScope(const CancellationScope&) = delete;
  CancellationScope& operator=(const CancellationScope&) = delete;

 private:
  Check previous_;
};

/// Throws Cancelled when cancellation was requested; every 64th call on a thread with a check installed runs
/// the check first.
void poll_cancellation();

/// Runs the calling thread's check now (when it has one), then as poll_cancellation(). For the places that
/// are reached a few times a second at most (a progress tick).
void check_cancellation_now();

}  // namespace infersim
