#include "infersim/core/strings.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace infersim {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string> closest_match(std::string_view name, std::span<const std::string> candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  // A candidate that the name begins (a name cut short: "h100" -> "h100-sxm") beats any other.
  bool best_extends = false;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(name, c);
    const bool extends = name.size() >= 2 && c.starts_with(name);
    if (!best || (extends && !best_extends) || (extends == best_extends && d < best_distance)) {
      best = c;
      best_distance = d;
      best_extends = extends;
    }
  }
  if (best_extends) return best;
  // Accept up to a third of the longer name's length (at least 2 edits): "tensor_paralel" -> "tensor_parallel".
  if (best) {
    const std::size_t limit = std::max<std::size_t>(2, std::max(name.size(), best->size()) / 3);
    if (best_distance > limit) return std::nullopt;
  }
  return best;
}

std::string join(std::span<const std::string> items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

std::string format_number(double value, int digits) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, value);
  return buf;
}

std::string format_bytes(double bytes) {
  char buf[64];
  if (std::abs(bytes) >= 1e12) {
    std::snprintf(buf, sizeof buf, "%.3g TB", bytes / 1e12);
  } else if (std::abs(bytes) >= 1e9) {
    std::snprintf(buf, sizeof buf, "%.3g GB", bytes / 1e9);
  } else if (std::abs(bytes) >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.3g MB", bytes / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g kB", bytes / 1e3);
  }
  return buf;
}

}  // namespace infersim
