#include "infersim/core/atomic_file.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "infersim/core/error.hpp"

namespace infersim {

namespace {
std::atomic<unsigned> temp_files{0};

std::string error_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// The temporary files being written, removed by a SIGINT or SIGTERM handler (a killed `run --requests-out`
// would otherwise leave a hidden file of up to gigabytes beside the output). Fixed slots of plain chars: a
// signal handler may only call async-signal-safe functions (unlink, signal, raise) on static memory.
constexpr int kSlots = 16;
constexpr std::size_t kPathBytes = 4096;
char temp_paths[kSlots][kPathBytes];
std::atomic<bool> slot_claimed[kSlots];  // a writer owns the slot
std::atomic<bool> slot_ready[kSlots];    // its path is complete: the handler may remove the file
std::once_flag handlers_installed;

extern "C" void remove_temporaries_and_die(int sig) {
  for (int i = 0; i < kSlots; ++i) {
    if (slot_ready[i].load()) ::unlink(temp_paths[i]);
  }
  ::signal(sig, SIG_DFL);  // then die of the signal, as without the handler
  ::raise(sig);
}

void install_handlers() {
  for (int sig : {SIGINT, SIGTERM}) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) continue;  // ignored or handled: keep
    struct sigaction sa {};
    sa.sa_handler = remove_temporaries_and_die;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
}

/// Registers a temporary file for removal on SIGINT / SIGTERM while it is being written; track() comes
/// before the file is created, so that no signal finds it untracked.
class TemporaryGuard {
 public:
  TemporaryGuard() {
    std::call_once(handlers_installed, install_handlers);
    for (int i = 0; i < kSlots; ++i) {
      bool expected = false;
      if (slot_claimed[i].compare_exchange_strong(expected, true)) {
        slot_ = i;
        return;
      }
    }
  }
  void track(const std::string& path) {
    if (slot_ < 0 || path.size() >= kPathBytes) return;
    slot_ready[slot_].store(false);
    std::memcpy(temp_paths[slot_], path.c_str(), path.size() + 1);
    slot_ready[slot_].store(true);
  }
  TemporaryGuard(const TemporaryGuard&) = delete;
  TemporaryGuard& operator=(const TemporaryGuard&) = delete;
  ~TemporaryGuard() {
    if (slot_ < 0) return;
    slot_ready[slot_].store(false);
    slot_claimed[slot_].store(false);
  }

 private:
  int slot_ = -1;
};
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
  TemporaryGuard guard;
  for (int attempt = 0; fd < 0; ++attempt) {
    tmp = target.parent_path() / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                                  std::to_string(temp_files++));
    guard.track(tmp.string());
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
