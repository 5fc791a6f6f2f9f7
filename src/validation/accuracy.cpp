#include "infersim/validation/accuracy.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "infersim/core/error.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/scenario/scenario_loader.hpp"

namespace infersim::validation {

namespace {

hardware::HardwareSpec hardware_for(const std::string& name, const HardwareOverrides& overrides) {
  const auto it = overrides.find(name);
  return it != overrides.end() ? it->second : hardware::load_hardware(name);
}

double seconds_to_unit(double s, const std::string& unit) {
  if (unit == "ms") return s * 1e3;
  if (unit == "us") return s * 1e6;
  return s;
}

std::vector<scenario::Override> to_overrides(const std::vector<std::pair<std::string, config::Json>>& a,
                                             const std::vector<std::pair<std::string, config::Json>>& b = {}) {
  std::vector<scenario::Override> out;
  for (const auto* list : {&a, &b}) {
    for (const auto& [path, value] : *list) out.push_back({path, value, path + "=" + value.dump()});
  }
  return out;
}

std::string scenario_key(const MeasurementRow& row, const std::vector<scenario::Override>& sets) {
  std::string key = row.scenario.file + "\n" + row.scenario.base_dir.string() + "\n" + row.scenario.json.dump();
  for (const auto& o : sets) key += '\n' + o.path + '=' + o.value.dump();
  return key;
}

scenario::ScenarioSpec parse_row_scenario(const MeasurementRow& row, const std::vector<scenario::Override>& sets) {
  config::Document doc = row.scenario;
  scenario::apply_overrides(doc.json, sets);
  return scenario::parse_scenario(doc, sets);
}

config::Json simulate_report(const MeasurementRow& row, const std::vector<scenario::Override>& sets,
                             const HardwareOverrides& overrides, const EvaluationOptions& options) {
  scenario::ScenarioSpec sc = parse_row_scenario(row, sets);
  for (auto& pool : sc.simulation.pools) {
    const auto it = overrides.find(pool.hardware.name);
    if (it != overrides.end()) pool.hardware = it->second;
    if (!pool.engine) continue;
    const auto e = options.engines.find(pool.engine->name);
    if (e != options.engines.end()) pool.engine = e->second;
  }
  if (!options.fit || !sc.slo.find_max_rate) return scenario::make_report(scenario::run_scenario(sc));
  // A fit's evaluation: the shortcuts of FitSearch.
  const FitSearch& fit = *options.fit;
  auto& search = *sc.slo.find_max_rate;
  search.relative_tolerance = std::max(search.relative_tolerance, fit.relative_tolerance);
  if (search.duration_s) search.duration_s = std::min(*search.duration_s, fit.max_duration_s);
  const std::string key = scenario_key(row, sets);
  {
    std::lock_guard<std::mutex> lock(fit.hints->mutex);
    const auto it = fit.hints->rate_per_s.find(key);
    if (it != fit.hints->rate_per_s.end()) search.start_rate_per_s = it->second;
  }
  const scenario::ScenarioRun run = scenario::run_scenario(sc);
  if (run.search) {
    std::lock_guard<std::mutex> lock(fit.hints->mutex);
    fit.hints->rate_per_s[key] = run.search->rate_per_s;
  }
  return scenario::make_report(run);
}

/// Reports of the scenarios simulated in one evaluate() call, by scenario and overrides: the rows of one
/// measured run (throughput, TTFT and TPOT percentiles of one MLPerf Server log) share one simulation,
/// which matters when that simulation is a rate search. The first thread to ask computes; others wait.
class ReportCache {
 public:
  config::Json get(const MeasurementRow& row, const std::vector<scenario::Override>& sets, const HardwareOverrides& overrides,
                   const EvaluationOptions& options) {
    const std::string key = scenario_key(row, sets);
    std::promise<config::Json> mine;
    std::shared_future<config::Json> result;
    bool compute = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = reports_.find(key);
      if (it == reports_.end()) {
        it = reports_.emplace(key, mine.get_future().share()).first;
        compute = true;
      }
      result = it->second;
    }
    if (compute) {
      try {
        mine.set_value(simulate_report(row, sets, overrides, options));
      } catch (...) {
        mine.set_exception(std::current_exception());
      }
    }
    return result.get();
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_future<config::Json>> reports_;
};

/// Simulate the row's scenario with `sets` applied and return its metric (transformed and scaled).
double scenario_metric(const MeasurementRow& row, const std::vector<scenario::Override>& sets,
                       const HardwareOverrides& overrides, const EvaluationOptions& options, ReportCache* cache) {
  const config::Json report =
      cache ? cache->get(row, sets, overrides, options) : simulate_report(row, sets, overrides, options);
  const config::Json* v = config::find_dotted(report, row.metric);
  if (!v || !v->is_number()) {
    throw ConfigError(row.file, "", "row " + row.id + ": metric \"" + row.metric + "\" is not a number in the report");
  }
  double x = v->get<double>();
  if (row.transform == "reciprocal") x = 1.0 / x;
  return x * row.scale;
}

double operator_time_s(const MeasurementRow& row, const HardwareOverrides& overrides) {
  parallelism::DeploymentSpec d;
  d.tensor_parallel = row.tensor_parallel;
  d.weight_dtype = d.activation_dtype = d.kv_cache_dtype = row.dtype;
  const auto m = model::load_model(row.model);
  const roofline::StepCostModel cost(m, hardware_for(row.hardware, overrides), d);
  const auto shape = row.phase == "prefill" ? roofline::StepShape::prefill(row.batch, row.context, m.attention_window())
                                            : roofline::StepShape::decode(row.batch, row.context, 1, m.attention_window());
  roofline::OperatorTable ops;
  cost.build(shape, ops);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops.name[i] == row.op) return static_cast<double>(ops.time_s[i]);
  }
  throw ConfigError(row.file, "", "row " + row.id + ": the step of " + row.model + " has no operator \"" + row.op + "\"");
}

