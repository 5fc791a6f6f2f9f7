#pragma once
// The Pareto frontier of a sweep over two metrics (`sweep --pareto X,Y`): the rows that no other row beats
// on both. Each metric is minimized unless prefixed with "max:" (or "-"), e.g.
// `--pareto metrics.cost.usd_per_million_output_tokens,metrics.ttft_s.p99` or
// `--pareto cost.usd_per_million_output_tokens,max:throughput.output_tokens_per_s`.
//
// Row a dominates row b when a is at least as good on both metrics and better on one. Rows with an error or
// without a value for either metric take no part. The frontier is kept as rows arrive, so memory is that
// of the frontier, not of the sweep; it is the same set whatever order rows arrive in.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "infersim/sweep/rows.hpp"

namespace infersim::sweep {

struct Objective {
  std::string column;
  bool maximize = false;
};

/// Parse "X,Y" (each optionally "max:X", "-X" or "min:X"). Throws UsageError.
std::vector<Objective> parse_objectives(const std::string& text);

/// The frontier of points (x, y), both minimized.
class ParetoFront {
 public:
  struct Entry {
    double x, y;
    std::size_t point;
    std::string row;
  };
  /// Add a point; kept when nothing added so far dominates it, and then it drops those it dominates.
  void add(double x, double y, std::size_t point, std::string row);
  /// The frontier, by ascending x, then y, then point.
  std::vector<Entry> entries() const;

 private:
  std::vector<Entry> front_;
};

/// The frontier of a sweep's rows over two objectives, fed one row at a time.
class ParetoCollector {
 public:
  /// Throws UsageError when a column is not one of the layout's, naming the closest.
  ParetoCollector(const RowLayout& layout, const std::vector<Objective>& objectives);
  void add_row(std::size_t point, std::string_view row);
  /// The frontier as a file of the layout's format: the CSV header, then the rows by ascending X.
  std::string text() const;
  std::size_t size() const { return front_.entries().size(); }

 private:
  const RowLayout& layout_;
  std::size_t x_, y_;
  bool x_max_, y_max_;
  ParetoFront front_;
};

}  // namespace infersim::sweep
