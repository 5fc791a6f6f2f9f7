// Issue 19, "trust": never destroy a user's file, never pass a gate by accident, never print a number that
// misleads. Each case runs the real executable as a user (or a CI pipeline) would.

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/cli.hpp"
#include "support/paths.hpp"

namespace infersim {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::run_cli;

const char* kScenario = R"({"name": "trust", "model": "llama-3.2-1b", "hardware": "h100-sxm",
  "workload": {"requests": 20, "seed": 1, "arrival": {"process": "poisson", "rate_per_s": 4},
               "input_tokens": 128, "output_tokens": 16}})";

/// A fresh folder of this test's own (ctest runs tests in parallel processes).
fs::path folder() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::path(::testing::TempDir()) / ("trust_" + std::string(info->name()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string write(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path.string();
}

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

// §1: an output that is an input of the same command (or another output) is refused before anything is
// written, whichever path names it (here a symbolic link: the same inode).
TEST(Trust, AnOutputThatIsAnInputIsRefusedAndTheFileKept) {
  const fs::path dir = folder();
  const std::string scenario = write(dir / "s.json", kScenario);
  fs::create_symlink(scenario, dir / "link.json");
  for (const std::string& args : {"--requests-out " + q(dir / "link.json"), "--trace-out " + q(scenario),
                                 "--requests-out " + q(dir / "r.csv") + " --trace-out " + q(dir / "." / "r.csv")}) {
    SCOPED_TRACE(args);
    const auto r = run_cli("run " + q(scenario) + " " + args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(" would "), std::string::npos) << r.err;  // "would destroy it", "would overwrite the other"
    EXPECT_EQ(read_text(scenario), kScenario);
    EXPECT_FALSE(fs::exists(dir / "r.csv"));
  }
  const std::string rows = write(dir / "m.json", read_text(testing::source_path("configs/validation/single-user.json")));
  const auto acc = run_cli("accuracy " + q(rows) + " --out " + q(rows));
  EXPECT_EQ(acc.exit_code, 2) << acc.err;
  EXPECT_NE(acc.err.find("--out " + rows + " is a measurement file"), std::string::npos) << acc.err;
  const auto cal = run_cli("calibrate " + q(rows) + " --hardware h100-sxm --out " + q(rows));
  EXPECT_EQ(cal.exit_code, 2) << cal.err;
  const std::string shard = write(dir / "shard.csv", "a,error,point\n1,,0\n");
  const auto merge = run_cli("merge " + q(shard) + " --out " + q(shard));
  EXPECT_EQ(merge.exit_code, 2) << merge.err;
  EXPECT_EQ(read_text(shard), "a,error,point\n1,,0\n");
  write(dir / "base.json", kScenario);
  const std::string sweep = write(dir / "sweep.json", R"({"base": "base.json", "grid": {"workload.seed": [1, 2]}})");
  const auto sw = run_cli("sweep " + q(sweep) + " --out " + q(dir / "o.csv") + " --pareto metrics.ttft_s.p99,metrics.cost.usd_per_hour --pareto-out " + q(dir / "o.csv"));
  EXPECT_EQ(sw.exit_code, 2) << sw.err;
  EXPECT_NE(sw.err.find("are the same file"), std::string::npos) << sw.err;
  const auto base = run_cli("sweep " + q(sweep) + " --out " + q(dir / "base.json"));
  EXPECT_EQ(base.exit_code, 2) << base.err;
  EXPECT_EQ(read_text((dir / "base.json").string()), kScenario);
}

// §1: a FIFO without a writer would block the open forever; a device never ends.
TEST(Trust, NonRegularInputsAreRefused) {
  const fs::path dir = folder();
  const fs::path fifo = dir / "fifo.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto v = run_cli("validate " + q(fifo));
  EXPECT_EQ(v.exit_code, 2) << v.err;
  EXPECT_NE(v.err.find("is a FIFO (named pipe), not a regular file"), std::string::npos) << v.err;
  const auto t = run_cli("run " + testing::source_path("tests/bad_inputs/support/trace_scenario.json") +
                         " --set workload.arrival.path=" + fifo.string());
  EXPECT_EQ(t.exit_code, 2) << t.err;
  EXPECT_NE(t.err.find("not a regular file"), std::string::npos) << t.err;
}

// §2: merging nothing is no merge: an empty file, a folder and /dev/zero are errors, and --out is not written.
TEST(Trust, MergeOfNothingIsAnError) {
  const fs::path dir = folder();
  const std::string empty = write(dir / "empty.csv", "");
  const fs::path out = dir / "merged.csv";
  for (const std::string& input : {empty, dir.string(), std::string("/dev/zero")}) {
    SCOPED_TRACE(input);
    const auto r = run_cli("merge " + q(input) + " --out " + q(out));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_FALSE(r.err.empty());
    EXPECT_FALSE(fs::exists(out));
  }
  EXPECT_NE(run_cli("merge " + q(empty) + " --out " + q(out)).err.find("no rows to merge"), std::string::npos);
}

// §1: values that CSV quotes (commas, quotes, line breaks) resume: the rerun keeps every row.
TEST(Trust, SweepOverQuotedValuesResumes) {
  const fs::path dir = folder();
  write(dir / "base.json", kScenario);
  const std::string sweep = write(dir / "sweep.json",
                                  R"({"base": "base.json", "grid": {"name": ["a,b", "say \"hi\"", "two\nlines", "plain"]}})");
  const fs::path out = dir / "rows.csv";
  const auto first = run_cli("sweep " + q(sweep) + " --out " + q(out) + " --jobs 1");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string rows = read_text(out.string());
  EXPECT_NE(rows.find("\n\"a,b\","), std::string::npos) << rows;
  EXPECT_NE(rows.find("\n\"say \"\"hi\"\"\","), std::string::npos) << rows;
  EXPECT_NE(rows.find("\n\"two\nlines\","), std::string::npos) << rows;  // RFC 4180: the line break stays quoted
  const auto again = run_cli("sweep " + q(sweep) + " --out " + q(out) + " --jobs 1");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(read_text(out.string()), rows);
  // Dropping the last row (an interrupted run) resumes too and runs only that point again.
  const std::string cut = rows.substr(0, rows.rfind('\n', rows.size() - 2) + 1);
  write(dir / ".rows.csv.partial", cut);
  const auto resumed = run_cli("sweep " + q(sweep) + " --out " + q(out) + " --jobs 1");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(read_text(out.string()), rows);
}

