// `infersim check BASELINE [--update]`: re-run a baseline's cases and compare every expected metric with
// its tolerance (docs/ci.md). Exit 1 when one is outside, 2 on bad input; --update rewrites the expected
// values in place.

#include <cmath>
#include <cstdio>
#include <iostream>
#include <set>

#include "commands.hpp"
#include "infersim/core/atomic_file.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/sweep/baseline.hpp"
#include "output.hpp"

namespace infersim::cli {

namespace {

struct CheckOptions {
  std::string baseline;
  bool update = false;
  unsigned jobs = 0;
};

std::string value_text(const config::Json& v) { return v.is_number() ? sig(v.get<double>(), 6) : "n/a"; }

int run_check_command(const CheckOptions& o) {
  const sweep::Baseline b = sweep::load_baseline(o.baseline);
  const auto rows = sweep::run_check(b, o.jobs, o.update);
  TextTable table({"case", "metric", "baseline", "now", "change %", "tolerance", "verdict"},
                  {false, false, true, true, true, true, false});
  std::size_t breaches = 0, changed = 0;
  std::set<std::size_t> cases;
  for (const auto& r : rows) {
    std::string verdict;
    if (o.update) {
      const bool same = sweep::expect_text(r.baseline) == sweep::expect_text(r.now);
      changed += !same;
      verdict = same ? "same" : "updated";
    } else {
      verdict = r.ok ? "ok" : "BREACH";
      breaches += !r.ok;
      if (!r.ok) cases.insert(r.case_index);
    }
    const bool absolute = r.baseline.is_number() && r.baseline.get<double>() == 0;
    char change[32] = "";
    if (r.change) std::snprintf(change, sizeof change, "%+.2f", std::abs(*r.change) < 5e-5 ? 0.0 : *r.change * 100);
    table.add_row({b.cases[r.case_index].label, r.metric, value_text(r.baseline), value_text(r.now), r.change ? change : "",
                   absolute ? "abs " + sig(r.tolerance, 3) : sig(r.tolerance * 100, 3) + "%", verdict});
  }
  table.print(std::cout);
  if (o.update) {
    if (changed > 0) write_file_atomically(o.baseline, sweep::update_baseline_text(b, rows));
    std::cout << "\ncheck --update: " << changed << " of " << rows.size() << " values changed"
              << (changed > 0 ? "; rewrote " + o.baseline : std::string("; ") + o.baseline + " left as it was") << "\n";
    return 0;
  }
  std::cout << "\ncheck: " << rows.size() << " metrics in " << b.cases.size() << " cases: ";
  if (breaches == 0) {
    std::cout << "all within tolerance\n";
    return 0;
  }
  std::cout << breaches << " outside tolerance, in " << cases.size() << " case" << (cases.size() > 1 ? "s" : "")
            << " (if the change is intended, run `infersim check " << o.baseline << " --update` and commit the new baseline)\n";
  return 1;
}

}  // namespace

Command add_check_command(CLI::App& app) {
  auto o = std::make_shared<CheckOptions>();
  CLI::App* sub = app.add_subcommand("check", "Re-run a baseline's cases and compare their metrics within tolerances (exit 1 on a breach)");
  sub->add_option("baseline", o->baseline, "Baseline JSON file: {\"tolerance\": {...}, \"cases\": [...]}")->required();
  sub->add_flag("--update", o->update, "Rewrite the expected values with today's (only the numbers change in the file)");
  sub->add_option("--jobs,-j", o->jobs, "Cases simulated at once (default: every core)");
  return {sub, [o] { return run_check_command(*o); }};
}

}  // namespace infersim::cli
