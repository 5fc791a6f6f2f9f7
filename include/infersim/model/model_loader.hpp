#pragma once

#include "infersim/config/catalog.hpp"
#include "infersim/model/model_spec.hpp"

namespace infersim::model {

/// Parse a model config, collecting problems into `diagnostics`.
ModelSpec parse_model(const config::Document& doc, config::Diagnostics& diagnostics);
/// Parse or throw ConfigError.
ModelSpec load_model(const config::Document& doc);
/// Load a catalog entry by name (or a path), throwing ConfigError.
ModelSpec load_model(const std::string& name_or_path);

}  // namespace infersim::model
