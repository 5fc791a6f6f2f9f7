#include "infersim/workload/duration_distribution.hpp"

#include <algorithm>
#include <cmath>

namespace infersim::workload {

double DurationDistribution::sample(Rng& rng) const {
  switch (kind) {
    case Kind::fixed: return value;
    case Kind::exponential: return rng.exponential(mean);
    case Kind::uniform: return min + (max - min) * rng.uniform();
    case Kind::lognormal: {
      const double v = median * std::exp(sigma * rng.normal());
      return max > 0 ? std::min(v, max) : v;
    }
  }
  return 0;
}

double DurationDistribution::expected() const {
  switch (kind) {
    case Kind::fixed: return value;
    case Kind::exponential: return mean;
    case Kind::uniform: return 0.5 * (min + max);
    case Kind::lognormal: return median * std::exp(0.5 * sigma * sigma);
  }
  return 0;
}

}  // namespace infersim::workload
