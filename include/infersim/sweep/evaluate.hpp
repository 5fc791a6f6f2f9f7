#pragma once
// One point of a sweep or one case of a baseline: a scenario document with overrides, parsed, simulated and
// reported. Each call is independent and single-threaded, so calls may run on several threads at once.

#include <string>
#include <vector>

#include "infersim/config/catalog.hpp"
#include "infersim/scenario/scenario_loader.hpp"

namespace infersim::sweep {

/// A `--set key=value` from a swept key or a baseline case's "set" entry (`text` shows it in messages).
scenario::Override make_override(const std::string& key, config::Json value);

/// The report (scenario::make_report) of `base` with `overrides` applied. Throws as parse_scenario and
/// simulate do.
config::Json evaluate(const config::Document& base, const std::vector<scenario::Override>& overrides);

/// The exception being handled (call inside a catch block) as one line for an error row. Sets `internal`
/// when it is not a problem of the input (neither ConfigError, InfeasibleError nor UsageError).
std::string describe_current_exception(bool& internal);

}  // namespace infersim::sweep
