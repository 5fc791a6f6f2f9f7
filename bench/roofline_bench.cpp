// The roofline kernel, vectorized (Eigen) against the plain scalar loop of tests/support/scalar_roofline.hpp,
// at 1e3 and 1e6 operators. Reports operator evaluations per second ("items_per_second").
//
//   build/release/bench/roofline_bench --benchmark_min_time=0.5

#include <benchmark/benchmark.h>

#include <random>

#include "infersim/roofline/kernel.hpp"
#include "support/scalar_roofline.hpp"

namespace {

using infersim::roofline::OperatorRow;
using infersim::roofline::OperatorTable;

OperatorTable make_table(std::size_t n) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  OperatorTable t;
  t.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    OperatorRow r;
    r.name = "op";
    r.flops = 1e9 * (0.01 + u(rng));
    r.bytes = 1e7 * (0.01 + u(rng));
    r.rows = (i % 3 == 0) ? 0.0 : std::floor(1 + 4096 * u(rng));
    r.tile_rows = (i % 5 == 0) ? 16.0 : 64.0;  // weight-only experts beside dense GEMMs
    r.seconds_per_flop = 1.0 / 8e14;
    r.seconds_per_byte = 1.0 / 2.8e12;
    r.overhead_s = 6e-6;
    r.network = (i % 17 == 0);
    t.push(r);
  }
  t.prepare_outputs();
  return t;
}

void BM_RooflineVectorized(benchmark::State& state) {
  OperatorTable t = make_table(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    infersim::roofline::evaluate_roofline(t);
    benchmark::DoNotOptimize(t.time_s.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// One operator at a time, as plain scalar code: auto-vectorization is switched off for this loop so that the
// comparison measures what the SIMD kernel buys over scalar arithmetic (GCC would otherwise partly vectorize
// the inlined reference on its own).
__attribute__((noinline, optimize("no-tree-vectorize", "no-tree-slp-vectorize"))) void scalar_loop(
    const std::vector<infersim::testing::ScalarOp>& ops, std::vector<infersim::testing::ScalarResult>& out) {
  for (std::size_t i = 0; i < ops.size(); ++i) out[i] = infersim::testing::scalar_roofline(ops[i]);
}

void BM_RooflineScalar(benchmark::State& state) {
  const OperatorTable t = make_table(static_cast<std::size_t>(state.range(0)));
  // The scalar reference works on one operator record at a time (array of structures).
  std::vector<infersim::testing::ScalarOp> ops(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    ops[i] = {t.flops_per_row[i], t.bytes[i], t.rows[i], t.tile_rows[i], t.seconds_per_flop[i], t.seconds_per_byte[i],
              t.overhead_s[i], t.network[i] != 0};
  }
  std::vector<infersim::testing::ScalarResult> out(t.size());
  for (auto _ : state) {
    scalar_loop(ops, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

}  // namespace

BENCHMARK(BM_RooflineVectorized)->Arg(1000)->Arg(1000000);
BENCHMARK(BM_RooflineScalar)->Arg(1000)->Arg(1000000);
BENCHMARK_MAIN();
