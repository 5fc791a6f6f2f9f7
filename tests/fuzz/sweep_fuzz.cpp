// Fuzz target: a sweep file (contract: sweep file), then the scenario of a few of its points (the first, the
// last and one between), each parsed as `infersim sweep` parses it: the base with the point's overrides.
// Simulating is left to the scenario target; here the grid and zip expansion, the point order and the
// overrides meet whatever the fuzzer makes up.

#include <set>

#include "fuzz_support.hpp"
#include "infersim/sweep/sweep_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infersim;
  return fuzz::accept_typed_errors([&] {
    const std::string base_dir = std::string(INFERSIM_SOURCE_DIR) + "/configs/scenarios";
    const sweep::SweepSpec spec = sweep::parse_sweep(std::string(fuzz::as_text(data, size)), "sweep.json", base_dir);
    const std::size_t n = spec.points();
    if (n == 0) return;
    for (std::size_t point : std::set<std::size_t>{0, n / 2, n - 1}) {
      const auto values = spec.values(point);
      const auto overrides = spec.overrides(point);
      if (values.size() != spec.keys().size() || overrides.size() != values.size()) {
        throw std::logic_error("a point's values do not match the swept keys");
      }
      config::Document doc = spec.base;
      fuzz::accept_typed_errors([&] {  // a point that fails is a row with an error, not the end of the sweep
        scenario::apply_overrides(doc.json, overrides);
        (void)scenario::parse_scenario(doc, overrides);
      });
    }
  });
}
