#pragma once
// Dollars and energy of a simulated run (docs/cost.md has every formula).

#include <optional>
#include <string>
#include <vector>

#include "infersim/hardware/hardware_spec.hpp"
#include "infersim/serving/metrics.hpp"
#include "infersim/serving/simulation.hpp"

namespace infersim::cost {

struct EnergySpec {
  double pue = 1.58;                  // facility / IT power (Uptime Institute 2023 global average)
  double grid_kg_co2_per_kwh = 0.367; // US generation 2023: 0.81 lb/kWh (EIA)
  double idle_fraction_of_tdp = 0.15; // idle power of a chip whose profile has none
};

struct CostReport {
  bool priced = false;  // false when a pool has no price (profile without one, and none given)
  std::string unpriced_reason;
  double usd_per_hour = 0;   // every chip of the deployment, busy or idle
  double total_usd = 0;      // over the simulated duration
  double usd_per_day = 0;    // usd_per_hour x 24: what serving this traffic costs a day
  double prefill_share = 0;  // fraction of the cost attributed to prefill (input tokens)
  double usd_per_million_input_tokens = 0;   // prefill's share of the cost / input tokens
  // With a prefix cache, prefill's cost splits between the input tokens computed (fresh) and those served
  // from the cache (cached): a cached token pays for the time reading its KV adds to the prefill steps and for
  // bringing it back from the host tier, a fresh token for the rest (docs/cost.md). fresh x fresh tokens +
  // cached x cached tokens = usd_per_million_input_tokens x input tokens.
  double cached_input_share = 0;  // fraction of the cost attributed to cached input tokens (part of prefill_share)
  double usd_per_million_fresh_input_tokens = 0;
  double usd_per_million_cached_input_tokens = 0;
  double usd_per_million_output_tokens = 0;  // decode's share of the cost / output tokens
  double usd_per_million_total_tokens = 0;   // all the cost / all tokens
  double usd_per_million_output_tokens_all_in = 0;  // all the cost / output tokens
  serving::Distribution usd_per_request;
};

struct EnergyReport {
  bool known = false;  // false when a pool's hardware has no TDP
  std::string unknown_reason;
  double it_j = 0;        // chips
  double facility_j = 0;  // chips x PUE
  double average_power_w = 0;          // chips
  double joules_per_output_token = 0;  // chips
  double facility_kwh_per_day = 0;
  double kg_co2_per_million_tokens = 0;  // facility energy x grid intensity / all tokens
  std::vector<std::string> idle_assumed;  // hardware whose idle power was taken as idle_fraction_of_tdp x TDP
};

CostReport compute_cost(const serving::SimulationSpec& spec, const serving::SimulationResult& result);
EnergyReport compute_energy(const serving::SimulationSpec& spec, const serving::SimulationResult& result,
                            const EnergySpec& energy);

/// Idle power of a chip: the profile's, else the assumed fraction of TDP (nullopt without a TDP).
std::optional<double> idle_power_w(const hardware::HardwareSpec& hw, const EnergySpec& energy);

}  // namespace infersim::cost
