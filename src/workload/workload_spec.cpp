#include "infersim/workload/workload_spec.hpp"

namespace infersim::workload {

double requests_per_arrival(const WorkloadSpec& w) { return w.sessions.enabled ? w.sessions.turns.expected() : 1.0; }

double expected_input_tokens(const WorkloadSpec& w) {
  if (!w.sessions.enabled) return w.input.expected();
  // Turn k (1-based) of a session reads S + (k - 1)(m + o) + m tokens; over a session of T turns that sums to
  // T (S + m) + (m + o) T (T - 1) / 2, and the mean over requests divides the expectations by E[T].
  const SessionSpec& s = w.sessions;
  const double t1 = s.turns.expected(), t2 = s.turns.second_moment();
  const double m = s.message.expected(), o = w.output.expected();
  return static_cast<double>(s.system_prompt_tokens) + m + (m + o) * (t2 - t1) / (2.0 * t1);
}

std::int64_t input_upper_bound(const WorkloadSpec& w) {
  if (!w.sessions.enabled) return w.input.upper_bound();
  const SessionSpec& s = w.sessions;
  const std::int64_t t = s.turns.upper_bound(), m = s.message.upper_bound(), o = w.output.upper_bound();
  if (t <= 0 || m <= 0 || o <= 0) return 0;
  return s.system_prompt_tokens + t * m + (t - 1) * o;
}

}  // namespace infersim::workload
