#include "infersim/validation/calibrate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <numeric>
#include <sstream>

#include "infersim/config/catalog.hpp"
#include "infersim/core/error.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/serving/serving_engine_loader.hpp"

namespace infersim::validation {

namespace {

using Param = CalibratedParameter;

// A maximum a posteriori fit: rows scatter by ~kRowSigma in log for reasons no efficiency explains, and a
// profile's starting values are known to ~kParamSigma (datasheets, measured peaks of similar chips). With n rows
// the prior weighs (kRowSigma / kParamSigma)^2 / n per parameter: negligible with a hundred kernel timings,
// decisive with two throughput results.
constexpr double kRowSigma = 0.10, kParamSigma = 0.20;
// An engine's host time has no datasheet: its start (the catalog's figure, itself a fit) is a guess known to
// within a factor of e, so the rows decide it even when they are few.
constexpr double kEngineParamSigma = 1.0;
constexpr double kHuberDelta = 0.25;  // log error beyond which a row's loss grows linearly

// Parameters move in an unbounded coordinate u; value = lo + (hi - lo) * logistic(u).
double to_value(const Param& p, double u) { return p.lo + (p.hi - p.lo) / (1.0 + std::exp(-u)); }
/// The coordinate of value v, kept off the ends of the range: at a bound the logistic is flat and the simplex
/// could not move away from it (a profile calibrated before to its bound must still be refittable).
double to_coordinate(const Param& p, double v) {
  const double f = std::clamp((v - p.lo) / (p.hi - p.lo), 0.02, 0.98);
  return std::log(f / (1.0 - f));
}

/// Mean Huber loss of the log errors over the rows: least squares for errors up to kHuberDelta, linear
/// beyond, so that a few rows far off for reasons no efficiency explains (a published baseline that is not an
/// efficient engine, an unknown dataset) do not drag every other prediction towards them.
double loss(const std::vector<RowResult>& results) {
  double sum = 0;
  for (const auto& row : results) {
    const double e = std::abs(row.predicted && *row.predicted > 0 ? std::log(*row.predicted / row.row->measured) : 5.0);
    sum += e <= kHuberDelta ? e * e : kHuberDelta * (2 * e - kHuberDelta);
  }
  return sum / static_cast<double>(std::max<std::size_t>(1, results.size()));
}

/// Nelder-Mead minimisation (standard coefficients) from x0 with initial steps `step`.
std::vector<double> nelder_mead(const std::function<double(const std::vector<double>&)>& f, std::vector<double> x0,
                                double step, int max_evaluations, int& evaluations) {
  const std::size_t n = x0.size();
  std::vector<std::vector<double>> simplex(n + 1, x0);
  for (std::size_t i = 0; i < n; ++i) simplex[i + 1][i] += step;
  std::vector<double> value(n + 1);
  for (std::size_t i = 0; i <= n; ++i) value[i] = f(simplex[i]);
  evaluations += static_cast<int>(n + 1);
  std::vector<std::size_t> order(n + 1);
  auto point = [&](const std::vector<double>& c, const std::vector<double>& w, double t) {
    std::vector<double> p(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = c[i] + t * (w[i] - c[i]);
    return p;
  };
  while (evaluations < max_evaluations) {
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return value[a] < value[b]; });
    const std::size_t best = order.front(), worst = order.back(), second = order[n - 1];
    if (value[worst] - value[best] < 1e-9 * (1.0 + std::abs(value[best]))) break;
    std::vector<double> centroid(n, 0.0);
    for (std::size_t k = 0; k < n; ++k) {
      for (std::size_t i = 0; i < n; ++i) centroid[i] += simplex[order[k]][i] / static_cast<double>(n);
    }
    const auto reflected = point(centroid, simplex[worst], -1.0);
    const double fr = f(reflected);
    ++evaluations;
    if (fr < value[best]) {
      const auto expanded = point(centroid, simplex[worst], -2.0);
      const double fe = f(expanded);
      ++evaluations;
      if (fe < fr) {
        simplex[worst] = expanded, value[worst] = fe;
      } else {
        simplex[worst] = reflected, value[worst] = fr;
      }
    } else if (fr < value[second]) {
      simplex[worst] = reflected, value[worst] = fr;
    } else {
      const bool outside = fr < value[worst];
      const auto contracted = point(centroid, outside ? reflected : simplex[worst], 0.5);
      const double fc = f(contracted);
      ++evaluations;
      if (fc < (outside ? fr : value[worst])) {
        simplex[worst] = contracted, value[worst] = fc;
      } else {
        for (std::size_t k = 1; k <= n; ++k) {  // shrink towards the best point
          simplex[order[k]] = point(simplex[best], simplex[order[k]], 0.5);
          value[order[k]] = f(simplex[order[k]]);
          ++evaluations;
        }
      }
    }
  }
  return simplex[static_cast<std::size_t>(std::min_element(value.begin(), value.end()) - value.begin())];
}

std::string pct(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", x);
  return b;
}

}  // namespace

