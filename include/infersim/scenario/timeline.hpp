#pragma once
// The simulated timeline as a Chrome / Perfetto trace (JSON trace-event format; opens in ui.perfetto.dev
// and chrome://tracing): one process per replica with a track per pipeline lane showing every batch step,
// and a "requests" process with each request's lifetime (queued, prefill, decode) as nested async slices.

#include <cstdint>
#include <string>
#include <vector>

#include "infersim/scenario/scenario_spec.hpp"
#include "infersim/serving/simulation.hpp"

namespace infersim::scenario {

class TimelineRecorder final : public serving::StepListener {
 public:
  /// Steps beyond `max_steps` are not recorded (the file says how many were left out).
  explicit TimelineRecorder(std::size_t max_steps = 500000) : max_steps_(max_steps) {}
  void step(int pool, int replica, std::size_t lane, engine::SimTime start, engine::SimTime duration,
            const roofline::StepShape& shape) override;
  /// The trace, with at most `max_requests` request lifetimes.
  std::string to_json(const ScenarioSpec& scenario, const serving::SimulationResult& result,
                      std::size_t max_requests = 50000) const;

 private:
  struct Step {
    int pool, replica;
    std::uint32_t lane;
    engine::SimTime start, duration;
    std::int64_t prefill_tokens, decode_sequences, context_tokens;
  };
  std::size_t max_steps_;
  std::size_t dropped_ = 0;
  std::vector<Step> steps_;
};

}  // namespace infersim::scenario
