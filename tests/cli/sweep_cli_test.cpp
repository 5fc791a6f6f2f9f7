// `infersim sweep`, `merge` and `check` as users and CI pipelines use them.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "support/cli.hpp"
#include "support/paths.hpp"

namespace infersim {
namespace {

using testing::read_text;
using testing::run_cli;

// A small, fast base scenario: 40 requests of a 1B model.
const char* kBase = R"({"name": "sweep-base", "model": "llama-3.2-1b", "hardware": "h100-sxm",
  "workload": {"requests": 40, "seed": 1, "arrival": {"process": "poisson", "rate_per_s": 4},
               "input_tokens": 256, "output_tokens": {"distribution": "uniform", "min": 8, "max": 32}},
  "slo": {"ttft_p99_s": 0.5}})";

// 3 x 2 grid x 2 zip rows = 12 points, over hardware names too.
const char* kSweep = R"({"base": "sweep_base.json",
  "grid": {"hardware": ["h100-sxm", "l4", "mi300x"], "workload.arrival.rate_per_s": [2, 8]},
  "zip": {"workload.seed": [1, 2], "workload.requests": [30, 40]}})";

// Each test writes its files into a directory of its own (tests run in parallel).
std::string temp(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string dir = ::testing::TempDir() + "/sweep_cli_" + info->test_suite_name() + "_" + info->name();
  std::filesystem::create_directories(dir);
  return dir + "/" + name;
}

std::string write(const std::string& name, const std::string& content) {
  const std::string path = temp(name);
  std::ofstream(path) << content;
  return path;
}

