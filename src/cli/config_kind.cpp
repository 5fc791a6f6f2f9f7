#include "config_kind.hpp"

#include <filesystem>

#include "infersim/config/catalog.hpp"
#include "infersim/core/error.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/scenario/scenario_loader.hpp"

namespace infersim::cli {

namespace {

void check_catalog_name(const config::Document& doc, const std::string& name, config::Diagnostics& d) {
  // A file inside the catalog must be named after its "name" (scenarios refer to it by file name).
  namespace fs = std::filesystem;
  const fs::path p(doc.file);
  const auto parent = p.parent_path().filename().string();
  if ((parent == "hardware" || parent == "models") && p.stem().string() != name) {
    d.error("/name", "catalog file " + p.filename().string() + " must have \"name\": \"" + p.stem().string() +
                         "\" (found \"" + name + "\")");
  }
}

}  // namespace

std::string validate_config_file(const std::string& path) {
  const config::Document doc = config::load_document(path);
  const auto& j = doc.json;
  if (!j.is_object()) throw ConfigError(path, "/", "expected a JSON object at the top level, found " + config::describe_json(j));
  config::Diagnostics d(doc.file);
  if (j.contains("compute") || j.contains("memory") || j.contains("interconnect")) {
    const auto hw = hardware::parse_hardware(doc, d);
    check_catalog_name(doc, hw.name, d);
    d.throw_if_any();
    return "hardware profile " + hw.name;
  }
  if (j.contains("num_layers") || j.contains("hidden_size")) {
    const auto m = model::parse_model(doc, d);
    check_catalog_name(doc, m.name, d);
    d.throw_if_any();
    return "model " + m.name;
  }
  if (j.contains("workload") || j.contains("model") || j.contains("hardware")) {
    const auto sc = scenario::parse_scenario(doc);
    scenario::check_feasible(sc);
    return "scenario " + sc.name;
  }
  throw ConfigError(path, "/",
                    "cannot tell what kind of file this is: a hardware profile has \"compute\" and \"memory\", a model "
                    "has \"num_layers\", a scenario has \"model\", \"hardware\" and \"workload\"");
}

}  // namespace infersim::cli
