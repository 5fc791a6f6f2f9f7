#include "infersim/scenario/scenario_loader.hpp"

#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "infersim/core/error.hpp"
#include "infersim/core/limits.hpp"
#include "infersim/core/line_reader.hpp"
#include "infersim/core/strings.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/roofline/step_cost.hpp"

namespace infersim::scenario {

using config::Diagnostics;
using config::Json;
using config::ObjectReader;
using config::Range;
using workload::ArrivalProcess;
using workload::TokenDistribution;

Override parse_override(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw UsageError("--set " + text + ": expected KEY=VALUE with a dotted key, e.g. --set workload.arrival.rate_per_s=20");
  }
  Override o;
  o.path = text.substr(0, eq);
  o.text = text;
  const std::string value = text.substr(eq + 1);
  try {
    o.value = Json::parse(value);
  } catch (const Json::parse_error&) {
    o.value = value;  // not JSON: a plain string (a catalog name, a policy, ...)
  } catch (const Json::out_of_range&) {
    throw UsageError("--set " + text + ": " + value + " is beyond the range of a double (about 1.8e308)");
  }
  return o;
}

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : path) {
    if (c == '.') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

std::string pointer_of(const std::string& dotted) {
  std::string p;
  for (const auto& part : split_path(dotted)) p += "/" + config::pointer_escape(part);
  return p;
}

}  // namespace

void apply_overrides(Json& doc, const std::vector<Override>& overrides) {
  for (const Override& o : overrides) {
    const auto parts = split_path(o.path);
    Json* node = &doc;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const std::string& key = parts[i];
      if (key.empty()) throw UsageError("--set " + o.text + ": empty key in the dotted path");
      if (node->is_array()) {
        char* end = nullptr;
        const long idx = std::strtol(key.c_str(), &end, 10);
        if (*end != '\0' || idx < 0 || static_cast<std::size_t>(idx) >= node->size()) {
          throw UsageError("--set " + o.text + ": \"" + key + "\" is not an index of the array at " + pointer_of(o.path));
        }
        node = &(*node)[static_cast<std::size_t>(idx)];
        continue;
      }
      if (!node->is_object()) {
        if (i > 0 && node->is_string()) {
          // e.g. --set model.num_layers=40 where model is a catalog name: say how to do it instead.
          throw UsageError("--set " + o.text + ": \"" + parts[i - 1] + "\" is a name, not an object; give a path or an "
                           "inline object to change its fields");
        }
        *node = Json::object();
      }
      node = &(*node)[key];
    }
    *node = o.value;
  }
}

