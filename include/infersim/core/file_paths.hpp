#pragma once
// The files a command reads and writes, checked before anything is read or written: an input must be a
// regular file (a FIFO blocks forever, a device such as /dev/zero never ends), and no output may be the same
// file (same device and inode, or the same resolved path when it does not exist yet) as an input or as
// another output, which writing would silently destroy.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace infersim {

/// "a folder", "a FIFO (named pipe)", "a character device", ... when `path` exists and is not a regular file
/// (symbolic links followed); empty when it is one or does not exist (opening it then says so).
std::string non_regular_kind(const std::string& path);

/// ConfigError naming `path` when it exists and is not a regular file: "is a FIFO (named pipe), not a
/// regular file; expected WHAT".
void require_regular_file(const std::string& path, std::string_view what);

/// Whether two paths name the same file: the same device and inode when both exist, else the same absolute,
/// normalized path (symbolic links resolved as far as they exist).
bool same_file(const std::string& a, const std::string& b);

/// A path with the option or role that names it ("--requests-out", "the scenario").
struct NamedPath {
  std::string role;
  std::string path;
};

/// UsageError when an output is the same file as an input or as another output (empty paths are skipped).
void refuse_overwriting_inputs(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs);

}  // namespace infersim
