// Continuous batching (Orca; vLLM's default scheduler before chunked prefill): every iteration first
// admits waiting requests while the KV cache and the batch limits allow, and if it admitted any, runs a
// prefill-only step for them (prefill priority: running decodes pause for that step). Otherwise every
// running request decodes one token; when a decode needs a KV block and none is free, the newest running
// request is preempted by recompute.

#include <numeric>

#include "infersim/serving/impl/builtin_schedulers.hpp"

namespace infersim::serving {

namespace {

class ContinuousScheduler final : public BatchScheduler {
 public:
  bool repeats_plain_decodes() const override { return true; }

  void schedule(SchedulerContext& ctx, StepPlan& plan) override {
    RunningSet& run = ctx.running();
    const auto& lim = ctx.limits();
    // Prefill-priority: admit what fits.
    std::int64_t budget = lim.max_batched_tokens;
    while (!ctx.waiting().empty() && static_cast<std::int64_t>(run.size()) < ctx.lane_batch_limit()) {
      const std::int64_t prompt = ctx.prefill_tokens(ctx.waiting().front());
      if (prompt == 0) {  // arrived with its KV (disaggregated decode): joins the decodes
        if (!ctx.admit(0)) break;
        continue;
      }
      // A prompt larger than the token budget runs alone.
      if (prompt > budget && !plan.prefills.empty()) break;
      if (!ctx.admit(prompt)) break;
      plan.prefills.push_back({static_cast<std::uint32_t>(run.size() - 1), prompt});
      budget -= prompt;
    }
    if (!plan.prefills.empty()) return;
    // Decode step: every running request needs room for one more token (preempting the newest if short).
    ctx.reserve_decodes();
    plan.decodes.resize(run.size());
    std::iota(plan.decodes.begin(), plan.decodes.end(), std::uint32_t{0});
  }
};

}  // namespace

std::unique_ptr<BatchScheduler> make_continuous_scheduler(const SchedulerSpec&) {
  return std::make_unique<ContinuousScheduler>();
}

}  // namespace infersim::serving
