#pragma once
// Reading serving-engine profiles (configs/engines/*.json) strictly.

#include <string>

#include "infersim/config/catalog.hpp"
#include "infersim/serving/serving_engine.hpp"

namespace infersim::serving {

/// Parse an engine profile, collecting every problem into `diagnostics`.
ServingEngineSpec parse_serving_engine(const config::Document& doc, config::Diagnostics& diagnostics);

/// Parse or throw ConfigError.
ServingEngineSpec load_serving_engine(const config::Document& doc);

/// Load a catalog entry by name (or a path), throwing ConfigError.
ServingEngineSpec load_serving_engine(const std::string& name_or_path);

}  // namespace infersim::serving
