// `infersim roofline`: the per-operator roofline of one batch step on one chip of a deployment.

#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "infersim/core/error.hpp"
#include "infersim/core/strings.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "output.hpp"

namespace infersim::cli {

namespace {

struct RooflineOptions {
  std::string model, hardware, phase = "decode";
  std::int64_t batch = 1, context = 1024;
  int tensor_parallel = 1, pipeline_parallel = 1, expert_parallel = 1, attention_data_parallel = 1, redundant_experts = 0;
  std::string weight_dtype, activation_dtype, kv_cache_dtype;
  double memory_utilization = 0.9;
  bool ignore_memory = false;
  Format format = Format::table;
};

DType dtype_or(const std::string& s, DType fallback, const char* option) {
  if (s.empty()) return fallback;
  if (auto t = parse_dtype(s)) return *t;
  std::vector<std::string> names(kDTypeNames.begin(), kDTypeNames.end());
  throw UsageError(std::string(option) + ": unknown data type \"" + s + "\"; valid: " + join(names));
}

int run_roofline(const RooflineOptions& o) {
  const model::ModelSpec m = model::load_model(o.model);
  const hardware::HardwareSpec hw = hardware::load_hardware(o.hardware);
  parallelism::DeploymentSpec d;
  d.tensor_parallel = o.tensor_parallel;
  d.pipeline_parallel = o.pipeline_parallel;
  d.expert_parallel = o.expert_parallel;
  d.attention_data_parallel = o.attention_data_parallel;
  d.redundant_experts = o.redundant_experts;
  d.memory_utilization = o.memory_utilization;
  // Each data type defaults to the model's native type (so --weight-dtype int4 alone means W4A16).
  d.weight_dtype = dtype_or(o.weight_dtype, m.native_dtype, "--weight-dtype");
  d.activation_dtype = dtype_or(o.activation_dtype, m.native_dtype, "--activation-dtype");
  d.kv_cache_dtype = dtype_or(o.kv_cache_dtype, m.native_dtype, "--kv-cache-dtype");

  const roofline::StepCostModel cost(m, hw, d);
  parallelism::WorkspaceLimits limits;
  limits.max_batched_tokens = std::max<std::int64_t>(o.phase == "prefill" ? o.batch * o.context : o.batch, 1);
  limits.max_batch_size = o.batch;
  const auto plan = parallelism::plan_memory(m, hw, d, limits);
  if (!o.ignore_memory) parallelism::require_fit(m, hw, d, plan, limits);
  const std::int64_t needed_kv = o.batch * (o.context + (o.phase == "decode" ? 1 : 0));
  if (!o.ignore_memory && needed_kv > plan.kv_token_capacity) {
    throw InfeasibleError("the KV cache of " + std::to_string(o.batch) + " sequences of " + std::to_string(o.context) +
                          " tokens (" + std::to_string(needed_kv) + " tokens, " +
                          format_bytes(static_cast<double>(needed_kv) * plan.kv_bytes_per_token_per_chip) +
                          " per chip) exceeds the " + std::to_string(plan.kv_token_capacity) +
                          " tokens that fit beside the weights; lower --batch or --context, raise --tensor-parallel, "
                          "or pass --ignore-memory to price the step anyway");
  }

  const roofline::StepShape shape =
      o.phase == "prefill" ? roofline::StepShape::prefill(o.batch, o.context, m.attention_window())
                           : roofline::StepShape::decode(o.batch, o.context, 1, m.attention_window());
  roofline::OperatorTable table;
  cost.build(shape, table);
  const roofline::StepCost step = cost.summarize(table);

  double total_flops = 0, total_bytes = 0, total_time = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    total_flops += table.count[i] * table.flops(i);
    total_bytes += table.count[i] * table.bytes[i];
    total_time += table.count[i] * table.time_s[i];
  }
  const double tokens_per_step = static_cast<double>(o.phase == "prefill" ? o.batch * o.context : o.batch);

  if (o.format == Format::json) {
    nlohmann::json ops = nlohmann::json::array();
    for (std::size_t i = 0; i < table.size(); ++i) {
      ops.push_back({{"name", table.name[i]},
                     {"phase", roofline::to_string(table.phase[i])},
                     {"count", table.count[i]},
                     {"flops", table.flops(i)},
                     {"bytes", table.bytes[i]},
                     {"arithmetic_intensity", table.intensity[i]},
                     {"bound", roofline::to_string(static_cast<roofline::Bound>(table.bound[i]))},
                     {"time_s", table.time_s[i]},
                     {"total_time_s", table.count[i] * table.time_s[i]}});
    }
    nlohmann::json out{
        {"model", m.name},
        {"hardware", hw.name},
        {"phase", o.phase},
        {"batch", o.batch},
        {"context", o.context},
        {"deployment",
         {{"tensor_parallel", d.tensor_parallel},
          {"pipeline_parallel", d.pipeline_parallel},
          {"expert_parallel", d.expert_parallel},
          {"attention_data_parallel", d.attention_data_parallel},
          {"redundant_experts", d.redundant_experts},
          {"weight_dtype", to_string(d.weight_dtype)},
          {"activation_dtype", to_string(d.activation_dtype)},
          {"kv_cache_dtype", to_string(d.kv_cache_dtype)}}},
        {"operators", ops},
        {"totals",
         {{"flops", total_flops},
          {"bytes", total_bytes},
          {"time_s", total_time},
          {"step_latency_s", step.time_s},
          {"stage_time_s", step.stage_time_s},
          {"tokens_per_s", tokens_per_step / step.stage_time_s}}},
        {"memory",
         {{"weight_bytes_per_chip", plan.weight_bytes_per_chip},
          {"weight_bytes_total", plan.weight_bytes_total},
          {"workspace_bytes_per_chip", plan.workspace_bytes_per_chip},
          {"budget_bytes_per_chip", plan.budget_bytes_per_chip},
          {"kv_bytes_per_token_per_chip", plan.kv_bytes_per_token_per_chip},
          {"kv_token_capacity", plan.kv_token_capacity}}}};
    std::cout << out.dump(2) << '\n';
    return 0;
  }

