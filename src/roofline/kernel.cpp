#include "infersim/roofline/kernel.hpp"

#include <algorithm>
#include <cmath>

#include <Eigen/Core>

namespace infersim::roofline {

namespace {

// The kernel is one fused pass over the columns, written with Eigen's SIMD packet primitives (the ones its
// array expressions are built from): each operator's inputs are loaded once and time, intensity and the
// compute-vs-memory flag come out of the same registers. Separate Eigen array expressions would make one
// pass per output and re-read the inputs; measured in bench/roofline_bench.cpp, fusing is ~1.6x faster.
using Packet = Eigen::internal::packet_traits<Real>::type;
constexpr Eigen::Index kLanes = Eigen::internal::packet_traits<Real>::size;
constexpr Eigen::Index kBlock = 256;  // operators per block: the flags of a block stay in L1

/// One operator, scalar: the same formula for the tail of a block that does not fill a packet.
inline void evaluate_one(const KernelColumns& c, Eigen::Index i, Real& memory_flag) {
  const Real rows = c.rows[i];
  const Real tile = c.tile_rows[i];
  const Real padded_rows = std::max(std::ceil(rows / tile) * tile, Real{1});
  const Real fpr = c.flops_per_row[i];
  const Real compute = fpr * padded_rows * c.seconds_per_flop[i];
  const Real bytes = c.bytes[i];
  const Real transfer = bytes * c.seconds_per_byte[i];
  c.time_s[i] = std::max(compute, transfer) + c.overhead_s[i];
  c.intensity[i] = fpr * std::max(rows, Real{1}) * std::min(bytes, Real{1}) / std::max(bytes, Real{1});
  memory_flag = compute < transfer ? Real{1} : Real{0};
}

}  // namespace

void evaluate_roofline(const KernelColumns& c) {
  namespace ei = Eigen::internal;
  const auto n = static_cast<Eigen::Index>(c.flops_per_row.size());
  const Packet one = ei::pset1<Packet>(Real{1});
  alignas(64) Real memory_flag[kBlock];

  for (Eigen::Index begin = 0; begin < n; begin += kBlock) {
    const Eigen::Index end = std::min(begin + kBlock, n);
    Eigen::Index i = begin;
    for (; i + kLanes <= end; i += kLanes) {
      const Packet rows = ei::ploadu<Packet>(&c.rows[i]);
      // Tile quantization: rows padded up to whole tiles of the operator's own kernel; max(., 1) counts
      // non-GEMMs (rows == 0) once.
      const Packet tile = ei::ploadu<Packet>(&c.tile_rows[i]);
      const Packet padded_rows = ei::pmax(ei::pmul(ei::pceil(ei::pdiv(rows, tile)), tile), one);
      const Packet fpr = ei::ploadu<Packet>(&c.flops_per_row[i]);
      const Packet compute = ei::pmul(ei::pmul(fpr, padded_rows), ei::ploadu<Packet>(&c.seconds_per_flop[i]));
      const Packet bytes = ei::ploadu<Packet>(&c.bytes[i]);
      const Packet transfer = ei::pmul(bytes, ei::ploadu<Packet>(&c.seconds_per_byte[i]));
      ei::pstoreu(&c.time_s[i], ei::padd(ei::pmax(compute, transfer), ei::ploadu<Packet>(&c.overhead_s[i])));
      // FLOPs / bytes, and 0 when no bytes move (bytes are whole numbers: 0 or >= 1).
      ei::pstoreu(&c.intensity[i], ei::pdiv(ei::pmul(ei::pmul(fpr, ei::pmax(rows, one)), ei::pmin(bytes, one)),
                                            ei::pmax(bytes, one)));
      ei::pstore(&memory_flag[i - begin], ei::pand(ei::pcmp_lt(compute, transfer), one));
    }
    for (; i < end; ++i) evaluate_one(c, i, memory_flag[i - begin]);

    // Bound: 0 compute, 1 memory, 2 network (branch-free, vectorized by the compiler).
    const std::uint8_t* __restrict net = c.network.data() + begin;
    std::uint8_t* __restrict bound = c.bound.data() + begin;
    for (Eigen::Index j = 0; j < end - begin; ++j) {
      const auto memory = static_cast<std::uint8_t>(memory_flag[j]);
      bound[j] = static_cast<std::uint8_t>(memory + net[j] * (2 - memory));
    }
  }
}

void evaluate_roofline(OperatorTable& t) {
  t.prepare_outputs();
  KernelColumns c{t.flops_per_row, t.bytes, t.rows, t.tile_rows, t.seconds_per_flop, t.seconds_per_byte, t.overhead_s,
                  t.network, t.time_s, t.intensity, t.bound};
  evaluate_roofline(c);
}

}  // namespace infersim::roofline
