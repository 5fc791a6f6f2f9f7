#include "infersim/scenario/report.hpp"

#include <cmath>
#include <cstdio>
#include <ostream>

#include "infersim/core/check.hpp"
#include "infersim/core/error.hpp"
#include "infersim/core/strings.hpp"
#include "infersim/cost/cost_model.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "infersim/scenario/warnings.hpp"
#include "infersim/workload/trace.hpp"

#ifndef INFERSIM_VERSION
#define INFERSIM_VERSION "unknown"
#endif

namespace infersim::scenario {

using config::Json;

namespace {

Json distribution(const serving::Distribution& d) {
  return Json{{"mean", d.mean}, {"p50", d.p50}, {"p90", d.p90}, {"p99", d.p99}, {"max", d.max}};
}

Json nullable(bool ok, double v) { return ok ? Json(v) : Json(nullptr); }

std::string_view role_name(serving::ReplicaRole r) {
  switch (r) {
    case serving::ReplicaRole::unified: return "unified";
    case serving::ReplicaRole::prefill: return "prefill";
    case serving::ReplicaRole::decode: return "decode";
  }
  return "?";
}

/// Every number of a report is finite; costs, energy, rates and times are never negative.
void check_metrics(const Json& j, const std::string& path) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) check_metrics(*it, path + "." + it.key());
  } else if (j.is_number_float()) {
    const double v = j.get<double>();
    INFERSIM_CHECK(std::isfinite(v) && v >= 0, "metric " + path + " = " + std::to_string(v));
  } else if (j.is_number_integer()) {
    INFERSIM_CHECK(j.get<std::int64_t>() >= 0, "metric " + path + " = " + j.dump());
  }
}

}  // namespace

