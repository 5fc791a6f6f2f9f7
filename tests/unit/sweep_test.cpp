// The sweep library: expansion of grid and zip, shards, rows, the ordered thread pool, the Pareto frontier
// and baselines.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>
#include <stdexcept>

#include "infersim/core/error.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/sweep/baseline.hpp"
#include "infersim/sweep/evaluate.hpp"
#include "infersim/sweep/ordered_pool.hpp"
#include "infersim/sweep/pareto.hpp"
#include "infersim/sweep/rows.hpp"
#include "infersim/sweep/runner.hpp"
#include "infersim/sweep/sweep_spec.hpp"

namespace infersim {
namespace {

using config::Json;

const char* kBase = R"({"model": "llama-3.2-1b", "hardware": "h100-sxm",
  "workload": {"requests": 20, "arrival": {"process": "poisson", "rate_per_s": 4}, "input_tokens": 128, "output_tokens": 16}})";

sweep::SweepSpec sweep_of(const std::string& sections) {
  return sweep::parse_sweep(std::string("{\"base\": ") + kBase + ", " + sections + "}", "sweep.json", ".");
}

std::string config_error(const std::string& sections) {
  try {
    sweep_of(sections);
  } catch (const ConfigError& e) {
    std::string all;
    for (const auto& d : e.diagnostics()) all += format_diagnostic(d) + "\n";
    return all;
  }
  return "no error";
}

TEST(SweepSpec, GridIsTheCartesianProductWithTheLastKeyFastest) {
  const auto s = sweep_of(R"("grid": {"workload.arrival.rate_per_s": [1, 2, 3], "hardware": ["h100-sxm", "mi300x"]})");
  ASSERT_EQ(s.points(), 6u);
  EXPECT_EQ(s.keys(), (std::vector<std::string>{"workload.arrival.rate_per_s", "hardware"}));
  EXPECT_EQ(s.values(0), (std::vector<Json>{1, "h100-sxm"}));
  EXPECT_EQ(s.values(1), (std::vector<Json>{1, "mi300x"}));
  EXPECT_EQ(s.values(2), (std::vector<Json>{2, "h100-sxm"}));
  EXPECT_EQ(s.values(5), (std::vector<Json>{3, "mi300x"}));
  // Every combination exactly once.
  std::set<std::string> seen;
  for (std::size_t p = 0; p < s.points(); ++p) seen.insert(Json(s.values(p)).dump());
  EXPECT_EQ(seen.size(), 6u);
  // Keys keep the file's order, not alphabetical order.
  const auto r = sweep_of(R"("grid": {"z.last": [1], "a.first": [2]})");
  EXPECT_EQ(r.keys(), (std::vector<std::string>{"z.last", "a.first"}));
}

TEST(SweepSpec, ZipListsVaryTogetherAsTheFastestAxis) {
  const auto s = sweep_of(R"("zip": {"workload.requests": [10, 20, 30], "workload.seed": [7, 8, 9]},
                             "grid": {"hardware": ["h100-sxm", "l4"]})");
  ASSERT_EQ(s.points(), 6u);  // 2 grid values x 3 zip rows, not 2 x 3 x 3
  EXPECT_EQ(s.keys(), (std::vector<std::string>{"hardware", "workload.requests", "workload.seed"}));
  EXPECT_EQ(s.values(0), (std::vector<Json>{"h100-sxm", 10, 7}));
  EXPECT_EQ(s.values(1), (std::vector<Json>{"h100-sxm", 20, 8}));
  EXPECT_EQ(s.values(3), (std::vector<Json>{"l4", 10, 7}));
  EXPECT_EQ(s.values(5), (std::vector<Json>{"l4", 30, 9}));
  const auto o = s.overrides(4);
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o[0].path, "hardware");
  EXPECT_EQ(o[0].text, "hardware=l4");
  EXPECT_EQ(o[2].value, 8);
  // No grid and no zip: the base alone.
  EXPECT_EQ(sweep_of(R"("grid": {})").points(), 1u);
}

TEST(SweepSpec, StrictAboutItsStructure) {
  const auto unequal = config_error(R"("zip": {"workload.requests": [10, 20, 30], "workload.seed": [7, 8]})");
  EXPECT_NE(unequal.find("equal lengths"), std::string::npos) << unequal;
  EXPECT_NE(unequal.find("workload.requests has 3"), std::string::npos) << unequal;
  EXPECT_NE(unequal.find("workload.seed has 2"), std::string::npos) << unequal;
  const auto both = config_error(R"("grid": {"workload.seed": [1, 2]}, "zip": {"workload.seed": [3]})");
  EXPECT_NE(both.find("in both grid and zip"), std::string::npos) << both;
  const auto empty = config_error(R"("grid": {"workload.seed": []})");
  EXPECT_NE(empty.find("/grid/workload.seed"), std::string::npos) << empty;
  EXPECT_NE(empty.find("non-empty list"), std::string::npos) << empty;
  const auto scalar = config_error(R"("grid": {"workload.seed": 3})");
  EXPECT_NE(scalar.find("non-empty list"), std::string::npos) << scalar;
  const auto typo = config_error(R"("gird": {"workload.seed": [1]})");
  EXPECT_NE(typo.find("did you mean \"grid\""), std::string::npos) << typo;
  const auto nested = config_error(R"("grid": {"model": ["llama-3.2-1b"], "model.num_layers": [2]})");
  EXPECT_NE(nested.find("sweep only one of them"), std::string::npos) << nested;
  EXPECT_THROW(sweep::parse_sweep(R"({"grid": {}})", "s.json", "."), ConfigError);  // no base
}

