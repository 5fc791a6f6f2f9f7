// The bad-input corpus: every file in tests/bad_inputs/ is checked by `infersim validate` (or the command
// its entry names) and must exit with the expected code and a message naming the place.
// tests/bad_inputs/expected.json: {"FILE": {"exit": 2, "contains": ["fragment", ...], "not_contains": [...],
// "command": "validate {}"}};
// in "command", {} is the file and {dir} the folder tests/bad_inputs (support/ holds files the commands use).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "support/paths.hpp"

namespace infersim {
namespace {

TEST(BadInputs, EveryFileFailsWithItsMessage) {
  const std::string dir = testing::source_path("tests/bad_inputs");
  std::ifstream in(dir + "/expected.json");
  ASSERT_TRUE(in) << "missing " << dir << "/expected.json";
  const auto expected = nlohmann::json::parse(in);
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name == "expected.json" || name == "README.md" || entry.is_directory()) continue;
    ++files;
    SCOPED_TRACE(name);
    ASSERT_TRUE(expected.contains(name)) << "no expectation for " << name;
    const auto& e = expected[name];
    const std::string command = e.value("command", std::string("validate {}"));
    std::string args = command;
    for (auto pos = args.find("{dir}"); pos != std::string::npos; pos = args.find("{dir}")) args.replace(pos, 5, "'" + dir + "'");
    const auto pos = args.find("{}");
    if (pos != std::string::npos) args.replace(pos, 2, "'" + entry.path().string() + "'");
    const std::string err_path = ::testing::TempDir() + "/bad_input_" + name + ".err";
    const std::string cmd = testing::binary_path() + " " + args + " >/dev/null 2>'" + err_path + "'";
    const int status = std::system(cmd.c_str());
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream err_in(err_path);
    const std::string err((std::istreambuf_iterator<char>(err_in)), {});
    EXPECT_EQ(code, e.value("exit", 2)) << err;
    for (const auto& fragment : e["contains"]) {
      EXPECT_NE(err.find(fragment.get<std::string>()), std::string::npos) << "missing \"" << fragment << "\" in: " << err;
    }
    for (const auto& fragment : e.value("not_contains", nlohmann::json::array())) {  // a spurious second error
      EXPECT_EQ(err.find(fragment.get<std::string>()), std::string::npos) << "unexpected \"" << fragment << "\" in: " << err;
    }
  }
  EXPECT_EQ(files, expected.size()) << "expected.json lists files that do not exist";
}

}  // namespace
}  // namespace infersim
