#include "infersim/validation/holdout.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "infersim/config/catalog.hpp"
#include "infersim/config/json_reader.hpp"
#include "infersim/core/error.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/validation/calibrate.hpp"

namespace infersim::validation {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

std::string pct(double x, const char* format = "%.1f%%") {
  char b[32];
  std::snprintf(b, sizeof b, format, x);
  return b;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "-" : out;
}

}  // namespace

const std::vector<std::string>& holdout_fields() {
  static const std::vector<std::string> fields = {"hardware", "system", "group", "category", "source", "file"};
  return fields;
}

const std::string& holdout_value(const MeasurementRow& row, const std::string& field) {
  if (field == "hardware") return row.hardware;
  if (field == "system") return row.system;
  if (field == "group") return row.group;
  if (field == "category") return row.category;
  if (field == "source") return row.source;
  if (field == "file") return row.file;
  throw UsageError("--holdout " + field + ": expected one of hardware, system, group, category, source, file");
}

hardware::HardwareSpec transfer_profile(const std::string& hardware_name, const std::vector<std::string>& references) {
  hardware::HardwareSpec out = hardware::load_hardware(hardware_name);
  const std::vector<std::string> own_fitted = fitted_parameters(out);
  // A reference with the same cores and kernels as the chip.
  auto kin_of = [&](const hardware::HardwareSpec& r) {
    return !out.architecture.empty() && r.architecture == out.architecture;
  };
  std::vector<hardware::HardwareSpec> refs;
  std::vector<std::string> kin;
  for (const auto& name : references) {
    refs.push_back(hardware::load_hardware(name));
    if (kin_of(refs.back())) kin.push_back(name);
  }
  for (const auto& p : calibrated_parameters()) {
    std::vector<double> fitted, fitted_kin, all;
    for (auto& r : refs) {
      all.push_back(p.ref(r));
      if (!contains(fitted_parameters(r), p.name)) continue;
      fitted.push_back(p.ref(r));
      if (kin_of(r)) fitted_kin.push_back(p.ref(r));
    }
    if (!fitted_kin.empty()) {
      p.ref(out) = median(fitted_kin);
    } else if (!fitted.empty()) {
      p.ref(out) = median(fitted);
    } else if (contains(own_fitted, p.name) && !all.empty()) {
      p.ref(out) = median(all);  // the profile's own value was fitted (to the rows held out): not usable
    }
  }
  std::string from = kin.empty() ? "the medians of " + joined(references)
                                 : "those of " + joined(kin) + " (same architecture, " + out.architecture +
                                       ") where fitted, else the medians of " + joined(references);
  out.efficiency.source = "Held-out start: calibrated parameters are " + from + "; " + out.efficiency.source;
  return out;
}

bool engine_host_time_fitted(const std::string& engine) {
  // The catalog file's own account of its host time ("fitted: ..." by tools/fit_engine.py or by hand).
  const config::Document doc = config::resolve_command_line_reference(config::CatalogKind::engines, engine);
  const config::Json* source = config::find_dotted(doc.json, "host_time.source");
  return source && source->is_string() && source->get<std::string>().starts_with("fitted");
}

