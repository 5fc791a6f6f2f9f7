#pragma once
// Durations in seconds: a fixed value or a distribution sampled per use (sessions' think time between a
// response and the user's next message). Every sample is finite and >= 0.

#include "infersim/core/random.hpp"

namespace infersim::workload {

struct DurationDistribution {
  enum class Kind { fixed, exponential, uniform, lognormal };
  Kind kind = Kind::fixed;
  double value = 0;              // fixed
  double mean = 0;               // exponential
  double min = 0, max = 0;       // uniform bounds; lognormal clamp (max 0 = none)
  double median = 0, sigma = 0;  // lognormal: exp(N(ln median, sigma^2)), at most max when max > 0

  static DurationDistribution fixed_value(double seconds) {
    DurationDistribution d;
    d.value = seconds;
    return d;
  }
  static DurationDistribution exponential_mean(double seconds) {
    DurationDistribution d;
    d.kind = Kind::exponential;
    d.mean = seconds;
    return d;
  }

  double sample(Rng& rng) const;
  /// Expected value (lognormal: before the clamp).
  double expected() const;
};

}  // namespace infersim::workload
