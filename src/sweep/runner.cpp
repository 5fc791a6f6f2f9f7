#include "infersim/sweep/runner.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <ostream>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "infersim/core/cancel.hpp"
#include "infersim/core/error.hpp"
#include "infersim/sweep/evaluate.hpp"
#include "infersim/sweep/ordered_pool.hpp"
#include "infersim/sweep/text_file.hpp"

namespace infersim::sweep {

namespace {

namespace fs = std::filesystem;

struct PointRow {
  std::string text;
  std::string error;
  bool internal = false;
};

PointRow run_point(const SweepSpec& spec, const RowLayout& layout, std::size_t point) {
  const auto values = spec.values(point);
  PointRow r;
  try {
    const config::Json report = evaluate(spec.base, spec.overrides(point));
    r.text = layout.row(point, values, &report, "");
  } catch (const Cancelled&) {
    throw;  // the front end stopped the sweep: not a row
  } catch (...) {
    r.error = describe_current_exception(r.internal);
    r.text = layout.row(point, values, nullptr, r.error);
  }
  return r;
}

/// Appends rows to a file, each flushed as it is written.
class Appender {
 public:
  explicit Appender(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "ab")) {
    if (!file_) throw UsageError("cannot write " + path);
  }
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;
  ~Appender() {
    if (file_) std::fclose(file_);
  }
  void write(std::string_view text) {
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
      throw UsageError("error writing " + path_);
    }
  }
  /// Flush to disk (the file is renamed over the output next) and close.
  void close() {
    const bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0 && std::fclose(file_) == 0;
    file_ = nullptr;
    if (!ok) throw UsageError("error writing " + path_);
  }

 private:
  std::string path_;
  std::FILE* file_;
};

/// An exclusive lock (flock) on the partial file, held until the sweep ends: two sweeps appending to the
/// same file would interleave their rows and truncate each other's, so the second is refused at start.
class PartialLock {
 public:
  explicit PartialLock(const std::string& partial, const std::string& out)
      : fd_(::open(partial.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666)) {
    if (fd_ < 0) throw UsageError("cannot write " + partial + " (beside " + out + "): " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd_);
      if (err == EWOULDBLOCK) {
        throw UsageError("another sweep is writing " + out + " (it holds the lock on " + partial +
                         "); wait for it to finish, or give another --out");
      }
      throw UsageError("cannot lock " + partial + ": " + std::strerror(err));
    }
  }
  PartialLock(const PartialLock&) = delete;
  PartialLock& operator=(const PartialLock&) = delete;
  ~PartialLock() { ::close(fd_); }

 private:
  int fd_;
};

/// Read the rows an earlier run left in `path`: mark their points done, count failures, check that they
/// belong to this sweep and shard, and drop a line cut short. Returns false when there is nothing to keep.
bool read_existing(const std::string& path, const SweepSpec& spec, const RowLayout& layout, const Shard& shard,
                   std::vector<bool>& done, SweepSummary& s, const SweepOptions& o) {
  std::error_code ec;
  if (!fs::exists(path, ec) || fs::file_size(path, ec) == 0) return false;
  const std::string other = o.out + " holds rows of another sweep (or of an edited sweep file): ";
  const std::string fix = "; write to another --out, or delete " + o.out + " and " + path + " to start again";
  {
    LineReader first(path);
    std::string line;
    if (first.next(line)) {
      const RowFormat format = !line.empty() && line.front() == '{' ? RowFormat::jsonl : RowFormat::csv;
      if (format != layout.format()) {
        throw UsageError(o.out + " holds " + (format == RowFormat::csv ? "CSV" : "JSONL") + " rows; give the --format it was written with" + fix);
      }
      if (format == RowFormat::csv && line != layout.signature()) throw UsageError(other + "its columns differ" + fix);
    }
  }
  const RowFileScan scan = scan_row_file(path, [&](std::size_t point, std::string_view line) {
    auto where = [&] { return "point " + std::to_string(point) + ": "; };
    if (point >= spec.points()) throw UsageError(other + where() + "this sweep has " + std::to_string(spec.points()) + " points" + fix);
    if (!shard.contains(point)) {
      throw UsageError(o.out + ": " + where() + "not in shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count) +
                       " (was the file written with another --shard?)" + fix);
    }
    if (done[point]) throw UsageError(o.out + ": " + where() + "its row is there twice" + fix);
    std::vector<std::string> cells;
    try {
      cells = layout.cells(line);
    } catch (const UsageError& e) {
      throw UsageError(other + where() + e.what() + fix);
    }
    const auto values = spec.values(point);
    for (std::size_t k = 0; k < values.size(); ++k) {
      if (cells[k] != layout.cell(values[k])) {
        throw UsageError(other + where() + "its row has " + layout.columns()[k] + "=" + cells[k] + ", this sweep " +
                         layout.cell(values[k]) + fix);
      }
    }
    done[point] = true;
    ++s.resumed;
    if (const std::string& error = cells[layout.error_column()]; !error.empty()) {
      if (s.failed++ == 0) s.first_error = "point " + std::to_string(point) + ": " + error;
      if (error.starts_with("internal error")) ++s.internal_errors;
    }
    if (o.on_row) o.on_row(point, line);
  });
  if (!scan.empty && scan.signature != layout.signature()) throw UsageError(other + "its columns differ" + fix);
  s.dropped_partial_row = scan.partial_tail;
  fs::resize_file(path, scan.empty ? 0 : scan.rows_end, ec);
  if (ec) throw UsageError("cannot truncate " + path + ": " + ec.message());
  return !scan.empty;
}

}  // namespace

