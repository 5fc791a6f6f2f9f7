// Fuzz target: a model config, then its parameter counts, memory plan and a roofline step on a catalog chip.

#include "fuzz_support.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/model/model_stats.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/roofline/step_cost.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infersim;
  return fuzz::accept_typed_errors([&] {
    const auto m = model::load_model(fuzz::document_from(fuzz::as_text(data, size), "model.json"));
    static const auto hw = hardware::load_hardware("h100-sxm");
    (void)model::count_parameters(m).total();
    (void)model::forward_flops_per_token(m, 1024);
    parallelism::DeploymentSpec d;
    d.weight_dtype = d.activation_dtype = d.kv_cache_dtype = DType::bf16;
    const auto plan = parallelism::plan_memory(m, hw, d);
    if (!plan.fits()) parallelism::require_fit(m, hw, d, plan);
    const roofline::StepCostModel cost(m, hw, d);
    (void)cost.evaluate(roofline::StepShape::prefill(1, 64));
    (void)cost.evaluate(roofline::StepShape::decode(4, 256));
  });
}
