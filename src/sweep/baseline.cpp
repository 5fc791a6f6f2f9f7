#include "infersim/sweep/baseline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "infersim/core/error.hpp"
#include "infersim/core/strings.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/sweep/evaluate.hpp"
#include "infersim/sweep/ordered_pool.hpp"
#include "infersim/sweep/text_file.hpp"

namespace infersim::sweep {

using config::Json;
using Ordered = nlohmann::ordered_json;

const std::vector<std::string>& default_expect_metrics() {
  static const std::vector<std::string> metrics{"metrics.ttft_s.p50",
                                                "metrics.ttft_s.p99",
                                                "metrics.tpot_s.p50",
                                                "metrics.tpot_s.p99",
                                                "metrics.e2e_s.p99",
                                                "metrics.throughput.output_tokens_per_s",
                                                "metrics.cost.usd_per_million_output_tokens",
                                                "metrics.cost.usd_per_million_total_tokens",
                                                "metrics.energy.joules_per_output_token"};
  return metrics;
}

double Baseline::tolerance_for(const std::string& metric) const {
  const auto it = tolerance.find(metric);
  return it == tolerance.end() ? default_rel : it->second;
}

namespace {
const config::Range kToleranceRange = config::Range::between(0, 1);
}  // namespace

Baseline parse_baseline(const std::string& text, const std::string& file, const std::filesystem::path& base_dir) {
  const Json j = config::parse_json_text(text, file);
  const Ordered ordered = Ordered::parse(text);  // for the order of each case's "expect"
  config::Diagnostics d(file);
  config::ObjectReader root(j, "", d);
  Baseline b;
  b.file = file;
  b.text = text;
  (void)root.string_or("description", "");
  const Json* cases = root.raw("cases");
  if (root.valid() && (!cases || !cases->is_array() || cases->empty())) {
    root.error("cases", std::string(cases ? "expected" : "missing required key; expected") +
                            " a non-empty list of cases {\"scenario\": PATH, \"set\": {...}, \"expect\": {...}}" +
                            (cases ? ", found " + config::describe_json(*cases) : ""));
    cases = nullptr;
  }
  std::vector<std::string> expected_metrics = default_expect_metrics();
  for (std::size_t i = 0; cases && i < cases->size(); ++i) {
    const std::string at = "/cases/" + std::to_string(i);
    config::ObjectReader c((*cases)[i], at, d);
    BaselineCase bc;
    const std::string name = c.string_or("name", "");
    const std::string scenario = c.string("scenario");
    bc.scenario = scenario.empty() ? "" : config::resolve_path(base_dir, scenario).string();
    bc.label = name.empty() ? std::filesystem::path(scenario).stem().string() : name;
    std::string sets;
    if (std::optional<config::ObjectReader> s = c.optional_object("set"); s && s->valid()) {
      for (auto it = (*cases)[i]["set"].begin(); it != (*cases)[i]["set"].end(); ++it) {
        s->allow(it.key());
        bc.set.push_back(make_override(it.key(), *it));
        sets += (sets.empty() ? "" : ", ") + bc.set.back().text;
      }
      s->finish();
    }
    if (name.empty() && !sets.empty()) bc.label += " (" + sets + ")";
    config::ObjectReader e = c.object("expect");
    if (e.valid()) {
      const Ordered& oe = ordered["cases"][i]["expect"];
      for (auto it = oe.begin(); it != oe.end(); ++it) {
        e.allow(it.key());
        if (!it->is_number() && !it->is_null()) {
          e.error(it.key(), "expected the metric's value (a number, or null), found " + config::describe_json(Json::parse(it->dump())));
          continue;
        }
        bc.expect.emplace_back(it.key(), Json::parse(it->dump()));
        expected_metrics.push_back(it.key());
      }
    }
    c.finish();
    b.cases.push_back(std::move(bc));
  }
  if (std::optional<config::ObjectReader> t = root.optional_object("tolerance"); t && t->valid()) {
    // A relative tolerance above 1 (100%) lets any value pass (1e308 passes everything): no gate is that loose.
    b.default_rel = t->number_or("default_rel", 0.02, kToleranceRange);
    for (auto it = j["tolerance"].begin(); it != j["tolerance"].end(); ++it) {
      if (it.key() == "default_rel") continue;
      t->allow(it.key());
      if (std::find(expected_metrics.begin(), expected_metrics.end(), it.key()) == expected_metrics.end()) {
        std::string message = "a tolerance for \"" + it.key() + "\", which no case expects";
        if (auto near = closest_match(it.key(), expected_metrics)) message += "; did you mean \"" + *near + "\"?";
        t->error(it.key(), message);
        continue;
      }
      b.tolerance[it.key()] = t->number(it.key(), kToleranceRange);
    }
    t->finish();
  }
  root.finish();
  d.throw_if_any();
  return b;
}

Baseline load_baseline(const std::string& path) {
  return parse_baseline(read_text_file(path), path, std::filesystem::path(path).parent_path());
}

bool within_tolerance(const Json& baseline, const Json& now, double tolerance) {
  if (baseline.is_null() || now.is_null()) return baseline.is_null() && now.is_null();
  const double b = baseline.get<double>(), n = now.get<double>();
  if (b == 0) return std::abs(n) <= tolerance;
  return std::abs(n - b) <= (tolerance + kWrittenPrecision) * std::abs(b);
}

std::string expect_text(const Json& v) {
  if (!v.is_number_float()) return v.dump();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v.get<double>());
  return buf;
}

