#include "infersim/config/json_reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <system_error>
#include <vector>

#include "infersim/core/file_paths.hpp"
#include "infersim/core/limits.hpp"
#include "infersim/core/strings.hpp"

namespace infersim::config {

void Diagnostics::error(std::string path, std::string message) {
  items_.push_back(Diagnostic{file_, std::move(path), std::move(message)});
}

void Diagnostics::error_in(std::string file, std::string path, std::string message) {
  items_.push_back(Diagnostic{std::move(file), std::move(path), std::move(message)});
}

void Diagnostics::throw_if_any() const {
  if (!items_.empty()) throw ConfigError(items_);
}

namespace {
/// A bound as people write it: whole numbers in full (16777216, not 1.67772e+07).
std::string bound_text(double v) {
  if (std::floor(v) == v && std::abs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  return format_number(v);
}
}  // namespace

std::string Range::describe() const {
  const bool has_min = std::isfinite(min);
  const bool has_max = std::isfinite(max);
  if (has_min && has_max) {
    return std::string("in ") + (min_exclusive ? "(" : "[") + bound_text(min) + ", " + bound_text(max) +
           (max_exclusive ? ")" : "]");
  }
  if (has_min) return std::string(min_exclusive ? "> " : ">= ") + bound_text(min);
  if (has_max) return std::string(max_exclusive ? "< " : "<= ") + bound_text(max);
  return "finite";
}

bool Range::contains(double v) const {
  if (!std::isfinite(v)) return false;
  if (min_exclusive ? !(v > min) : !(v >= min)) return false;
  if (max_exclusive ? !(v < max) : !(v <= max)) return false;
  return true;
}

std::string describe_json(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return std::string("the boolean ") + (j.get<bool>() ? "true" : "false");
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "the number " + j.dump();
    case Json::value_t::string: {
      std::string s = j.get<std::string>();
      if (s.size() > 60) s = s.substr(0, 57) + "...";
      return "the string \"" + s + "\"";
    }
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    default: return "an unsupported value";
  }
}

std::string pointer_escape(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

ObjectReader::ObjectReader(std::string path, Diagnostics& diagnostics)
    : path_(std::move(path)), diagnostics_(&diagnostics) {}

ObjectReader::ObjectReader(const Json& j, std::string path, Diagnostics& diagnostics)
    : path_(std::move(path)), diagnostics_(&diagnostics) {
  if (j.is_object()) {
    object_ = &j;
  } else {
    diagnostics_->error(path_.empty() ? "/" : path_, "expected a JSON object, found " + describe_json(j));
  }
}

std::string ObjectReader::child_path(std::string_view key) const { return path_ + "/" + pointer_escape(key); }

void ObjectReader::error(std::string_view key, std::string message) {
  diagnostics_->error(child_path(key), std::move(message));
}

const Json* ObjectReader::find(std::string_view key) {
  known_.emplace_back(key);
  if (!object_) return nullptr;
  auto it = object_->find(std::string(key));
  return it == object_->end() ? nullptr : &*it;
}

bool ObjectReader::has(std::string_view key) { return find(key) != nullptr; }

bool ObjectReader::has_value(std::string_view key) {
  const Json* v = find(key);
  return v && !v->is_null();
}

void ObjectReader::allow(std::string_view key) { known_.emplace_back(key); }

const Json* ObjectReader::raw(std::string_view key) { return find(key); }

const Json* ObjectReader::require(std::string_view key, std::string_view expected) {
  const Json* v = find(key);
  if (!v && object_) error(key, "missing required key; expected " + std::string(expected));
  return v;
}

namespace {
bool check_number(ObjectReader& r, std::string_view key, const Json& v, const Range& range, double& out) {
  if (!v.is_number()) {
    r.error(key, "expected a number " + range.describe() + ", found " + describe_json(v));
    return false;
  }
  out = v.get<double>();
  if (!range.contains(out)) {
    r.error(key, "expected a number " + range.describe() + ", found " + v.dump());
    return false;
  }
  return true;
}

bool check_integer(ObjectReader& r, std::string_view key, const Json& v, const Range& range, std::int64_t& out) {
  const bool integral_float = v.is_number_float() && std::isfinite(v.get<double>()) &&
                              std::floor(v.get<double>()) == v.get<double>() && std::abs(v.get<double>()) < 9e15;
  if (!(v.is_number_integer() || integral_float)) {
    r.error(key, "expected an integer " + range.describe() + ", found " + describe_json(v));
    return false;
  }
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    r.error(key, "expected an integer " + range.describe() + ", found " + v.dump());
    return false;
  }
  out = integral_float ? static_cast<std::int64_t>(v.get<double>()) : v.get<std::int64_t>();
  if (!range.contains(static_cast<double>(out))) {
    r.error(key, "expected an integer " + range.describe() + ", found " + v.dump());
    return false;
  }
  return true;
}
}  // namespace

double ObjectReader::number(std::string_view key, Range range) {
  const Json* v = require(key, "a number " + range.describe());
  double out = 0.0;
  if (v && check_number(*this, key, *v, range, out)) return out;
  return std::isfinite(range.min) ? range.min : 0.0;
}

double ObjectReader::number_or(std::string_view key, double fallback, Range range) {
  const Json* v = find(key);
  if (!v) return fallback;
  double out = 0.0;
  if (check_number(*this, key, *v, range, out)) return out;
  return fallback;
}

std::optional<double> ObjectReader::nullable_number(std::string_view key, Range range) {
  const Json* v = require(key, "a number " + range.describe() + " or null");
  if (!v || v->is_null()) return std::nullopt;
  double out = 0.0;
  if (check_number(*this, key, *v, range, out)) return out;
  return std::nullopt;
}

std::int64_t ObjectReader::integer(std::string_view key, Range range) {
  const Json* v = require(key, "an integer " + range.describe());
  std::int64_t out = 0;
  if (v && check_integer(*this, key, *v, range, out)) return out;
  return std::isfinite(range.min) ? static_cast<std::int64_t>(std::ceil(range.min)) : 0;
}

std::int64_t ObjectReader::integer_or(std::string_view key, std::int64_t fallback, Range range) {
  const Json* v = find(key);
  if (!v) return fallback;
  std::int64_t out = 0;
  if (check_integer(*this, key, *v, range, out)) return out;
  return fallback;
}

std::optional<std::int64_t> ObjectReader::nullable_integer(std::string_view key, Range range) {
  const Json* v = require(key, "an integer " + range.describe() + " or null");
  if (!v || v->is_null()) return std::nullopt;
  std::int64_t out = 0;
  if (check_integer(*this, key, *v, range, out)) return out;
  return std::nullopt;
}

bool ObjectReader::boolean(std::string_view key) {
  const Json* v = require(key, "true or false");
  if (!v) return false;
  if (!v->is_boolean()) {
    error(key, "expected true or false, found " + describe_json(*v));
    return false;
  }
  return v->get<bool>();
}

bool ObjectReader::boolean_or(std::string_view key, bool fallback) {
  const Json* v = find(key);
  if (!v) return fallback;
  if (!v->is_boolean()) {
    error(key, "expected true or false, found " + describe_json(*v));
    return fallback;
  }
  return v->get<bool>();
}

std::string ObjectReader::string(std::string_view key) {
  const Json* v = require(key, "a string");
  if (!v) return {};
  if (!v->is_string()) {
    error(key, "expected a string, found " + describe_json(*v));
    return {};
  }
  return v->get<std::string>();
}

std::string ObjectReader::string_or(std::string_view key, std::string fallback) {
  const Json* v = find(key);
  if (!v) return fallback;
  if (!v->is_string()) {
    error(key, "expected a string, found " + describe_json(*v));
    return fallback;
  }
  return v->get<std::string>();
}

std::size_t ObjectReader::choice(std::string_view key, std::span<const std::string_view> choices,
                                 std::optional<std::size_t> fallback) {
  std::vector<std::string> names(choices.begin(), choices.end());
  const std::string expected = "one of: " + join(names);
  const Json* v = fallback ? find(key) : require(key, expected);
  if (!v) return fallback.value_or(0);
  if (!v->is_string()) {
    error(key, "expected " + expected + "; found " + describe_json(*v));
    return fallback.value_or(0);
  }
  const std::string s = v->get<std::string>();
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == s) return i;
  }
  std::string message = "unknown value \"" + s + "\"";
  if (auto near = closest_match(s, names)) {
    message += "; did you mean \"" + *near + "\"? Valid values: " + join(names);
  } else {
    message += ". Valid values: " + join(names);
  }
  error(key, message);
  return fallback.value_or(0);
}

