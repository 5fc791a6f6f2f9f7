#include "infersim/core/file_paths.hpp"

#include <filesystem>
#include <system_error>

#include <sys/stat.h>

#include "infersim/core/error.hpp"

namespace infersim {

std::string non_regular_kind(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return {};
  if (S_ISDIR(st.st_mode)) return "a folder";
  if (S_ISFIFO(st.st_mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(st.st_mode)) return "a character device";
  if (S_ISBLK(st.st_mode)) return "a block device";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  return "not a regular file";
}

void require_regular_file(const std::string& path, std::string_view what) {
  const std::string kind = non_regular_kind(path);
  if (!kind.empty()) {
    throw ConfigError(path, "", "is " + kind + ", not a regular file; expected " + std::string(what));
  }
}

namespace {
std::string resolved(const std::string& path) {
  std::error_code ec;
  const auto abs = std::filesystem::absolute(path, ec);
  const auto canonical = std::filesystem::weakly_canonical(ec ? std::filesystem::path(path) : abs, ec);
  return (ec ? abs : canonical).lexically_normal().string();
}
}  // namespace

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  const bool a_exists = ::stat(a.c_str(), &sa) == 0, b_exists = ::stat(b.c_str(), &sb) == 0;
  if (a_exists && b_exists) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  if (a_exists != b_exists) return false;
  return resolved(a) == resolved(b);
}

void refuse_overwriting_inputs(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs) {
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    const NamedPath& out = outputs[o];
    if (out.path.empty()) continue;
    for (const NamedPath& in : inputs) {
      if (!in.path.empty() && same_file(out.path, in.path)) {
        throw UsageError(out.role + " " + out.path + " is " + in.role + " (" + in.path +
                         "), which this command reads; writing it would destroy it: give another path");
      }
    }
    for (std::size_t p = 0; p < o; ++p) {
      if (!outputs[p].path.empty() && same_file(out.path, outputs[p].path)) {
        throw UsageError(out.role + " " + out.path + " and " + outputs[p].role + " " + outputs[p].path +
                         " are the same file; one would overwrite the other: give two paths");
      }
    }
  }
}

}  // namespace infersim
