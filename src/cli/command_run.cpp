// `infersim run SCENARIO`: simulate one scenario and report latency, throughput, cost and energy.

#include <iostream>
#include <ostream>

#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "infersim/core/atomic_file.hpp"
#include "infersim/core/error.hpp"
#include "infersim/core/file_paths.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/scenario/requests_out.hpp"
#include "infersim/scenario/scenario_loader.hpp"
#include "infersim/scenario/timeline.hpp"
#include "output.hpp"

namespace infersim::cli {

namespace {

struct RunOptions {
  std::string scenario;
  std::vector<std::string> sets;
  Format format = Format::table;
  std::string requests_out, trace_out;
};

int run_scenario(const RunOptions& o) {
  std::vector<scenario::Override> overrides;
  for (const auto& s : o.sets) overrides.push_back(scenario::parse_override(s));
  const scenario::ScenarioSpec sc = scenario::load_scenario(o.scenario, overrides);
  const auto& wl = sc.simulation.workload;
  refuse_overwriting_inputs({{"the scenario", o.scenario},
                             {"the trace", wl.process == workload::ArrivalProcess::trace ? wl.trace.path : ""},
                             {"the input-token file", wl.input.source},
                             {"the output-token file", wl.output.source}},
                            {{"--requests-out", o.requests_out}, {"--trace-out", o.trace_out}});
  scenario::TimelineRecorder timeline;
  const scenario::ScenarioRun run = scenario::run_scenario_in(o.scenario, sc, o.trace_out.empty() ? nullptr : &timeline);
  const config::Json report = scenario::make_report(run);
  for (const auto& w : report["warnings"]) spdlog::warn("{}", w.get<std::string>());
  if (!o.requests_out.empty()) write_file_atomically(o.requests_out, [&](std::ostream& os) { scenario::write_requests_csv(os, run.result.request_table); });
  if (!o.trace_out.empty()) write_file_atomically(o.trace_out, timeline.to_json(run.scenario, run.result));
  switch (o.format) {
    case Format::json: std::cout << report.dump(2) << '\n'; break;
    case Format::csv: {
      const auto cells = scenario::flatten(config::Json{{"metrics", report["metrics"]}});
      std::string header, row;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        if (i) {
          header += ',';
          row += ',';
        }
        header += cells[i].first;
        row += scenario::csv_cell(cells[i].second);
      }
      std::cout << "scenario," << header << '\n' << scenario::csv_cell(config::Json(sc.name)) << ',' << row << '\n';
      break;
    }
    case Format::table: scenario::print_report_table(std::cout, report); break;
  }
  return 0;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand("run", "Simulate one scenario: latency, throughput, cost and energy");
  sub->add_option("scenario", o->scenario, "Scenario JSON file")->required();
  sub->add_option("--set", o->sets, "Override a scenario key by its dotted path, e.g. --set workload.arrival.rate_per_s=20")
      ->take_all();
  add_format_option(*sub, o->format);
  sub->add_option("--requests-out", o->requests_out, "Write one CSV row per request to FILE");
  sub->add_option("--trace-out", o->trace_out, "Write the simulated timeline as a Chrome/Perfetto trace to FILE");
  return {sub, [o] { return run_scenario(*o); }};
}

}  // namespace infersim::cli
