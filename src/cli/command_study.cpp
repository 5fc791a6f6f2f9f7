// `infersim study FILE`: run the named variants of a base scenario and tabulate them (markdown by default).

#include <iostream>

#include "commands.hpp"
#include "infersim/scenario/study.hpp"
#include "output.hpp"

namespace infersim::cli {

namespace {

struct StudyOptions {
  std::string file;
  std::string format = "markdown";
  std::vector<std::string> sets;
};

int run(const StudyOptions& o) {
  const auto study = scenario::load_study(o.file);
  const auto result = scenario::run_study(study, o.sets);
  if (o.format == "json") {
    config::Json out = config::Json::array();
    for (std::size_t i = 0; i < result.reports.size(); ++i) {
      out.push_back({{"name", result.names[i]}, {"note", result.notes[i]}, {"report", result.reports[i]}});
    }
    std::cout << out.dump(2) << '\n';
  } else if (o.format == "csv") {
    std::cout << scenario::study_csv(result);
  } else {
    std::cout << scenario::study_markdown(study, result);
  }
  for (const auto& r : result.reports) {
    if (r.contains("error")) return 2;
  }
  return 0;
}

}  // namespace

Command add_study_command(CLI::App& app) {
  auto o = std::make_shared<StudyOptions>();
  CLI::App* sub = app.add_subcommand("study", "Run the named variants of a base scenario and tabulate them side by side");
  sub->add_option("file", o->file, "Study JSON file (e.g. configs/studies/efficiency-table.json)")->required();
  sub->add_option("--set", o->sets, "Override a key of the base scenario for every row (dotted path)")->take_all();
  sub->add_option("--format", o->format, "markdown (default), csv or json")->check(one_of({"markdown", "csv", "json"}));
  return {sub, [o] { return run(*o); }};
}

}  // namespace infersim::cli
