// Chunked prefill (Sarathi-Serve; vLLM v1): a token budget per iteration (max_batched_tokens). Running
// decodes go first, one token each; the rest of the budget is filled with prefill chunks, first those of
// requests already partly prefilled, then new requests from the queue. Steps mix prefill and decode, so
// decodes never stall behind a long prompt. KV blocks are reserved per chunk; when they run out, the
// newest running request is preempted by recompute.

#include <algorithm>

#include "infersim/serving/impl/builtin_schedulers.hpp"

namespace infersim::serving {

namespace {

class ChunkedPrefillScheduler final : public BatchScheduler {
  std::vector<std::uint32_t> partial_;

 public:
  bool repeats_plain_decodes() const override { return true; }

  void schedule(SchedulerContext& ctx, StepPlan& plan) override {
    RunningSet& run = ctx.running();
    std::int64_t budget = ctx.limits().max_batched_tokens;
    // 1. Decodes, with room for one more token each (preempting the newest if blocks run short).
    ctx.reserve_decodes();
    for (std::size_t i = 0; i < run.size() && budget >= ctx.decode_tokens(); ++i) {
      if (run.prefill_left[i] == 0) {
        plan.decodes.push_back(static_cast<std::uint32_t>(i));
        budget -= ctx.decode_tokens();
      }
    }
    // 2-3. Prefill chunks in the rest of the budget.
    plan_prefill_chunks(ctx, plan, budget, partial_);
  }
};

}  // namespace

void plan_prefill_chunks(SchedulerContext& ctx, StepPlan& plan, std::int64_t budget, std::vector<std::uint32_t>& partial) {
  RunningSet& run = ctx.running();
  // Continue partial prefills, oldest admission first.
  partial.clear();
  for (std::size_t i = 0; i < run.size(); ++i) {
    if (run.prefill_left[i] > 0) partial.push_back(static_cast<std::uint32_t>(i));
  }
  std::sort(partial.begin(), partial.end(), [&](std::uint32_t a, std::uint32_t b) { return run.seq[a] < run.seq[b]; });
  for (std::uint32_t i : partial) {
    if (budget <= 0) break;
    const std::int64_t chunk = std::min(run.prefill_left[i], budget);
    if (!ctx.reserve(i, chunk)) break;  // wait for blocks rather than preempt a request that is further along
    plan.prefills.push_back({i, chunk});
    budget -= chunk;
  }
  // New requests.
  while (budget > 0 && !ctx.waiting().empty() && static_cast<std::int64_t>(run.size()) < ctx.lane_batch_limit()) {
    const std::int64_t prompt = ctx.prefill_tokens(ctx.waiting().front());
    if (prompt == 0) {  // arrived with its KV (disaggregated decode): decodes from the next step
      if (!ctx.admit(0)) break;
      continue;
    }
    const std::int64_t chunk = std::min(prompt, budget);
    if (!ctx.admit(chunk)) break;
    plan.prefills.push_back({static_cast<std::uint32_t>(run.size() - 1), chunk});
    budget -= chunk;
  }
}

std::unique_ptr<BatchScheduler> make_chunked_prefill_scheduler(const SchedulerSpec&) {
  return std::make_unique<ChunkedPrefillScheduler>();
}

}  // namespace infersim::serving
