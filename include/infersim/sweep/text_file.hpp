#pragma once
// Files of lines: reading them from a byte offset, and writing them atomically (a temporary file beside the
// target, renamed over it when complete, so that a reader never sees half a file).

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>

namespace infersim::sweep {

/// The whole file; ConfigError naming it when it cannot be read.
std::string read_text_file(const std::string& path);

/// Lines of a file between two byte offsets.
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
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ifstream in_;
  std::uint64_t offset_, end_;
  bool partial_ = false;
};

/// A file written to `path.tmp<pid>` and renamed to `path` by commit(); removed if never committed.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();
  void write(std::string_view text);
  void commit();

 private:
  std::string path_, tmp_;
  std::FILE* file_ = nullptr;
};

}  // namespace infersim::sweep
