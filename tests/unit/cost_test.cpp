// Dollars and energy against hand calculations (docs/cost.md).

#include <gtest/gtest.h>

#include "infersim/config/catalog.hpp"
#include "infersim/cost/pricing.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/scenario/report.hpp"
#include "infersim/scenario/scenario_loader.hpp"

namespace infersim {
namespace {

config::Json base_scenario() {
  return config::Json::parse(R"({"name": "cost", "model": "llama-3.1-8b", "hardware": "h100-sxm",
    "scheduler": {"policy": "chunked_prefill", "max_batch_size": 64, "max_batched_tokens": 2048},
    "workload": {"requests": 400, "seed": 3, "arrival": {"process": "poisson", "rate_per_s": 4},
                 "input_tokens": {"distribution": "uniform", "min": 100, "max": 1500},
                 "output_tokens": {"distribution": "uniform", "min": 10, "max": 300}}})");
}

config::Json report_of(const config::Json& scenario) {
  const config::Document doc{scenario, "<test>", "", {}};
  const auto sc = scenario::parse_scenario(doc);
  return scenario::make_report(sc, serving::simulate(sc.simulation));
}

TEST(Cost, TcoWorkedExampleOfTheDocs) {
  // docs/cost.md: an H100 bought for $30,000, written off over 4 years at 90% utilization, 700 W, PUE 1.3,
  // $0.08/kWh and $150 per kW-month of hosting:
  //   30000 / (4 x 8760 x 0.9) = 0.95129 + 0.7 x 1.3 x 0.08 = 0.07280 + 150 x 0.7 / 730 = 0.14384 -> $1.16793 per hour.
  cost::TcoSpec t;
  t.purchase_usd_per_chip = 30000;
  t.amortization_years = 4;
  t.utilization = 0.9;
  t.pue = 1.3;
  t.electricity_usd_per_kwh = 0.08;
  t.hosting_usd_per_kw_month = 150;
  EXPECT_NEAR(cost::tco_usd_per_chip_hour(t, 700), 1.16793, 1e-5);
  // Through a scenario: the price the report uses.
  auto s = base_scenario();
  s["pricing"] = {{"tco", {{"purchase_usd_per_chip", 30000}, {"amortization_years", 4}, {"utilization", 0.9}, {"pue", 1.3},
                           {"electricity_usd_per_kwh", 0.08}, {"hosting_usd_per_kw_month", 150}}}};
  const auto r = report_of(s);
  EXPECT_NEAR(r["metrics"]["cost"]["prices"][0]["usd_per_chip_hour"].get<double>(), 1.16793, 1e-5);
  EXPECT_NEAR(r["metrics"]["cost"]["usd_per_hour"].get<double>(), 1.16793, 1e-5);
}

TEST(Cost, HandCalculationOfAFixedRun) {
  const auto r = report_of(base_scenario());
  const auto& m = r["metrics"];
  const double duration = m["simulated_duration_s"].get<double>();
  const double in = m["throughput"]["input_tokens_per_s"].get<double>() * duration;
  const double out = m["throughput"]["output_tokens_per_s"].get<double>() * duration;
  const double total = 3.99 * 1 * duration / 3600;  // one H100 at the profile's $3.99 per chip-hour
  const auto& c = m["cost"];
  EXPECT_NEAR(c["total_usd"].get<double>(), total, 1e-12);
  EXPECT_NEAR(c["usd_per_day"].get<double>(), 3.99 * 24, 1e-12);
  EXPECT_NEAR(c["usd_per_million_total_tokens"].get<double>(), total / (in + out) * 1e6, 1e-9);
  EXPECT_NEAR(c["usd_per_million_output_tokens_all_in"].get<double>(), total / out * 1e6, 1e-9);
  // The input and output parts add up to the total.
  const double parts = c["usd_per_million_input_tokens"].get<double>() * in / 1e6 +
                       c["usd_per_million_output_tokens"].get<double>() * out / 1e6;
  EXPECT_NEAR(parts, total, 1e-9);
  EXPECT_GT(c["prefill_share"].get<double>(), 0.0);
  EXPECT_LT(c["prefill_share"].get<double>(), 1.0);
  // The requests' costs add up to the total too (idle time spread in proportion).
  EXPECT_NEAR(c["usd_per_request"]["mean"].get<double>() * m["requests_completed"].get<double>(), total, 1e-9);
}

TEST(Cost, DoublingThePriceDoublesEveryCostFigure) {
  auto a = base_scenario(), b = base_scenario();
  a["pricing"] = {{"usd_per_chip_hour", 2.0}};
  b["pricing"] = {{"usd_per_chip_hour", 4.0}};
  const auto ca = report_of(a)["metrics"]["cost"], cb = report_of(b)["metrics"]["cost"];
  int checked = 0;
  for (const auto& [key, value] : scenario::flatten(ca)) {
    if (key.find("usd") == std::string::npos || !value.is_number()) continue;
    const auto other = scenario::flatten(cb);
    for (const auto& [k2, v2] : other) {
      if (k2 != key) continue;
      if (value.get<double>() == 0) continue;
      EXPECT_NEAR(v2.get<double>() / value.get<double>(), 2.0, 1e-12) << key;
      ++checked;
    }
  }
  EXPECT_GE(checked, 12);  // hour, day, total, four per-million figures, five per-request statistics, price
}

TEST(Energy, BetweenIdleAndTdpForTheWholeRun) {
  const auto r = report_of(base_scenario());
  const auto& m = r["metrics"];
  const double duration = m["simulated_duration_s"].get<double>();
  const double kwh = m["energy"]["total_kwh"].get<double>();
  const auto hw = hardware::load_hardware("h100-sxm");
  const double tdp = *hw.power.tdp_w;
  const double idle = hw.power.idle_w.value_or(0.15 * tdp);
  EXPECT_GT(kwh * 3.6e6, idle * duration);
  EXPECT_LT(kwh * 3.6e6, tdp * duration);
  // Joules per output token and average power are the same energy seen two ways.
  const double out = m["throughput"]["output_tokens_per_s"].get<double>() * duration;
  EXPECT_NEAR(m["energy"]["joules_per_output_token"].get<double>() * out, kwh * 3.6e6, 1e-6);
  EXPECT_NEAR(m["energy"]["average_power_w"].get<double>() * duration, kwh * 3.6e6, 1e-6);
  // CO2: facility energy (x PUE 1.58) x 0.367 kg/kWh per million tokens.
  const double tokens = (m["throughput"]["total_tokens_per_s"].get<double>()) * duration;
  EXPECT_NEAR(m["energy"]["kg_co2_per_million_tokens"].get<double>(), kwh * 1.58 * 0.367 / tokens * 1e6, 1e-9);
}

}  // namespace
}  // namespace infersim
