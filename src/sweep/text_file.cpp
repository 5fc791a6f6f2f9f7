#include "infersim/sweep/text_file.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>


#include "infersim/core/error.hpp"
#include "infersim/core/file_paths.hpp"

namespace infersim::sweep {

std::string read_text_file(const std::string& path) {
  require_regular_file(path, "a text file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, "", "cannot open the file (does it exist and is it readable?)");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

LineReader::LineReader(const std::string& path, std::uint64_t begin, std::uint64_t end)
    : path_(path), in_(path, std::ios::binary), offset_(begin), end_(end) {
  require_regular_file(path, "a file of sweep rows");
  if (!in_) throw UsageError("cannot open " + path);
  if (begin > 0) in_.seekg(static_cast<std::streamoff>(begin));
}

bool LineReader::next(std::string& line) {
  if (offset_ >= end_ || !std::getline(in_, line)) return false;
  if (in_.eof()) {  // no '\n' after this line: it was cut short
    partial_ = !line.empty();
    return false;
  }
  std::uint64_t size = line.size() + 1;
  // A CSV record goes on while a quoted field is open: an odd number of quotes so far (a quote inside a
  // quoted field is doubled, and an unquoted field holds none).
  auto quotes = [](const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '"')); };
  std::size_t open = csv_ ? quotes(line) : 0;
  std::string more;
  while (open % 2 == 1) {
    if (offset_ + size >= end_ || !std::getline(in_, more) || in_.eof()) {  // the record was cut short
      partial_ = true;
      return false;
    }
    line += '\n';
    line += more;
    size += more.size() + 1;
    open += quotes(more);
  }
  offset_ += size;
  return true;
}

}  // namespace infersim::sweep