  TextTable t({"operator", "phase", "count", "gflops", "mbytes", "intensity", "bound", "time_us", "total_us", "share"},
              {false, false, true, true, true, true, false, true, true, true});
  for (std::size_t i = 0; i < table.size(); ++i) {
    const double total = table.count[i] * table.time_s[i];
    t.add_row({std::string(table.name[i]), std::string(roofline::to_string(table.phase[i])), sig(table.count[i], 4),
               sig(table.flops(i) / 1e9, 4), sig(table.bytes[i] / 1e6, 4), sig(table.intensity[i], 4),
               std::string(roofline::to_string(static_cast<roofline::Bound>(table.bound[i]))),
               fixed(table.time_s[i] * 1e6, 2), fixed(total * 1e6, 1), fixed(100.0 * total / total_time, 1) + "%"});
  }
  if (o.format == Format::csv) {
    t.print_csv(std::cout);
    return 0;
  }
  std::cout << m.name << " on " << hw.name << ": " << o.phase << ", batch " << o.batch << ", context " << o.context
            << ", tensor_parallel " << d.tensor_parallel << ", pipeline_parallel " << d.pipeline_parallel
            << ", weights " << to_string(d.weight_dtype) << ", activations " << to_string(d.activation_dtype)
            << ", KV " << to_string(d.kv_cache_dtype) << "\n";
  std::cout << "one chip of " << d.chips_per_replica() << "; per-instance flops/bytes/time, `count` instances per step\n\n";
  t.print(std::cout);
  std::cout << "\nstep: " << fixed(step.time_s * 1e3, 3) << " ms latency";
  if (d.pipeline_parallel > 1) std::cout << " (" << fixed(step.stage_time_s * 1e3, 3) << " ms per pipeline stage)";
  std::cout << ", " << sig(tokens_per_step / step.stage_time_s, 5) << " tokens/s per replica"
            << ", " << sig(total_flops / 1e12, 4) << " TFLOP and " << format_bytes(total_bytes) << " on this chip\n";
  std::cout << "memory per chip: " << format_bytes(plan.weight_bytes_per_chip) << " weights + "
            << format_bytes(plan.workspace_bytes_per_chip) << " workspace of " << format_bytes(plan.budget_bytes_per_chip)
            << " usable; KV cache holds " << plan.kv_token_capacity << " tokens ("
            << format_bytes(plan.kv_bytes_per_token_per_chip) << " per token)\n";
  return 0;
}

}  // namespace

Command add_roofline_command(CLI::App& app) {
  auto o = std::make_shared<RooflineOptions>();
  CLI::App* sub = app.add_subcommand("roofline", "Per-operator roofline of one batch step on one chip of a deployment");
  sub->add_option("--model", o->model, "Model: catalog name, JSON file or inline JSON")->required();
  sub->add_option("--hardware", o->hardware, "Hardware: catalog name, JSON file or inline JSON")->required();
  sub->add_option("--batch", o->batch, "Sequences in the step")->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 24))->capture_default_str();
  sub->add_option("--context", o->context, "Prefill: prompt tokens per sequence; decode: cached tokens per sequence")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 30))->capture_default_str();
  sub->add_option("--phase", o->phase, "prefill or decode")->check(one_of({"prefill", "decode"}))->capture_default_str();
  sub->add_option("--tensor-parallel", o->tensor_parallel, "Tensor-parallel degree")->check(CLI::Range(1, 4096))->capture_default_str();
  sub->add_option("--pipeline-parallel", o->pipeline_parallel, "Pipeline-parallel degree")->check(CLI::Range(1, 4096))->capture_default_str();
  sub->add_option("--expert-parallel", o->expert_parallel, "Expert-parallel degree (divides tensor-parallel)")->check(CLI::Range(1, 4096))->capture_default_str();
  sub->add_option("--attention-data-parallel", o->attention_data_parallel,
                  "Attention ranks with their own sequences and KV cache (divides tensor-parallel; --batch is all ranks')")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  sub->add_option("--redundant-experts", o->redundant_experts, "Extra routed-expert copies over the expert-parallel ranks")
      ->check(CLI::Range(0, 1 << 20))->capture_default_str();
  sub->add_option("--weight-dtype", o->weight_dtype, "Weight data type (default: the model's native type)");
  sub->add_option("--activation-dtype", o->activation_dtype, "Activation / compute data type (default: the model's native type)");
  sub->add_option("--kv-cache-dtype", o->kv_cache_dtype, "KV-cache data type (default: the model's native type)");
  sub->add_option("--memory-utilization", o->memory_utilization, "Fraction of chip memory the runtime may use")
      ->check(finite_range(0.01, 1.0))->capture_default_str();
  sub->add_flag("--ignore-memory", o->ignore_memory, "Price the step even if weights or KV cache do not fit");
  add_format_option(*sub, o->format);
  return {sub, [o] {
            if (o->phase == "prefill" && o->context < 1) throw UsageError("--context must be at least 1 for a prefill step");
            return run_roofline(*o);
          }};
}

}  // namespace infersim::cli
