// infersim._native: the simulation library (the one the CLI uses) for Python. Every function takes and
// returns plain values; python/infersim/*.py turns them into dicts and DataFrames. Reports cross as the
// JSON text the CLI prints (json.loads on the Python side: the same schema by construction), sweeps as the
// CSV the CLI writes (one pandas.read_csv), per-request results as numpy columns filled here.
//
// `plan` returns the JSON `infersim plan --format json` prints; python/infersim/__init__.py's plan() turns it
// into DataFrames (_frames.plan_frames).

#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "cancel_hook.hpp"
#include "errors.hpp"
#include "infersim/config/catalog.hpp"
#include "infersim/core/error.hpp"
#include "infersim/plan/plan_spec.hpp"
#include "infersim/plan/planner.hpp"
#include "infersim/roofline/step_report.hpp"
#include "infersim/scenario/catalog_listing.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/scenario/requests_out.hpp"
#include "infersim/scenario/scenario_loader.hpp"
#include "infersim/scenario/scenario_run.hpp"
#include "infersim/scenario/timeline.hpp"
#include "infersim/serving/serving_engine.hpp"
#include "infersim/serving/serving_engine_loader.hpp"
#include "infersim/sweep/evaluate.hpp"
#include "infersim/sweep/pareto.hpp"
#include "infersim/sweep/runner.hpp"
#include "infersim/sweep/sweep_spec.hpp"

namespace py = pybind11;

