#include "infersim/sweep/rows.hpp"

#include <charconv>
#include <queue>
#include <stdexcept>

#include "infersim/core/atomic_file.hpp"
#include "infersim/core/error.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/sweep/text_file.hpp"

namespace infersim::sweep {

using config::Json;
using Ordered = nlohmann::ordered_json;

RowFormat format_for_path(const std::string& path) {
  return path.ends_with(".jsonl") || path.ends_with(".ndjson") ? RowFormat::jsonl : RowFormat::csv;
}

std::string cell_text(const Json& v) { return scenario::csv_cell(v); }

std::vector<std::string> split_csv_line(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        out.back() += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::optional<std::size_t> row_point(std::string_view line) {
  // CSV: "...,17"; JSONL: {..., "point":17}
  if (!line.empty() && line.back() == '}') line.remove_suffix(1);
  const auto sep = line.find_last_of(",:");
  if (sep == std::string_view::npos) return std::nullopt;
  const std::string_view digits = line.substr(sep + 1);
  std::size_t p = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) return std::nullopt;
  return p;
}

RowLayout::RowLayout(std::vector<std::string> swept_keys, RowFormat format)
    : format_(format), columns_(std::move(swept_keys)), swept_(columns_.size()) {
  for (const auto& key : scenario::metric_keys()) columns_.push_back("metrics." + key);
  columns_.emplace_back("error");
  columns_.emplace_back("point");
}

std::string RowLayout::header() const {
  if (format_ == RowFormat::jsonl) return "";
  std::string h;
  for (std::size_t c = 0; c < columns_.size(); ++c) h += (c ? "," : "") + cell_text(Json(columns_[c]));
  return h + "\n";
}

std::string RowLayout::signature() const {
  if (format_ == RowFormat::csv) return header().substr(0, header().size() - 1);
  std::string s;
  for (std::size_t c = 0; c < columns_.size(); ++c) s += (c ? "," : "") + columns_[c];
  return s;
}

std::string RowLayout::row(std::size_t point, const std::vector<Json>& swept, const Json* report,
                           const std::string& error) const {
  // Every column's value: swept values, metrics (null where the report has none), error, point.
  std::vector<Json> values(swept.begin(), swept.end());
  values.resize(columns_.size());
  if (report) {
    const auto flat = scenario::flatten(report->at("metrics"));
    const auto& keys = scenario::metric_keys();
    std::size_t i = 0;
    for (std::size_t k = 0; k < keys.size() && i < flat.size(); ++k) {
      if (flat[i].first == keys[k]) values[swept_ + k] = flat[i++].second;
    }
    if (i < flat.size()) {
      throw std::logic_error("the report's metric \"" + flat[i].first + "\" is missing from scenario::metric_keys()");
    }
  }
  if (!error.empty()) values[error_column()] = error;
  values.back() = point;
  std::string line;
  if (format_ == RowFormat::csv) {
    for (std::size_t c = 0; c < values.size(); ++c) {
      if (c) line += ',';
      line += cell_text(values[c]);
    }
  } else {
    line += '{';
    for (std::size_t c = 0; c < values.size(); ++c) {
      if (c) line += ',';
      line += Json(columns_[c]).dump() + ':' + values[c].dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    line += '}';
  }
  return line + '\n';
}

std::vector<std::string> RowLayout::cells(std::string_view line) const {
  std::vector<std::string> out;
  if (format_ == RowFormat::csv) {
    out = split_csv_line(line);
  } else {
    Ordered j;
    try {
      j = Ordered::parse(line);
    } catch (const Ordered::parse_error&) {
      throw UsageError("not a JSON object: " + std::string(line.substr(0, 80)));
    }
    std::size_t c = 0;
    for (auto it = j.begin(); it != j.end(); ++it, ++c) {
      if (c >= columns_.size() || it.key() != columns_[c]) {
        throw UsageError("a row with the key \"" + it.key() + "\" where this sweep has " +
                         (c < columns_.size() ? "\"" + columns_[c] + "\"" : std::string("no more keys")));
      }
      out.push_back(cell_text(Json::parse(it->dump())));
    }
  }
  if (out.size() != columns_.size()) {
    throw UsageError("a row with " + std::to_string(out.size()) + " fields where this sweep has " +
                     std::to_string(columns_.size()) + " columns");
  }
  return out;
}

std::string RowLayout::cell(const Json& value) const {
  const std::string text = cell_text(value);
  if (format_ == RowFormat::jsonl) return text;  // cells() turns JSONL values into cell_text too
  return split_csv_line(text).front();            // a quoted cell ("a,b" with its quotes) reads back as a,b
}

std::optional<std::size_t> RowLayout::find_column(std::string_view name) const {
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    if (columns_[c] == name || (c >= swept_ && columns_[c] == "metrics." + std::string(name))) return c;
  }
  return std::nullopt;
}

RowFileScan scan_row_file(const std::string& path, const std::function<void(std::size_t, std::string_view)>& visit) {
  RowFileScan s;
  LineReader in(path);
  std::string line;
  std::optional<std::size_t> last;
  while (true) {
    const std::uint64_t at = in.offset();
    if (!in.next(line)) break;
    if (s.empty) {
      s.empty = false;
      if (!line.empty() && line.front() == '{') {
        s.format = RowFormat::jsonl;
        try {
          const Ordered first = Ordered::parse(line);
          for (auto it = first.begin(); it != first.end(); ++it) s.signature += (s.signature.empty() ? "" : ",") + it.key();
        } catch (const Ordered::parse_error&) {
          throw UsageError(path + ": the first line is neither a CSV header nor a JSON object");
        }
      } else {
        s.format = RowFormat::csv;
        in.read_csv_records();
        s.signature = line;
        s.header = line + "\n";
        s.rows_begin = in.offset();
        continue;
      }
    }
    const auto point = row_point(line);
    if (!point) throw UsageError(path + ": byte " + std::to_string(at) + ": a line that is not a sweep row (it must end in its point)");
    if (!last || *point <= *last) s.runs.push_back(at);
    last = point;
    ++s.rows;
    if (visit) visit(*point, line);
  }
  s.rows_end = in.offset();
  s.partial_tail = in.partial();
  if (s.rows == 0) s.rows_begin = s.rows_end;
  return s;
}

std::vector<RowRange> run_ranges(const std::string& file, const RowFileScan& scan) {
  std::vector<RowRange> out;
  for (std::size_t r = 0; r < scan.runs.size(); ++r) {
    out.push_back({file, scan.runs[r], r + 1 < scan.runs.size() ? scan.runs[r + 1] : scan.rows_end});
  }
  return out;
}

std::size_t merge_row_ranges(const std::vector<RowRange>& ranges, const std::string& header, const std::string& out,
                             bool contiguous) {
  struct Head {
    std::size_t point, source;
    bool operator>(const Head& o) const { return point != o.point ? point > o.point : source > o.source; }
  };
  std::vector<LineReader> readers;
  std::vector<std::string> lines(ranges.size());
  readers.reserve(ranges.size());
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heap;
  auto advance = [&](std::size_t r) {
    if (!readers[r].next(lines[r])) return;
    const auto p = row_point(lines[r]);
    if (!p) throw UsageError(ranges[r].file + ": a line that is not a sweep row: " + lines[r].substr(0, 80));
    heap.push({*p, r});
  };
  for (const RowRange& range : ranges) {
    readers.emplace_back(range.file, range.begin, range.end);
    if (!header.empty()) readers.back().read_csv_records();  // CSV (JSONL files have no header)
  }
  for (std::size_t r = 0; r < ranges.size(); ++r) advance(r);

  std::size_t written = 0;
  write_file_atomically(out, [&](std::ostream& file) {
    file << header;
    std::optional<std::size_t> previous;
    while (!heap.empty()) {
      const Head h = heap.top();
      heap.pop();
      if (previous && h.point == *previous) {
        throw UsageError("point " + std::to_string(h.point) + " is in more than one row (" + ranges[h.source].file +
                         "); were two shards given the same --shard, or a file given twice?");
      }
      const std::size_t expected = previous ? *previous + 1 : 0;
      if (contiguous && h.point != expected) {
        throw UsageError("point " + std::to_string(expected) + (h.point > expected + 1 ? " to " + std::to_string(h.point - 1) : "") +
                         " in none of the files; is a shard missing?");
      }
      file << lines[h.source] << '\n';
      ++written;
      previous = h.point;
      advance(h.source);
    }
  });
  return written;
}

}  // namespace infersim::sweep
