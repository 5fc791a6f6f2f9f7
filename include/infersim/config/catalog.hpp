#pragma once
// Catalog lookup: a hardware profile, a model or a serving engine may be named (a file in configs/hardware,
// configs/models or configs/engines),
// given as a path to a JSON file, or written inline. resolve_reference() turns any of the three into a
// Document that remembers where it came from, so that later error messages can name file and JSON path.

#include <filesystem>
#include <string>
#include <vector>

#include "infersim/config/json_reader.hpp"

namespace infersim::config {

enum class CatalogKind { hardware, models, engines };

std::string_view catalog_label(CatalogKind kind);  // "hardware" / "model" / "engine"

/// Root of the configuration tree: $INFERSIM_CONFIG_DIR, else the source tree's configs/ (when it exists),
/// else <executable>/../share/infersim/configs.
std::filesystem::path config_root();

/// Names of the catalog entries (file stems), sorted.
std::vector<std::string> catalog_names(CatalogKind kind);

/// Path of a catalog entry; empty when there is none of that name.
std::filesystem::path catalog_path(CatalogKind kind, const std::string& name);

/// A JSON value and where it came from.
struct Document {
  Json json;
  std::string file;               // file the value lives in (for messages)
  std::string pointer;            // JSON pointer of the value inside that file ("" = whole file)
  std::filesystem::path base_dir; // directory against which relative paths inside it resolve
};

/// Load a whole file as a Document ("-": standard input, named "<stdin>" in messages).
Document load_document(const std::filesystem::path& path);

/// Resolve a catalog name, a path to a JSON file, or an inline object found at `pointer` in `where`.
Document resolve_reference(CatalogKind kind, const Json& value, const Document& where, const std::string& pointer);

/// A catalog name, a path or an inline JSON object (an argument that opens with '{') given on the command line
/// ("<command line>" in messages), as resolve_reference.
Document resolve_command_line_reference(CatalogKind kind, const std::string& name_or_path);

/// Parse a whole document with `parse(doc, diagnostics)`; every problem found is thrown as one ConfigError.
template <typename Parse>
auto parse_strictly(const Document& doc, Parse parse) {
  Diagnostics diagnostics(doc.file);
  auto spec = parse(doc, diagnostics);
  diagnostics.throw_if_any();
  return spec;
}

/// A relative path resolved against a base directory (absolute paths are returned as they are).
std::filesystem::path resolve_path(const std::filesystem::path& base_dir, const std::string& path);

}  // namespace infersim::config