TEST(Shard, RoundRobinShardsPartitionThePoints) {
  EXPECT_THROW(sweep::parse_shard("3/3"), UsageError);
  EXPECT_THROW(sweep::parse_shard("1"), UsageError);
  EXPECT_THROW(sweep::parse_shard("a/2"), UsageError);
  for (std::size_t total : {0u, 1u, 7u, 12u}) {
    std::vector<int> owners(total, 0);
    std::size_t sizes = 0;
    for (std::size_t i = 0; i < 5; ++i) {
      const auto s = sweep::parse_shard(std::to_string(i) + "/5");
      sizes += s.size(total);
      std::size_t mine = 0;
      for (std::size_t p = 0; p < total; ++p) {
        if (s.contains(p)) ++owners[p], ++mine;
      }
      EXPECT_EQ(mine, s.size(total));
    }
    EXPECT_EQ(sizes, total);
    EXPECT_TRUE(std::all_of(owners.begin(), owners.end(), [](int n) { return n == 1; }));
  }
}

TEST(Rows, CsvCellsSplitBackAndTheLastFieldIsThePoint) {
  const sweep::RowLayout layout({"hardware", "model"}, sweep::RowFormat::csv);
  const std::string row = layout.row(42, {"h100-sxm", Json{{"name", "x"}, {"num_layers", 2}}}, nullptr,
                                     "bad, \"quoted\"\nmessage");
  // RFC 4180: the message's line break stays inside its quoted field, so this row spans two lines.
  ASSERT_EQ(std::count(row.begin(), row.end(), '\n'), 2);
  EXPECT_NE(row.find(",\"bad, \"\"quoted\"\"\nmessage\",42\n"), std::string::npos) << row;
  const auto cells = layout.cells(row.substr(0, row.size() - 1));
  ASSERT_EQ(cells.size(), layout.columns().size());
  EXPECT_EQ(cells[0], "h100-sxm");
  EXPECT_EQ(cells[1], R"({"name":"x","num_layers":2})");
  EXPECT_EQ(cells[layout.error_column()], "bad, \"quoted\"\nmessage");
  EXPECT_EQ(sweep::row_point(row.substr(0, row.size() - 1)), 42u);
  EXPECT_EQ(layout.columns().back(), "point");
  EXPECT_EQ(layout.find_column("ttft_s.p99"), layout.find_column("metrics.ttft_s.p99"));
  EXPECT_FALSE(layout.find_column("ttft_s.p999"));

  const sweep::RowLayout jsonl({"hardware"}, sweep::RowFormat::jsonl);
  const std::string j = jsonl.row(7, {"l4"}, nullptr, "oops");
  EXPECT_EQ(sweep::row_point(j.substr(0, j.size() - 1)), 7u);
  EXPECT_EQ(jsonl.cells(j.substr(0, j.size() - 1))[0], "l4");
  EXPECT_THROW(layout.cells("a,b"), UsageError);
}