const std::vector<CalibratedParameter>& calibrated_parameters() {
  static const std::vector<CalibratedParameter> params = {
      {"efficiency.compute", [](hardware::HardwareSpec& h) -> double& { return h.efficiency.compute; }, 0.15, 1.0, 1e-3},
      {"efficiency.memory", [](hardware::HardwareSpec& h) -> double& { return h.efficiency.memory; }, 0.2, 1.0, 1e-3},
      {"efficiency.network", [](hardware::HardwareSpec& h) -> double& { return h.efficiency.network; }, 0.1, 1.0, 1e-3},
      {"efficiency.moe_gemm", [](hardware::HardwareSpec& h) -> double& { return h.efficiency.moe_gemm; }, 0.2, 1.0, 1e-3},
      {"efficiency.kernel_launch_overhead_us",
       [](hardware::HardwareSpec& h) -> double& { return h.efficiency.kernel_launch_overhead_s; }, 0.2e-6, 50e-6, 1e-8},
      {"interconnect.scale_up_latency_us",
       [](hardware::HardwareSpec& h) -> double& { return h.interconnect.scale_up_latency_s; }, 0.1e-6, 30e-6, 1e-8},
  };
  return params;
}

std::vector<std::string> fitted_parameters(const hardware::HardwareSpec& profile) {
  const std::string& note = profile.efficiency.source;
  std::vector<std::string> out;
  if (!note.starts_with("Calibrated with")) return out;
  const auto start = note.find("fitted: ");
  if (start == std::string::npos) return out;
  const auto end = note.find(')', start);
  const std::string list = note.substr(start + 8, end == std::string::npos ? std::string::npos : end - start - 8);
  for (const auto& p : calibrated_parameters()) {
    // Whole names only: "efficiency.compute" must not match inside a longer name.
    const std::string name = p.name;
    for (std::size_t at = list.find(name); at != std::string::npos; at = list.find(name, at + 1)) {
      const std::size_t after = at + name.size();
      const bool starts = at == 0 || list[at - 1] == ' ' || list[at - 1] == ',';
      const bool ends = after == list.size() || list[after] == ',' || list[after] == ' ';
      if (starts && ends) {
        out.push_back(name);
        break;
      }
    }
  }
  return out;
}

CalibrationResult calibrate(const std::vector<MeasurementRow>& all_rows, const std::string& hardware_name,
                            int max_evaluations, const std::vector<std::string>& exclude_categories) {
  return calibrate(all_rows, hardware_name, hardware::load_hardware(hardware_name), max_evaluations,
                   exclude_categories);
}

const std::vector<EngineParameter>& engine_parameters() {
  static const std::vector<EngineParameter> params = {
      {"host_time.per_step_us", [](serving::ServingEngineSpec& e) -> double& { return e.host_time.per_step_s; }, 10e-6,
       50e-3, 1e-6},
      {"host_time.per_sequence_us", [](serving::ServingEngineSpec& e) -> double& { return e.host_time.per_sequence_s; },
       0.1e-6, 200e-6, 1e-8},
  };
  return params;
}

