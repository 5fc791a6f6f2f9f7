// End-to-end serving simulation speed: Poisson arrivals near saturation (27 requests/s against a measured
// capacity of ~29.4/s), Llama-3.1-70B FP8 on 8 H100s (TP8), input uniform 256..768 (mean 512), output
// uniform 128..384 (mean 256), continuous batching. Reports simulated requests per wall second and the
// process's peak resident memory after each size (sizes run in increasing order).
//
//   build/release/bench/simulation_bench --benchmark_filter=Poisson
//
// Mooncake replay: the 12,031-request conversation trace (configs/traces/mooncake) as the shipped scenarios
// replay it (Llama-3.1-70B FP8, 4 replicas of 4 H100s, chunked prefill), with the prefix cache and
// prefix-aware routing (Arg 1) and without (Arg 0). Issue 17: the cache must keep the replay within 2x.
//
//   build/release/bench/simulation_bench --benchmark_filter=Mooncake

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/serving/simulation.hpp"

namespace {

using namespace infersim;

serving::SimulationSpec spec_for(std::int64_t requests) {
  serving::PoolSpec pool;
  pool.model = model::load_model("llama-3.1-70b");
  pool.hardware = hardware::load_hardware("h100-sxm");
  pool.deployment.tensor_parallel = 8;
  pool.deployment.weight_dtype = pool.deployment.activation_dtype = pool.deployment.kv_cache_dtype = DType::fp8;
  pool.scheduler.policy = "continuous";
  serving::SimulationSpec s;
  s.pools.push_back(pool);
  auto& w = s.workload;
  w.requests = requests;
  w.seed = 1;
  w.process = workload::ArrivalProcess::poisson;
  w.rate_per_s = 27.0;
  w.input = workload::TokenDistribution::uniform_between(256, 768);
  w.output = workload::TokenDistribution::uniform_between(128, 384);
  return s;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in kB on Linux
}

void BM_PoissonNearSaturation(benchmark::State& state) {
  const auto spec = spec_for(state.range(0));
  std::uint64_t events = 0;
  double steps = 0;
  for (auto _ : state) {
    const auto r = serving::simulate(spec);
    events = r.events;
    steps = static_cast<double>(r.pools[0].replica_stats[0].steps);
    benchmark::DoNotOptimize(r.completed);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["events"] = static_cast<double>(events);
  state.counters["steps"] = steps;
  state.counters["peak_rss_mb"] = peak_rss_mb();
}

serving::SimulationSpec mooncake_spec(bool cache) {
  serving::PoolSpec pool;
  pool.model = model::load_model("llama-3.1-70b");
  pool.hardware = hardware::load_hardware("h100-sxm");
  pool.deployment.tensor_parallel = 4;
  pool.deployment.replicas = 4;
  pool.deployment.weight_dtype = pool.deployment.activation_dtype = pool.deployment.kv_cache_dtype = DType::fp8;
  pool.scheduler.policy = "chunked_prefill";
  pool.scheduler.prefix_cache.enabled = cache;
  pool.router = cache ? serving::Router::prefix_affinity : serving::Router::least_loaded;
  serving::SimulationSpec s;
  s.pools.push_back(pool);
  s.workload.process = workload::ArrivalProcess::trace;
  s.workload.trace.path = std::string(INFERSIM_BENCH_SOURCE_DIR) + "/configs/traces/mooncake/conversation_trace.jsonl";
  s.workload.trace.format = "mooncake";
  return s;
}

void BM_MooncakeConversationReplay(benchmark::State& state) {
  const auto spec = mooncake_spec(state.range(0) != 0);
  double hit_rate = 0, events = 0;
  for (auto _ : state) {
    const auto r = serving::simulate(spec);
    hit_rate = r.cached_input_tokens / r.input_tokens;
    events = static_cast<double>(r.events);
    benchmark::DoNotOptimize(r.completed);
  }
  state.SetItemsProcessed(state.iterations() * 12031);
  state.counters["hit_rate"] = hit_rate;
  state.counters["events"] = events;
}

}  // namespace

BENCHMARK(BM_MooncakeConversationReplay)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_PoissonNearSaturation)->Arg(10000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_MAIN();