namespace infersim::python {

namespace {

// What a dict passed from Python is called in messages (a file name for files).
constexpr const char* kDictName = "<dict>";

/// `set=` overrides: (dotted key, the value as JSON text), each shown as "key=value" in messages.
std::vector<scenario::Override> to_overrides(const std::vector<std::pair<std::string, std::string>>& sets) {
  std::vector<scenario::Override> out;
  out.reserve(sets.size());
  for (const auto& [key, value] : sets) {
    if (key.empty()) throw UsageError("set: an override has an empty key");
    out.push_back(sweep::make_override(key, config::Json::parse(value)));
  }
  return out;
}

config::Json parse_dict_json(const std::string& text) {
  return config::Json::parse(text);  // json.dumps wrote it: always valid
}

scenario::ScenarioSpec load(const std::string& source, bool is_path, const std::vector<scenario::Override>& overrides) {
  if (is_path) return scenario::load_scenario(source, overrides);
  config::Document doc{parse_dict_json(source), kDictName, "", std::filesystem::current_path()};
  scenario::apply_overrides(doc.json, overrides);
  return scenario::parse_scenario(doc, overrides);
}

template <typename T, typename Value>
py::array_t<T> column(std::size_t n, Value value) {
  py::array_t<T> a(static_cast<py::ssize_t>(n));
  auto out = a.template mutable_unchecked<1>();
  for (std::size_t i = 0; i < n; ++i) out(static_cast<py::ssize_t>(i)) = static_cast<T>(value(i));
  return a;
}

/// The request table as {column name: numpy array}, in kRequestColumns order.
py::dict request_columns(const serving::RequestTable& table) {
  const std::size_t n = table.size();
  std::vector<scenario::RequestOutcome> o(n);
  for (std::size_t i = 0; i < n; ++i) o[i] = scenario::request_outcome(table[i]);
  const auto& name = scenario::kRequestColumns;
  py::dict d;
  auto add = [&](std::size_t c, py::object array) { d[py::str(std::string(name[c]))] = std::move(array); };
  add(0, column<std::int64_t>(n, [](std::size_t i) { return i; }));
  add(1, column<std::int32_t>(n, [&](std::size_t i) { return o[i].replica; }));
  add(2, column<double>(n, [&](std::size_t i) { return o[i].arrival_s; }));
  add(3, column<std::int32_t>(n, [&](std::size_t i) { return o[i].input_tokens; }));
  add(4, column<std::int32_t>(n, [&](std::size_t i) { return o[i].output_tokens; }));
  add(5, column<double>(n, [&](std::size_t i) { return o[i].queue_s; }));
  add(6, column<double>(n, [&](std::size_t i) { return o[i].ttft_s; }));
  add(7, column<double>(n, [&](std::size_t i) { return o[i].tpot_s; }));
  add(8, column<double>(n, [&](std::size_t i) { return o[i].e2e_s; }));
  add(9, column<double>(n, [&](std::size_t i) { return o[i].completion_s; }));
  add(10, column<std::int32_t>(n, [&](std::size_t i) { return o[i].preemptions; }));
  return d;
}

/// Simulate a scenario: (report JSON text, request columns or None, timeline JSON text or None, the seconds
/// the library took: what bench/python_bench.py subtracts from the call's wall time to find the binding's cost).
py::tuple run(const std::string& source, bool is_path, const std::vector<std::pair<std::string, std::string>>& sets,
              bool requests, bool timeline) {
  struct Out {
    scenario::ScenarioRun run;
    std::string report, timeline;
    double library_s = 0;
  };
  const Out out = without_gil([&] {
    const auto start = std::chrono::steady_clock::now();
    const auto overrides = to_overrides(sets);
    const scenario::ScenarioSpec sc = load(source, is_path, overrides);
    scenario::TimelineRecorder recorder;
    Out o{scenario::run_scenario_in(is_path ? source : kDictName, sc, timeline ? &recorder : nullptr), {}, {}};
    o.report = scenario::make_report(o.run).dump();
    if (timeline) o.timeline = recorder.to_json(o.run.scenario, o.run.result);
    if (!requests) o.run.result.request_table = {};
    o.library_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return o;
  });
  return py::make_tuple(out.report, requests ? py::object(request_columns(out.run.result.request_table)) : py::none(),
                        timeline ? py::object(py::str(out.timeline)) : py::none(), out.library_s);
}

/// Run a plan: the JSON text `infersim plan --format json` prints (the same candidates, frontier, skipped).
std::string plan_json(const std::string& source, bool is_path, unsigned jobs, std::size_t top) {
  if (top == 0) throw UsageError("top=0: expected at least 1 candidate to list");
  return without_gil([&] {
    const plan::PlanSpec spec =
        is_path ? plan::load_plan(source) : plan::parse_plan(source, kDictName, std::filesystem::current_path());
    plan::PlanOptions o;
    o.jobs = jobs;
    o.top = top;
    return plan::run_plan(spec, o).json.dump(2);
  });
}

/// Run a sweep: (the CSV the CLI writes, the swept keys, the base scenario as JSON text, a summary dict).
py::tuple sweep(const std::string& source, bool is_path, unsigned jobs) {
  struct Out {
    std::string csv, base;
    std::vector<std::string> keys;
    sweep::SweepSummary summary;
  };
  const Out out = without_gil([&] {
    const sweep::SweepSpec spec =
        is_path ? sweep::load_sweep(source) : sweep::parse_sweep(source, kDictName, std::filesystem::current_path());
    std::ostringstream rows;
    sweep::SweepOptions o;
    o.jobs = jobs;
    o.stream = &rows;
    o.format = sweep::RowFormat::csv;
    Out r;
    r.summary = sweep::run_sweep(spec, o);
    r.csv = std::move(rows).str();
    r.base = spec.base.json.dump();
    r.keys = spec.keys();
    return r;
  });
  py::dict summary(py::arg("points") = out.summary.in_shard, py::arg("failed") = out.summary.failed,
                   py::arg("internal_errors") = out.summary.internal_errors, py::arg("first_error") = out.summary.first_error);
  return py::make_tuple(out.csv, out.keys, out.base, summary);
}

std::string roofline(const std::string& model, const std::string& hardware, const std::string& phase, std::int64_t batch,
                     std::int64_t context, int tensor_parallel, int pipeline_parallel, int expert_parallel,
                     int attention_data_parallel, int redundant_experts, const std::string& weight_dtype,
                     const std::string& activation_dtype, const std::string& kv_cache_dtype, double memory_utilization,
                     bool ignore_memory, const std::string& engine) {
  return without_gil([&] {
    if (phase != "prefill" && phase != "decode") throw UsageError("phase: \"" + phase + "\" is neither prefill nor decode");
    if (tensor_parallel < 1 || pipeline_parallel < 1 || expert_parallel < 1 || attention_data_parallel < 1) {
      throw UsageError("tensor_parallel, pipeline_parallel, expert_parallel and attention_data_parallel must be at least 1");
    }
    if (redundant_experts < 0) throw UsageError("redundant_experts must be at least 0");
    if (!(memory_utilization > 0 && memory_utilization <= 1)) throw UsageError("memory_utilization must be in (0, 1]");
    roofline::StepQuery q;
    q.model = model;
    q.hardware = hardware;
    q.prefill = phase == "prefill";
    q.batch = batch;
    q.context = context;
    q.tensor_parallel = tensor_parallel;
    q.pipeline_parallel = pipeline_parallel;
    q.expert_parallel = expert_parallel;
    q.attention_data_parallel = attention_data_parallel;
    q.redundant_experts = redundant_experts;
    q.weight_dtype = roofline::parse_dtype_option(weight_dtype, "weight_dtype");
    q.activation_dtype = roofline::parse_dtype_option(activation_dtype, "activation_dtype");
    q.kv_cache_dtype = roofline::parse_dtype_option(kv_cache_dtype, "kv_cache_dtype");
    q.memory_utilization = memory_utilization;
    q.ignore_memory = ignore_memory;
    serving::use_engine_kernels(q, serving::load_serving_engine(engine.empty() ? std::string(serving::kDefaultEngine) : engine));
    return roofline::to_json(roofline::analyze_step(q)).dump();
  });
}

/// The points of the Pareto frontier of (x, y) (sweep::ParetoFront, as `sweep --pareto`), each minimized
/// unless its flag says maximized; points with a NaN take no part. By ascending x as minimized.
std::vector<std::size_t> pareto_front(const std::vector<double>& x, const std::vector<double>& y, bool maximize_x,
                                      bool maximize_y) {
  if (x.size() != y.size()) throw UsageError("pareto_front: x and y differ in length");
  sweep::ParetoFront front;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) continue;
    front.add(maximize_x ? -x[i] : x[i], maximize_y ? -y[i] : y[i], i, {});
  }
  std::vector<std::size_t> points;
  for (const auto& e : front.entries()) points.push_back(e.point);
  return points;
}