// §1: newlines in swept values round-trip: CSV keeps them inside the quoted field (RFC 4180), and a sweep
// killed after its first row, or in the middle of a row that spans lines, resumes to the same bytes.
TEST(Trust, SweepOverValuesWithNewlinesResumes) {
  const fs::path dir = folder();
  write(dir / "base.json", kScenario);
  const std::string sweep = write(dir / "sweep.json",
                                  R"({"base": "base.json", "grid": {"name": ["two\nlines", "plain", "cr\r\nlf", "end\n"]}})");
  for (const std::string file : {"rows.csv", "rows.jsonl"}) {
    SCOPED_TRACE(file);
    const fs::path out = dir / file;
    const auto whole = run_cli("sweep " + q(sweep) + " --out " + q(out) + " --jobs 1");
    ASSERT_EQ(whole.exit_code, 0) << whole.err;
    const std::string rows = read_text(out.string());
    const bool csv = file.ends_with(".csv");
    // Point 0's row, written by hand: its name as RFC 4180 quotes it, or as JSON escapes it.
    const std::string first_value = csv ? "\n\"two\nlines\"," : "{\"name\":\"two\\nlines\",";
    ASSERT_EQ(rows.find(first_value), csv ? rows.find('\n') : 0) << rows;
    if (csv) {
      EXPECT_NE(rows.find("\n\"cr\r\nlf\","), std::string::npos) << rows;
    }
    const std::size_t first_row_end = rows.find(",\"point\":0}\n") != std::string::npos
                                          ? rows.find(",\"point\":0}\n") + 12
                                          : rows.find(",0\n") + 3;
    fs::remove(out);
    // Killed after the header and the first row; then killed half way through the row that spans lines.
    for (const std::string& kept : {rows.substr(0, first_row_end), rows.substr(0, rows.find("cr") + 4)}) {
      write(dir / ("." + file + ".partial"), kept);
      const auto resumed = run_cli("sweep " + q(sweep) + " --out " + q(out) + " --jobs 1");
      ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
      EXPECT_EQ(read_text(out.string()), rows);
      fs::remove(out);
    }
    // A finished file resumes as it is, and merge reads its multi-line rows back whole.
    write(out.string(), rows);
    const auto again = run_cli("sweep " + q(sweep) + " --out " + q(out) + " --jobs 1");
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(read_text(out.string()), rows);
    const fs::path merged = dir / ("merged-" + file);
    const auto merge = run_cli("merge " + q(out) + " --out " + q(merged));
    ASSERT_EQ(merge.exit_code, 0) << merge.err;
    EXPECT_EQ(read_text(merged.string()), rows);
  }
}

