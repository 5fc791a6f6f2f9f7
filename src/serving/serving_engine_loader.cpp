#include "infersim/serving/serving_engine_loader.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "infersim/core/units.hpp"
#include "infersim/hardware/hardware_spec.hpp"
#include "infersim/serving/admission_reserve.hpp"
#include "infersim/serving/batch_scheduler.hpp"

namespace infersim::serving {

using config::ObjectReader;
using config::Range;

namespace {

/// A figure per compute architecture (the hardware profiles' `architecture` names): the keys given, each in `range`;
/// any other key is refused by finish() with the closest architecture name.
std::map<std::string, double, std::less<>> read_by_architecture(ObjectReader& r, Range range) {
  std::map<std::string, double, std::less<>> out;
  for (const std::string_view arch : hardware::kArchitectureNames) {
    if (r.has(arch)) out.emplace(arch, r.number(arch, range));
  }
  r.finish();
  return out;
}

}  // namespace

ServingEngineSpec parse_serving_engine(const config::Document& doc, config::Diagnostics& d) {
  ServingEngineSpec e;
  ObjectReader root(doc.json, doc.pointer, d);
  e.name = root.string("name");
  e.description = root.string_or("description", "");
  e.version = root.string("version");
  e.source = root.string("source");
  e.notes = root.string_or("notes", "");
  {
    ObjectReader h = root.object("host_time");
    const Range us = Range::between(0, 1e6);
    e.host_time.per_step_s = h.number("per_step_us", us) * units::kMicrosecond;
    e.host_time.per_sequence_s = h.number("per_sequence_us", us) * units::kMicrosecond;
    e.host_time.per_token_s = h.number("per_token_us", us) * units::kMicrosecond;
    e.host_time.per_forward_pass_s = h.number("per_forward_pass_us", us) * units::kMicrosecond;
    e.host_time.speculative_step_s = h.number_or("speculative_step_us", 0.0, us) * units::kMicrosecond;
    e.host_time.per_streamed_sequence_s = h.number_or("per_streamed_sequence_us", 0.0, us) * units::kMicrosecond;
    e.host_time.overlaps_device = h.boolean("overlaps_device");
    e.host_time.overlapped_share = h.number_or("overlapped_share", 1.0, Range::between(0, 1));
    h.string("source");
    h.finish();
    if (h.valid() && !e.host_time.overlaps_device && h.has("overlapped_share")) {
      h.error("overlapped_share", "applies only when overlaps_device is true");
    }
  }
  {
    ObjectReader l = root.object("launch");
    e.launch.cuda_graphs = static_cast<GraphMode>(l.choice("cuda_graphs", kGraphModeNames));
    e.launch.cuda_graph_max_batch_size = l.integer_or("cuda_graph_max_batch_size", 0, Range::between(0, 1e6));
    e.launch.eager_s_per_layer = l.number("eager_us_per_layer", Range::between(0, 1e6)) * units::kMicrosecond;
    l.string("source");
    l.finish();
    if (l.valid() && e.launch.cuda_graphs == GraphMode::none && l.has("cuda_graph_max_batch_size")) {
      l.error("cuda_graph_max_batch_size", "applies only when cuda_graphs is \"decode\" or \"all\"");
    }
  }
  {
    ObjectReader s = root.object("scheduler");
    const auto names = scheduler_registry().names();
    const std::vector<std::string_view> views(names.begin(), names.end());
    e.scheduler.policy = names.empty() ? std::string() : names[s.choice("policy", views)];
    e.scheduler.max_batch_size = s.integer("max_batch_size", Range::between(1, 1e6));
    e.scheduler.max_batched_tokens = s.integer("max_batched_tokens", Range::between(1, 1e8));
    e.scheduler.scheduler_steps = s.integer_or("scheduler_steps", 1, Range::between(1, kMaxSchedulerSteps));
    if (std::optional<ObjectReader> a = s.optional_object("admission_reserve")) {
      e.scheduler.admission_reserve = read_admission_reserve(*a, {});
    }
    s.string("source");
    s.finish();
  }
  {
    ObjectReader a = root.object("attention");
    e.attention.fp8_math = a.boolean("fp8_math");
    a.string("source");
    a.finish();
  }
  e.dequant_overhead = root.number_or("dequant_overhead", 0.0, Range::between(0, 10));
  e.first_token_lag_steps = root.integer_or("first_token_lag_steps", 0, Range::between(0, kMaxFirstTokenLagSteps));
  if (std::optional<ObjectReader> a = root.optional_object("expert_all_to_all")) {
    const Range sms = Range::between(0, 4096);
    e.expert_all_to_all.normal_kernel_sms = static_cast<int>(a->integer("normal_kernel_sms", sms));
    e.expert_all_to_all.low_latency_kernel_sms = static_cast<int>(a->integer("low_latency_kernel_sms", sms));
    e.expert_all_to_all.fp8_dispatch = a->boolean("fp8_dispatch");
    a->string("source");
    a->finish();
  }
  if (std::optional<ObjectReader> c = root.optional_object("custom_all_reduce")) {
    e.custom_all_reduce.max_bytes = c->number("max_bytes", Range::between(0, 1e12));
    c->string("source");
    c->finish();
  }
  if (std::optional<ObjectReader> g = root.optional_object("moe_gemm")) {
    // Kernels differ by architecture (Ampere has no FP8 tensor cores: its quantized experts run weight-only
    // kernels): one figure for each architecture whose kernels were measured, the chip's own (1) elsewhere.
    ObjectReader efficiency = g->object("efficiency");
    e.moe_gemm.efficiency_by_architecture = read_by_architecture(efficiency, Range::between(0.05, 4));
    // How much larger the kernels' layout of block-format experts (MXFP4) is than the published checkpoint's.
    if (std::optional<ObjectReader> w = g->optional_object("block_format_weight_overhead")) {
      e.moe_gemm.block_format_weight_overhead_by_architecture = read_by_architecture(*w, Range::between(0, 1));
    }
    g->string("source");
    g->finish();
  }
  if (std::optional<ObjectReader> f = root.optional_object("front_end")) {
    e.front_end_request_latency_s = f->number("request_latency_us", Range::between(0, 1e7)) * units::kMicrosecond;
    f->string("source");
    f->finish();
  }
  root.finish();
  return e;
}

ServingEngineSpec load_serving_engine(const config::Document& doc) { return config::parse_strictly(doc, parse_serving_engine); }

ServingEngineSpec load_serving_engine(const std::string& name_or_path) {
  return load_serving_engine(config::resolve_command_line_reference(config::CatalogKind::engines, name_or_path));
}

}  // namespace infersim::serving
