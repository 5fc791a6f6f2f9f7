#pragma once
// Numeric data types of weights, activations and the KV cache, with their storage size.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace infersim {

enum class DType : std::uint8_t { fp32, tf32, bf16, fp16, fp8, int8, int4, fp4 };

inline constexpr std::size_t kDTypeCount = 8;

inline constexpr std::array<std::string_view, kDTypeCount> kDTypeNames = {"fp32", "tf32", "bf16", "fp16",
                                                                          "fp8",  "int8", "int4", "fp4"};

/// Bytes one element occupies in memory (tf32 is stored as fp32; int4/fp4 pack two per byte).
constexpr double bytes_per_element(DType t) {
  switch (t) {
    case DType::fp32:
    case DType::tf32: return 4.0;
    case DType::bf16:
    case DType::fp16: return 2.0;
    case DType::fp8:
    case DType::int8: return 1.0;
    case DType::int4:
    case DType::fp4: return 0.5;
  }
  return 0.0;
}

constexpr std::string_view to_string(DType t) { return kDTypeNames[static_cast<std::size_t>(t)]; }
constexpr std::size_t index_of(DType t) { return static_cast<std::size_t>(t); }

constexpr std::optional<DType> parse_dtype(std::string_view s) {
  for (std::size_t i = 0; i < kDTypeCount; ++i) {
    if (kDTypeNames[i] == s) return static_cast<DType>(i);
  }
  return std::nullopt;
}

}  // namespace infersim
