#pragma once
// Unit conversion factors. Inside infersim every quantity is SI (bytes, seconds, FLOP/s, bytes/s, watts);
// config keys carry their unit in the name and are converted once, at load time, with these factors.

namespace infersim::units {

inline constexpr double kGB = 1e9;         // bytes in a (decimal) gigabyte
inline constexpr double kMB = 1e6;         // bytes in a (decimal) megabyte
inline constexpr double kGBPerS = 1e9;     // bytes/s in a GB/s
inline constexpr double kTBPerS = 1e12;    // bytes/s in a TB/s
inline constexpr double kTFlopsPerS = 1e12;
inline constexpr double kMicrosecond = 1e-6;
inline constexpr double kMillisecond = 1e-3;
inline constexpr double kSecondsPerHour = 3600.0;

}  // namespace infersim::units
