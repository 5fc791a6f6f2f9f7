#pragma once
// Held-out accuracy (docs/accuracy.md): leave one group of measurement rows out, fit the hardware profiles
// on the other groups, predict the group left out, and report the error of those predictions. The figure a
// user should read is this one: the in-sample error of `accuracy` is that of profiles fitted to the same rows.
//
// For each value v of the grouping field:
//   - every hardware h measured by the held-out rows gets a fold profile that has seen none of them:
//       * start: the catalog profile of h with each calibrated parameter replaced by the median of the
//         independently calibrated profiles that have no row in the held-out group, those of h's architecture
//         when any of them fitted it (`transfer_profile`);
//       * when the other groups have rows of h that `calibrate` can fit, it is then calibrated on them from
//         that start (nothing per row, as `calibrate`);
//   - every serving engine e the held-out rows run on whose host time was fitted to measurements (its
//     catalog profile was, to all of them: tools/fit_engine.py) gets its host time per step and per sequence
//     refitted on the other groups' rows that run on e (throughput, TTFT p50, TPOT p50, as fit_engine.py), from
//     the catalog values, jointly with the hardware above (`fit_profiles`); with no such row it keeps the
//     catalog's and the fold says so;
//   - the held-out rows are predicted with the fold profiles.
// Folds are independent: `jobs` runs them in parallel with the same result.
// Every row is predicted by exactly one fold.

#include <functional>
#include <string>
#include <vector>

#include "infersim/validation/accuracy.hpp"
#include "infersim/validation/calibrate.hpp"

namespace infersim::validation {

/// Row fields a hold-out can group by: hardware, system, group, category, source, file.
const std::vector<std::string>& holdout_fields();

/// The value of `field` in `row` (the field must be one of holdout_fields()).
const std::string& holdout_value(const MeasurementRow& row, const std::string& field);

struct HoldoutFold {
  std::string value;                     // the held-out value of the field
  std::size_t rows = 0;                  // rows held out
  std::vector<std::string> refitted;     // hardware calibrated on the other groups' rows of it
  std::vector<std::string> transferred;  // hardware with no fittable row elsewhere: the other chips' medians
  std::vector<std::string> references;   // calibrated profiles the start values were taken from
  std::vector<std::string> refitted_engines;  // engines whose host time was refitted on the other groups' rows
  std::vector<std::string> shared_engines;    // fitted engines the held-out rows run on, not refittable here
  EngineOverrides engines;                    // the refitted engines' profiles
  int evaluations = 0;                        // objective evaluations of the fold's fit (0: no fit)
  ErrorStats error;                      // of this fold's held-out rows
};

struct HoldoutReport {
  std::string field;
  AccuracyReport held_out;  // every row, predicted by the fold that held it out
  std::vector<HoldoutFold> folds;
};

/// The profile `hardware_name` would get with no measurement of its own: its catalog figures (peaks,
/// memory, links, price) with every calibrated parameter set to the median over `references` of the profiles
/// that fitted it, taken over the references of the same `architecture` (the same cores and kernels: an H100's
/// fit for an H200) when any of them fitted it, else over all of them. A parameter no reference fitted keeps the
/// profile's own value when the profile did not fit it either, and otherwise takes the median of the references'
/// values.
hardware::HardwareSpec transfer_profile(const std::string& hardware_name, const std::vector<std::string>& references);

struct HoldoutOptions {
  int max_evaluations = 40;  // bound of each fold's fit (as `calibrate --max-evaluations`)
  std::vector<std::string> exclude_categories = kDefaultExcludedCategories;  // left out of the hardware fits
  bool refit_engines = true;  // refit the host time of fitted engines per fold (false: the catalog's, shared)
  int jobs = 1;               // folds run at once (each fold's rows also run on all cores)
  /// Called as each fold ends (from the thread that ran it, one call at a time), with its wall time: progress
  /// for a run that takes minutes. Not part of the report, which stays byte-identical.
  std::function<void(const HoldoutFold&, double seconds)> on_fold;
};

/// Engines whose host time was fitted to measurement rows (their profile's host_time source says "fitted"):
/// the ones a fold refits.
bool engine_host_time_fitted(const std::string& engine);

/// Leave-one-group-out evaluation of `rows` grouped by `field`.
HoldoutReport evaluate_holdout(const std::vector<MeasurementRow>& rows, const std::string& field,
                               const HoldoutOptions& options = {});

std::string holdout_markdown(const HoldoutReport& r, const AccuracyReport& in_sample);
/// The JSON object `accuracy --holdout --format json` adds under "holdout".
config::Json holdout_json(const HoldoutReport& r);

}  // namespace infersim::validation
