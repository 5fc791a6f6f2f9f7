#include "infersim/parallelism/collective.hpp"

#include <algorithm>
#include <cmath>

#include "infersim/core/error.hpp"

namespace infersim::parallelism {

Link link_for_group(const hardware::HardwareSpec& hw, int group_size) {
  const auto& ic = hw.interconnect;
  if (group_size <= ic.scale_up_domain_chips) {
    if (!ic.scale_up_bandwidth_bytes_per_s) {
      throw InfeasibleError(hw.name + " has no scale-up link bandwidth in its profile "
                            "(interconnect.scale_up_bandwidth_gb_per_s is null); a group of " +
                            std::to_string(group_size) + " chips cannot be priced");
    }
    return Link{*ic.scale_up_bandwidth_bytes_per_s, ic.scale_up_latency_s, ic.all_reduce};
  }
  if (!ic.scale_out_bandwidth_bytes_per_s) {
    throw InfeasibleError("a group of " + std::to_string(group_size) + " chips exceeds " + hw.name +
                          "'s scale-up domain of " + std::to_string(ic.scale_up_domain_chips) +
                          " chips and the profile has no scale-out bandwidth");
  }
  return Link{*ic.scale_out_bandwidth_bytes_per_s, ic.scale_out_latency_s, hardware::AllReduceAlgorithm::ring};
}

CollectiveCost all_reduce(double bytes, int t, const Link& link) {
  if (t <= 1) return {};
  switch (link.all_reduce) {
    case hardware::AllReduceAlgorithm::in_switch:
      return {bytes, 2.0 * link.latency_s};
    case hardware::AllReduceAlgorithm::tree:
      return {2.0 * (t - 1) / t * bytes, 2.0 * std::ceil(std::log2(t)) * link.latency_s};
    case hardware::AllReduceAlgorithm::ring:
      break;
  }
  return {2.0 * (t - 1) / t * bytes, 2.0 * (t - 1) * link.latency_s};
}

CollectiveCost all_gather(double bytes, int t, const Link& link) {
  if (t <= 1) return {};
  return {static_cast<double>(t - 1) / t * bytes, (t - 1) * link.latency_s};
}

CollectiveCost all_to_all(double bytes, int e, const Link& link) {
  if (e <= 1) return {};
  // Every chip writes its shares to all e-1 peers at once (DeepEP's NVLink kernels write each peer's buffer
  // directly; NCCL's grouped send/recv posts every peer together): one latency, not e-1 dependent steps.
  return {static_cast<double>(e - 1) / e * bytes, link.latency_s};
}

SpanningAllToAll all_to_all_spanning(double bytes, int e, int domain, const Link& up, const Link& out) {
  SpanningAllToAll c;
  if (e <= 1) return c;
  const int local = std::clamp(domain, 1, e);
  if (local > 1) c.scale_up = {static_cast<double>(local - 1) / e * bytes, up.latency_s};
  if (e > local) c.scale_out = {static_cast<double>(e - local) / e * bytes, out.latency_s};
  return c;
}

SpanningAllToAll all_to_all_spanning_per_domain(double bytes, int e, int domain, double top_k, double remote_domains,
                                                const Link& up, const Link& out) {
  SpanningAllToAll c = all_to_all_spanning(bytes, e, domain, up, out);
  const int local = std::clamp(domain, 1, e);
  if (e <= local || top_k <= 0) return c;
  const double remote_share = static_cast<double>(e - local) / e;
  c.scale_out.bytes_per_chip = bytes / top_k * remote_domains;
  // The copies that reached a remote domain's forwarding chip and belong to its peers cross that domain's link.
  const double forwarded = remote_share * (local - 1.0) / local * bytes;
  c.scale_up = {c.scale_up.bytes_per_chip + forwarded, up.latency_s};
  return c;
}

CollectiveCost custom_all_reduce(double bytes, int t, const Link& link) {
  if (t <= 1) return {};
  constexpr double kKiB = 1024.0;
  const bool one_shot = t == 2 || (t <= 4 && bytes < 512 * kKiB) || (t <= 8 && bytes < 256 * kKiB);
  if (one_shot) return {(t - 1) * bytes, 2.0 * link.latency_s};
  return {2.0 * (t - 1) / t * bytes, 3.0 * link.latency_s};
}

bool runs_custom_all_reduce(double bytes, int t, double max_bytes, const hardware::HardwareSpec& hw) {
  const auto& ic = hw.interconnect;
  if (max_bytes <= 0 || bytes >= max_bytes || ic.all_reduce == hardware::AllReduceAlgorithm::in_switch) return false;
  if (t != 2 && t != 4 && t != 6 && t != 8) return false;
  return t <= ic.scale_up_domain_chips && ic.scale_up_bandwidth_bytes_per_s && ic.scale_up_fully_connected;
}

CollectiveCost send(double bytes, const Link& link) { return {bytes, link.latency_s}; }

}  // namespace infersim::parallelism
