#include "infersim/scenario/report.hpp"

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "infersim/core/check.hpp"
#include "infersim/core/error.hpp"
#include "infersim/core/strings.hpp"
#include "infersim/cost/cost_model.hpp"
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
  for (std::size_t p = 0; p < spec.pools.size(); ++p) {
    const auto& ps = spec.pools[p];
    const auto& pr = r.pools[p];
    chips += ps.deployment.total_chips();
    for (const auto& rs : pr.replica_stats) {
      ++replicas_total;
      if (dur > 0) {
        mfu_num += rs.flops_per_chip / (pr.peak_flops_per_s * dur);
        mbu_num += rs.bytes_per_chip / (pr.memory_bytes_per_s * dur);
        busy += std::min(1.0, rs.busy_chip_s / dur);
        kv_mean += rs.kv_blocks_total > 0 ? rs.kv_block_ns / (static_cast<double>(rs.kv_blocks_total) * dur * 1e9) : 0.0;
      }
      kv_peak = std::max(kv_peak, rs.kv_blocks_total > 0 ? static_cast<double>(rs.kv_blocks_peak) / static_cast<double>(rs.kv_blocks_total) : 0.0);
    }
    pools.push_back({{"name", pr.name},
                     {"role", role_name(pr.role)},
                     {"model", ps.model.name},
                     {"hardware", ps.hardware.name},
                     {"replicas", pr.replicas},
                     {"chips_per_replica", pr.chips_per_replica},
                     {"chips", ps.deployment.total_chips()},
                     {"weight_bytes_per_chip", pr.memory.weight_bytes_per_chip},
                     {"kv_cache_tokens_per_replica", pr.kv_blocks_per_replica * ps.scheduler.block_size},
                     {"kv_bytes_per_token_per_chip", pr.memory.kv_bytes_per_token_per_chip}});
  }
  const double n = std::max(1, replicas_total);

  const cost::CostReport c = cost::compute_cost(spec, r, sc.pricing.usd_per_chip_hour);
  const cost::EnergyReport e = cost::compute_energy(spec, r);

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
    const bool p99_ok = (!sc.slo.ttft_p99_s || r.ttft.p99 <= *sc.slo.ttft_p99_s) && (!sc.slo.tpot_p99_s || r.tpot.p99 <= *sc.slo.tpot_p99_s);
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
  Json cj;
  cj["usd_per_hour"] = nullable(c.priced, c.usd_per_hour);
  cj["total_usd"] = nullable(c.priced, c.total_usd);
  cj["usd_per_million_input_tokens"] = nullable(c.priced, c.usd_per_million_input_tokens);
  cj["usd_per_million_output_tokens"] = nullable(c.priced, c.usd_per_million_output_tokens);
  cj["usd_per_million_total_tokens"] = nullable(c.priced, c.usd_per_million_total_tokens);
  if (!c.priced) cj["note"] = c.unpriced_reason;
  metrics["cost"] = cj;
  Json ej;
  ej["joules_per_output_token"] = nullable(e.known, e.joules_per_output_token);
  ej["average_power_w"] = nullable(e.known, e.average_power_w);
  ej["total_kwh"] = nullable(e.known, e.total_j / 3.6e6);
  if (!e.known) ej["note"] = e.unknown_reason;
  else if (e.idle_power_assumed_zero) ej["note"] = "the hardware profile has no idle power; idle counted as 0 W";
  metrics["energy"] = ej;

  check_metrics(metrics, "metrics");

  Json report;
  report["schema_version"] = 1;
  report["infersim_version"] = INFERSIM_VERSION;
  report["scenario"] = sc.resolved;
  report["deployment"] = {{"chips", chips}, {"pools", pools}};
  report["metrics"] = metrics;
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
  if (v.is_null()) return "";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v.get<double>());
    return buf;
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s) {
      if (ch == '"') q += '"';
      q += ch;
    }
    return q + "\"";
  }
  return v.dump();
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
  const Json& d = s["deployment"];
  os << "  " << d["weight_dtype"].get<std::string>() << " weights, " << d["activation_dtype"].get<std::string>()
     << " activations, " << d["kv_cache_dtype"].get<std::string>() << " KV; scheduler " << s["scheduler"]["policy"].get<std::string>()
     << " (batch <= " << s["scheduler"]["max_batch_size"] << ", tokens <= " << s["scheduler"]["max_batched_tokens"] << ")\n";
  os << "  " << m["requests_completed"] << " requests in " << num(m["simulated_duration_s"], 5) << " s simulated\n\n";
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
  if (m.contains("slo")) {
    const Json& o = m["slo"];
    os << "SLO: " << num(Json(o["attainment"].get<double>() * 100), 4) << "% of requests met it; goodput "
       << num(o["goodput_requests_per_s"]) << " requests/s; p99 targets " << (o["p99_met"].get<bool>() ? "met" : "missed") << "\n";
  }
  const Json& c = m["cost"];
  os << "cost: $" << num(c["usd_per_hour"]) << "/hour, $" << num(c["usd_per_million_output_tokens"]) << " per million output tokens, $"
     << num(c["usd_per_million_total_tokens"]) << " per million tokens";
  if (c.contains("note")) os << " (" << c["note"].get<std::string>() << ")";
  os << "\n";
  const Json& e = m["energy"];
  os << "energy: " << num(e["joules_per_output_token"]) << " J per output token, " << num(e["average_power_w"]) << " W average";
  if (e.contains("note")) os << " (" << e["note"].get<std::string>() << ")";
  os << "\n";
}

void check_feasible(const ScenarioSpec& sc) {
  // parse_scenario() has checked the deployment (parallelism, data types, memory fit); what is left is the trace.
  const auto& w = sc.simulation.workload;
  if (w.process == workload::ArrivalProcess::trace) (void)workload::load_trace(w.trace, w.requests);
}

namespace {
std::atomic<unsigned> temp_files{0};

std::string error_text(int err) { return std::error_code(err, std::generic_category()).message(); }
}  // namespace

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code ec;
  if (target.filename().empty() || fs::is_directory(target, ec)) throw UsageError("cannot write " + path + ": it is a directory");
  // A hidden temporary file beside the target (same file system, so that rename is atomic), unique per
  // process and call; created exclusively, with the permissions a plain new file would get.
  fs::path tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    tmp = target.parent_path() / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                                  std::to_string(temp_files++));
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && (errno != EEXIST || attempt >= 100)) throw UsageError("cannot write " + path + ": " + error_text(errno));
  }
  bool ok = false;
  try {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (out) {
      write(out);
      out.flush();
      ok = static_cast<bool>(out);
    }
  } catch (...) {  // the writer failed half way: the target stays as it was
    ::close(fd);
    fs::remove(tmp, ec);
    throw;
  }
  ok = ok && ::fsync(fd) == 0;  // the data is on disk before the name points at it
  const int write_error = errno;
  ::close(fd);
  if (!ok) {
    fs::remove(tmp, ec);
    throw UsageError("cannot write " + path + ": " + (write_error ? error_text(write_error) : "write failed") +
                     " (the file was left as it was)");
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(tmp, ec);
    throw UsageError("cannot write " + path + ": " + why + " (the file was left as it was)");
  }
}

void write_file_atomically(const std::string& path, const std::string& content) {
  write_file_atomically(path, [&](std::ostream& out) { out << content; });
}

}  // namespace infersim::scenario