std::string sweep_file() {
  write("sweep_base.json", kBase);
  return write("sweep.json", kSweep);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

TEST(Sweep, OneRowPerPointSweptKeysFirst) {
  const auto r = run_cli("sweep " + sweep_file() + " --jobs 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = lines(r.out);
  ASSERT_EQ(rows.size(), 13u);
  EXPECT_TRUE(rows[0].starts_with("hardware,workload.arrival.rate_per_s,workload.seed,workload.requests,metrics."));
  EXPECT_NE(rows[0].find(",metrics.ttft_s.p99,"), std::string::npos);
  EXPECT_TRUE(rows[0].ends_with(",error,point"));
  EXPECT_TRUE(rows[1].starts_with("h100-sxm,2,1,30,"));
  EXPECT_TRUE(rows[2].starts_with("h100-sxm,2,2,40,"));
  EXPECT_TRUE(rows[3].starts_with("h100-sxm,8,1,30,"));
  EXPECT_TRUE(rows[12].starts_with("mi300x,8,2,40,"));
  for (std::size_t i = 1; i < rows.size(); ++i) EXPECT_TRUE(rows[i].ends_with(",," + std::to_string(i - 1))) << rows[i];
  EXPECT_TRUE(r.err.empty()) << r.err;  // quiet when stderr is not a terminal
}

TEST(Sweep, OutputIsByteIdenticalForAnyNumberOfJobs) {
  const auto s = sweep_file();
  for (const char* ext : {".csv", ".jsonl"}) {
    const std::string one = temp(std::string("jobs1") + ext), two = temp(std::string("jobs2") + ext),
                      four = temp(std::string("jobs4") + ext);
    std::filesystem::remove(one);
    std::filesystem::remove(two);
    std::filesystem::remove(four);
    ASSERT_EQ(run_cli("sweep " + s + " --jobs 1 --out " + one).exit_code, 0);
    ASSERT_EQ(run_cli("sweep " + s + " --jobs 2 --out " + two).exit_code, 0);
    ASSERT_EQ(run_cli("sweep " + s + " --jobs 4 --out " + four).exit_code, 0);
    const std::string a = read_text(one);
    EXPECT_EQ(lines(a).size(), std::string(ext) == ".csv" ? 13u : 12u);
    EXPECT_EQ(a, read_text(two)) << ext;
    EXPECT_EQ(a, read_text(four)) << ext;
  }
}

TEST(Sweep, ShardsMergeIntoExactlyTheFullSweep) {
  const auto s = sweep_file();
  for (const char* ext : {".csv", ".jsonl"}) {
    const std::string full = temp(std::string("full") + ext);
    std::filesystem::remove(full);
    ASSERT_EQ(run_cli("sweep " + s + " --out " + full).exit_code, 0);
    std::string shards;
    std::size_t rows = 0;
    std::set<std::string> union_of_rows;
    for (int i = 0; i < 5; ++i) {  // 5 does not divide 12: uneven shards
      const std::string shard = temp("shard" + std::to_string(i) + ext);
      std::filesystem::remove(shard);
      const auto r = run_cli("sweep " + s + " --jobs 2 --shard " + std::to_string(i) + "/5 --out " + shard);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      auto ls = lines(read_text(shard));
      if (std::string(ext) == ".csv") ls.erase(ls.begin());
      rows += ls.size();
      union_of_rows.insert(ls.begin(), ls.end());
      shards = shard + " " + shards;  // reversed order: merge must not care
    }
    auto full_rows = lines(read_text(full));
    if (std::string(ext) == ".csv") full_rows.erase(full_rows.begin());
    EXPECT_EQ(rows, 12u);
    EXPECT_EQ(union_of_rows, std::set<std::string>(full_rows.begin(), full_rows.end()));
    const std::string merged = temp(std::string("merged") + ext);
    const auto m = run_cli("merge " + shards + "--out " + merged);
    ASSERT_EQ(m.exit_code, 0) << m.err;
    EXPECT_EQ(read_text(merged), read_text(full)) << ext;
  }
  // A missing shard, or one given twice, is an error.
  const auto missing = run_cli("merge " + temp("shard0.csv") + " " + temp("shard2.csv") + " --out " + temp("bad.csv"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("is a shard missing?"), std::string::npos) << missing.err;
  const auto twice = run_cli("merge " + temp("shard0.csv") + " " + temp("shard0.csv") + " --out " + temp("bad.csv"));
  EXPECT_EQ(twice.exit_code, 2);
}

TEST(Sweep, ResumeSkipsThePointsAlreadyInTheOutput) {
  const auto s = sweep_file();
  const std::string full = temp("resume_full.csv"), partial = temp("resume.csv");
  std::filesystem::remove(full);
  ASSERT_EQ(run_cli("sweep " + s + " --out " + full).exit_code, 0);
  const auto all = lines(read_text(full));
  // Keep the header and points 0-2 and 5, mark point 1's row so that a re-run would show, and end with half
  // a row, as an interrupted run leaves it.
  std::string marked = all[2];
  const auto first_metric = marked.find(",", marked.find(",", marked.find(",", marked.find(",") + 1) + 1) + 1);
  marked.replace(first_metric + 1, 0, "MARK");  // metrics.cost.note of point 1: a string column
  std::ofstream(partial) << all[0] << "\n" << all[1] << "\n" << marked << "\n" << all[3] << "\n" << all[6] << "\n"
                         << all[7].substr(0, 40);
  const auto r = run_cli("sweep " + s + " --jobs 2 --out " + partial);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("cut short"), std::string::npos) << r.err;
  auto expected = all;
  expected[2] = marked;  // kept, not recomputed
  std::string text;
  for (const auto& l : expected) text += l + "\n";
  EXPECT_EQ(read_text(partial), text);  // in point order again, every point once
  // Nothing left to do: the file stays as it is.
  ASSERT_EQ(run_cli("sweep " + s + " --out " + partial).exit_code, 0);
  EXPECT_EQ(read_text(partial), text);
  // A file of another sweep is refused rather than mixed.
  write("sweep_other.json", R"({"base": "sweep_base.json", "grid": {"hardware": ["l4", "h100-sxm"]}})");
  const auto other = run_cli("sweep " + temp("sweep_other.json") + " --out " + partial);
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("another sweep"), std::string::npos) << other.err;
}

TEST(Sweep, FailedPointsAreErrorRowsAndTheExitCodeSaysSo) {
  write("sweep_base.json", kBase);
  // llama-3.1-405b does not fit on one H100; tensor_parallel 3 divides the heads of neither model.
  const auto s = write("sweep_fail.json", R"({"base": "sweep_base.json",
    "grid": {"model": ["llama-3.2-1b", "llama-3.1-405b"], "deployment.tensor_parallel": [1, 3]}})");
  const auto r = run_cli("sweep " + s + " --jobs 2");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("3 of 4 points failed"), std::string::npos) << r.err;
  const auto rows = lines(r.out);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_TRUE(rows[1].starts_with("llama-3.2-1b,1,0.")) << rows[1];  // point 0 ran: metrics follow
  EXPECT_TRUE(rows[1].ends_with(",,0"));
  for (std::size_t i = 2; i < 5; ++i) {
    // Metrics empty, the error filled.
    EXPECT_NE(rows[i].find(",,,,,,,,,,"), std::string::npos) << rows[i];
    EXPECT_FALSE(rows[i].ends_with(",," + std::to_string(i - 1))) << rows[i];
  }
  EXPECT_NE(rows[3].find("does not fit"), std::string::npos) << rows[3];
  // An unknown key fails every point, each row naming it.
  const auto typo = write("sweep_typo.json", R"({"base": "sweep_base.json", "grid": {"workload.arival.rate_per_s": [1, 2]}})");
  const auto t = run_cli("sweep " + typo);
  EXPECT_EQ(t.exit_code, 2);
  EXPECT_NE(t.out.find("did you mean \"\"arrival\"\""), std::string::npos) << t.out;
}

