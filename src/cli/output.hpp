#pragma once
// Output formats shared by the commands: aligned text tables, CSV and JSON.

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace infersim::cli {

enum class Format { table, json, csv };

/// Adds `--format table|json|csv` to a sub-command.
void add_format_option(CLI::App& app, Format& format);

/// A word option's check: one of `choices` (any case, turned to lower case); otherwise "expected one of: a, b,
/// c; found X" (CLI::IsMember would print its internal description of the set).
CLI::Validator one_of(std::vector<std::string> choices);

/// A number option's check: finite and in [lo, hi] (CLI::Range lets "nan" through: every comparison with NaN
/// is false).
CLI::Validator finite_range(double lo, double hi);

/// A table of strings with a header row. Numbers are formatted by the caller.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header, std::vector<bool> right_aligned = {});
  void add_row(std::vector<std::string> row);
  void print(std::ostream& os) const;      // aligned columns
  void print_csv(std::ostream& os) const;  // RFC 4180 quoting
  std::size_t rows() const { return rows_.size(); }

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

/// Quote a CSV field when it needs it.
std::string csv_field(const std::string& s);

/// Fixed-point with `decimals` digits.
std::string fixed(double v, int decimals);
/// Significant digits, no exponent for ordinary magnitudes.
std::string sig(double v, int digits = 4);

}  // namespace infersim::cli