std::string catalog(const std::string& kind) {
  config::CatalogKind k;
  if (kind == "hardware") {
    k = config::CatalogKind::hardware;
  } else if (kind == "models") {
    k = config::CatalogKind::models;
  } else if (kind == "engines") {
    k = config::CatalogKind::engines;
  } else {
    throw UsageError("catalog: unknown kind \"" + kind + "\"; valid: hardware, models, engines");
  }
  return without_gil([&] { return scenario::catalog_listing(k).dump(); });
}

}  // namespace

}  // namespace infersim::python

PYBIND11_MODULE(_native, m) {
  using namespace infersim::python;
  m.doc() = "infersim's simulation library (use the infersim package, not this module)";
  m.attr("__version__") = INFERSIM_VERSION;
  register_errors(m);
  m.def("run", &run, py::arg("source"), py::arg("is_path"), py::arg("sets"), py::arg("requests"), py::arg("timeline"));
  m.def("sweep", &sweep, py::arg("source"), py::arg("is_path"), py::arg("jobs"));
  m.def("plan", &plan_json, py::arg("source"), py::arg("is_path"), py::arg("jobs"), py::arg("top"));
  m.def("roofline", &roofline, py::arg("model"), py::arg("hardware"), py::arg("phase"), py::arg("batch"),
        py::arg("context"), py::arg("tensor_parallel"), py::arg("pipeline_parallel"), py::arg("expert_parallel"),
        py::arg("attention_data_parallel"), py::arg("redundant_experts"), py::arg("weight_dtype"),
        py::arg("activation_dtype"), py::arg("kv_cache_dtype"), py::arg("memory_utilization"), py::arg("ignore_memory"),
        py::arg("engine"));
  m.def("catalog", &catalog, py::arg("kind"));
  m.def("pareto_front", &pareto_front, py::arg("x"), py::arg("y"), py::arg("maximize_x"), py::arg("maximize_y"));
  m.def("config_root", [] { return infersim::config::config_root().string(); });
}
