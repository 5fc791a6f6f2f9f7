// infersim: the command-line front end. The only place that catches the library's typed errors and maps
// them to exit codes: 0 success, 1 `check` found a metric outside its tolerance, 2 bad input (usage,
// config, a model that does not fit), 3 internal error. Results go to stdout, errors to stderr.

#include <cstdio>
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "infersim/core/error.hpp"

namespace {

void setup_logging() {
  auto logger = spdlog::stderr_color_st("infersim");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
}

}  // namespace

int main(int argc, char** argv) {
  setup_logging();
  CLI::App app{"infersim: simulate LLM inference latency, throughput and cost from config files", "infersim"};
  app.set_version_flag("--version", std::string("infersim ") + INFERSIM_VERSION);
  app.require_subcommand(1);
  std::vector<infersim::cli::Command> commands;
  commands.push_back(infersim::cli::add_run_command(app));
  commands.push_back(infersim::cli::add_compare_command(app));
  commands.push_back(infersim::cli::add_study_command(app));
  commands.push_back(infersim::cli::add_roofline_command(app));
  commands.push_back(infersim::cli::add_list_command(app));
  commands.push_back(infersim::cli::add_validate_command(app));
  commands.push_back(infersim::cli::add_accuracy_command(app));
  commands.push_back(infersim::cli::add_calibrate_command(app));
  commands.push_back(infersim::cli::add_sweep_command(app));
  commands.push_back(infersim::cli::add_plan_command(app));
  commands.push_back(infersim::cli::add_merge_command(app));
  commands.push_back(infersim::cli::add_check_command(app));
  commands.push_back(infersim::cli::add_import_model_command(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    for (const auto& c : commands) {
      if (c.app->parsed()) return c.run();
    }
    return 2;
  } catch (const infersim::ConfigError& e) {
    for (const auto& d : e.diagnostics()) spdlog::error("{}", infersim::format_diagnostic(d));
    return 2;
  } catch (const infersim::InfeasibleError& e) {
    spdlog::error("{}", e.what());
    return 2;
  } catch (const infersim::UsageError& e) {
    spdlog::error("{}", e.what());
    return 2;
  } catch (const std::exception& e) {
    spdlog::critical("internal error: {} (please report this with the command and files that caused it)", e.what());
    return 3;
  }
}