namespace {

/// The profiles one evaluation of a fit runs with.
struct Profiles {
  HardwareOverrides hardware;
  EngineOverrides engines;
};

/// A fitted coordinate of one hardware profile or engine. The simplex moves u; `set` writes the values u
/// stands for into Profiles (rounded as the profile files write them when asked), and `log_ratio` says how far
/// u is from the start (log of value over start value) for the prior.
struct Knob {
  std::string owner, name;
  std::function<void(Profiles&, double u, bool round)> set;
  double u0;     // the start's coordinate
  double sigma;  // how well the start value is known (log), for the prior
  std::function<double(double u)> log_ratio;  // NaN when the start is 0 (no scale to be near to)
};

double rounded(double v, double step, bool round) { return round ? std::round(v / step) * step : v; }

/// A calibrated parameter of hardware profile h: value = lo + (hi - lo) * logistic(u).
Knob hardware_knob(const std::string& h, const Param& p, double start) {
  return {h, p.name,
          [h, p](Profiles& x, double u, bool round) { p.ref(x.hardware.at(h)) = rounded(to_value(p, u), p.round_to, round); },
          to_coordinate(p, start), kParamSigma,
          [p, start](double u) { return start > 0 ? std::log(to_value(p, u) / start) : std::nan(""); }};
}

/// Engine e's host time as one scale: u is the log of a factor on every engine_parameters() figure of the
/// start (per step and per sequence together), so the host time at every batch moves by the same factor and
/// the split between the two (the batch at which they are equal) stays the start's. Rows at one batch size
/// pin the host time at that batch, not its split (tensorrt-llm's and vllm's host_time.source): a knob for
/// each figure gives the simplex a direction the rows barely weigh, which noise and a few rows far off for other
/// reasons then steer (docs/accuracy.md, "engines refitted").
Knob engine_scale_knob(const std::string& e, const serving::ServingEngineSpec& start) {
  return {e, "host_time.scale",
          [e, start](Profiles& x, double u, bool round) {
            serving::ServingEngineSpec from = start;  // a copy: the parameters' accessors take a mutable spec
            for (const auto& p : engine_parameters()) {
              const double v = std::clamp(p.ref(from) * std::exp(u), p.lo, p.hi);
              p.ref(x.engines.at(e)) = rounded(v, p.round_to, round);
            }
          },
          0.0, kEngineParamSigma, [](double u) { return u; }};
}

}  // namespace

