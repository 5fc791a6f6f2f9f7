// Static batching (request-level, as in a plain generate() server): a batch forms when max_batch_size
// requests wait, when the oldest has waited batch_timeout_s, or when no more requests will arrive. The
// batch prefills together, then decodes until its longest request ends. Finished requests keep their
// slot and are computed as padding, and nothing joins the batch until it ends: the waste that continuous
// batching removes. KV blocks for prompt plus output are reserved at admission, so nothing is preempted.

#include "infersim/serving/impl/builtin_schedulers.hpp"

namespace infersim::serving {

namespace {

class StaticScheduler final : public BatchScheduler {
 public:
  bool keeps_finished() const override { return true; }

  void schedule(SchedulerContext& ctx, StepPlan& plan) override {
    RunningSet& run = ctx.running();
    if (!run.empty()) {
      bool all_done = true;
      for (std::size_t i = 0; i < run.size(); ++i) all_done = all_done && run.finished[i];
      if (!all_done) {
        for (std::size_t i = 0; i < run.size(); ++i) {
          if (run.finished[i]) {
            plan.padding.push_back(static_cast<std::uint32_t>(i));
          } else {
            plan.decodes.push_back(static_cast<std::uint32_t>(i));
          }
        }
        return;
      }
      // The batch is over: free it.
      for (std::size_t i = 0; i < run.size(); ++i) ctx.kv().release_request(run.id[i], run.blocks[i], ctx.now());
      run.clear();
    }
    if (ctx.waiting().empty()) return;
    const auto& lim = ctx.limits();
    const bool full = static_cast<std::int64_t>(ctx.waiting().size()) >= ctx.lane_batch_limit();
    const engine::SimTime deadline =
        ctx.request(ctx.waiting().front()).arrival + engine::from_seconds(lim.batch_timeout_s);
    if (!full && ctx.more_arrivals() && ctx.now() < deadline) {
      ctx.wake_at(deadline);
      return;
    }
    std::int64_t budget = lim.max_batched_tokens;
    while (!ctx.waiting().empty() && static_cast<std::int64_t>(run.size()) < ctx.lane_batch_limit()) {
      const std::uint32_t id = ctx.waiting().front();
      const std::int64_t prompt = ctx.prefill_tokens(id);
      if (prompt > budget && !plan.prefills.empty()) break;
      // Reserve the whole sequence: prompt and every output token.
      const std::int64_t total = static_cast<std::int64_t>(ctx.request(id).input_tokens) + ctx.request(id).output_tokens;
      if (!ctx.admit(total)) break;
      plan.prefills.push_back({static_cast<std::uint32_t>(run.size() - 1), prompt});
      budget -= prompt;
    }
  }
};

}  // namespace

std::unique_ptr<BatchScheduler> make_static_scheduler(const SchedulerSpec&) { return std::make_unique<StaticScheduler>(); }

}  // namespace infersim::serving
