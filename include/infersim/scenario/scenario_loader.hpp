#pragma once
// Reading scenario files strictly, and `--set dotted.key=value` overrides.

#include <string>
#include <vector>

#include "infersim/config/catalog.hpp"
#include "infersim/scenario/scenario_spec.hpp"

namespace infersim::scenario {

/// One `--set key=value`: the dotted path and the value (parsed as JSON when it is valid JSON, else a string).
struct Override {
  std::string path;
  config::Json value;
  std::string text;  // as given, for messages
};

/// Parse "a.b.c=value"; throws UsageError when there is no '=' or the path is empty.
Override parse_override(const std::string& text);

/// Apply overrides to a scenario document. A path into a key the scenario format does not have is reported
/// by the strict parser afterwards, naming the --set that introduced it.
void apply_overrides(config::Json& doc, const std::vector<Override>& overrides);

/// Parse a scenario document (already overridden). Throws ConfigError with every problem found, or
/// InfeasibleError for a deployment that cannot run.
ScenarioSpec parse_scenario(const config::Document& doc, const std::vector<Override>& overrides = {});

/// Load a scenario file and apply overrides.
ScenarioSpec load_scenario(const std::string& path, const std::vector<Override>& overrides = {});

}  // namespace infersim::scenario
