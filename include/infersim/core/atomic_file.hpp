#pragma once
// Writing an output file atomically: readers see the old file or the complete new one, never a part.

#include <functional>
#include <iosfwd>
#include <string>

namespace infersim {

/// Write a file atomically: to a hidden temporary file beside it (".NAME.tmp-PID-N", created exclusively),
/// flushed to disk, then renamed over `path`. On failure (UsageError naming `path` and the reason) the old
/// file is left as it was and the temporary file removed, as it is on SIGINT or SIGTERM (a handler, installed
/// on first use where the signal's action is the default, unlinks it, then the process dies of the signal);
/// only a process killed outright (SIGKILL) may leave the hidden temporary file, never a half-written NAME.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace infersim
