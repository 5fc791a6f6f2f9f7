#pragma once
// The operators of one batch step as a structure of arrays: the input of the roofline kernel and its output.
// Columns are std::vector so that a table is filled in place, step after step, without reallocating.
// The kernel's columns are single precision (Real): half the memory traffic of double, twice the SIMD
// lanes, and a relative rounding of 6e-8, far below any modelling error; sums over operators are double.

#include <cstdint>
#include <string_view>
#include <vector>

namespace infersim::roofline {

enum class Bound : std::uint8_t { compute = 0, memory = 1, network = 2 };
std::string_view to_string(Bound b);

enum class Phase : std::uint8_t { prefill, decode, mixed };
std::string_view to_string(Phase p);

// all_to_all: the expert-parallel dispatch and combine, which two-batch overlap hides behind compute.
enum class OpClass : std::uint8_t { gemm, attention, elementwise, collective, transfer, all_to_all };

/// Where in the pipeline an operator runs: in every layer, once on the first stage (embedding), once on
/// the last stage (LM head, sampling), or between stages.
enum class Segment : std::uint8_t { layers, first_stage, last_stage, stage_boundary };

/// Which piece of a MoE layer an operator belongs to under two-batch overlap: the attention side (everything
/// before the dispatch: norms, attention, projections, router), the dispatch, the expert side (routed and shared
/// expert GEMMs and their activation) and the combine. Each piece of one micro-batch overlaps a piece of the
/// other (overlap_two_batches).
enum class MoeSlot : std::uint8_t { attention_side, dispatch, expert_side, combine };

/// One operator as appended by the step builder (per instance; `count` instances per step on one chip).
struct OperatorRow {
  std::string_view name;  // static string
  Phase phase = Phase::mixed;
  OpClass op_class = OpClass::elementwise;
  Segment segment = Segment::layers;
  MoeSlot slot = MoeSlot::attention_side;
  double count = 1;             // instances per step on one chip (e.g. layers per pipeline stage)
  double flops = 0;             // per instance, unpadded
  double bytes = 0;             // per instance: memory traffic, or bytes sent for network operators
  double rows = 0;              // GEMM token dimension M (padded to the tile in the kernel); 0 = no padding
  double tile_rows = 1;         // GEMM rows are padded to a multiple of this (the kernel's tile M; 1 = none)
  double seconds_per_flop = 0;  // 1 / (peak rate of the operator's data type x compute efficiency)
  double seconds_per_byte = 0;  // 1 / (memory or link bandwidth x efficiency)
  double overhead_s = 0;        // launch overhead, or collective step latencies
  bool network = false;         // bytes move over a link (bound = network)
};

/// Element type of the kernel's columns.
using Real = float;

struct OperatorTable {
  // Descriptive columns (not read by the kernel).
  std::vector<std::string_view> name;
  std::vector<Phase> phase;
  std::vector<OpClass> op_class;
  std::vector<Segment> segment;
  std::vector<MoeSlot> slot;
  std::vector<double> count;                   // instances per step (descriptive: the kernel prices one)
  // Kernel inputs.
  // flops_per_row: FLOPs of one GEMM row when rows >= 1 (the kernel multiplies it by the padded rows), else all
  // FLOPs. tile_rows: each operator's own tile (>= 1), as GEMM kernels pick their tile by weight type and shape.
  std::vector<Real> flops_per_row, bytes, rows, tile_rows, seconds_per_flop, seconds_per_byte, overhead_s;
  std::vector<std::uint8_t> network;
  // Kernel outputs (per instance).
  std::vector<Real> time_s, intensity;
  std::vector<std::uint8_t> bound;

  std::size_t size() const { return flops_per_row.size(); }
  /// Unpadded FLOPs of one instance of operator i.
  double flops(std::size_t i) const {
    return static_cast<double>(flops_per_row[i]) * (rows[i] >= 1 ? static_cast<double>(rows[i]) : 1.0);
  }
  void clear();
  void reserve(std::size_t n);
  void push(const OperatorRow& row);
  /// Size the output columns to the inputs (the kernel expects it).
  void prepare_outputs();
};

}  // namespace infersim::roofline
