#pragma once
// Converts a Hugging Face `config.json` (as downloaded with a model) into infersim's model file. One converter
// per architecture, registered by name in import_architectures(); every field the converter derives or
// defaults is listed in the file's `notes`. See docs/configuration.md ("Importing a Hugging Face config").

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infersim/config/catalog.hpp"
#include "infersim/model/model_spec.hpp"

namespace infersim::model {

struct ImportOptions {
  std::string name;    // model name; empty = derived from the config's directory (or file stem)
  std::string source;  // `source` of the model file; empty = the config's path
  std::optional<double> published_parameters_billion;  // the model card's count; default: the computed one
};

struct ImportedModel {
  nlohmann::ordered_json file;  // the model file, keys in the catalog's order
  ModelSpec spec;               // the same, parsed (and so validated) by the model loader
  std::string architecture;
};

/// Architecture names import_hf_config() knows, sorted.
std::vector<std::string> import_architectures();

/// Convert `doc` (a config.json). Throws ConfigError naming the file and the field for an unknown
/// architecture (listing the known ones) or a field the architecture needs that is missing or invalid.
ImportedModel import_hf_config(const config::Document& doc, const ImportOptions& options);

/// The model file of `m`, keys in the catalog order (the format docs/configuration.md describes).
nlohmann::ordered_json model_to_json(const ModelSpec& m);

/// One line: "NAME: 116.8 B parameters, 5.1 B active per token, 36 layers, ...".
std::string import_summary(const ModelSpec& m);

}  // namespace infersim::model