// §1: a second sweep into the same --out while the first runs is refused at start, the first's rows kept.
TEST(Trust, ASecondSweepIntoTheSameOutIsRefused) {
  const fs::path dir = folder();
  write(dir / "base.json", kScenario);
  const std::string sweep = write(dir / "sweep.json", R"({"base": "base.json", "grid": {"workload.seed": [1, 2]}})");
  const fs::path partial = dir / ".rows.csv.partial";
  const int fd = ::open(partial.c_str(), O_RDWR | O_CREAT, 0644);  // a running sweep holds this lock
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  ASSERT_EQ(::write(fd, "x\n", 2), 2);
  const auto r = run_cli("sweep " + q(sweep) + " --out " + q(dir / "rows.csv"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("another sweep is writing"), std::string::npos) << r.err;
  EXPECT_EQ(read_text(partial.string()), "x\n");
  ::close(fd);
  const auto after = run_cli("sweep " + q(sweep) + " --out " + q(dir / "rows2.csv"));
  EXPECT_EQ(after.exit_code, 0) << after.err;
}

// §1: SIGTERM or SIGINT while `run --requests-out` writes removes the hidden temporary file.
TEST(Trust, AKilledRunLeavesNoTemporaryFile) {
  const fs::path dir = folder();
  const std::string scenario = write(dir / "big.json", R"({"name": "big", "model": "llama-3.2-1b", "hardware": "h100-sxm",
    "workload": {"requests": 400000, "seed": 1, "arrival": {"process": "offline"}, "input_tokens": 16, "output_tokens": 2}})");
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(sig);
    const fs::path out = dir / "requests.csv";
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::execl(testing::binary_path().c_str(), "infersim", "run", scenario.c_str(), "--requests-out", out.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Wait for the hidden temporary file to appear (the simulation comes first), then signal.
    bool seen = false;
    for (int i = 0; i < 600000 && !seen; ++i) {
      for (const auto& e : fs::directory_iterator(dir)) seen = seen || e.path().filename().string().starts_with(".requests.csv.tmp-");
      if (!seen) ::usleep(100);
      int status = 0;
      if (!seen && ::waitpid(child, &status, WNOHANG) == child) break;  // finished before we saw it
    }
    if (seen) ::kill(child, sig);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (!seen) GTEST_SKIP() << "the run finished before its temporary file was seen";
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig);
    for (const auto& e : fs::directory_iterator(dir)) {
      EXPECT_FALSE(e.path().filename().string().starts_with(".requests.csv.tmp-")) << e.path();
    }
    EXPECT_FALSE(fs::exists(out));
  }
}

// §4: `run -` reads the scenario from standard input; relative paths in it are from the working folder.
TEST(Trust, RunReadsTheScenarioFromStandardInput) {
  const fs::path dir = folder();
  const std::string scenario = write(dir / "s.json", kScenario);
  const auto r = run_cli("run - --format json < " + q(scenario));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["scenario"]["name"], "trust");
  const auto bad = run_cli("run - < /dev/null");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("<stdin>: the file is empty"), std::string::npos) << bad.err;
}

