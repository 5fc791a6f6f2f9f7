#pragma once
// Typed errors. The library throws these; only the command-line front end maps them to exit codes:
// ConfigError, InfeasibleError and UsageError are the user's input (exit 2); anything else is internal (3).

#include <stdexcept>
#include <string>
#include <vector>

namespace infersim {

/// One problem in one configuration file, at one JSON location.
struct Diagnostic {
  std::string file;     // file name as the user gave it, or "<inline>", "--set", "<command line>"
  std::string path;     // JSON pointer, e.g. "/deployment/tensor_parallel"
  std::string message;  // what was expected and what was found, and the fix where one is known
};

std::string format_diagnostic(const Diagnostic& d);

/// Bad configuration: carries every problem found, not only the first.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<Diagnostic> diagnostics);
  ConfigError(std::string file, std::string path, std::string message);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

/// A valid configuration that cannot run: a model that does not fit, a data type the chip lacks, ...
class InfeasibleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  /// Located in a file: what() is "file: path: message", as a Diagnostic prints.
  InfeasibleError(const std::string& file, const std::string& path, const std::string& message)
      : std::runtime_error(format_diagnostic(Diagnostic{file, path, message})), located_(true) {}
  /// Whether what() already names the file.
  bool located() const { return located_; }

 private:
  bool located_ = false;
};

/// Wrong command-line usage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace infersim