ProfileFitResult fit_profiles(const std::vector<MeasurementRow>& all_rows, const ProfileFitSpec& spec) {
  auto has = [](const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); };
  Profiles before;
  before.hardware = spec.start_hardware;
  for (const auto& h : spec.hardware) {
    if (!before.hardware.count(h)) before.hardware[h] = hardware::load_hardware(h);
  }
  before.engines = spec.start_engines;
  for (const auto& e : spec.engines) {
    if (!before.engines.count(e)) before.engines[e] = serving::load_serving_engine(e);
  }
  // The rows of the fitted hardware and engines; those that do not run are reported and left out.
  std::vector<MeasurementRow> rows;
  for (const auto& row : all_rows) {
    bool in = has(spec.hardware, row.hardware) && !has(spec.exclude_categories, row.category);
    if (!in && !spec.engines.empty() && has(kEngineFitCategories, row.category) &&
        (row.kind == RowKind::scenario || row.kind == RowKind::ratio)) {
      try {
        for (const auto& e : row_engines(row)) in = in || has(spec.engines, e);
      } catch (const std::runtime_error&) {
        in = true;  // cannot even be parsed: evaluate() below reports it
      }
    }
    if (in) rows.push_back(row);
  }
  EvaluationOptions exact{before.engines, std::nullopt};
  const AccuracyReport start = evaluate(rows, before.hardware, exact);
  ProfileFitResult out;
  std::vector<MeasurementRow> usable;
  std::vector<RowResult> usable_at_start;  // the starting profiles' predictions of `usable`
  for (const auto& r : start.rows) {
    if (r.predicted) {
      usable.push_back(*r.row);
      usable_at_start.push_back(r);
    } else {
      out.excluded.push_back(r.row->id + ": " + r.error);
    }
  }
  if (usable.empty()) {
    std::string names;
    for (const auto* list : {&spec.hardware, &spec.engines}) {
      for (const auto& n : *list) names += (names.empty() ? "" : ", ") + ("\"" + n + "\"");
    }
    throw UsageError("no measurement row of " + names + " can run (" + std::to_string(rows.size()) +
                     " rows for it in the files given)");
  }
  out.rows = usable.size();

  // During the search every evaluation runs with the fit's shortcuts (FitSearch); the start and the result
  // are judged on the rows as their files say.
  EvaluationOptions fitting{before.engines, spec.search};
  auto objective = [&](const Profiles& p) {
    fitting.engines = p.engines;
    return loss(evaluate(usable, p.hardware, fitting).rows);
  };
  const double f0 = spec.search ? objective(before) : loss(usable_at_start);
  int evaluations = spec.search ? 2 : 1;

  // Fit only the parameters the rows constrain: a parameter whose change moves no prediction keeps its value.
  std::vector<Knob> knobs;
  for (const auto& h : spec.hardware) {
    for (const auto& p : calibrated_parameters()) knobs.push_back(hardware_knob(h, p, p.ref(before.hardware.at(h))));
  }
  for (const auto& e : spec.engines) knobs.push_back(engine_scale_knob(e, before.engines.at(e)));
  std::vector<Knob> params;
  for (const auto& k : knobs) {
    Profiles probe = before;
    k.set(probe, k.u0 > 0 ? k.u0 - 0.5 : k.u0 + 0.5, false);  // probe towards the middle of the range
    ++evaluations;
    if (std::abs(objective(probe) - f0) > 1e-12) params.push_back(k);
  }
  for (const auto& k : params) out.fitted[k.owner].push_back(k.name);

  auto prior = [&](const std::vector<double>& u) {
    double sum = 0;
    for (std::size_t i = 0; i < params.size(); ++i) {
      const double r = params[i].log_ratio(u[i]);
      if (std::isnan(r)) continue;  // no scale to be near to
      const double w = kRowSigma / params[i].sigma;
      sum += w * w / static_cast<double>(usable.size()) * r * r;
    }
    return sum;
  };
  // The simplex sees exact values (rounding inside the objective would make it flat in small steps and stop
  // the search early); the result is rounded as the profile file writes it, and judged rounded.
  auto apply = [&](const std::vector<double>& u, bool round) {
    Profiles p = before;
    for (std::size_t i = 0; i < params.size(); ++i) params[i].set(p, u[i], round);
    return p;
  };
  std::vector<double> u0;
  for (const auto& k : params) u0.push_back(k.u0);
  const auto best = params.empty() ? u0
                                   : nelder_mead([&](const std::vector<double>& u) {
                                       return objective(apply(u, false)) + prior(u);
                                     }, u0, 0.7, spec.max_evaluations, evaluations);
  Profiles after = apply(best, true);
  out.evaluations = evaluations;
  // Keep the profiles as they were when the fit does not improve them (judged without the shortcuts).
  exact.engines = after.engines;
  const AccuracyReport fitted = evaluate(usable, after.hardware, exact);
  const bool improved = loss(fitted.rows) <= loss(usable_at_start);
  if (!improved) after = before;
  for (const auto& h : spec.hardware) out.hardware[h] = after.hardware.at(h);
  for (const auto& e : spec.engines) out.engines[e] = after.engines.at(e);
  out.error_before = error_stats(usable_at_start);
  out.error_after = improved ? error_stats(fitted.rows) : out.error_before;
  return out;
}

