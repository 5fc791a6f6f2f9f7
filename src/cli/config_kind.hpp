#pragma once
// Recognise what kind of configuration file a JSON document is, and validate it as that kind.

#include <string>

namespace infersim::cli {

/// Validate one file; returns a short description ("hardware profile h100-sxm"); throws ConfigError /
/// InfeasibleError on problems.
std::string validate_config_file(const std::string& path);

}  // namespace infersim::cli