DType ObjectReader::dtype(std::string_view key) {
  return static_cast<DType>(choice(key, std::span<const std::string_view>(kDTypeNames)));
}

DType ObjectReader::dtype_or(std::string_view key, DType fallback) {
  return static_cast<DType>(choice(key, std::span<const std::string_view>(kDTypeNames), index_of(fallback)));
}

ObjectReader ObjectReader::object(std::string_view key) {
  const Json* v = require(key, "an object");
  if (!v) return ObjectReader(child_path(key), *diagnostics_);  // already reported
  return ObjectReader(*v, child_path(key), *diagnostics_);
}

std::optional<ObjectReader> ObjectReader::optional_object(std::string_view key) {
  const Json* v = find(key);
  if (!v || v->is_null()) return std::nullopt;
  return ObjectReader(*v, child_path(key), *diagnostics_);
}

void ObjectReader::finish() {
  if (!object_) return;
  for (auto it = object_->begin(); it != object_->end(); ++it) {
    const std::string& key = it.key();
    bool found = false;
    for (const auto& k : known_) {
      if (k == key) {
        found = true;
        break;
      }
    }
    if (found) continue;
    std::string message = "unknown key \"" + key + "\"";
    if (auto near = closest_match(key, known_)) {
      message += "; did you mean \"" + *near + "\"?";
    } else {
      std::vector<std::string> unique = known_;
      std::sort(unique.begin(), unique.end());
      unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
      message += "; valid keys here: " + join(unique);
    }
    diagnostics_->error(child_path(key), message);
  }
}

