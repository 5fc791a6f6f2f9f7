// The `workload` section of a scenario: arrivals and token-count distributions.

#include <cerrno>
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "infersim/core/error.hpp"
#include "infersim/core/file_paths.hpp"
#include "infersim/core/limits.hpp"
#include "infersim/core/line_reader.hpp"
#include "infersim/core/strings.hpp"
#include "scenario/loader_parts.hpp"

namespace infersim::scenario {

using config::Diagnostics;
using config::Json;
using config::ObjectReader;
using config::Range;
using workload::ArrivalProcess;
using workload::TokenDistribution;

namespace {

/// The most turns a session may have (a longer conversation would outgrow any context window long before).
constexpr std::int64_t kMaxTurns = 10'000;

/// The clamps of a normal or lognormal distribution: "min" (default 1) and "max" (default none).
void read_clamps(ObjectReader& r, const Range& count, TokenDistribution& t, Json& resolved) {
  t.min = r.integer_or("min", 1, count);
  t.max = r.integer_or("max", 0, Range::between(0, count.max));
  if (t.max > 0 && t.max < t.min) r.error("max", "must be >= min");
  resolved["min"] = t.min;
  if (t.max > 0) resolved["max"] = t.max;
}

/// What a count distribution counts: tokens per request by default; sessions' turns have their own limit.
struct CountKind {
  std::string_view noun = "a token count";
  double max = static_cast<double>(limits::kMaxTokensPerRequest);
};

/// Parse a count (tokens, turns): an integer, or {"distribution": ..., ...}.
TokenDistribution parse_tokens(ObjectReader& parent, std::string_view key, const std::filesystem::path& base_dir,
                               Json& resolved, const CountKind& what = {}) {
  TokenDistribution t;
  const Json* v = parent.raw(key);
  const Range count = Range::between(1, what.max);
  // A distribution's centre and spread: beyond the limit (of one request's tokens), every sample would be
  // clamped (or, past 2^63, wrap to 1 token), so a typo such as a median of 1e300 must not run.
  const Range centre{0.0, what.max, true, false};
  const Range spread = Range::between(0, what.max);
  if (!v) {
    parent.error(key, "missing required key; expected " + std::string(what.noun) +
                          " (an integer >= 1) or {\"distribution\": ...}");
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
      t.mean = r.number("mean", centre);
      t.std = r.number("std", spread);
      resolved["mean"] = t.mean;
      resolved["std"] = t.std;
      read_clamps(r, count, t, resolved);
      break;
    case TokenDistribution::Kind::lognormal:
      t.median = r.number("median", centre);
      t.sigma = r.number("sigma", Range::between(0, 10));
      resolved["median"] = t.median;
      resolved["sigma"] = t.sigma;
      read_clamps(r, count, t, resolved);
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
        if (vals->size() > limits::kMaxEmpiricalValues) {
          r.error("values", "a list of " + std::to_string(vals->size()) + " token counts, more than the limit of " +
                                std::to_string(limits::kMaxEmpiricalValues) + "; sample it down (the distribution is the same)");
          break;
        }
        for (std::size_t i = 0; i < vals->size(); ++i) {
          const Json& x = (*vals)[i];
          if (!x.is_number_integer() || x.get<std::int64_t>() < 1 || static_cast<double>(x.get<std::int64_t>()) > what.max) {
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
        if (const std::string kind = non_regular_kind(full.string()); !kind.empty()) {
          r.error("path", full.string() + " is " + kind + ", not a regular file; expected a text file of token counts");
          break;
        }
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
                static_cast<double>(count_value) > what.max) {
              if (lines.number() == 1) continue;  // a header line
              r.error("path", full.string() + ":" + std::to_string(lines.number()) + ": expected a token count " +
                                  count.describe() + ", found \"" + line.substr(0, 40) + "\"");
              break;
            }
            t.values.push_back(count_value);
            if (t.values.size() > limits::kMaxEmpiricalValues) {
              r.error("path", full.string() + " holds more than " + std::to_string(limits::kMaxEmpiricalValues) +
                                  " token counts (the limit); sample it down (the distribution is the same)");
              break;
            }
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

/// Parse a duration in seconds: a number, or {"distribution": "fixed" | "exponential" | "uniform" | "lognormal", ...}.
workload::DurationDistribution parse_seconds(ObjectReader& parent, std::string_view key, Json& resolved) {
  using workload::DurationDistribution;
  DurationDistribution t;
  const Range seconds = Range::between(0, limits::kHorizonSeconds);
  const Json* v = parent.raw(key);
  if (v && v->is_number()) {
    t.value = parent.number(key, seconds);
    resolved = t.value;
    return t;
  }
  ObjectReader r = parent.object(key);
  if (!r.valid()) return t;
  static constexpr std::string_view kKinds[] = {"fixed", "exponential", "uniform", "lognormal"};
  t.kind = static_cast<DurationDistribution::Kind>(r.choice("distribution", kKinds));
  resolved = Json::object();
  resolved["distribution"] = std::string(kKinds[static_cast<std::size_t>(t.kind)]);
  switch (t.kind) {
    case DurationDistribution::Kind::fixed:
      resolved["value"] = t.value = r.number("value", seconds);
      break;
    case DurationDistribution::Kind::exponential:
      resolved["mean"] = t.mean = r.number("mean", seconds);
      break;
    case DurationDistribution::Kind::uniform:
      resolved["min"] = t.min = r.number("min", seconds);
      resolved["max"] = t.max = r.number("max", seconds);
      if (t.max < t.min) r.error("max", "must be >= min (" + format_number(t.min) + ")");
      break;
    case DurationDistribution::Kind::lognormal:
      resolved["median"] = t.median = r.number("median", Range::positive_up_to(limits::kHorizonSeconds));
      resolved["sigma"] = t.sigma = r.number("sigma", Range::between(0, 10));
      t.max = r.number_or("max", 0.0, seconds);
      if (t.max > 0) resolved["max"] = t.max;
      break;
  }
  r.finish();
  return t;
}

/// `workload.sessions` (docs/configuration.md): synthetic chat / agent sessions.
void parse_sessions(ObjectReader& w, const config::Document& doc, workload::WorkloadSpec& wl, Json& wj) {
  ObjectReader r = w.object("sessions");
  if (!r.valid()) return;
  auto& s = wl.sessions;
  s.enabled = true;
  Json sj = Json::object();
  s.system_prompt_tokens = r.integer_or("system_prompt_tokens", 0, Range::between(0, static_cast<double>(limits::kMaxTokensPerRequest)));
  s.system_prompts = r.integer_or("system_prompts", 1, Range::between(1, 1e6));
  sj["system_prompt_tokens"] = s.system_prompt_tokens;
  sj["system_prompts"] = s.system_prompts;
  Json turns, message, think = 0.0;
  s.turns = parse_tokens(r, "turns", doc.base_dir, turns, {"a number of turns", static_cast<double>(kMaxTurns)});
  s.message = parse_tokens(r, "message_tokens", doc.base_dir, message);
  if (r.has("think_time_s")) s.think_time = parse_seconds(r, "think_time_s", think);
  sj["turns"] = turns;
  sj["message_tokens"] = message;
  sj["think_time_s"] = think;
  r.finish();
  wj["sessions"] = sj;
}

/// Standard input, read once per process: a trace piped in (path "-") may be loaded by several parts of a
/// run (sizing, the check before running, the run), and a stream can be read only once.
std::shared_ptr<const std::string> standard_input_text() {
  static const std::shared_ptr<const std::string> text = [] {
    std::ostringstream all;
    all << std::cin.rdbuf();
    return std::make_shared<const std::string>(all.str());
  }();
  return text;
}

}  // namespace

void parse_workload(ObjectReader& root, const config::Document& doc, ScenarioSpec& sc, Json& out) {
  ObjectReader w = root.object("workload");
  auto& wl = sc.simulation.workload;
  if (!w.valid()) return;
  ObjectReader a = w.object("arrival");
  const std::size_t problems_before = a.diagnostics().items().size();
  wl.process = static_cast<ArrivalProcess>(a.choice("process", workload::kArrivalProcessNames));
  // A misspelt process is reported once: its keys are not then said not to apply to the fallback process.
  const bool process_known = a.diagnostics().items().size() == problems_before;
  const std::string process(workload::kArrivalProcessNames[static_cast<std::size_t>(wl.process)]);
  Json arr = Json::object();
  arr["process"] = process;
  // Keys that belong to other processes are reported as not applying here.
  auto only_for = [&](std::string_view key, std::initializer_list<ArrivalProcess> ps) {
    for (ArrivalProcess p : ps) {
      if (p == wl.process) return true;
    }
    if (!process_known) {
      a.allow(key);
    } else if (a.has(key)) {
      a.error(key, "does not apply to process \"" + process + "\"");
    }
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
  for (const char* key : {"path", "format", "rate_scale", "start_s", "end_s", "on_bad_row", "sort"}) {
    only_for(key, {ArrivalProcess::trace});
  }
  if (trace) {
    const std::string path = a.string("path");
    wl.trace.path = path == "-" ? path : config::resolve_path(doc.base_dir, path).string();
    std::error_code ec;
    if (path == "-") {
      wl.trace.stdin_text = standard_input_text();
    } else if (!path.empty() && !std::filesystem::exists(wl.trace.path, ec)) {
      a.error("path", "no such trace file: " + wl.trace.path +
                          (doc.base_dir.empty() ? "" : " (a relative path is taken from the scenario's folder)"));
    } else if (std::filesystem::is_directory(wl.trace.path, ec)) {
      a.error("path", wl.trace.path + " is a folder; expected a CSV or JSONL trace file");
    }
    static constexpr std::string_view kFormats[] = {"auto", "csv", "jsonl", "mooncake"};
    const auto f = a.choice("format", kFormats, 0);
    wl.trace.format = f == 0 ? "" : std::string(kFormats[f]);
    wl.trace.rate_scale = a.number_or("rate_scale", 1.0, Range::positive());
    wl.trace.start_s = a.number_or("start_s", 0.0, Range::non_negative());
    static constexpr std::string_view kOnBadRow[] = {"error", "skip"};
    wl.trace.skip_bad_rows = a.choice("on_bad_row", kOnBadRow, 0) == 1;
    wl.trace.sort = a.boolean_or("sort", false);
    if (a.has("end_s")) {
      wl.trace.end_s = a.number("end_s", Range::positive());
      if (wl.trace.end_s <= wl.trace.start_s) a.error("end_s", "must be after start_s");
    }
    arr["path"] = path;
    arr["format"] = std::string(kFormats[f]);
    arr["rate_scale"] = wl.trace.rate_scale;
    arr["start_s"] = wl.trace.start_s;
    arr["on_bad_row"] = wl.trace.skip_bad_rows ? "skip" : "error";
    arr["sort"] = wl.trace.sort;
    if (std::isfinite(wl.trace.end_s)) arr["end_s"] = wl.trace.end_s;
  }
  a.finish();

  Json wj = Json::object();
  if (trace) {
    wl.requests = w.integer_or("requests", 0, Range::between(0, static_cast<double>(limits::kMaxRequests)));
    for (const char* key : {"input_tokens", "output_tokens"}) {
      if (w.has(key)) w.error(key, "comes from the trace with process \"trace\"; remove it");
    }
    if (w.has("sessions")) {
      w.error("sessions", "does not apply to process \"trace\" (a trace's rows are its requests); remove it, or start "
                          "sessions with another arrival process");
    }
  } else {
    if (w.has("sessions")) parse_sessions(w, doc, wl, wj);
    wl.requests = w.integer("requests", Range::between(1, static_cast<double>(limits::kMaxRequests)));
    // Sessions: the arrival process starts sessions, each of about requests_per_arrival requests.
    const double span_s = static_cast<double>(wl.requests) / workload::requests_per_arrival(wl) / wl.rate_per_s;
    if (workload::rate_driven(wl.process) && wl.rate_per_s > 0 && span_s > limits::kHorizonSeconds) {
      a.error("rate_per_s", std::to_string(wl.requests) + " requests at " + format_number(wl.rate_per_s) +
                                " per second arrive over about " + format_number(span_s) +
                                " s, beyond the simulation horizon of " + format_number(limits::kHorizonSeconds) +
                                " s (about 31 years); is the rate per second?");
    }
  }
  wl.seed = static_cast<std::uint64_t>(w.integer_or("seed", 1, Range::between(0, 9.0e15)));
  // Online clients stream tokens; an offline batch takes whole results (as MLPerf's harnesses do: NVIDIA's
  // turns streaming off in Offline only).
  wl.streaming = w.boolean_or("streaming", wl.process != ArrivalProcess::offline);
  // Online clients reach a served engine over HTTP; an offline batch calls the engine in its own process.
  wl.api = static_cast<workload::Api>(
      w.choice("api", workload::kApiNames, wl.process == ArrivalProcess::offline ? 1 : 0));
  wj["requests"] = wl.requests;
  wj["seed"] = wl.seed;
  wj["streaming"] = wl.streaming;
  wj["api"] = workload::kApiNames[static_cast<std::size_t>(wl.api)];
  wj["arrival"] = arr;
  if (!trace) {
    Json in, out_t;
    if (!w.has("sessions")) {  // (a malformed sessions value is reported once, not also as a missing input_tokens)
      wl.input = parse_tokens(w, "input_tokens", doc.base_dir, in);
      wj["input_tokens"] = in;
    } else if (w.has("input_tokens")) {
      w.error("input_tokens", "does not apply with sessions: a turn's prompt is the system prompt, the session's "
                              "history and a new message of sessions.message_tokens; remove it");
    }
    wl.output = parse_tokens(w, "output_tokens", doc.base_dir, out_t);
    wj["output_tokens"] = out_t;
  }
  w.finish();
  out["workload"] = wj;
}


}  // namespace infersim::scenario
