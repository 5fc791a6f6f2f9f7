#pragma once
// The roofline formula written as a plain scalar loop over one operator at a time: the reference the
// vectorized kernel (src/roofline/kernel.cpp) is checked against, and the baseline of bench/.

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace infersim::testing {

/// One operator as the kernel's columns hold it: `flops` per GEMM row when rows >= 1, else all FLOPs; rows
/// padded to a multiple of `tile_rows`.
struct ScalarOp {
  float flops, bytes, rows, tile_rows, seconds_per_flop, seconds_per_byte, overhead_s;
  bool network;
};

struct ScalarResult {
  float time_s, intensity;
  std::uint8_t bound;  // 0 compute, 1 memory, 2 network
};

inline ScalarResult scalar_roofline(const ScalarOp& op) {
  float padded = op.flops;
  float total = op.flops;
  if (op.rows > 0) {
    const float tile = op.tile_rows >= 1.0f ? op.tile_rows : 1.0f;
    padded = op.flops * (std::ceil(op.rows / tile) * tile);
    total = op.flops * op.rows;
  }
  const float compute = padded * op.seconds_per_flop;
  const float transfer = op.bytes * op.seconds_per_byte;
  ScalarResult r{};
  r.time_s = std::max(compute, transfer) + op.overhead_s;
  r.intensity = op.bytes > 0 ? total / op.bytes : 0.0f;  // (bytes are 0 or >= 1)
  if (op.network) {
    r.bound = 2;
  } else {
    r.bound = compute >= transfer ? 0 : 1;
  }
  return r;
}

}  // namespace infersim::testing
