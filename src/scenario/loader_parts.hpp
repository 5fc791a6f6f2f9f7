#pragma once
// Pieces of the scenario loader (internal to src/scenario).

#include "infersim/config/catalog.hpp"
#include "infersim/scenario/scenario_spec.hpp"

namespace infersim::scenario {

/// The `workload` section.
void parse_workload(config::ObjectReader& root, const config::Document& doc, ScenarioSpec& sc, config::Json& out);

}  // namespace infersim::scenario
