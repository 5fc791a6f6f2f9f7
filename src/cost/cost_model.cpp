#include "infersim/cost/cost_model.hpp"

#include <algorithm>

namespace infersim::cost {

CostReport compute_cost(const serving::SimulationSpec& spec, const serving::SimulationResult& r) {
  CostReport c;
  c.priced = true;
  double prefill_usd = 0, cached_usd = 0;
  for (std::size_t p = 0; p < spec.pools.size(); ++p) {
    const auto& pool = spec.pools[p];
    if (!pool.usd_per_chip_hour) {
      c.priced = false;
      c.unpriced_reason = pool.hardware.name + " has no price in its profile; give pricing.usd_per_chip_hour or pricing.tco";
      return c;
    }
    const double pool_usd_per_hour = *pool.usd_per_chip_hour * pool.deployment.total_chips();
    c.usd_per_hour += pool_usd_per_hour;
    // The pool's cost splits between the phases as its chips' busy time does; idle time in proportion.
    double prefill = 0, busy = 0, cached = 0, host_load = 0;
    for (const auto& rs : r.pools[p].replica_stats) {
      prefill += rs.prefill_busy_s;
      busy += rs.prefill_busy_s + rs.decode_busy_s;
      cached += rs.cached_prefill_busy_s;
      host_load += rs.prefix.host_load_s;
    }
    const double pool_prefill_usd = pool_usd_per_hour * r.duration_s / 3600.0 * (busy > 0 ? prefill / busy : 0.0);
    prefill_usd += pool_prefill_usd;
    // Prefill's cost splits between cached and fresh input tokens as its time does, the host-tier transfers
    // that brought cached blocks back counted as cached tokens' time.
    if (cached + host_load > 0) cached_usd += pool_prefill_usd * (cached + host_load) / (prefill + host_load);
  }
  c.total_usd = c.usd_per_hour * r.duration_s / 3600.0;
  c.usd_per_day = c.usd_per_hour * 24.0;
  c.prefill_share = c.total_usd > 0 ? prefill_usd / c.total_usd : 0.0;
  const double decode_usd = c.total_usd - prefill_usd;
  if (r.input_tokens > 0) c.usd_per_million_input_tokens = prefill_usd / r.input_tokens * 1e6;
  // (Reads of a hit that a preemption later lost, with no hit left to charge, stay with the fresh tokens.)
  if (r.cached_input_tokens <= 0) cached_usd = 0;
  c.cached_input_share = c.total_usd > 0 ? cached_usd / c.total_usd : 0.0;
  if (r.input_tokens > r.cached_input_tokens) {
    c.usd_per_million_fresh_input_tokens = (prefill_usd - cached_usd) / (r.input_tokens - r.cached_input_tokens) * 1e6;
  }
  if (r.cached_input_tokens > 0) c.usd_per_million_cached_input_tokens = cached_usd / r.cached_input_tokens * 1e6;
  if (r.output_tokens > 0) {
    c.usd_per_million_output_tokens = decode_usd / r.output_tokens * 1e6;
    c.usd_per_million_output_tokens_all_in = c.total_usd / r.output_tokens * 1e6;
  }
  if (r.input_tokens + r.output_tokens > 0) c.usd_per_million_total_tokens = c.total_usd / (r.input_tokens + r.output_tokens) * 1e6;
  // Per request: the chip time of the steps it was in, by its share of their tokens; idle time spread in
  // proportion, so that the requests' costs add up to the total.
  std::vector<double> per_request;
  per_request.reserve(r.request_table.size());
  double attributed = 0;
  for (const auto& q : r.request_table) {
    if (!q.done()) continue;
    per_request.push_back(q.cost_usd);
    attributed += q.cost_usd;
  }
  if (attributed > 0) {
    const double scale = c.total_usd / attributed;
    for (double& v : per_request) v *= scale;
  }
  c.usd_per_request = serving::summarize(per_request);
  return c;
}

std::optional<double> idle_power_w(const hardware::HardwareSpec& hw, const EnergySpec& energy) {
  if (hw.power.idle_w) return hw.power.idle_w;
  if (hw.power.tdp_w) return *hw.power.tdp_w * energy.idle_fraction_of_tdp;
  return std::nullopt;
}

EnergyReport compute_energy(const serving::SimulationSpec& spec, const serving::SimulationResult& r,
                            const EnergySpec& energy) {
  EnergyReport e;
  e.known = true;
  for (std::size_t p = 0; p < spec.pools.size(); ++p) {
    const auto& hw = spec.pools[p].hardware;
    if (!hw.power.tdp_w) {
      e.known = false;
      e.unknown_reason = hw.name + " has no TDP in its profile";
      return e;
    }
    if (!hw.power.idle_w && std::find(e.idle_assumed.begin(), e.idle_assumed.end(), hw.name) == e.idle_assumed.end()) {
      e.idle_assumed.push_back(hw.name);
    }
    const double idle = *idle_power_w(hw, energy);
    const double chips_per_replica = spec.pools[p].deployment.chips_per_replica();
    // Each chip: idle power the whole time, plus (TDP - idle) x utilization during its steps.
    for (const auto& rs : r.pools[p].replica_stats) {
      e.it_j += chips_per_replica * (idle * r.duration_s + (*hw.power.tdp_w - idle) * rs.utilized_chip_s);
    }
  }
  e.facility_j = e.it_j * energy.pue;
  if (r.duration_s > 0) {
    e.average_power_w = e.it_j / r.duration_s;
    e.facility_kwh_per_day = e.facility_j / r.duration_s * 86400.0 / 3.6e6;
  }
  if (r.output_tokens > 0) e.joules_per_output_token = e.it_j / r.output_tokens;
  const double tokens = r.input_tokens + r.output_tokens;
  if (tokens > 0) e.kg_co2_per_million_tokens = e.facility_j / 3.6e6 * energy.grid_kg_co2_per_kwh / tokens * 1e6;
  return e;
}

}  // namespace infersim::cost
