#include "infersim/workload/trace.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <istream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "infersim/config/json_reader.hpp"
#include "infersim/core/error.hpp"
#include "infersim/core/file_paths.hpp"
#include "infersim/core/limits.hpp"
#include "infersim/core/line_reader.hpp"
#include "infersim/core/strings.hpp"

namespace infersim::workload {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

const std::vector<std::string> kTimeNames = {"arrival_s", "timestamp_s", "time_s", "timestamp", "arrival_time_s"};
const std::vector<std::string> kInputNames = {"input_tokens", "prompt_tokens", "contexttokens", "num_prefill_tokens"};
const std::vector<std::string> kOutputNames = {"output_tokens", "completion_tokens", "generatedtokens", "num_decode_tokens"};

[[noreturn]] void fail(const std::string& file, std::size_t line, const std::string& message) {
  throw ConfigError(file + ":" + std::to_string(line), "", message);
}

/// The one column (or JSONL key) that `names` accept; -1 when none. Two that both match ("input_tokens" and
/// "prompt_tokens") are an error: which one was meant cannot be known.
int find_column(const std::vector<std::string>& header, const std::vector<std::string>& names, const std::string& file,
                std::size_t line) {
  int found = -1;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (std::find(names.begin(), names.end(), lower(trim(header[i]))) == names.end()) continue;
    if (found >= 0) {
      fail(file, line, "two columns for the same field: \"" + trim(header[static_cast<std::size_t>(found)]) + "\" and \"" +
                           trim(header[i]) + "\"; keep one");
    }
    found = static_cast<int>(i);
  }
  return found;
}

/// A CSV header with a column name twice (compared as the columns are matched: trimmed, any case).
void reject_duplicate_columns(const std::vector<std::string>& header, const std::string& file) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (lower(trim(header[i])) == lower(trim(header[j]))) {
        fail(file, 1, "the column \"" + trim(header[i]) + "\" is named twice (columns " + std::to_string(j + 1) + " and " +
                          std::to_string(i + 1) + "); rename or remove one");
      }
    }
  }
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cell;
  for (char c : line) {
    if (c == sep) {
      out.push_back(cell);
      cell.clear();
    } else if (c != '\r') {
      cell += c;
    }
  }
  out.push_back(cell);
  return out;
}

bool parse_number(const std::string& s, double& v) {
  const std::string t = trim(s);
  if (t.empty()) return false;
  char* end = nullptr;
  v = std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size() && std::isfinite(v);
}


/// A token count as people write it: decimal digits only ("0x10", "1e2", "+5" and "12.0" are refused), at
/// least `min` (1 for a prompt, 0 for an output: a prefill-only or cancelled request).
bool parse_tokens(const std::string& s, std::int64_t& v, std::int64_t min) {
  const std::string t = trim(s);
  if (t.empty() || t.size() > 12 || t.find_first_not_of("0123456789") != std::string::npos) return false;
  v = std::stoll(t);
  return v >= min && v <= limits::kMaxTokensPerRequest;
}

std::string token_range(std::int64_t min) {
  return "[" + std::to_string(min) + ", " + std::to_string(limits::kMaxTokensPerRequest) + "]";
}

bool parse_time(const std::string& s, double& v) { return parse_number(s, v) || parse_datetime(trim(s), v); }

struct RawRow {
  double time;
  std::int64_t input, output;
  std::size_t line;
  std::uint32_t hash_begin = 0, hash_count = 0;
};

constexpr const char* kWhat = "a CSV or JSONL text file of requests";

/// A malformed row, thrown inside one row's parsing and caught by the row loop (BadRows decides).
struct RowError {
  std::size_t line;
  std::string message;
};

[[noreturn]] void bad_row(std::size_t line, std::string message) { throw RowError{line, std::move(message)}; }

/// What happens to malformed rows: an error naming file:line (on_bad_row "error"), or (on_bad_row "skip")
/// counted, the first few kept with their reasons for the report.
class BadRows {
 public:
  BadRows(std::string file, bool skip) : file_(std::move(file)), skip_(skip) {}
  void add(const RowError& e) {
    if (!skip_) fail(file_, e.line, e.message);
    if (first_.size() < kShown) first_.push_back("line " + std::to_string(e.line) + ": " + e.message);
    ++count_;
  }
  /// The note for the report, empty when no row was skipped.
  std::string note() const {
    if (count_ == 0) return "";
    std::string out = "skipped " + std::to_string(count_) + " malformed row" + (count_ == 1 ? "" : "s") + " of " + file_ +
                      " (workload.arrival.on_bad_row \"skip\")";
    out += count_ > static_cast<std::int64_t>(kShown) ? "; the first " + std::to_string(kShown) + ": " : ": ";
    for (std::size_t i = 0; i < first_.size(); ++i) out += (i ? "; " : "") + first_[i];
    return out;
  }

