#include "infersim/scenario/study.hpp"

#include <cmath>
#include <cstdio>

#include "infersim/core/error.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/scenario/scenario_loader.hpp"

namespace infersim::scenario {

using config::Json;

StudySpec load_study(const std::string& path) {
  const config::Document doc = config::load_document(path);
  config::Diagnostics d(doc.file);
  config::ObjectReader root(doc.json, "", d);
  StudySpec s;
  s.file = doc.file;
  s.title = root.string("title");
  s.description = root.string_or("description", "");
  const Json* base = root.raw("base");
  if (!base) {
    root.error("base", "missing required key; expected a scenario object or a path to a scenario file");
  } else if (base->is_string()) {
    s.base = config::load_document(config::resolve_path(doc.base_dir, base->get<std::string>()));
  } else if (base->is_object()) {
    s.base = config::Document{*base, doc.file, "/base", doc.base_dir};
  } else {
    root.error("base", "expected a scenario object or a path, found " + config::describe_json(*base));
  }
  const Json* rows = root.raw("rows");
  if (!rows || !rows->is_array() || rows->empty()) {
    root.error("rows", "expected a non-empty list of {\"name\", \"set\"} rows");
  } else {
    for (std::size_t i = 0; i < rows->size(); ++i) {
      config::ObjectReader r((*rows)[i], "/rows/" + std::to_string(i), d);
      StudyRow row;
      row.name = r.string("name");
      row.note = r.string_or("note", "");
      if (const Json* set = r.raw("set")) {
        if (!set->is_object()) {
          r.error("set", "expected an object of dotted keys and values");
        } else {
          for (auto it = set->begin(); it != set->end(); ++it) row.set.emplace_back(it.key(), it.value());
        }
      }
      r.finish();
      s.rows.push_back(std::move(row));
    }
  }
  root.finish();
  d.throw_if_any();
  return s;
}

StudyResult run_study(const StudySpec& study, const std::vector<std::string>& base_overrides) {
  StudyResult out;
  for (const StudyRow& row : study.rows) {
    out.names.push_back(row.name);
    out.notes.push_back(row.note);
    std::vector<Override> overrides;
    for (const auto& text : base_overrides) overrides.push_back(parse_override(text));
    for (const auto& [key, value] : row.set) overrides.push_back(Override{key, value, key + "=" + value.dump()});
    try {
      config::Document doc = study.base;
      apply_overrides(doc.json, overrides);
      const ScenarioSpec sc = parse_scenario(doc, overrides);
      out.reports.push_back(make_report(run_scenario(sc)));
    } catch (const ConfigError& e) {
      out.reports.push_back(Json{{"error", std::string(e.what())}});
    } catch (const InfeasibleError& e) {
      out.reports.push_back(Json{{"error", std::string(e.what())}});
    } catch (const UsageError& e) {
      out.reports.push_back(Json{{"error", std::string(e.what())}});
    }
  }
  return out;
}

namespace {

std::string fmt(double v, const char* spec) {
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

std::string value_or_na(const Json& j, const char* spec, double scale = 1.0) {
  return j.is_number() ? fmt(j.get<double>() * scale, spec) : std::string("n/a");
}

std::string pools_text(const Json& report, const char* what) {
  std::string out;
  for (const auto& p : report["deployment"]["pools"]) {
    if (!out.empty()) out += " + ";
    out += p[what].get<std::string>();
  }
  return out;
}

}  // namespace

std::string study_markdown(const StudySpec& study, const StudyResult& r) {
  std::string out = "## " + study.title + "\n\n";
  if (!study.description.empty()) out += study.description + "\n\n";
  out +=
      "| technique | model | hardware | chips | $ / M output tokens (all-in) | vs first | $ / M tokens | TTFT p50 / p99 (ms) | "
      "TPOT p50 / p99 (ms) | output tokens/s | SLO met | notes |\n";
  out += "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  double first_cost = std::nan("");
  for (std::size_t i = 0; i < r.reports.size(); ++i) {
    const Json& j = r.reports[i];
    if (j.contains("error")) {
      out += "| " + r.names[i] + " | | | | | | | | | | | cannot run: " + j["error"].get<std::string>() + " |\n";
      continue;
    }
    const Json& m = j["metrics"];
    // All-in: the whole deployment's cost over the output tokens, as per-token price lists are quoted, so that
    // techniques that move work between prefill and decode compare on the same footing.
    const Json& cost = m["cost"]["usd_per_million_output_tokens_all_in"];
    std::string change = "";
    if (cost.is_number()) {
      if (std::isnan(first_cost)) first_cost = i == 0 ? cost.get<double>() : std::nan("");
      if (i > 0 && !std::isnan(first_cost)) change = fmt(100.0 * (cost.get<double>() / first_cost - 1.0), "%+.0f%%");
    }
    out += "| " + r.names[i] + " | " + pools_text(j, "model") + " | " + pools_text(j, "hardware") + " | " +
           std::to_string(j["deployment"]["chips"].get<int>()) + " | " + value_or_na(cost, "%.3f") + " | " + change +
           " | " + value_or_na(m["cost"]["usd_per_million_total_tokens"], "%.3f") + " | " +
           value_or_na(m["ttft_s"]["p50"], "%.0f", 1e3) + " / " + value_or_na(m["ttft_s"]["p99"], "%.0f", 1e3) + " | " +
           value_or_na(m["tpot_s"]["p50"], "%.1f", 1e3) + " / " + value_or_na(m["tpot_s"]["p99"], "%.1f", 1e3) + " | " +
           value_or_na(m["throughput"]["output_tokens_per_s"], "%.0f") + " | " +
           (m.contains("slo") ? value_or_na(m["slo"]["attainment"], "%.0f%%", 100.0) : std::string("-")) + " | " +
           r.notes[i] + " |\n";
  }
  return out;
}

std::string study_csv(const StudyResult& r) {
  std::string header = "technique,error", rows;
  bool have_header = false;
  for (std::size_t i = 0; i < r.reports.size(); ++i) {
    const Json& j = r.reports[i];
    std::string row = csv_cell(Json(r.names[i])) + "," + (j.contains("error") ? csv_cell(j["error"]) : std::string());
    if (!j.contains("error")) {
      const auto cells = flatten(Json{{"metrics", j["metrics"]}});
      for (const auto& [key, value] : cells) {
        if (!have_header) header += "," + key;
        row += "," + csv_cell(value);
      }
      have_header = true;
    }
    rows += row + "\n";
  }
  return header + "\n" + rows;
}

}  // namespace infersim::scenario