std::string partial_output_path(const std::string& out) {
  const fs::path p(out);
  return (p.parent_path() / ("." + p.filename().string() + ".partial")).string();
}

SweepSummary run_sweep(const SweepSpec& spec, const SweepOptions& o) {
  const RowLayout layout(spec.keys(), o.format);
  SweepSummary s;
  s.points = spec.points();
  s.in_shard = o.shard.size(s.points);
  std::vector<bool> done(s.points, false);

  // Rows go to a hidden file beside --out, appended and flushed one by one, which is renamed over --out when
  // every point is done: --out is only ever absent, the old file or the complete new one. A rerun resumes from
  // the hidden file an interrupted run left (or from a finished --out).
  std::optional<PartialLock> lock;
  std::optional<Appender> file;
  const std::string partial = o.out.empty() ? std::string() : partial_output_path(o.out);
  if (!o.out.empty()) {
    std::error_code ec;
    if (fs::is_directory(o.out, ec)) throw UsageError("cannot write " + o.out + ": it is a directory");
    const bool copied = !fs::exists(partial, ec) && fs::exists(o.out, ec);
    lock.emplace(partial, o.out);  // creates the partial file when there was none
    if (copied) {
      fs::copy_file(o.out, partial, fs::copy_options::overwrite_existing, ec);
      if (ec) throw UsageError("cannot write " + partial + " (beside " + o.out + "): " + ec.message());
    }
    bool kept = false;
    try {
      kept = read_existing(partial, spec, layout, o.shard, done, s, o);
    } catch (...) {
      if (copied) fs::remove(partial, ec);  // --out is of another sweep: leave no trace of the attempt
      throw;
    }
    file.emplace(partial);
    if (!kept) file->write(layout.header());
  } else if (o.stream) {
    *o.stream << layout.header();
  }
  auto emit = [&](std::string_view text) {
    if (file) {
      file->write(text);
    } else if (o.stream) {
      *o.stream << text;
      o.stream->flush();
    }
  };

  SweepProgress progress{0, s.in_shard - s.resumed, 0};
  const unsigned jobs = o.jobs > 0 ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
  ordered_parallel_map(
      s.in_shard, jobs,
      [&](std::size_t k) -> std::optional<PointRow> {
        const std::size_t point = o.shard.index + k * o.shard.count;
        if (done[point]) return std::nullopt;
        return run_point(spec, layout, point);
      },
      [&](std::size_t k, std::optional<PointRow>&& row) {
        if (!row) return;
        const std::size_t point = o.shard.index + k * o.shard.count;
        emit(row->text);
        ++s.ran;
        ++progress.done;
        if (!row->error.empty()) {
          ++progress.failed;
          if (s.failed++ == 0) s.first_error = "point " + std::to_string(point) + ": " + row->error;
          if (row->internal) ++s.internal_errors;
        }
        if (o.on_row) o.on_row(point, std::string_view(row->text).substr(0, row->text.size() - 1));
        if (o.progress) o.progress(progress);
        poll_cancellation();
      },
      [&] {
        check_cancellation_now();  // while workers run points, the caller's front end may ask to stop
        if (o.progress) o.progress(progress);
      });

  if (file) {
    file->close();
    const RowFileScan scan = scan_row_file(partial);
    std::error_code ec;
    if (scan.runs.size() > 1) {
      // Rows appended after a gap left by an earlier run: written to --out in point order.
      merge_row_ranges(run_ranges(partial, scan), scan.header, o.out, false);
      fs::remove(partial, ec);
    } else {
      fs::rename(partial, o.out, ec);
      if (ec) throw UsageError("cannot write " + o.out + ": " + ec.message() + " (the rows are in " + partial + ")");
    }
  }
  return s;
}

std::size_t merge_shards(const std::vector<std::string>& inputs, const std::string& out) {
  std::vector<RowRange> ranges;
  std::optional<RowFileScan> first;
  std::string first_file;
  for (const std::string& input : inputs) {
    const RowFileScan scan = scan_row_file(input);
    if (scan.partial_tail) {
      throw UsageError(input + " ends in a row cut short: its sweep was interrupted; run the same sweep --shard command again "
                               "with the same --out to finish it");
    }
    if (scan.empty) continue;  // a JSONL shard with no points
    if (!first) {
      first = scan;
      first_file = input;
    } else if (scan.format != first->format || scan.signature != first->signature) {
      throw UsageError(input + " and " + first_file + " come from different sweeps: their " +
                       (scan.format != first->format ? "formats" : "columns") + " differ");
    }
    const auto r = run_ranges(input, scan);
    ranges.insert(ranges.end(), r.begin(), r.end());
  }
  if (!first) {
    // Every input empty: writing an empty --out with exit 0 would pass for a merged sweep.
    throw UsageError("no rows to merge: " + std::string(inputs.size() == 1 ? "the input is" : "every input is") +
                     " empty (a sweep's output has a CSV header or at least one JSONL row)");
  }
  return merge_row_ranges(ranges, first->header, out, true);
}

}  // namespace infersim::sweep
