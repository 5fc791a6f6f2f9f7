#pragma once
// Reading text files line by line, bounded: a line longer than limits::kMaxLineBytes or holding a NUL byte
// is a ConfigError naming "file:line" (binary data, or the wrong file such as /dev/zero), never an unbounded
// read. Used for traces and token-count files.

#include <istream>
#include <string>

namespace infersim {

class LineReader {
 public:
  /// `label` names the file in messages; `what` says what the file should be ("a CSV or JSONL trace").
  LineReader(std::istream& in, std::string label, std::string what)
      : buf_(in.rdbuf()), label_(std::move(label)), what_(std::move(what)) {}
  /// The next line, without its "\n" (or "\r\n"); false at the end of the input.
  bool next(std::string& line);
  /// 1-based number of the line last returned.
  std::size_t number() const { return number_; }
  /// Throw ConfigError naming "label:number".
  [[noreturn]] void fail(const std::string& message) const;

 private:
  std::streambuf* buf_;
  std::string label_, what_;
  std::size_t number_ = 0;
};

}  // namespace infersim
