#pragma once
// Warnings: a scenario that runs but is unusual enough that its numbers may mislead, said on stderr by
// `infersim run` and listed in the report's `warnings` (docs/reliability.md).

#include <string>
#include <vector>

#include "infersim/scenario/scenario_spec.hpp"
#include "infersim/serving/simulation.hpp"

namespace infersim::scenario {

/// One sentence per finding, naming the key to change: trace rows skipped or sorted while loading, a request longer than the model's context window,
/// tensor parallelism across scale-up domains, a step token budget smaller than a prompt (a scheduler
/// without chunked prefill then runs the whole prompt in one step anyway), a draft model whose vocabulary
/// differs from the target's, a cost from a profile price that is undated or not on-demand.
std::vector<std::string> scenario_warnings(const ScenarioSpec& sc, const serving::SimulationResult& r);

}  // namespace infersim::scenario
