#include "infersim/cost/cost_model.hpp"

namespace infersim::cost {

std::optional<double> chip_price(const hardware::HardwareSpec& hw, std::optional<double> override_price) {
  if (override_price) return override_price;
  return hw.price.usd_per_chip_hour;
}

CostReport compute_cost(const serving::SimulationSpec& spec, const serving::SimulationResult& result,
                        std::optional<double> override_price) {
  CostReport c;
  c.priced = true;
  for (const auto& pool : spec.pools) {
    const auto price = chip_price(pool.hardware, override_price);
    if (!price) {
      c.priced = false;
      c.unpriced_reason = pool.hardware.name + " has no price in its profile; give pricing.usd_per_chip_hour";
      return c;
    }
    c.usd_per_hour += *price * pool.deployment.total_chips();
  }
  c.total_usd = c.usd_per_hour * result.duration_s / 3600.0;
  const double tokens = result.input_tokens + result.output_tokens;
  if (result.output_tokens > 0) c.usd_per_million_output_tokens = c.total_usd / result.output_tokens * 1e6;
  if (result.input_tokens > 0) c.usd_per_million_input_tokens = c.total_usd / result.input_tokens * 1e6;
  if (tokens > 0) c.usd_per_million_total_tokens = c.total_usd / tokens * 1e6;
  return c;
}

EnergyReport compute_energy(const serving::SimulationSpec& spec, const serving::SimulationResult& result) {
  EnergyReport e;
  e.known = true;
  for (std::size_t p = 0; p < spec.pools.size(); ++p) {
    const auto& hw = spec.pools[p].hardware;
    if (!hw.power.tdp_w) {
      e.known = false;
      e.unknown_reason = hw.name + " has no TDP in its profile";
      return e;
    }
    if (!hw.power.idle_w) e.idle_power_assumed_zero = true;
    const double chips_per_replica = spec.pools[p].deployment.chips_per_replica();
    const double idle = hw.power.idle_w.value_or(0.0);
    for (const auto& rs : result.pools[p].replica_stats) {
      e.total_j += chips_per_replica * (idle * result.duration_s + rs.active_energy_j);
    }
  }
  if (result.duration_s > 0) e.average_power_w = e.total_j / result.duration_s;
  if (result.output_tokens > 0) e.joules_per_output_token = e.total_j / result.output_tokens;
  return e;
}

}  // namespace infersim::cost
