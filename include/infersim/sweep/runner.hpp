#pragma once
// Running a sweep: the points of one shard, on a pool of threads, written in point order.
//
// Output to a file resumes: when `out` already holds rows of this sweep (same columns, and each row's swept
// values those of its point), their points are skipped and the new rows appended; a line cut short by an
// interruption is dropped first. Each row is flushed as it is written, so an interrupted sweep keeps every
// finished row. Rows are written in point order, so a resumed file is normally still in order; when it is
// not (rows appended after a gap), it is rewritten in order at the end, atomically. A point that fails is a
// row with its `error` filled, not an aborted sweep.

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include "infersim/sweep/rows.hpp"
#include "infersim/sweep/sweep_spec.hpp"

namespace infersim::sweep {

struct SweepProgress {
  std::size_t done = 0;    // points run so far
  std::size_t total = 0;   // points this run will run
  std::size_t failed = 0;  // of those done, rows with an error
};

struct SweepOptions {
  unsigned jobs = 0;  // threads; 0 = every core
  Shard shard;
  RowFormat format = RowFormat::csv;
  std::string out;                 // the output file; empty = `stream`
  std::ostream* stream = nullptr;  // where rows go without `out`
  /// Called on the calling thread after every row and a few times a second while points run.
  std::function<void(const SweepProgress&)> progress;
  /// Called with every row of the output, in file order, rows kept from an earlier run included.
  std::function<void(std::size_t point, std::string_view row)> on_row;
};

struct SweepSummary {
  std::size_t points = 0;           // in the sweep
  std::size_t in_shard = 0;         // in this shard
  std::size_t resumed = 0;          // rows already done (in `out` or an interrupted run's rows), skipped
  std::size_t ran = 0;              // points run now
  std::size_t failed = 0;           // rows with an error in the output (kept rows included)
  std::size_t internal_errors = 0;  // of those, errors of infersim itself rather than of the input
  std::string first_error;          // "point 3: ...", the first failed row's message
  bool dropped_partial_row = false; // the rows of an interrupted run ended in a row cut short; it was dropped
};

/// Run a sweep. Throws UsageError when `out` cannot be written or holds rows of another sweep.
SweepSummary run_sweep(const SweepSpec& spec, const SweepOptions& options);

/// Where a sweep writes its rows until every point is done: ".NAME.partial" beside `out`, then renamed to it.
std::string partial_output_path(const std::string& out);

/// Join the outputs of `sweep --shard` into `out`, byte for byte the file one full run writes. Throws
/// UsageError for files of different sweeps, a point in two files, or a point in none (a missing shard).
/// Returns the rows written.
std::size_t merge_shards(const std::vector<std::string>& inputs, const std::string& out);

}  // namespace infersim::sweep
