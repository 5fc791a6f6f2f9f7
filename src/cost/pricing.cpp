#include "infersim/cost/pricing.hpp"

#include "infersim/core/error.hpp"
#include "infersim/core/strings.hpp"

namespace infersim::cost {

double tco_usd_per_chip_hour(const TcoSpec& t, double tdp_w) {
  const double hours_in_service = t.amortization_years * 8760.0 * t.utilization;
  const double kw = tdp_w / 1000.0;
  return t.purchase_usd_per_chip / hours_in_service + kw * t.pue * t.electricity_usd_per_kwh +
         t.hosting_usd_per_kw_month * kw / 730.0;
}

ChipPrice resolve_chip_price(const hardware::HardwareSpec& hw, std::optional<double> override_usd,
                             const std::optional<TcoSpec>& tco) {
  ChipPrice p;
  if (override_usd) {
    p.usd_per_chip_hour = override_usd;
    p.basis = "scenario pricing.usd_per_chip_hour";
    return p;
  }
  if (tco) {
    if (!hw.power.tdp_w) {
      throw InfeasibleError("pricing.tco needs the chip's power, but " + hw.name +
                            " has no TDP in its profile (power.tdp_w is null); give pricing.usd_per_chip_hour instead");
    }
    p.usd_per_chip_hour = tco_usd_per_chip_hour(*tco, *hw.power.tdp_w);
    p.basis = "TCO: $" + format_number(tco->purchase_usd_per_chip, 6) + " over " + format_number(tco->amortization_years, 3) +
              " years at " + format_number(tco->utilization * 100, 3) + "% utilization, PUE " + format_number(tco->pue, 3) +
              ", $" + format_number(tco->electricity_usd_per_kwh, 3) + "/kWh, $" +
              format_number(tco->hosting_usd_per_kw_month, 4) + "/kW-month";
    return p;
  }
  p.usd_per_chip_hour = hw.price.usd_per_chip_hour;
  if (p.usd_per_chip_hour) p.basis = "profile: " + hw.price.basis + " (" + hw.price.as_of_label() + ")";
  return p;
}

}  // namespace infersim::cost
