// `infersim list hardware|models|engines`: the catalogs with their key figures.

#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "infersim/config/catalog.hpp"
#include "infersim/core/error.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/model/model_stats.hpp"
#include "infersim/scenario/catalog_listing.hpp"
#include "infersim/serving/admission_reserve.hpp"
#include "infersim/serving/serving_engine_loader.hpp"
#include "output.hpp"

namespace infersim::cli {

namespace {

struct ListOptions {
  std::string what;
  Format format = Format::table;
};

int emit(const TextTable& table, const nlohmann::json& out, Format format) {
  if (format == Format::json) {
    std::cout << out.dump(2) << '\n';
  } else if (format == Format::csv) {
    table.print_csv(std::cout);
  } else {
    table.print(std::cout);
  }
  return 0;
}

std::string opt_number(const std::optional<double>& v, double scale, int digits) {
  return v ? sig(*v / scale, digits) : "-";
}

// Five significant digits: today's FP4 peaks (10,000-15,000 TFLOPS) and wafer-scale figures print whole
// rather than as 1.5e+04, and the half-TFLOPS datasheet peaks (835.5, 1670.5) survive.
constexpr int kListDigits = 5;

int list_hardware(const ListOptions& o) {
  TextTable table({"name", "kind", "bf16_tflops", "fp8_tflops", "fp4_tflops", "memory_gb", "memory_tb_per_s",
                   "scale_up_gb_per_s", "tdp_w", "usd_per_chip_hour", "price_as_of", "description"},
                  {false, false, true, true, true, true, true, true, true, true, false, false});
  nlohmann::json out = nlohmann::json::array();
  for (const auto& name : config::catalog_names(config::CatalogKind::hardware)) {
    const auto hw = hardware::load_hardware(config::load_document(config::catalog_path(config::CatalogKind::hardware, name)));
    auto peak = [&](DType t) -> std::optional<double> {
      return hw.supports(t) ? std::optional<double>(hw.peak_flops_per_s(t)) : std::nullopt;
    };
    const int d = kListDigits;
    table.add_row({name, std::string(hardware::to_string(hw.kind)), opt_number(peak(DType::bf16), 1e12, d),
                   opt_number(peak(DType::fp8), 1e12, d), opt_number(peak(DType::fp4), 1e12, d),
                   sig(hw.memory.capacity_bytes / 1e9, d), sig(hw.memory.bandwidth_bytes_per_s / 1e12, d),
                   opt_number(hw.interconnect.scale_up_bandwidth_bytes_per_s, 1e9, d), opt_number(hw.power.tdp_w, 1, d),
                   hw.price.usd_per_chip_hour ? sig(*hw.price.usd_per_chip_hour, d) : "no price",
                   hw.price.usd_per_chip_hour ? (hw.price.dated() ? hw.price.as_of : "undated") : "", hw.description});
    out.push_back(scenario::hardware_entry(name, hw));
  }
  return emit(table, out, o.format);
}

int list_models(const ListOptions& o) {
  TextTable table({"name", "parameters_b", "active_b", "layers", "hidden", "heads", "kv_heads", "experts", "attention",
                   "context", "dtype", "description"},
                  {false, true, true, true, true, true, true, false, false, true, false, false});
  nlohmann::json out = nlohmann::json::array();
  for (const auto& name : config::catalog_names(config::CatalogKind::models)) {
    const auto m = model::load_model(config::load_document(config::catalog_path(config::CatalogKind::models, name)));
    const auto params = model::count_parameters(m);
    const double active = model::active_parameters(m);
    const std::string experts =
        m.moe ? std::to_string(m.moe->experts_per_token) + "/" + std::to_string(m.moe->num_experts) +
                    (m.moe->num_shared_experts ? "+" + std::to_string(m.moe->num_shared_experts) : std::string())
              : "-";
    const std::string attention = scenario::attention_label(m);
    table.add_row({name, sig(params.total() / 1e9, 4), sig(active / 1e9, 4), std::to_string(m.num_layers),
                   std::to_string(m.hidden_size), std::to_string(m.num_attention_heads), std::to_string(m.num_kv_heads),
                   experts, attention, std::to_string(m.max_context_tokens), std::string(to_string(m.native_dtype)),
                   m.description});
    out.push_back(scenario::model_entry(name, m));
  }
  return emit(table, out, o.format);
}

int list_engines(const ListOptions& o) {
  TextTable table({"name", "version", "host_step_us", "host_per_sequence_us", "host_streamed_us", "host_per_token_us",
                   "overlapped", "cuda_graphs", "eager_us_per_layer", "fp8_attention", "policy", "max_batch_size",
                   "max_batched_tokens", "scheduler_steps", "kv_admission_reserve", "first_token_lag_steps", "http_front_end_us",
                   "description"},
                  {false, false, true, true, true, true, false, false, true, false, false, true, true, true, false, true, true, false});
  nlohmann::json out = nlohmann::json::array();
  for (const auto& name : config::catalog_names(config::CatalogKind::engines)) {
    const auto e = serving::load_serving_engine(config::load_document(config::catalog_path(config::CatalogKind::engines, name)));
    const auto& h = e.host_time;
    const std::string graphs(serving::kGraphModeNames[static_cast<std::size_t>(e.launch.cuda_graphs)]);
    table.add_row({name + (name == serving::kDefaultEngine ? " (default)" : ""), e.version, sig(h.per_step_s * 1e6, 4),
                   sig(h.per_sequence_s * 1e6, 4), sig(h.per_streamed_sequence_s * 1e6, 4), sig(h.per_token_s * 1e6, 4), !h.overlaps_device ? "no" : h.overlapped_share < 1 ? sig(h.overlapped_share, 3) + " of it" : "yes", graphs,
                   sig(e.launch.eager_s_per_layer * 1e6, 4), e.attention.fp8_math ? "yes" : "no", e.scheduler.policy, std::to_string(e.scheduler.max_batch_size),
                   std::to_string(e.scheduler.max_batched_tokens), std::to_string(e.scheduler.scheduler_steps),
                   serving::admission_reserve_label(e.scheduler.admission_reserve), std::to_string(e.first_token_lag_steps),
                   e.front_end_request_latency_s ? sig(*e.front_end_request_latency_s * 1e6, 4) : "-", e.description});
    out.push_back(scenario::engine_entry(name, e));
  }
  return emit(table, out, o.format);
}

}  // namespace

Command add_list_command(CLI::App& app) {
  auto opts = std::make_shared<ListOptions>();
  CLI::App* sub = app.add_subcommand("list", "List the hardware, model or serving-engine catalog with key figures");
  sub->add_option("what", opts->what, "hardware, models or engines")
      ->required()
      ->check(one_of({"hardware", "models", "engines"}));
  add_format_option(*sub, opts->format);
  return {sub, [opts] {
            if (opts->what == "engines") return list_engines(*opts);
            return opts->what == "hardware" ? list_hardware(*opts) : list_models(*opts);
          }};
}

}  // namespace infersim::cli
