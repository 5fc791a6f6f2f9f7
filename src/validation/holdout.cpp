#include "infersim/validation/holdout.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

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
  std::vector<hardware::HardwareSpec> refs;
  for (const auto& name : references) refs.push_back(hardware::load_hardware(name));
  for (const auto& p : calibrated_parameters()) {
    std::vector<double> fitted, all;
    for (auto& r : refs) {
      all.push_back(p.ref(r));
      if (contains(fitted_parameters(r), p.name)) fitted.push_back(p.ref(r));
    }
    if (!fitted.empty()) {
      p.ref(out) = median(fitted);
    } else if (contains(own_fitted, p.name) && !all.empty()) {
      p.ref(out) = median(all);  // the profile's own value was fitted (to the rows held out): not usable
    }
  }
  std::string from = joined(references);
  out.efficiency.source = "Held-out start: calibrated parameters are the medians of " + from + "; " + out.efficiency.source;
  return out;
}

HoldoutReport evaluate_holdout(const std::vector<MeasurementRow>& rows, const std::string& field, int max_evaluations,
                               const std::vector<std::string>& exclude_categories) {
  HoldoutReport out;
  out.field = field;
  std::set<std::string> values;
  for (const auto& r : rows) values.insert(holdout_value(r, field));
  if (values.size() < 2) {
    throw UsageError("--holdout " + field + ": the rows have " + std::to_string(values.size()) +
                     " value of it; leaving one group out needs at least two");
  }
  // Profiles that were calibrated on their own rows: the candidates to take start values from.
  std::set<std::string> all_hardware;
  for (const auto& r : rows) all_hardware.insert(r.hardware);
  std::vector<std::string> calibrated;
  for (const auto& h : all_hardware) {
    if (!fitted_parameters(hardware::load_hardware(h)).empty()) calibrated.push_back(h);
  }

  out.held_out.rows.resize(rows.size());
  for (const auto& value : values) {
    HoldoutFold fold;
    fold.value = value;
    std::vector<MeasurementRow> held, train;
    std::vector<std::size_t> held_index;
    std::set<std::string> held_hardware;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (holdout_value(rows[i], field) == value) {
        held.push_back(rows[i]);
        held_index.push_back(i);
        held_hardware.insert(rows[i].hardware);
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
    HardwareOverrides profiles;
    for (const auto& h : held_hardware) {
      const hardware::HardwareSpec start = transfer_profile(h, fold.references);
      bool fittable = false;
      for (const auto& r : train) {
        fittable = fittable || (r.hardware == h && !contains(exclude_categories, r.category));
      }
      if (fittable) {
        try {
          profiles[h] = calibrate(train, h, start, max_evaluations, exclude_categories).after;
          fold.refitted.push_back(h);
          continue;
        } catch (const UsageError&) {
          // none of those rows can run: as if there were none
        }
      }
      profiles[h] = start;
      fold.transferred.push_back(h);
    }
    const AccuracyReport predicted = evaluate(held, profiles);
    fold.error = error_stats(predicted.rows);
    for (std::size_t k = 0; k < held.size(); ++k) {
      RowResult r = predicted.rows[k];
      r.row = &rows[held_index[k]];  // point at the caller's row, not the fold's copy
      out.held_out.rows[held_index[k]] = r;
    }
    out.folds.push_back(std::move(fold));
  }
  std::map<std::string, std::vector<RowResult>> by_category;
  for (const auto& r : out.held_out.rows) {
    if (!r.predicted) ++out.held_out.failed;
    by_category[r.row->category].push_back(r);
  }
  for (const auto& [category, results] : by_category) out.held_out.by_category[category] = error_stats(results);
  out.held_out.overall = error_stats(out.held_out.rows);
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
  out += "\n| held out | rows | median | p90 | refitted on the rest | transferred | start values from |\n"
         "|---|---:|---:|---:|---|---|---|\n";
  for (const auto& f : r.folds) {
    out += "| " + f.value + " | " + std::to_string(f.rows) + " | " + pct(f.error.median_abs_pct) + " | " +
           pct(f.error.p90_abs_pct) + " | " + joined(f.refitted) + " | " + joined(f.transferred) + " | " +
           joined(f.references) + " |\n";
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
                     {"references", f.references}});
  }
  out["folds"] = folds;
  return out;
}

}  // namespace infersim::validation
