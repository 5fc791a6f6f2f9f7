#pragma once
// Fit one hardware profile's efficiency parameters to measurements: compute, memory and network efficiency,
// the per-kernel fixed cost and the scale-up link latency. Nothing is fitted per row. The objective is the
// sum over categories of the mean squared log error of that category's rows (so that the hundreds of
// operator timings do not drown the handful of end-to-end results); Nelder-Mead in transformed coordinates
// keeps every parameter inside its physical range.

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "infersim/hardware/hardware_spec.hpp"
#include "infersim/validation/accuracy.hpp"

namespace infersim::validation {

/// One parameter `calibrate` fits: its name in the profile file (and in the source note's "fitted:" list),
/// where it lives in the spec, its physical range and the rounding it is written with (SI units).
struct CalibratedParameter {
  const char* name;
  double& (*ref)(hardware::HardwareSpec&);
  double lo, hi;
  double round_to;
};

/// The parameters `calibrate` may fit, in a fixed order.
const std::vector<CalibratedParameter>& calibrated_parameters();

/// Names of the parameters a profile's efficiency source note says were fitted ("... fitted: a, b): ..."), as
/// `calibrated_profile_json` writes it; empty when the profile was not calibrated by `calibrate`.
std::vector<std::string> fitted_parameters(const hardware::HardwareSpec& profile);

struct CalibrationResult {
  hardware::HardwareSpec before, after;
  std::vector<std::string> fitted;    // parameters the rows constrain (the others keep their values)
  std::vector<std::string> excluded;  // rows that could not run (not fitted), with the reason
  ErrorStats error_before, error_after;  // over the rows of this hardware
  std::size_t rows = 0;
  int evaluations = 0;
};

/// Latency percentiles under load: near saturation they are dominated by queueing (a 1% change of capacity
/// moves them by tens of percent), so fitting efficiencies to them would distort the capacity. Left out of the
/// fit by default; still reported by `accuracy`.
inline const std::vector<std::string> kDefaultExcludedCategories = {"ttft_p50", "ttft_p99", "tpot_p50", "tpot_p99"};

/// One serving-engine figure a fit may move: the host time tools/fit_engine.py fitted for the shipped
/// tensorrt-llm and vllm profiles (SI units; the name is the profile file's key).
struct EngineParameter {
  const char* name;
  double& (*ref)(serving::ServingEngineSpec&);
  double lo, hi;
  double round_to;
};

/// host_time.per_step_us and host_time.per_sequence_us, in that order.
const std::vector<EngineParameter>& engine_parameters();

/// Categories whose rows fit an engine's host time: those of tools/fit_engine.py's criterion (throughput and
/// the p50 latencies; p99s are left out, as for hardware).
inline const std::vector<std::string> kEngineFitCategories = {"throughput", "ttft_p50", "tpot_p50"};

/// A joint fit of hardware profiles and serving-engine host times (what a hold-out fold refits). The
/// objective is calibrate's (Huber loss on log error, mean over the rows, weak prior towards the start
/// values) over the rows of the fitted hardware (categories not in exclude_categories) and the rows that run
/// on a fitted engine (categories in kEngineFitCategories), each row once. An engine's host time is fitted
/// as one factor on all its engine_parameters() figures (the host time at every batch), its split between
/// per step and per sequence kept as the start's: rows at one batch size pin the former, not the latter.
struct ProfileFitSpec {
  std::vector<std::string> hardware;
  std::vector<std::string> engines;
  HardwareOverrides start_hardware;  // start values of the fitted hardware (missing: the catalog's) and
                                     // profiles of other hardware the rows run on
  EngineOverrides start_engines;     // the same for engines
  int max_evaluations = 300;
  std::vector<std::string> exclude_categories = kDefaultExcludedCategories;
  /// Rate-search shortcuts while fitting (FitSearch); the errors reported before and after are of the rows
  /// as their files say. nullopt: every evaluation runs the rows' full searches.
  std::optional<FitSearch> search = FitSearch{};
};

struct ProfileFitResult {
  HardwareOverrides hardware;  // every fitted profile (its start values where the fit did not improve)
  EngineOverrides engines;
  std::map<std::string, std::vector<std::string>> fitted;  // by hardware or engine name: parameters moved
  std::vector<std::string> excluded;                        // rows that could not run, with the reason
  ErrorStats error_before, error_after;                     // over the fitted rows
  std::size_t rows = 0;
  int evaluations = 0;
};

/// Throws UsageError when no row of the fit can run.
ProfileFitResult fit_profiles(const std::vector<MeasurementRow>& rows, const ProfileFitSpec& spec);

/// Fit the catalog profile `hardware_name`, starting from its shipped values.
CalibrationResult calibrate(const std::vector<MeasurementRow>& rows, const std::string& hardware_name,
                            int max_evaluations = 300,
                            const std::vector<std::string>& exclude_categories = kDefaultExcludedCategories);

/// The same, starting from `start_profile` (priced for the rows of `hardware_name`) instead of the catalog's.
CalibrationResult calibrate(const std::vector<MeasurementRow>& rows, const std::string& hardware_name,
                            const hardware::HardwareSpec& start_profile, int max_evaluations = 300,
                            const std::vector<std::string>& exclude_categories = kDefaultExcludedCategories);

/// The catalog file of `hardware_name` with the calibrated efficiencies, latency and a source note, as JSON text.
std::string calibrated_profile_json(const CalibrationResult& result, const std::string& hardware_name,
                                    const std::vector<std::string>& files);

}  // namespace infersim::validation
