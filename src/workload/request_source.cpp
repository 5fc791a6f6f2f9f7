#include "infersim/workload/request_source.hpp"

#include <algorithm>

namespace infersim::workload {

RequestSource::RequestSource(const WorkloadSpec& spec)
    : spec_(spec),
      arrivals_(Rng::stream(spec.seed, 1)),
      inputs_(Rng::stream(spec.seed, 2)),
      outputs_(Rng::stream(spec.seed, 3)) {
  if (spec_.process == ArrivalProcess::trace) {
    trace_ = read_trace(spec_.trace, spec_.requests);
    total_ = static_cast<std::int64_t>(trace_.rows.size());
  } else {
    total_ = spec_.requests;
  }
}

Request RequestSource::make(engine::SimTime arrival, std::int64_t input, std::int64_t output) {
  Request r;
  r.id = static_cast<std::uint64_t>(issued_++);
  r.arrival = arrival;
  r.input_tokens = input;
  r.output_tokens = output;
  return r;
}

bool RequestSource::next(Request& out) {
  if (issued_ >= total_) return false;
  switch (spec_.process) {
    case ArrivalProcess::trace: {
      const TraceRow& row = trace_.rows[static_cast<std::size_t>(issued_)];
      out = make(engine::from_seconds(row.arrival_s), row.input_tokens, row.output_tokens);
      if (row.hash_count > 0) {
        out.hashes = trace_.hashes.data() + row.hash_begin;
        out.hash_count = row.hash_count;
      }
      return true;
    }
    case ArrivalProcess::offline: break;
    case ArrivalProcess::closed_loop:
      if (issued_ >= spec_.concurrency) return false;  // later requests follow responses (issue_at)
      break;
    case ArrivalProcess::poisson:
      if (issued_ > 0) clock_s_ += arrivals_.exponential(1.0 / spec_.rate_per_s);
      break;
    case ArrivalProcess::constant:
      clock_s_ = static_cast<double>(issued_) / spec_.rate_per_s;
      break;
    case ArrivalProcess::gamma: {
      // Inter-arrival ~ Gamma(k = 1/cv^2, theta = 1/(rate k)): mean 1/rate, coefficient of variation cv.
      const double k = 1.0 / (spec_.cv * spec_.cv);
      if (issued_ > 0) clock_s_ += arrivals_.gamma(k, 1.0 / (spec_.rate_per_s * k));
      break;
    }
  }
  const std::int64_t input = spec_.input.sample(inputs_);
  const std::int64_t output = spec_.output.sample(outputs_);
  out = make(engine::from_seconds(clock_s_), input, output);
  return true;
}

bool RequestSource::issue_at(engine::SimTime arrival, Request& out) {
  if (issued_ >= total_) return false;
  const std::int64_t input = spec_.input.sample(inputs_);
  const std::int64_t output = spec_.output.sample(outputs_);
  out = make(arrival, input, output);
  return true;
}

}  // namespace infersim::workload