namespace {

/// Parse a token count: an integer, or {"distribution": ..., ...}.
TokenDistribution parse_tokens(ObjectReader& parent, std::string_view key, const std::filesystem::path& base_dir,
                               Json& resolved) {
  TokenDistribution t;
  const Json* v = parent.raw(key);
  const Range count = Range::between(1, static_cast<double>(limits::kMaxTokensPerRequest));
  if (!v) {
    parent.error(key, "missing required key; expected a token count (an integer >= 1) or {\"distribution\": ...}");
    return t;
  }
  if (v->is_number()) {
    t.kind = TokenDistribution::Kind::fixed;
    Json wrapper = Json::object();
    wrapper[std::string(key)] = *v;
    Diagnostics& d = parent.diagnostics();
    ObjectReader r(wrapper, parent.path(), d);
    t.value = r.integer(key, count);
    resolved = t.value;
    return t;
  }
  ObjectReader r = parent.object(key);
  if (!r.valid()) return t;
  static constexpr std::string_view kKinds[] = {"fixed", "uniform", "normal", "lognormal", "empirical"};
  t.kind = static_cast<TokenDistribution::Kind>(r.choice("distribution", kKinds));
  resolved = Json::object();
  resolved["distribution"] = std::string(kKinds[static_cast<std::size_t>(t.kind)]);
  switch (t.kind) {
    case TokenDistribution::Kind::fixed:
      t.value = r.integer("value", count);
      resolved["value"] = t.value;
      break;
    case TokenDistribution::Kind::uniform:
      t.min = r.integer("min", count);
      t.max = r.integer("max", count);
      if (t.max < t.min) r.error("max", "must be >= min (" + std::to_string(t.min) + ")");
      resolved["min"] = t.min;
      resolved["max"] = t.max;
      break;
    case TokenDistribution::Kind::normal:
      t.mean = r.number("mean", Range::positive());
      t.std = r.number("std", Range::non_negative());
      t.min = r.integer_or("min", 1, count);
      t.max = r.integer_or("max", 0, Range::between(0, static_cast<double>(limits::kMaxTokensPerRequest)));
      if (t.max > 0 && t.max < t.min) r.error("max", "must be >= min");
      resolved["mean"] = t.mean;
      resolved["std"] = t.std;
      resolved["min"] = t.min;
      if (t.max > 0) resolved["max"] = t.max;
      break;
    case TokenDistribution::Kind::lognormal:
      t.median = r.number("median", Range::positive());
      t.sigma = r.number("sigma", Range::between(0, 10));
      t.min = r.integer_or("min", 1, count);
      t.max = r.integer_or("max", 0, Range::between(0, static_cast<double>(limits::kMaxTokensPerRequest)));
      if (t.max > 0 && t.max < t.min) r.error("max", "must be >= min");
      resolved["median"] = t.median;
      resolved["sigma"] = t.sigma;
      resolved["min"] = t.min;
      if (t.max > 0) resolved["max"] = t.max;
      break;
    case TokenDistribution::Kind::empirical: {
      const bool has_values = r.has("values"), has_path = r.has("path");
      if (has_values == has_path) {
        r.error("distribution", "an empirical distribution needs exactly one of \"values\" (a list of token counts) or "
                                "\"path\" (a file of token counts, one per line)");
        break;
      }
      if (has_values) {
        const Json* vals = r.raw("values");
        if (!vals->is_array() || vals->empty()) {
          r.error("values", "expected a non-empty list of token counts");
          break;
        }
        for (std::size_t i = 0; i < vals->size(); ++i) {
          const Json& x = (*vals)[i];
          if (!x.is_number_integer() || x.get<std::int64_t>() < 1 || x.get<std::int64_t>() > limits::kMaxTokensPerRequest) {
            r.error("values", "element " + std::to_string(i) + ": expected an integer " + count.describe() + ", found " +
                                  config::describe_json(x));
            break;
          }
          t.values.push_back(x.get<std::int64_t>());
        }
        resolved["values"] = *vals;
      } else {
        const std::string path = r.string("path");
        const auto full = config::resolve_path(base_dir, path);
        std::ifstream in(full, std::ios::binary);
        if (!in) {
          r.error("path", "cannot open " + full.string());
          break;
        }
        try {
          LineReader lines(in, full.string(), "a text file of token counts, one per line");
          std::string line;
          while (lines.next(line)) {
            if (line.empty() || line[0] == '#') continue;
            char* end = nullptr;
            errno = 0;
            const long long count_value = std::strtoll(line.c_str(), &end, 10);
            while (end && (*end == ' ' || *end == '\t')) ++end;
            if (end == line.c_str() || (end && *end != '\0') || errno == ERANGE || count_value < 1 ||
                count_value > limits::kMaxTokensPerRequest) {
              if (lines.number() == 1) continue;  // a header line
              r.error("path", full.string() + ":" + std::to_string(lines.number()) + ": expected a token count " +
                                  count.describe() + ", found \"" + line.substr(0, 40) + "\"");
              break;
            }
            t.values.push_back(count_value);
          }
        } catch (const ConfigError& e) {
          r.error("path", e.what());
          break;
        }
        if (t.values.empty()) r.error("path", full.string() + " holds no token counts");
        t.source = full.string();
        resolved["path"] = path;
      }
      break;
    }
  }
  r.finish();
  return t;
}

void parse_workload(ObjectReader& root, const config::Document& doc, ScenarioSpec& sc, Json& out) {
  ObjectReader w = root.object("workload");
  auto& wl = sc.simulation.workload;
  if (!w.valid()) return;
  ObjectReader a = w.object("arrival");
  wl.process = static_cast<ArrivalProcess>(a.choice("process", workload::kArrivalProcessNames));
  const std::string process(workload::kArrivalProcessNames[static_cast<std::size_t>(wl.process)]);
  Json arr = Json::object();
  arr["process"] = process;
  // Keys that belong to other processes are reported as not applying here.
  auto only_for = [&](std::string_view key, std::initializer_list<ArrivalProcess> ps) {
    for (ArrivalProcess p : ps) {
      if (p == wl.process) return true;
    }
    if (a.has(key)) a.error(key, "does not apply to process \"" + process + "\"");
    return false;
  };
  if (only_for("rate_per_s", {ArrivalProcess::poisson, ArrivalProcess::constant, ArrivalProcess::gamma})) {
    wl.rate_per_s = a.number("rate_per_s", Range::positive());
    arr["rate_per_s"] = wl.rate_per_s;
  }
  if (only_for("cv", {ArrivalProcess::gamma})) {
    wl.cv = a.number("cv", Range::between(0.01, 100));
    arr["cv"] = wl.cv;
  }
  if (only_for("concurrency", {ArrivalProcess::closed_loop})) {
    wl.concurrency = a.integer("concurrency", Range::between(1, 1e7));
    arr["concurrency"] = wl.concurrency;
  }
  if (only_for("think_time_s", {ArrivalProcess::closed_loop})) {
    wl.think_time_s = a.number_or("think_time_s", 0.0, Range::between(0, 1e9));
    arr["think_time_s"] = wl.think_time_s;
  }
  const bool trace = wl.process == ArrivalProcess::trace;
  for (const char* key : {"path", "format", "rate_scale", "start_s", "end_s"}) only_for(key, {ArrivalProcess::trace});
  if (trace) {
    const std::string path = a.string("path");
    wl.trace.path = config::resolve_path(doc.base_dir, path).string();
    std::error_code ec;
    if (!path.empty() && !std::filesystem::exists(wl.trace.path, ec)) {
      a.error("path", "no such trace file: " + wl.trace.path +
                          (doc.base_dir.empty() ? "" : " (a relative path is taken from the scenario's folder)"));
    } else if (std::filesystem::is_directory(wl.trace.path, ec)) {
      a.error("path", wl.trace.path + " is a folder; expected a CSV or JSONL trace file");
    }
    static constexpr std::string_view kFormats[] = {"auto", "csv", "jsonl"};
    const auto f = a.choice("format", kFormats, 0);
    wl.trace.format = f == 0 ? "" : std::string(kFormats[f]);
    wl.trace.rate_scale = a.number_or("rate_scale", 1.0, Range::positive());
    wl.trace.start_s = a.number_or("start_s", 0.0, Range::non_negative());
    if (a.has("end_s")) {
      wl.trace.end_s = a.number("end_s", Range::positive());
      if (wl.trace.end_s <= wl.trace.start_s) a.error("end_s", "must be after start_s");
    }
    arr["path"] = path;
    arr["format"] = std::string(kFormats[f]);
    arr["rate_scale"] = wl.trace.rate_scale;
    arr["start_s"] = wl.trace.start_s;
    if (std::isfinite(wl.trace.end_s)) arr["end_s"] = wl.trace.end_s;
  }
  a.finish();

  Json wj = Json::object();
  if (trace) {
    wl.requests = w.integer_or("requests", 0, Range::between(0, static_cast<double>(limits::kMaxRequests)));
    for (const char* key : {"input_tokens", "output_tokens"}) {
      if (w.has(key)) w.error(key, "comes from the trace with process \"trace\"; remove it");
    }
  } else {
    wl.requests = w.integer("requests", Range::between(1, static_cast<double>(limits::kMaxRequests)));
    const bool open_loop = wl.process == ArrivalProcess::poisson || wl.process == ArrivalProcess::constant ||
                           wl.process == ArrivalProcess::gamma;
    const double span_s = static_cast<double>(wl.requests) / wl.rate_per_s;
    if (open_loop && wl.rate_per_s > 0 && span_s > limits::kHorizonSeconds) {
      a.error("rate_per_s", std::to_string(wl.requests) + " requests at " + format_number(wl.rate_per_s) +
                                " per second arrive over about " + format_number(span_s) +
                                " s, beyond the simulation horizon of " + format_number(limits::kHorizonSeconds) +
                                " s (about 31 years); is the rate per second?");
    }
  }
  wl.seed = static_cast<std::uint64_t>(w.integer_or("seed", 1, Range::between(0, 9.0e15)));
  wj["requests"] = wl.requests;
  wj["seed"] = wl.seed;
  wj["arrival"] = arr;
  if (!trace) {
    Json in, out_t;
    wl.input = parse_tokens(w, "input_tokens", doc.base_dir, in);
    wl.output = parse_tokens(w, "output_tokens", doc.base_dir, out_t);
    wj["input_tokens"] = in;
    wj["output_tokens"] = out_t;
  }
  w.finish();
  out["workload"] = wj;
}

/// Resolve and parse a model or hardware reference, collecting errors (which may be in another file).
template <typename Spec, typename Parse>
bool parse_reference(ObjectReader& root, std::string_view key, config::CatalogKind kind, const config::Document& doc,
                     Diagnostics& d, Spec& out, Parse parse) {
  const Json* v = root.raw(key);
  if (!v) {
    root.error(key, std::string("missing required key; expected a ") + std::string(config::catalog_label(kind)) +
                        " catalog name, a path to a JSON file, or an inline object");
    return false;
  }
  try {
    const config::Document ref = config::resolve_reference(kind, *v, doc, root.child_path(key));
    Diagnostics inner(ref.file);
    out = parse(ref, inner);
    for (const auto& item : inner.items()) d.error_in(item.file, item.path, item.message);
    return inner.empty();
  } catch (const ConfigError& e) {
    for (const auto& item : e.diagnostics()) d.error_in(item.file, item.path, item.message);
    return false;
  }
}

/// A deployment that cannot run (parallelism that does not divide the model, a data type or link the chip
/// lacks, weights that do not fit, requests longer than the KV cache) is an InfeasibleError naming the file
/// and the section, so that a sweep can still tell it from a malformed file.
void check_pool(const serving::PoolSpec& pool, const workload::WorkloadSpec& w, const std::string& where) {
  std::int64_t kv_tokens = 0;
  try {
    const roofline::StepCostModel cost(pool.model, pool.hardware, pool.deployment);
    const parallelism::WorkspaceLimits limits{pool.scheduler.max_batched_tokens, pool.scheduler.max_batch_size};
    const auto plan = parallelism::plan_memory(pool.model, pool.hardware, pool.deployment, limits);
    parallelism::require_fit(pool.model, pool.hardware, pool.deployment, plan, limits);
    kv_tokens = plan.kv_token_capacity / pool.scheduler.block_size * pool.scheduler.block_size;
  } catch (const InfeasibleError& e) {
    throw InfeasibleError(where, "/deployment", e.what());
  }
  if (w.process == ArrivalProcess::trace) return;  // the trace's rows are checked as they arrive
  const std::int64_t in = w.input.upper_bound(), out = w.output.upper_bound();
  if (in > 0 && out > 0 && in + out > kv_tokens) {
    throw InfeasibleError(where, "/workload",
                          "a request may need " + std::to_string(in + out) + " tokens of KV cache (input up to " +
                              std::to_string(in) + " + output up to " + std::to_string(out) + "), but a replica of " +
                              pool.model.name + " on " + std::to_string(pool.deployment.chips_per_replica()) + " " +
                              pool.hardware.name + " holds " + std::to_string(kv_tokens) +
                              "; raise tensor_parallel, use a smaller kv_cache_dtype, or shorten the requests");
  }
}

}  // namespace