 private:
  static constexpr std::size_t kShown = 5;
  std::string file_;
  bool skip_;
  std::int64_t count_ = 0;
  std::vector<std::string> first_;
};

std::vector<RawRow> read_csv(const std::string& path, std::istream& in, BadRows& bad) {
  LineReader lines(in, path, kWhat);
  std::string line;
  if (!lines.next(line)) throw ConfigError(path, "", "the trace is empty: expected a CSV header line");
  if (line.size() >= 3 && static_cast<unsigned char>(line[0]) == 0xEF) line = line.substr(3);  // UTF-8 BOM
  const auto header = split(line, ',');
  reject_duplicate_columns(header, path);
  const int tc = find_column(header, kTimeNames, path, 1), ic = find_column(header, kInputNames, path, 1),
            oc = find_column(header, kOutputNames, path, 1);
  if (tc < 0 || ic < 0 || oc < 0) {
    fail(path, 1, "the header must name a time column (" + join(kTimeNames) + "), an input-token column (" +
                      join(kInputNames) + ") and an output-token column (" + join(kOutputNames) + "); found: " +
                      trim(line).substr(0, 200));
  }
  std::vector<RawRow> rows;
  while (lines.next(line)) {
    const std::size_t line_no = lines.number();
    if (trim(line).empty()) continue;
    try {
      const auto cells = split(line, ',');
      const auto need = static_cast<std::size_t>(std::max({tc, ic, oc}));
      if (cells.size() <= need) bad_row(line_no, "expected " + std::to_string(header.size()) + " columns, found " + std::to_string(cells.size()));
      RawRow r{0, 0, 0, line_no};
      const auto cell = [&](int c) { return trim(cells[static_cast<std::size_t>(c)]).substr(0, 40); };
      const auto name = [&](int c) { return trim(header[static_cast<std::size_t>(c)]); };
      if (!parse_time(cells[static_cast<std::size_t>(tc)], r.time)) {
        bad_row(line_no, "column " + name(tc) + ": expected seconds or a date-time, found \"" + cell(tc) + "\"");
      }
      if (!parse_tokens(cells[static_cast<std::size_t>(ic)], r.input, 1)) {
        bad_row(line_no, "column " + name(ic) + ": expected a whole number of tokens (decimal digits) in " + token_range(1) + ", found \"" + cell(ic) + "\"");
      }
      if (!parse_tokens(cells[static_cast<std::size_t>(oc)], r.output, 0)) {
        bad_row(line_no, "column " + name(oc) + ": expected a whole number of tokens (decimal digits) in " + token_range(0) + ", found \"" + cell(oc) + "\"");
      }
      rows.push_back(r);
    } catch (const RowError& e) {
      bad.add(e);
    }
  }
  return rows;
}

const nlohmann::json* find_key(const nlohmann::json& j, const std::vector<std::string>& names, const std::string& file,
                               std::size_t line) {
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  const int at = find_column(keys, names, file, line);
  return at < 0 ? nullptr : &j.at(keys[static_cast<std::size_t>(at)]);
}

/// A row's ConfigError as "JSON path: message" (the file and line are said by BadRows).
std::string diagnostic_text(const ConfigError& e) {
  if (e.diagnostics().empty()) return e.what();
  const Diagnostic& d = e.diagnostics().front();
  return d.path.empty() ? d.message : d.path + ": " + d.message;
}

/// One JSONL line as an object; a RowError when it is not one.
nlohmann::json parse_json_row(const std::string& line, const std::string& path, std::size_t line_no) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
    config::reject_duplicate_keys(line, path + ":" + std::to_string(line_no));
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann: "[json.exception.parse_error.101] parse error at line 1, column 58: syntax error ..."
    const std::string what = e.what();
    const auto detail = what.find(": ");
    bad_row(line_no, "invalid JSON at column " + std::to_string(e.byte) + ": " +
                         (detail == std::string::npos ? what : what.substr(detail + 2)).substr(0, 200));
  } catch (const nlohmann::json::out_of_range& e) {
    bad_row(line_no, "invalid JSON: " + config::number_overflow_detail(e.what()));
  } catch (const ConfigError& e) {
    bad_row(line_no, diagnostic_text(e));
  }
  if (!j.is_object()) bad_row(line_no, "expected a JSON object per line");
  return j;
}

/// A token count as a JSON integer (1e2 and 16.0 are floating-point numbers, not counts), at least `min`.
bool json_tokens(const nlohmann::json& v, std::int64_t& out, std::int64_t min) {
  if (!v.is_number_integer()) return false;
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(limits::kMaxTokensPerRequest)) return false;
  out = v.get<std::int64_t>();
  return out >= min && out <= limits::kMaxTokensPerRequest;
}

