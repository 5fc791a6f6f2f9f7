#pragma once
// A one-line progress bar on stderr (done/total, rate, ETA), drawn only when stderr is a terminal.

#include <chrono>
#include <cstddef>

namespace infersim::cli {

class ProgressBar {
 public:
  /// `label` is printed before the bar; nothing at all is drawn unless stderr is a terminal.
  explicit ProgressBar(const char* label);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  /// Redraw, at most ten times a second (and always when done == total).
  void update(std::size_t done, std::size_t total, std::size_t failed);
  /// End the line (called by the destructor too).
  void finish();

 private:
  const char* label_;
  bool enabled_, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace infersim::cli