namespace {

/// One fold: the held-out rows predicted by profiles fitted without them.
HoldoutFold run_fold(const std::vector<MeasurementRow>& rows, const std::string& field, const std::string& value,
                     const std::vector<std::string>& calibrated, const HoldoutOptions& options,
                     std::vector<RowResult>& held_out_rows) {
  HoldoutFold fold;
  fold.value = value;
  std::vector<MeasurementRow> held, train;
  std::vector<std::size_t> held_index;
  std::set<std::string> held_hardware, held_engines;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (holdout_value(rows[i], field) == value) {
      held.push_back(rows[i]);
      held_index.push_back(i);
      held_hardware.insert(rows[i].hardware);
      if (rows[i].kind == RowKind::scenario || rows[i].kind == RowKind::ratio) {
        try {
          for (const auto& e : row_engines(rows[i])) held_engines.insert(e);
        } catch (const std::runtime_error&) {
          // cannot be parsed: its prediction reports why
        }
      }
    } else {
      train.push_back(rows[i]);
    }
  }
  fold.rows = held.size();
  // A calibrated profile is a clean reference when none of the rows it was fitted to (its own hardware's) is
  // held out in this fold.
  for (const auto& h : calibrated) {
    if (!held_hardware.count(h)) fold.references.push_back(h);
  }
  ProfileFitSpec fit;
  fit.max_evaluations = options.max_evaluations;
  fit.exclude_categories = options.exclude_categories;
  std::vector<std::string> start_only;
  for (const auto& h : held_hardware) {
    fit.start_hardware[h] = transfer_profile(h, fold.references);
    bool fittable = false;
    for (const auto& r : train) {
      fittable = fittable || (r.hardware == h && !contains(options.exclude_categories, r.category));
    }
    (fittable ? fit.hardware : start_only).push_back(h);
  }
  // Engines whose host time was fitted to rows (possibly these): refitted on the other rows that run on them.
  for (const auto& e : held_engines) {
    if (!engine_host_time_fitted(e)) continue;
    bool fittable = false;
    if (!options.refit_engines) {
      fold.shared_engines.push_back(e);
      continue;
    }
    for (const auto& r : train) {
      if (fittable || !contains(kEngineFitCategories, r.category)) continue;
      if (r.kind != RowKind::scenario && r.kind != RowKind::ratio) continue;
      try {
        fittable = contains(row_engines(r), e);
      } catch (const std::runtime_error&) {
      }
    }
    (fittable ? fit.engines : fold.shared_engines).push_back(e);
  }
  HardwareOverrides profiles = fit.start_hardware;
  EngineOverrides engines;
  if (!fit.hardware.empty() || !fit.engines.empty()) {
    try {
      const ProfileFitResult r = fit_profiles(train, fit);
      for (const auto& [h, spec] : r.hardware) profiles[h] = spec;
      engines = r.engines;
      fold.engines = r.engines;
      fold.evaluations = r.evaluations;
      fold.refitted = fit.hardware;
      fold.refitted_engines = fit.engines;
    } catch (const UsageError&) {
      // none of those rows can run: as if there were none
      start_only.insert(start_only.end(), fit.hardware.begin(), fit.hardware.end());
      fold.shared_engines.insert(fold.shared_engines.end(), fit.engines.begin(), fit.engines.end());
    }
  }
  std::sort(start_only.begin(), start_only.end());
  fold.transferred = start_only;
  const AccuracyReport predicted = evaluate(held, profiles, EvaluationOptions{engines, std::nullopt});
  fold.error = error_stats(predicted.rows);
  for (std::size_t k = 0; k < held.size(); ++k) {
    RowResult r = predicted.rows[k];
    r.row = &rows[held_index[k]];  // point at the caller's row, not the fold's copy
    held_out_rows[held_index[k]] = r;
  }
  return fold;
}

}  // namespace