double gemm_time_s(const MeasurementRow& row, const HardwareOverrides& overrides) {
  // price_gemm uses the hardware, the deployment's data types and the model's FP8 scaling (block-scaled or per
  // tensor); a row that names no model reads per-tensor weights, as any catalog model published in 16 bits.
  parallelism::DeploymentSpec d;
  d.weight_dtype = d.activation_dtype = d.kv_cache_dtype = row.dtype;
  const roofline::StepCostModel cost(model::load_model(row.model.empty() ? "llama-3.1-8b" : row.model),
                                     hardware_for(row.hardware, overrides), d);
  return cost.price_gemm("gemm", row.m, row.k, row.n).time_s;
}

double percentile_sorted(const std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

std::string fmt(double x, int digits = 4) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*g", digits, x);
  return b;
}

std::string pct(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", x);
  return b;
}

std::string pct_signed(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%+.1f", x);
  return b;
}

}  // namespace

config::Json stats_json(const ErrorStats& s) {
  return {{"rows", s.rows},
          {"median_abs_error_pct", s.median_abs_pct},
          {"p90_abs_error_pct", s.p90_abs_pct},
          {"mean_signed_error_pct", s.mean_signed_pct}};
}

namespace {

double predict_cached(const MeasurementRow& row, const HardwareOverrides& overrides, const EvaluationOptions& options,
                      ReportCache* cache) {
  switch (row.kind) {
    case RowKind::scenario:
      return scenario_metric(row, to_overrides(row.set), overrides, options, cache);
    case RowKind::ratio:
      return scenario_metric(row, to_overrides(row.set, row.baseline_set), overrides, options, cache) /
             scenario_metric(row, to_overrides(row.set, row.variant_set), overrides, options, cache);
    case RowKind::op:
      return seconds_to_unit(operator_time_s(row, overrides), row.unit);
    case RowKind::gemm:
      return seconds_to_unit(gemm_time_s(row, overrides), row.unit);
    case RowKind::copy: {
      // A streaming kernel: bytes through memory at the profile's bandwidth and efficiency, plus one launch.
      const auto hw = hardware_for(row.hardware, overrides);
      return seconds_to_unit(row.bytes / (hw.memory.bandwidth_bytes_per_s * hw.efficiency.memory) +
                                 hw.efficiency.kernel_launch_overhead_s,
                             row.unit);
    }
    case RowKind::all_reduce:
      return seconds_to_unit(roofline::price_all_reduce(hardware_for(row.hardware, overrides), row.chips, row.bytes),
                             row.unit);
    case RowKind::all_to_all: {
      const double bytes = roofline::expert_all_to_all_bytes(row.tokens_per_rank, row.top_k, row.hidden, row.bytes_per_element);
      std::optional<roofline::ExpertRouting> per_node;
      if (row.num_experts > 0) per_node = roofline::ExpertRouting{row.num_experts, row.top_k, row.node_limit};
      return seconds_to_unit(
          roofline::price_expert_all_to_all(hardware_for(row.hardware, overrides), row.expert_parallel, bytes, per_node),
          row.unit);
    }
  }
  return 0;
}

}  // namespace

