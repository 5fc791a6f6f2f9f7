#pragma once
// Sub-commands of the infersim executable. Each file adds one sub-command to the CLI11 app and returns the
// action to run when it was chosen. Actions return the process exit code; errors are thrown as the typed
// exceptions of infersim/core/error.hpp and mapped to exit codes in main.cpp.

#include <functional>
#include <vector>

#include <CLI/CLI.hpp>

namespace infersim::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_run_command(CLI::App& app);
Command add_study_command(CLI::App& app);
Command add_compare_command(CLI::App& app);
Command add_roofline_command(CLI::App& app);
Command add_list_command(CLI::App& app);
Command add_validate_command(CLI::App& app);
Command add_accuracy_command(CLI::App& app);
Command add_calibrate_command(CLI::App& app);
Command add_sweep_command(CLI::App& app);
Command add_merge_command(CLI::App& app);
Command add_plan_command(CLI::App& app);
Command add_check_command(CLI::App& app);
Command add_import_model_command(CLI::App& app);

}  // namespace infersim::cli
