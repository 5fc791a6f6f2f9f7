#include "infersim/plan/planner.hpp"

#include <algorithm>
#include <set>
#include <thread>

#include "infersim/core/error.hpp"
#include "infersim/sweep/ordered_pool.hpp"
#include "infersim/sweep/pareto.hpp"

namespace infersim::plan {

using config::Json;

namespace {

Json optional_number(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

std::size_t index_of(const Json& c) { return c.at("candidate").get<std::size_t>(); }

/// The objective's value of a ranked candidate's JSON (every ranked one has it).
double objective_of(const Json& c, const std::string& objective) { return c.at(objective).get<double>(); }

/// Ranking, frontier and closest miss from the feasible and skipped candidates (as candidate_json writes
/// them): what run_plan and merge_plan_outputs both end with, so that their outputs agree byte for byte.
Json finish(Json head, std::vector<Json> feasible, std::vector<Json> skipped, std::size_t feasible_count, std::size_t top) {
  const std::string objective = head.at("objective").get<std::string>();
  auto better = [&](const Json& a, const Json& b) {
    const double va = objective_of(a, objective), vb = objective_of(b, objective);
    if (va != vb) return va < vb;
    const int ca = a.at("chips").get<int>(), cb = b.at("chips").get<int>();
    if (ca != cb) return ca < cb;
    return index_of(a) < index_of(b);
  };
  std::sort(feasible.begin(), feasible.end(), better);
  // A candidate listed by a shard's top and by its frontier comes twice, side by side after the sort.
  feasible.erase(std::unique(feasible.begin(), feasible.end(), [](const Json& a, const Json& b) { return index_of(a) == index_of(b); }),
                 feasible.end());
  // Each shard lists its frontier as well as its top: the frontier of the union is the frontier of those.
  sweep::ParetoFront front;
  for (std::size_t k = 0; k < feasible.size(); ++k) {
    front.add(objective_of(feasible[k], objective), feasible[k].at("tpot_p99_s").get<double>(), index_of(feasible[k]), {});
  }
  std::vector<Json> frontier;
  for (const auto& e : front.entries()) {
    const auto it = std::find_if(feasible.begin(), feasible.end(), [&](const Json& c) { return index_of(c) == e.point; });
    frontier.push_back(*it);
  }
  if (feasible.size() > top) feasible.resize(top);
  for (std::size_t k = 0; k < feasible.size(); ++k) feasible[k]["rank"] = k + 1;
  for (Json& c : frontier) c.erase("rank");

  std::sort(skipped.begin(), skipped.end(), [](const Json& a, const Json& b) { return index_of(a) < index_of(b); });
  Json closest = nullptr;
  if (feasible_count == 0) {
    for (const Json& s : skipped) {
      if (s.at("miss_ratio").is_null()) continue;
      if (closest.is_null() || s.at("miss_ratio").get<double>() < closest.at("miss_ratio").get<double>()) closest = s;
    }
  }
  head["candidates_feasible"] = feasible_count;
  head["candidates_skipped"] = skipped.size();
  head["candidates"] = std::move(feasible);
  head["frontier"] = std::move(frontier);
  head["skipped"] = std::move(skipped);
  head["closest_miss"] = std::move(closest);
  return head;
}

Json plan_head(const PlanSpec& plan, std::size_t top) {
  Json head = Json::object();
  head["plan"] = plan.name;
  head["objective"] = std::string(kObjectiveNames[static_cast<std::size_t>(plan.objective)]);
  head["target"] = plan.target.rate_per_s ? Json{{"rate_per_s", *plan.target.rate_per_s}} : Json{{"trace", "as_is"}};
  Json slo = Json::object();
  if (plan.ttft_p99_s) slo["ttft_p99_s"] = *plan.ttft_p99_s;
  if (plan.tpot_p99_s) slo["tpot_p99_s"] = *plan.tpot_p99_s;
  head["slo"] = slo;
  head["base"] = plan.space.base.file;
  head["base_inline"] = !plan.space.base.pointer.empty();
  head["candidates_searched"] = plan.candidates();
  head["top"] = top;
  return head;
}

}  // namespace

Json candidate_json(const CandidateResult& c) {
  Json j = Json::object();
  j["candidate"] = c.index;
  j["label"] = c.label;
  j["simulations"] = c.simulations;
  if (!c.feasible) {
    j["kind"] = std::string(kSkipKindNames[static_cast<std::size_t>(c.skip)]);
    j["reason"] = c.reason;
    j["miss_ratio"] = optional_number(c.miss_ratio);
    return j;
  }
  j["hardware"] = c.hardware;
  j["engine"] = c.engine;
  j["parallelism"] = {{"tensor_parallel", c.tensor_parallel}, {"pipeline_parallel", c.pipeline_parallel},
                      {"expert_parallel", c.expert_parallel}};
  j["precision"] = {{"weights", c.weight_dtype}, {"activations", c.activation_dtype}, {"kv_cache", c.kv_cache_dtype}};
  j["pools"] = c.pools;
  j["replicas"] = c.replicas;
  j["chips"] = c.chips;
  j["usd_per_hour"] = optional_number(c.usd_per_hour);
  j["usd_per_million_output_tokens"] = optional_number(c.usd_per_million_output_tokens);
  j["ttft_p99_s"] = c.ttft_p99_s;
  j["tpot_p99_s"] = c.tpot_p99_s;
  j["capacity_per_replica_per_s"] = optional_number(c.capacity_per_s);
  j["headroom"] = optional_number(c.headroom);
  j["overrides"] = c.overrides;
  return j;
}

PlanResult run_plan(const PlanSpec& plan, const PlanOptions& o) {
  const std::size_t total = plan.candidates();
  const std::size_t in_shard = o.shard.size(total);
  const unsigned jobs = o.jobs > 0 ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
  PlanResult out;
  std::vector<Json> feasible, skipped;
  std::size_t done = 0, simulations = 0;
  sweep::ordered_parallel_map(
      in_shard, jobs, [&](std::size_t k) { return evaluate_candidate(plan, o.shard.index + k * o.shard.count); },
      [&](std::size_t, CandidateResult&& c) {
        ++done;
        simulations += static_cast<std::size_t>(c.simulations);
        if (c.feasible) {
          ++out.feasible;
          feasible.push_back(candidate_json(c));
        } else {
          if (c.skip == SkipKind::invalid) ++out.invalid;
          if (c.skip == SkipKind::internal) ++out.internal;
          if ((c.skip == SkipKind::invalid || c.skip == SkipKind::internal) && out.first_problem.empty()) {
            out.first_problem = c.label + ": " + c.reason;
          }
          skipped.push_back(candidate_json(c));
        }
        if (o.progress) o.progress(done, in_shard, out.invalid + out.internal);
      },
      [&] {
        if (o.progress) o.progress(done, in_shard, out.invalid + out.internal);
      });
  Json head = plan_head(plan, o.top);
  head["simulations"] = simulations;
  if (o.shard.count > 1) head["shard"] = std::to_string(o.shard.index) + "/" + std::to_string(o.shard.count);
  out.json = finish(std::move(head), std::move(feasible), std::move(skipped), out.feasible, o.top);
  return out;
}

bool is_plan_output(const Json& j) {
  return j.is_object() && j.contains("candidates_searched") && j.contains("candidates") && j.contains("frontier") &&
         j.contains("skipped");
}

Json merge_plan_outputs(const std::vector<Json>& shards, const std::vector<std::string>& names) {
  if (shards.empty()) throw UsageError("no plan outputs to merge");
  auto same_plan = [](const Json& a, const Json& b) {
    for (const char* key : {"plan", "objective", "target", "slo", "base", "base_inline", "candidates_searched", "top"}) {
      if (a.value(key, Json()) != b.value(key, Json())) return false;
    }
    return true;
  };
  std::set<std::size_t> seen;
  std::size_t count = 0;
  std::vector<Json> feasible, skipped;
  std::size_t feasible_count = 0, simulations = 0;
  for (std::size_t s = 0; s < shards.size(); ++s) {
    const Json& j = shards[s];
    if (!is_plan_output(j)) throw UsageError(names[s] + " is not the JSON output of `infersim plan --format json`");
    if (!same_plan(j, shards.front())) throw UsageError(names[s] + " and " + names.front() + " come from different plans (or different --top)");
    const Json shard_json = j.value("shard", Json("0/1"));
    if (!shard_json.is_string()) throw UsageError(names[s] + ": \"shard\" is not \"I/N\"");
    const std::string shard = shard_json.get<std::string>();
    const sweep::Shard parsed = sweep::parse_shard(shard);
    const std::size_t index = parsed.index, n = parsed.count;
    if (s == 0) count = n;
    if (n != count) throw UsageError(names[s] + " is shard " + shard + ", " + names.front() + " one of " + std::to_string(count));
    if (!seen.insert(index).second) throw UsageError(names[s] + ": shard " + shard + " is given twice");
    feasible_count += j.at("candidates_feasible").get<std::size_t>();
    simulations += j.at("simulations").get<std::size_t>();
    for (const Json& c : j.at("candidates")) feasible.push_back(c);
    for (const Json& c : j.at("frontier")) feasible.push_back(c);
    for (const Json& c : j.at("skipped")) skipped.push_back(c);
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (!seen.count(i)) throw UsageError("shard " + std::to_string(i) + "/" + std::to_string(count) + " is missing");
  }
  for (Json& c : feasible) c.erase("rank");
  Json head = Json::object();
  for (const char* key : {"plan", "objective", "target", "slo", "base", "base_inline", "candidates_searched", "top"}) head[key] = shards.front().at(key);
  head["simulations"] = simulations;
  return finish(std::move(head), std::move(feasible), std::move(skipped), feasible_count,
                shards.front().at("top").get<std::size_t>());
}

}  // namespace infersim::plan