namespace {

/// The value at a dotted path of a report, or nullptr.
const Json* find_metric(const Json& report, const std::string& dotted) {
  const Json* node = &report;
  std::size_t start = 0;
  while (true) {
    const auto dot = dotted.find('.', start);
    const std::string key = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(key)) return nullptr;
    node = &(*node)[key];
    if (dot == std::string::npos) return node;
    start = dot + 1;
  }
}

}  // namespace

std::vector<CheckRow> run_check(const Baseline& b, unsigned jobs, bool updating) {
  for (std::size_t i = 0; i < b.cases.size(); ++i) {
    if (b.cases[i].expect.empty() && !updating) {
      throw ConfigError(b.file, "/cases/" + std::to_string(i) + "/expect",
                        "case \"" + b.cases[i].label + "\" expects nothing; list the metrics to check, or run `infersim check " +
                            b.file + " --update` to fill in " + std::to_string(default_expect_metrics().size()) + " headline metrics");
    }
  }
  std::vector<CheckRow> rows;
  const unsigned threads = jobs > 0 ? jobs : std::max(1u, std::thread::hardware_concurrency());
  ordered_parallel_map(
      b.cases.size(), threads,
      [&](std::size_t i) {
        const BaselineCase& c = b.cases[i];
        try {
          return evaluate(config::load_document(c.scenario), c.set);
        } catch (const InfeasibleError& e) {
          throw InfeasibleError("case \"" + c.label + "\": " + e.what());
        } catch (const UsageError& e) {
          throw UsageError("case \"" + c.label + "\": " + e.what());
        }
      },
      [&](std::size_t i, Json&& report) {
        const BaselineCase& c = b.cases[i];
        auto expect = c.expect;
        if (expect.empty()) {
          for (const auto& m : default_expect_metrics()) expect.emplace_back(m, nullptr);
        }
        for (const auto& [metric, expected] : expect) {
          const Json* now = find_metric(report, metric);
          const std::string at = "/cases/" + std::to_string(i) + "/expect/" + config::pointer_escape(metric);
          if (!now) {
            std::vector<std::string> keys;
            for (const auto& [k, v] : scenario::flatten(report)) keys.push_back(k);
            std::string message = "case \"" + c.label + "\": the report has no metric \"" + metric + "\"";
            if (auto near = closest_match(metric, keys)) message += "; did you mean \"" + *near + "\"?";
            throw ConfigError(b.file, at, message);
          }
          if (!now->is_number() && !now->is_null()) {
            throw ConfigError(b.file, at, "case \"" + c.label + "\": \"" + metric + "\" is " + config::describe_json(*now) +
                                              ", not a number");
          }
          CheckRow r;
          r.case_index = i;
          r.metric = metric;
          r.baseline = expected;
          r.now = *now;
          r.tolerance = b.tolerance_for(metric);
          r.ok = !c.expect.empty() && within_tolerance(expected, *now, r.tolerance);
          if (expected.is_number() && now->is_number() && expected.get<double>() != 0) {
            r.change = (now->get<double>() - expected.get<double>()) / std::abs(expected.get<double>());
          }
          rows.push_back(std::move(r));
        }
      },
      [] {});
  return rows;
}

