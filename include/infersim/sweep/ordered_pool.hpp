#pragma once
// ordered_parallel_map: compute work(i) for i in [0, count) on `jobs` threads and hand every result to
// sink(i, result) on the calling thread in ascending i, whatever order they finish in.
//
// Memory is bounded: a worker starts item i only once every item before i - window has been handed to the
// sink, so at most `window` results wait (window = 16 per job). The item the sink waits for is always being
// computed, so this cannot deadlock. While it waits, tick() runs on the calling thread about five times a
// second (for a progress display). An exception from work(i) is rethrown from the calling thread when i's
// turn comes; an exception from sink or tick stops the workers and propagates. With jobs <= 1 everything
// runs on the calling thread.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace infersim::sweep {

template <typename Work, typename Sink, typename Tick>
void ordered_parallel_map(std::size_t count, unsigned jobs, Work&& work, Sink&& sink, Tick&& tick) {
  using Result = std::invoke_result_t<Work&, std::size_t>;
  if (jobs <= 1 || count <= 1) {
    for (std::size_t i = 0; i < count; ++i) sink(i, work(i));
    return;
  }
  if (jobs > count) jobs = static_cast<unsigned>(count);
  const std::size_t window = 16 * static_cast<std::size_t>(jobs);
  struct Slot {
    std::optional<Result> result;
    std::exception_ptr error;
    bool ready = false;
  };
  std::vector<Slot> slots(window);
  std::mutex mutex;
  std::condition_variable to_workers, to_caller;
  std::size_t next = 0, handed = 0;
  bool stop = false;

  auto worker = [&] {
    for (;;) {
      std::size_t i = 0;
      {
        std::unique_lock lock(mutex);
        to_workers.wait(lock, [&] { return stop || next >= count || next < handed + window; });
        if (stop || next >= count) return;
        i = next++;
      }
      Slot done;
      try {
        done.result.emplace(work(i));
      } catch (...) {
        done.error = std::current_exception();
      }
      done.ready = true;
      {
        std::lock_guard lock(mutex);
        slots[i % window] = std::move(done);
      }
      to_caller.notify_one();
    }
  };

  std::vector<std::thread> threads;
  struct Joiner {
    std::vector<std::thread>& threads;
    std::mutex& mutex;
    std::condition_variable& to_workers;
    bool& stop;
    ~Joiner() {
      {
        std::lock_guard lock(mutex);
        stop = true;
      }
      to_workers.notify_all();
      for (auto& t : threads) t.join();
    }
  } joiner{threads, mutex, to_workers, stop};
  for (unsigned t = 0; t < jobs; ++t) threads.emplace_back(worker);

  for (std::size_t i = 0; i < count; ++i) {
    Slot slot;
    {
      std::unique_lock lock(mutex);
      while (!slots[i % window].ready) {
        if (to_caller.wait_for(lock, std::chrono::milliseconds(200)) == std::cv_status::timeout) {
          lock.unlock();
          tick();
          lock.lock();
        }
      }
      slot = std::move(slots[i % window]);
      slots[i % window] = Slot{};
    }
    if (slot.error) std::rethrow_exception(slot.error);
    sink(i, std::move(*slot.result));
    {
      std::lock_guard lock(mutex);
      ++handed;
    }
    to_workers.notify_all();
  }
}

}  // namespace infersim::sweep