ScenarioSpec parse_scenario(const config::Document& doc, const std::vector<Override>& overrides) {
  Diagnostics d(doc.file);
  ScenarioSpec sc;
  sc.file = doc.file;
  ObjectReader root(doc.json, doc.pointer, d);
  Json out = Json::object();
  sc.name = root.string_or("name", std::filesystem::path(doc.file).stem().string());
  sc.description = root.string_or("description", "");
  out["name"] = sc.name;
  if (!sc.description.empty()) out["description"] = sc.description;

  serving::PoolSpec pool;
  const bool have_model = parse_reference(root, "model", config::CatalogKind::models, doc, d, pool.model,
                                          [](const config::Document& x, Diagnostics& dd) { return model::parse_model(x, dd); });
  parse_reference(root, "hardware", config::CatalogKind::hardware, doc, d, pool.hardware,
                  [](const config::Document& x, Diagnostics& dd) { return hardware::parse_hardware(x, dd); });
  if (const Json* m = root.raw("model")) out["model"] = *m;
  if (const Json* h = root.raw("hardware")) out["hardware"] = *h;

  // Deployment: 1-way parallelism and the model's native data type unless given.
  {
    Json dj = Json::object();
    auto& dep = pool.deployment;
    const DType native = have_model ? pool.model.native_dtype : DType::bf16;
    std::optional<ObjectReader> r = root.optional_object("deployment");
    if (r) {
      dep.tensor_parallel = static_cast<int>(r->integer_or("tensor_parallel", 1, Range::between(1, 4096)));
      dep.pipeline_parallel = static_cast<int>(r->integer_or("pipeline_parallel", 1, Range::between(1, 4096)));
      dep.expert_parallel = static_cast<int>(r->integer_or("expert_parallel", 1, Range::between(1, 4096)));
      dep.replicas = static_cast<int>(r->integer_or("replicas", 1, Range::between(1, 100000)));
      dep.weight_dtype = r->dtype_or("weight_dtype", native);
      dep.activation_dtype = r->dtype_or("activation_dtype", native);
      dep.kv_cache_dtype = r->dtype_or("kv_cache_dtype", native);
      dep.memory_utilization = r->number_or("memory_utilization", 0.9, Range::fraction());
      dep.quantization_group_size = static_cast<int>(r->integer_or("quantization_group_size", 0, Range::between(0, 1 << 20)));
      dep.dequant_overhead = r->number_or("dequant_overhead", 0.0, Range::between(0, 10));
      dep.moe_routing_skew = r->number_or("moe_routing_skew", 0.0, Range::between(0, 0.999));
      pool.router = static_cast<serving::Router>(r->choice("router", serving::kRouterNames, 0));
      const std::int64_t chips = static_cast<std::int64_t>(dep.tensor_parallel) * dep.pipeline_parallel * dep.replicas;
      if (chips > limits::kMaxChips) {
        r->error("replicas", "tensor_parallel x pipeline_parallel x replicas = " + std::to_string(chips) +
                                 " chips; at most " + std::to_string(limits::kMaxChips) + " are simulated");
      }
      r->finish();
    } else {
      dep.weight_dtype = dep.activation_dtype = dep.kv_cache_dtype = native;
    }
    dj["tensor_parallel"] = dep.tensor_parallel;
    dj["pipeline_parallel"] = dep.pipeline_parallel;
    dj["expert_parallel"] = dep.expert_parallel;
    dj["replicas"] = dep.replicas;
    dj["weight_dtype"] = to_string(dep.weight_dtype);
    dj["activation_dtype"] = to_string(dep.activation_dtype);
    dj["kv_cache_dtype"] = to_string(dep.kv_cache_dtype);
    dj["memory_utilization"] = dep.memory_utilization;
    dj["quantization_group_size"] = dep.quantization_group_size;
    dj["dequant_overhead"] = dep.dequant_overhead;
    dj["moe_routing_skew"] = dep.moe_routing_skew;
    dj["router"] = std::string(serving::kRouterNames[static_cast<std::size_t>(pool.router)]);
    out["deployment"] = dj;
  }
  // Scheduler.
  {
    Json sj = Json::object();
    auto& s = pool.scheduler;
    std::optional<ObjectReader> r = root.optional_object("scheduler");
    if (r) {
      const auto names = serving::scheduler_registry().names();
      std::vector<std::string_view> views(names.begin(), names.end());
      const auto idx = r->choice("policy", views, std::find(names.begin(), names.end(), "continuous") - names.begin());
      s.policy = names[idx];
      s.max_batch_size = r->integer_or("max_batch_size", 256, Range::between(1, 1e6));
      s.max_batched_tokens = r->integer_or("max_batched_tokens", 8192, Range::between(1, 1e8));
      s.block_size = r->integer_or("block_size", 16, Range::between(1, 1 << 16));
      s.scheduling_overhead_s = r->number_or("scheduling_overhead_s", 0.0, Range::between(0, 10));
      s.batch_timeout_s = r->number_or("batch_timeout_s", 0.0, Range::between(0, 1e6));
      r->finish();
    }
    sj["policy"] = s.policy;
    sj["max_batch_size"] = s.max_batch_size;
    sj["max_batched_tokens"] = s.max_batched_tokens;
    sj["block_size"] = s.block_size;
    sj["scheduling_overhead_s"] = s.scheduling_overhead_s;
    sj["batch_timeout_s"] = s.batch_timeout_s;
    out["scheduler"] = sj;
  }
  parse_workload(root, doc, sc, out);
  if (std::optional<ObjectReader> r = root.optional_object("slo")) {
    Json sj = Json::object();
    if (r->has("ttft_p99_s")) sj["ttft_p99_s"] = *(sc.slo.ttft_p99_s = r->number("ttft_p99_s", Range::positive()));
    if (r->has("tpot_p99_s")) sj["tpot_p99_s"] = *(sc.slo.tpot_p99_s = r->number("tpot_p99_s", Range::positive()));
    if (!sc.slo.any() && r->valid()) d.error(r->path(), "an slo needs ttft_p99_s, tpot_p99_s or both");
    r->finish();
    out["slo"] = sj;
  }
  if (std::optional<ObjectReader> r = root.optional_object("pricing")) {
    sc.pricing.usd_per_chip_hour = r->number("usd_per_chip_hour", Range::non_negative());
    out["pricing"] = Json{{"usd_per_chip_hour", *sc.pricing.usd_per_chip_hour}};
    r->finish();
  }
  root.finish();

  if (!d.empty()) {
    // Name the --set that introduced a bad key or value.
    std::vector<Diagnostic> items = d.items();
    for (auto& item : items) {
      for (const Override& o : overrides) {
        const std::string p = pointer_of(o.path);
        if (item.file == doc.file && (item.path.starts_with(p) || p.starts_with(item.path + "/"))) {
          item.file = "--set " + o.text;
        }
      }
    }
    throw ConfigError(items);
  }
  std::string where = doc.file;
  for (std::size_t i = 0; i < overrides.size(); ++i) where += (i ? ", --set " : " with --set ") + overrides[i].text;
  check_pool(pool, sc.simulation.workload, where);
  sc.simulation.pools.push_back(std::move(pool));
  sc.resolved = std::move(out);
  return sc;
}

ScenarioSpec load_scenario(const std::string& path, const std::vector<Override>& overrides) {
  config::Document doc = config::load_document(path);
  apply_overrides(doc.json, overrides);
  return parse_scenario(doc, overrides);
}

}  // namespace infersim::scenario
