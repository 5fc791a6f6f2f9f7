#pragma once
// Latency statistics (docs/metrics.md). Percentiles are exact: every per-request value is kept, and
// inter-token gaps, which are shared by all requests of a step, are kept as (gap, count) runs. A
// percentile is NumPy's default: linear interpolation between the two closest ranks.

#include <cstdint>
#include <vector>

#include "infersim/engine/sim_time.hpp"

namespace infersim::serving {

struct Distribution {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
  std::uint64_t count = 0;
};

/// Exact summary of `values` (reordered in place; O(n) selection, no full sort). Empty input: all zero.
Distribution summarize(std::vector<double>& values);
/// p-th percentile (0..100) of sorted values, linear interpolation.
double percentile_sorted(const std::vector<double>& sorted, double p);

/// Inter-token gaps as (gap, how many tokens had it) runs. A run is added per step, so a long run at low load
/// (a few requests per step) would keep ~16 bytes per step; past kCompactAt runs they are sorted and runs of
/// equal gaps merged (exact: the multiset is unchanged), so memory follows the distinct gaps instead. A
/// compaction sorts only the runs added since the last one and merges them into the runs it left sorted
/// (at least half of kCompactAt runs are new: linear time per run added, a few MB at most beyond them).
class GapRecorder {
 public:
  explicit GapRecorder(std::size_t compact_at = kCompactAt) : compact_at_(compact_at), min_compact_at_(compact_at) {}
  void add(engine::SimTime gap, std::uint64_t count = 1) {
    if (!runs_.empty() && runs_.back().gap == gap) {
      runs_.back().count += count;
    } else {
      runs_.push_back({gap, count});
      if (runs_.size() >= compact_at_) compact();
    }
  }
  /// Exact summary in seconds (reorders the runs).
  Distribution summarize();
  std::uint64_t total() const;
  std::size_t runs() const { return runs_.size(); }

  static constexpr std::size_t kCompactAt = std::size_t{1} << 17;  // 2 MB of runs

 private:
  struct Run {
    engine::SimTime gap;
    std::uint64_t count;
  };
  /// Sort the runs by gap and merge equal gaps: the new runs by a radix sort (linear), then merged with the
  /// sorted ones.
  void compact();
  std::vector<Run> runs_;       // runs_[0, sorted_): sorted by gap, one run per gap; then the runs added since
  std::size_t sorted_ = 0;
  std::vector<Run> scratch_, merged_;  // of compact(), kept: allocating them each time costs page faults
  std::size_t compact_at_, min_compact_at_;
};

}  // namespace infersim::serving
