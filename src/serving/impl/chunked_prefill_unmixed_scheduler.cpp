// Chunked prefill in steps of its own (SGLang's default: chunked prefill without --enable-mixed-chunk). A step
// holds either prefill chunks or decodes, never both. Prefill comes first: while any request is partly
// prefilled or waiting and admissible, the step is a prefill step with a token budget (max_batched_tokens),
// filled as chunked_prefill fills its own (partial prefills oldest first, then new requests, a prompt larger
// than what is left split at the budget); running decodes pause for it. Otherwise every running request
// decodes one token; when a decode needs a KV block and none is free, the newest running request is
// preempted by recompute.

#include <numeric>

#include "infersim/serving/impl/builtin_schedulers.hpp"

namespace infersim::serving {

namespace {

class ChunkedPrefillUnmixedScheduler final : public BatchScheduler {
  std::vector<std::uint32_t> partial_;

 public:
  bool repeats_plain_decodes() const override { return true; }

  void schedule(SchedulerContext& ctx, StepPlan& plan) override {
    plan_prefill_chunks(ctx, plan, ctx.limits().max_batched_tokens, partial_);
    if (!plan.prefills.empty()) return;
    RunningSet& run = ctx.running();
    ctx.reserve_decodes();
    for (std::size_t i = 0; i < run.size(); ++i) {
      if (run.prefill_left[i] == 0) plan.decodes.push_back(static_cast<std::uint32_t>(i));
    }
  }
};

}  // namespace

std::unique_ptr<BatchScheduler> make_chunked_prefill_unmixed_scheduler(const SchedulerSpec&) {
  return std::make_unique<ChunkedPrefillUnmixedScheduler>();
}

}  // namespace infersim::serving
