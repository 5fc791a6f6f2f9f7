// `infersim accuracy FILE...`: every measurement row predicted and compared (docs/accuracy.md), optionally
// guarded against a recorded overall error; `infersim calibrate FILE... --hardware NAME`: fit one profile's
// efficiencies to the rows of that hardware and write the calibrated profile.

#include <array>
#include <cstdio>
#include <optional>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "infersim/core/atomic_file.hpp"
#include "infersim/core/error.hpp"
#include "infersim/core/file_paths.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/validation/calibrate.hpp"
#include "infersim/validation/holdout.hpp"
#include "output.hpp"

namespace infersim::cli {

namespace {

struct AccuracyOptions {
  std::vector<std::string> files;
  std::string format = "table";
  std::string guard;  // JSON with overall median_abs_error_pct recorded; fail when it rises > tolerance
  double tolerance_points = 2.0;
  std::string out;
  std::string holdout;  // row field to leave out one value of at a time (validation::holdout_fields)
  int holdout_max_evaluations = 40;
  std::string holdout_engines = "refit";  // refit | shared: the fitted engines' host time per fold
  int jobs = 1;                           // folds at once
};

constexpr std::array<std::string_view, 2> kHoldoutEngineModes = {"refit", "shared"};

struct GuardRecord {
  double median_abs_error_pct = 0;
  long long rows = 0;
  std::string holdout_field;  // empty: the file records no held-out error
  std::string holdout_engines;  // refit | shared (empty: the command line's)
  double holdout_median_abs_error_pct = 0;
};

GuardRecord read_guard(const std::string& path) {
  const config::Document doc = config::load_document(path);
  config::Diagnostics d(doc.file);
  config::ObjectReader root(doc.json, "", d);
  GuardRecord g;
  // A recorded error of 1e308 would pass any run ("inf% ok"): an error above 1000% is no record of a model.
  g.median_abs_error_pct = root.number("median_abs_error_pct", config::Range::between(0, 1000));
  g.rows = root.integer("rows", config::Range::between(1, 1e9));
  root.string_or("note", "");
  if (root.raw("holdout")) {
    config::ObjectReader h = root.object("holdout");
    static const std::vector<std::string_view> fields(validation::holdout_fields().begin(), validation::holdout_fields().end());
    g.holdout_field = validation::holdout_fields()[h.choice("field", fields)];
    g.holdout_median_abs_error_pct = h.number("median_abs_error_pct", config::Range::between(0, 1000));
    if (h.has("engines")) g.holdout_engines = std::string(kHoldoutEngineModes[h.choice("engines", kHoldoutEngineModes)]);
    h.finish();
  }
  root.finish();
  d.throw_if_any();
  return g;
}

int check_guard(const validation::AccuracyReport& report, const validation::HoldoutReport* holdout,
                const GuardRecord& g, double tolerance_points) {
  const double now = report.overall.median_abs_pct;
  std::fprintf(stderr, "accuracy guard: overall median absolute error %.2f%% over %zu rows (recorded %.2f%% over %lld rows)\n",
               now, report.overall.rows, g.median_abs_error_pct, g.rows);
  int rc = 0;
  if (report.failed > 0) {
    std::fprintf(stderr, "accuracy guard: FAILED: %zu rows could not run\n", report.failed);
    rc = 1;
  }
  if (now > g.median_abs_error_pct + tolerance_points) {
    std::fprintf(stderr, "accuracy guard: FAILED: the error rose by %.2f points (tolerance %.1f); see docs/accuracy.md\n",
                 now - g.median_abs_error_pct, tolerance_points);
    rc = 1;
  }
  if (holdout) {
    const double held = holdout->held_out.overall.median_abs_pct;
    std::fprintf(stderr, "accuracy guard: held out by %s: median absolute error %.2f%% (recorded %.2f%%)\n",
                 holdout->field.c_str(), held, g.holdout_median_abs_error_pct);
    if (holdout->held_out.failed > 0) {
      std::fprintf(stderr, "accuracy guard: FAILED: %zu held-out rows could not run\n", holdout->held_out.failed);
      rc = 1;
    }
    if (held > g.holdout_median_abs_error_pct + tolerance_points) {
      std::fprintf(stderr, "accuracy guard: FAILED: the held-out error rose by %.2f points (tolerance %.1f); see docs/accuracy.md\n",
                   held - g.holdout_median_abs_error_pct, tolerance_points);
      rc = 1;
    }
  }
  return rc;
}

std::vector<NamedPath> measurement_files(const std::vector<std::string>& files) {
  std::vector<NamedPath> inputs;
  for (const auto& f : files) inputs.push_back({"a measurement file", f});
  return inputs;
}

int run_accuracy(const AccuracyOptions& o) {
  auto inputs = measurement_files(o.files);
  inputs.push_back({"the --guard file", o.guard});
  refuse_overwriting_inputs(inputs, {{"--out", o.out}});
  const std::optional<GuardRecord> guard = o.guard.empty() ? std::nullopt : std::optional<GuardRecord>(read_guard(o.guard));
  const auto rows = validation::load_measurements(o.files);
  // A guard that records a held-out error checks it: hold out by its field unless --holdout names one.
  std::string holdout_field = o.holdout;
  if (guard && !guard->holdout_field.empty()) {
    if (holdout_field.empty()) holdout_field = guard->holdout_field;
    if (holdout_field != guard->holdout_field) {
      throw UsageError("--holdout " + holdout_field + ": the --guard file records the error held out by " +
                       guard->holdout_field + "; give --holdout " + guard->holdout_field + " or leave it out");
    }
  }
  const auto report = validation::evaluate(rows);
  std::optional<validation::HoldoutReport> holdout;
  if (!holdout_field.empty()) {
    validation::HoldoutOptions options;
    options.max_evaluations = o.holdout_max_evaluations;
    // A guard's record was made with its engine mode: it is checked with the same.
    options.refit_engines = (guard && !guard->holdout_engines.empty() ? guard->holdout_engines : o.holdout_engines) == "refit";
    options.jobs = o.jobs;
    options.on_fold = [](const validation::HoldoutFold& f, double seconds) {
      std::string fitted;
      for (const auto* list : {&f.refitted, &f.refitted_engines}) {
        for (const auto& x : *list) fitted += (fitted.empty() ? "" : " ") + x;
      }
      std::fprintf(stderr, "holdout: %s: %zu rows, median |error| %.1f%%, fitted %s in %d evaluations, %.0f s\n",
                   f.value.c_str(), f.rows, f.error.median_abs_pct, fitted.empty() ? "nothing" : fitted.c_str(),
                   f.evaluations, seconds);
    };
    holdout = validation::evaluate_holdout(rows, holdout_field, options);
  }
  std::string text;
  if (o.format == "json") {
    config::Json j = validation::report_json_object(report);
    if (holdout) j["holdout"] = validation::holdout_json(*holdout);
    text = j.dump(2) + "\n";
  } else if (o.format == "markdown") {
    text = (holdout ? validation::holdout_markdown(*holdout, report) + "\nIn-sample:\n\n" : std::string()) +
           validation::report_markdown(report);
  } else {
    TextTable summary({"category", "rows", "median |err| %", "p90 |err| %", "mean signed %"}, {false, true, true, true, true});
    auto add = [&](const std::string& name, const validation::ErrorStats& s) {
      summary.add_row({name, std::to_string(s.rows), sig(s.median_abs_pct, 3), sig(s.p90_abs_pct, 3), sig(s.mean_signed_pct, 3)});
    };
    TextTable table({"id", "hardware", "measured", "predicted", "unit", "error %"}, {false, false, true, true, false, true});
    for (const auto& r : report.rows) {
      table.add_row({r.row->id, r.row->hardware, sig(r.row->measured, 4), r.predicted ? sig(*r.predicted, 4) : "failed",
                     r.row->unit, r.predicted ? sig(100.0 * r.error_fraction(), 3) : r.error});
    }
    for (const auto& [category, s] : report.by_category) add(category, s);
    add("overall", report.overall);
    TextTable kinds({"model kind", "rows", "median |err| %", "p90 |err| %", "mean signed %"}, {false, true, true, true, true});
    for (const auto& [kind, s] : report.by_model_kind) {
      kinds.add_row({kind, std::to_string(s.rows), sig(s.median_abs_pct, 3), sig(s.p90_abs_pct, 3), sig(s.mean_signed_pct, 3)});
    }
    std::ostringstream os;
    table.print(os);
    os << '\n';
    summary.print(os);
    os << '\n';
    kinds.print(os);
    if (holdout) {
      TextTable held({"category (held out by " + holdout->field + ")", "rows", "median |err| %", "p90 |err| %",
                      "mean signed %", "in-sample median %"},
                     {false, true, true, true, true, true});
      for (const auto& [category, s] : holdout->held_out.by_category) {
        const auto it = report.by_category.find(category);
        held.add_row({category, std::to_string(s.rows), sig(s.median_abs_pct, 3), sig(s.p90_abs_pct, 3),
                      sig(s.mean_signed_pct, 3), it == report.by_category.end() ? "-" : sig(it->second.median_abs_pct, 3)});
      }
      const auto& s = holdout->held_out.overall;
      held.add_row({"overall", std::to_string(s.rows), sig(s.median_abs_pct, 3), sig(s.p90_abs_pct, 3),
                    sig(s.mean_signed_pct, 3), sig(report.overall.median_abs_pct, 3)});
      for (const auto& [kind, k] : holdout->held_out.by_model_kind) {
        const auto it = report.by_model_kind.find(kind);
        held.add_row({"model kind: " + kind, std::to_string(k.rows), sig(k.median_abs_pct, 3), sig(k.p90_abs_pct, 3),
                      sig(k.mean_signed_pct, 3), it == report.by_model_kind.end() ? "-" : sig(it->second.median_abs_pct, 3)});
      }
      os << '\n';
      held.print(os);
      TextTable folds({"held out", "rows", "median |err| %", "p90 |err| %", "refitted", "transferred", "engines refitted",
                       "engines shared"},
                      {false, true, true, true, false, false, false, false});
      auto list = [](const std::vector<std::string>& v) {
        std::string out;
        for (const auto& x : v) out += (out.empty() ? "" : " ") + x;
        return out.empty() ? std::string("-") : out;
      };
      for (const auto& f : holdout->folds) {
        folds.add_row({f.value, std::to_string(f.rows), sig(f.error.median_abs_pct, 3), sig(f.error.p90_abs_pct, 3),
                       list(f.refitted), list(f.transferred), list(f.refitted_engines), list(f.shared_engines)});
      }
      os << '\n';
      folds.print(os);
    }
    text = os.str();
  }
  if (o.out.empty()) {
    std::cout << text;
  } else {
    write_file_atomically(o.out, text);
  }
  if (guard) return check_guard(report, holdout ? &*holdout : nullptr, *guard, o.tolerance_points);
  return report.failed > 0 || (holdout && holdout->held_out.failed > 0) ? 2 : 0;
}

struct CalibrateOptions {
  std::vector<std::string> files;
  std::string hardware, out;
  int max_evaluations = 300;
  std::vector<std::string> exclude = validation::kDefaultExcludedCategories;
};

int run_calibrate(const CalibrateOptions& o) {
  // --out may be the calibrated profile's own catalog file (that is how a calibration is published).
  refuse_overwriting_inputs(measurement_files(o.files), {{"--out", o.out}});
  const auto rows = validation::load_measurements(o.files);
  const auto r = validation::calibrate(rows, o.hardware, o.max_evaluations, o.exclude);
  auto line = [](const char* what, double before, double after, double scale, const char* unit) {
    std::fprintf(stderr, "  %-32s %10.4g -> %10.4g %s\n", what, before * scale, after * scale, unit);
  };
  std::fprintf(stderr, "calibrate %s: %zu rows, %d evaluations; fitted: ", o.hardware.c_str(), r.rows, r.evaluations);
  for (const auto& f : r.fitted) std::fprintf(stderr, "%s ", f.c_str());
  std::fprintf(stderr, "\n");
  line("efficiency.compute", r.before.efficiency.compute, r.after.efficiency.compute, 1, "");
  line("efficiency.memory", r.before.efficiency.memory, r.after.efficiency.memory, 1, "");
  line("efficiency.network", r.before.efficiency.network, r.after.efficiency.network, 1, "");
  line("kernel_launch_overhead", r.before.efficiency.kernel_launch_overhead_s, r.after.efficiency.kernel_launch_overhead_s, 1e6, "us");
  line("moe_gemm", r.before.efficiency.moe_gemm, r.after.efficiency.moe_gemm, 1, "");
  line("scale_up_latency", r.before.interconnect.scale_up_latency_s, r.after.interconnect.scale_up_latency_s, 1e6, "us");
  std::fprintf(stderr, "  median |error| %.1f%% -> %.1f%%, p90 %.1f%% -> %.1f%%, mean signed %+.1f%% -> %+.1f%%\n",
               r.error_before.median_abs_pct, r.error_after.median_abs_pct, r.error_before.p90_abs_pct,
               r.error_after.p90_abs_pct, r.error_before.mean_signed_pct, r.error_after.mean_signed_pct);
  for (const auto& e : r.excluded) std::fprintf(stderr, "  not fitted: %s\n", e.c_str());
  const std::string profile = validation::calibrated_profile_json(r, o.hardware, o.files);
  if (o.out.empty()) {
    std::cout << profile;
  } else {
    write_file_atomically(o.out, profile);
  }
  return 0;
}

}  // namespace

Command add_accuracy_command(CLI::App& app) {
  auto o = std::make_shared<AccuracyOptions>();
  CLI::App* sub = app.add_subcommand("accuracy", "Predict every measurement row and report the errors (docs/accuracy.md)");
  sub->add_option("files", o->files, "Measurement files (configs/validation/*.json)")->required();
  sub->add_option("--format", o->format, "table (default), markdown or json")->check(one_of({"table", "markdown", "json"}));
  sub->add_option("--out", o->out, "Write the report to this file instead of stdout");
  sub->add_option("--guard", o->guard,
                  "JSON file with the recorded overall error ({\"median_abs_error_pct\": x, \"rows\": n}); exit 1 when "
                  "the overall median rises more than --tolerance points above it or a row cannot run");
  sub->add_option("--tolerance", o->tolerance_points, "Points the guard allows above the recorded error (default 2)")
      ->check(finite_range(0, 100));
  sub->add_option("--holdout", o->holdout,
                  "Also report the held-out error: for each value of this row field, fit the profiles on the other rows "
                  "and predict the rows with that value (hardware, system, group, category, source, file)")
      ->check(one_of(validation::holdout_fields()));
  sub->add_option("--holdout-max-evaluations", o->holdout_max_evaluations,
                  "Objective evaluations allowed to each fold's calibration (default 40)")
      ->check(CLI::Range(10, 100000));
  sub->add_option("--holdout-engines", o->holdout_engines,
                  "refit (default): each fold refits the host time of the fitted serving engines its held-out rows run "
                  "on, on the other rows; shared: every fold uses the catalog's engine profiles")
      ->check(one_of({"refit", "shared"}));
  sub->add_option("--jobs", o->jobs, "Hold-out folds run at once (default 1; the report does not depend on it)")
      ->check(CLI::Range(1, 256));
  return {sub, [o] { return run_accuracy(*o); }};
}

Command add_calibrate_command(CLI::App& app) {
  auto o = std::make_shared<CalibrateOptions>();
  CLI::App* sub = app.add_subcommand("calibrate", "Fit one hardware profile's efficiencies to measurements and write the calibrated profile");
  sub->add_option("files", o->files, "Measurement files (configs/validation/*.json)")->required();
  sub->add_option("--hardware", o->hardware, "Catalog name of the profile to fit (its rows are those with this hardware)")->required();
  sub->add_option("--out", o->out, "Write the calibrated profile here (default: stdout), e.g. configs/hardware/h200-sxm.json");
  sub->add_option("--max-evaluations", o->max_evaluations, "Objective evaluations allowed (default 300)")->check(CLI::Range(10, 100000));
  sub->add_option("--exclude-category", o->exclude,
                  "Categories left out of the fit (default: ttft_p50 ttft_p99 tpot_p50 tpot_p99, latencies under load); "
                  "give 'none' to fit every row")
      ->take_all();
  return {sub, [o] { return run_calibrate(*o); }};
}

}  // namespace infersim::cli
