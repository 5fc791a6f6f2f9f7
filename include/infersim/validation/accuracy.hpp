#pragma once
// Predicted against measured, and the error statistics of docs/accuracy.md.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "infersim/hardware/hardware_spec.hpp"
#include "infersim/serving/serving_engine.hpp"
#include "infersim/validation/measurement.hpp"

namespace infersim::validation {

/// Hardware profiles by name to use instead of the catalog's (calibration tries candidate profiles).
using HardwareOverrides = std::map<std::string, hardware::HardwareSpec>;

/// Serving-engine profiles by name to use instead of the catalog's (a hold-out fold refits host times).
using EngineOverrides = std::map<std::string, serving::ServingEngineSpec>;

/// Shortcuts for rows that a fit evaluates over and over with slightly different profiles (calibrate, the
/// hold-out's folds). A row's rate search (`slo.find_max_rate`, MLPerf Server) runs
///   - to max(the row's tolerance, relative_tolerance) (1%, the MLPerf rows' own: a warm search costs the same
///     at 1% as at 2%, since its first step is twice the tolerance, and a coarser one makes the found rate
///     stickier from one evaluation to the next);
///   - with at most max_duration_s seconds of arrivals per trial (MLPerf's minimum run is 600 s; NVIDIA's
///     2,400 s runs only steady the p99 further);
///   - from a warm start: the rate the previous evaluation of the same row scenario found, searched outward
///     (scenario::RateSearchSpec::start_rate_per_s).
/// Predictions that are reported never use them. Deterministic: the fit evaluates one profile after another
/// and each row scenario's search is run once per evaluation, so its start is that of the evaluation before.
struct FitSearch {
  double relative_tolerance = 0.01;
  double max_duration_s = 600;
  struct Hints {
    std::mutex mutex;
    std::map<std::string, double> rate_per_s;  // by row scenario (file, JSON and overrides)
  };
  std::shared_ptr<Hints> hints = std::make_shared<Hints>();
};

/// How evaluate() runs the rows, beyond the hardware profiles.
struct EvaluationOptions {
  EngineOverrides engines;
  std::optional<FitSearch> fit;  // set while fitting; nullopt for reported predictions
};

/// infersim's prediction of one row, in the row's unit; throws what the row's computation throws.
double predict(const MeasurementRow& row, const HardwareOverrides& overrides = {});

/// Names of the serving engines the row's scenario runs on (its ratio's two sides included; empty for kernel
/// rows). Throws what parsing the scenario throws.
std::vector<std::string> row_engines(const MeasurementRow& row);

/// Check everything a row's prediction reads without simulating: a scenario row's base scenario with its overrides
/// parses and fits in memory (each of a ratio row's two), and a kernel row's catalog names and shape price (one
/// roofline each, as cheap as parsing). Throws what the prediction would: ConfigError, InfeasibleError, UsageError.
void check_row_inputs(const MeasurementRow& row);

struct RowResult {
  const MeasurementRow* row = nullptr;
  std::optional<double> predicted;  // nullopt: could not run (error says why)
  std::string error;
  std::string model_kind;  // row_model_kind(*row), set by evaluate()
  double error_fraction() const { return (*predicted - row->measured) / row->measured; }
};

struct ErrorStats {
  std::size_t rows = 0;
  double median_abs_pct = 0, p90_abs_pct = 0, mean_signed_pct = 0;
};

ErrorStats error_stats(const std::vector<RowResult>& results);

struct AccuracyReport {
  std::vector<RowResult> rows;
  std::map<std::string, ErrorStats> by_category;
  std::map<std::string, ErrorStats> by_model_kind;  // by RowResult::model_kind: dense, moe, none
  ErrorStats overall;
  std::size_t failed = 0;
};

/// The kind of model a row measures: "moe" when its model has more than one routed expert, "dense" otherwise,
/// "none" for kernel rows that name no model (gemm, all_reduce, copy). Scenario rows read the model of the
/// row's scenario with its overrides (a ratio's baseline side); throws what parsing the scenario throws.
std::string row_model_kind(const MeasurementRow& row);

/// Fill failed, by_category, by_model_kind and overall from the report's rows.
void summarize_report(AccuracyReport& report);

/// Predict every row (rows that cannot run are reported, not fatal) and summarise.
AccuracyReport evaluate(const std::vector<MeasurementRow>& rows, const HardwareOverrides& overrides = {},
                        const EvaluationOptions& options = {});

std::string report_markdown(const AccuracyReport& r);
std::string report_json(const AccuracyReport& r);
/// The object report_json writes (schema_version, overall, failed, categories, model_kinds, rows).
config::Json report_json_object(const AccuracyReport& r);
/// {"rows", "median_abs_error_pct", "p90_abs_error_pct", "mean_signed_error_pct"}.
config::Json stats_json(const ErrorStats& s);

}  // namespace infersim::validation
