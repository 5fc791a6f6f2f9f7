#pragma once
// Shared by the fuzz targets (tests/fuzz/<name>_fuzz.cpp). A target's LLVMFuzzerTestOneInput feeds the bytes
// to one loader through accept_typed_errors(): the typed errors of bad input (ConfigError, InfeasibleError,
// UsageError) are the expected outcome; anything else (std::logic_error from an invariant, a nlohmann
// exception, bad_alloc, ...) escapes, which libFuzzer reports as a crash, and so do sanitizer findings.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "infersim/config/catalog.hpp"
#include "infersim/core/error.hpp"

namespace infersim::fuzz {

/// The fuzzer's bytes as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Run `f`, accepting only the errors that mean "bad input".
template <typename F>
int accept_typed_errors(F&& f) {
  try {
    f();
  } catch (const ConfigError&) {
  } catch (const InfeasibleError&) {
  } catch (const UsageError&) {
  }
  return 0;
}

/// A document parsed from the fuzzer's text as if read from a file in configs/scenarios/ (so that relative
/// paths and catalog names resolve as they do for the shipped scenarios).
inline config::Document document_from(std::string_view text, const std::string& label) {
  config::Document doc;
  doc.json = config::parse_json_text(text, label);
  doc.file = label;
  doc.base_dir = std::string(INFERSIM_SOURCE_DIR) + "/configs/scenarios";
  return doc;
}

}  // namespace infersim::fuzz