// §4: the cost line leads with the all-in cost per million output tokens (total cost / output tokens), the
// figure API prices are compared with; the phase split follows, labelled as such.
TEST(Trust, TheCostLineLeadsWithTheAllInFigure) {
  const fs::path dir = folder();
  const std::string scenario = write(dir / "s.json", kScenario);
  const auto json = run_cli("run " + q(scenario) + " --format json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto cost = nlohmann::json::parse(json.out)["metrics"]["cost"];
  const double all_in = cost["total_usd"].get<double>() /
                        nlohmann::json::parse(json.out)["metrics"]["throughput"]["output_tokens_per_s"].get<double>() /
                        nlohmann::json::parse(json.out)["metrics"]["simulated_duration_s"].get<double>() * 1e6;
  char expected[64];
  std::snprintf(expected, sizeof expected, "cost: $%.4g per million output tokens all-in", all_in);
  const auto text = run_cli("run " + q(scenario));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find(expected), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\n  phase split per million tokens: $"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\n  price of h100-sxm: $"), std::string::npos) << text.out;  // with its basis and date
  EXPECT_NE(text.out.find(" per chip-hour, profile: "), std::string::npos) << text.out;
  const auto unpriced = run_cli("run " + q(scenario) + " --set hardware=" + testing::source_path("configs/hardware/h100-sxm.json") +
                                " --set pricing.usd_per_chip_hour=null");
  // Whether or not a price can be removed this way, no cost line may read $0.
  EXPECT_EQ(unpriced.out.find("cost: $0 "), std::string::npos) << unpriced.out;
}

// A block-scaled FP8 model on a chip with no measured block-scaled GEMM figure is priced as per-tensor FP8, which
// flatters its shallow GEMMs: the report says so. On a Hopper profile (which has the figure) it does not.
TEST(Trust, BlockScaledWeightsOnAChipWithoutTheFigureWarn) {
  const std::string base = "run " + q(testing::source_path("configs/scenarios/deepseek-v3-8xh200.json")) +
                           " --format json --set workload.requests=20";
  const auto b200 = run_cli(base + " --set hardware=b200");
  ASSERT_EQ(b200.exit_code, 0) << b200.err;
  EXPECT_NE(nlohmann::json::parse(b200.out)["warnings"].dump().find(
                "deepseek-v3's FP8 weights are block-scaled, but b200 has no measured block-scaled GEMM figure"),
            std::string::npos) << b200.err;
  const auto h200 = run_cli(base);
  ASSERT_EQ(h200.exit_code, 0) << h200.err;
  EXPECT_EQ(nlohmann::json::parse(h200.out)["warnings"].dump().find("block-scaled"), std::string::npos);
}

