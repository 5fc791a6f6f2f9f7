#include "infersim/serving/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace infersim::serving {

double percentile_sorted(const std::vector<double>& v, double p) {
  if (v.empty()) return 0.0;
  const double pos = p / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return v[lo] + (v[hi] - v[lo]) * frac;
}

namespace {

/// p-th percentile (linear interpolation between closest ranks) by selection: O(n), reorders `v`. `from`: no
/// rank below it is selected (the values before it are the smallest, from a selection at a lower
/// percentile), so the selection covers [from, end) only; moved up to this percentile's rank.
double select_percentile(std::vector<double>& v, double p, std::size_t& from) {
  const double pos = p / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  std::nth_element(v.begin() + static_cast<std::ptrdiff_t>(from), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  from = lo;
  const double a = v[lo];
  if (lo + 1 >= v.size()) return a;
  const double b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
  return a + (b - a) * (pos - static_cast<double>(lo));
}

}  // namespace

Distribution summarize(std::vector<double>& values) {
  Distribution d;
  if (values.empty()) return d;
  double sum = 0, max = values.front();
  for (double v : values) {
    sum += v;
    max = std::max(max, v);
  }
  d.count = values.size();
  d.mean = sum / static_cast<double>(values.size());
  std::size_t from = 0;  // each percentile selects among the values above the one before
  d.p50 = select_percentile(values, 50, from);
  d.p90 = select_percentile(values, 90, from);
  d.p99 = select_percentile(values, 99, from);
  d.max = max;
  return d;
}

namespace {

/// Sort `n` runs at `a` by gap, stably, using `b` (as large) as scratch; returns where they are sorted (a or b).
/// LSD radix sort on the gap (non-negative nanoseconds), a byte at a time: one pass counts every byte's
/// histogram, then one scatter per byte that is not the same in every run (most gaps fit in 3-5 bytes).
template <typename Run>
Run* radix_sort(Run* a, Run* b, std::size_t n) {
  std::size_t counts[8][256] = {};
  for (std::size_t i = 0; i < n; ++i) {
    auto g = static_cast<std::uint64_t>(a[i].gap);
    for (int k = 0; k < 8; ++k, g >>= 8) ++counts[k][g & 0xff];
  }
  for (int k = 0; k < 8; ++k) {
    std::size_t* c = counts[k];
    if (std::find(c, c + 256, n) != c + 256) continue;  // the same byte everywhere
    std::size_t sum = 0;
    for (int v = 0; v < 256; ++v) sum += std::exchange(c[v], sum);
    const int shift = 8 * k;
    for (std::size_t i = 0; i < n; ++i) b[c[(static_cast<std::uint64_t>(a[i].gap) >> shift) & 0xff]++] = a[i];
    std::swap(a, b);
  }
  return a;
}

}  // namespace

void GapRecorder::compact() {
  // The runs before sorted_ are sorted with one run per gap (what the last compaction left); sort the ones
  // added since, then merge the two, adding the counts of equal gaps.
  const std::size_t fresh = runs_.size() - sorted_;
  scratch_.resize(fresh);
  const Run* added = radix_sort(runs_.data() + sorted_, scratch_.data(), fresh);
  merged_.clear();
  merged_.reserve(runs_.size());
  auto push = [this](const Run& r) {
    if (!merged_.empty() && merged_.back().gap == r.gap) {
      merged_.back().count += r.count;
    } else {
      merged_.push_back(r);
    }
  };
  std::size_t i = 0, j = 0;
  while (i < sorted_ && j < fresh) push(runs_[i].gap <= added[j].gap ? runs_[i++] : added[j++]);
  while (i < sorted_) push(runs_[i++]);
  while (j < fresh) push(added[j++]);
  runs_.swap(merged_);
  sorted_ = runs_.size();
  // Compact again when the runs have doubled, so that sorting costs O(1) per run added.
  compact_at_ = std::max(min_compact_at_, 2 * runs_.size());
}

std::uint64_t GapRecorder::total() const {
  std::uint64_t n = 0;
  for (const auto& r : runs_) n += r.count;
  return n;
}

namespace {

/// The gap at 0-based rank k of the runs expanded into one sorted list: weighted quickselect, O(n) expected.
template <typename Run>
engine::SimTime gap_at_rank(std::vector<Run>& runs, std::uint64_t k) {
  std::size_t lo = 0, hi = runs.size();
  for (;;) {
    const std::size_t mid = lo + (hi - lo) / 2;
    std::nth_element(runs.begin() + static_cast<std::ptrdiff_t>(lo), runs.begin() + static_cast<std::ptrdiff_t>(mid),
                     runs.begin() + static_cast<std::ptrdiff_t>(hi), [](const Run& a, const Run& b) { return a.gap < b.gap; });
    std::uint64_t left = 0;
    for (std::size_t i = lo; i < mid; ++i) left += runs[i].count;
    if (k < left) {
      hi = mid;
    } else if (k < left + runs[mid].count) {
      return runs[mid].gap;
    } else {
      k -= left + runs[mid].count;
      lo = mid + 1;
    }
  }
}

}  // namespace

Distribution GapRecorder::summarize() {
  Distribution d;
  const std::uint64_t n = total();
  if (n == 0) return d;
  sorted_ = 0;  // the selections below reorder the runs
  double sum = 0;
  engine::SimTime max = runs_.front().gap;
  for (const auto& r : runs_) {
    sum += engine::to_seconds(r.gap) * static_cast<double>(r.count);
    max = std::max(max, r.gap);
  }
  auto pct = [&](double p) {
    const double pos = p / 100.0 * static_cast<double>(n - 1);
    const auto lo = static_cast<std::uint64_t>(std::floor(pos));
    const double a = engine::to_seconds(gap_at_rank(runs_, lo));
    const double b = engine::to_seconds(gap_at_rank(runs_, std::min(lo + 1, n - 1)));
    return a + (b - a) * (pos - static_cast<double>(lo));
  };
  d.count = n;
  d.mean = sum / static_cast<double>(n);
  d.p50 = pct(50);
  d.p90 = pct(90);
  d.p99 = pct(99);
  d.max = engine::to_seconds(max);
  return d;
}

}  // namespace infersim::serving
