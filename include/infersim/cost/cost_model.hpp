#pragma once
// Dollars and energy of a simulated run (docs/cost.md).

#include <optional>
#include <string>
#include <vector>

#include "infersim/hardware/hardware_spec.hpp"
#include "infersim/serving/simulation.hpp"

namespace infersim::cost {

struct CostReport {
  bool priced = false;             // false when a pool's hardware has no price and none was given
  std::string unpriced_reason;
  double usd_per_hour = 0;         // all chips of the deployment, busy or idle
  double total_usd = 0;            // over the simulated duration
  double usd_per_million_input_tokens = 0;
  double usd_per_million_output_tokens = 0;
  double usd_per_million_total_tokens = 0;
};

struct EnergyReport {
  bool known = false;              // false when a pool's hardware has no TDP
  std::string unknown_reason;
  double total_j = 0;
  double average_power_w = 0;
  double joules_per_output_token = 0;
  bool idle_power_assumed_zero = false;  // a profile without idle power was counted at 0 W idle
};

/// Price per chip-hour of a pool: the override, else the profile's price.
std::optional<double> chip_price(const hardware::HardwareSpec& hw, std::optional<double> override_usd_per_chip_hour);

CostReport compute_cost(const serving::SimulationSpec& spec, const serving::SimulationResult& result,
                        std::optional<double> override_usd_per_chip_hour);
EnergyReport compute_energy(const serving::SimulationSpec& spec, const serving::SimulationResult& result);

}  // namespace infersim::cost
