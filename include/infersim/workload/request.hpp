#pragma once
// A request as the workload generates it: when it arrives and how many tokens it reads and writes.

#include <cstdint>

#include "infersim/engine/sim_time.hpp"

namespace infersim::workload {

struct Request {
  std::uint64_t id = 0;         // 0, 1, 2, ... in arrival order
  engine::SimTime arrival = 0;  // ns
  std::int64_t input_tokens = 1;
  std::int64_t output_tokens = 1;
};

}  // namespace infersim::workload