TEST(Sweep, ParetoFrontierOfTwoMetrics) {
  const auto s = sweep_file();
  const std::string out = temp("pareto_rows.csv"), front = temp("pareto_front.csv");
  std::filesystem::remove(out);
  const auto r = run_cli("sweep " + s + " --out " + out +
                         " --pareto metrics.cost.usd_per_million_output_tokens,ttft_s.p99 --pareto-out " + front);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Check the frontier against every row, by brute force.
  auto read = [](const std::string& path) {
    std::vector<std::pair<double, double>> v;
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    std::size_t cost = 0, ttft = 0, c = 0;
    for (std::size_t start = 0; start <= line.size(); ++c) {
      const auto comma = line.find(',', start);
      const std::string name = line.substr(start, comma - start);
      if (name == "metrics.cost.usd_per_million_output_tokens") cost = c;
      if (name == "metrics.ttft_s.p99") ttft = c;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    while (std::getline(in, line)) {
      std::vector<std::string> cells;
      std::size_t start = 0;
      while (true) {  // these rows have no quoted cells
        const auto comma = line.find(',', start);
        cells.push_back(line.substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      v.emplace_back(std::stod(cells[cost]), std::stod(cells[ttft]));
    }
    return v;
  };
  const auto all = read(out), frontier = read(front);
  ASSERT_FALSE(frontier.empty());
  auto dominated = [&](std::pair<double, double> p) {
    for (const auto& q : all) {
      if (q.first <= p.first && q.second <= p.second && (q.first < p.first || q.second < p.second)) return true;
    }
    return false;
  };
  std::size_t on_front = 0;
  for (const auto& p : all) on_front += !dominated(p);
  EXPECT_EQ(frontier.size(), on_front);
  for (const auto& p : frontier) EXPECT_FALSE(dominated(p));
  EXPECT_TRUE(std::is_sorted(frontier.begin(), frontier.end()));
  // Without a file for the rows, the frontier would mix with them on stdout: refused.
  EXPECT_EQ(run_cli("sweep " + s + " --pareto cost.usd_per_hour,ttft_s.p99").exit_code, 2);
  EXPECT_EQ(run_cli("sweep " + s + " --out " + out + " --pareto cost.usd_per_hour,ttft_s.p999").exit_code, 2);
}

TEST(Check, PassesOnItsOwnOutputAndFailsOnAPerturbedBaseline) {
  write("sweep_base.json", kBase);
  const auto path = write("baseline.json", R"({
  "tolerance": {"default_rel": 0.02, "metrics.ttft_s.p99": 0.05},
  "cases": [
    {"name": "h100", "scenario": "sweep_base.json", "expect": {}},
    {"name": "l4", "scenario": "sweep_base.json", "set": {"hardware": "l4", "workload.requests": 30},
     "expect": {"metrics.ttft_s.p99": 1.0, "metrics.cost.usd_per_million_output_tokens": 1.0}}
  ]
}
)");
  EXPECT_EQ(run_cli("check " + path).exit_code, 2);  // case "h100" expects nothing yet
  const auto update = run_cli("check " + path + " --update");
  ASSERT_EQ(update.exit_code, 0) << update.err;
  const std::string written = read_text(path);
  const auto pass = run_cli("check " + path);
  EXPECT_EQ(pass.exit_code, 0) << pass.out << pass.err;
  EXPECT_NE(pass.out.find("all within tolerance"), std::string::npos) << pass.out;
  for (const char* column : {"case", "metric", "baseline", "now", "change %", "tolerance", "verdict"}) {
    EXPECT_NE(pass.out.find(column), std::string::npos) << column;
  }
  // Perturb one value by 10%: exit 1, and exactly that row says BREACH.
  auto j = nlohmann::json::parse(written);
  const double cost = j["cases"][1]["expect"]["metrics.cost.usd_per_million_output_tokens"].get<double>();
  std::string perturbed = written;
  const std::string old_text = "\"metrics.cost.usd_per_million_output_tokens\": ";
  const auto at = perturbed.find(old_text, perturbed.find("\"l4\"")) + old_text.size();
  const auto end = perturbed.find_first_of(",}\n", at);
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", cost * 1.1);
  perturbed.replace(at, end - at, text);
  write("baseline.json", perturbed);
  const auto fail = run_cli("check " + path);
  EXPECT_EQ(fail.exit_code, 1) << fail.out << fail.err;
  std::size_t breaches = 0;
  for (const auto& line : lines(fail.out)) {
    if (line.find("BREACH") == std::string::npos) continue;
    ++breaches;
    EXPECT_TRUE(line.starts_with("l4 ")) << line;
    EXPECT_NE(line.find("metrics.cost.usd_per_million_output_tokens"), std::string::npos) << line;
    EXPECT_NE(line.find("-9.09"), std::string::npos) << line;  // 1/1.1 - 1
  }
  EXPECT_EQ(breaches, 1u) << fail.out;
  // --update puts it back, changing that number only.
  ASSERT_EQ(run_cli("check " + path + " --update").exit_code, 0);
  EXPECT_EQ(read_text(path), written);
}

TEST(Check, MissingMetricIsBadInputNamingCaseAndPath) {
  write("sweep_base.json", kBase);
  const auto path = write("baseline_bad.json", R"({"cases": [{"name": "mine", "scenario": "sweep_base.json",
    "expect": {"metrics.ttft_s.p999": 1.0}}]})");
  const auto r = run_cli("check " + path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("case \"mine\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("metrics.ttft_s.p999"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean \"metrics.ttft_s.p99\""), std::string::npos) << r.err;
}

