#pragma once
// Studies: a named set of variants of one base scenario, run and tabulated side by side (markdown, CSV or
// JSON). configs/studies/efficiency-table.json is the efficiency table of docs/efficiency.md.
//
// {"title": "...", "description": "...", "base": SCENARIO or path,
//  "rows": [{"name": "...", "note": "...", "set": {"dotted.key": value, ...}}, ...]}

#include <string>
#include <vector>

#include "infersim/config/catalog.hpp"

namespace infersim::scenario {

struct StudyRow {
  std::string name, note;
  std::vector<std::pair<std::string, config::Json>> set;  // dotted key, value
};

struct StudySpec {
  std::string title, description, file;
  config::Document base;  // the base scenario (inline or loaded), with where it came from
  std::vector<StudyRow> rows;
};

StudySpec load_study(const std::string& path);

struct StudyResult {
  std::vector<std::string> names, notes;
  std::vector<config::Json> reports;  // make_report() of each row, or {"error": "..."} when it cannot run
};

/// Run every row; `base_overrides` apply to the base scenario before each row's own settings.
StudyResult run_study(const StudySpec& study, const std::vector<std::string>& base_overrides = {});

/// The table: technique, model, hardware, chips, cost, latency percentiles, throughput, change vs the first row.
std::string study_markdown(const StudySpec& study, const StudyResult& result);
std::string study_csv(const StudyResult& result);

}  // namespace infersim::scenario
