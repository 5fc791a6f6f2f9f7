// Fuzz target: a hardware profile, then a roofline step of a catalog model on it (absurd figures must end as
// typed errors or finite prices, never as a crash).

#include "fuzz_support.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/roofline/step_cost.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infersim;
  return fuzz::accept_typed_errors([&] {
    const auto hw = hardware::load_hardware(fuzz::document_from(fuzz::as_text(data, size), "hardware.json"));
    static const auto model = model::load_model("llama-3.2-1b");
    parallelism::DeploymentSpec d;
    d.weight_dtype = d.activation_dtype = d.kv_cache_dtype = model.native_dtype;
    const auto plan = parallelism::plan_memory(model, hw, d);
    (void)plan.fits();
    const roofline::StepCostModel cost(model, hw, d);
    (void)cost.evaluate(roofline::StepShape::prefill(2, 128));
    (void)cost.evaluate(roofline::StepShape::decode(8, 512));
  });
}
