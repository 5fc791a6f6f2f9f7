// `infersim plan PLAN`: the cheapest deployments that meet an SLO at a target load (docs/planning.md).
// Exit codes: 0 a plan was found; 1 no candidate meets the SLO at the target (the closest miss is named);
// 2 bad input (including a candidate whose scenario is invalid: it is listed as skipped); 3 internal error.

#include <iostream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "infersim/core/atomic_file.hpp"
#include "infersim/core/error.hpp"
#include "infersim/core/file_paths.hpp"
#include "infersim/plan/planner.hpp"
#include "infersim/scenario/report.hpp"
#include "output.hpp"
#include "progress.hpp"

namespace infersim::cli {

using config::Json;

namespace {

struct PlanCommandOptions {
  std::string plan, out, shard;
  Format format = Format::table;
  unsigned jobs = 0;
  std::size_t top = 10;
};

std::string money(const Json& v) { return v.is_null() ? "-" : sig(v.get<double>(), 4); }
std::string millis(const Json& v) { return v.is_null() ? "-" : sig(v.get<double>() * 1e3, 4); }

std::string degrees(const Json& p) {
  std::string t = "tp" + std::to_string(p.at("tensor_parallel").get<int>());
  if (p.at("pipeline_parallel").get<int>() > 1) t += " pp" + std::to_string(p.at("pipeline_parallel").get<int>());
  if (p.at("expert_parallel").get<int>() > 1) t += " ep" + std::to_string(p.at("expert_parallel").get<int>());
  return t;
}

/// "tp8 ep8"; disaggregated: each pool's degrees and replicas, "prefill tp8 ep8 x1, decode tp8 x2".
std::string parallelism_text(const Json& c) {
  const Json& pools = c.at("pools");
  if (pools.size() <= 1) return degrees(c.at("parallelism"));
  std::string t;
  for (const Json& p : pools) {
    t += (t.empty() ? "" : ", ") + p.at("role").get<std::string>() + " " + degrees(p) + " x" + std::to_string(p.at("replicas").get<int>());
  }
  return t;
}

std::string precision_text(const Json& c) {
  const Json& p = c.at("precision");
  return p.at("weights").get<std::string>() + "/" + p.at("activations").get<std::string>() + "/" + p.at("kv_cache").get<std::string>();
}

/// `--set` arguments that reproduce a candidate with `infersim run BASE`.
std::string set_arguments(const Json& c) {
  std::string text;
  for (const auto& [key, value] : c.at("overrides").items()) {
    const std::string v = value.is_string() ? value.get<std::string>() : value.dump();
    const bool quote = v.find_first_of(" \"{}[],") != std::string::npos;
    text += " --set " + (quote ? "'" + key + "=" + v + "'" : key + "=" + v);
  }
  return text;
}

TextTable candidate_table(const Json& list, bool ranked) {
  std::vector<std::string> header = {"hardware", "parallelism", "precision", "engine", "replicas", "chips", "usd_per_hour",
                                     "usd_per_m_output", "ttft_p99_ms", "tpot_p99_ms", "headroom", "candidate"};
  if (ranked) header.insert(header.begin(), "rank");
  std::vector<bool> right(header.size(), false);
  for (std::size_t k = header.size() - 8; k < header.size(); ++k) right[k] = true;
  TextTable t(header, right);
  for (const Json& c : list) {
    std::vector<std::string> row = {c.at("hardware").get<std::string>(), parallelism_text(c), precision_text(c),
                                    c.at("engine").get<std::string>(), std::to_string(c.at("replicas").get<int>()),
                                    std::to_string(c.at("chips").get<int>()), money(c.at("usd_per_hour")),
                                    money(c.at("usd_per_million_output_tokens")), millis(c.at("ttft_p99_s")),
                                    millis(c.at("tpot_p99_s")),
                                    c.at("headroom").is_null() ? "-" : fixed(c.at("headroom").get<double>(), 2),
                                    std::to_string(c.at("candidate").get<std::size_t>())};
    if (ranked) row.insert(row.begin(), std::to_string(c.at("rank").get<std::size_t>()));
    t.add_row(std::move(row));
  }
  return t;
}

void print_table(std::ostream& os, const Json& j) {
  const Json& target = j.at("target");
  os << "plan " << (j.at("plan").get<std::string>().empty() ? j.at("base").get<std::string>() : j.at("plan").get<std::string>())
     << ": " << j.at("candidates_searched").get<std::size_t>() << " candidates, " << j.at("candidates_feasible").get<std::size_t>()
     << " meet the SLO, " << j.at("candidates_skipped").get<std::size_t>() << " skipped; " << j.at("simulations").get<std::size_t>()
     << " simulations\n";
  os << "target: " << (target.contains("rate_per_s") ? sig(target.at("rate_per_s").get<double>(), 6) + " requests/s" : "the base's trace as recorded")
     << "; slo: " << j.at("slo").dump() << "; objective: " << j.at("objective").get<std::string>() << "\n\n";
  const Json& ranked = j.at("candidates");
  if (ranked.empty()) {
    os << "no candidate meets the SLO at the target load";
    const Json& miss = j.at("closest_miss");
    if (!miss.is_null()) {
      os << "; the closest miss is candidate " << miss.at("candidate").get<std::size_t>() << " (" << miss.at("label").get<std::string>()
         << "), at " << sig(miss.at("miss_ratio").get<double>(), 4) << "x the SLO: " << miss.at("reason").get<std::string>();
    }
    os << "\n";
  } else {
    candidate_table(ranked, true).print(os);
    os << "\nreproduce the first: infersim run " << j.at("base").get<std::string>() << set_arguments(ranked.front()) << "\n";
    if (j.at("base_inline").get<bool>()) os << "(the base scenario is the plan file's \"base\" object: save it as a file to run it)\n";
    os << "\nPareto frontier (" << j.at("objective").get<std::string>() << " vs p99 TPOT at the target):\n";
    candidate_table(j.at("frontier"), false).print(os);
  }
  const Json& skipped = j.at("skipped");
  if (!skipped.empty()) {
    os << "\nskipped:\n";
    TextTable t({"candidate", "label", "kind", "reason"}, {true, false, false, false});
    for (const Json& s : skipped) {
      t.add_row({std::to_string(s.at("candidate").get<std::size_t>()), s.at("label").get<std::string>(),
                 s.at("kind").get<std::string>(), s.at("reason").get<std::string>()});
    }
    t.print(os);
  }
}

void print_csv(std::ostream& os, const Json& j) {
  TextTable t({"rank", "candidate", "label", "hardware", "engine", "tensor_parallel", "pipeline_parallel", "expert_parallel",
               "weight_dtype", "activation_dtype", "kv_cache_dtype", "replicas", "chips", "usd_per_hour",
               "usd_per_million_output_tokens", "ttft_p99_s", "tpot_p99_s", "capacity_per_replica_per_s", "headroom",
               "on_frontier", "overrides"});
  std::vector<std::size_t> frontier;
  for (const Json& f : j.at("frontier")) frontier.push_back(f.at("candidate").get<std::size_t>());
  auto cell = [](const Json& v) { return scenario::csv_cell(v); };
  for (const Json& c : j.at("candidates")) {
    const Json& p = c.at("parallelism");
    const Json& q = c.at("precision");
    const bool on = std::find(frontier.begin(), frontier.end(), c.at("candidate").get<std::size_t>()) != frontier.end();
    t.add_row({cell(c.at("rank")), cell(c.at("candidate")), c.at("label").get<std::string>(), c.at("hardware").get<std::string>(),
               c.at("engine").get<std::string>(), cell(p.at("tensor_parallel")), cell(p.at("pipeline_parallel")),
               cell(p.at("expert_parallel")), q.at("weights").get<std::string>(), q.at("activations").get<std::string>(),
               q.at("kv_cache").get<std::string>(), cell(c.at("replicas")), cell(c.at("chips")), cell(c.at("usd_per_hour")),
               cell(c.at("usd_per_million_output_tokens")), cell(c.at("ttft_p99_s")), cell(c.at("tpot_p99_s")),
               cell(c.at("capacity_per_replica_per_s")), cell(c.at("headroom")), on ? "true" : "false", c.at("overrides").dump()});
  }
  t.print_csv(os);
}

int run_plan_command(const PlanCommandOptions& c) {
  refuse_overwriting_inputs({{"the plan file", c.plan}}, {{"--out", c.out}});
  const plan::PlanSpec spec = plan::load_plan(c.plan);
  refuse_overwriting_inputs({{"the base scenario", spec.space.base.file}}, {{"--out", c.out}});
  if (c.top == 0) throw UsageError("--top 0: expected at least 1 candidate to list");
  plan::PlanOptions o;
  o.jobs = c.jobs;
  o.top = c.top;
  if (!c.shard.empty()) o.shard = sweep::parse_shard(c.shard);
  ProgressBar bar("plan");
  o.progress = [&](std::size_t done, std::size_t total, std::size_t failed) { bar.update(done, total, failed); };
  const plan::PlanResult r = plan::run_plan(spec, o);
  bar.finish();

  std::ostringstream text;
  switch (c.format) {
    case Format::json: text << r.json.dump(2) << '\n'; break;
    case Format::csv: print_csv(text, r.json); break;
    case Format::table: print_table(text, r.json); break;
  }
  if (c.out.empty()) {
    std::cout << text.str();
  } else {
    write_file_atomically(c.out, text.str());
  }
  if (r.invalid + r.internal > 0) {
    spdlog::error("{} candidates could not be planned (listed as skipped); the first, {}", r.invalid + r.internal, r.first_problem);
  }
  if (r.internal > 0) return 3;
  if (r.invalid > 0) return 2;
  if (r.feasible == 0 && o.shard.count == 1) {
    spdlog::error("no candidate meets the SLO at the target load{}",
                  r.json.at("closest_miss").is_null()
                      ? std::string()
                      : "; the closest miss: " + r.json.at("closest_miss").at("label").get<std::string>() + ": " +
                            r.json.at("closest_miss").at("reason").get<std::string>());
    return 1;
  }
  return 0;
}

}  // namespace

Command add_plan_command(CLI::App& app) {
  auto o = std::make_shared<PlanCommandOptions>();
  CLI::App* sub = app.add_subcommand("plan", "Find the cheapest deployments that meet an SLO at a target load");
  sub->add_option("plan", o->plan, "Plan JSON file: {\"base\", \"target\", \"slo\", \"search\", \"objective\"}")->required();
  sub->add_option("--jobs,-j", o->jobs, "Candidates evaluated at once (default: every core)");
  sub->add_option("--top", o->top, "Ranked candidates to list (default 10)");
  add_format_option(*sub, o->format);
  sub->add_option("--out", o->out, "Write the output to FILE instead of stdout");
  sub->add_option("--shard", o->shard, "I/N: plan only the candidates i with i % N == I (join the JSON outputs with `infersim merge`)");
  return {sub, [o] { return run_plan_command(*o); }};
}

}  // namespace infersim::cli
