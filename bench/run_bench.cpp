// One scenario run through the library the way `infersim run --format json` and `infersim.run()` call it:
// load the file with a `--set` override, simulate, build the report and dump it as JSON. The C++ side of
// bench/python_bench.py, which compares infersim.run() with it (the Python call's own cost) and with the CLI.
//
//   build/release/bench/run_bench [--benchmark_format=json]
//   INFERSIM_BENCH_SCENARIO=FILE INFERSIM_BENCH_REQUESTS=N to change the scenario (default: the chat scenario
//   at 300 requests).

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "infersim/config/catalog.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/scenario/scenario_loader.hpp"
#include "infersim/scenario/scenario_run.hpp"
#include "infersim/sweep/evaluate.hpp"

namespace {

using namespace infersim;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

void BM_RunScenarioJson(benchmark::State& state) {
  const std::string path =
      env_or("INFERSIM_BENCH_SCENARIO", (config::config_root() / "scenarios" / "chat-llama-3.1-8b-h100.json").string());
  const std::vector<scenario::Override> overrides{
      sweep::make_override("workload.requests", config::Json::parse(env_or("INFERSIM_BENCH_REQUESTS", "300")))};
  for (auto _ : state) {
    const scenario::ScenarioSpec sc = scenario::load_scenario(path, overrides);
    std::string text = scenario::make_report(scenario::run_scenario_in(path, sc)).dump();
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_RunScenarioJson)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
