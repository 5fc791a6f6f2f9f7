#pragma once
// Warnings: a scenario that runs but is unusual enough that its numbers may mislead, said on stderr by
// `infersim run` and listed in the report's `warnings` (docs/reliability.md).

#include <optional>
#include <string>
#include <vector>

#include "infersim/scenario/scenario_spec.hpp"
#include "infersim/serving/simulation.hpp"

namespace infersim::scenario {

/// How the queue moved over an open-loop run: requests in arrival order, split in quarters; the median wait
/// before a request's first step (first_scheduled - arrival) of the first and the last quarter, the median
/// arrival times of the two, and their ratio: growth = (wait_last - wait_first) / (arrival_last -
/// arrival_first). A stable queue (offered load below capacity) keeps its median wait whatever the run length,
/// growth ~0. Arrivals at rate lambda into a server of capacity mu < lambda leave a backlog of (lambda - mu) t
/// requests at time t, which a request arriving then waits out at rate mu: growth ~ lambda / mu - 1 (FIFO).
/// Empty with fewer than 40 scheduled requests or arrivals spanning no time.
struct QueueGrowth {
  double wait_first_s = 0, wait_last_s = 0;
  double arrival_first_s = 0, arrival_last_s = 0;
  double growth = 0;
  double offered_per_s = 0;  // requests over the span of their arrivals
  double served_per_s = 0;   // requests over the span from the first arrival to the last completion
};
std::optional<QueueGrowth> queue_growth(const serving::RequestTable& requests);
/// queue_growth of a run whose arrivals are open-loop (Poisson, constant, gamma, a trace); empty for offline
/// batches and closed-loop clients, whose queue cannot outgrow the system. The report's metrics.queue_growth.
std::optional<QueueGrowth> open_loop_queue_growth(const ScenarioSpec& sc, const serving::SimulationResult& r);
/// The queue grew through the run (open-loop arrivals only): growth of at least this and the last quarter
/// waiting at least kQueueGrowthMinExtraWaitS longer than the first.
inline constexpr double kQueueGrowthWarning = 0.05;
inline constexpr double kQueueGrowthMinExtraWaitS = 1.0;
/// Both of the above: the run warns, and `plan` does not take such a fleet as meeting its SLO.
inline bool outgrows_system(const QueueGrowth& g) {
  return g.growth >= kQueueGrowthWarning && g.wait_last_s - g.wait_first_s >= kQueueGrowthMinExtraWaitS;
}

/// The KV cache's share of a chip's usable memory below which a CUDA-graph engine's pool warns that the memory
/// it holds outside the cache (graph pools, sampler buffers, kernel weight layouts), which the memory plan does
/// not price, can shrink the cache several-fold: gpt-oss-120b on one H100 leaves 13% (10 GB) in the model where
/// vLLM's logs leave a few GiB (docs/accuracy.md, 'gpt-oss-120b on one H100').
inline constexpr double kTightKvShareOfBudget = 0.25;
/// The warning for one pool whose KV cache is below kTightKvShareOfBudget of its chips' usable memory; empty
/// otherwise, for engines that capture no CUDA graphs at run time (eager ones, and statically compiled programs,
/// whose eager launch cost is 0) and for hybrid CPU/GPU placements.
std::optional<std::string> tight_memory_warning(const serving::PoolSpec& pool, const serving::PoolResult& result);

/// One sentence per finding, naming the key to change: trace rows skipped or sorted while loading, a request longer than the model's context window,
/// tensor parallelism across scale-up domains, a step token budget smaller than a prompt (a scheduler
/// without chunked prefill then runs the whole prompt in one step anyway), a draft model whose vocabulary
/// differs from the target's, a cost from a profile price that is undated or not on-demand, open-loop
/// arrivals that outpace the system (queue_growth).
std::vector<std::string> scenario_warnings(const ScenarioSpec& sc, const serving::SimulationResult& r);

}  // namespace infersim::scenario
