// End-to-end serving simulation speed. Reports simulated requests per wall second, events, steps (replica 0)
// and the process's peak resident memory so far (cases run in the order listed; run one case per process to
// read its own, e.g. --benchmark_filter='LightLoad/requests:1000000/step_by_step:0'). Argument step_by_step
// 1: one event per step (SimulationSpec::step_by_step), the reference for runs of decode steps.
//
// BM_LightLoad: issue 16's light load, Llama-3.1-8B bf16 on one H100 with the vLLM engine profile, 512 input
// and 128 output tokens, Poisson at 4 requests/s: a batch of a few, so nearly every step is a decode step of
// the same few sequences.
// BM_PoissonNearSaturation: Poisson arrivals near saturation (27 requests/s against a measured capacity of
// ~29.4/s), Llama-3.1-70B FP8 on 8 H100s (TP8), input uniform 256..768 (mean 512), output uniform 128..384
// (mean 256), continuous batching.
//
//   build/release/bench/simulation_bench --benchmark_filter=Poisson
//
// Mooncake replay: the 12,031-request conversation trace (configs/traces/mooncake) as the shipped scenarios
// replay it (Llama-3.1-70B FP8, 4 replicas of 4 H100s, chunked prefill), with the prefix cache and
// prefix-aware routing (prefix_cache:1), plus a host tier of 1,000 GB (prefix_cache:2), and without
// (prefix_cache:0), in one run. Issue 17: the cache must keep the replay within 2x of the CPU time without it.
//
//   build/dev/bench/simulation_bench --benchmark_filter=Mooncake --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <string>

#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/serving/serving_engine_loader.hpp"
#include "infersim/serving/simulation.hpp"

namespace {

using namespace infersim;

/// One pool of `model` on one `hardware` chip, continuous batching.
serving::PoolSpec pool_of(const std::string& model, const std::string& hardware) {
  serving::PoolSpec pool;
  pool.model = model::load_model(model);
  pool.hardware = hardware::load_hardware(hardware);
  pool.scheduler.policy = "continuous";
  return pool;
}

/// Poisson arrivals from seed 1.
serving::SimulationSpec poisson(const serving::PoolSpec& pool, std::int64_t requests, double rate_per_s,
                                const workload::TokenDistribution& input, const workload::TokenDistribution& output) {
  serving::SimulationSpec s;
  s.pools.push_back(pool);
  auto& w = s.workload;
  w.requests = requests;
  w.seed = 1;
  w.process = workload::ArrivalProcess::poisson;
  w.rate_per_s = rate_per_s;
  w.input = input;
  w.output = output;
  return s;
}

serving::SimulationSpec near_saturation_spec(std::int64_t requests) {
  serving::PoolSpec pool = pool_of("llama-3.1-70b", "h100-sxm");
  pool.deployment.tensor_parallel = 8;
  pool.deployment.weight_dtype = pool.deployment.activation_dtype = pool.deployment.kv_cache_dtype = DType::fp8;
  return poisson(pool, requests, 27.0, workload::TokenDistribution::uniform_between(256, 768),
                 workload::TokenDistribution::uniform_between(128, 384));
}

serving::SimulationSpec light_load_spec(std::int64_t requests) {
  serving::PoolSpec pool = pool_of("llama-3.1-8b", "h100-sxm");
  pool.engine = serving::load_serving_engine("vllm");
  return poisson(pool, requests, 4.0, workload::TokenDistribution::fixed_value(512),
                 workload::TokenDistribution::fixed_value(128));
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in kB on Linux
}

/// Simulate `spec` once per iteration, one event per step when the benchmark's second argument is 1.
void run_simulations(benchmark::State& state, serving::SimulationSpec spec) {
  spec.step_by_step = state.range(1) != 0;
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

void BM_LightLoad(benchmark::State& state) { run_simulations(state, light_load_spec(state.range(0))); }
void BM_PoissonNearSaturation(benchmark::State& state) { run_simulations(state, near_saturation_spec(state.range(0))); }

/// The Mooncake conversation replay of configs/scenarios/mooncake-conversation-*.json (without the engine's
/// host time): 0 without the prefix cache, 1 with it (prefix-aware routing), 2 with a host tier of 1,000 GB.
serving::SimulationSpec mooncake_spec(int variant) {
  const bool cache = variant > 0;
  serving::PoolSpec pool;
  pool.model = model::load_model("llama-3.1-70b");
  pool.hardware = hardware::load_hardware("h100-sxm");
  pool.deployment.tensor_parallel = 4;
  pool.deployment.replicas = 4;
  pool.deployment.weight_dtype = pool.deployment.activation_dtype = pool.deployment.kv_cache_dtype = DType::fp8;
  pool.scheduler.policy = "chunked_prefill";
  pool.scheduler.prefix_cache.enabled = cache;
  if (variant == 2) pool.scheduler.prefix_cache.host_gb = 1000;
  pool.router = cache ? serving::Router::prefix_affinity : serving::Router::least_loaded;
  serving::SimulationSpec s;
  s.pools.push_back(pool);
  s.workload.process = workload::ArrivalProcess::trace;
  s.workload.trace.path = std::string(INFERSIM_BENCH_SOURCE_DIR) + "/configs/traces/mooncake/conversation_trace.jsonl";
  s.workload.trace.format = "mooncake";
  return s;
}

void BM_MooncakeConversationReplay(benchmark::State& state) {
  const auto spec = mooncake_spec(static_cast<int>(state.range(0)));
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

BENCHMARK(BM_LightLoad)
    ->ArgNames({"requests", "step_by_step"})
    ->Args({10000, 1})
    ->Args({10000, 0})
    ->Args({1000000, 0})
    ->Args({1000000, 1})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(BM_PoissonNearSaturation)
    ->ArgNames({"requests", "step_by_step"})
    ->Args({10000, 0})
    ->Args({100000, 0})
    ->Args({1000000, 0})
    ->Args({100000, 1})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(BM_MooncakeConversationReplay)->ArgName("prefix_cache")->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_MAIN();