Json make_report(const ScenarioSpec& sc, const serving::SimulationResult& r) {
  const auto& spec = sc.simulation;
  const double dur = r.duration_s;
  auto per_s = [&](double x) { return dur > 0 ? x / dur : 0.0; };

  Json pools = Json::array();
  int chips = 0;
  double mfu_num = 0, mbu_num = 0, busy = 0, kv_mean = 0, kv_peak = 0;
  int replicas_total = 0;
  double decode_steps = 0, decode_tokens = 0;
  for (std::size_t p = 0; p < spec.pools.size(); ++p) {
    const auto& ps = spec.pools[p];
    const auto& pr = r.pools[p];
    chips += ps.deployment.total_chips();
    double pool_mfu = 0, pool_mbu = 0, pool_busy = 0;
    for (const auto& rs : pr.replica_stats) {
      ++replicas_total;
      decode_steps += static_cast<double>(rs.decode_sequence_steps);
      decode_tokens += static_cast<double>(rs.decode_tokens);
      if (dur > 0) {
        const double mfu = rs.flops_per_chip / (pr.peak_flops_per_s * dur);
        const double mbu = rs.bytes_per_chip / (pr.memory_bytes_per_s * dur);
        const double b = std::min(1.0, rs.busy_chip_s / dur);
        mfu_num += mfu;
        mbu_num += mbu;
        busy += b;
        pool_mfu += mfu;
        pool_mbu += mbu;
        pool_busy += b;
        kv_mean += rs.kv_blocks_total > 0 ? rs.kv_block_ns / (static_cast<double>(rs.kv_blocks_total) * dur * 1e9) : 0.0;
      }
      kv_peak = std::max(kv_peak, rs.kv_blocks_total > 0 ? static_cast<double>(rs.kv_blocks_peak) / static_cast<double>(rs.kv_blocks_total) : 0.0);
    }
    const double reps = static_cast<double>(std::max<std::size_t>(1, pr.replica_stats.size()));
    Json pj = {{"name", pr.name},
               {"role", role_name(pr.role)},
               {"model", ps.model.name},
               {"hardware", ps.hardware.name},
               {"replicas", pr.replicas},
               {"chips_per_replica", pr.chips_per_replica},
               {"tensor_parallel", ps.deployment.tensor_parallel},
               {"pipeline_parallel", ps.deployment.pipeline_parallel},
               {"chips", ps.deployment.total_chips()},
               {"weight_bytes_per_chip", pr.memory.weight_bytes_per_chip},
               {"kv_cache_tokens_per_replica", pr.kv_blocks_per_replica * ps.scheduler.block_size},
               {"kv_bytes_per_token_per_chip", pr.memory.kv_bytes_per_token_per_chip},
               {"mfu", pool_mfu / reps},
               {"mbu", pool_mbu / reps},
               {"busy_fraction", pool_busy / reps}};
    double step_s = 0, host_s = 0;
    for (const auto& st : pr.replica_stats) step_s += st.step_s, host_s += st.host_s;
    pj["engine"] = ps.engine ? Json(ps.engine->name) : Json(nullptr);
    pj["host_time_fraction"] = step_s > 0 ? host_s / step_s : 0.0;
    if (pr.draft_weight_bytes_per_chip > 0) pj["draft_weight_bytes_per_chip"] = pr.draft_weight_bytes_per_chip;
    if (pr.memory.kv_window_tokens > 0) {
      // Local-attention layers: a sequence's last kv_window_tokens tokens also hold these bytes (the cache's
      // tokens above are the full-attention layers'; parallelism/kv_footprint.hpp).
      pj["kv_window_tokens"] = pr.memory.kv_window_tokens;
      pj["kv_local_bytes_per_token_per_chip"] = pr.memory.kv_local_bytes_per_token_per_chip;
    }
    if (const double k0 = roofline::block_scaled_gemm_overhead_k(ps.model, ps.hardware, ps.deployment); k0 > 0) {
      pj["block_fp8_gemm_overhead_k"] = k0;
    }
    if (ps.deployment.attention_data_parallel > 1) {
      pj["attention_data_parallel"] = ps.deployment.attention_data_parallel;
      pj["kv_cache_tokens_per_attention_rank"] = pr.memory.kv_token_capacity_per_rank / ps.scheduler.block_size * ps.scheduler.block_size;
    }
    if (!ps.sizing.empty()) pj["sizing"] = ps.sizing;
    if (ps.scheduler.prefix_cache.enabled) {
      Json per = Json::array();
      for (const auto& st : pr.replica_stats) {
        const auto& x = st.prefix;
        per.push_back({{"hit_rate", x.input_tokens > 0 ? static_cast<double>(x.hit_tokens) / static_cast<double>(x.input_tokens) : 0.0},
                       {"host_hit_tokens", x.host_hit_tokens},
                       {"evictions", x.evictions},
                       {"host_evictions", x.host_evictions},
                       {"peak_cached_blocks", x.peak_cached_blocks}});
      }
      pj["prefix_cache_per_replica"] = per;
    }
    pools.push_back(pj);
  }
  const double n = std::max(1, replicas_total);

  const cost::CostReport c = cost::compute_cost(spec, r);
  const cost::EnergyReport e = cost::compute_energy(spec, r, sc.energy);

  Json metrics;
  metrics["requests_completed"] = r.completed;
  metrics["simulated_duration_s"] = dur;
  metrics["ttft_s"] = distribution(r.ttft);
  metrics["tpot_s"] = distribution(r.tpot);
  metrics["itl_s"] = distribution(r.itl);
  metrics["e2e_s"] = distribution(r.e2e);
  metrics["queue_s"] = distribution(r.queue);
  metrics["throughput"] = {{"requests_per_s", per_s(static_cast<double>(r.completed))},
                           {"input_tokens_per_s", per_s(r.input_tokens)},
                           {"output_tokens_per_s", per_s(r.output_tokens)},
                           {"output_tokens_per_s_per_chip", per_s(r.output_tokens) / std::max(chips, 1)},
                           {"total_tokens_per_s", per_s(r.input_tokens + r.output_tokens)}};
  if (sc.slo.any()) {
    std::int64_t met = 0;
    double met_output_tokens = 0;
    for (const auto& rec : r.request_table) {
      if (!rec.done()) continue;
      const double ttft = engine::to_seconds(rec.first_token - rec.arrival);
      const double tpot = rec.output_tokens > 1 ? engine::to_seconds(rec.completion - rec.first_token) / (rec.output_tokens - 1) : 0.0;
      const bool ok = (!sc.slo.ttft_p99_s || ttft <= *sc.slo.ttft_p99_s) && (!sc.slo.tpot_p99_s || tpot <= *sc.slo.tpot_p99_s);
      if (ok) {
        ++met;
        met_output_tokens += rec.output_tokens;
      }
    }
    const bool p99_ok = meets_p99(sc.slo, r);
    metrics["slo"] = {{"attainment", r.completed > 0 ? static_cast<double>(met) / static_cast<double>(r.completed) : 0.0},
                      {"goodput_requests_per_s", per_s(static_cast<double>(met))},
                      {"goodput_output_tokens_per_s", per_s(met_output_tokens)},
                      {"p99_met", p99_ok}};
  }
  metrics["utilization"] = {{"mfu", mfu_num / n},
                            {"mbu", mbu_num / n},
                            {"busy_fraction", busy / n},
                            {"kv_cache_mean", kv_mean / n},
                            {"kv_cache_peak", kv_peak}};
  metrics["preemptions"] = r.preemptions;
  // A wait that shrinks (a burst early in a trace) reads 0: the metric says how fast the queue outgrows the system.
  if (const auto g = open_loop_queue_growth(sc, r)) metrics["queue_growth"] = std::max(0.0, g->growth);
  if (spec.pools.front().speculative.enabled()) {
    metrics["speculative"] = {{"expected_tokens_per_step", spec.pools.front().speculative.expected_tokens_per_step()},
                              {"tokens_per_step", decode_steps > 0 ? decode_tokens / decode_steps : 0.0}};
  }
  if (spec.pools.size() > 1) metrics["kv_transfer_s_mean"] = r.kv_transfer_s_mean;
  if (r.prefix_cache) {
    double host_hits = 0, evictions = 0, host_evictions = 0, load_s = 0;
    for (const auto& pr : r.pools) {
      for (const auto& st : pr.replica_stats) {
        host_hits += static_cast<double>(st.prefix.host_hit_tokens);
        evictions += static_cast<double>(st.prefix.evictions);
        host_evictions += static_cast<double>(st.prefix.host_evictions);
        load_s += st.prefix.host_load_s;
      }
    }
    metrics["prefix_cache"] = {{"hit_rate", r.input_tokens > 0 ? r.cached_input_tokens / r.input_tokens : 0.0},
                               {"cached_input_tokens", r.cached_input_tokens},
                               {"fresh_input_tokens", r.input_tokens - r.cached_input_tokens},
                               {"host_hit_tokens", host_hits},
                               {"evictions", evictions},
                               {"host_evictions", host_evictions},
                               {"host_load_s", load_s}};
  }
  if (r.sessions > 0) {
    metrics["sessions"] = {{"count", r.sessions},
                           {"turns", r.requests},
                           {"mean_turns_per_session", static_cast<double>(r.requests) / static_cast<double>(r.sessions)}};
  }
  Json cj;
  cj["usd_per_hour"] = nullable(c.priced, c.usd_per_hour);
  cj["total_usd"] = nullable(c.priced, c.total_usd);
  cj["usd_per_day"] = nullable(c.priced, c.usd_per_day);
  cj["usd_per_million_input_tokens"] = nullable(c.priced, c.usd_per_million_input_tokens);
  if (r.prefix_cache) {
    cj["usd_per_million_fresh_input_tokens"] = nullable(c.priced, c.usd_per_million_fresh_input_tokens);
    cj["usd_per_million_cached_input_tokens"] = nullable(c.priced, c.usd_per_million_cached_input_tokens);
    cj["cached_input_share"] = nullable(c.priced, c.cached_input_share);
  }
  cj["usd_per_million_output_tokens"] = nullable(c.priced, c.usd_per_million_output_tokens);
  cj["usd_per_million_total_tokens"] = nullable(c.priced, c.usd_per_million_total_tokens);
  cj["usd_per_million_output_tokens_all_in"] = nullable(c.priced, c.usd_per_million_output_tokens_all_in);
  cj["prefill_share"] = nullable(c.priced, c.prefill_share);
  cj["usd_per_request"] = c.priced ? distribution(c.usd_per_request)
                                   : Json{{"mean", nullptr}, {"p50", nullptr}, {"p90", nullptr}, {"p99", nullptr}, {"max", nullptr}};
  cj["busy_fraction"] = busy / n;  // beside the cost: chips are paid for when idle too
  cj["requests_per_day"] = per_s(static_cast<double>(r.completed)) * 86400.0;
  if (!c.priced) cj["note"] = c.unpriced_reason;
  Json prices = Json::array();
  for (const auto& pool : spec.pools) {
    prices.push_back({{"pool", pool.name}, {"hardware", pool.hardware.name},
                      {"usd_per_chip_hour", pool.usd_per_chip_hour ? Json(*pool.usd_per_chip_hour) : Json(nullptr)},
                      {"basis", pool.price_basis}});
  }
  cj["prices"] = prices;
  metrics["cost"] = cj;
  Json ej;
  ej["joules_per_output_token"] = nullable(e.known, e.joules_per_output_token);
  ej["average_power_w"] = nullable(e.known, e.average_power_w);
  ej["total_kwh"] = nullable(e.known, e.it_j / 3.6e6);
  ej["facility_kwh_per_day"] = nullable(e.known, e.facility_kwh_per_day);
  ej["kg_co2_per_million_tokens"] = nullable(e.known, e.kg_co2_per_million_tokens);
  if (!e.known) {
    ej["note"] = e.unknown_reason;
  } else if (!e.idle_assumed.empty()) {
    std::string names;
    for (const auto& n2 : e.idle_assumed) names += (names.empty() ? "" : ", ") + n2;
    ej["note"] = "no idle power in the profile of " + names + ": idle taken as " +
                 format_number(sc.energy.idle_fraction_of_tdp * 100, 3) + "% of TDP";
  }
  metrics["energy"] = ej;

  check_metrics(metrics, "metrics");

  Json report;
  report["schema_version"] = 1;
  report["infersim_version"] = INFERSIM_VERSION;
  report["scenario"] = sc.resolved;
  report["deployment"] = {{"chips", chips}, {"pools", pools}, {"front_end_latency_s", serving::front_end_latency_s(sc.simulation)}};
  report["metrics"] = metrics;
  report["warnings"] = scenario_warnings(sc, r);
  return report;
}

