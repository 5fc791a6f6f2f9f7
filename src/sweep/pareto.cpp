#include "infersim/sweep/pareto.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "infersim/core/error.hpp"
#include "infersim/core/strings.hpp"

namespace infersim::sweep {

std::vector<Objective> parse_objectives(const std::string& text) {
  std::vector<Objective> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    Objective o;
    if (part.starts_with("max:")) {
      o.maximize = true;
      part = part.substr(4);
    } else if (part.starts_with("-")) {
      o.maximize = true;
      part = part.substr(1);
    } else if (part.starts_with("min:")) {
      part = part.substr(4);
    }
    o.column = part;
    out.push_back(o);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (out.size() != 2 || out[0].column.empty() || out[1].column.empty()) {
    throw UsageError("--pareto " + text + ": expected two metrics X,Y, e.g. --pareto "
                     "metrics.cost.usd_per_million_output_tokens,metrics.ttft_s.p99 (prefix one with max: to maximize it)");
  }
  return out;
}

namespace {
bool dominates(const ParetoFront::Entry& a, double x, double y) { return a.x <= x && a.y <= y && (a.x < x || a.y < y); }
}  // namespace

void ParetoFront::add(double x, double y, std::size_t point, std::string row) {
  for (const Entry& e : front_) {
    if (dominates(e, x, y)) return;
  }
  const Entry candidate{x, y, point, {}};
  std::erase_if(front_, [&](const Entry& e) { return dominates(candidate, e.x, e.y); });
  front_.push_back({x, y, point, std::move(row)});
}

std::vector<ParetoFront::Entry> ParetoFront::entries() const {
  std::vector<Entry> out = front_;
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    if (a.x != b.x) return a.x < b.x;
    if (a.y != b.y) return a.y < b.y;
    return a.point < b.point;
  });
  return out;
}

ParetoCollector::ParetoCollector(const RowLayout& layout, const std::vector<Objective>& objectives) : layout_(layout) {
  auto column = [&](const Objective& o) {
    if (auto c = layout.find_column(o.column)) return *c;
    std::string message = "--pareto: no column \"" + o.column + "\"";
    if (auto near = closest_match(o.column, layout.columns())) message += "; did you mean \"" + *near + "\"?";
    throw UsageError(message + " The metrics are the columns named metrics.* (docs/metrics.md).");
  };
  x_ = column(objectives.at(0));
  y_ = column(objectives.at(1));
  x_max_ = objectives[0].maximize;
  y_max_ = objectives[1].maximize;
}

void ParetoCollector::add_row(std::size_t point, std::string_view row) {
  const auto cells = layout_.cells(row);
  if (!cells[layout_.error_column()].empty()) return;
  auto number = [](const std::string& s, double& out) {
    if (s.empty()) return false;
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return *end == '\0' && std::isfinite(out);
  };
  double x = 0, y = 0;
  if (!number(cells[x_], x) || !number(cells[y_], y)) return;
  front_.add(x_max_ ? -x : x, y_max_ ? -y : y, point, std::string(row));
}

std::string ParetoCollector::text() const {
  std::string out = layout_.header();
  for (const auto& e : front_.entries()) out += e.row + "\n";
  return out;
}

}  // namespace infersim::sweep