double predict(const MeasurementRow& row, const HardwareOverrides& overrides) {
  return predict_cached(row, overrides, {}, nullptr);
}

namespace {

/// The override sets of the scenarios a row runs: one for a scenario row, a ratio row's baseline and variant,
/// none for a kernel row.
std::vector<std::vector<scenario::Override>> scenario_runs(const MeasurementRow& row) {
  std::vector<std::vector<scenario::Override>> runs;
  if (row.kind == RowKind::scenario) runs.push_back(to_overrides(row.set));
  if (row.kind == RowKind::ratio) {
    runs.push_back(to_overrides(row.set, row.baseline_set));
    runs.push_back(to_overrides(row.set, row.variant_set));
  }
  return runs;
}

}  // namespace

std::vector<std::string> row_engines(const MeasurementRow& row) {
  std::vector<std::string> out;
  for (const auto& sets : scenario_runs(row)) {
    for (const auto& pool : parse_row_scenario(row, sets).simulation.pools) {
      if (pool.engine && std::find(out.begin(), out.end(), pool.engine->name) == out.end()) out.push_back(pool.engine->name);
    }
  }
  return out;
}

void check_row_inputs(const MeasurementRow& row) {
  const auto runs = scenario_runs(row);
  for (const auto& sets : runs) scenario::check_feasible(parse_row_scenario(row, sets));
  if (runs.empty()) (void)predict(row);  // a kernel row: one roofline, as cheap as parsing
}

std::string row_model_kind(const MeasurementRow& row) {
  auto kind = [](const model::ModelSpec& m) { return m.moe && m.moe->num_experts > 1 ? "moe" : "dense"; };
  switch (row.kind) {
    case RowKind::scenario:
    case RowKind::ratio: {
      const auto sc = parse_row_scenario(row, to_overrides(row.set, row.baseline_set));
      return kind(sc.simulation.pools.front().model);
    }
    case RowKind::op: return kind(model::load_model(row.model));
    case RowKind::gemm:
    case RowKind::all_reduce:
    case RowKind::copy:
    case RowKind::all_to_all: return "none";
  }
  return "none";
}

ErrorStats error_stats(const std::vector<RowResult>& results) {
  std::vector<double> abs_pct;
  double signed_sum = 0;
  for (const auto& r : results) {
    if (!r.predicted) continue;
    const double e = 100.0 * r.error_fraction();
    abs_pct.push_back(std::abs(e));
    signed_sum += e;
  }
  ErrorStats s;
  s.rows = abs_pct.size();
  if (abs_pct.empty()) return s;
  std::sort(abs_pct.begin(), abs_pct.end());
  const std::size_t n = abs_pct.size();
  s.median_abs_pct = n % 2 ? abs_pct[n / 2] : 0.5 * (abs_pct[n / 2 - 1] + abs_pct[n / 2]);
  s.p90_abs_pct = percentile_sorted(abs_pct, 0.9);
  s.mean_signed_pct = signed_sum / static_cast<double>(n);
  return s;
}

