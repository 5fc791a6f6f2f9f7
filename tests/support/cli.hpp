#pragma once
// Running the infersim executable from tests.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "support/paths.hpp"

namespace infersim::testing {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline CliResult run_cli(const std::string& args) {
  static int counter = 0;
  const std::string base = ::testing::TempDir() + "/cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  const std::string cmd = binary_path() + " " + args + " >" + base + ".out 2>" + base + ".err";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(base + ".out");
  r.err = read_text(base + ".err");
  return r;
}

/// A file in the temporary folder, named after the running test as well: ctest runs tests in parallel
/// processes, and two tests writing "rows.json" at once would read each other's half-written files.
inline std::string write_temp(const std::string& name, const std::string& content) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string prefix = test ? std::string(test->test_suite_name()) + "." + test->name() + "." : "";
  const std::string path = ::testing::TempDir() + "/" + prefix + name;
  std::ofstream(path) << content;
  return path;
}

}  // namespace infersim::testing
