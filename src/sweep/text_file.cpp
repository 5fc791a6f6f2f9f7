#include "infersim/sweep/text_file.hpp"

#include <filesystem>
#include <sstream>

#include <unistd.h>

#include "infersim/core/error.hpp"

namespace infersim::sweep {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, "", "cannot open the file (does it exist and is it readable?)");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

LineReader::LineReader(const std::string& path, std::uint64_t begin, std::uint64_t end)
    : path_(path), in_(path, std::ios::binary), offset_(begin), end_(end) {
  if (!in_) throw UsageError("cannot open " + path);
  if (begin > 0) in_.seekg(static_cast<std::streamoff>(begin));
}

bool LineReader::next(std::string& line) {
  if (offset_ >= end_ || !std::getline(in_, line)) return false;
  if (in_.eof()) {  // no '\n' after this line: it was cut short
    partial_ = !line.empty();
    return false;
  }
  offset_ += line.size() + 1;
  return true;
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  const std::filesystem::path target(path_);
  tmp_ = (target.parent_path() / (target.filename().string() + ".tmp" + std::to_string(::getpid()))).string();
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (!file_) throw UsageError("cannot write " + tmp_ + " (to become " + path_ + ")");
}

AtomicFile::~AtomicFile() {
  if (file_) {
    std::fclose(file_);
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
  }
}

void AtomicFile::write(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) throw UsageError("error writing " + tmp_);
}

void AtomicFile::commit() {
  const bool ok = std::fclose(file_) == 0;
  file_ = nullptr;
  std::error_code ec;
  if (!ok) {
    std::filesystem::remove(tmp_, ec);
    throw UsageError("error writing " + tmp_);
  }
  std::filesystem::rename(tmp_, path_, ec);
  if (ec) {
    std::filesystem::remove(tmp_, ec);
    throw UsageError("cannot move " + tmp_ + " to " + path_);
  }
}

}  // namespace infersim::sweep
