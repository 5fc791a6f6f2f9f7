// `infersim compare A.json [B.json ...] [--variant 'key=value;key=value']...`: one table, a column per scenario
// (or variant of the first), each figure with its change against the first column.

#include <cmath>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "infersim/core/error.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/scenario/scenario_loader.hpp"
#include "output.hpp"

namespace infersim::cli {

namespace {

struct CompareOptions {
  std::vector<std::string> scenarios, variants, sets;
  Format format = Format::table;
};

struct Row {
  const char* label;
  const char* path;  // dotted path in the report
  double scale;      // displayed value = value x scale
  const char* unit;
};

const Row kRows[] = {
    {"chips", "deployment.chips", 1, ""},
    {"requests/s", "metrics.throughput.requests_per_s", 1, ""},
    {"output tokens/s", "metrics.throughput.output_tokens_per_s", 1, ""},
    {"TTFT p50", "metrics.ttft_s.p50", 1e3, "ms"},
    {"TTFT p99", "metrics.ttft_s.p99", 1e3, "ms"},
    {"TPOT p50", "metrics.tpot_s.p50", 1e3, "ms"},
    {"TPOT p99", "metrics.tpot_s.p99", 1e3, "ms"},
    {"ITL p99", "metrics.itl_s.p99", 1e3, "ms"},
    {"E2E p50", "metrics.e2e_s.p50", 1, "s"},
    {"E2E p99", "metrics.e2e_s.p99", 1, "s"},
    {"SLO attainment", "metrics.slo.attainment", 100, "%"},
    {"max requests/s within the SLO", "metrics.slo.max_rate_per_s", 1, ""},  // with slo.find_max_rate
    {"max output tokens/s within the SLO", "metrics.slo.max_output_tokens_per_s", 1, ""},
    {"MFU", "metrics.utilization.mfu", 100, "%"},
    {"busy", "metrics.utilization.busy_fraction", 100, "%"},
    {"$ per hour", "metrics.cost.usd_per_hour", 1, ""},
    {"$ per M output tokens, all-in", "metrics.cost.usd_per_million_output_tokens_all_in", 1, ""},
    {"$ per M tokens, all-in", "metrics.cost.usd_per_million_total_tokens", 1, ""},
    {"$ per M input tokens, prefill split", "metrics.cost.usd_per_million_input_tokens", 1, ""},
    {"$ per M output tokens, decode split", "metrics.cost.usd_per_million_output_tokens", 1, ""},
    {"$ per request p50", "metrics.cost.usd_per_request.p50", 1, ""},
    {"$ per request p99", "metrics.cost.usd_per_request.p99", 1, ""},
    {"J per output token", "metrics.energy.joules_per_output_token", 1, ""},
    {"kg CO2 per M tokens", "metrics.energy.kg_co2_per_million_tokens", 1, ""},
};

std::vector<std::string> split_variant(const std::string& v) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : v) {
    if (c == ';') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

int run_compare(const CompareOptions& o) {
  struct Column {
    std::string name;
    config::Json report;
  };
  std::vector<Column> columns;
  auto simulate = [&](const std::string& path, const std::vector<std::string>& sets, const std::string& name) {
    std::vector<scenario::Override> overrides;
    for (const auto& s : o.sets) overrides.push_back(scenario::parse_override(s));
    for (const auto& s : sets) overrides.push_back(scenario::parse_override(s));
    const auto sc = scenario::load_scenario(path, overrides);
    columns.push_back({name.empty() ? sc.name : name, scenario::make_report(scenario::run_scenario(sc))});
  };
  for (const auto& path : o.scenarios) simulate(path, {}, "");
  for (const auto& v : o.variants) {
    // "label|key=value;key=value" names the column; without a label it is named after its overrides.
    const auto bar = v.find('|');
    const bool labelled = bar != std::string::npos && bar < v.find('=');
    const std::string overrides = labelled ? v.substr(bar + 1) : v;
    simulate(o.scenarios.front(), split_variant(overrides), labelled ? v.substr(0, bar) : columns.front().name + " + " + v);
  }

  if (o.format == Format::json) {
    config::Json out = config::Json::array();
    for (const auto& c : columns) out.push_back({{"name", c.name}, {"report", c.report}});
    std::cout << out.dump(2) << '\n';
    return 0;
  }
  std::vector<std::string> header{"metric"};
  for (const auto& c : columns) header.push_back(c.name);
  std::vector<bool> right(header.size(), true);
  right[0] = false;
  TextTable table(header, right);
  for (const Row& row : kRows) {
    std::vector<std::string> cells{std::string(row.label) + (row.unit[0] ? std::string(" (") + row.unit + ")" : "")};
    const config::Json* first = config::find_dotted(columns.front().report, row.path);
    bool any = false;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const config::Json* v = config::find_dotted(columns[i].report, row.path);
      if (!v || !v->is_number()) {
        cells.push_back(o.format == Format::csv ? "" : "n/a");
        continue;
      }
      any = true;
      const double x = v->get<double>() * row.scale;
      std::string cell = o.format == Format::csv ? sig(x, 9) : sig(x, 4);
      if (i > 0 && first && first->is_number() && first->get<double>() != 0 && o.format != Format::csv) {
        char d[32];
        std::snprintf(d, sizeof d, " (%+.0f%%)", 100.0 * (v->get<double>() / first->get<double>() - 1.0));
        cell += d;
      }
      cells.push_back(cell);
    }
    if (any) table.add_row(cells);
  }
  if (o.format == Format::csv) {
    table.print_csv(std::cout);
  } else {
    table.print(std::cout);
  }
  return 0;
}

}  // namespace

Command add_compare_command(CLI::App& app) {
  auto o = std::make_shared<CompareOptions>();
  CLI::App* sub = app.add_subcommand("compare", "Side-by-side table of several scenarios, with changes against the first");
  sub->add_option("scenarios", o->scenarios, "Scenario files")->required();
  sub->add_option("--variant", o->variants,
                  "A variant of the first scenario: [label|]overrides separated by ';', e.g. 'MI300X|hardware=mi300x;deployment.tensor_parallel=2'")
      ->take_all();
  sub->add_option("--set", o->sets, "Override a key in every column (dotted path)")->take_all();
  add_format_option(*sub, o->format);
  return {sub, [o] { return run_compare(*o); }};
}

}  // namespace infersim::cli
