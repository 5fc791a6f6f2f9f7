// Output files are written atomically (write to a temporary file beside the target, flush, rename): a run
// that fails, or a process killed while writing, never leaves a half-written file, and an existing file is
// replaced only by a complete new one.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "infersim/core/atomic_file.hpp"
#include "infersim/core/error.hpp"
#include "infersim/scenario/report.hpp"
#include "support/cli.hpp"

namespace infersim {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::run_cli;
using testing::write_temp;

const char* kScenario = R"({"model": "llama-3.2-1b", "hardware": "h100-sxm",
  "workload": {"requests": 50, "arrival": {"process": "poisson", "rate_per_s": 20},
               "input_tokens": 100, "output_tokens": 20}})";

/// A fresh, empty folder for one test.
fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("atomic_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::size_t files_in(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

TEST(AtomicWrite, ReplacesAnExistingFileWhole) {
  const fs::path dir = fresh_dir("replace");
  const std::string target = (dir / "out.csv").string();
  std::ofstream(target) << std::string(10000, 'x');
  write_file_atomically(target, "a,b\n1,2\n");
  EXPECT_EQ(read_text(target), "a,b\n1,2\n");
  EXPECT_EQ(files_in(dir), 1u);  // no temporary file left behind
}

TEST(AtomicWrite, AWriterThatFailsLeavesTheOldFile) {
  const fs::path dir = fresh_dir("throw");
  const std::string target = (dir / "out.csv").string();
  std::ofstream(target) << "old,complete\n";
  EXPECT_THROW(write_file_atomically(target,
                                               [](std::ostream& os) {
                                                 os << "new,half";
                                                 throw std::runtime_error("interrupted");
                                               }),
               std::runtime_error);
  EXPECT_EQ(read_text(target), "old,complete\n");
  EXPECT_EQ(files_in(dir), 1u);
}

TEST(AtomicWrite, AProcessKilledWhileWritingLeavesTheOldFile) {
  const fs::path dir = fresh_dir("kill");
  const std::string target = (dir / "rows.csv").string();
  std::ofstream(target) << "point,metric\n1,0.5\n";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    write_file_atomically(target, [](std::ostream& os) {
      os << "point,metric\n1,0.5\n2,0.";  // half a row ...
      os.flush();
      ::kill(::getpid(), SIGKILL);  // ... and the process dies
    });
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(read_text(target), "point,metric\n1,0.5\n");  // the old file, whole
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "rows.csv" || name.starts_with(".rows.csv.tmp-")) << name;  // at most a hidden leftover
  }
}

TEST(AtomicWrite, AnUnwritableTargetIsAUsageErrorNamingIt) {
  try {
    write_file_atomically("/nonexistent-dir/out.csv", "x");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write /nonexistent-dir/out.csv"), std::string::npos) << e.what();
  }
  const fs::path dir = fresh_dir("dir");
  EXPECT_THROW(write_file_atomically(dir.string(), "x"), UsageError);  // a folder is not replaced
  EXPECT_TRUE(fs::is_directory(dir));
}

TEST(AtomicWrite, RunOutputsToAMissingFolderExitTwoAndWriteNothing) {
  const auto scenario_path = write_temp("atomic_run.json", kScenario);
  const fs::path dir = fresh_dir("run");
  const std::string missing = (dir / "no-such-folder" / "requests.csv").string();
  const auto r = run_cli("run " + scenario_path + " --requests-out " + missing);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("cannot write " + missing), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(missing));
  EXPECT_EQ(files_in(dir), 0u);
}

TEST(AtomicWrite, RunReplacesOutputsOnlyOnSuccess) {
  const auto scenario_path = write_temp("atomic_run2.json", kScenario);
  const fs::path dir = fresh_dir("run2");
  const std::string requests = (dir / "requests.csv").string();
  std::ofstream(requests) << "previous run\n";
  // A failing run (bad --set) leaves the previous output alone ...
  const auto bad = run_cli("run " + scenario_path + " --set workload.requests=-1 --requests-out " + requests);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(read_text(requests), "previous run\n");
  // ... a successful one replaces it with all its rows.
  const auto good = run_cli("run " + scenario_path + " --requests-out " + requests);
  ASSERT_EQ(good.exit_code, 0) << good.err;
  const std::string text = read_text(requests);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 51);  // header + 50 rows
  EXPECT_EQ(files_in(dir), 1u);
}

}  // namespace
}  // namespace infersim
