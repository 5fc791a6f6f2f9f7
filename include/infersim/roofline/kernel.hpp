#pragma once
// The roofline kernel: prices operators in one vectorized pass (Eigen arrays).
//
//   padded_flops = flops_per_row * ceil(rows / tile_rows) * tile_rows
//                  (rows >= 1: tile quantization of small GEMMs, each operator with its kernel's tile;
//                   = flops_per_row when rows == 0, for operators that are not GEMMs)
//   compute_s    = padded_flops * seconds_per_flop
//   transfer_s   = bytes * seconds_per_byte
//   time_s       = max(compute_s, transfer_s) + overhead_s
//   bound        = network if the operator moves bytes over a link, else compute if compute_s >= transfer_s,
//                  else memory
//   intensity    = flops_per_row * max(rows, 1) / bytes (0 when no bytes move)
//
// Inputs and outputs are columns of equal length n. `rows` is 0 (not a GEMM) or >= 1; `tile_rows` >= 1;
// `bytes` is 0 or >= 1.
// Storing FLOPs per row lets the kernel pad by multiplying one row's FLOPs by the padded row count.
// The function is pure: same inputs, same outputs.

#include <cstdint>
#include <span>

#include "infersim/roofline/operator_table.hpp"

namespace infersim::roofline {

struct KernelColumns {
  std::span<const Real> flops_per_row, bytes, rows, tile_rows, seconds_per_flop, seconds_per_byte, overhead_s;
  std::span<const std::uint8_t> network;
  std::span<Real> time_s, intensity;
  std::span<std::uint8_t> bound;
};

void evaluate_roofline(const KernelColumns& c);

/// Convenience: run the kernel over a whole table.
void evaluate_roofline(OperatorTable& table);

}  // namespace infersim::roofline