// §4: a scenario that runs but is unusual says so on stderr and in the report's `warnings`.
TEST(Trust, UnusualScenariosWarn) {
  const fs::path dir = folder();
  const std::string scenario = write(dir / "s.json", kScenario);
  // A price of the scenario's own, so that no profile price can add a warning here.
  const std::string priced = " --set pricing.usd_per_chip_hour=3.99";
  const auto tp16 = run_cli("run " + q(scenario) + priced + " --format json --set model=llama-3.1-70b --set deployment.tensor_parallel=16");
  ASSERT_EQ(tp16.exit_code, 0) << tp16.err;
  const auto warnings = nlohmann::json::parse(tp16.out)["warnings"];
  ASSERT_EQ(warnings.size(), 1u) << warnings;
  EXPECT_NE(warnings[0].get<std::string>().find("tensor_parallel 16 spans 2 scale-up domains of 8 h100-sxm chips"), std::string::npos);
  EXPECT_NE(tp16.err.find("warning: tensor_parallel 16 spans 2"), std::string::npos) << tp16.err;
  // llama-3.2-1b's context is 131,072 tokens; a 200,000-token prompt does not fit it, nor a budget of 16.
  const auto long_prompt = run_cli("run " + q(scenario) + " --format json --set workload.input_tokens=200000 "
                                   "--set workload.requests=2 --set scheduler.max_batched_tokens=16 "
                                   "--set scheduler.policy=continuous");  // the engine's default chunks prompts
  ASSERT_EQ(long_prompt.exit_code, 0) << long_prompt.err;
  const std::string w = nlohmann::json::parse(long_prompt.out)["warnings"].dump();
  EXPECT_NE(w.find("a request holds 200016 tokens (input + output), more than llama-3.2-1b's context window of 131072"),
            std::string::npos) << w;
  EXPECT_NE(w.find("scheduler.max_batched_tokens 16 is smaller than a prompt of 200000 tokens"), std::string::npos) << w;
  // A draft model of another family: Llama 2's 32,000-token vocabulary against Llama 3.2's 128,256.
  const auto draft = run_cli("run " + q(scenario) + " --format json --set speculative.method=draft_model "
                             "--set speculative.draft_model=llama-2-7b --set speculative.num_speculative_tokens=2 "
                             "--set speculative.acceptance_rate=0.5");
  ASSERT_EQ(draft.exit_code, 0) << draft.err;
  EXPECT_NE(nlohmann::json::parse(draft.out)["warnings"].dump().find("the draft model llama-2-7b has a vocabulary of 32000 tokens and llama-3.2-1b of 128256"),
            std::string::npos) << draft.out.substr(0, 300);
  const auto plain = run_cli("run " + q(scenario) + priced + " --format json");
  EXPECT_EQ(nlohmann::json::parse(plain.out)["warnings"], nlohmann::json::array());
  // gpt-oss-120b nearly fills one H100 (65.2 GB of MXFP4 experts and bf16 weights, 69.2 GB in the layout vllm-v1's
  // Hopper kernels give the experts, and 1.75 GB of workspace, of the 77 GB that 0.9 of its 85.5 GB allows: the
  // cache is (77 - 69.2 - 1.75) / 77 = 7.9% of it) on the default engine, vllm-v1, which captures CUDA graphs: the
  // cache's small remainder warns. On two H100s each holds half the weights and nothing is said.
  const auto full = run_cli("run " + q(scenario) + priced + " --format json --set model=gpt-oss-120b");
  ASSERT_EQ(full.exit_code, 0) << full.err;
  const std::string full_w = nlohmann::json::parse(full.out)["warnings"].dump();
  EXPECT_NE(full_w.find("a chip may use (7.9%)"), std::string::npos) << full_w;
  EXPECT_NE(full_w.find("for the KV cache; engine vllm-v1 also holds memory this model does not price"), std::string::npos) << full_w;
  const auto two = run_cli("run " + q(scenario) + priced + " --format json --set model=gpt-oss-120b --set deployment.tensor_parallel=2");
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_EQ(nlohmann::json::parse(two.out)["warnings"], nlohmann::json::array()) << two.out.substr(0, 300);
  // Poisson arrivals far above what one H100 serves of 2,048-token prompts (about 117 requests/s): the queue
  // grows through the run. At 50/s, below it, nothing is said.
  const std::string load = " --format json --set workload.requests=400 --set workload.input_tokens=2048";
  const auto over = run_cli("run " + q(scenario) + priced + load + " --set workload.arrival.rate_per_s=1000");
  ASSERT_EQ(over.exit_code, 0) << over.err;
  const auto over_w = nlohmann::json::parse(over.out)["warnings"];
  ASSERT_EQ(over_w.size(), 1u) << over_w;
  EXPECT_NE(over_w[0].get<std::string>().find("the queue grew through the run"), std::string::npos) << over_w;
  EXPECT_NE(over_w[0].get<std::string>().find("lower workload.arrival.rate_per_s"), std::string::npos) << over_w;
  const auto under = run_cli("run " + q(scenario) + priced + load + " --set workload.arrival.rate_per_s=50");
  EXPECT_EQ(nlohmann::json::parse(under.out)["warnings"], nlohmann::json::array()) << under.err;
  // The statistic is in the report's metrics too (a sweep's column): above the warning's 0.05 when
  // overloaded, below it at 50/s; absent for closed-loop clients.
  EXPECT_GE(nlohmann::json::parse(over.out)["metrics"]["queue_growth"].get<double>(), 0.05);
  EXPECT_LT(nlohmann::json::parse(under.out)["metrics"]["queue_growth"].get<double>(), 0.05);
  // Against the closed form for a FIFO queue past capacity: growth = lambda / mu - 1, with mu the rate the
  // system serves when saturated (its throughput here) and lambda the offered 300/s.
  const auto sat = nlohmann::json::parse(run_cli("run " + q(scenario) + priced + load + " --set workload.arrival.rate_per_s=300").out);
  const double mu = sat["metrics"]["throughput"]["requests_per_s"].get<double>();
  ASSERT_LT(mu, 200.0);  // saturated: well under the 300/s offered
  const double expected = 300.0 / mu - 1.0;
  EXPECT_NEAR(sat["metrics"]["queue_growth"].get<double>(), expected, 0.1 * expected);
  // Closed-loop clients wait for their answers: their queue cannot outgrow the system, and is not judged.
  const auto closed = run_cli("run " + q(scenario) + priced + load +
                              " --set workload.arrival='{\"process\": \"closed_loop\", \"concurrency\": 400}'");
  ASSERT_EQ(closed.exit_code, 0) << closed.err;
  EXPECT_EQ(nlohmann::json::parse(closed.out)["warnings"], nlohmann::json::array());
  EXPECT_FALSE(nlohmann::json::parse(closed.out)["metrics"].contains("queue_growth"));
}

