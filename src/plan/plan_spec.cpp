#include "infersim/plan/plan_spec.hpp"

#include <array>

#include "infersim/core/error.hpp"
#include "infersim/sweep/text_file.hpp"
#include "infersim/workload/workload_spec.hpp"

namespace infersim::plan {

using config::Json;
using config::ObjectReader;
using config::Range;

std::string PlanSpec::label(std::size_t candidate) const {
  std::string text;
  for (const auto& o : space.overrides(candidate)) text += (text.empty() ? "" : ", ") + o.text;
  return text.empty() ? std::string("the base scenario") : text;
}

namespace {

/// Keys the planner sets itself: searching them would fight it. (A disaggregated base's
/// scheduler.prefill.replicas and scheduler.decode.replicas may be searched: they are the pools' sizes in one
/// unit of the fleet, i.e. their ratio, and the planner finds how many units.)
constexpr std::array<std::string_view, 3> kPlannerKeys = {"deployment.replicas", "workload.arrival.rate_per_s", "slo"};

void read_target(ObjectReader& root, PlanSpec& spec) {
  std::optional<ObjectReader> t = root.optional_object("target");
  if (!t) {
    if (root.valid() && !root.has("target")) {
      root.error("target", "missing required key; expected {\"rate_per_s\": R} (requests per second for the whole fleet) "
                           "or {\"trace\": \"as_is\"}");
    }
    return;
  }
  if (!t->valid()) return;
  const bool rate = t->has("rate_per_s"), trace = t->has("trace");
  if (rate && trace) {
    t->error("trace", "give either rate_per_s or trace, not both");
  } else if (rate) {
    spec.target.rate_per_s = t->number("rate_per_s", Range::positive_up_to(1e9));
  } else if (trace) {
    static constexpr std::array<std::string_view, 1> kTrace = {"as_is"};
    (void)t->choice("trace", kTrace);
  } else {
    t->error("", "expected rate_per_s (requests per second for the whole fleet) or \"trace\": \"as_is\"");
  }
  t->finish();

  // The base's arrival process must fit the target (when the base states it; the scenario parser checks the rest).
  const Json* process = config::find_dotted(spec.space.base.json, "workload.arrival.process");
  if (process && process->is_string()) {
    const std::string p = process->get<std::string>();
    const bool is_trace = p == "trace";
    const bool driven = p == "poisson" || p == "constant" || p == "gamma";
    if (rate && !driven) {
      root.error("target", "rate_per_s needs a base scenario whose workload.arrival.process follows a rate (poisson, "
                           "constant or gamma); the base's is \"" + p + "\"" + (is_trace ? "; use {\"trace\": \"as_is\"}" : ""));
    } else if (trace && !is_trace) {
      root.error("target", "{\"trace\": \"as_is\"} needs a base scenario with workload.arrival.process \"trace\"; the "
                           "base's is \"" + p + "\"; give rate_per_s instead");
    }
  }
}

}  // namespace

PlanSpec parse_plan(const std::string& text, const std::string& file, const std::filesystem::path& base_dir) {
  const Json j = config::parse_json_text(text, file);
  config::Diagnostics d(file);
  ObjectReader root(j, "", d);
  PlanSpec spec;
  spec.file = file;
  spec.space.file = file;
  spec.name = root.string_or("name", "");
  spec.description = root.string_or("description", "");
  spec.space.base = sweep::read_base(root, file, base_dir);
  read_target(root, spec);

  if (std::optional<ObjectReader> s = root.optional_object("slo")) {
    if (s->has("ttft_p99_s")) spec.ttft_p99_s = s->number("ttft_p99_s", Range::positive());
    if (s->has("tpot_p99_s")) spec.tpot_p99_s = s->number("tpot_p99_s", Range::positive());
    if (s->valid() && !spec.ttft_p99_s && !spec.tpot_p99_s) d.error(s->path(), "a plan's slo needs ttft_p99_s, tpot_p99_s or both");
    s->finish();
  } else if (root.valid() && !root.has("slo")) {
    root.error("slo", "missing required key; expected {\"ttft_p99_s\": T, \"tpot_p99_s\": P} (seconds)");
  }

  if (root.has("search")) {
    const auto ordered = nlohmann::ordered_json::parse(text);
    spec.space.grid = sweep::read_axes(ordered.at("search"), j.at("search"), "/search", d);
    for (const sweep::Axis& a : spec.space.grid) {
      for (std::string_view k : kPlannerKeys) {
        if (a.key == k || a.key.starts_with(std::string(k) + ".")) {
          d.error("/search/" + config::pointer_escape(a.key),
                  "the planner sets " + std::string(k) + " itself (from target, slo and the replica count it finds); remove it");
        }
      }
    }
    sweep::check_swept_keys(spec.space.keys(), "/search", d);
    double count = 1;
    for (const sweep::Axis& a : spec.space.grid) count *= static_cast<double>(a.values.size());
    if (count > 1e6) d.error("/search", "the search has " + std::to_string(count) + " candidates; at most 1e6 are supported");
  }
  spec.objective = static_cast<Objective>(root.choice("objective", kObjectiveNames, 0));
  spec.max_replicas = static_cast<int>(root.integer_or("max_replicas", spec.max_replicas, Range::between(1, 100000)));
  root.finish();
  d.throw_if_any();
  return spec;
}

PlanSpec load_plan(const std::string& path) {
  return parse_plan(sweep::read_text_file(path), path, std::filesystem::path(path).parent_path());
}

}  // namespace infersim::plan