/// Every line of a JSONL trace through `row` (which fills a RawRow or throws RowError).
template <class RowFn>
std::vector<RawRow> read_lines(const std::string& path, std::istream& in, BadRows& bad, RowFn row) {
  std::vector<RawRow> rows;
  LineReader lines(in, path, kWhat);
  std::string line;
  while (lines.next(line)) {
    const std::size_t line_no = lines.number();
    if (trim(line).empty()) continue;
    try {
      rows.push_back(row(parse_json_row(line, path, line_no), line_no));
    } catch (const RowError& e) {
      bad.add(e);
    }
  }
  return rows;
}

std::vector<RawRow> read_jsonl(const std::string& path, std::istream& in, BadRows& bad) {
  return read_lines(path, in, bad, [&](const nlohmann::json& j, std::size_t line_no) {
    const nlohmann::json *t = nullptr, *i = nullptr, *o = nullptr;
    try {
      t = find_key(j, kTimeNames, path, line_no);
      i = find_key(j, kInputNames, path, line_no);
      o = find_key(j, kOutputNames, path, line_no);
    } catch (const ConfigError& e) {
      bad_row(line_no, diagnostic_text(e));
    }
    if (!t || !i || !o) {
      bad_row(line_no, "each object needs a time (" + join(kTimeNames) + "), input tokens (" + join(kInputNames) +
                           ") and output tokens (" + join(kOutputNames) + ")" +
                           (j.contains("hash_ids") ? "; this looks like a Mooncake trace: set workload.arrival.format "
                                                     "to \"mooncake\""
                                                   : ""));
    }
    RawRow r{0, 0, 0, line_no};
    const bool time_ok = t->is_number() ? (r.time = t->get<double>(), std::isfinite(r.time))
                                        : (t->is_string() && parse_time(t->get<std::string>(), r.time));
    if (!time_ok) bad_row(line_no, "expected the time in seconds or as a date-time");
    if (!json_tokens(*i, r.input, 1)) bad_row(line_no, "input tokens: expected a JSON integer in " + token_range(1) + ", found " + config::describe_json(*i));
    if (!json_tokens(*o, r.output, 0)) bad_row(line_no, "output tokens: expected a JSON integer in " + token_range(0) + ", found " + config::describe_json(*o));
    return r;
  });
}

/// Mooncake: {"timestamp": ms, "input_length": n, "output_length": m, "hash_ids": [...]}; the hashes are
/// appended to `hashes`.
std::vector<RawRow> read_mooncake(const std::string& path, std::istream& in, BadRows& bad, std::vector<std::uint64_t>& hashes) {
  return read_lines(path, in, bad, [&](const nlohmann::json& j, std::size_t line_no) {
    for (const char* key : {"timestamp", "input_length", "output_length", "hash_ids"}) {
      if (!j.contains(key)) {
        bad_row(line_no, std::string("a Mooncake row needs \"") + key +
                             "\" (keys: timestamp in ms, input_length, output_length, hash_ids)");
      }
    }
    RawRow r{0, 0, 0, line_no};
    const auto& t = j.at("timestamp");
    if (!t.is_number() || !std::isfinite(t.get<double>()) || t.get<double>() < 0) {
      bad_row(line_no, "timestamp: expected milliseconds (a number >= 0), found " + config::describe_json(t));
    }
    r.time = t.get<double>() / 1000.0;
    if (!json_tokens(j.at("input_length"), r.input, 1)) {
      bad_row(line_no, "input_length: expected a JSON integer in " + token_range(1) + ", found " + config::describe_json(j.at("input_length")));
    }
    if (!json_tokens(j.at("output_length"), r.output, 0)) {
      bad_row(line_no, "output_length: expected a JSON integer in " + token_range(0) + ", found " + config::describe_json(j.at("output_length")));
    }
    const auto& h = j.at("hash_ids");
    const std::int64_t blocks = (r.input + kMooncakeBlockTokens - 1) / kMooncakeBlockTokens;
    if (!h.is_array() || static_cast<std::int64_t>(h.size()) > blocks) {
      bad_row(line_no, "hash_ids: expected a list of at most " + std::to_string(blocks) + " block ids (one per " +
                           std::to_string(kMooncakeBlockTokens) + " input tokens), found " + config::describe_json(h));
    }
    for (const auto& id : h) {
      if (!id.is_number_unsigned()) bad_row(line_no, "hash_ids: expected non-negative integers, found " + config::describe_json(id));
    }
    r.hash_begin = static_cast<std::uint32_t>(hashes.size());
    r.hash_count = static_cast<std::uint32_t>(h.size());
    for (const auto& id : h) hashes.push_back(id.get<std::uint64_t>());
    return r;
  });
}

}  // namespace

