#include "infersim/sweep/evaluate.hpp"

#include "infersim/core/error.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/serving/simulation.hpp"

namespace infersim::sweep {

scenario::Override make_override(const std::string& key, config::Json value) {
  const std::string shown = value.is_string() ? value.get<std::string>() : value.dump();
  return scenario::Override{key, std::move(value), key + "=" + shown};
}

config::Json evaluate(const config::Document& base, const std::vector<scenario::Override>& overrides) {
  config::Document doc = base;
  scenario::apply_overrides(doc.json, overrides);
  const scenario::ScenarioSpec sc = scenario::parse_scenario(doc, overrides);
  return scenario::make_report(scenario::run_scenario(sc));
}

std::string describe_current_exception(bool& internal) {
  internal = false;
  std::string text;
  try {
    throw;
  } catch (const ConfigError& e) {
    for (const auto& d : e.diagnostics()) text += (text.empty() ? "" : "; ") + format_diagnostic(d);
  } catch (const InfeasibleError& e) {
    text = e.what();
  } catch (const UsageError& e) {
    text = e.what();
  } catch (const std::exception& e) {
    internal = true;
    text = std::string("internal error: ") + e.what();
  } catch (...) {
    internal = true;
    text = "internal error: an unknown exception";
  }
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace infersim::sweep
