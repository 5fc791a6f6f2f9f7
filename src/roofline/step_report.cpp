#include "infersim/roofline/step_report.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "infersim/core/error.hpp"
#include "infersim/core/strings.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"

namespace infersim::roofline {

std::optional<DType> parse_dtype_option(const std::string& text, const std::string& option) {
  if (text.empty()) return std::nullopt;
  if (auto t = parse_dtype(text)) return *t;
  std::vector<std::string> names(kDTypeNames.begin(), kDTypeNames.end());
  throw UsageError(option + ": unknown data type \"" + text + "\"; valid: " + join(names));
}

StepReport analyze_step(const StepQuery& q) {
  if (q.batch < 1) throw UsageError("batch must be at least 1, not " + std::to_string(q.batch));
  if (q.context < (q.prefill ? 1 : 0)) {
    throw UsageError(q.prefill ? "context must be at least 1 for a prefill step" : "context must not be negative");
  }
  StepReport r;
  r.model = model::load_model(q.model);
  r.hardware = hardware::load_hardware(q.hardware);
  const model::ModelSpec& m = r.model;
  parallelism::DeploymentSpec& d = r.deployment;
  d.tensor_parallel = q.tensor_parallel;
  d.pipeline_parallel = q.pipeline_parallel;
  d.expert_parallel = q.expert_parallel;
  d.attention_data_parallel = q.attention_data_parallel;
  d.redundant_experts = q.redundant_experts;
  d.memory_utilization = q.memory_utilization;
  d.weight_dtype = q.weight_dtype.value_or(m.native_dtype);
  d.activation_dtype = q.activation_dtype.value_or(m.native_dtype);
  d.kv_cache_dtype = q.kv_cache_dtype.value_or(m.native_dtype);
  d.fp8_attention = q.fp8_attention;
  d.moe_gemm = q.moe_gemm;
  d.all_to_all = q.all_to_all;
  d.all_reduce = q.all_reduce;
  r.prefill = q.prefill;
  r.batch = q.batch;
  r.context = q.context;

  const StepCostModel cost(m, r.hardware, d);
  parallelism::WorkspaceLimits limits;
  limits.max_batched_tokens = std::max<std::int64_t>(q.prefill ? q.batch * q.context : q.batch, 1);
  limits.max_batch_size = q.batch;
  r.memory = parallelism::plan_memory(m, r.hardware, d, limits);
  if (!q.ignore_memory) parallelism::require_fit(m, r.hardware, d, r.memory, limits);
  // In units of the cache (tokens of the full-attention layers; a sequence's tokens inside the local layers'
  // window count their share too).
  const std::int64_t needed_kv = q.batch * r.memory.kv_footprint().units(q.context + (q.prefill ? 0 : 1));
  if (!q.ignore_memory && needed_kv > r.memory.kv_token_capacity) {
    throw InfeasibleError("the KV cache of " + std::to_string(q.batch) + " sequences of " + std::to_string(q.context) +
                          " tokens (" + std::to_string(needed_kv) +
                          (r.memory.kv_window_tokens > 0 ? " tokens of the full-attention layers' cache, the local layers' windows "
                                                           "counted in them, "
                                                         : " tokens, ") +
                          format_bytes(static_cast<double>(needed_kv) * r.memory.kv_bytes_per_unit_per_chip()) +
                          " per chip) exceeds the " + std::to_string(r.memory.kv_token_capacity) +
                          " tokens that fit beside the weights; lower --batch or --context, raise --tensor-parallel, "
                          "or pass --ignore-memory to price the step anyway");
  }

  const StepShape shape = q.prefill ? StepShape::prefill(q.batch, q.context, m.attention_window())
                                    : StepShape::decode(q.batch, q.context, 1, m.attention_window());
  cost.build(shape, r.table);
  // The table is the step as one batch; with two-batch overlap the step's time is its two micro-batches'.
  r.step = cost.splits_into_micro_batches(shape) ? cost.evaluate(shape) : cost.summarize(r.table);
  const OperatorTable& t = r.table;
  for (std::size_t i = 0; i < t.size(); ++i) {
    r.total_flops += t.count[i] * t.flops(i);
    r.total_bytes += t.count[i] * t.bytes[i];
    r.total_time_s += t.count[i] * t.time_s[i];
  }
  r.tokens_per_step = static_cast<double>(q.prefill ? q.batch * q.context : q.batch);
  r.block_fp8_gemm_overhead_k = cost.block_scaled_gemm_overhead_k();
  return r;
}

config::Json to_json(const StepReport& r) {
  const OperatorTable& t = r.table;
  const parallelism::DeploymentSpec& d = r.deployment;
  config::Json ops = config::Json::array();
  for (std::size_t i = 0; i < t.size(); ++i) {
    ops.push_back({{"name", t.name[i]},
                   {"phase", to_string(t.phase[i])},
                   {"count", t.count[i]},
                   {"flops", t.flops(i)},
                   {"bytes", t.bytes[i]},
                   {"arithmetic_intensity", t.intensity[i]},
                   {"bound", to_string(static_cast<Bound>(t.bound[i]))},
                   {"time_s", t.time_s[i]},
                   {"total_time_s", t.count[i] * t.time_s[i]}});
  }
  return config::Json{
      {"model", r.model.name},
      {"hardware", r.hardware.name},
      {"phase", r.prefill ? "prefill" : "decode"},
      {"batch", r.batch},
      {"context", r.context},
      {"deployment",
       {{"tensor_parallel", d.tensor_parallel},
        {"pipeline_parallel", d.pipeline_parallel},
        {"expert_parallel", d.expert_parallel},
        {"attention_data_parallel", d.attention_data_parallel},
        {"redundant_experts", d.redundant_experts},
        {"weight_dtype", to_string(d.weight_dtype)},
        {"activation_dtype", to_string(d.activation_dtype)},
        {"kv_cache_dtype", to_string(d.kv_cache_dtype)},
        {"attention_dtype", to_string(attention_math_dtype(r.hardware, d))},
        {"block_fp8_gemm_overhead_k", r.block_fp8_gemm_overhead_k}}},
      {"operators", ops},
      {"totals",
       {{"flops", r.total_flops},
        {"bytes", r.total_bytes},
        {"time_s", r.total_time_s},
        {"step_latency_s", r.step.time_s},
        {"stage_time_s", r.step.stage_time_s},
        {"tokens_per_s", r.tokens_per_step / r.step.stage_time_s}}},
      {"memory",
       {{"weight_bytes_per_chip", r.memory.weight_bytes_per_chip},
        {"weight_bytes_total", r.memory.weight_bytes_total},
        {"workspace_bytes_per_chip", r.memory.workspace_bytes_per_chip},
        {"budget_bytes_per_chip", r.memory.budget_bytes_per_chip},
        {"kv_bytes_per_token_per_chip", r.memory.kv_bytes_per_token_per_chip},
        {"kv_token_capacity", r.memory.kv_token_capacity}}}};
}

}  // namespace infersim::roofline