// §4: prices decide plans. A cost from a profile price that is undated, or not on-demand, says so, naming the
// profile and the basis; a dated on-demand price and a scenario's own price say nothing.
TEST(Trust, UndatedOrNotOnDemandPricesWarn) {
  const fs::path dir = folder();
  const std::string scenario = write(dir / "s.json", kScenario);
  auto warnings_of = [&](const std::string& args) {
    const auto r = run_cli("run " + q(scenario) + " --format json " + args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out)["warnings"];
  };
  // h100-sxm: Lambda's on-demand price, read 2026-09-20: nothing to say.
  EXPECT_EQ(warnings_of(""), nlohmann::json::array());
  // The same profile with the date it had when its price came from a SkyPilot snapshot that records none.
  auto undated = nlohmann::json::parse(read_text(testing::source_path("configs/hardware/h100-sxm.json")));
  undated["price"]["as_of"] = "undated: SkyPilot catalog snapshot, scrape date not recorded in the file";
  const auto h100 = warnings_of("--set hardware=" + q(write(dir / "h100-undated.json", undated.dump())));
  ASSERT_EQ(h100.size(), 1u) << h100;
  const std::string w = h100[0].get<std::string>();
  EXPECT_NE(w.find("the cost comes from h100-sxm's profile price ($3.99 per chip-hour, basis: on-demand, per GPU-hour: "
                   "Lambda gpu_8x_h100_sxm5 at $31.92/hr / 8 GPUs"),
            std::string::npos) << w;
  EXPECT_NE(w.find("which is undated (as_of: \"undated: SkyPilot catalog snapshot"), std::string::npos) << w;
  // h200-sxm: an AWS Capacity Block, reserved, and its page gives only the date its rates end.
  const auto h200 = warnings_of("--set hardware=h200-sxm").dump();
  EXPECT_NE(h200.find("h200-sxm's profile price ($5.408 per chip-hour, basis: reserved (AWS EC2 Capacity Block)"), std::string::npos) << h200;
  EXPECT_NE(h200.find("which is reserved, not on-demand"), std::string::npos) << h200;
  EXPECT_NE(h200.find("which is undated (as_of: \\\"rates in effect until 2025-01-01\\\")"), std::string::npos) << h200;
  // apple-m2-ultra: dated (2023-06), but a purchase amortised over 3 years, not a rental.
  const auto mac = warnings_of("--set hardware=apple-m2-ultra --set deployment.activation_dtype=fp16 --set deployment.weight_dtype=fp16");
  ASSERT_EQ(mac.size(), 1u) << mac;
  EXPECT_NE(mac[0].get<std::string>().find("which is purchase amortisation, not on-demand"), std::string::npos) << mac;
  // b300: on-demand, dated 2026-10-01; a scenario's own price: nothing to say.
  EXPECT_EQ(warnings_of("--set hardware=b300"), nlohmann::json::array());
  EXPECT_EQ(warnings_of("--set hardware=h200-sxm --set pricing.usd_per_chip_hour=4"), nlohmann::json::array());
}

}  // namespace
}  // namespace infersim

