#include "infersim/hardware/hardware_loader.hpp"

#include "infersim/core/limits.hpp"

#include "infersim/core/units.hpp"

namespace infersim::hardware {

using config::ObjectReader;
using config::Range;

HardwareSpec parse_hardware(const config::Document& doc, config::Diagnostics& d) {
  HardwareSpec hw;
  ObjectReader root(doc.json, doc.pointer, d);
  hw.name = root.string("name");
  hw.description = root.string_or("description", "");
  hw.kind = static_cast<DeviceKind>(root.choice("kind", kDeviceKindNames));
  hw.source = root.string("source");
  hw.notes = root.string_or("notes", "");
  if (root.has_value("architecture")) hw.architecture = kArchitectureNames[root.choice("architecture", kArchitectureNames)];

  {
    ObjectReader c = root.object("compute");
    ObjectReader peaks = c.object("peak_tflops");
    bool any = false;
    for (std::size_t i = 0; i < kDTypeCount; ++i) {
      const auto v = peaks.has(kDTypeNames[i]) ? peaks.nullable_number(kDTypeNames[i], Range::positive_up_to(limits::kMaxPeakTflops))
                                               : std::optional<double>{};
      hw.compute.peak_flops_per_s[i] = v ? *v * units::kTFlopsPerS : 0.0;
      any = any || v.has_value();
    }
    peaks.finish();
    if (peaks.valid() && !any) {
      d.error(peaks.path(), "no peak rate given: at least one data type needs a number (TFLOP/s)");
    }
    hw.compute.gemm_tile_rows = static_cast<int>(c.integer("gemm_tile_rows", Range::between(1, 4096)));
    hw.compute.systolic_array_size =
        static_cast<int>(c.nullable_integer("systolic_array_size", Range::between(1, 4096)).value_or(0));
    if (c.has("compute_units")) {
      hw.compute.compute_units =
          static_cast<int>(c.nullable_integer("compute_units", Range::between(1, 1e6)).value_or(0));
    }
    c.finish();
  }
  {
    ObjectReader m = root.object("memory");
    hw.memory.type = m.string("type");
    hw.memory.capacity_bytes = m.number("capacity_gb", Range::positive_up_to(limits::kMaxMemoryGb)) * units::kGB;
    hw.memory.bandwidth_bytes_per_s = m.number("bandwidth_tb_per_s", Range::positive_up_to(limits::kMaxBandwidthTbPerS)) * units::kTBPerS;
    if (auto v = m.nullable_number("on_chip_sram_mb", Range::between(0, limits::kMaxSramMb))) hw.memory.on_chip_sram_bytes = *v * units::kMB;
    hw.memory.reserved_bytes = m.number("reserved_gb", Range::between(0, limits::kMaxMemoryGb)) * units::kGB;
    m.finish();
    if (hw.memory.reserved_bytes >= hw.memory.capacity_bytes && hw.memory.capacity_bytes > 0) {
      d.error(m.child_path("reserved_gb"), "reserved memory must be smaller than capacity_gb");
    }
  }
  {
    ObjectReader n = root.object("interconnect");
    hw.interconnect.scale_up_name = n.string_or("scale_up_name", "");
    if (auto v = n.nullable_number("scale_up_bandwidth_gb_per_s", Range::positive_up_to(limits::kMaxLinkGbPerS))) {
      hw.interconnect.scale_up_bandwidth_bytes_per_s = *v * units::kGBPerS;
    }
    hw.interconnect.scale_up_latency_s = n.number("scale_up_latency_us", Range::between(0, limits::kMaxLatencyUs)) * units::kMicrosecond;
    hw.interconnect.scale_up_domain_chips = static_cast<int>(n.integer("scale_up_domain_chips", Range::between(1, 1e6)));
    if (auto v = n.nullable_number("scale_out_bandwidth_gb_per_s", Range::positive_up_to(limits::kMaxLinkGbPerS))) {
      hw.interconnect.scale_out_bandwidth_bytes_per_s = *v * units::kGBPerS;
    }
    hw.interconnect.scale_out_latency_s = n.number("scale_out_latency_us", Range::between(0, limits::kMaxLatencyUs)) * units::kMicrosecond;
    hw.interconnect.all_reduce =
        static_cast<AllReduceAlgorithm>(n.choice("all_reduce_algorithm", kAllReduceAlgorithmNames, 0));
    hw.interconnect.scale_up_fully_connected = n.boolean_or("scale_up_fully_connected", false);
    n.finish();
  }
  {
    ObjectReader p = root.object("power");
    hw.power.tdp_w = p.nullable_number("tdp_w", Range::positive_up_to(limits::kMaxPowerW));
    hw.power.idle_w = p.nullable_number("idle_w", Range::between(0, limits::kMaxPowerW));
    hw.power.source = p.string_or("source", "");
    p.finish();
    if (hw.power.tdp_w && hw.power.idle_w && *hw.power.idle_w > *hw.power.tdp_w) {
      d.error(p.child_path("idle_w"), "idle power must not exceed tdp_w");
    }
  }
  {
    ObjectReader p = root.object("price");
    hw.price.usd_per_chip_hour = p.nullable_number("usd_per_chip_hour", Range::between(0, limits::kMaxUsdPerChipHour));
    hw.price.basis = p.string_or("basis", "");
    hw.price.as_of = p.string_or("as_of", "");
    hw.price.source = p.string_or("source", "");
    p.finish();
    if (hw.price.usd_per_chip_hour && hw.price.as_of.empty() && p.valid()) {
      d.error(p.child_path("as_of"), "a price needs the date it was read (\"as_of\": \"YYYY-MM-DD\")");
    }
  }
  {
    ObjectReader e = root.object("efficiency");
    hw.efficiency.compute = e.number("compute", Range::fraction());
    hw.efficiency.memory = e.number("memory", Range::fraction());
    hw.efficiency.network = e.number("network", Range::fraction());
    hw.efficiency.kernel_launch_overhead_s =
        e.number("kernel_launch_overhead_us", Range::between(0, 1e6)) * units::kMicrosecond;
    hw.efficiency.moe_gemm = e.number_or("moe_gemm", 1.0, Range::fraction());
    hw.efficiency.attention_decode = e.number_or("attention_decode", 1.0, Range::fraction());
    hw.efficiency.attention_prefill = e.number_or("attention_prefill", 1.0, Range::fraction());
    hw.efficiency.attention_prefill_overhead_keys =
        e.number_or("attention_prefill_overhead_keys", 0.0, Range::between(0, 1e6));
    hw.efficiency.block_fp8_gemm_overhead_k = e.number_or("block_fp8_gemm_overhead_k", 0.0, Range::between(0, 1e6));
    hw.efficiency.source = e.string_or("source", "");
    e.finish();
  }
  root.finish();
  return hw;
}

HardwareSpec load_hardware(const config::Document& doc) { return config::parse_strictly(doc, parse_hardware); }

HardwareSpec load_hardware(const std::string& name_or_path) {
  return load_hardware(config::resolve_command_line_reference(config::CatalogKind::hardware, name_or_path));
}

}  // namespace infersim::hardware
