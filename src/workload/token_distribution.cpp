#include "infersim/workload/token_distribution.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "infersim/core/limits.hpp"

namespace infersim::workload {

namespace {
std::int64_t clamp_count(double v, std::int64_t lo, std::int64_t hi) {
  // No request is longer than the limit of one request, whatever the tail of the distribution (a double past
  // 2^63 would not convert to an integer at all).
  v = std::min(v, static_cast<double>(limits::kMaxTokensPerRequest));
  auto r = static_cast<std::int64_t>(std::llround(v));
  r = std::max(r, std::max<std::int64_t>(lo, 1));
  if (hi > 0) r = std::min(r, hi);
  return r;
}
}  // namespace

std::int64_t TokenDistribution::sample(Rng& rng) const {
  switch (kind) {
    case Kind::fixed: return value;
    case Kind::uniform: return rng.uniform_int(min, max);
    case Kind::normal: {
      // Truncated normal by resampling; after 64 misses (a window far in the tail) fall back to clamping.
      for (int i = 0; i < 64; ++i) {
        const double v = std::round(mean + std * rng.normal());
        const double upper = static_cast<double>(max > 0 ? max : limits::kMaxTokensPerRequest);
        if (v >= static_cast<double>(std::max<std::int64_t>(min, 1)) && v <= upper) {
          return static_cast<std::int64_t>(v);
        }
      }
      return clamp_count(mean, min, max);
    }
    case Kind::lognormal: return clamp_count(median * std::exp(sigma * rng.normal()), min, max);
    case Kind::empirical:
      return values[static_cast<std::size_t>(rng.uniform_int(0, static_cast<std::int64_t>(values.size()) - 1))];
  }
  return 1;
}

double TokenDistribution::expected() const {
  switch (kind) {
    case Kind::fixed: return static_cast<double>(value);
    case Kind::uniform: return 0.5 * static_cast<double>(min + max);
    case Kind::normal: return mean;  // before truncation
    case Kind::lognormal: return median * std::exp(0.5 * sigma * sigma);
    case Kind::empirical:
      return static_cast<double>(std::accumulate(values.begin(), values.end(), std::int64_t{0})) /
             static_cast<double>(values.size());
  }
  return 0;
}

double TokenDistribution::second_moment() const {
  switch (kind) {
    case Kind::fixed: return static_cast<double>(value) * static_cast<double>(value);
    case Kind::uniform: {
      // Discrete uniform on [min, max]: variance ((max - min + 1)^2 - 1) / 12.
      const double n = static_cast<double>(max - min + 1), m = expected();
      return (n * n - 1.0) / 12.0 + m * m;
    }
    case Kind::normal: return mean * mean + std * std;
    case Kind::lognormal: return median * median * std::exp(2.0 * sigma * sigma);
    case Kind::empirical: {
      double sum = 0;
      for (const std::int64_t v : values) sum += static_cast<double>(v) * static_cast<double>(v);
      return sum / static_cast<double>(values.size());
    }
  }
  return 0;
}

std::int64_t TokenDistribution::upper_bound() const {
  switch (kind) {
    case Kind::fixed: return value;
    case Kind::uniform: return max;
    case Kind::normal:
    case Kind::lognormal: return max;
    case Kind::empirical: return *std::max_element(values.begin(), values.end());
  }
  return 0;
}

}  // namespace infersim::workload