TEST(Rows, MetricKeysCoverEveryReport) {
  // Scenarios that exercise the optional metrics: an SLO, hardware without a price (gaudi2), without power figures.
  const auto& keys = scenario::metric_keys();
  for (const char* hardware : {"h100-sxm", "h200-sxm", "gaudi2", "tpu-v5e"}) {
    for (const bool slo : {false, true}) {
      Json base = Json::parse(kBase);
      base["hardware"] = hardware;
      if (slo) base["slo"] = {{"ttft_p99_s", 1.0}};
      const Json report = sweep::evaluate(config::Document{base, "<test>", "", "."}, {});
      for (const auto& [key, value] : scenario::flatten(report["metrics"])) {
        EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << hardware << ": " << key;
      }
      const sweep::RowLayout layout({}, sweep::RowFormat::csv);
      EXPECT_NO_THROW(layout.row(0, {}, &report, ""));
    }
  }
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Runner, AnInterruptedSweepLeavesTheOutputAsItWasAndResumes) {
  namespace fs = std::filesystem;
  const auto spec = sweep_of(R"("grid": {"workload.requests": [5, 6, 7, 8, 9, 10]})");
  const fs::path dir = fs::path(::testing::TempDir()) / "sweep_interrupted";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string full = (dir / "full.csv").string(), out = (dir / "out.csv").string();
  sweep::SweepOptions o;
  o.jobs = 2;
  o.out = full;
  sweep::run_sweep(spec, o);
  const std::string expected = file_text(full);

  // The run is interrupted after three rows (a throw from the row callback stands for Ctrl-C or a killed
  // node: the rows written so far are on disk, nothing else is).
  const std::string partial = sweep::partial_output_path(out);
  EXPECT_EQ(partial, (dir / ".out.csv.partial").string());
  o.out = out;
  int rows = 0;
  o.on_row = [&](std::size_t, std::string_view) {
    if (++rows == 3) throw std::runtime_error("interrupted");
  };
  EXPECT_THROW(sweep::run_sweep(spec, o), std::runtime_error);
  EXPECT_FALSE(fs::exists(out));  // never a half-written output
  ASSERT_TRUE(fs::exists(partial));
  const std::string kept = file_text(partial);
  EXPECT_EQ(kept, expected.substr(0, kept.size()));  // the header and the first rows, whole
  EXPECT_EQ(std::count(kept.begin(), kept.end(), '\n'), 4);

  // The rerun resumes from the partial file, runs the rest, and renames: the file one run writes.
  o.on_row = nullptr;
  const auto s = sweep::run_sweep(spec, o);
  EXPECT_EQ(s.resumed, 3u);
  EXPECT_EQ(s.ran, 3u);
  EXPECT_EQ(file_text(out), expected);
  EXPECT_FALSE(fs::exists(partial));
}

TEST(OrderedPool, HandsResultsOverInOrderForAnyNumberOfJobs) {
  for (unsigned jobs : {1u, 2u, 3u, 8u}) {
    std::vector<std::size_t> seen;
    sweep::ordered_parallel_map(
        500, jobs,
        [](std::size_t i) {
          // Uneven work so that items finish out of order.
          volatile double x = 0;
          for (std::size_t k = 0; k < (i % 7) * 2000; ++k) x = x + static_cast<double>(k);
          return i * i;
        },
        [&](std::size_t i, std::size_t v) {
          EXPECT_EQ(v, i * i);
          seen.push_back(i);
        },
        [] {});
    ASSERT_EQ(seen.size(), 500u);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end())) << jobs;
  }
  // An exception from one item reaches the caller, in order, and the workers stop.
  std::size_t handed = 0;
  EXPECT_THROW(sweep::ordered_parallel_map(
                   100, 2,
                   [](std::size_t i) {
                     if (i == 30) throw std::runtime_error("boom");
                     return i;
                   },
                   [&](std::size_t, std::size_t) { ++handed; }, [] {}),
               std::runtime_error);
  EXPECT_EQ(handed, 30u);
}

TEST(Pareto, KeepsExactlyTheNonDominatedPoints) {
  // (cost, latency): the frontier is a, c, e, and f (equal to e: neither beats the other); b, d and g are
  // dominated.
  struct P {
    double x, y;
    const char* name;
  };
  const std::vector<P> points{{1, 10, "a"}, {2, 10, "b"}, {2, 5, "c"}, {3, 6, "d"}, {4, 1, "e"}, {4, 1, "f"}, {5, 1, "g"}};
  for (const bool reversed : {false, true}) {
    sweep::ParetoFront front;
    for (std::size_t i = 0; i < points.size(); ++i) {
      const std::size_t k = reversed ? points.size() - 1 - i : i;
      front.add(points[k].x, points[k].y, k, points[k].name);
    }
    std::vector<std::string> names;
    for (const auto& e : front.entries()) names.push_back(e.row);
    EXPECT_EQ(names, (std::vector<std::string>{"a", "c", "e", "f"})) << reversed;
  }
}

TEST(Pareto, ObjectivesParseAndMaximizeFlips) {
  const auto o = sweep::parse_objectives("metrics.cost.usd_per_million_output_tokens,max:throughput.output_tokens_per_s");
  ASSERT_EQ(o.size(), 2u);
  EXPECT_FALSE(o[0].maximize);
  EXPECT_TRUE(o[1].maximize);
  EXPECT_EQ(o[1].column, "throughput.output_tokens_per_s");
  EXPECT_TRUE(sweep::parse_objectives("a,-b")[1].maximize);
  EXPECT_THROW(sweep::parse_objectives("a"), UsageError);
  EXPECT_THROW(sweep::parse_objectives("a,b,c"), UsageError);
  const sweep::RowLayout layout({}, sweep::RowFormat::csv);
  try {
    sweep::ParetoCollector(layout, sweep::parse_objectives("cost.usd_per_milion_output_tokens,ttft_s.p99"));
    FAIL() << "an unknown column was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean \"metrics.cost.usd_per_million_output_tokens\""), std::string::npos) << e.what();
  }
}

