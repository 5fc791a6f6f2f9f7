#pragma once
// Factories of the built-in batching policies (one file each in src/serving/impl/).

#include <memory>

#include "infersim/serving/batch_scheduler.hpp"

namespace infersim::serving {

std::unique_ptr<BatchScheduler> make_static_scheduler(const SchedulerSpec& spec);
std::unique_ptr<BatchScheduler> make_continuous_scheduler(const SchedulerSpec& spec);
std::unique_ptr<BatchScheduler> make_chunked_prefill_scheduler(const SchedulerSpec& spec);
std::unique_ptr<BatchScheduler> make_inflight_scheduler(const SchedulerSpec& spec);
std::unique_ptr<BatchScheduler> make_chunked_prefill_unmixed_scheduler(const SchedulerSpec& spec);

/// The prefill half of a chunked-prefill step, shared by chunked_prefill and chunked_prefill_unmixed: chunks
/// of partly prefilled requests (oldest admission first), then new requests from the queue, each chunk cut
/// to what is left of `budget` tokens; blocks reserved per chunk. `partial` is scratch space.
void plan_prefill_chunks(SchedulerContext& ctx, StepPlan& plan, std::int64_t budget, std::vector<std::uint32_t>& partial);

/// Register every built-in policy: adding one is a new file plus one line here.
void register_builtin_schedulers(SchedulerRegistry& registry);

}  // namespace infersim::serving