namespace infersim {
namespace {

// §3: the work of a run is estimated before it starts; past the limit it is refused (exit 2, naming the keys
// and the limit), and INFERSIM_MAX_SIMULATED_TOKENS moves the limit either way.
TEST(Trust, WorkBeyondTheLimitIsRefusedBeforeItStarts) {
  const fs::path dir = folder();
  write(dir / "s.json", kScenario);  // 20 requests x (128 + 16) tokens = 2,880 tokens
  // run_cli starts with the binary, so the environment is given through the shell here.
  const std::string base = "INFERSIM_MAX_SIMULATED_TOKENS=";
  const auto refused = std::system(("cd " + q(dir) + " && " + base + "2000 " + testing::binary_path() + " run s.json >/dev/null 2>err.txt").c_str());
  EXPECT_EQ(WEXITSTATUS(refused), 2);
  EXPECT_NE(read_text((dir / "err.txt").string()).find("workload.requests 20 x about 144 tokens each (workload.input_tokens + output_tokens) = 2.88e+03 tokens to simulate, beyond the limit of 2e+03"),
            std::string::npos) << read_text((dir / "err.txt").string());
  const auto allowed = std::system(("cd " + q(dir) + " && " + base + "3000 " + testing::binary_path() + " run s.json >/dev/null 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(allowed), 0);
  const auto bad = std::system(("cd " + q(dir) + " && " + base + "lots " + testing::binary_path() + " run s.json >/dev/null 2>err.txt").c_str());
  EXPECT_EQ(WEXITSTATUS(bad), 2);
  EXPECT_NE(read_text((dir / "err.txt").string()).find("INFERSIM_MAX_SIMULATED_TOKENS=lots: expected a positive number"), std::string::npos);
}

}  // namespace
}  // namespace infersim

namespace infersim {
namespace {

// §4: `list hardware` shows where each price came from and when; a chip without one says so, not $0.
TEST(Trust, ListHardwareShowsEachPricesDateAndSource) {
  const auto json = run_cli("list hardware --format json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  std::size_t unpriced = 0;
  for (const auto& hw : nlohmann::json::parse(json.out)) {
    SCOPED_TRACE(hw["name"].get<std::string>());
    ASSERT_TRUE(hw.contains("price"));
    if (hw["usd_per_chip_hour"].is_null()) {
      ++unpriced;
    } else {
      EXPECT_FALSE(hw["price"]["as_of"].get<std::string>().empty());  // the loader requires a date with a price
    }
  }
  const auto table = run_cli("list hardware");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("price_as_of"), std::string::npos);
  std::size_t said = 0;
  for (auto at = table.out.find("no price"); at != std::string::npos; at = table.out.find("no price", at + 1)) ++said;
  EXPECT_EQ(said, unpriced);
}

}  // namespace
}  // namespace infersim

namespace infersim {
namespace {

// §3: an empirical token distribution holds at most 10,000,000 values (a list of 1e8 needed 9 GB).
TEST(Trust, EmpiricalListsAreBounded) {
  const fs::path dir = folder();
  {
    std::ofstream counts(dir / "counts.txt");
    std::string lines;
    for (int i = 0; i < 1'000'000; ++i) lines += "7\n";
    for (int i = 0; i < 10; ++i) counts << lines;
    counts << "7\n";  // 10,000,001
  }
  const std::string scenario = write(dir / "s.json", R"({"name": "e", "model": "llama-3.2-1b", "hardware": "h100-sxm",
    "workload": {"requests": 2, "arrival": {"process": "offline"},
                 "input_tokens": {"distribution": "empirical", "path": "counts.txt"}, "output_tokens": 4}})");
  const auto r = run_cli("validate " + q(scenario));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("/workload/input_tokens/path"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("counts.txt holds more than 10000000 token counts (the limit)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace infersim

namespace infersim {
namespace {

// §4: the sizing line of an SRAM-only chip says when tensor parallelism holds the KV heads several times over
// (Llama-2-70B has 8 KV heads; at tensor_parallel 16 each is on two chips), so that the figure does not read
// as the KV cache of the requests alone.
TEST(Trust, SizingSaysWhenKvHeadsAreReplicated) {
  const auto r = run_cli("run " + testing::source_path("configs/scenarios/groq-lpu-llama-2-70b.json") + " --set workload.requests=20");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tensor_parallel 16 x pipeline_parallel 47"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("each of the 8 KV heads held 2 times over by tensor_parallel 16"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace infersim