TEST(Baseline, ToleranceIsRelativeAndAbsoluteAtZero) {
  EXPECT_TRUE(sweep::within_tolerance(100.0, 102.0, 0.02));
  EXPECT_FALSE(sweep::within_tolerance(100.0, 102.1, 0.02));
  EXPECT_TRUE(sweep::within_tolerance(-100.0, -98.0, 0.02));
  EXPECT_TRUE(sweep::within_tolerance(0.0, 0.01, 0.02));  // absolute at 0
  EXPECT_FALSE(sweep::within_tolerance(0.0, 0.03, 0.02));
  EXPECT_TRUE(sweep::within_tolerance(nullptr, nullptr, 0.02));
  EXPECT_FALSE(sweep::within_tolerance(nullptr, 1.0, 0.02));
  EXPECT_FALSE(sweep::within_tolerance(1.0, nullptr, 0.02));
  // What --update writes (9 significant digits) passes even with a zero tolerance.
  const double v = 0.123456789123;
  EXPECT_TRUE(sweep::within_tolerance(Json::parse(sweep::expect_text(v)), v, 0.0));
}

TEST(Baseline, UpdateChangesOnlyTheNumbers) {
  const std::string text = R"({
  "tolerance": {"default_rel": 0.02},
  "cases": [
    {
      "name": "one",
      "scenario": "x.json",
      "expect": {
        "metrics.ttft_s.p99":   1.5,
        "metrics.cost.usd_per_million_output_tokens": 0.42
      }
    },
    {"scenario": "x.json", "set": {"hardware": "l4"}, "expect": {}}
  ]
}
)";
  const sweep::Baseline b = sweep::parse_baseline(text, "b.json", ".");
  ASSERT_EQ(b.cases.size(), 2u);
  EXPECT_EQ(b.cases[1].label, "x (hardware=l4)");
  EXPECT_EQ(b.cases[0].expect[0].first, "metrics.ttft_s.p99");  // file order
  std::vector<sweep::CheckRow> rows;
  rows.push_back({0, "metrics.ttft_s.p99", 1.5, 1.5, 0.02, true, 0.0});  // unchanged: keeps its text
  rows.push_back({0, "metrics.cost.usd_per_million_output_tokens", 0.42, 0.4567891234567, 0.02, false, {}});
  rows.push_back({1, "metrics.ttft_s.p50", nullptr, 2.0, 0.02, false, {}});
  rows.push_back({1, "metrics.requests_completed", nullptr, 20, 0.02, false, {}});
  const std::string updated = sweep::update_baseline_text(b, rows);
  const std::string expected = R"({
  "tolerance": {"default_rel": 0.02},
  "cases": [
    {
      "name": "one",
      "scenario": "x.json",
      "expect": {
        "metrics.ttft_s.p99":   1.5,
        "metrics.cost.usd_per_million_output_tokens": 0.456789123
      }
    },
    {"scenario": "x.json", "set": {"hardware": "l4"}, "expect": {
      "metrics.ttft_s.p50": 2,
      "metrics.requests_completed": 20
    }}
  ]
}
)";
  EXPECT_EQ(updated, expected);
  EXPECT_NO_THROW(sweep::parse_baseline(updated, "b.json", "."));
}

TEST(Baseline, StrictAboutItsStructure) {
  auto error = [](const std::string& text) {
    try {
      sweep::parse_baseline(text, "b.json", ".");
    } catch (const ConfigError& e) {
      std::string all;
      for (const auto& d : e.diagnostics()) all += format_diagnostic(d) + "\n";
      return all;
    }
    return std::string("no error");
  };
  const auto tol = error(R"({"tolerance": {"metrics.cost.usd_per_milion_total_tokens": 0.1},
                              "cases": [{"scenario": "x.json", "expect": {"metrics.ttft_s.p99": 1}}]})");
  EXPECT_NE(tol.find("which no case expects; did you mean \"metrics.cost.usd_per_million_total_tokens\""), std::string::npos) << tol;
  EXPECT_EQ(tol.find("unknown key"), std::string::npos) << tol;
  const auto value = error(R"({"cases": [{"scenario": "x.json", "expect": {"metrics.ttft_s.p99": "fast"}}]})");
  EXPECT_NE(value.find("/cases/0/expect/metrics.ttft_s.p99"), std::string::npos) << value;
  const auto key = error(R"({"cases": [{"scenario": "x.json", "expct": {}}]})");
  EXPECT_NE(key.find("did you mean \"expect\""), std::string::npos) << key;
  const auto none = error(R"({"cases": []})");
  EXPECT_NE(none.find("non-empty list of cases"), std::string::npos) << none;
}

}  // namespace
}  // namespace infersim
