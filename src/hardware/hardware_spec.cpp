#include "infersim/hardware/hardware_spec.hpp"

#include <algorithm>

namespace infersim::hardware {

double HardwareSpec::vector_flops_per_s() const {
  const auto& p = compute.peak_flops_per_s;
  if (p[index_of(DType::fp32)] > 0) return p[index_of(DType::fp32)];
  return std::max({p[index_of(DType::bf16)], p[index_of(DType::fp16)], p[index_of(DType::int8)],
                   p[index_of(DType::fp8)]});
}

std::string_view to_string(DeviceKind kind) { return kDeviceKindNames[static_cast<std::size_t>(kind)]; }

}  // namespace infersim::hardware
