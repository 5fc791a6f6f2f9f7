#pragma once
// Predicted against measured, and the error statistics of docs/accuracy.md.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "infersim/hardware/hardware_spec.hpp"
#include "infersim/validation/measurement.hpp"

namespace infersim::validation {

/// Hardware profiles by name to use instead of the catalog's (calibration tries candidate profiles).
using HardwareOverrides = std::map<std::string, hardware::HardwareSpec>;

/// infersim's prediction of one row, in the row's unit; throws what the row's computation throws.
double predict(const MeasurementRow& row, const HardwareOverrides& overrides = {});

struct RowResult {
  const MeasurementRow* row = nullptr;
  std::optional<double> predicted;  // nullopt: could not run (error says why)
  std::string error;
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
  ErrorStats overall;
  std::size_t failed = 0;
};

/// Predict every row (rows that cannot run are reported, not fatal) and summarise.
AccuracyReport evaluate(const std::vector<MeasurementRow>& rows, const HardwareOverrides& overrides = {});

std::string report_markdown(const AccuracyReport& r);
std::string report_json(const AccuracyReport& r);
/// The object report_json writes (schema_version, overall, failed, categories, rows).
config::Json report_json_object(const AccuracyReport& r);
/// {"rows", "median_abs_error_pct", "p90_abs_error_pct", "mean_signed_error_pct"}.
config::Json stats_json(const ErrorStats& s);

}  // namespace infersim::validation