bool parse_datetime(const std::string& text, double& seconds) {
  int y, mo, d, h, mi;
  double s;
  char sep;
  if (std::sscanf(text.c_str(), "%d-%d-%d%c%d:%d:%lf", &y, &mo, &d, &sep, &h, &mi, &s) != 7) return false;
  if ((sep != ' ' && sep != 'T') || y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      s < 0 || s >= 61) {
    return false;
  }
  // Days in the month (2023-02-31 is no date, not March 3).
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return false;
  // Days from civil (H. Hinnant's algorithm).
  y -= mo <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = static_cast<unsigned>((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1);
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const double days = static_cast<double>(era) * 146097.0 + static_cast<double>(doe) - 719468.0;
  seconds = days * 86400.0 + h * 3600.0 + mi * 60.0 + s;
  return true;
}

TraceLoad read_trace(const TraceSpec& spec, std::int64_t max_requests) {
  if (spec.path == "-") {
    std::istringstream in(spec.stdin_text ? *spec.stdin_text : std::string());
    return parse_trace(in, spec, max_requests);
  }
  require_regular_file(spec.path, kWhat);
  std::ifstream in(spec.path, std::ios::binary);
  if (!in) throw ConfigError(spec.path, "", "cannot open the trace file (does it exist and is it readable?)");
  return parse_trace(in, spec, max_requests);
}

std::vector<TraceRow> load_trace(const TraceSpec& spec, std::int64_t max_requests) {
  return read_trace(spec, max_requests).rows;
}

TraceLoad parse_trace(std::istream& in, const TraceSpec& spec, std::int64_t max_requests) {
  const std::string file = spec.path == "-" ? "<stdin>" : spec.path;
  std::string format = lower(spec.format);
  if (format.empty()) format = spec.path.ends_with(".jsonl") || spec.path.ends_with(".json") ? "jsonl" : "csv";
  TraceLoad out;
  BadRows bad(file, spec.skip_bad_rows);
  std::vector<RawRow> raw = format == "mooncake" ? read_mooncake(file, in, bad, out.hashes)
                            : format == "jsonl"  ? read_jsonl(file, in, bad)
                                                 : read_csv(file, in, bad);
  if (format == "mooncake") out.hash_block_tokens = kMooncakeBlockTokens;
  if (const std::string note = bad.note(); !note.empty()) out.notes.push_back(note);
  if (raw.empty()) throw ConfigError(file, "", "the trace has no requests");
  if (spec.sort) {
    std::stable_sort(raw.begin(), raw.end(), [](const RawRow& a, const RawRow& b) { return a.time < b.time; });
    std::int64_t moved = 0;
    for (std::size_t i = 1; i < raw.size(); ++i) moved += raw[i].line < raw[i - 1].line ? 1 : 0;
    if (moved > 0) {
      out.notes.push_back("sorted " + file + " by arrival time (workload.arrival.sort): " + std::to_string(moved) + " of " +
                          std::to_string(raw.size()) + " rows were out of order");
    }
  }
  for (std::size_t i = 1; i < raw.size(); ++i) {
    if (raw[i].time < raw[i - 1].time) {
      fail(file, raw[i].line, "rows out of order: this request arrives " +
                                  format_number(raw[i - 1].time - raw[i].time, 6) +
                                  " s before the previous row's; sort the trace by arrival time, or set "
                                  "workload.arrival.sort to true");
    }
  }
  std::vector<TraceRow>& rows = out.rows;
  const double t0 = raw.front().time;
  for (const RawRow& r : raw) {
    const double rel = r.time - t0;
    if (rel < spec.start_s) continue;
    if (rel >= spec.end_s) break;
    const double at = (rel - spec.start_s) / spec.rate_scale;
    if (!(at <= limits::kHorizonSeconds)) {
      fail(file, r.line, "this request arrives " + format_number(at) + " s after the first one" +
                             (spec.rate_scale != 1 ? " (after rate_scale " + format_number(spec.rate_scale) + ")" : "") +
                             ", beyond the simulation horizon of " + format_number(limits::kHorizonSeconds) +
                             " s (about 31 years); are the times in seconds?");
    }
    rows.push_back(TraceRow{at, r.input, r.output, r.hash_begin, r.hash_count});
    if (max_requests > 0 && static_cast<std::int64_t>(rows.size()) >= max_requests) break;
  }
  if (rows.empty()) {
    throw ConfigError(file, "", "no request of the trace falls in the window [" + format_number(spec.start_s) +
                                    ", " + format_number(spec.end_s) + ") s; the trace spans " +
                                    format_number(raw.back().time - t0) + " s");
  }
  // Re-base so that the first request of the window arrives at t = 0.
  const double first = rows.front().arrival_s;
  for (auto& r : rows) r.arrival_s -= first;
  return out;
}

}  // namespace infersim::workload
