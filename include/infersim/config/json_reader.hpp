#pragma once
// Strict, path-precise reading of JSON configuration.
//
// An ObjectReader wraps one JSON object. Every getter names a key; a wrong type or an out-of-range value is
// recorded as a Diagnostic (file, JSON pointer, what was expected, what was found) and a neutral value is
// returned so that parsing continues and all problems are reported together. finish() reports every key
// that no getter asked for as unknown, with the closest valid key. Callers throw the collected diagnostics
// with Diagnostics::throw_if_any() once a whole document has been read.

#include <cstdint>
#include <iosfwd>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "infersim/core/dtype.hpp"
#include "infersim/core/error.hpp"

namespace infersim::config {

using Json = nlohmann::json;

/// Problems found while reading one document; `file` names it in every message.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}
  void error(std::string path, std::string message);
  void error_in(std::string file, std::string path, std::string message);
  bool empty() const { return items_.empty(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  const std::string& file() const { return file_; }
  void throw_if_any() const;

 private:
  std::string file_;
  std::vector<Diagnostic> items_;
};

/// Numeric range check; inclusive unless `*_exclusive`.
struct Range {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;
  bool max_exclusive = false;

  static Range positive() { return {0.0, std::numeric_limits<double>::infinity(), true, false}; }
  static Range non_negative() { return {0.0, std::numeric_limits<double>::infinity(), false, false}; }
  static Range fraction() { return {0.0, 1.0, true, false}; }  // (0, 1]
  static Range positive_up_to(double v) { return {0.0, v, true, false}; }  // (0, v]
  static Range at_least(double v) { return {v, std::numeric_limits<double>::infinity(), false, false}; }
  static Range between(double lo, double hi) { return {lo, hi, false, false}; }
  std::string describe() const;
  bool contains(double v) const;
};

/// "a JSON number", "a string", ... for messages.
std::string describe_json(const Json& j);

class ObjectReader {
 public:
  /// `path` is the JSON pointer of `j` ("" for the document root). A non-object is reported here.
  ObjectReader(const Json& j, std::string path, Diagnostics& diagnostics);
  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;
  ObjectReader(ObjectReader&&) = default;

  bool valid() const { return object_ != nullptr; }
  /// True when the key is present (even if null). Marks the key as known.
  bool has(std::string_view key);
  /// True when the key is present and not null. Marks the key as known.
  bool has_value(std::string_view key);
  /// Declare a key valid without reading it (for keys read by other code).
  void allow(std::string_view key);
  /// The raw value, or nullptr when absent. Marks the key as known.
  const Json* raw(std::string_view key);

  double number(std::string_view key, Range range = {});
  double number_or(std::string_view key, double fallback, Range range = {});
  /// Required key whose value may be null ("not published"): nullopt for null.
  std::optional<double> nullable_number(std::string_view key, Range range = {});
  std::int64_t integer(std::string_view key, Range range = {});
  std::int64_t integer_or(std::string_view key, std::int64_t fallback, Range range = {});
  std::optional<std::int64_t> nullable_integer(std::string_view key, Range range = {});
  bool boolean(std::string_view key);
  bool boolean_or(std::string_view key, bool fallback);
  std::string string(std::string_view key);
  std::string string_or(std::string_view key, std::string fallback);
  /// One of `choices`; returns its index, or `fallback` when the key is absent (nullopt = required).
  std::size_t choice(std::string_view key, std::span<const std::string_view> choices,
                     std::optional<std::size_t> fallback = std::nullopt);
  DType dtype(std::string_view key);
  DType dtype_or(std::string_view key, DType fallback);

  /// A nested object (absent or not an object: reported, and an invalid reader returned).
  ObjectReader object(std::string_view key);
  /// A nested object, or nullopt when absent or null.
  std::optional<ObjectReader> optional_object(std::string_view key);

  /// Report every key that no getter asked for, with the closest known key.
  void finish();

  const std::string& path() const { return path_; }
  std::string child_path(std::string_view key) const;
  Diagnostics& diagnostics() { return *diagnostics_; }
  void error(std::string_view key, std::string message);

 private:
  ObjectReader(std::string path, Diagnostics& diagnostics);  // an invalid reader: records nothing further
  const Json* find(std::string_view key);
  const Json* require(std::string_view key, std::string_view expected);

  const Json* object_ = nullptr;
  std::string path_;
  Diagnostics* diagnostics_;
  std::vector<std::string> known_;
};

/// Escape a key for a JSON pointer ("~" -> "~0", "/" -> "~1").
std::string pointer_escape(std::string_view key);

/// Parse a JSON document; a syntax error becomes a ConfigError naming file, line and column.
Json parse_json_text(std::string_view text, const std::string& file_label);
/// Throw ConfigError when an object of a valid JSON text has a key twice (nlohmann silently keeps the last),
/// naming the key's JSON pointer and the line and column of both. parse_json_text() calls it; for JSON read
/// otherwise (a trace's JSONL rows, --set values).
void reject_duplicate_keys(std::string_view text, const std::string& file_label);
/// "the number 1e400 is beyond ..." from nlohmann's out_of_range "number overflow parsing '1e400'"; the
/// number itself into `number` when given.
std::string number_overflow_detail(std::string_view what, std::string* number = nullptr);
/// Read and parse a file; an unreadable file, or one that is not a regular file (a FIFO, a device, a folder),
/// becomes a ConfigError. "-" reads standard input.
Json parse_json_file(const std::string& path);
/// Read (at most limits::kMaxJsonBytes) and parse a stream; `label` names it in messages.
Json parse_json_stream(std::istream& in, const std::string& label);

/// The value at a dotted path ("metrics.ttft_s.p50"), or nullptr when a key on the way is missing.
const Json* find_dotted(const Json& j, std::string_view dotted);

}  // namespace infersim::config
