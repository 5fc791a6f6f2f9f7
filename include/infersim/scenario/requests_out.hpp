#pragma once
// Per-request results (`run --requests-out FILE`, and `infersim.requests()` in Python): one row per request
// with its columns defined once here, written as CSV or handed over column by column.

#include <array>
#include <cstdint>
#include <iosfwd>
#include <string_view>

#include "infersim/serving/request_table.hpp"

namespace infersim::scenario {

/// One request's outcome, in seconds from the start of the run (times relative to its arrival except
/// arrival_s and completion_s). tpot_s is 0 for a request of one output token.
struct RequestOutcome {
  std::int32_t replica = -1;
  double arrival_s = 0;
  std::int32_t input_tokens = 0, output_tokens = 0;
  double queue_s = 0, ttft_s = 0, tpot_s = 0, e2e_s = 0, completion_s = 0;
  std::int32_t preemptions = 0;
};

/// The columns in file order, the request's id (its index in the table) first.
inline constexpr std::array<std::string_view, 11> kRequestColumns = {
    "id", "replica", "arrival_s", "input_tokens", "output_tokens", "queue_s", "ttft_s", "tpot_s", "e2e_s",
    "completion_s", "preemptions"};

RequestOutcome request_outcome(const serving::RequestRecord& r);

/// One CSV row per request after the header, streamed (ten million rows are about 1 GB of text).
void write_requests_csv(std::ostream& os, const serving::RequestTable& table);

}  // namespace infersim::scenario
