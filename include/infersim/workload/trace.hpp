#pragma once
// Request traces: CSV or JSONL rows of (arrival time, input tokens, output tokens).
//
// CSV needs a header naming the columns; recognised names (case-insensitive):
//   time:   arrival_s, timestamp_s, time_s, timestamp (seconds, or a date-time "YYYY-MM-DD HH:MM:SS[.f]")
//   input:  input_tokens, prompt_tokens, contexttokens (the Azure LLM inference traces' ContextTokens)
//   output: output_tokens, completion_tokens, generatedtokens (Azure's GeneratedTokens)
// JSONL has one object per line with the same keys. Rows must be in time order. A bad row is an error
// naming the file and line.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "infersim/workload/workload_spec.hpp"

namespace infersim::workload {

struct TraceRow {
  double arrival_s = 0;  // seconds after the first row of the window, already divided by rate_scale
  std::int64_t input_tokens = 1;
  std::int64_t output_tokens = 1;
};

/// Read a trace, apply the window, the rate scale and the request cap. Throws ConfigError on bad input.
std::vector<TraceRow> load_trace(const TraceSpec& spec, std::int64_t max_requests);
/// The same from a stream (messages name spec.path); the format comes from spec.format or spec.path.
std::vector<TraceRow> parse_trace(std::istream& in, const TraceSpec& spec, std::int64_t max_requests);

/// Seconds since 1970-01-01 of "YYYY-MM-DD HH:MM:SS[.fraction]" (or with 'T'); false if malformed.
bool parse_datetime(const std::string& text, double& seconds);

}  // namespace infersim::workload
