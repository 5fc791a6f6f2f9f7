#pragma once
// How one model is laid out on chips: parallelism degrees, replica count and data types.

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "infersim/core/dtype.hpp"

namespace infersim::parallelism {

/// deployment.expert_load_imbalance "auto": derive the factor from routing statistics.
inline constexpr double kDerivedImbalance = -1.0;

/// Bytes per element of an FP8 tensor with one FP32 scale per 128 elements (DeepEP's FP8 dispatch, the
/// DeepSeek-V3 report's per-1x128-tile activation quantization): 1 + 4/128.
inline constexpr double kFp8Per128BytesPerElement = 1.0 + 4.0 / 128.0;

/// The expert-parallel all-to-all kernels a serving engine runs (serving::ServingEngineSpec::expert_all_to_all:
/// DeepEP's in SGLang and vLLM). The normal (high-throughput) kernels serve prefill and mixed steps, the
/// low-latency kernels decode steps (docs/roofline.md).
struct AllToAllKernels {
  int normal_kernel_sms = 0;       // SMs the normal kernels occupy while they run (DeepEP Buffer.num_sms)
  int low_latency_kernel_sms = 0;  // SMs the low-latency kernels occupy while data is in flight (0: hook mode)
  bool fp8_dispatch = false;       // with FP8 activations, dispatch FP8 with per-128 FP32 scales; combine stays 16-bit
};

/// A serving engine's own all-reduce kernels for the tensor-parallel all-reduces of a step (serving::
/// ServingEngineSpec::custom_all_reduce: vLLM's and SGLang's custom all-reduce): within one fully connected
/// scale-up domain of 2, 4, 6 or 8 chips, messages under max_bytes skip the collective library's ring or tree
/// (parallelism::runs_custom_all_reduce, parallelism::custom_all_reduce).
struct AllReduceKernels {
  double max_bytes = 0;  // 0: the engine has none, and the hardware's all-reduce algorithm prices every message
};

/// A serving engine's grouped GEMMs for routed experts (serving::ServingEngineSpec::moe_gemm, its
/// moe_gemm.efficiency): by compute architecture (hardware::kArchitectureNames), the fraction of a chip's calibrated
/// efficiency.moe_gemm they reach. The chips' figures were fitted on TensorRT-LLM's MLPerf Mixtral kernels (and
/// ROCm vLLM's on AMD chips); another engine's fused-MoE kernels can run slower. 1 on an architecture not listed.
struct MoeGemmKernels {
  std::map<std::string, double, std::less<>> efficiency_by_architecture;
  // Extra bytes, as a fraction, of routed experts published in a block format (gpt-oss's MXFP4) once the engine's
  // kernels have laid them out (padded, their scales widened) on an architecture; 0 where not given.
  std::map<std::string, double, std::less<>> block_format_weight_overhead_by_architecture;
  double efficiency_on(std::string_view architecture) const {
    const auto it = efficiency_by_architecture.find(architecture);
    return it == efficiency_by_architecture.end() ? 1.0 : it->second;
  }
  double block_format_weight_overhead_on(std::string_view architecture) const {
    const auto it = block_format_weight_overhead_by_architecture.find(architecture);
    return it == block_format_weight_overhead_by_architecture.end() ? 0.0 : it->second;
  }
};

struct DeploymentSpec {
  int tensor_parallel = 1;    // t: GEMMs and heads split t ways; 2 all-reduces per layer
  int pipeline_parallel = 1;  // p: layers split into p stages
  int expert_parallel = 1;    // e: experts spread over e chips of the tensor-parallel group (e divides t)
  // N: attention data parallelism (docs/configuration.md). The t chips form N attention ranks of t/N chips;
  // each rank runs attention (and everything but the routed experts) on its own sequences with its own KV
  // cache, split t/N ways inside the rank; routed experts stay spread over e of all t chips. N divides t.
  int attention_data_parallel = 1;
  int redundant_experts = 0;           // extra copies of routed experts (DeepSeek's EPLB): (E + r) divides e
  // Busiest expert-parallel rank's load / mean (>= 1), or kDerivedImbalance (expert_load.hpp), or 0: derived
  // when attention_data_parallel > 1, else 1 (the calibrated tensor-parallel layout).
  double expert_load_imbalance = 0.0;
  // Two-batch overlap (DeepSeek's dual micro-batch overlap, SGLang --enable-two-batch-overlap): each step runs as
  // two micro-batches of half its sequences, one's expert-parallel all-to-all hidden behind the other's compute
  // (roofline/step_cost_cache.hpp, overlap_two_batches). Only with expert_parallel > 1.
  bool two_batch_overlap = false;
  AllToAllKernels all_to_all;  // from the serving engine (scenario loader); default: 16-bit, no SMs taken
  AllReduceKernels all_reduce;  // from the serving engine (scenario loader); default: none
  MoeGemmKernels moe_gemm;      // from the serving engine (scenario loader); default: the chip's own figure
  int replicas = 1;           // independent copies behind a router
  DType weight_dtype = DType::bf16;
  DType activation_dtype = DType::bf16;
  DType kv_cache_dtype = DType::bf16;
  double memory_utilization = 0.9;   // fraction of chip memory the serving runtime may use
  int quantization_group_size = 0;   // int4/fp4 weights: elements per scale (0 = default: 128 int4, 16 fp4)
  double dequant_overhead = 0.0;     // weight-only quantization: extra fraction of GEMM compute time
  double moe_routing_skew = 0.0;     // 0 = uniform routing; towards 1 = tokens concentrate on fewer experts
  // The serving engine has FP8 attention kernels (its attention.fp8_math): attention runs at the FP8 rate when
  // the activations are 8 bits or narrower and the KV cache is FP8, else at 16 bits (roofline::attention_math_dtype).
  bool fp8_attention = false;

  int chips_per_replica() const { return tensor_parallel * pipeline_parallel; }
  /// a = t / N: chips that split one attention rank's heads (t when attention is not data-parallel).
  int attention_tensor_parallel() const { return tensor_parallel / std::max(1, attention_data_parallel); }
  int total_chips() const { return chips_per_replica() * replicas; }
};

/// Which once-per-model parts a set of chips holds: a deployment normally holds both; with hybrid CPU/GPU
/// placement the layers are split between two devices and the embedding and LM head sit on one of them.
struct Placement {
  bool embedding = true;
  bool lm_head = true;
};

/// Bytes per weight element including quantization scales (int4: fp16 scale per group; fp4: fp8 scale per group).
double weight_bytes_per_element(const DeploymentSpec& d);

}  // namespace infersim::parallelism
