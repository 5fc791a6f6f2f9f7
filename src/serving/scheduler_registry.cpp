#include "infersim/serving/impl/builtin_schedulers.hpp"

namespace infersim::serving {

void register_builtin_schedulers(SchedulerRegistry& r) {
  r.add("static", "request-level batches: form, prefill together, decode until the longest ends", make_static_scheduler);
  r.add("continuous", "iteration-level batching with prefill priority (Orca, vLLM)", make_continuous_scheduler);
  r.add("chunked_prefill", "token budget per iteration, decodes first, prefill chunks fill the rest (Sarathi-Serve, vLLM v1)",
        make_chunked_prefill_scheduler);
  r.add("chunked_prefill_unmixed",
        "token budget per prefill step, prefill chunks first in steps of their own, decodes pause for them (SGLang "
        "without --enable-mixed-chunk)",
        make_chunked_prefill_unmixed_scheduler);
  r.add("inflight",
        "in-flight batching with whole prompts: decodes first, then prompts in arrival order while they fit the token "
        "budget, none split or overtaken (TensorRT-LLM without chunked context)",
        make_inflight_scheduler);
}

const SchedulerRegistry& scheduler_registry() {
  static const SchedulerRegistry registry = [] {
    SchedulerRegistry r;
    register_builtin_schedulers(r);
    return r;
  }();
  return registry;
}

}  // namespace infersim::serving
