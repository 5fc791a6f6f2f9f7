#include "infersim/roofline/operator_table.hpp"

namespace infersim::roofline {

std::string_view to_string(Bound b) {
  switch (b) {
    case Bound::compute: return "compute";
    case Bound::memory: return "memory";
    case Bound::network: return "network";
  }
  return "?";
}

std::string_view to_string(Phase p) {
  switch (p) {
    case Phase::prefill: return "prefill";
    case Phase::decode: return "decode";
    case Phase::mixed: return "mixed";
  }
  return "?";
}

void OperatorTable::clear() {
  name.clear();
  phase.clear();
  op_class.clear();
  segment.clear();
  slot.clear();
  count.clear();
  flops_per_row.clear();
  bytes.clear();
  rows.clear();
  tile_rows.clear();
  seconds_per_flop.clear();
  seconds_per_byte.clear();
  overhead_s.clear();
  network.clear();
}

void OperatorTable::reserve(std::size_t n) {
  name.reserve(n);
  phase.reserve(n);
  op_class.reserve(n);
  segment.reserve(n);
  slot.reserve(n);
  count.reserve(n);
  flops_per_row.reserve(n);
  bytes.reserve(n);
  rows.reserve(n);
  tile_rows.reserve(n);
  seconds_per_flop.reserve(n);
  seconds_per_byte.reserve(n);
  overhead_s.reserve(n);
  network.reserve(n);
  time_s.reserve(n);
  intensity.reserve(n);
  bound.reserve(n);
}

void OperatorTable::push(const OperatorRow& r) {
  name.push_back(r.name);
  phase.push_back(r.phase);
  op_class.push_back(r.op_class);
  segment.push_back(r.segment);
  slot.push_back(r.slot);
  count.push_back(r.count);
  flops_per_row.push_back(static_cast<Real>(r.rows >= 1 ? r.flops / r.rows : r.flops));
  bytes.push_back(static_cast<Real>(r.bytes));
  rows.push_back(static_cast<Real>(r.rows));
  tile_rows.push_back(static_cast<Real>(r.tile_rows >= 1 ? r.tile_rows : 1.0));
  seconds_per_flop.push_back(static_cast<Real>(r.seconds_per_flop));
  seconds_per_byte.push_back(static_cast<Real>(r.seconds_per_byte));
  overhead_s.push_back(static_cast<Real>(r.overhead_s));
  network.push_back(r.network ? 1 : 0);
}

void OperatorTable::prepare_outputs() {
  time_s.resize(size());
  intensity.resize(size());
  bound.resize(size());
}

}  // namespace infersim::roofline
