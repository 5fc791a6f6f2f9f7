// The vectorized roofline kernel against the plain scalar formula, on random inputs and on hand cases.

#include <gtest/gtest.h>

#include <random>

#include "infersim/roofline/kernel.hpp"
#include "support/scalar_roofline.hpp"

namespace infersim::roofline {
namespace {

// `tile` <= 0: each operator gets its own tile, drawn from the ones GEMM kernels use.
OperatorTable random_table(std::size_t n, std::uint64_t seed, double tile) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> log10u(-3.0, 3.0);
  std::uniform_int_distribution<int> rows_dist(0, 5000);
  std::bernoulli_distribution net(0.1), zero_bytes(0.05);
  std::uniform_int_distribution<int> tile_dist(0, 4);
  const double tiles[] = {1, 16, 32, 64, 128};
  OperatorTable t;
  for (std::size_t i = 0; i < n; ++i) {
    OperatorRow r;
    r.name = "op";
    r.flops = std::pow(10.0, 9 + log10u(rng));
    r.bytes = zero_bytes(rng) ? 0.0 : std::pow(10.0, 7 + log10u(rng));
    r.rows = rows_dist(rng);
    r.tile_rows = tile > 0 ? tile : tiles[tile_dist(rng)];
    r.seconds_per_flop = 1.0 / (std::pow(10.0, 14 + log10u(rng) / 3));
    r.seconds_per_byte = 1.0 / (std::pow(10.0, 12 + log10u(rng) / 3));
    r.overhead_s = 1e-6 * (1 + log10u(rng) + 3);
    r.network = net(rng);
    t.push(r);
  }
  return t;
}

void expect_matches_scalar(OperatorTable& t) {
  evaluate_roofline(t);
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto ref = testing::scalar_roofline({t.flops_per_row[i], t.bytes[i], t.rows[i], t.tile_rows[i],
                                               t.seconds_per_flop[i], t.seconds_per_byte[i], t.overhead_s[i],
                                               t.network[i] != 0});
    // Single precision, different operation order: a few ulps apart.
    ASSERT_NEAR(t.time_s[i], ref.time_s, 1e-6 * ref.time_s) << "operator " << i;
    ASSERT_NEAR(t.intensity[i], ref.intensity, 1e-6 * ref.intensity) << "operator " << i;
    if (t.network[i]) {
      ASSERT_EQ(t.bound[i], 2) << "operator " << i;
    } else {
      // Exact ties between compute and transfer time may round either way in single precision.
      const double tile = t.tile_rows[i];
      const double padded_rows = t.rows[i] > 0 ? std::ceil(t.rows[i] / tile) * tile : 1.0;
      const double compute = static_cast<double>(t.flops_per_row[i]) * padded_rows * t.seconds_per_flop[i];
      const double transfer = static_cast<double>(t.bytes[i]) * t.seconds_per_byte[i];
      if (std::abs(compute - transfer) > 1e-5 * std::max(compute, transfer)) {
        ASSERT_EQ(t.bound[i], ref.bound) << "operator " << i;
      }
    }
  }
}

TEST(RooflineKernel, MatchesScalarOnRandomInputs) {
  // Sizes around the kernel's block length (512) and odd lengths exercise the remainders.
  for (std::size_t n : {1u, 7u, 511u, 512u, 513u, 5000u}) {
    for (double tile : {1.0, 64.0, 128.0, 0.0}) {  // 0: a tile per operator
      OperatorTable t = random_table(n, 42 + n, tile);
      expect_matches_scalar(t);
    }
  }
}

TEST(RooflineKernel, TilePaddingMultipliesComputeOfSmallGemms) {
  OperatorTable t;
  OperatorRow r;
  r.flops = 1e9;
  r.rows = 1;
  r.seconds_per_flop = 1e-12;  // 1 ms of compute unpadded
  r.seconds_per_byte = 0;
  r.tile_rows = 64;
  t.push(r);
  r.rows = 64;  // exactly one tile: no padding
  t.push(r);
  r.rows = 65;  // two tiles: 128/65 padding
  t.push(r);
  r.tile_rows = 16;  // the same GEMM in a kernel of 16-row tiles: five tiles, 80/65
  t.push(r);
  r.rows = 1;  // one row in a 16-row tile, beside the 64-row tile of the first operator
  t.push(r);
  evaluate_roofline(t);
  EXPECT_FLOAT_EQ(t.time_s[0], 64e-3f);
  EXPECT_FLOAT_EQ(t.time_s[1], 1e-3f);
  EXPECT_NEAR(t.time_s[2], 1e-3 * 128.0 / 65.0, 1e-9);
  EXPECT_NEAR(t.time_s[3], 1e-3 * 80.0 / 65.0, 1e-9);
  EXPECT_FLOAT_EQ(t.time_s[4], 16e-3f);
}

TEST(RooflineKernel, BoundAndOverhead) {
  OperatorTable t;
  OperatorRow r;
  r.flops = 2e12;            // 2 s at 1 TFLOP/s
  r.bytes = 1e9;             // 1 s at 1 GB/s
  r.seconds_per_flop = 1e-12;
  r.seconds_per_byte = 1e-9;
  r.overhead_s = 0.5;
  t.push(r);                 // compute bound, 2.5 s
  r.flops = 1e11;            // 0.1 s
  t.push(r);                 // memory bound, 1.5 s
  r.network = true;
  t.push(r);                 // network bound whatever the times
  evaluate_roofline(t);
  EXPECT_FLOAT_EQ(t.time_s[0], 2.5f);
  EXPECT_EQ(static_cast<Bound>(t.bound[0]), Bound::compute);
  EXPECT_FLOAT_EQ(t.time_s[1], 1.5f);
  EXPECT_EQ(static_cast<Bound>(t.bound[1]), Bound::memory);
  EXPECT_EQ(static_cast<Bound>(t.bound[2]), Bound::network);
  EXPECT_FLOAT_EQ(t.intensity[0], 2000.0f);
}

}  // namespace
}  // namespace infersim::roofline
