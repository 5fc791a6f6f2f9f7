#pragma once
// Input limits (docs/reliability.md). A value beyond one of these is a configuration error with a message
// that names the limit, not an attempt to allocate or simulate it: a tiny config must not ask for 100 GB of
// memory or overflow the integer arithmetic of time, tokens or chips.

#include <cstddef>
#include <cstdint>

namespace infersim::limits {

/// Nesting of arrays and objects in a JSON file (real configs nest 4 deep; copies of JSON values recurse).
inline constexpr int kMaxJsonDepth = 100;
/// Size of a JSON configuration file (the largest shipped one is 20 kB).
inline constexpr std::size_t kMaxJsonBytes = std::size_t{256} << 20;
/// One line of a trace or token-count file (a longer line is binary data or the wrong file, e.g. /dev/zero).
inline constexpr std::size_t kMaxLineBytes = 1 << 20;
/// Requests in one simulation: each holds an 80-byte record, and 8 bytes of latency samples at the end; a
/// 10,000,000-request run peaked at 1.2 GB (docs/reliability.md), so the limit needs about 12 GB.
inline constexpr std::int64_t kMaxRequests = 100'000'000;
/// Input or output tokens of one request (the longest published context is 10 million tokens).
inline constexpr std::int64_t kMaxTokensPerRequest = 100'000'000;
/// Chips of one pool: tensor_parallel x pipeline_parallel x replicas.
inline constexpr std::int64_t kMaxChips = 1'000'000;
/// Simulated time: no arrival or step may end later than this (about 31.7 years), which keeps integer
/// nanoseconds far from overflow (int64 holds 292 years).
inline constexpr double kHorizonSeconds = 1e9;

/// Tokens one simulation may process (requests x expected input + output tokens), a bound on its work: the
/// 10,000,000-request run of docs/reliability.md is 6e9 tokens and 70 s, so the default is a few minutes.
/// Raised (or lowered) with the environment variable INFERSIM_MAX_SIMULATED_TOKENS.
inline constexpr double kDefaultMaxSimulatedTokens = 2e10;
/// Values of an empirical token distribution (inline or from a file): 10 million samples are 80 MB.
inline constexpr std::size_t kMaxEmpiricalValues = 10'000'000;

/// Physical plausibility of a chip, about 50x the largest shipped profile (Cerebras WSE-3: 62,500 TFLOP/s,
/// 21,000 TB/s, 44 GB of SRAM; a 768 GB CPU host): 1e308 GB is a typo, and would overflow the sizing
/// arithmetic into inf.
inline constexpr double kMaxPeakTflops = 1e7;
inline constexpr double kMaxMemoryGb = 1e5;
inline constexpr double kMaxBandwidthTbPerS = 1e6;
inline constexpr double kMaxSramMb = 1e7;
inline constexpr double kMaxLinkGbPerS = 1e6;
inline constexpr double kMaxLatencyUs = 1e6;
inline constexpr double kMaxPowerW = 1e6;
inline constexpr double kMaxUsdPerChipHour = 1e4;

}  // namespace infersim::limits
