#include "infersim/core/line_reader.hpp"

#include "infersim/core/error.hpp"
#include "infersim/core/limits.hpp"

namespace infersim {

bool LineReader::next(std::string& line) {
  using traits = std::char_traits<char>;
  line.clear();
  if (!buf_) return false;
  int c = buf_->sbumpc();
  if (c == traits::eof()) return false;
  ++number_;
  for (; c != traits::eof() && c != '\n'; c = buf_->sbumpc()) {
    if (c == 0) fail("binary data (a NUL byte): expected " + what_);
    if (line.size() >= limits::kMaxLineBytes) {
      fail("line longer than " + std::to_string(limits::kMaxLineBytes) + " bytes: expected " + what_);
    }
    line += static_cast<char>(c);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

void LineReader::fail(const std::string& message) const {
  throw ConfigError(label_ + ":" + std::to_string(number_), "", message);
}

}  // namespace infersim