Json make_report(const ScenarioRun& run) {
  Json report = make_report(run.scenario, run.result);
  if (run.search) {
    const RateSearchResult& s = *run.search;
    Json& slo = report["metrics"]["slo"];
    // Below the searched range the capacity is unknown; above it, max_rate_per_s is a lower bound.
    const bool bounded = s.status != RateSearchResult::Status::min_rate_misses;
    slo["max_rate_per_s"] = bounded ? Json(s.rate_per_s) : Json(nullptr);
    // The sustained output rate at that arrival rate (rate x mean output tokens of the requests), free of the
    // drain at the end of a finite run that lowers throughput.output_tokens_per_s.
    const double tokens_per_request = run.result.completed > 0 ? run.result.output_tokens / static_cast<double>(run.result.completed) : 0.0;
    slo["max_output_tokens_per_s"] = bounded ? Json(s.rate_per_s * tokens_per_request) : Json(nullptr);
    slo["rate_search"] = {{"status", std::string(status_name(s.status))},
                          {"missed_rate_per_s", s.missed_rate_per_s > 0 ? Json(s.missed_rate_per_s) : Json(nullptr)},
                          {"simulations", s.simulations}};
  }
  return report;
}

std::vector<std::pair<std::string, Json>> flatten(const Json& j, const std::string& prefix) {
  std::vector<std::pair<std::string, Json>> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) {
      auto sub = flatten(*it, key);
      out.insert(out.end(), sub.begin(), sub.end());
    } else if (!it->is_array()) {
      out.emplace_back(key, *it);
    }
  }
  return out;
}

