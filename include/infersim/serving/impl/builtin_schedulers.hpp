#pragma once
// Factories of the built-in batching policies (one file each in src/serving/impl/).

#include <memory>

#include "infersim/serving/batch_scheduler.hpp"

namespace infersim::serving {

std::unique_ptr<BatchScheduler> make_static_scheduler(const SchedulerSpec& spec);
std::unique_ptr<BatchScheduler> make_continuous_scheduler(const SchedulerSpec& spec);
std::unique_ptr<BatchScheduler> make_chunked_prefill_scheduler(const SchedulerSpec& spec);
std::unique_ptr<BatchScheduler> make_inflight_scheduler(const SchedulerSpec& spec);

/// Register every built-in policy: adding one is a new file plus one line here.
void register_builtin_schedulers(SchedulerRegistry& registry);

}  // namespace infersim::serving
