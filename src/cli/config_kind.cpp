#include "config_kind.hpp"

#include <filesystem>

#include "infersim/config/catalog.hpp"
#include "infersim/core/error.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/plan/plan_spec.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/scenario/scenario_loader.hpp"
#include "infersim/serving/serving_engine_loader.hpp"
#include "infersim/sweep/baseline.hpp"
#include "infersim/sweep/sweep_spec.hpp"
#include "infersim/validation/accuracy.hpp"
#include "infersim/validation/measurement.hpp"

namespace infersim::cli {

namespace {

void check_catalog_name(const config::Document& doc, const std::string& name, config::Diagnostics& d) {
  // A file inside the catalog must be named after its "name" (scenarios refer to it by file name).
  namespace fs = std::filesystem;
  const fs::path p(doc.file);
  const auto parent = p.parent_path().filename().string();
  if ((parent == "hardware" || parent == "models" || parent == "engines") && p.stem().string() != name) {
    d.error("/name", "catalog file " + p.filename().string() + " must have \"name\": \"" + p.stem().string() +
                         "\" (found \"" + name + "\")");
  }
}

/// Parse a scenario with overrides (no simulation); a problem is reported under `what` ("point 3 (...)").
void check_scenario(const config::Document& base, const std::vector<scenario::Override>& overrides, const std::string& what) {
  config::Document doc = base;
  try {
    scenario::apply_overrides(doc.json, overrides);
    (void)scenario::parse_scenario(doc, overrides);
  } catch (const ConfigError& e) {
    std::vector<Diagnostic> items = e.diagnostics();
    for (auto& item : items) item.message = what + ": " + item.message;
    throw ConfigError(items);
  } catch (const UsageError& e) {
    throw ConfigError(doc.file, doc.pointer, what + ": " + e.what());
  }
}

std::string describe_point(const sweep::SweepSpec& spec, std::size_t point) {
  std::string text;
  for (const auto& o : spec.overrides(point)) text += (text.empty() ? "" : ", ") + o.text;
  return "point " + std::to_string(point) + " (" + text + ")";
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
  if (j.contains("host_time") || j.contains("launch")) {
    const auto e = serving::parse_serving_engine(doc, d);
    check_catalog_name(doc, e.name, d);
    d.throw_if_any();
    return "serving engine " + e.name;
  }
  if (j.contains("base") && (j.contains("target") || j.contains("search") || j.contains("objective"))) {
    // A plan: its structure, and every candidate's scenario parses. A candidate that cannot run (does not
    // fit, a parallelism the model cannot take) is one the plan skips, not a mistake in the file.
    const plan::PlanSpec spec = plan::load_plan(path);
    for (std::size_t c = 0; c < spec.candidates(); ++c) {
      try {
        check_scenario(spec.space.base, spec.space.overrides(c), "candidate " + std::to_string(c) + " (" + spec.label(c) + ")");
      } catch (const InfeasibleError&) {
      }
    }
    return "plan of " + std::to_string(spec.candidates()) + " candidates";
  }
  if (j.contains("base")) {
    // A sweep: its structure, and every point's scenario parses (whether each fits is known by running it).
    const sweep::SweepSpec spec = sweep::load_sweep(path);
    for (std::size_t p = 0; p < spec.points(); ++p) check_scenario(spec.base, spec.overrides(p), describe_point(spec, p));
    return "sweep of " + std::to_string(spec.points()) + " points";
  }
  if (j.contains("cases")) {
    const sweep::Baseline b = sweep::load_baseline(path);
    for (const auto& c : b.cases) check_scenario(config::load_document(c.scenario), c.set, "case \"" + c.label + "\"");
    return "baseline of " + std::to_string(b.cases.size()) + " cases";
  }
  if (j.contains("rows")) {
    // A measurement file (configs/validation): its structure, and every row's inputs, without simulating.
    const auto rows = validation::load_measurements({path});
    std::vector<Diagnostic> problems;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& row = rows[i];
      const std::string at = "/rows/" + std::to_string(i);
      try {
        validation::check_row_inputs(row);
      } catch (const ConfigError& e) {
        for (Diagnostic item : e.diagnostics()) {
          item.message = "row \"" + row.id + "\": " + item.message;
          // A problem in the row's own overrides or catalog names is the row's; one inside its base scenario
          // file stays where it is.
          if (item.file.starts_with("--set")) {
            item = {doc.file, at + "/set" + item.path, item.message};
          } else if (item.file == "<command line>") {
            item = {doc.file, at, item.message};
          }
          problems.push_back(std::move(item));
        }
      } catch (const std::runtime_error& e) {  // InfeasibleError, UsageError: the row cannot run as written
        problems.push_back({doc.file, at, "row \"" + row.id + "\": " + e.what()});
      }
    }
    if (!problems.empty()) throw ConfigError(problems);
    return "measurements: " + std::to_string(rows.size()) + " rows";
  }
  if (j.contains("workload") || j.contains("model") || j.contains("hardware")) {
    const auto sc = scenario::parse_scenario(doc);
    scenario::check_feasible(sc);
    return "scenario " + sc.name;
  }
  throw ConfigError(path, "/",
                    "cannot tell what kind of file this is: a hardware profile has \"compute\" and \"memory\", a model "
                    "has \"num_layers\", a serving engine has \"host_time\", a scenario has \"model\", \"hardware\" and \"workload\", a sweep has \"base\" and \"grid\", a plan \"base\" and \"target\", a "
                    "baseline has \"cases\", a measurement file \"rows\"");
}

}  // namespace infersim::cli
