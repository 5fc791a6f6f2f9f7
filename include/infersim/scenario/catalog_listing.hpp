#pragma once
// The catalogs as data: one JSON object per hardware profile, model or serving engine, with its key figures
// (`infersim list ... --format json`, and `infersim.catalog()` in Python).

#include <string>

#include "infersim/config/catalog.hpp"
#include "infersim/hardware/hardware_spec.hpp"
#include "infersim/model/model_spec.hpp"
#include "infersim/serving/serving_engine.hpp"

namespace infersim::scenario {

/// "MHA", "GQA", "MQA" or "MLA", plus the local layers ("GQA+sliding 128 x18": window, layers).
std::string attention_label(const model::ModelSpec& m);

config::Json hardware_entry(const std::string& name, const hardware::HardwareSpec& hw);
config::Json model_entry(const std::string& name, const model::ModelSpec& m);
config::Json engine_entry(const std::string& name, const serving::ServingEngineSpec& e);

/// Every entry of one catalog, sorted by name: an array of the objects above. Throws ConfigError when a
/// catalog file is invalid.
config::Json catalog_listing(config::CatalogKind kind);

}  // namespace infersim::scenario