std::string csv_cell(const Json& v) {
  std::string s;
  if (v.is_null()) return s;
  if (v.is_boolean()) {
    s = v.get<bool>() ? "true" : "false";
  } else if (v.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v.get<double>());
    s = buf;
  } else if (v.is_string()) {
    s = v.get<std::string>();
  } else {
    s = v.dump();  // integers; objects and arrays as compact JSON
  }
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) {
    if (ch == '"') q += '"';
    q += ch;
  }
  return q + "\"";
}

const std::vector<std::string>& metric_keys() {
  static const std::vector<std::string> keys = [] {
    // The shape of make_report's `metrics` with every optional key present; a sweep throws an internal
    // error naming any key a report holds that is missing here (and tests/unit/sweep_test.cpp checks).
    const Json dist{{"mean", nullptr}, {"p50", nullptr}, {"p90", nullptr}, {"p99", nullptr}, {"max", nullptr}};
    Json m;
    m["requests_completed"] = nullptr;
    m["simulated_duration_s"] = nullptr;
    for (const char* k : {"ttft_s", "tpot_s", "itl_s", "e2e_s", "queue_s"}) m[k] = dist;
    m["throughput"] = {{"requests_per_s", nullptr}, {"input_tokens_per_s", nullptr}, {"output_tokens_per_s", nullptr},
                       {"output_tokens_per_s_per_chip", nullptr}, {"total_tokens_per_s", nullptr}};
    m["slo"] = {{"attainment", nullptr}, {"goodput_requests_per_s", nullptr}, {"goodput_output_tokens_per_s", nullptr},
                {"p99_met", nullptr}, {"max_rate_per_s", nullptr}, {"max_output_tokens_per_s", nullptr},
                {"rate_search", {{"status", nullptr}, {"missed_rate_per_s", nullptr}, {"simulations", nullptr}}}};
    m["utilization"] = {{"mfu", nullptr}, {"mbu", nullptr}, {"busy_fraction", nullptr}, {"kv_cache_mean", nullptr},
                        {"kv_cache_peak", nullptr}};
    m["preemptions"] = nullptr;
    m["queue_growth"] = nullptr;
    m["speculative"] = {{"expected_tokens_per_step", nullptr}, {"tokens_per_step", nullptr}};
    m["kv_transfer_s_mean"] = nullptr;
    m["prefix_cache"] = {{"hit_rate", nullptr}, {"cached_input_tokens", nullptr}, {"fresh_input_tokens", nullptr}, {"host_hit_tokens", nullptr},
                         {"evictions", nullptr}, {"host_evictions", nullptr}, {"host_load_s", nullptr}};
    m["sessions"] = {{"count", nullptr}, {"turns", nullptr}, {"mean_turns_per_session", nullptr}};
    m["cost"] = {{"usd_per_hour", nullptr},
                 {"total_usd", nullptr},
                 {"usd_per_day", nullptr},
                 {"usd_per_million_input_tokens", nullptr},
                 {"usd_per_million_fresh_input_tokens", nullptr},
                 {"usd_per_million_cached_input_tokens", nullptr},
                 {"cached_input_share", nullptr},
                 {"usd_per_million_output_tokens", nullptr},
                 {"usd_per_million_total_tokens", nullptr},
                 {"usd_per_million_output_tokens_all_in", nullptr},
                 {"prefill_share", nullptr},
                 {"usd_per_request", dist},
                 {"busy_fraction", nullptr},
                 {"requests_per_day", nullptr},
                 {"note", nullptr}};
    m["energy"] = {{"joules_per_output_token", nullptr}, {"average_power_w", nullptr}, {"total_kwh", nullptr},
                   {"facility_kwh_per_day", nullptr}, {"kg_co2_per_million_tokens", nullptr}, {"note", nullptr}};
    std::vector<std::string> out;
    for (const auto& [key, value] : flatten(m)) out.push_back(key);
    return out;
  }();
  return keys;
}