AccuracyReport evaluate(const std::vector<MeasurementRow>& rows, const HardwareOverrides& overrides,
                        const EvaluationOptions& options) {
  AccuracyReport report;
  report.rows.resize(rows.size());
  // Rows are independent: predict them on all cores, each into its own slot (the result does not depend on
  // the thread count).
  std::atomic<std::size_t> next{0};
  ReportCache cache;
  auto work = [&] {
    for (std::size_t i = next++; i < rows.size(); i = next++) {
      RowResult& r = report.rows[i];
      r.row = &rows[i];
      try {
        r.predicted = predict_cached(rows[i], overrides, options, &cache);
      } catch (const std::runtime_error& e) {
        r.error = e.what();
      }
      try {
        r.model_kind = row_model_kind(rows[i]);
      } catch (const std::runtime_error&) {
        r.model_kind = "unknown";  // the scenario does not parse: the prediction failed and says why
      }
    }
  };
  const std::size_t threads = std::min<std::size_t>(std::max(1u, std::thread::hardware_concurrency()), rows.size());
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  summarize_report(report);
  return report;
}

void summarize_report(AccuracyReport& report) {
  std::map<std::string, std::vector<RowResult>> by_category, by_kind;
  report.failed = 0;
  for (const auto& r : report.rows) {
    if (!r.predicted) ++report.failed;
    by_category[r.row->category].push_back(r);
    by_kind[r.model_kind].push_back(r);
  }
  report.by_category.clear();
  report.by_model_kind.clear();
  for (const auto& [category, results] : by_category) report.by_category[category] = error_stats(results);
  for (const auto& [kind, results] : by_kind) report.by_model_kind[kind] = error_stats(results);
  report.overall = error_stats(report.rows);
}

std::string report_markdown(const AccuracyReport& r) {
  std::string out;
  out += "| category | rows | median abs error | p90 abs error | mean signed error |\n|---|---:|---:|---:|---:|\n";
  auto line = [&](const std::string& name, const ErrorStats& s) {
    out += "| " + name + " | " + std::to_string(s.rows) + " | " + pct(s.median_abs_pct) + "% | " + pct(s.p90_abs_pct) +
           "% | " + pct_signed(s.mean_signed_pct) + "% |\n";
  };
  for (const auto& [category, s] : r.by_category) line(category, s);
  line("**overall**", r.overall);
  out += "\n| model kind | rows | median abs error | p90 abs error | mean signed error |\n|---|---:|---:|---:|---:|\n";
  for (const auto& [kind, s] : r.by_model_kind) line(kind, s);
  out += "\n| id | category | hardware | measured | predicted | unit | error |\n|---|---|---|---:|---:|---|---:|\n";
  for (const auto& row : r.rows) {
    const auto& m = *row.row;
    out += "| " + m.id + " | " + m.category + " | " + m.hardware + " | " + fmt(m.measured) + " | " +
           (row.predicted ? fmt(*row.predicted) : "failed") + " | " + m.unit + " | " +
           (row.predicted ? pct_signed(100.0 * row.error_fraction()) + "%" : row.error) + " |\n";
  }
  return out;
}

config::Json report_json_object(const AccuracyReport& r) {
  config::Json out;
  out["schema_version"] = 1;
  out["overall"] = stats_json(r.overall);
  out["failed"] = r.failed;
  config::Json cats = config::Json::object();
  for (const auto& [category, s] : r.by_category) cats[category] = stats_json(s);
  out["categories"] = cats;
  config::Json kinds = config::Json::object();
  for (const auto& [kind, s] : r.by_model_kind) kinds[kind] = stats_json(s);
  out["model_kinds"] = kinds;
  config::Json rows = config::Json::array();
  for (const auto& row : r.rows) {
    const auto& m = *row.row;
    config::Json j{{"id", m.id},         {"category", m.category}, {"group", m.group},
                   {"hardware", m.hardware}, {"system", m.system}, {"measured", m.measured}, {"unit", m.unit},
                   {"source", m.source}, {"file", m.file}, {"model_kind", row.model_kind}};
    if (row.predicted) {
      j["predicted"] = *row.predicted;
      j["error_pct"] = 100.0 * row.error_fraction();
    } else {
      j["predicted"] = nullptr;
      j["error"] = row.error;
    }
    rows.push_back(j);
  }
  out["rows"] = rows;
  return out;
}

std::string report_json(const AccuracyReport& r) { return report_json_object(r).dump(2) + "\n"; }

}  // namespace infersim::validation