namespace {
std::string line_column(std::string_view text, std::size_t byte) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}
/// Byte offset where arrays and objects nest deeper than limits::kMaxJsonDepth, or npos. Copying a JSON value
/// recurses once per level, so a hostile file of nested brackets would otherwise overflow the stack.
std::size_t too_deep_at(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limits::kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}

/// A key of a (valid) JSON text, decoded: the text between its quotes, unescaped by the JSON parser when it
/// holds an escape.
std::string decoded_key(std::string_view quoted) {
  if (quoted.find('\\') == std::string_view::npos) return std::string(quoted.substr(1, quoted.size() - 2));
  return Json::parse(quoted).get<std::string>();
}

/// The first key written twice in one object of a (valid) JSON text: nlohmann keeps the last value without a
/// word, so "hardware" written twice would simulate the second chip. Throws ConfigError at its JSON pointer
/// with the line and column of both occurrences.
void reject_duplicate_keys_in(std::string_view text, const std::string& file_label) {
  struct Frame {
    bool object = false;
    std::size_t index = 0;                    // arrays: the element being read
    std::string key;                          // objects: the key of the value being read
    std::map<std::string, std::size_t> seen;  // objects: key -> byte offset
  };
  std::vector<Frame> stack;
  bool expect_key = false;
  auto pointer = [&] {
    std::string p;
    for (const Frame& f : stack) p += "/" + (f.object ? pointer_escape(f.key) : std::to_string(f.index));
    return p;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      const std::size_t begin = i;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
      if (!expect_key) continue;  // a string value
      Frame& f = stack.back();
      f.key = decoded_key(text.substr(begin, i + 1 - begin));
      expect_key = false;
      const auto [it, inserted] = f.seen.emplace(f.key, begin);
      if (!inserted) {
        throw ConfigError(file_label, pointer(),
                          "duplicate key \"" + f.key + "\": written at line:column " + line_column(text, it->second) +
                              " and again at " + line_column(text, begin) +
                              "; JSON keeps only the last value, so write the key once");
      }
    } else if (c == '{' || c == '[') {
      stack.emplace_back().object = c == '{';
      expect_key = c == '{';
    } else if (c == '}' || c == ']') {
      stack.pop_back();
      expect_key = false;
    } else if (c == ',' && !stack.empty()) {
      ++stack.back().index;
      expect_key = stack.back().object;
    }
  }
}

}  // namespace

