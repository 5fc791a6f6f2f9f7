#pragma once
// A seeded random number generator and the distributions infersim samples, implemented here rather than
// taken from <random>: the standard library's distributions are implementation-defined, and the same seed
// must give byte-identical results with any compiler and standard library.

#include <cmath>
#include <cstdint>
#include <numbers>

namespace infersim {

/// SplitMix64: seeds streams and derives independent sub-seeds.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// xoshiro256** (Blackman and Vigna), 64-bit output, period 2^256 - 1.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) { reseed(seed); }

  /// A generator for sub-stream `stream` of `seed`: streams of one seed are independent of each other.
  static Rng stream(std::uint64_t seed, std::uint64_t stream) {
    std::uint64_t s = seed ^ (0xA0761D6478BD642FULL * (stream + 1));
    return Rng(splitmix64(s));
  }

  void reseed(std::uint64_t seed) {
    std::uint64_t s = seed;
    for (auto& w : s_) w = splitmix64(s);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform in (0, 1]: safe for log().
  double uniform_open0() { return 1.0 - uniform(); }
  /// Uniform integer in [lo, hi] (inclusive), without modulo bias.
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi) {
    const std::uint64_t range = static_cast<std::uint64_t>(hi - lo) + 1;
    if (range == 0) return static_cast<std::int64_t>(next());  // full 64-bit range
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % range;
    std::uint64_t x;
    do {
      x = next();
    } while (x >= limit);
    return lo + static_cast<std::int64_t>(x % range);
  }
  /// Exponential with mean `mean`.
  double exponential(double mean) { return -mean * std::log(uniform_open0()); }
  /// Standard normal (Box-Muller; one value per call, so the stream never depends on call history).
  double normal() {
    const double u1 = uniform_open0();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  /// Gamma(shape, scale) (Marsaglia and Tsang 2000; shape < 1 by boosting).
  double gamma(double shape, double scale) {
    if (shape < 1.0) {
      const double u = uniform_open0();
      return gamma(shape + 1.0, scale) * std::pow(u, 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x, v;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = uniform_open0();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v * scale;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v * scale;
    }
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

}  // namespace infersim
