#include "infersim/config/catalog.hpp"

#include <algorithm>
#include <cstdlib>
#include <system_error>

#include "infersim/core/strings.hpp"

#ifndef INFERSIM_SOURCE_CONFIG_DIR
#define INFERSIM_SOURCE_CONFIG_DIR ""
#endif

namespace infersim::config {

namespace fs = std::filesystem;

std::string_view catalog_label(CatalogKind kind) {
  switch (kind) {
    case CatalogKind::hardware: return "hardware";
    case CatalogKind::models: return "model";
    case CatalogKind::engines: return "engine";
  }
  return "";
}

static std::string_view catalog_dir(CatalogKind kind) {
  switch (kind) {
    case CatalogKind::hardware: return "hardware";
    case CatalogKind::models: return "models";
    case CatalogKind::engines: return "engines";
  }
  return "";
}

fs::path config_root() {
  if (const char* env = std::getenv("INFERSIM_CONFIG_DIR"); env && *env) return fs::path(env);
  std::error_code ec;
  const fs::path source(INFERSIM_SOURCE_CONFIG_DIR);
  if (!source.empty() && fs::is_directory(source / "hardware", ec)) return source;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / "share" / "infersim" / "configs";
    if (fs::is_directory(installed, ec)) return installed;
  }
  return source.empty() ? fs::path("configs") : source;
}

std::vector<std::string> catalog_names(CatalogKind kind) {
  std::vector<std::string> names;
  std::error_code ec;
  const fs::path dir = config_root() / catalog_dir(kind);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".json") names.push_back(it->path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

fs::path catalog_path(CatalogKind kind, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos) return {};
  std::error_code ec;
  fs::path p = config_root() / catalog_dir(kind) / (name + ".json");
  return fs::is_regular_file(p, ec) ? p : fs::path{};
}

fs::path resolve_path(const fs::path& base_dir, const std::string& path) {
  fs::path p(path);
  if (p.is_absolute() || base_dir.empty()) return p;
  return base_dir / p;
}

Document load_document(const fs::path& path) {
  Document d;
  d.json = parse_json_file(path.string());
  d.file = path == "-" ? "<stdin>" : path.string();  // "-": standard input; relative paths from the working folder
  d.base_dir = path.parent_path();
  return d;
}

Document resolve_reference(CatalogKind kind, const Json& value, const Document& where, const std::string& pointer) {
  if (value.is_object()) {
    Document d;
    d.json = value;
    d.file = where.file;
    d.pointer = pointer;
    d.base_dir = where.base_dir;
    return d;
  }
  const std::string label(catalog_label(kind));
  if (!value.is_string()) {
    throw ConfigError(where.file, pointer,
                      "expected a " + label + " catalog name, a path to a JSON file, or an inline object; found " +
                          describe_json(value));
  }
  const std::string ref = value.get<std::string>();
  if (fs::path p = catalog_path(kind, ref); !p.empty()) return load_document(p);
  const bool looks_like_path = ref.find('/') != std::string::npos || ref.ends_with(".json");
  if (looks_like_path) {
    const fs::path p = resolve_path(where.base_dir, ref);
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) {
      throw ConfigError(where.file, pointer, "no such " + label + " file: " + p.string());
    }
    return load_document(p);
  }
  const auto names = catalog_names(kind);
  std::string message = "unknown " + label + " \"" + ref + "\"";
  if (auto near = closest_match(ref, names)) message += "; did you mean \"" + *near + "\"?";
  message += " Valid names: " + join(names) + ". A path to a JSON file or an inline object also works.";
  throw ConfigError(where.file, pointer, message);
}

Document resolve_command_line_reference(CatalogKind kind, const std::string& name_or_path) {
  Document where;
  where.file = "<command line>";
  // An argument that opens with '{' is an inline object (`--model '{...}'`, a Python dict), parsed as a file is.
  const auto first = name_or_path.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && name_or_path[first] == '{') {
    return resolve_reference(kind, parse_json_text(name_or_path, where.file), where, "");
  }
  return resolve_reference(kind, Json(name_or_path), where, "");
}

}  // namespace infersim::config
