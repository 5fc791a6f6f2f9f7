#pragma once
// Request traces: CSV or JSONL rows of (arrival time, input tokens, output tokens).
//
// CSV needs a header naming the columns; recognised names (case-insensitive):
//   time:   arrival_s, timestamp_s, time_s, timestamp (seconds, or a date-time "YYYY-MM-DD HH:MM:SS[.f]")
//   input:  input_tokens, prompt_tokens, contexttokens (the Azure LLM inference traces' ContextTokens)
//   output: output_tokens, completion_tokens, generatedtokens (Azure's GeneratedTokens)
// JSONL has one object per line with the same keys. Mooncake (format "mooncake", Kimi's FAST'25 traces) is
// JSONL with `timestamp` in milliseconds, `input_length`, `output_length` and `hash_ids` (the prompt's
// 512-token blocks, equal ids = shared prefix). Output may be 0 tokens (a prefill-only or cancelled request);
// input at least 1. Rows must be in time order unless spec.sort. A bad row is an error naming the file and
// line, or with spec.skip_bad_rows is left out and counted in the load's notes.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "infersim/workload/workload_spec.hpp"

namespace infersim::workload {

struct TraceRow {
  double arrival_s = 0;  // seconds after the first row of the window, already divided by rate_scale
  std::int64_t input_tokens = 1;
  std::int64_t output_tokens = 1;  // 0 = prefill only
  std::uint32_t hash_begin = 0;    // the row's prompt block hashes: TraceLoad::hashes[hash_begin, + hash_count)
  std::uint32_t hash_count = 0;
};

/// Tokens per prompt block of the Mooncake traces' hash_ids.
inline constexpr std::int64_t kMooncakeBlockTokens = 512;

/// A loaded trace: its rows, the prompt block hashes of all rows (one array: compact), the tokens a hash
/// covers (0 when the trace has none), and notes for the report (rows skipped or sorted).
struct TraceLoad {
  std::vector<TraceRow> rows;
  std::vector<std::uint64_t> hashes;
  std::int64_t hash_block_tokens = 0;
  std::vector<std::string> notes;
};

/// Read a trace, apply the window, the rate scale and the request cap. Throws ConfigError on bad input.
TraceLoad read_trace(const TraceSpec& spec, std::int64_t max_requests);
/// The rows only (read_trace(spec, max_requests).rows).
std::vector<TraceRow> load_trace(const TraceSpec& spec, std::int64_t max_requests);
/// The same from a stream (messages name spec.path); the format comes from spec.format or spec.path.
TraceLoad parse_trace(std::istream& in, const TraceSpec& spec, std::int64_t max_requests);

/// Seconds since 1970-01-01 of "YYYY-MM-DD HH:MM:SS[.fraction]" (or with 'T'); false if malformed.
bool parse_datetime(const std::string& text, double& seconds);

}  // namespace infersim::workload