HoldoutReport evaluate_holdout(const std::vector<MeasurementRow>& rows, const std::string& field,
                               const HoldoutOptions& options) {
  HoldoutReport out;
  out.field = field;
  std::set<std::string> value_set;
  for (const auto& r : rows) value_set.insert(holdout_value(r, field));
  if (value_set.size() < 2) {
    throw UsageError("--holdout " + field + ": the rows have " + std::to_string(value_set.size()) +
                     " value of it; leaving one group out needs at least two");
  }
  const std::vector<std::string> values(value_set.begin(), value_set.end());
  // Profiles that were calibrated on their own rows: the candidates to take start values from.
  std::set<std::string> all_hardware;
  for (const auto& r : rows) all_hardware.insert(r.hardware);
  std::vector<std::string> calibrated;
  for (const auto& h : all_hardware) {
    if (!fitted_parameters(hardware::load_hardware(h)).empty()) calibrated.push_back(h);
  }

  // Each fold writes its own slot and its own rows: the result does not depend on the number of jobs.
  out.held_out.rows.resize(rows.size());
  out.folds.resize(values.size());
  std::vector<std::exception_ptr> errors(values.size());
  std::atomic<std::size_t> next{0};
  std::mutex progress;
  auto work = [&] {
    for (std::size_t i = next++; i < values.size(); i = next++) {
      try {
        const auto start = std::chrono::steady_clock::now();
        out.folds[i] = run_fold(rows, field, values[i], calibrated, options, out.held_out.rows);
        if (options.on_fold) {
          const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
          std::lock_guard<std::mutex> lock(progress);
          options.on_fold(out.folds[i], took.count());
        }
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  const std::size_t jobs = std::clamp<std::size_t>(static_cast<std::size_t>(std::max(1, options.jobs)), 1, values.size());
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < jobs; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  summarize_report(out.held_out);
  return out;
}

std::string holdout_markdown(const HoldoutReport& r, const AccuracyReport& in_sample) {
  std::string out = "Held out by " + r.field + " (" + std::to_string(r.folds.size()) + " folds):\n\n";
  out += "| category | rows | held-out median | held-out p90 | held-out mean signed | in-sample median | in-sample p90 |\n"
         "|---|---:|---:|---:|---:|---:|---:|\n";
  auto line = [&](const std::string& name, const ErrorStats& h, const ErrorStats& s) {
    out += "| " + name + " | " + std::to_string(h.rows) + " | " + pct(h.median_abs_pct) + " | " + pct(h.p90_abs_pct) +
           " | " + pct(h.mean_signed_pct, "%+.1f%%") + " | " + pct(s.median_abs_pct) + " | " + pct(s.p90_abs_pct) + " |\n";
  };
  for (const auto& [category, s] : r.held_out.by_category) {
    const auto it = in_sample.by_category.find(category);
    line(category, s, it == in_sample.by_category.end() ? ErrorStats{} : it->second);
  }
  line("**overall**", r.held_out.overall, in_sample.overall);
  out += "\n| model kind | rows | held-out median | held-out p90 | held-out mean signed | in-sample median | in-sample p90 |\n"
         "|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& [kind, s] : r.held_out.by_model_kind) {
    const auto it = in_sample.by_model_kind.find(kind);
    line(kind, s, it == in_sample.by_model_kind.end() ? ErrorStats{} : it->second);
  }
  out += "\n| held out | rows | median | p90 | refitted on the rest | transferred | engines refitted | engines shared | "
         "start values from |\n|---|---:|---:|---:|---|---|---|---|---|\n";
  for (const auto& f : r.folds) {
    out += "| " + f.value + " | " + std::to_string(f.rows) + " | " + pct(f.error.median_abs_pct) + " | " +
           pct(f.error.p90_abs_pct) + " | " + joined(f.refitted) + " | " + joined(f.transferred) + " | " +
           joined(f.refitted_engines) + " | " + joined(f.shared_engines) + " | " + joined(f.references) + " |\n";
  }
  return out;
}

config::Json holdout_json(const HoldoutReport& r) {
  // The held-out predictions as `accuracy --format json` reports rows, plus the field and the folds.
  config::Json out = report_json_object(r.held_out);
  out.erase("schema_version");
  out["field"] = r.field;
  config::Json folds = config::Json::array();
  for (const auto& f : r.folds) {
    folds.push_back({{"value", f.value},
                     {"rows", f.rows},
                     {"error", stats_json(f.error)},
                     {"refitted", f.refitted},
                     {"transferred", f.transferred},
                     {"refitted_engines", f.refitted_engines},
                     {"shared_engines", f.shared_engines},
                     {"references", f.references}});
    config::Json engines = config::Json::object();
    for (auto [name, spec] : f.engines) {  // a copy: the parameters' accessors take a mutable spec
      config::Json e = config::Json::object();
      for (const auto& p : engine_parameters()) e[p.name] = p.ref(spec) * 1e6;
      engines[name] = e;
    }
    folds.back()["engines"] = engines;
  }
  out["folds"] = folds;
  return out;
}

}  // namespace infersim::validation
