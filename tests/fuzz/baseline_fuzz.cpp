// Fuzz target: a baseline file (contract: baseline file), then `check --update`'s rewrite of it without
// re-running the scenarios: every expected number is moved (x 1.5) and the rewritten text must parse again to
// the same cases with exactly the new values, keeping everything else. A rewrite that breaks the file or
// edits the wrong place escapes as a logic_error (a crash for libFuzzer).

#include <stdexcept>

#include "fuzz_support.hpp"
#include "infersim/sweep/baseline.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infersim;
  return fuzz::accept_typed_errors([&] {
    const std::string dir = std::string(INFERSIM_SOURCE_DIR) + "/configs/baselines";
    const sweep::Baseline b = sweep::parse_baseline(std::string(fuzz::as_text(data, size)), "baseline.json", dir);
    std::vector<sweep::CheckRow> rows;
    for (std::size_t i = 0; i < b.cases.size(); ++i) {
      for (const auto& [metric, value] : b.cases[i].expect) {
        sweep::CheckRow r;
        r.case_index = i;
        r.metric = metric;
        r.baseline = value;
        r.now = value.is_number() ? config::Json(value.get<double>() * 1.5) : value;
        r.tolerance = b.tolerance_for(metric);
        r.ok = sweep::within_tolerance(r.baseline, r.now, r.tolerance);
        rows.push_back(std::move(r));
      }
    }
    const std::string updated = sweep::update_baseline_text(b, rows);
    sweep::Baseline again;
    try {
      again = sweep::parse_baseline(updated, "baseline.json", dir);
    } catch (const ConfigError& e) {
      throw std::logic_error(std::string("--update wrote a baseline that does not parse: ") + e.what());
    }
    if (again.cases.size() != b.cases.size()) throw std::logic_error("--update changed the number of cases");
    std::size_t k = 0;
    for (std::size_t i = 0; i < again.cases.size(); ++i) {
      if (again.cases[i].expect.size() != b.cases[i].expect.size()) throw std::logic_error("--update changed a case's metrics");
      for (const auto& [metric, value] : again.cases[i].expect) {
        const sweep::CheckRow& r = rows[k++];
        if (metric != r.metric || sweep::expect_text(value) != sweep::expect_text(r.now)) {
          throw std::logic_error("--update wrote " + metric + " = " + sweep::expect_text(value) + ", expected " + r.metric +
                                 " = " + sweep::expect_text(r.now));
        }
      }
    }
  });
}
