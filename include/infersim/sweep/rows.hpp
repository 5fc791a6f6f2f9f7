#pragma once
// Output rows of a sweep (contract: sweep file): one row per point, CSV with a header line, or JSONL.
//
// Columns, in this order: the swept keys (grid keys, then zip keys), every metric of the report flattened
// with dots (`metrics.ttft_s.p99`; scenario::metric_keys(), so every row has all of them, empty or null
// where a scenario has no such metric), `error` (empty, or why the point could not run) and `point` (the
// point's index in the sweep order, the last field of every row: resume and merge read it).
//
// A row is a function of the sweep file and the point alone: numbers are printed with a fixed format
// (CSV: 9 significant digits; JSONL: the shortest text that reads back as the same double), so runs with
// any --jobs, shards merged, and resumed runs give the same bytes.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infersim/config/json_reader.hpp"

namespace infersim::sweep {

enum class RowFormat { csv, jsonl };

/// jsonl for a name ending in .jsonl or .ndjson, csv otherwise.
RowFormat format_for_path(const std::string& path);

/// A value as the text of one cell (scenario::csv_cell: RFC 4180, quoted where it holds a comma, a quote or a
/// line break, so a CSV row is one line unless a quoted value holds a line break).
std::string cell_text(const config::Json& v);

/// Split one CSV line into its fields (RFC 4180 quoting).
std::vector<std::string> split_csv_line(std::string_view line);

/// The point of a row: its last field. nullopt when the line does not end in one.
std::optional<std::size_t> row_point(std::string_view line);

class RowLayout {
 public:
  RowLayout(std::vector<std::string> swept_keys, RowFormat format);

  RowFormat format() const { return format_; }
  const std::vector<std::string>& columns() const { return columns_; }
  std::size_t swept() const { return swept_; }
  std::size_t error_column() const { return columns_.size() - 2; }

  /// The CSV header line (with its '\n'); empty for JSONL.
  std::string header() const;
  /// What scan_row_file() reports as the signature of a file of these rows.
  std::string signature() const;
  /// A row (with its '\n') from a report (make_report's JSON), or, when `report` is null, an error row.
  std::string row(std::size_t point, const std::vector<config::Json>& swept, const config::Json* report,
                  const std::string& error) const;
  /// The cells of a row as cell_text() writes them, one per column; UsageError when the row does not have
  /// exactly these columns.
  std::vector<std::string> cells(std::string_view line) const;
  /// A value as cells() returns it from a row this layout wrote (CSV: unquoted), to compare with a resumed row.
  std::string cell(const config::Json& value) const;
  /// A column by name: exact, or a metric without its "metrics." prefix.
  std::optional<std::size_t> find_column(std::string_view name) const;

 private:
  RowFormat format_;
  std::vector<std::string> columns_;
  std::size_t swept_;
};

/// Where the rows of a row file are, found without knowing its sweep (for merge and resume).
struct RowFileScan {
  RowFormat format = RowFormat::csv;
  bool empty = true;                 // no header and no row
  std::string signature;             // CSV: the header line; JSONL: the keys of the first row, joined by ','
  std::string header;                // CSV: the header line with its '\n'; JSONL: empty
  std::uint64_t rows_begin = 0;      // byte offset of the first row
  std::uint64_t rows_end = 0;        // byte offset after the last complete row
  bool partial_tail = false;         // the file ends in a line cut short (an interrupted write)
  std::vector<std::uint64_t> runs;   // byte offsets where ascending runs of points start
  std::size_t rows = 0;
};

/// Scan a row file, calling visit(point, row) for each row (a CSV record read whole, line breaks inside its
/// quoted fields kept). UsageError for a row that does not end in its point.
RowFileScan scan_row_file(const std::string& path,
                          const std::function<void(std::size_t, std::string_view)>& visit = nullptr);

/// Rows [begin, end) of a file, ascending by point.
struct RowRange {
  std::string file;
  std::uint64_t begin = 0, end = 0;
};

/// The ascending runs of a scanned file as ranges.
std::vector<RowRange> run_ranges(const std::string& file, const RowFileScan& scan);

/// Write `header` and the rows of `ranges` merged by point to `out`, atomically. UsageError when two
/// ranges hold the same point or, with `contiguous`, when a point from 0 to the last is in none. Returns
/// the rows written.
std::size_t merge_row_ranges(const std::vector<RowRange>& ranges, const std::string& header, const std::string& out,
                             bool contiguous);

}  // namespace infersim::sweep
