#pragma once
// Paths of the source tree and of the built executable, passed in by CMake.

#include <string>

namespace infersim::testing {

inline std::string source_path(const std::string& relative) { return std::string(INFERSIM_SOURCE_DIR) + "/" + relative; }
inline std::string binary_path() { return INFERSIM_BINARY; }

}  // namespace infersim::testing
