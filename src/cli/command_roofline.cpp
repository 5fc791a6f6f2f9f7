// `infersim roofline`: the per-operator roofline of one batch step on one chip of a deployment.

#include <iostream>
#include <optional>

#include "commands.hpp"
#include "infersim/core/error.hpp"
#include "infersim/core/strings.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "infersim/roofline/step_report.hpp"
#include "infersim/serving/serving_engine_loader.hpp"
#include "output.hpp"

namespace infersim::cli {

namespace {

struct RooflineOptions {
  std::string model, hardware, phase = "decode";
  std::string engine{serving::kDefaultEngine};
  std::int64_t batch = 1, context = 1024;
  int tensor_parallel = 1, pipeline_parallel = 1, expert_parallel = 1, attention_data_parallel = 1, redundant_experts = 0;
  std::string weight_dtype, activation_dtype, kv_cache_dtype;
  double memory_utilization = 0.9;
  bool ignore_memory = false;
  Format format = Format::table;
};

int run_roofline(const RooflineOptions& o) {
  roofline::StepQuery q;
  q.model = o.model;
  q.hardware = o.hardware;
  q.prefill = o.phase == "prefill";
  q.batch = o.batch;
  q.context = o.context;
  q.tensor_parallel = o.tensor_parallel;
  q.pipeline_parallel = o.pipeline_parallel;
  q.expert_parallel = o.expert_parallel;
  q.attention_data_parallel = o.attention_data_parallel;
  q.redundant_experts = o.redundant_experts;
  q.memory_utilization = o.memory_utilization;
  q.ignore_memory = o.ignore_memory;
  q.weight_dtype = roofline::parse_dtype_option(o.weight_dtype, "--weight-dtype");
  q.activation_dtype = roofline::parse_dtype_option(o.activation_dtype, "--activation-dtype");
  q.kv_cache_dtype = roofline::parse_dtype_option(o.kv_cache_dtype, "--kv-cache-dtype");
  const serving::ServingEngineSpec engine = serving::load_serving_engine(o.engine);
  serving::use_engine_kernels(q, engine);
  const roofline::StepReport r = roofline::analyze_step(q);
  if (o.format == Format::json) {
    std::cout << roofline::to_json(r).dump(2) << '\n';
    return 0;
  }
  const roofline::OperatorTable& table = r.table;
  const roofline::StepCost& step = r.step;
  const model::ModelSpec& m = r.model;
  const hardware::HardwareSpec& hw = r.hardware;
  const parallelism::DeploymentSpec& d = r.deployment;
  const parallelism::MemoryPlan& plan = r.memory;
  const double total_time = r.total_time_s, total_flops = r.total_flops, total_bytes = r.total_bytes;
  const double tokens_per_step = r.tokens_per_step;

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
            << ", KV " << to_string(d.kv_cache_dtype) << ", attention " << to_string(roofline::attention_math_dtype(hw, d))
            << " (engine " << engine.name << ")\n";
  if (r.block_fp8_gemm_overhead_k > 0) {
    std::cout << "FP8 weights scaled per " << m.fp8_weight_block_size << " x " << m.fp8_weight_block_size
              << " block: each GEMM over them priced at depth K + " << sig(r.block_fp8_gemm_overhead_k, 4)
              << " (efficiency.block_fp8_gemm_overhead_k)\n";
  }
  std::cout << "one chip of " << d.chips_per_replica() << "; per-instance flops/bytes/time, `count` instances per step\n\n";
  t.print(std::cout);
  std::cout << "\nstep: " << fixed(step.time_s * 1e3, 3) << " ms latency";
  if (d.pipeline_parallel > 1) std::cout << " (" << fixed(step.stage_time_s * 1e3, 3) << " ms per pipeline stage)";
  std::cout << ", " << sig(tokens_per_step / step.stage_time_s, 5) << " tokens/s per replica"
            << ", " << sig(total_flops / 1e12, 4) << " TFLOP and " << format_bytes(total_bytes) << " on this chip\n";
  std::cout << "memory per chip: " << format_bytes(plan.weight_bytes_per_chip) << " weights + "
            << format_bytes(plan.workspace_bytes_per_chip) << " workspace of " << format_bytes(plan.budget_bytes_per_chip)
            << " usable; KV cache holds " << plan.kv_token_capacity << " tokens ("
            << parallelism::kv_per_token_text(plan.kv_bytes_per_token_per_chip, plan.kv_local_bytes_per_token_per_chip,
                                              plan.kv_window_tokens)
            << ")\n";
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
  sub->add_option("--engine", o->engine,
                  "Serving engine (catalog name, JSON file or inline JSON): whether attention can run in FP8, its "
                  "routed-expert GEMMs' efficiency on the chip's architecture, and its expert all-to-all and all-reduce "
                  "kernels")
      ->capture_default_str();
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
