// `infersim validate FILE...`: check configuration files without running them.

#include <filesystem>
#include <iostream>

#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "config_kind.hpp"
#include "infersim/core/error.hpp"

namespace infersim::cli {

namespace {

int run_validate(const std::vector<std::string>& files) {
  int failures = 0;
  for (const auto& file : files) {
    try {
      const std::string what = validate_config_file(file);
      std::cout << "ok: " << file << " (" << what << ")\n";
    } catch (const ConfigError& e) {
      ++failures;
      for (const auto& d : e.diagnostics()) spdlog::error("{}", format_diagnostic(d));
    } catch (const InfeasibleError& e) {
      ++failures;
      if (e.located()) {
        spdlog::error("{}", e.what());
      } else {
        spdlog::error("{}: {}", file, e.what());
      }
    }
  }
  return failures == 0 ? 0 : 2;
}

}  // namespace

Command add_validate_command(CLI::App& app) {
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* sub = app.add_subcommand("validate", "Check configuration files (hardware, model, engine, scenario, sweep, plan, baseline, measurements) without running them");
  sub->add_option("files", *files, "Files to check")->required();
  return {sub, [files] { return run_validate(*files); }};
}

}  // namespace infersim::cli
