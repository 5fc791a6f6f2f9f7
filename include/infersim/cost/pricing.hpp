#pragma once
// The price of one chip for one hour: a dated on-demand price from the hardware profile, a price given in
// the scenario, or a total cost of ownership built from purchase price, amortization, power and hosting
// (docs/cost.md has the formula and a worked example).

#include <optional>
#include <string>

#include "infersim/hardware/hardware_spec.hpp"

namespace infersim::cost {

struct TcoSpec {
  double purchase_usd_per_chip = 0;   // what one chip (with its share of the server) costs to buy
  double amortization_years = 4;      // written off over this many years
  double utilization = 1.0;           // fraction of those hours the chip is in service (capex spreads over them)
  double pue = 1.58;                  // facility power / IT power (Uptime Institute 2023 global average)
  double electricity_usd_per_kwh = 0.10;
  double hosting_usd_per_kw_month = 0;  // colocation: space, cooling and power delivery per kW of IT load
};

/// Effective dollars per chip-hour of a TCO:
///   purchase / (years x 8760 x utilization) + TDP kW x PUE x electricity + hosting x TDP kW / 730.
double tco_usd_per_chip_hour(const TcoSpec& tco, double tdp_w);

/// The price a pool pays per chip-hour and where it came from.
struct ChipPrice {
  std::optional<double> usd_per_chip_hour;  // nullopt: unknown (profile has none and none was given)
  std::string basis;                        // "profile: ...", "scenario pricing", "TCO: ..."
};

/// `override_usd` wins, then `tco`, then the profile's dated price. A TCO needs the profile's TDP
/// (throws InfeasibleError otherwise).
ChipPrice resolve_chip_price(const hardware::HardwareSpec& hw, std::optional<double> override_usd,
                             const std::optional<TcoSpec>& tco);

}  // namespace infersim::cost
