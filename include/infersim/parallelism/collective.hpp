#pragma once
// Cost of collectives over a group of chips, ring algorithms (docs/modeling.md section 3).
// A collective is priced as bytes each chip sends over its link plus a latency per algorithm step; the
// roofline kernel turns that into time with the link bandwidth and network efficiency.

#include "infersim/hardware/hardware_spec.hpp"

namespace infersim::parallelism {

struct Link {
  double bandwidth_bytes_per_s = 0;  // one direction, per chip
  double latency_s = 0;              // per algorithm step
  hardware::AllReduceAlgorithm all_reduce = hardware::AllReduceAlgorithm::ring;
};

/// The link a group of `group_size` chips communicates over: scale-up within the domain, else scale-out.
/// Throws InfeasibleError when the hardware lacks the link the group needs.
Link link_for_group(const hardware::HardwareSpec& hw, int group_size);

struct CollectiveCost {
  double bytes_per_chip = 0;  // bytes each chip sends
  double latency_s = 0;       // summed step latencies
};

/// All-reduce of `bytes` per chip: 2(t-1)/t * S sent; 2(t-1) latency steps for a ring, 2 ceil(log2 t) for a
/// tree (recursive halving and doubling), as the link says.
CollectiveCost all_reduce(double bytes, int group_size, const Link& link);
/// All-gather producing `bytes` per chip: (t-1)/t * S sent, (t-1) steps.
CollectiveCost all_gather(double bytes, int group_size, const Link& link);
/// All-to-all where each chip holds `bytes` destined evenly to all: (e-1)/e * S sent, 1 step (all peers at once).
CollectiveCost all_to_all(double bytes, int group_size, const Link& link);
/// An all-to-all over `group_size` chips that spans scale-up domains of `domain_chips` (group_size >
/// domain_chips): each chip holds `bytes` destined evenly to all group members; the (domain_chips - 1) /
/// group_size share for its own domain goes over the scale-up link (one step, as all_to_all), the
/// (group_size - domain_chips) / group_size share for other domains over the scale-out link in one step
/// (every remote write in flight at once, as DeepEP's RDMA kernels issue them).
struct SpanningAllToAll {
  CollectiveCost scale_up;
  CollectiveCost scale_out;
};
SpanningAllToAll all_to_all_spanning(double bytes, int group_size, int domain_chips, const Link& scale_up,
                                     const Link& scale_out);
/// all_to_all_spanning for a kernel that sends each token once per distinct remote domain and forwards it
/// inside that domain (DeepEP's internode normal kernels): `bytes` holds `top_k` copies per token; the scale-out
/// link carries `remote_domains` (expected_remote_nodes) of them, the scale-up link the copies for the chip's
/// own domain plus the forwarding of the remote copies inside their domain ((domain_chips - 1) / domain_chips
/// of the (group_size - domain_chips) / group_size share). One latency step each, as all_to_all_spanning.
SpanningAllToAll all_to_all_spanning_per_domain(double bytes, int group_size, int domain_chips, double top_k,
                                                double remote_domains, const Link& scale_up, const Link& scale_out);
/// An all-reduce of `bytes` per chip on a serving engine's own kernel (vLLM's custom all-reduce, which SGLang
/// adapted: vllm-project/vllm csrc/custom_all_reduce.cuh `allreduce`): one-shot on two chips, and below 512 KiB on
/// up to four or 256 KiB on up to eight fully connected chips (every chip reads the t-1 other buffers whole and sums
/// them, between a barrier on entry and one on exit: (t-1) S received, 2 latency steps); two-shot otherwise (each
/// chip sums its 1/t of every buffer, a barrier, then gathers the other sums: 2(t-1)/t S, 3 steps).
CollectiveCost custom_all_reduce(double bytes, int group_size, const Link& link);
/// Whether a tensor-parallel all-reduce of `bytes` over `group_size` chips of `hw` runs on an engine's own kernel
/// that takes messages below `max_bytes` (vllm/distributed/device_communicators/custom_all_reduce.py
/// `should_custom_ar`): 2, 4, 6 or 8 chips of one fully connected scale-up domain (vLLM also takes two PCIe chips
/// with peer-to-peer access; a profile does not say whether its PCIe cards have it, so they keep the ring). Only where the
/// domain's all-reduce is a ring or a tree: an in-switch all-reduce is already two steps, and the profiles of such
/// chips were calibrated on engines that ran these kernels.
bool runs_custom_all_reduce(double bytes, int group_size, double max_bytes, const hardware::HardwareSpec& hw);

/// Point-to-point send of `bytes`.
CollectiveCost send(double bytes, const Link& link);

}  // namespace infersim::parallelism