TEST(Check, ProjectBaselineCoversEveryShippedScenario) {
  const std::string file = testing::source_path("configs/baselines/scenarios.json");
  std::ifstream in(file);
  ASSERT_TRUE(in) << file;
  const auto j = nlohmann::json::parse(in);
  std::set<std::string> covered;
  for (const auto& c : j["cases"]) {
    covered.insert(std::filesystem::path(c["scenario"].get<std::string>()).filename().string());
    EXPECT_FALSE(c["expect"].empty());
  }
  for (const auto& entry : std::filesystem::directory_iterator(testing::source_path("configs/scenarios"))) {
    EXPECT_TRUE(covered.count(entry.path().filename().string())) << entry.path() << " has no case in " << file;
  }
}

TEST(Validate, RecognisesSweepAndBaselineFiles) {
  const auto s = sweep_file();
  const auto r = run_cli("validate " + s + " " + testing::source_path("configs/baselines/scenarios.json"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("sweep of 12 points"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("baseline of"), std::string::npos) << r.out;
  const auto typo = write("sweep_typo2.json", R"({"base": "sweep_base.json", "grid": {"workload.arival.rate_per_s": [1, 2]}})");
  const auto bad = run_cli("validate " + typo);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("point 0 (workload.arival.rate_per_s=1)"), std::string::npos) << bad.err;
}

TEST(Validate, ShippedSweepsAreValidAndTheirPointsParse) {
  // validate parses every point of a sweep (each is a scenario), so a shipped sweep that a change of the
  // scenario format breaks fails here.
  std::string files;
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::source_path("configs/sweeps"))) {
    files += " " + entry.path().string();
    ++n;
  }
  ASSERT_GE(n, 2);
  const auto r = run_cli("validate" + files);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("sweep of 40 points"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace infersim
