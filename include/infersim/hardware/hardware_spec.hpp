#pragma once
// One accelerator (or CPU), as read from a hardware profile. All quantities SI: bytes, seconds, FLOP/s,
// bytes/s, watts. Immutable once loaded; see docs/configuration.md for the file format.

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "infersim/core/dtype.hpp"

namespace infersim::hardware {

enum class DeviceKind { gpu, tpu, lpu, wafer, cpu, npu };
inline constexpr std::array<std::string_view, 6> kDeviceKindNames = {"gpu", "tpu", "lpu", "wafer", "cpu", "npu"};

struct ComputeSpec {
  /// Dense peak matrix rate per data type in FLOP/s (OP/s for integers); 0 = the chip has no such rate.
  std::array<double, kDTypeCount> peak_flops_per_s{};
  int gemm_tile_rows = 1;       // GEMM M is padded to a multiple of this
  int systolic_array_size = 0;  // 0 = none; else M, N, K are padded to it
  int compute_units = 0;        // streaming multiprocessors (NVIDIA) or compute units (AMD); 0 = not given
};

struct MemorySpec {
  std::string type;                 // HBM3, DDR5, SRAM, ...
  double capacity_bytes = 0;        // tier holding weights and KV cache
  double bandwidth_bytes_per_s = 0;
  std::optional<double> on_chip_sram_bytes;
  double reserved_bytes = 0;        // kept by the runtime
};

/// ring: 2(t-1)/t of the buffer over the link, 2(t-1) latency steps. tree: the same bytes, 2 ceil(log2 t) steps.
/// in_switch: the switch reduces (NVLink SHARP): each chip sends its buffer once and receives the sum once
/// (1x the buffer), 2 steps.
enum class AllReduceAlgorithm { ring, tree, in_switch };
inline constexpr std::array<std::string_view, 3> kAllReduceAlgorithmNames = {"ring", "tree", "in_switch"};

struct InterconnectSpec {
  std::string scale_up_name;
  AllReduceAlgorithm all_reduce = AllReduceAlgorithm::ring;  // within the scale-up domain
  std::optional<double> scale_up_bandwidth_bytes_per_s;  // per chip, one direction
  double scale_up_latency_s = 0;
  int scale_up_domain_chips = 1;
  // Every chip of the scale-up domain reads and writes every other's memory directly (NVSwitch, a full NVLink or
  // Infinity Fabric mesh, a 2-way NVLink bridge): what an engine's own all-reduce kernels need
  // (parallelism::runs_custom_all_reduce).
  bool scale_up_fully_connected = false;
  std::optional<double> scale_out_bandwidth_bytes_per_s;  // per chip, one direction
  double scale_out_latency_s = 0;
};

struct PowerSpec {
  std::optional<double> tdp_w;
  std::optional<double> idle_w;
  std::string source;
};

/// On what terms a profile's price is paid, read from the first words of its `basis` (docs/cost.md):
/// "on-demand", "reserved" (or "committed"), "spot", "purchase amortisation"; anything else is `unstated`.
enum class PriceKind { on_demand, reserved, spot, amortised, unstated };
inline constexpr std::array<std::string_view, 5> kPriceKindNames{"on-demand", "reserved", "spot", "purchase amortisation",
                                                                 "unstated"};

struct PriceSpec {
  std::optional<double> usd_per_chip_hour;
  std::string basis, as_of, source;
  /// True when `as_of` starts with a month or a day (YYYY-MM or YYYY-MM-DD, a real month and day).
  bool dated() const;
  PriceKind kind() const;
  /// `as_of` where it is a date, else "undated" (with the profile's words after it, if any).
  std::string as_of_label() const;
};

struct EfficiencySpec {
  double compute = 1.0;  // achieved / peak matrix rate on large GEMMs
  double memory = 1.0;   // achieved / peak memory bandwidth on streaming reads
  double network = 1.0;  // collective bus bandwidth / link bandwidth
  double kernel_launch_overhead_s = 0.0;
  // Achieved rate of mixture-of-experts expert GEMMs (grouped GEMMs, with the routing and token permutation
  // around them) relative to the dense GEMMs' `compute`: 1 = as efficient as a dense GEMM of the same shape.
  double moe_gemm = 1.0;
  // Achieved rate of decode attention kernels where they are compute-bound (MLA's absorbed decode: every query
  // head over one shared latent, FlashMLA) relative to `compute`: 1 = as efficient as a large dense GEMM.
  double attention_decode = 1.0;
  // Prefill attention kernels (causal FlashAttention-style forward over whole prompts): their rate on long
  // prompts relative to `compute`, and the extra keys each query token is priced as attending, which makes
  // short prompts slower per FLOP (diagonal tiles computed whole, each query tile's prologue and epilogue):
  // a prompt of L tokens runs at attention_prefill x L / (L + 2 x attention_prefill_overhead_keys) of the
  // compute rate. Defaults 1 and 0: as efficient as a large dense GEMM.
  double attention_prefill = 1.0;
  double attention_prefill_overhead_keys = 0.0;
  // Block-scaled FP8 GEMMs (weights with one scale per block, DeepSeek-V3's checkpoints, run by DeepGEMM-style
  // kernels) pay a fixed cost per output tile (pipeline fill, promotion, epilogue) priced as this many more
  // elements of reduction depth: a GEMM of depth K runs at K / (K + block_fp8_gemm_overhead_k) of the FP8 rate.
  // Default 0: as a per-tensor-scaled FP8 GEMM.
  double block_fp8_gemm_overhead_k = 0.0;
  std::string source;
};

/// Compute architectures a profile can name (`architecture`): one per generation of cores and kernels, split where
/// a generation's datacenter and client dies have different cores (GA100's SM is not GA102's, sm_100 is not sm_120).
inline constexpr std::array<std::string_view, 8> kArchitectureNames = {
    "nvidia-ampere-ga100", "nvidia-ampere-ga10x", "nvidia-ada",  "nvidia-hopper", "nvidia-blackwell",
    "nvidia-blackwell-gb20x", "amd-cdna3", "amd-cdna4"};

struct HardwareSpec {
  std::string name, description, source, notes;
  DeviceKind kind = DeviceKind::gpu;
  // The compute architecture the chip's kernels are built for (`nvidia-hopper`, `amd-cdna3`; empty: not stated).
  // Profiles that share it run the same kernels on the same cores, so their calibrated efficiencies carry over
  // (the held-out transfer prefers them: validation::transfer_profile).
  std::string architecture;  // one of kArchitectureNames, or empty
  ComputeSpec compute;
  MemorySpec memory;
  InterconnectSpec interconnect;
  PowerSpec power;
  PriceSpec price;
  EfficiencySpec efficiency;

  bool supports(DType t) const { return compute.peak_flops_per_s[index_of(t)] > 0; }
  double peak_flops_per_s(DType t) const { return compute.peak_flops_per_s[index_of(t)]; }
  /// Rate used for elementwise work (norms, activations): fp32 if the chip has one, else its best 16-bit rate.
  double vector_flops_per_s() const;
};

std::string_view to_string(DeviceKind kind);
std::string_view to_string(PriceKind kind);

}  // namespace infersim::hardware
