// In-flight batching without chunked context (TensorRT-LLM's in-flight fused batching as NVIDIA's MLPerf
// v4.0/v4.1 harness ran it; docs/serving.md, "In-flight batching with whole prompts"). Every iteration holds
// the running requests' next tokens and the prompts of newly admitted ones, in one step. The requests are
// taken in arrival order against a token budget (max_batched_tokens, TensorRT-LLM's max_num_tokens): first
// the decodes (one token each, or the verified tokens with speculative decoding), then waiting prompts, each
// whole: a prompt that does not fit the rest of the budget is not split, and it stops admission for the
// iteration, so no later prompt overtakes it (TensorRT-LLM's MicroBatchScheduler breaks its loop at the
// first context request that does not fit when chunking is off). KV blocks for the whole prompt must be free
// to admit it (MAX_UTILIZATION: blocks for the next step); a decode short of a block preempts the newest
// request by recompute, which then goes back to the front of the queue.
//
// A prompt larger than the whole budget can never fit beside anything: it runs alone in a step of its own
// once it reaches the head of the queue (TensorRT-LLM rejects such a request, since its engine's max_input_len
// may not exceed max_num_tokens without chunking; a simulation serves it rather than drop it).

#include "infersim/serving/impl/builtin_schedulers.hpp"

namespace infersim::serving {

namespace {

class InflightScheduler final : public BatchScheduler {
 public:
  bool repeats_plain_decodes() const override { return true; }

  void schedule(SchedulerContext& ctx, StepPlan& plan) override {
    RunningSet& run = ctx.running();
    const std::int64_t limit = ctx.limits().max_batched_tokens;
    std::int64_t budget = limit;
    // 1. Decodes, each with room for its next tokens (preempting the newest if blocks run short).
    ctx.reserve_decodes();
    for (std::size_t i = 0; i < run.size() && budget >= ctx.decode_tokens(); ++i) {
      if (run.prefill_left[i] == 0) {
        plan.decodes.push_back(static_cast<std::uint32_t>(i));
        budget -= ctx.decode_tokens();
      }
    }
    // 2. Waiting prompts, whole, in arrival order; the first that does not fit ends admission.
    while (!ctx.waiting().empty() && static_cast<std::int64_t>(run.size()) < ctx.lane_batch_limit()) {
      const std::int64_t prompt = ctx.prefill_tokens(ctx.waiting().front());
      if (prompt == 0) {  // arrived with its KV (disaggregated decode): decodes from the next step
        if (!ctx.admit(0)) break;
        continue;
      }
      if (prompt > budget) {
        if (prompt <= limit || !plan.prefills.empty()) break;
        // Larger than any step's budget: alone, the decodes wait one step.
        if (!ctx.admit(prompt)) break;
        plan.decodes.clear();
        plan.prefills.push_back({static_cast<std::uint32_t>(run.size() - 1), prompt});
        break;
      }
      if (!ctx.admit(prompt)) break;
      plan.prefills.push_back({static_cast<std::uint32_t>(run.size() - 1), prompt});
      budget -= prompt;
    }
  }
};

}  // namespace

std::unique_ptr<BatchScheduler> make_inflight_scheduler(const SchedulerSpec&) {
  return std::make_unique<InflightScheduler>();
}

}  // namespace infersim::serving