namespace {

/// Byte spans [begin, end) of every value of a (valid) JSON text, by JSON pointer.
class SpanScanner {
 public:
  explicit SpanScanner(std::string_view text) : t_(text) { value(""); }
  std::map<std::string, std::pair<std::size_t, std::size_t>> spans;

 private:
  void ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) ++i_;
  }
  void string() {
    for (++i_; i_ < t_.size() && t_[i_] != '"'; ++i_) {
      if (t_[i_] == '\\') ++i_;
    }
    ++i_;
  }
  void value(const std::string& pointer) {
    ws();
    const std::size_t begin = i_;
    if (t_[i_] == '{' || t_[i_] == '[') {
      const bool object = t_[i_] == '{';
      ++i_;
      ws();
      for (std::size_t index = 0; t_[i_] != (object ? '}' : ']'); ++index) {
        std::string child = pointer + "/" + std::to_string(index);
        if (object) {
          const std::size_t key_begin = i_;
          string();
          child = pointer + "/" + config::pointer_escape(Json::parse(t_.substr(key_begin, i_ - key_begin)).get<std::string>());
          ws();
          ++i_;  // ':'
        }
        value(child);
        ws();
        if (t_[i_] == ',') {
          ++i_;
          ws();
        }
      }
      ++i_;
    } else if (t_[i_] == '"') {
      string();
    } else {
      while (i_ < t_.size() && std::string_view(",}] \t\r\n").find(t_[i_]) == std::string_view::npos) ++i_;
    }
    spans[pointer] = {begin, i_};
  }

  std::string_view t_;
  std::size_t i_ = 0;
};

}  // namespace

std::string update_baseline_text(const Baseline& b, const std::vector<CheckRow>& rows) {
  const SpanScanner scan(b.text);
  struct Edit {
    std::size_t begin, end;
    std::string text;
  };
  std::vector<Edit> edits;
  for (std::size_t i = 0; i < b.cases.size(); ++i) {
    const std::string expect = "/cases/" + std::to_string(i) + "/expect";
    if (b.cases[i].expect.empty()) {
      // "expect": {} -> one metric a line, indented one step (two spaces) deeper than the line of "expect".
      const auto [begin, end] = scan.spans.at(expect);
      const std::size_t line = b.text.rfind('\n', begin) + 1;  // npos + 1 == 0 on the first line
      std::size_t indent_end = line;
      while (indent_end < begin && (b.text[indent_end] == ' ' || b.text[indent_end] == '\t')) ++indent_end;
      const std::string indent = b.text.substr(line, indent_end - line);
      std::string text = "{";
      for (const CheckRow& r : rows) {
        if (r.case_index != i) continue;
        text += (text.size() > 1 ? ",\n" : "\n") + indent + "  " + Json(r.metric).dump() + ": " + expect_text(r.now);
      }
      edits.push_back({begin, end, text + "\n" + indent + "}"});
      continue;
    }
    for (const CheckRow& r : rows) {
      if (r.case_index != i) continue;
      const auto [begin, end] = scan.spans.at(expect + "/" + config::pointer_escape(r.metric));
      if (expect_text(r.now) != expect_text(r.baseline)) edits.push_back({begin, end, expect_text(r.now)});
    }
  }
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& c) { return a.begin > c.begin; });
  std::string out = b.text;
  for (const Edit& e : edits) out.replace(e.begin, e.end - e.begin, e.text);
  return out;
}

}  // namespace infersim::sweep
