// Fuzz target: the trace reader. The first byte chooses the format (CSV, JSONL or Mooncake) and the replay
// options (window, rate scale, request cap, skipping bad rows, sorting); the rest is the file.

#include <sstream>

#include "fuzz_support.hpp"
#include "infersim/workload/trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infersim;
  if (size == 0) return 0;
  const std::uint8_t options = data[0];
  workload::TraceSpec spec;
  spec.path = "trace";
  spec.format = (options & 1) ? ((options & 64) ? "mooncake" : "jsonl") : "csv";
  spec.sort = (options & 64) != 0;
  spec.skip_bad_rows = (options & 128) != 0;
  if (options & 2) spec.rate_scale = (options & 4) ? 1e-300 : 1e300;
  if (options & 8) spec.start_s = 1.0;
  if (options & 16) spec.end_s = 2.0;
  const std::int64_t max_requests = (options & 32) ? 3 : 0;
  return fuzz::accept_typed_errors([&] {
    std::istringstream in(std::string(fuzz::as_text(data + 1, size - 1)));
    const auto rows = workload::parse_trace(in, spec, max_requests);
    (void)rows;
  });
}
