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
    if (spec_.sessions.enabled) sessions_ = std::make_unique<Sessions>(spec_);
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

double RequestSource::open_loop_arrival_s(std::int64_t index) {
  switch (spec_.process) {
    case ArrivalProcess::poisson:
      if (index > 0) clock_s_ += arrivals_.exponential(1.0 / spec_.rate_per_s);
      break;
    case ArrivalProcess::constant:
      clock_s_ = static_cast<double>(index) / spec_.rate_per_s;
      break;
    case ArrivalProcess::gamma: {
      // Inter-arrival ~ Gamma(k = 1/cv^2, theta = 1/(rate k)): mean 1/rate, coefficient of variation cv.
      const double k = 1.0 / (spec_.cv * spec_.cv);
      if (index > 0) clock_s_ += arrivals_.gamma(k, 1.0 / (spec_.rate_per_s * k));
      break;
    }
    case ArrivalProcess::offline:
    case ArrivalProcess::closed_loop:
    case ArrivalProcess::trace: break;
  }
  return clock_s_;
}

bool RequestSource::session_turn(std::uint32_t session, engine::SimTime now, Request& out) {
  Request turn;
  double think_s = 0;
  if (!sessions_->next_turn(session, turn, think_s)) return false;
  // Saturating: a think time past the horizon gives an arrival the simulation rejects, never an overflow.
  const engine::SimTime arrival = now + std::min(engine::from_seconds(think_s), engine::kNever - now);
  out = make(arrival, turn.input_tokens, turn.output_tokens);
  out.hashes = turn.hashes;
  out.hash_count = turn.hash_count;
  out.generated_hash_count = turn.generated_hash_count;
  out.session = session;
  return true;
}

bool RequestSource::next(Request& out) {
  if (issued_ >= total_) return false;
  if (sessions_) {
    if (started_ >= sessions_->count()) return false;
    if (closed_loop() && started_ >= spec_.concurrency) return false;  // later sessions follow completions
    const double at_s = open_loop_arrival_s(started_);
    return session_turn(started_++, engine::from_seconds(at_s), out);
  }
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
    case ArrivalProcess::closed_loop:
      if (issued_ >= spec_.concurrency) return false;  // later requests follow responses (follow_up)
      break;
    case ArrivalProcess::offline:
    case ArrivalProcess::poisson:
    case ArrivalProcess::constant:
    case ArrivalProcess::gamma: break;
  }
  const double at_s = open_loop_arrival_s(issued_);
  const std::int64_t input = spec_.input.sample(inputs_);
  const std::int64_t output = spec_.output.sample(outputs_);
  out = make(engine::from_seconds(at_s), input, output);
  return true;
}

bool RequestSource::follow_up(std::uint32_t session, engine::SimTime now, Request& out) {
  if (issued_ >= total_) return false;
  const engine::SimTime think = engine::from_seconds(spec_.think_time_s);
  if (sessions_) {
    if (session != kNoSession && session_turn(session, now, out)) return true;
    // A closed-loop client whose session ended starts the next one think_time_s later.
    if (!closed_loop() || started_ >= sessions_->count()) return false;
    return session_turn(started_++, now + think, out);
  }
  if (!closed_loop()) return false;
  const std::int64_t input = spec_.input.sample(inputs_);
  const std::int64_t output = spec_.output.sample(outputs_);
  out = make(now + think, input, output);
  return true;
}

}  // namespace infersim::workload
