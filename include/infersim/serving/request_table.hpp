#pragma once
// What the simulation knows of every request, indexed by request id: the workload's numbers and the
// times at which the simulation served it. Compact, because a run may hold ten million of them.

#include <cstdint>
#include <vector>

#include "infersim/engine/sim_time.hpp"

namespace infersim::serving {

struct RequestRecord {
  engine::SimTime arrival = 0;
  engine::SimTime first_scheduled = -1;  // first time any of its tokens was in a step
  engine::SimTime first_token = -1;
  engine::SimTime last_token = -1;
  engine::SimTime completion = -1;
  double cost_usd = 0;            // chip time of the steps it took part in, by its share of their tokens
  std::int32_t input_tokens = 1;
  std::int32_t output_tokens = 1;
  std::int32_t generated = 0;     // output tokens emitted so far
  std::int32_t transferred = 0;   // tokens whose KV arrived from another replica (disaggregated decode)
  std::int32_t preemptions = 0;
  std::int32_t replica = -1;
  std::int32_t cached_input = 0;  // prompt tokens its (last) admission found in the prefix cache

  bool done() const { return completion >= 0; }
};

using RequestTable = std::vector<RequestRecord>;

}  // namespace infersim::serving
