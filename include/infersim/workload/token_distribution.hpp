#pragma once
// Token counts: a fixed number, or a distribution sampled per request (contract: `workload.input_tokens`,
// `workload.output_tokens`). Every sample is an integer >= 1.

#include <cstdint>
#include <string>
#include <vector>

#include "infersim/core/random.hpp"

namespace infersim::workload {

struct TokenDistribution {
  enum class Kind { fixed, uniform, normal, lognormal, empirical };
  Kind kind = Kind::fixed;
  std::int64_t value = 1;        // fixed
  std::int64_t min = 1, max = 0; // uniform bounds; clamps for normal / lognormal (max 0 = none)
  double mean = 0, std = 0;      // normal (truncated to [min, max] by resampling)
  double median = 0, sigma = 0;  // lognormal: exp(N(ln median, sigma^2)), clamped
  std::vector<std::int64_t> values;  // empirical: sampled uniformly
  std::string source;            // empirical: where the values came from (for the resolved scenario)

  static TokenDistribution fixed_value(std::int64_t v) {
    TokenDistribution t;
    t.value = v;
    return t;
  }
  static TokenDistribution uniform_between(std::int64_t lo, std::int64_t hi) {
    TokenDistribution t;
    t.kind = Kind::uniform;
    t.min = lo;
    t.max = hi;
    return t;
  }

  std::int64_t sample(Rng& rng) const;
  /// Expected value (for sizing and reports).
  double expected() const;
  /// Expected square E[X^2] (normal, lognormal: before truncation), for sessions' mean prompt length.
  double second_moment() const;
  /// The largest value a sample can take (for KV-capacity checks); 0 when unbounded.
  std::int64_t upper_bound() const;
};

}  // namespace infersim::workload
