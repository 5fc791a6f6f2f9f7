#include "infersim/core/atomic_file.hpp"

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "infersim/core/error.hpp"

namespace infersim {

namespace {
std::atomic<unsigned> temp_files{0};

std::string error_text(int err) { return std::error_code(err, std::generic_category()).message(); }
}  // namespace

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code ec;
  if (target.filename().empty() || fs::is_directory(target, ec)) throw UsageError("cannot write " + path + ": it is a directory");
  // A hidden temporary file beside the target (same file system, so that rename is atomic), unique per
  // process and call; created exclusively, with the permissions a plain new file would get.
  fs::path tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    tmp = target.parent_path() / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                                  std::to_string(temp_files++));
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && (errno != EEXIST || attempt >= 100)) throw UsageError("cannot write " + path + ": " + error_text(errno));
  }
  bool ok = false;
  try {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (out) {
      write(out);
      out.flush();
      ok = static_cast<bool>(out);
    }
  } catch (...) {  // the writer failed half way: the target stays as it was
    ::close(fd);
    fs::remove(tmp, ec);
    throw;
  }
  ok = ok && ::fsync(fd) == 0;  // the data is on disk before the name points at it
  const int write_error = errno;
  ::close(fd);
  if (!ok) {
    fs::remove(tmp, ec);
    throw UsageError("cannot write " + path + ": " + (write_error ? error_text(write_error) : "write failed") +
                     " (the file was left as it was)");
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(tmp, ec);
    throw UsageError("cannot write " + path + ": " + why + " (the file was left as it was)");
  }
}

void write_file_atomically(const std::string& path, const std::string& content) {
  write_file_atomically(path, [&](std::ostream& out) { out << content; });
}

}  // namespace infersim
