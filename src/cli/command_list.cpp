// `infersim list hardware|models`: the catalogs with their key figures.

#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "infersim/config/catalog.hpp"
#include "infersim/core/error.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/model/model_stats.hpp"
#include "output.hpp"

namespace infersim::cli {

namespace {

struct ListOptions {
  std::string what;
  Format format = Format::table;
};

std::string opt_number(const std::optional<double>& v, double scale, int digits) {
  return v ? sig(*v / scale, digits) : "-";
}

int list_hardware(const ListOptions& o) {
  TextTable table({"name", "kind", "bf16_tflops", "fp8_tflops", "fp4_tflops", "memory_gb", "memory_tb_per_s",
                   "scale_up_gb_per_s", "tdp_w", "usd_per_chip_hour", "description"},
                  {false, false, true, true, true, true, true, true, true, true, false});
  nlohmann::json out = nlohmann::json::array();
  for (const auto& name : config::catalog_names(config::CatalogKind::hardware)) {
    const auto hw = hardware::load_hardware(config::load_document(config::catalog_path(config::CatalogKind::hardware, name)));
    auto peak = [&](DType t) -> std::optional<double> {
      return hw.supports(t) ? std::optional<double>(hw.peak_flops_per_s(t)) : std::nullopt;
    };
    table.add_row({name, std::string(hardware::to_string(hw.kind)), opt_number(peak(DType::bf16), 1e12, 4),
                   opt_number(peak(DType::fp8), 1e12, 4), opt_number(peak(DType::fp4), 1e12, 4),
                   sig(hw.memory.capacity_bytes / 1e9, 4), sig(hw.memory.bandwidth_bytes_per_s / 1e12, 4),
                   opt_number(hw.interconnect.scale_up_bandwidth_bytes_per_s, 1e9, 4), opt_number(hw.power.tdp_w, 1, 4),
                   opt_number(hw.price.usd_per_chip_hour, 1, 4), hw.description});
    nlohmann::json j{{"name", name},
                     {"kind", hardware::to_string(hw.kind)},
                     {"description", hw.description},
                     {"memory_gb", hw.memory.capacity_bytes / 1e9},
                     {"memory_tb_per_s", hw.memory.bandwidth_bytes_per_s / 1e12}};
    nlohmann::json peaks = nlohmann::json::object();
    for (std::size_t i = 0; i < kDTypeCount; ++i) {
      const double v = hw.compute.peak_flops_per_s[i];
      peaks[std::string(kDTypeNames[i])] = v > 0 ? nlohmann::json(v / 1e12) : nlohmann::json(nullptr);
    }
    j["peak_tflops"] = peaks;
    j["scale_up_gb_per_s"] = hw.interconnect.scale_up_bandwidth_bytes_per_s
                                 ? nlohmann::json(*hw.interconnect.scale_up_bandwidth_bytes_per_s / 1e9)
                                 : nlohmann::json(nullptr);
    j["tdp_w"] = hw.power.tdp_w ? nlohmann::json(*hw.power.tdp_w) : nlohmann::json(nullptr);
    j["usd_per_chip_hour"] = hw.price.usd_per_chip_hour ? nlohmann::json(*hw.price.usd_per_chip_hour) : nlohmann::json(nullptr);
    out.push_back(j);
  }
  if (o.format == Format::json) {
    std::cout << out.dump(2) << '\n';
  } else if (o.format == Format::csv) {
    table.print_csv(std::cout);
  } else {
    table.print(std::cout);
  }
  return 0;
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
    std::string attention = m.mla ? "MLA" : (m.num_kv_heads == m.num_attention_heads ? "MHA"
                                             : (m.num_kv_heads == 1 ? "MQA" : "GQA"));
    // Local layers: "+sliding 128 x18" (window, layers).
    if (const int local = m.num_local_attention_layers(); local > 0) {
      const auto& w = m.local_attention->window;
      attention += std::string(w.kind == model::LocalAttentionKind::chunked ? "+chunked " : "+sliding ") +
                   std::to_string(w.tokens) + " x" + std::to_string(local);
    }
    table.add_row({name, sig(params.total() / 1e9, 4), sig(active / 1e9, 4), std::to_string(m.num_layers),
                   std::to_string(m.hidden_size), std::to_string(m.num_attention_heads), std::to_string(m.num_kv_heads),
                   experts, attention, std::to_string(m.max_context_tokens), std::string(to_string(m.native_dtype)),
                   m.description});
    out.push_back({{"name", name},
                   {"description", m.description},
                   {"parameters", params.total()},
                   {"active_parameters", active},
                   {"layers", m.num_layers},
                   {"hidden_size", m.hidden_size},
                   {"attention_heads", m.num_attention_heads},
                   {"kv_heads", m.num_kv_heads},
                   {"experts", m.moe ? m.moe->num_experts : 0},
                   {"experts_per_token", m.moe ? m.moe->experts_per_token : 0},
                   {"attention", attention},
                   {"local_attention_layers", m.num_local_attention_layers()},
                   {"attention_window_tokens", m.attention_window().tokens},
                   {"max_context_tokens", m.max_context_tokens},
                   {"native_dtype", to_string(m.native_dtype)}});
  }
  if (o.format == Format::json) {
    std::cout << out.dump(2) << '\n';
  } else if (o.format == Format::csv) {
    table.print_csv(std::cout);
  } else {
    table.print(std::cout);
  }
  return 0;
}

}  // namespace

Command add_list_command(CLI::App& app) {
  auto opts = std::make_shared<ListOptions>();
  CLI::App* sub = app.add_subcommand("list", "List the hardware or model catalog with key figures");
  sub->add_option("what", opts->what, "hardware or models")->required()->check(CLI::IsMember({"hardware", "models"}));
  add_format_option(*sub, opts->format);
  return {sub, [opts] { return opts->what == "hardware" ? list_hardware(*opts) : list_models(*opts); }};
}

}  // namespace infersim::cli