CalibrationResult calibrate(const std::vector<MeasurementRow>& all_rows, const std::string& hardware_name,
                            const hardware::HardwareSpec& start_profile, int max_evaluations,
                            const std::vector<std::string>& exclude_categories) {
  ProfileFitSpec spec;
  spec.hardware = {hardware_name};
  spec.start_hardware = {{hardware_name, start_profile}};
  spec.max_evaluations = max_evaluations;
  spec.exclude_categories = exclude_categories;
  const ProfileFitResult fit = fit_profiles(all_rows, spec);
  CalibrationResult out;
  out.before = start_profile;
  out.after = fit.hardware.at(hardware_name);
  if (const auto it = fit.fitted.find(hardware_name); it != fit.fitted.end()) out.fitted = it->second;
  out.excluded = fit.excluded;
  out.error_before = fit.error_before;
  out.error_after = fit.error_after;
  out.rows = fit.rows;
  out.evaluations = fit.evaluations;
  return out;
}

std::string calibrated_profile_json(const CalibrationResult& r, const std::string& hardware_name,
                                    const std::vector<std::string>& files) {
  const auto path = config::catalog_path(config::CatalogKind::hardware, hardware_name);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text.str());
  auto& e = j["efficiency"];
  // Written with a fixed number of decimals (parsed back, so that the file shows 5.1 and not 5.1000000000000005).
  auto rounded = [](double x, int decimals) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", decimals, x);
    return std::stod(b);
  };
  e["compute"] = rounded(r.after.efficiency.compute, 3);
  e["memory"] = rounded(r.after.efficiency.memory, 3);
  e["network"] = rounded(r.after.efficiency.network, 3);
  e["kernel_launch_overhead_us"] = rounded(r.after.efficiency.kernel_launch_overhead_s * 1e6, 2);
  if (r.after.efficiency.moe_gemm != 1.0 || e.contains("moe_gemm")) e["moe_gemm"] = rounded(r.after.efficiency.moe_gemm, 3);
  if (r.after.efficiency.attention_decode != 1.0 || e.contains("attention_decode")) {
    e["attention_decode"] = rounded(r.after.efficiency.attention_decode, 3);
  }
  if (r.after.efficiency.attention_prefill != 1.0 || e.contains("attention_prefill")) {
    e["attention_prefill"] = rounded(r.after.efficiency.attention_prefill, 3);
  }
  if (r.after.efficiency.attention_prefill_overhead_keys != 0.0 || e.contains("attention_prefill_overhead_keys")) {
    e["attention_prefill_overhead_keys"] = rounded(r.after.efficiency.attention_prefill_overhead_keys, 1);
  }
  if (r.after.efficiency.block_fp8_gemm_overhead_k != 0.0 || e.contains("block_fp8_gemm_overhead_k")) {
    e["block_fp8_gemm_overhead_k"] = rounded(r.after.efficiency.block_fp8_gemm_overhead_k, 1);
  }
  if (j.contains("interconnect") && j["interconnect"].contains("scale_up_latency_us")) {
    j["interconnect"]["scale_up_latency_us"] = rounded(r.after.interconnect.scale_up_latency_s * 1e6, 2);
  }
  std::string list;
  for (const auto& f : files) list += (list.empty() ? "" : ", ") + f;
  std::string fitted;
  for (const auto& f : r.fitted) fitted += (fitted.empty() ? "" : ", ") + f;
  // Keep where the starting values came from: the fit moves them, their provenance still matters.
  std::string previous = e.contains("source") && e["source"].is_string() ? e["source"].get<std::string>() : "";
  if (const auto cut = previous.find(" Starting values: "); previous.starts_with("Calibrated with") && cut != std::string::npos) {
    previous = previous.substr(cut + 18);
  }
  e["source"] = "Calibrated with `infersim calibrate` on " + list + " (" + std::to_string(r.rows) +
                " rows of this hardware; fitted: " + (fitted.empty() ? "nothing" : fitted) +
                "): median absolute error " + pct(r.error_before.median_abs_pct) + " before, " +
                pct(r.error_after.median_abs_pct) + " after; see docs/accuracy.md." +
                (previous.empty() ? "" : " Starting values: " + previous);
  return j.dump(2) + "\n";
}

}  // namespace infersim::validation
