#pragma once
// Files of lines: reading them whole or from a byte offset (writing atomically: core/atomic_file.hpp).

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>

namespace infersim::sweep {

/// The whole file; ConfigError naming it when it cannot be read.
std::string read_text_file(const std::string& path);

/// Lines of a file (or CSV records: read_csv_records()) between two byte offsets.
class LineReader {
 public:
  /// Throws UsageError when the file cannot be opened.
  explicit LineReader(const std::string& path, std::uint64_t begin = 0,
                      std::uint64_t end = std::numeric_limits<std::uint64_t>::max());
  /// The next complete line, without its '\n'. False at `end`, or at a last line that has no '\n' (an
  /// interrupted write), which partial() then reports.
  bool next(std::string& line);
  /// Byte offset of the next line.
  std::uint64_t offset() const { return offset_; }
  bool partial() const { return partial_; }
  /// From now on, read CSV records: a line break inside a quoted field (RFC 4180) does not end the record,
  /// which next() returns whole, its line breaks kept.
  void read_csv_records() { csv_ = true; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ifstream in_;
  std::uint64_t offset_, end_;
  bool partial_ = false;
  bool csv_ = false;
};

}  // namespace infersim::sweep
