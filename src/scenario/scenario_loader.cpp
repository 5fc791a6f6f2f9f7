#include "infersim/scenario/scenario_loader.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>

#include "infersim/core/error.hpp"
#include "infersim/core/limits.hpp"
#include "infersim/core/strings.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/serving/admission_reserve.hpp"
#include "infersim/serving/serving_engine_loader.hpp"
#include "infersim/workload/trace.hpp"
#include "scenario/loader_parts.hpp"

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
  if (std::size_t bad = 0; !valid_utf8(text, &bad)) {
    throw UsageError("--set: byte " + std::to_string(bad + 1) + " of the argument is not valid UTF-8; keys and values "
                     "must be UTF-8 text");
  }
  try {
    o.value = Json::parse(value);
    config::reject_duplicate_keys(value, "--set " + o.path);
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

}  // namespace

namespace {

/// A parallelism degree: an integer, or "auto" (sized to the smallest deployment that fits; 0 here).
int read_degree(ObjectReader& r, std::string_view key, int fallback) {
  if (const Json* v = r.raw(key); v && v->is_string()) {
    if (v->get<std::string>() == "auto") return 0;
    r.error(key, "expected an integer >= 1 or \"auto\", found " + config::describe_json(*v));
    return 1;
  }
  return static_cast<int>(r.integer_or(key, fallback, Range::between(1, 4096)));
}

void read_parallelism(ObjectReader& r, const parallelism::DeploymentSpec& base, parallelism::DeploymentSpec& dep,
                      Json& dj) {
  dep.tensor_parallel = read_degree(r, "tensor_parallel", base.tensor_parallel);
  dep.pipeline_parallel = read_degree(r, "pipeline_parallel", base.pipeline_parallel);
  dep.expert_parallel = static_cast<int>(r.integer_or("expert_parallel", base.expert_parallel, Range::between(1, 4096)));
  dep.attention_data_parallel =
      static_cast<int>(r.integer_or("attention_data_parallel", base.attention_data_parallel, Range::between(1, 4096)));
  dep.redundant_experts = static_cast<int>(r.integer_or("redundant_experts", base.redundant_experts, Range::between(0, 1 << 20)));
  dep.expert_load_imbalance = base.expert_load_imbalance;
  if (const Json* v = r.raw("expert_load_imbalance"); v && v->is_string()) {
    if (v->get<std::string>() == "auto") {
      dep.expert_load_imbalance = parallelism::kDerivedImbalance;
    } else {
      r.error("expert_load_imbalance", "expected a number >= 1 or \"auto\", found " + config::describe_json(*v));
    }
  } else if (v) {
    dep.expert_load_imbalance = r.number("expert_load_imbalance", Range::between(1, 1000));
  }
  dep.two_batch_overlap = r.boolean_or("two_batch_overlap", base.two_batch_overlap);
  if (dep.attention_data_parallel > 1 && dep.tensor_parallel == 0) {
    r.error("tensor_parallel", "expected an integer with attention_data_parallel " + std::to_string(dep.attention_data_parallel) +
                                   " (the chips its ranks share), found \"auto\"");
  }
  dep.replicas = static_cast<int>(r.integer_or("replicas", base.replicas, Range::between(1, 100000)));
  dep.memory_utilization = r.number_or("memory_utilization", base.memory_utilization, Range::fraction());
  dj["tensor_parallel"] = dep.tensor_parallel;
  dj["pipeline_parallel"] = dep.pipeline_parallel;
  dj["expert_parallel"] = dep.expert_parallel;
  dj["attention_data_parallel"] = dep.attention_data_parallel;
  dj["redundant_experts"] = dep.redundant_experts;
  if (dep.expert_load_imbalance == parallelism::kDerivedImbalance) {
    dj["expert_load_imbalance"] = "auto";
  } else if (dep.expert_load_imbalance > 0) {
    dj["expert_load_imbalance"] = dep.expert_load_imbalance;
  }
  if (dep.two_batch_overlap) dj["two_batch_overlap"] = true;
  dj["replicas"] = dep.replicas;
  dj["memory_utilization"] = dep.memory_utilization;
  const std::int64_t chips = static_cast<std::int64_t>(std::max(1, dep.tensor_parallel)) *
                             std::max(1, dep.pipeline_parallel) * dep.replicas;
  if (chips > limits::kMaxChips) {
    r.error("replicas", "tensor_parallel x pipeline_parallel x replicas = " + std::to_string(chips) + " chips; at most " +
                            std::to_string(limits::kMaxChips) + " are simulated");
  }
}

serving::Router read_router(ObjectReader& r, serving::Router fallback, Json& dj) {
  const auto router = static_cast<serving::Router>(r.choice("router", serving::kRouterNames, static_cast<std::size_t>(fallback)));
  dj["router"] = std::string(serving::kRouterNames[static_cast<std::size_t>(router)]);
  return router;
}

/// Batching fields of a scheduler (or of one pool of a disaggregated deployment).
void read_batching(ObjectReader& r, const serving::SchedulerSpec& base, serving::SchedulerSpec& s, Json& sj,
                   bool allow_disaggregated) {
  auto names = serving::scheduler_registry().names();
  if (allow_disaggregated) names.push_back("disaggregated");
  std::vector<std::string_view> views(names.begin(), names.end());
  const auto fallback = std::find(names.begin(), names.end(), base.policy) - names.begin();
  s.policy = names[r.choice("policy", views, static_cast<std::size_t>(fallback))];
  s.max_batch_size = r.integer_or("max_batch_size", base.max_batch_size, Range::between(1, 1e6));
  s.max_batched_tokens = r.integer_or("max_batched_tokens", base.max_batched_tokens, Range::between(1, 1e8));
  s.block_size = r.integer_or("block_size", base.block_size, Range::between(1, 1 << 16));
  s.scheduling_overhead_s = r.number_or("scheduling_overhead_s", base.scheduling_overhead_s, Range::between(0, 10));
  s.batch_timeout_s = r.number_or("batch_timeout_s", base.batch_timeout_s, Range::between(0, 1e6));
  s.scheduler_steps = r.integer_or("scheduler_steps", base.scheduler_steps, Range::between(1, serving::kMaxSchedulerSteps));
  if (s.scheduler_steps > 1 && s.policy == "static") {
    r.error("scheduler_steps", "applies to the continuous and chunked_prefill policies (a static batch already runs "
                               "to its end without rescheduling); remove it or use another policy");
  }
  sj["policy"] = s.policy;
  sj["max_batch_size"] = s.max_batch_size;
  sj["max_batched_tokens"] = s.max_batched_tokens;
  sj["block_size"] = s.block_size;
  sj["scheduling_overhead_s"] = s.scheduling_overhead_s;
  sj["batch_timeout_s"] = s.batch_timeout_s;
  // Resolved only where it is not the default, so that scenarios without multi-step keep their resolved form.
  if (s.scheduler_steps != 1) sj["scheduler_steps"] = s.scheduler_steps;
  s.admission_reserve = base.admission_reserve;
  // KV admission that keeps room for output (serving/admission_reserve.hpp), over the engine's.
  if (std::optional<ObjectReader> a = r.optional_object("admission_reserve")) {
    s.admission_reserve = serving::read_admission_reserve(*a, base.admission_reserve);
  }
  // Resolved only where on, so that scenarios without it keep their resolved form.
  if (s.admission_reserve.enabled()) sj["admission_reserve"] = serving::admission_reserve_json(s.admission_reserve);
  s.prefix_cache = base.prefix_cache;
  if (r.has("prefix_cache")) {
    // Automatic prefix caching (serving/prefix_cache.hpp); resolved only where given, so that scenarios
    // without it keep their resolved form.
    ObjectReader pc = r.object("prefix_cache");
    if (pc.valid()) {
      auto& p = s.prefix_cache;
      p.enabled = pc.boolean("enabled");
      p.host_gb = pc.number_or("host_gb", base.prefix_cache.host_gb, Range::between(0, 1e6));
      p.host_link_bytes_per_s = pc.number_or("host_link_gb_per_s", base.prefix_cache.host_link_bytes_per_s / 1e9, Range::between(0.001, 1e5)) * 1e9;
      p.affinity_max_imbalance = pc.integer_or("affinity_max_imbalance", base.prefix_cache.affinity_max_imbalance, Range::between(0, 1e9));
      pc.finish();
      sj["prefix_cache"] = {{"enabled", p.enabled},
                            {"host_gb", p.host_gb},
                            {"host_link_gb_per_s", p.host_link_bytes_per_s / 1e9},
                            {"affinity_max_imbalance", p.affinity_max_imbalance}};
    }
  }
}

void parse_speculative(ObjectReader& root, const config::Document& doc, Diagnostics& d, serving::SpeculativeSpec& sp,
                       Json& out);

/// Mean tokens (input + output) of one request of the workload.
double mean_request_tokens(const workload::WorkloadSpec& w) {
  if (w.process != workload::ArrivalProcess::trace) return workload::expected_input_tokens(w) + w.output.expected();
  const auto rows = workload::load_trace(w.trace, w.requests);
  double sum = 0;
  for (const auto& r : rows) sum += static_cast<double>(r.input_tokens + r.output_tokens);
  return sum / static_cast<double>(rows.size());
}

/// Why no deployment of up to the chip limit holds the model and the KV cache `need` asks for: the activation
/// workspace alone, the weights (and about how many such chips the whole need is), or the KV cache (how many tokens
/// and requests fit), read off the roomiest layout of the most chips the model divides over.
[[noreturn]] void throw_no_fit(const serving::PoolSpec& pool, const parallelism::DeploymentSpec& start,
                               const parallelism::FitRequirement& need, const parallelism::WorkspaceLimits& limits,
                               double mean_tokens) {
  const int limit = parallelism::max_deployment_chips(pool.hardware);
  std::string why = "no deployment of up to " + std::to_string(limit) + " " + pool.hardware.name + " chips";
  if (!pool.hardware.interconnect.scale_out_bandwidth_bytes_per_s) {
    why += " (its profile has no scale-out network, so a deployment spans at most its scale-up domain of " +
           std::to_string(pool.hardware.interconnect.scale_up_domain_chips) + ")";
  }
  // Name the real cause: spread as far as it can be (a tensor-parallel rank per head, a stage per layer),
  // does the activation workspace of one step of max_batched_tokens alone exceed a chip? (A Groq-style
  // chip of 0.23 GB of SRAM cannot hold the workspace of an 8,192-token step, whatever the chip count.)
  parallelism::DeploymentSpec widest = start;
  widest.tensor_parallel = std::max(1, pool.model.num_attention_heads);
  widest.pipeline_parallel = std::max(1, pool.model.num_layers);
  widest.expert_parallel = 1;
  const auto spread = parallelism::plan_memory(pool.model, pool.hardware, widest, limits);
  if (spread.workspace_bytes_per_chip >= spread.budget_bytes_per_chip) {
    throw InfeasibleError(why + " holds " + pool.model.name + ": the activation workspace of one step of " +
                          std::to_string(pool.scheduler.max_batched_tokens) + " tokens (scheduler.max_batched_tokens) needs " +
                          format_bytes(spread.workspace_bytes_per_chip) + " per chip even spread over " +
                          std::to_string(widest.tensor_parallel) + " tensor-parallel ranks, more than the " +
                          format_bytes(spread.budget_bytes_per_chip) + " a chip can use; lower scheduler.max_batched_tokens");
  }
  const parallelism::KvFootprint footprint = parallelism::kv_footprint(pool.model);
  why += " holds " + pool.model.name + " and the KV cache of " + std::to_string(pool.scheduler.max_batch_size) +
         " requests of " + format_number(mean_tokens, 5) + " tokens (" + std::to_string(need.min_kv_tokens) +
         (footprint.plain() ? " tokens)"
                                                        : " tokens of the full-attention layers' cache, the local layers' "
                                                          "windows counted in them)");
  // What the roomiest layout of the most chips the model divides over holds, and what it lacks.
  int chips_used = limit;
  auto layouts = parallelism::deployments_of(pool.model, pool.hardware, start, need, chips_used);
  while (layouts.empty() && chips_used > 1) layouts = parallelism::deployments_of(pool.model, pool.hardware, start, need, --chips_used);
  std::optional<parallelism::DeploymentSpec> roomiest;
  parallelism::MemoryPlan best;
  for (const auto& c : layouts) {
    const auto plan = parallelism::plan_memory(pool.model, pool.hardware, c, limits);
    if (!roomiest || plan.kv_bytes_per_chip > best.kv_bytes_per_chip) {
      roomiest = c;
      best = plan;
    }
  }
  if (!roomiest) throw InfeasibleError(why + "; lower scheduler.max_batch_size or quantize");
  const std::string layout = std::to_string(chips_used) + " chip" + (chips_used == 1 ? "" : "s") + " (tensor_parallel " +
                             std::to_string(roomiest->tensor_parallel) + " x pipeline_parallel " +
                             std::to_string(roomiest->pipeline_parallel) + ")";
  const double usable = best.budget_bytes_per_chip - best.workspace_bytes_per_chip;
  if (best.kv_bytes_per_chip <= 0 || best.kv_token_capacity <= 0) {
    // Weights and workspace alone overflow: how many chips' memory the whole need is, at the same usable share.
    const double kv_need = static_cast<double>(need.min_kv_tokens) * best.kv_bytes_per_unit_per_chip() * chips_used;
    const double chips = std::ceil((best.weight_bytes_total + kv_need) / std::max(usable, 1.0));
    throw InfeasibleError(why + ": on " + layout + " each chip needs " + format_bytes(best.weight_bytes_per_chip) +
                          " of weights (" + format_bytes(best.weight_bytes_total) + " in all, weight_dtype " +
                          std::string(to_string(start.weight_dtype)) + ") + " + format_bytes(best.workspace_bytes_per_chip) +
                          " of activation workspace, but can use " + format_bytes(best.budget_bytes_per_chip) +
                          "; the weights and that KV cache (" + format_bytes(kv_need) + ") take the memory of about " +
                          format_number(chips, 6) + " such chips; quantize the weights (weight_dtype fp8 or int4), " +
                          "use a chip with more memory" +
                          (pool.hardware.interconnect.scale_out_bandwidth_bytes_per_s ? "" : " or a profile with a scale-out network"));
  }
  const auto requests_that_fit = static_cast<std::int64_t>(static_cast<double>(best.kv_token_capacity) /
                                                           footprint.size(mean_tokens));
  throw InfeasibleError(why + ": on " + layout + " the weights leave room for " + std::to_string(best.kv_token_capacity) +
                        " tokens of KV cache (" + format_bytes(best.kv_bytes_per_chip) + " per chip); lower " +
                        "scheduler.max_batch_size (" + std::to_string(requests_that_fit) + " requests of that length fit), " +
                        "quantize the KV cache (kv_cache_dtype fp8) or the weights, or use a chip with more memory");
}

/// Choose "auto" parallelism: the fewest chips that hold the weights, the activation workspace and the KV
/// cache of max_batch_size requests of the workload's mean length.
void size_auto(serving::PoolSpec& pool, const workload::WorkloadSpec& w, Json& dj) {
  auto& d = pool.deployment;
  const bool auto_t = d.tensor_parallel == 0, auto_p = d.pipeline_parallel == 0;
  if (!auto_t && !auto_p) return;
  const double mean_tokens = mean_request_tokens(w);
  parallelism::FitRequirement need;
  // In units of the plan's capacity: a request's tokens inside the local layers' window count their share too.
  need.min_kv_tokens = static_cast<std::int64_t>(
      std::ceil(static_cast<double>(pool.scheduler.max_batch_size) * parallelism::kv_footprint(pool.model).size(mean_tokens)));
  need.vary_tensor_parallel = auto_t;
  need.vary_pipeline_parallel = auto_p;
  parallelism::DeploymentSpec start = d;
  if (auto_t) start.tensor_parallel = 1;
  if (auto_p) start.pipeline_parallel = 1;
  const parallelism::WorkspaceLimits limits{pool.scheduler.max_batched_tokens, pool.scheduler.max_batch_size};
  const auto fit = parallelism::smallest_fitting_deployment(pool.model, pool.hardware, start, limits, need);
  if (!fit) throw_no_fit(pool, start, need, limits, mean_tokens);
  d.tensor_parallel = fit->tensor_parallel;
  d.pipeline_parallel = fit->pipeline_parallel;
  d.expert_parallel = fit->expert_parallel;
  const auto plan = parallelism::plan_memory(pool.model, pool.hardware, d, limits);
  // Tensor parallelism beyond the KV heads replicates them: say so, or the figure reads as the requests' KV.
  const int kv_copies = !pool.model.mla && pool.model.num_kv_heads > 0 && d.tensor_parallel > pool.model.num_kv_heads
                            ? d.tensor_parallel / pool.model.num_kv_heads
                            : 1;
  const double chip_gb = pool.hardware.memory.capacity_bytes / 1e9;
  pool.sizing = "auto: " + std::to_string(d.chips_per_replica()) + " chips (tensor_parallel " +
                std::to_string(d.tensor_parallel) + " x pipeline_parallel " + std::to_string(d.pipeline_parallel) +
                ") hold " + format_bytes(plan.weight_bytes_total) + " of weights and the KV cache of " +
                std::to_string(pool.scheduler.max_batch_size) + " requests of " + format_number(mean_tokens, 5) +
                " tokens (" + format_bytes(static_cast<double>(need.min_kv_tokens) * plan.kv_bytes_per_unit_per_chip() *
                                          d.chips_per_replica()) +
                (kv_copies > 1 ? " on the chips, each of the " + std::to_string(pool.model.num_kv_heads) +
                                     " KV heads held " + std::to_string(kv_copies) + " times over by tensor_parallel " +
                                     std::to_string(d.tensor_parallel)
                               : std::string()) +
                ") in " + format_number(chip_gb, 4) + " GB of " + pool.hardware.memory.type + " per chip";
  dj["tensor_parallel"] = d.tensor_parallel;
  dj["pipeline_parallel"] = d.pipeline_parallel;
  dj["expert_parallel"] = d.expert_parallel;
  dj["sizing"] = pool.sizing;
}

/// A deployment that cannot run (parallelism that does not divide the model, a data type or link the chip
/// lacks, weights that do not fit, requests longer than the KV cache) is an InfeasibleError naming the file
/// and the section, so that a sweep can still tell it from a malformed file. `section` is the JSON pointer of
/// the pool's deployment.
void check_pool(const serving::PoolSpec& pool, const workload::WorkloadSpec& w, const std::string& where,
                const std::string& section) {
  std::int64_t kv_tokens = 0;
  try {
    parallelism::validate_deployment(pool.model, pool.hardware, pool.deployment);
    kv_tokens = serving::plan_pool_memory(pool).kv_sequence_limit_tokens;
  } catch (const InfeasibleError& e) {
    throw InfeasibleError(where, section, e.what());
  }
  if (w.process == ArrivalProcess::trace) return;  // the trace's rows are checked as they arrive
  const std::int64_t in = workload::input_upper_bound(w), out = w.output.upper_bound();
  if (in > 0 && out > 0 && in + out > kv_tokens) {
    throw InfeasibleError(where, "/workload",
                          "a request may need " + std::to_string(in + out) + " tokens of KV cache (input up to " +
                              std::string(w.sessions.enabled ? "a session's last prompt of system prompt, history and message, "
                                                             : "") +
                              std::to_string(in) + " + output up to " + std::to_string(out) + "), but a replica of " +
                              pool.model.name + " on " + std::to_string(pool.deployment.chips_per_replica()) + " " +
                              pool.hardware.name + (pool.role == serving::ReplicaRole::unified ? "" : " (" + pool.name + " pool)") +
                              (pool.deployment.attention_data_parallel > 1 ? " holds in one attention rank " : " holds ") +
                              std::to_string(kv_tokens) +
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
  // Where a scenario's deployment and figures come from (a published system it reproduces).
  if (const std::string source = root.string_or("source", ""); !source.empty()) out["source"] = source;

  serving::PoolSpec pool;
  const bool have_model = parse_reference(root, "model", config::CatalogKind::models, doc, d, pool.model,
                                          [](const config::Document& x, Diagnostics& dd) { return model::parse_model(x, dd); });
  parse_reference(root, "hardware", config::CatalogKind::hardware, doc, d, pool.hardware,
                  [](const config::Document& x, Diagnostics& dd) { return hardware::parse_hardware(x, dd); });
  if (const Json* m = root.raw("model")) out["model"] = *m;
  if (const Json* h = root.raw("hardware")) out["hardware"] = *h;
  // The serving engine: its host time per step and the batching it does unless `scheduler` says otherwise.
  serving::ServingEngineSpec engine;
  {
    const Json* e = root.raw("engine");
    Json wrapper = Json::object();
    wrapper["engine"] = e ? *e : Json(std::string(serving::kDefaultEngine));
    ObjectReader er(wrapper, doc.pointer, d);
    if (parse_reference(er, "engine", config::CatalogKind::engines, doc, d, engine,
                        [](const config::Document& x, Diagnostics& dd) { return serving::parse_serving_engine(x, dd); })) {
      pool.engine = engine;
    }
    out["engine"] = wrapper["engine"];
  }

  // Deployment: 1-way parallelism and the model's native data type unless given.
  {
    Json dj = Json::object();
    auto& dep = pool.deployment;
    dep.all_to_all = engine.expert_all_to_all;  // the engine's kernels, in every pool (pools copy this deployment)
    dep.all_reduce = engine.custom_all_reduce;
    dep.moe_gemm = engine.moe_gemm;
    dep.fp8_attention = engine.attention.fp8_math;
    const DType native = have_model ? pool.model.native_dtype : DType::bf16;
    std::optional<ObjectReader> r = root.optional_object("deployment");
    if (r) {
      read_parallelism(*r, parallelism::DeploymentSpec{}, dep, dj);
      dep.weight_dtype = r->dtype_or("weight_dtype", native);
      dep.activation_dtype = r->dtype_or("activation_dtype", native);
      dep.kv_cache_dtype = r->dtype_or("kv_cache_dtype", native);
      dep.quantization_group_size = static_cast<int>(r->integer_or("quantization_group_size", 0, Range::between(0, 1 << 20)));
      dep.dequant_overhead = r->number_or("dequant_overhead", engine.dequant_overhead, Range::between(0, 10));
      dep.moe_routing_skew = r->number_or("moe_routing_skew", 0.0, Range::between(0, 0.999));
      pool.router = read_router(*r, serving::Router::round_robin, dj);
      if (r->has("gpu_layers")) {
        // Hybrid CPU/GPU placement (llama.cpp style): the first gpu_layers on `hardware`, the rest on the host.
        pool.hybrid.gpu_layers = static_cast<int>(r->integer("gpu_layers", Range::between(0, 10000)));
        const Json host_name = r->has("host_hardware") ? *r->raw("host_hardware") : Json("epyc-9654");
        Json host_wrapper = Json::object();
        host_wrapper["host_hardware"] = host_name;
        ObjectReader hr(host_wrapper, r->path(), d);
        parse_reference(hr, "host_hardware", config::CatalogKind::hardware, doc, d, pool.hybrid.host,
                        [](const config::Document& x, Diagnostics& dd) { return hardware::parse_hardware(x, dd); });
        pool.hybrid.link_bytes_per_s = r->number_or("host_link_gb_per_s", 25.0, Range::positive()) * 1e9;
        pool.hybrid.link_latency_s = r->number_or("host_link_latency_us", 10.0, Range::non_negative()) * 1e-6;
        dj["gpu_layers"] = pool.hybrid.gpu_layers;
        dj["host_hardware"] = host_name;
        dj["host_link_gb_per_s"] = pool.hybrid.link_bytes_per_s / 1e9;
        dj["host_link_latency_us"] = pool.hybrid.link_latency_s * 1e6;
      } else {
        for (const char* key : {"host_hardware", "host_link_gb_per_s", "host_link_latency_us"}) {
          if (r->has(key)) r->error(key, "applies only with gpu_layers (hybrid CPU/GPU placement)");
        }
      }
      r->finish();
    } else {
      static const Json kEmpty = Json::object();
      ObjectReader empty(kEmpty, "/deployment", d);
      read_parallelism(empty, parallelism::DeploymentSpec{}, dep, dj);
      pool.router = read_router(empty, serving::Router::round_robin, dj);
      dep.weight_dtype = dep.activation_dtype = dep.kv_cache_dtype = native;
      dep.dequant_overhead = engine.dequant_overhead;
    }
    dj["weight_dtype"] = to_string(dep.weight_dtype);
    dj["activation_dtype"] = to_string(dep.activation_dtype);
    dj["kv_cache_dtype"] = to_string(dep.kv_cache_dtype);
    dj["quantization_group_size"] = dep.quantization_group_size;
    dj["dequant_overhead"] = dep.dequant_overhead;
    dj["moe_routing_skew"] = dep.moe_routing_skew;
    out["deployment"] = dj;
  }
  // Scheduler; "disaggregated" has a prefill and a decode pool, each with hardware, parallelism and batching.
  std::vector<serving::PoolSpec> pools;
  {
    Json sj = Json::object();
    std::optional<ObjectReader> r = root.optional_object("scheduler");
    static const Json kEmpty = Json::object();
    ObjectReader empty(kEmpty, "/scheduler", d);
    ObjectReader& sr = r ? *r : empty;
    serving::SchedulerSpec engine_defaults;
    engine_defaults.policy = engine.scheduler.policy.empty() ? engine_defaults.policy : engine.scheduler.policy;
    engine_defaults.max_batch_size = engine.scheduler.max_batch_size;
    engine_defaults.max_batched_tokens = engine.scheduler.max_batched_tokens;
    engine_defaults.scheduler_steps = engine.scheduler.scheduler_steps;
    engine_defaults.admission_reserve = engine.scheduler.admission_reserve;
    read_batching(sr, engine_defaults, pool.scheduler, sj, true);
    if (pool.scheduler.policy == "disaggregated") {
      for (const char* role : {"prefill", "decode"}) {
        serving::PoolSpec ps = pool;
        ps.name = role;
        ps.role = std::string(role) == "prefill" ? serving::ReplicaRole::prefill : serving::ReplicaRole::decode;
        ObjectReader pr = sr.object(role);
        Json pj = Json::object();
        if (pr.has("hardware")) {
          parse_reference(pr, "hardware", config::CatalogKind::hardware, doc, d, ps.hardware,
                          [](const config::Document& x, Diagnostics& dd) { return hardware::parse_hardware(x, dd); });
          pj["hardware"] = *pr.raw("hardware");
        } else {
          pj["hardware"] = out.value("hardware", Json());
        }
        read_parallelism(pr, pool.deployment, ps.deployment, pj);
        ps.router = read_router(pr, pool.router, pj);
        serving::SchedulerSpec base = pool.scheduler;
        base.policy = "continuous";
        base.admission_reserve = {};  // a pool's admission is its own (the engine's reserve is for unified replicas)
        read_batching(pr, base, ps.scheduler, pj, false);
        pr.finish();
        sj[role] = pj;
        pools.push_back(std::move(ps));
      }
      // The prompt's KV moves over the prefill chips' scale-out links unless given.
      const auto& link_hw = pools.front().hardware;
      double bw = link_hw.interconnect.scale_out_bandwidth_bytes_per_s.value_or(0.0);
      double latency = link_hw.interconnect.scale_out_latency_s;
      if (std::optional<ObjectReader> kt = sr.optional_object("kv_transfer")) {
        bw = kt->number_or("bandwidth_gb_per_s", bw / 1e9, Range::positive()) * 1e9;
        latency = kt->number_or("latency_us", latency * 1e6, Range::non_negative()) * 1e-6;
        kt->finish();
      }
      if (!(bw > 0) && sr.valid()) {
        sr.error("kv_transfer", "the prefill hardware has no scale-out bandwidth in its profile; give "
                                "kv_transfer.bandwidth_gb_per_s");
        bw = 1;
      }
      sc.simulation.kv_transfer.bandwidth_bytes_per_s = bw;
      sc.simulation.kv_transfer.latency_s = latency;
      sj["kv_transfer"] = Json{{"bandwidth_gb_per_s", bw / 1e9}, {"latency_us", latency * 1e6}};
    } else {
      for (const char* key : {"prefill", "decode", "kv_transfer"}) {
        if (sr.has(key)) sr.error(key, "only applies to policy \"disaggregated\"");
      }
    }
    sr.finish();
    out["scheduler"] = sj;
  }
  parse_speculative(root, doc, d, pool.speculative, out);
  if (pools.empty()) {
    pools.push_back(pool);
  } else {
    for (auto& p : pools) p.speculative = pool.speculative;
  }
  for (const auto& p : pools) {
    if (pool.speculative.enabled() && p.scheduler.scheduler_steps > 1) {
      root.error("speculative", "does not combine with multi-step scheduling (scheduler.scheduler_steps " +
                                    std::to_string(p.scheduler.scheduler_steps) +
                                    ", vLLM's num_scheduler_steps supports no speculative decoding); set scheduler_steps to 1");
      break;
    }
  }
  parse_workload(root, doc, sc, out);
  // Sessions' prompt block hashes are as fine as every pool's KV blocks (the prefix cache shares whole blocks).
  if (sc.simulation.workload.sessions.enabled) {
    std::int64_t block_tokens = 1;
    for (const auto& p : pools) block_tokens = std::lcm(block_tokens, p.scheduler.block_size);
    sc.simulation.workload.sessions.block_tokens = block_tokens;
  }
  if (d.empty()) {
    // Located, so that every command (run, sweep, validate) names the file and the deployment it sized.
    const auto sized = [&](std::size_t p, Json& dj, const std::string& section) {
      try {
        size_auto(pools[p], sc.simulation.workload, dj);
      } catch (const InfeasibleError& e) {
        if (e.located()) throw;
        throw InfeasibleError(doc.file, section, e.what());
      }
    };
    if (pools.size() == 1) {
      sized(0, out["deployment"], "/deployment");
    } else {
      sized(0, out["scheduler"]["prefill"], "/scheduler/prefill");
      sized(1, out["scheduler"]["decode"], "/scheduler/decode");
    }
  }
  if (std::optional<ObjectReader> r = root.optional_object("dispatch")) {
    auto& ds = sc.simulation.dispatch;
    ds.max_requests = r->integer("max_requests", Range::between(1, static_cast<double>(limits::kMaxRequests)));
    ds.timeout_s = r->number("timeout_s", Range::between(0, 3600));
    r->finish();
    out["dispatch"] = Json{{"max_requests", ds.max_requests}, {"timeout_s", ds.timeout_s}};
  }
  if (std::optional<ObjectReader> r = root.optional_object("slo")) {
    Json sj = Json::object();
    if (r->has("ttft_p99_s")) sj["ttft_p99_s"] = *(sc.slo.ttft_p99_s = r->number("ttft_p99_s", Range::positive()));
    if (r->has("tpot_p99_s")) sj["tpot_p99_s"] = *(sc.slo.tpot_p99_s = r->number("tpot_p99_s", Range::positive()));
    if (!sc.slo.any() && r->valid()) d.error(r->path(), "an slo needs ttft_p99_s, tpot_p99_s or both");
    if (std::optional<ObjectReader> f = r->optional_object("find_max_rate")) {
      RateSearchSpec rs;
      rs.min_rate_per_s = f->number("min_rate_per_s", Range::positive());
      rs.max_rate_per_s = f->number("max_rate_per_s", Range::positive());
      rs.relative_tolerance = f->number_or("relative_tolerance", rs.relative_tolerance, {1e-6, 1.0, false, false});
      if (f->has("duration_s")) rs.duration_s = f->number("duration_s", Range::positive());
      rs.runs_per_rate = static_cast<int>(f->integer_or("runs_per_rate", rs.runs_per_rate, Range::between(1, 99)));
      if (f->valid() && rs.runs_per_rate % 2 == 0) {
        d.error(f->child_path("runs_per_rate"),
                "expected an odd number of runs, so that one is the median, got " + std::to_string(rs.runs_per_rate));
      }
      if (f->valid() && rs.min_rate_per_s > 0 && rs.max_rate_per_s <= rs.min_rate_per_s) {
        d.error(f->child_path("max_rate_per_s"), "expected a rate above min_rate_per_s (" + format_number(rs.min_rate_per_s) +
                                                      "), got " + format_number(rs.max_rate_per_s));
      }
      const auto process = sc.simulation.workload.process;
      if (f->valid() && !workload::rate_driven(process)) {
        d.error(f->path(), std::string("searching the arrival rate needs a rate-driven workload.arrival.process (poisson, "
                                       "constant or gamma), got ") +
                               std::string(workload::kArrivalProcessNames[static_cast<int>(process)]));
      }
      // The slowest trial must end within simulated time, as workload.arrival.rate_per_s must.
      const double slowest_span_s = rs.duration_s ? *rs.duration_s
                                                  : static_cast<double>(sc.simulation.workload.requests) / rs.min_rate_per_s;
      if (f->valid() && rs.min_rate_per_s > 0 && slowest_span_s > limits::kHorizonSeconds) {
        d.error(f->child_path(rs.duration_s ? "duration_s" : "min_rate_per_s"),
                "the trial at min_rate_per_s would issue requests for about " + format_number(slowest_span_s) +
                    " s, beyond the simulation horizon of " + format_number(limits::kHorizonSeconds) + " s");
      }
      if (f->valid() && rs.duration_s && *rs.duration_s * rs.max_rate_per_s > static_cast<double>(limits::kMaxRequests)) {
        d.error(f->child_path("duration_s"), "expected at most " + std::to_string(limits::kMaxRequests) +
                                                 " requests per trial (duration_s x max_rate_per_s)");
      }
      f->finish();
      Json fj{{"min_rate_per_s", rs.min_rate_per_s}, {"max_rate_per_s", rs.max_rate_per_s},
              {"relative_tolerance", rs.relative_tolerance}};
      if (rs.duration_s) fj["duration_s"] = *rs.duration_s;
      if (rs.runs_per_rate > 1) fj["runs_per_rate"] = rs.runs_per_rate;
      sj["find_max_rate"] = fj;
      sc.slo.find_max_rate = rs;
    }
    r->finish();
    out["slo"] = sj;
  }
  if (std::optional<ObjectReader> r = root.optional_object("pricing")) {
    Json pj = Json::object();
    if (r->has("usd_per_chip_hour")) {
      sc.pricing.usd_per_chip_hour = r->number("usd_per_chip_hour", Range::non_negative());
      pj["usd_per_chip_hour"] = *sc.pricing.usd_per_chip_hour;
    }
    if (std::optional<ObjectReader> t = r->optional_object("tco")) {
      cost::TcoSpec tco;
      tco.purchase_usd_per_chip = t->number("purchase_usd_per_chip", Range::positive());
      tco.amortization_years = t->number_or("amortization_years", tco.amortization_years, Range::between(0.1, 50));
      tco.utilization = t->number_or("utilization", tco.utilization, Range::fraction());
      tco.pue = t->number_or("pue", tco.pue, Range::between(1.0, 5.0));
      tco.electricity_usd_per_kwh = t->number_or("electricity_usd_per_kwh", tco.electricity_usd_per_kwh, Range::non_negative());
      tco.hosting_usd_per_kw_month = t->number_or("hosting_usd_per_kw_month", tco.hosting_usd_per_kw_month, Range::non_negative());
      t->finish();
      sc.pricing.tco = tco;
      pj["tco"] = Json{{"purchase_usd_per_chip", tco.purchase_usd_per_chip}, {"amortization_years", tco.amortization_years},
                       {"utilization", tco.utilization}, {"pue", tco.pue},
                       {"electricity_usd_per_kwh", tco.electricity_usd_per_kwh},
                       {"hosting_usd_per_kw_month", tco.hosting_usd_per_kw_month}};
    }
    if (sc.pricing.usd_per_chip_hour && sc.pricing.tco) {
      r->error("tco", "give either usd_per_chip_hour or tco, not both");
    } else if (!sc.pricing.usd_per_chip_hour && !sc.pricing.tco && r->valid()) {
      d.error(r->path(), "pricing needs usd_per_chip_hour or tco");
    }
    r->finish();
    out["pricing"] = pj;
  }
  {
    Json ej = Json::object();
    std::optional<ObjectReader> r = root.optional_object("energy");
    auto& e = sc.energy;
    if (r) {
      e.pue = r->number_or("pue", e.pue, Range::between(1.0, 5.0));
      e.grid_kg_co2_per_kwh = r->number_or("grid_kg_co2_per_kwh", e.grid_kg_co2_per_kwh, Range::non_negative());
      e.idle_fraction_of_tdp = r->number_or("idle_fraction_of_tdp", e.idle_fraction_of_tdp, Range::between(0, 1));
      r->finish();
    }
    ej["pue"] = e.pue;
    ej["grid_kg_co2_per_kwh"] = e.grid_kg_co2_per_kwh;
    ej["idle_fraction_of_tdp"] = e.idle_fraction_of_tdp;
    out["energy"] = ej;
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
  // What each pool pays per chip-hour: the scenario's price, its TCO, or the profile's dated price.
  for (auto& p : pools) {
    const cost::ChipPrice price = cost::resolve_chip_price(p.hardware, sc.pricing.usd_per_chip_hour, sc.pricing.tco);
    p.usd_per_chip_hour = price.usd_per_chip_hour;
    p.price_basis = price.basis;
  }
  std::string where = doc.file;
  for (std::size_t i = 0; i < overrides.size(); ++i) where += (i ? ", --set " : " with --set ") + overrides[i].text;
  for (const auto& p : pools) {
    check_pool(p, sc.simulation.workload, where,
               p.role == serving::ReplicaRole::unified ? "/deployment" : "/scheduler/" + p.name);
  }
  sc.simulation.pools = std::move(pools);
  sc.resolved = std::move(out);
  return sc;
}

namespace {

void parse_speculative(ObjectReader& root, const config::Document& doc, Diagnostics& d, serving::SpeculativeSpec& sp,
                       Json& out) {
  std::optional<ObjectReader> r = root.optional_object("speculative");
  if (!r) return;
  Json sj = Json::object();
  using serving::SpeculativeMethod;
  sp.method = static_cast<SpeculativeMethod>(r->choice("method", serving::kSpeculativeMethodNames));
  const std::string method(serving::kSpeculativeMethodNames[static_cast<std::size_t>(sp.method)]);
  sj["method"] = method;
  if (sp.method == SpeculativeMethod::none) {
    for (const char* key : {"draft_model", "num_speculative_tokens", "acceptance_rate", "num_candidate_tokens"}) {
      if (r->has(key)) r->error(key, "does not apply to method \"none\"");
    }
    r->finish();
    out["speculative"] = sj;
    return;
  }
  if (sp.method == SpeculativeMethod::draft_model) {
    model::ModelSpec draft;
    if (parse_reference(*r, "draft_model", config::CatalogKind::models, doc, d, draft,
                        [](const config::Document& x, Diagnostics& dd) { return model::parse_model(x, dd); })) {
      sp.draft_model = draft;
    }
    if (const Json* dm = r->raw("draft_model")) sj["draft_model"] = *dm;
  } else if (r->has("draft_model")) {
    r->error("draft_model", "only applies to method \"draft_model\"");
  }
  sp.num_speculative_tokens = static_cast<int>(r->integer("num_speculative_tokens", Range::between(1, 32)));
  sj["num_speculative_tokens"] = sp.num_speculative_tokens;
  if (const Json* a = r->raw("acceptance_rate")) {
    if (a->is_number()) {
      const double v = a->get<double>();
      if (!(v >= 0 && v <= 1)) r->error("acceptance_rate", "expected a probability in [0, 1], found " + a->dump());
      sp.acceptance = {v};
    } else if (a->is_array()) {
      if (static_cast<int>(a->size()) != sp.num_speculative_tokens) {
        r->error("acceptance_rate", "a per-position list needs one rate per speculative token (" +
                                        std::to_string(sp.num_speculative_tokens) + "), found " + std::to_string(a->size()));
      }
      for (const auto& x : *a) {
        if (!x.is_number() || !(x.get<double>() >= 0 && x.get<double>() <= 1)) {
          r->error("acceptance_rate", "each rate must be a probability in [0, 1], found " + config::describe_json(x));
          break;
        }
        sp.acceptance.push_back(x.get<double>());
      }
    } else {
      r->error("acceptance_rate", "expected a probability in [0, 1] or one per speculative token, found " +
                                      config::describe_json(*a));
    }
    sj["acceptance_rate"] = *a;
  } else {
    r->error("acceptance_rate", "missing required key; expected the probability that a drafted token is accepted "
                                "(or one per position)");
  }
  if (sp.method == SpeculativeMethod::medusa || sp.method == SpeculativeMethod::eagle) {
    sp.num_candidate_tokens = static_cast<int>(r->integer_or("num_candidate_tokens", sp.num_speculative_tokens + 1,
                                                             Range::between(sp.num_speculative_tokens + 1, 4096)));
    sj["num_candidate_tokens"] = sp.num_candidate_tokens;
  } else if (r->has("num_candidate_tokens")) {
    r->error("num_candidate_tokens", "tree verification applies to methods \"medusa\" and \"eagle\"");
  }
  r->finish();
  out["speculative"] = sj;
}

}  // namespace

ScenarioSpec load_scenario(const std::string& path, const std::vector<Override>& overrides) {
  config::Document doc = config::load_document(path);
  apply_overrides(doc.json, overrides);
  return parse_scenario(doc, overrides);
}

}  // namespace infersim::scenario