void print_report_table(std::ostream& os, const Json& report) {
  const Json& m = report["metrics"];
  const Json& s = report["scenario"];
  auto num = [](const Json& v, int digits = 4) {
    if (v.is_null()) return std::string("n/a");
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", digits, v.get<double>());
    return std::string(buf);
  };
  auto ms = [&](const Json& v) { return v.is_null() ? std::string("n/a") : num(Json(v.get<double>() * 1e3), 4); };
  os << "scenario " << s["name"].get<std::string>() << ": " << report["deployment"]["chips"].get<int>() << " chips";
  for (const auto& p : report["deployment"]["pools"]) {
    os << "; " << p["replicas"].get<int>() << " x " << p["model"].get<std::string>() << " on "
       << p["chips_per_replica"].get<int>() << " " << p["hardware"].get<std::string>();
    if (p["role"] != "unified") os << " (" << p["role"].get<std::string>() << ")";
  }
  os << "\n";
  for (const auto& p : report["deployment"]["pools"]) {
    if (p.contains("sizing")) os << "  " << p["sizing"].get<std::string>() << "\n";
  }
  const Json& d = s["deployment"];
  os << "  " << d["weight_dtype"].get<std::string>() << " weights, " << d["activation_dtype"].get<std::string>()
     << " activations, " << d["kv_cache_dtype"].get<std::string>() << " KV; scheduler " << s["scheduler"]["policy"].get<std::string>()
     << " (batch <= " << s["scheduler"]["max_batch_size"] << ", tokens <= " << s["scheduler"]["max_batched_tokens"] << ")\n";
  if (const auto a = s["scheduler"].find("admission_reserve"); a != s["scheduler"].end()) {
    const double start = (*a)["running_output_fraction"].get<double>(), floor = (*a)["running_output_fraction_min"].get<double>();
    os << "  KV admission keeps room for outputs: " << num((*a)["new_output_fraction"], 3) << " of a new request's and "
       << num(Json(start), 3) << (floor < start ? " -> " + num(Json(floor), 3) : std::string())
       << " of each running request's remaining output (scheduler.admission_reserve)\n";
  }
  const bool several_pools = report["deployment"]["pools"].size() > 1;
  for (const auto& p : report["deployment"]["pools"]) {
    // What a replica's KV cache holds: the capacity planner's first question.
    const bool windows = p.contains("kv_window_tokens");
    os << "  KV cache" << (several_pools ? " (" + p["name"].get<std::string>() + ")" : std::string()) << ": "
       << p["kv_cache_tokens_per_replica"].get<std::int64_t>() << " tokens a replica, "
       << parallelism::kv_per_token_text(p["kv_bytes_per_token_per_chip"].get<double>(),
                                         windows ? p["kv_local_bytes_per_token_per_chip"].get<double>() : 0.0,
                                         windows ? p["kv_window_tokens"].get<std::int64_t>() : 0)
       << " (" << format_bytes(p["weight_bytes_per_chip"].get<double>()) << " of weights a chip)\n";
  }
  for (const auto& p : report["deployment"]["pools"]) {
    if (!p.contains("engine") || p["engine"].is_null()) continue;
    os << "  engine " << p["engine"].get<std::string>() << ": host time " << num(Json(100.0 * p["host_time_fraction"].get<double>()), 3)
       << "% of step time";
    if (report["deployment"]["pools"].size() > 1) os << " (" << p["name"].get<std::string>() << ")";
    os << "\n";
  }
  for (const auto& p : report["deployment"]["pools"]) {
    if (!p.contains("block_fp8_gemm_overhead_k")) continue;
    os << "  block-scaled FP8 weights: each GEMM priced at depth K + " << num(p["block_fp8_gemm_overhead_k"], 4)
       << " (the chip's efficiency.block_fp8_gemm_overhead_k)";
    if (report["deployment"]["pools"].size() > 1) os << " (" << p["name"].get<std::string>() << ")";
    os << "\n";
  }
  if (const double fe = report["deployment"].value("front_end_latency_s", 0.0); fe > 0) {
    os << "  HTTP front end: " << num(Json(fe * 1e3), 3) << " ms a request before the scheduler (in TTFT and e2e)\n";
  }
  os << "  " << m["requests_completed"] << " requests in " << num(m["simulated_duration_s"], 5) << " s simulated";
  if (m.contains("sessions")) {
    os << ": " << m["sessions"]["count"] << " sessions of " << num(m["sessions"]["mean_turns_per_session"]) << " turns on average";
  }
  if (m.contains("prefix_cache") && m.contains("sessions")) {
    os << ", prefix-cache hit rate " << num(Json(m["prefix_cache"]["hit_rate"].get<double>() * 100), 3) << "%";
  }
  os << "\n\n";
  os << "latency (ms)        mean       p50       p90       p99       max\n";
  for (const char* k : {"ttft_s", "tpot_s", "itl_s", "e2e_s", "queue_s"}) {
    const Json& x = m[k];
    char line[160];
    std::snprintf(line, sizeof line, "  %-10s %10s%10s%10s%10s%10s\n", std::string(k).substr(0, std::string(k).size() - 2).c_str(),
                  ms(x["mean"]).c_str(), ms(x["p50"]).c_str(), ms(x["p90"]).c_str(), ms(x["p99"]).c_str(), ms(x["max"]).c_str());
    os << line;
  }
  const Json& t = m["throughput"];
  os << "\nthroughput: " << num(t["requests_per_s"]) << " requests/s, " << num(t["output_tokens_per_s"], 5)
     << " output tokens/s, " << num(t["total_tokens_per_s"], 5) << " total tokens/s\n";
  const Json& u = m["utilization"];
  os << "utilization: MFU " << num(Json(u["mfu"].get<double>() * 100), 3) << "%, MBU " << num(Json(u["mbu"].get<double>() * 100), 3)
     << "%, busy " << num(Json(u["busy_fraction"].get<double>() * 100), 3) << "%, KV cache mean "
     << num(Json(u["kv_cache_mean"].get<double>() * 100), 3) << "% / peak " << num(Json(u["kv_cache_peak"].get<double>() * 100), 3)
     << "%, " << m["preemptions"] << " preemptions\n";
  if (m.contains("prefix_cache")) {
    const Json& pc = m["prefix_cache"];
    os << "prefix cache: hit rate " << num(Json(pc["hit_rate"].get<double>() * 100), 3) << "% of input tokens ("
       << num(pc["cached_input_tokens"], 12) << " cached, " << num(pc["fresh_input_tokens"], 12) << " fresh), "
       << num(pc["evictions"], 12) << " blocks evicted\n";
  }
  if (m.contains("slo")) {
    const Json& o = m["slo"];
    os << "SLO: " << num(Json(o["attainment"].get<double>() * 100), 4) << "% of requests met it; goodput "
       << num(o["goodput_requests_per_s"]) << " requests/s; p99 targets " << (o["p99_met"].get<bool>() ? "met" : "missed") << "\n";
    if (o.contains("rate_search")) {
      const Json& rs = o["rate_search"];
      const std::string status = rs["status"].get<std::string>();
      os << "SLO rate search (" << rs["simulations"] << " simulations): ";
      if (status == "found") {
        os << "highest rate meeting the p99 targets " << num(o["max_rate_per_s"], 5) << " requests/s (" << num(rs["missed_rate_per_s"], 5)
           << " missed them); the figures above are at that rate\n";
      } else if (status == "max_rate_meets") {
        os << "even max_rate_per_s " << num(o["max_rate_per_s"], 5) << " requests/s meets the p99 targets: raise it to find the limit\n";
      } else {
        os << "even min_rate_per_s " << num(rs["missed_rate_per_s"], 5) << " requests/s misses the p99 targets; the figures above are at that rate\n";
      }
    }
  }
  const Json& c = m["cost"];
  if (c["usd_per_hour"].is_null()) {
    // No price: no cost figures at all (a $0 or n/a line would read as free).
    os << "cost: no price";
  } else {
    // The all-in figures first: what compares with an API price. The phase split divides the cost between
    // prefill (per input token) and decode (per output token), so its output figure is not the all-in one.
    os << "cost: $" << num(c["usd_per_million_output_tokens_all_in"]) << " per million output tokens all-in, $"
       << num(c["usd_per_million_total_tokens"]) << " per million tokens (input + output); $" << num(c["usd_per_hour"])
       << "/hour ($" << num(c["usd_per_day"], 5) << "/day); per request $" << num(c["usd_per_request"]["p50"]) << " p50 / $"
       << num(c["usd_per_request"]["p99"]) << " p99\n  phase split per million tokens: $"
       << num(c["usd_per_million_input_tokens"]) << " per input token of prefill, $"
       << num(c["usd_per_million_output_tokens"]) << " per output token of decode";
    if (c.contains("usd_per_million_cached_input_tokens")) {  // with a prefix cache: input split fresh / cached
      os << "; input split: $" << num(c["usd_per_million_fresh_input_tokens"]) << " per fresh, $"
         << num(c["usd_per_million_cached_input_tokens"]) << " per cached input token";
    }
  }
  if (c.contains("note")) os << " (" << c["note"].get<std::string>() << ")";
  os << "\n";
  for (const auto& p : c["prices"]) {  // where each price came from and when: prices decide plans
    if (p["usd_per_chip_hour"].is_null()) continue;
    os << "  price of " << p["hardware"].get<std::string>() << ": $" << num(p["usd_per_chip_hour"]) << " per chip-hour, "
       << p["basis"].get<std::string>() << "\n";
  }
  const Json& e = m["energy"];
  os << "energy: " << num(e["joules_per_output_token"]) << " J per output token, " << num(e["average_power_w"])
     << " W average, " << num(e["kg_co2_per_million_tokens"]) << " kg CO2 per million tokens";
  if (e.contains("note")) os << " (" << e["note"].get<std::string>() << ")";
  os << "\n";
}

void check_feasible(const ScenarioSpec& sc) { serving::check_runnable(sc.simulation); }

}  // namespace infersim::scenario
