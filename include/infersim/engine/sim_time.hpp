#pragma once
// Simulated time: integer nanoseconds, so that event order never depends on floating-point rounding.

#include <cmath>
#include <cstdint>
#include <limits>

#include "infersim/core/limits.hpp"

namespace infersim::engine {

using SimTime = std::int64_t;  // nanoseconds since the start of the simulation

inline constexpr SimTime kNever = std::numeric_limits<SimTime>::max();
/// The simulation horizon, limits::kHorizonSeconds in nanoseconds: the serving simulation stops with an
/// error rather than schedule past it, so that adding a step to a time never overflows.
inline constexpr SimTime kHorizon = static_cast<SimTime>(limits::kHorizonSeconds * 1e9);

/// Seconds to nanoseconds, rounded to nearest; negative and NaN become 0, overflow becomes kNever.
inline SimTime from_seconds(double s) {
  if (!(s > 0)) return 0;
  const double ns = std::round(s * 1e9);
  if (ns >= 9.2e18) return kNever;
  return static_cast<SimTime>(ns);
}

inline double to_seconds(SimTime t) { return static_cast<double>(t) * 1e-9; }

}  // namespace infersim::engine
