// Fuzz target: the whole scenario path of `infersim run`. The input is a scenario file, optionally preceded
// by lines "--set KEY=VALUE" (overrides, applied as the command line applies them). A scenario that parses
// and can run is then simulated with its workload cut to a few short requests, and reported: the
// simulation's and the report's invariants are checked on whatever the fuzzer makes up.

#include <algorithm>
#include <vector>

#include "fuzz_support.hpp"
#include "infersim/core/check.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/scenario/scenario_loader.hpp"

namespace {

using namespace infersim;

/// Split "--set a=b\n--set c=d\n{...}" into overrides and the document text.
std::string_view take_overrides(std::string_view text, std::vector<scenario::Override>& overrides) {
  constexpr std::string_view kSet = "--set ";
  while (text.starts_with(kSet) && overrides.size() < 8) {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(kSet.size(), nl == std::string_view::npos ? text.npos : nl - kSet.size());
    overrides.push_back(scenario::parse_override(std::string(line)));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  }
  return text;
}

bool short_enough(const workload::TokenDistribution& t, std::int64_t limit) {
  const std::int64_t most = t.upper_bound();
  return most > 0 && most <= limit;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz::accept_typed_errors([&] {
    std::vector<scenario::Override> overrides;
    const std::string_view json = take_overrides(fuzz::as_text(data, size), overrides);
    config::Document doc = fuzz::document_from(json, "scenario.json");
    scenario::apply_overrides(doc.json, overrides);
    scenario::ScenarioSpec sc = scenario::parse_scenario(doc, overrides);
    auto& w = sc.simulation.workload;
    if (w.process == workload::ArrivalProcess::trace) return;  // traces have their own target
    scenario::check_feasible(sc);
    // Simulate a few short requests (a fuzzer iteration must stay fast).
    if (!short_enough(w.input, 4096) || !short_enough(w.output, 256)) return;
    w.requests = std::min<std::int64_t>(w.requests, 8);
    w.concurrency = std::min<std::int64_t>(w.concurrency, 8);
    if (sc.slo.find_max_rate) {  // a rate search: a few trials of those few requests
      sc.slo.find_max_rate->duration_s.reset();
      sc.slo.find_max_rate->relative_tolerance = std::max(sc.slo.find_max_rate->relative_tolerance, 0.25);
    }
    const scenario::ScenarioRun run = scenario::run_scenario(sc);
    if (run.search) {
      INFERSIM_CHECK(run.search->simulations >= 1 && run.search->simulations <= 64, "a rate search ran " +
                                                                                        std::to_string(run.search->simulations) + " simulations");
      INFERSIM_CHECK(run.scenario.simulation.workload.rate_per_s == run.search->rate_per_s, "the reported run is not at the rate found");
    }
    (void)scenario::make_report(run);
  });
}
