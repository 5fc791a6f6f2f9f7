#pragma once
// `infersim roofline` as a library call: one batch step of a deployment priced on one chip, operator by
// operator, with the memory plan beside it. The command-line tool and the Python module both call it.

#include <cstdint>
#include <optional>
#include <string>

#include "infersim/config/json_reader.hpp"
#include "infersim/core/dtype.hpp"
#include "infersim/hardware/hardware_spec.hpp"
#include "infersim/model/model_spec.hpp"
#include "infersim/parallelism/deployment_spec.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/roofline/operator_table.hpp"
#include "infersim/roofline/step_cost.hpp"

namespace infersim::roofline {

struct StepQuery {
  std::string model, hardware;  // catalog name, path to a JSON file or inline JSON
  bool prefill = false;         // prefill: `batch` sequences of `context` tokens; decode: `batch` at context `context`
  std::int64_t batch = 1, context = 1024;
  int tensor_parallel = 1, pipeline_parallel = 1, expert_parallel = 1, attention_data_parallel = 1, redundant_experts = 0;
  // Each data type defaults to the model's native type (so a weight type alone means W4A16 and the like).
  std::optional<DType> weight_dtype, activation_dtype, kv_cache_dtype;
  double memory_utilization = 0.9;
  bool ignore_memory = false;  // price the step even when the weights or the KV cache do not fit
  bool fp8_attention = false;  // the serving engine has FP8 attention kernels (attention_math_dtype)
  parallelism::MoeGemmKernels moe_gemm;  // the serving engine's routed-expert GEMMs against the chip's moe_gemm figure
  parallelism::AllToAllKernels all_to_all;  // the serving engine's expert-parallel all-to-all kernels (FP8 dispatch)
  parallelism::AllReduceKernels all_reduce;  // the serving engine's own all-reduce kernels (custom all-reduce)
};

struct StepReport {
  model::ModelSpec model;
  hardware::HardwareSpec hardware;
  parallelism::DeploymentSpec deployment;
  parallelism::MemoryPlan memory;
  OperatorTable table;
  StepCost step;
  bool prefill = false;
  std::int64_t batch = 0, context = 0;
  double total_flops = 0, total_bytes = 0, total_time_s = 0;  // over every operator instance on this chip
  double tokens_per_step = 0;
  double block_fp8_gemm_overhead_k = 0;  // StepCostModel::block_scaled_gemm_overhead_k
};

/// A data type named by an option (empty: none given, the model's native type). Throws UsageError naming
/// `option` and listing the valid names.
std::optional<DType> parse_dtype_option(const std::string& text, const std::string& option);

/// Price the step. Throws ConfigError for bad model or hardware files, UsageError for a query out of range,
/// InfeasibleError when the weights or the KV cache do not fit (unless ignore_memory).
StepReport analyze_step(const StepQuery& query);

/// The report as `infersim roofline --format json` prints it (contract: operators, totals; plus model,
/// hardware, phase, batch, context, deployment, memory).
config::Json to_json(const StepReport& report);

}  // namespace infersim::roofline
