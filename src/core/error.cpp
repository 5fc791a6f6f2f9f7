#include "infersim/core/error.hpp"

#include "infersim/core/check.hpp"

namespace infersim {

std::string format_diagnostic(const Diagnostic& d) {
  std::string out = d.file.empty() ? std::string("<input>") : d.file;
  out += ": ";
  if (!d.path.empty()) {
    out += d.path;
    out += ": ";
  }
  out += d.message;
  return out;
}

namespace {
std::string join_diagnostics(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (std::size_t i = 0; i < ds.size(); ++i) {
    if (i) out += '\n';
    out += format_diagnostic(ds[i]);
  }
  return out;
}
}  // namespace

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join_diagnostics(diagnostics)), diagnostics_(std::move(diagnostics)) {}

ConfigError::ConfigError(std::string file, std::string path, std::string message)
    : ConfigError(std::vector<Diagnostic>{Diagnostic{std::move(file), std::move(path), std::move(message)}}) {}

}  // namespace infersim

namespace infersim::detail {

void check_failed(const char* condition, const char* file, int line, const std::string& message) {
  std::string where(file);
  if (const auto slash = where.rfind("/src/"); slash != std::string::npos) where = where.substr(slash + 1);
  throw std::logic_error("invariant broken: " + message + " (" + condition + " at " + where + ":" + std::to_string(line) + ")");
}

}  // namespace infersim::detail
