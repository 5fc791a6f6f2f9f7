// Fuzz target: a serving-engine profile, then the host time of a few steps (absurd figures must end as typed
// errors or finite, non-negative times, never as a crash).

#include <cmath>
#include <cstdlib>

#include "fuzz_support.hpp"
#include "infersim/serving/serving_engine_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infersim;
  return fuzz::accept_typed_errors([&] {
    const auto e = serving::load_serving_engine(fuzz::document_from(fuzz::as_text(data, size), "engine.json"));
    for (const auto& shape : {roofline::StepShape::prefill(2, 128), roofline::StepShape::decode(300, 512, 3)}) {
      const double s = serving::host_overhead_s(e, shape, {4, 80, true}, 1e-3);
      if (!(s >= 0) || !std::isfinite(s)) std::abort();
    }
  });
}
