#include "infersim/scenario/requests_out.hpp"

#include <cstdio>
#include <ostream>

namespace infersim::scenario {

RequestOutcome request_outcome(const serving::RequestRecord& r) {
  using engine::to_seconds;
  RequestOutcome o;
  o.replica = r.replica;
  o.arrival_s = to_seconds(r.arrival);
  o.input_tokens = r.input_tokens;
  o.output_tokens = r.output_tokens;
  o.queue_s = to_seconds(r.first_scheduled - r.arrival);
  o.ttft_s = to_seconds(r.first_token - r.arrival);
  o.tpot_s = r.output_tokens > 1 ? to_seconds(r.completion - r.first_token) / (r.output_tokens - 1) : 0.0;
  o.e2e_s = to_seconds(r.completion - r.arrival);
  o.completion_s = to_seconds(r.completion);
  o.preemptions = r.preemptions;
  return o;
}

void write_requests_csv(std::ostream& os, const serving::RequestTable& table) {
  for (std::size_t c = 0; c < kRequestColumns.size(); ++c) os << (c ? "," : "") << kRequestColumns[c];
  os << '\n';
  char buf[256];
  for (std::size_t i = 0; i < table.size(); ++i) {
    const RequestOutcome o = request_outcome(table[i]);
    std::snprintf(buf, sizeof buf, "%zu,%d,%.9f,%d,%d,%.9f,%.9f,%.9f,%.9f,%.9f,%d\n", i, o.replica, o.arrival_s,
                  o.input_tokens, o.output_tokens, o.queue_s, o.ttft_s, o.tpot_s, o.e2e_s, o.completion_s,
                  o.preemptions);
    os << buf;
  }
}

}  // namespace infersim::scenario