void reject_duplicate_keys(std::string_view text, const std::string& file_label) {
  reject_duplicate_keys_in(text, file_label);
}

Json parse_json_text(std::string_view text, const std::string& file_label) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw ConfigError(file_label, "", "the file is empty: expected a JSON document");
  }
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    throw ConfigError(file_label, "", "binary data (a NUL byte at line:column " + line_column(text, nul) +
                                          "): expected a JSON text file");
  }
  if (const std::size_t at = too_deep_at(text); at != std::string_view::npos) {
    throw ConfigError(file_label, "", "invalid JSON at line:column " + line_column(text, at) +
                                          ": arrays and objects nest deeper than " +
                                          std::to_string(limits::kMaxJsonDepth) + " levels");
  }
  try {
    Json j = Json::parse(text.begin(), text.end());
    reject_duplicate_keys_in(text, file_label);
    return j;
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line 3, column 5: ..." -- keep the tail.
    const auto pos = what.find(": ");
    const std::string detail = pos == std::string::npos ? what : what.substr(pos + 2);
    const std::size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    throw ConfigError(file_label, "", "invalid JSON at line:column " + line_column(text, byte) + ": " + detail);
  } catch (const Json::out_of_range& e) {
    // A number beyond a double (1e400): nlohmann says "number overflow parsing '1e400'" without a position.
    std::string number;
    const std::string detail = number_overflow_detail(e.what(), &number);
    const auto at = text.find(number);
    throw ConfigError(file_label, "", "invalid JSON" +
                                          (at == std::string_view::npos ? std::string() : " at line:column " + line_column(text, at)) +
                                          ": " + detail);
  }
}

const Json* find_dotted(const Json& j, std::string_view dotted) {
  const Json* node = &j;
  std::size_t start = 0;
  for (;;) {
    const auto end = dotted.find('.', start);
    const std::string key(dotted.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (!node->is_object()) return nullptr;
    const auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
    if (end == std::string_view::npos) return node;
    start = end + 1;
  }
}

std::string number_overflow_detail(std::string_view what, std::string* number) {
  const auto open = what.find('\''), close = what.rfind('\'');
  const std::string n(open < close ? what.substr(open + 1, close - open - 1) : std::string_view("a number"));
  if (number) *number = n;
  return "the number " + n + " is beyond the range of a double (about 1.8e308)";
}

Json parse_json_file(const std::string& path) {
  if (path == "-") return parse_json_stream(std::cin, "<stdin>");
  require_regular_file(path, "a JSON file");  // a FIFO would block, a device never end
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, "", "cannot open the file (does it exist and is it readable?)");
  return parse_json_stream(in, path);
}

Json parse_json_stream(std::istream& in, const std::string& path) {
  // Read in blocks, bounded: a huge binary file must not be read to the end.
  std::string text;
  std::vector<char> block(1 << 16);
  while (in.read(block.data(), static_cast<std::streamsize>(block.size())) || in.gcount() > 0) {
    const auto n = static_cast<std::size_t>(in.gcount());
    text.append(block.data(), n);
    if (std::memchr(block.data(), 0, n)) break;  // binary data: parse_json_text says where
    if (text.size() > limits::kMaxJsonBytes) {
      throw ConfigError(path, "", "larger than " + std::to_string(limits::kMaxJsonBytes >> 20) +
                                      " MiB: expected a JSON configuration file");
    }
  }
  return parse_json_text(text, path);
}

}  // namespace infersim::config
