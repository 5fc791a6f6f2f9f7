#include "infersim/scenario/catalog_listing.hpp"

#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/model/model_stats.hpp"
#include "infersim/serving/admission_reserve.hpp"
#include "infersim/serving/serving_engine_loader.hpp"

namespace infersim::scenario {

std::string attention_label(const model::ModelSpec& m) {
  std::string attention = m.mla ? "MLA" : (m.num_kv_heads == m.num_attention_heads ? "MHA"
                                           : (m.num_kv_heads == 1 ? "MQA" : "GQA"));
  if (const int local = m.num_local_attention_layers(); local > 0) {
    const auto& w = m.local_attention->window;
    attention += std::string(w.kind == model::LocalAttentionKind::chunked ? "+chunked " : "+sliding ") +
                 std::to_string(w.tokens) + " x" + std::to_string(local);
  }
  return attention;
}

config::Json hardware_entry(const std::string& name, const hardware::HardwareSpec& hw) {
  config::Json j{{"name", name},
                 {"kind", hardware::to_string(hw.kind)},
                 {"description", hw.description},
                 {"memory_gb", hw.memory.capacity_bytes / 1e9},
                 {"memory_tb_per_s", hw.memory.bandwidth_bytes_per_s / 1e12}};
  config::Json peaks = config::Json::object();
  for (std::size_t i = 0; i < kDTypeCount; ++i) {
    const double v = hw.compute.peak_flops_per_s[i];
    peaks[std::string(kDTypeNames[i])] = v > 0 ? config::Json(v / 1e12) : config::Json(nullptr);
  }
  j["peak_tflops"] = peaks;
  j["scale_up_gb_per_s"] = hw.interconnect.scale_up_bandwidth_bytes_per_s
                               ? config::Json(*hw.interconnect.scale_up_bandwidth_bytes_per_s / 1e9)
                               : config::Json(nullptr);
  j["tdp_w"] = hw.power.tdp_w ? config::Json(*hw.power.tdp_w) : config::Json(nullptr);
  j["usd_per_chip_hour"] = hw.price.usd_per_chip_hour ? config::Json(*hw.price.usd_per_chip_hour) : config::Json(nullptr);
  // Prices decide plans: where each came from, when, and on what basis (on-demand or reserved, per chip).
  j["price"] = {{"basis", hw.price.basis}, {"as_of", hw.price.as_of}, {"source", hw.price.source}};
  if (hw.price.usd_per_chip_hour) {
    j["price"]["kind"] = hardware::to_string(hw.price.kind());
    j["price"]["dated"] = hw.price.dated();
  }
  return j;
}

config::Json model_entry(const std::string& name, const model::ModelSpec& m) {
  return {{"name", name},
          {"description", m.description},
          {"parameters", model::count_parameters(m).total()},
          {"active_parameters", model::active_parameters(m)},
          {"layers", m.num_layers},
          {"hidden_size", m.hidden_size},
          {"attention_heads", m.num_attention_heads},
          {"kv_heads", m.num_kv_heads},
          {"experts", m.moe ? m.moe->num_experts : 0},
          {"experts_per_token", m.moe ? m.moe->experts_per_token : 0},
          {"attention", attention_label(m)},
          {"local_attention_layers", m.num_local_attention_layers()},
          {"attention_window_tokens", m.attention_window().tokens},
          {"max_context_tokens", m.max_context_tokens},
          {"native_dtype", to_string(m.native_dtype)}};
}

config::Json engine_entry(const std::string& name, const serving::ServingEngineSpec& e) {
  const auto& h = e.host_time;
  return {{"name", name},
          {"default", name == serving::kDefaultEngine},
          {"description", e.description},
          {"version", e.version},
          {"host_time_us", {{"per_step", h.per_step_s * 1e6},
                            {"per_sequence", h.per_sequence_s * 1e6},
                            {"per_token", h.per_token_s * 1e6},
                            {"per_forward_pass", h.per_forward_pass_s * 1e6},
                            {"speculative_step", h.speculative_step_s * 1e6},
                            {"per_streamed_sequence", h.per_streamed_sequence_s * 1e6},
                            {"overlaps_device", h.overlaps_device},
                            {"overlapped_share", h.overlaps_device ? config::Json(h.overlapped_share) : config::Json(nullptr)}}},
          {"cuda_graphs", serving::kGraphModeNames[static_cast<std::size_t>(e.launch.cuda_graphs)]},
          {"eager_us_per_layer", e.launch.eager_s_per_layer * 1e6},
          {"fp8_attention", e.attention.fp8_math},
          {"moe_gemm_efficiency", e.moe_gemm.efficiency_by_architecture},
          {"moe_block_format_weight_overhead", e.moe_gemm.block_format_weight_overhead_by_architecture},
          {"first_token_lag_steps", e.first_token_lag_steps},
          {"front_end_request_latency_us", e.front_end_request_latency_s ? config::Json(*e.front_end_request_latency_s * 1e6)
                                                                         : config::Json(nullptr)},
          {"scheduler", {{"policy", e.scheduler.policy},
                         {"max_batch_size", e.scheduler.max_batch_size},
                         {"max_batched_tokens", e.scheduler.max_batched_tokens},
                         {"scheduler_steps", e.scheduler.scheduler_steps},
                         {"admission_reserve", e.scheduler.admission_reserve.enabled()
                                                   ? serving::admission_reserve_json(e.scheduler.admission_reserve)
                                                   : config::Json(nullptr)}}}};
}

config::Json catalog_listing(config::CatalogKind kind) {
  config::Json out = config::Json::array();
  for (const auto& name : config::catalog_names(kind)) {
    const config::Document doc = config::load_document(config::catalog_path(kind, name));
    switch (kind) {
      case config::CatalogKind::hardware: out.push_back(hardware_entry(name, hardware::load_hardware(doc))); break;
      case config::CatalogKind::models: out.push_back(model_entry(name, model::load_model(doc))); break;
      case config::CatalogKind::engines: out.push_back(engine_entry(name, serving::load_serving_engine(doc))); break;
    }
  }
  return out;
}

}  // namespace infersim::scenario
