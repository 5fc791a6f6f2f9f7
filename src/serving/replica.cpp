#include "infersim/serving/replica.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "infersim/core/check.hpp"
#include "infersim/core/error.hpp"
#include "infersim/core/limits.hpp"
#include "infersim/core/strings.hpp"

namespace infersim::serving {

Replica::Replica(engine::Simulator& sim, RequestTable& requests, ReplicaObserver& observer, const ReplicaSetup& setup,
                 StepPricer& pricer, std::unique_ptr<BatchScheduler> scheduler, GapRecorder& itl,
                 const SpeculativeSpec* speculative, std::uint64_t seed)
    : sim_(sim),
      requests_(requests),
      observer_(observer),
      setup_(setup),
      pricer_(pricer),
      speculative_(speculative && speculative->enabled() ? speculative : nullptr),
      acceptance_rng_(Rng::stream(seed, 1000 + static_cast<std::uint64_t>(setup.index))),
      scheduler_(std::move(scheduler)),
      itl_(itl),
      kv_(setup.kv_blocks, setup.scheduler.block_size),
      lanes_(static_cast<std::size_t>(std::max(1, setup.lanes))) {}

void Replica::enqueue(std::uint32_t id) {
  requests_[id].replica = setup_.index;
  waiting_.push_back(id);
}

void Replica::kick() {
  for (std::size_t i = 0; i < lanes_.size(); ++i) try_start(i);
  while (stalled()) break_stall();
}

void Replica::break_stall() {
  // Every lane is idle, waiting for KV blocks that only another lane's requests could free (pipeline lanes
  // share the cache; with chunked prefill each may hold a partly prefilled prompt). Preempt the newest request
  // of the replica, as one scheduler for all lanes would, and offer the freed blocks to the lanes holding the
  // oldest requests first, so that the oldest request always advances (no livelock) and nothing stays stuck.
  constexpr std::uint64_t kEmpty = std::numeric_limits<std::uint64_t>::max();
  std::vector<std::pair<std::uint64_t, std::size_t>> order;  // (oldest seq of the lane, lane)
  std::size_t newest_lane = 0;
  std::uint64_t newest_seq = 0;
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    const RunningSet& run = lanes_[i].running;
    if (run.empty()) {
      order.emplace_back(kEmpty, i);
      continue;
    }
    order.emplace_back(*std::min_element(run.seq.begin(), run.seq.end()), i);
    if (run.seq[run.newest()] >= newest_seq) {
      newest_seq = run.seq[run.newest()];
      newest_lane = i;
    }
  }
  Lane& lane = lanes_[newest_lane];
  SchedulerContext ctx(sim_.now(), lane.running, waiting_, kv_, requests_, setup_.scheduler, observer_.more_arrivals());
  ctx.preempt_newest();
  stats_.preemptions += ctx.preemptions();
  std::sort(order.begin(), order.end());
  for (const auto& [seq, i] : order) try_start(i);
}

bool Replica::stalled() const {
  bool holding = false;
  for (const Lane& l : lanes_) {
    if (l.busy || l.wake_pending) return false;
    holding = holding || !l.running.empty();
  }
  return holding;
}

std::size_t Replica::outstanding() const {
  std::size_t n = waiting_.size();
  for (const Lane& l : lanes_) {
    for (std::size_t i = 0; i < l.running.size(); ++i) n += l.running.finished[i] ? 0 : 1;
  }
  return n;
}

void Replica::try_start(std::size_t index) {
  Lane& lane = lanes_[index];
  if (lane.busy) return;
  const engine::SimTime now = sim_.now();
  SchedulerContext ctx(now, lane.running, waiting_, kv_, requests_, setup_.scheduler, observer_.more_arrivals());
  ctx.set_admission_counter(&admissions_);
  const std::int64_t q = pricer_.decode_tokens_per_sequence();
  ctx.set_decode_tokens(q);
  lane.plan.clear();
  scheduler_->schedule(ctx, lane.plan);
  check_blocks();
  stats_.preemptions += ctx.preemptions();
  if (ctx.wake() >= 0) {
    if (lane.wake_pending) sim_.cancel(lane.wake);
    lane.wake = sim_.schedule_at(std::max(ctx.wake(), now), [this, index] {
      lanes_[index].wake_pending = false;
      try_start(index);
    });
    lane.wake_pending = true;
  }
  if (lane.plan.empty()) return;

  // Price the step.
  roofline::StepShape shape;
  shape.window = pricer_.attention_window();
  shape.decode_tokens_per_sequence = q;
  const RunningSet& run = lane.running;
  for (const auto& p : lane.plan.prefills) {
    shape.add_prefill_chunk(p.tokens, run.kv_tokens[p.slot], run.prefill_left[p.slot] == p.tokens);
  }
  shape.add_decodes(run.kv_tokens.data(), lane.plan.decodes);
  shape.add_decodes(run.kv_tokens.data(), lane.plan.padding);
  const roofline::StepCost c = pricer_.price(shape);
  const double host_s = setup_.scheduler.scheduling_overhead_s +
                        (setup_.engine ? host_overhead_s(*setup_.engine, shape, pricer_.launches(shape), c.time_s,
                                                         setup_.attention_ranks) : 0.0);
  const double step_s = c.time_s + host_s;
  INFERSIM_CHECK(step_s >= 0 && !std::isnan(step_s), "a step priced at " + std::to_string(step_s) + " s");
  const engine::SimTime duration = std::max<engine::SimTime>(1, engine::from_seconds(step_s));
  if (duration > engine::kHorizon - now) {
    throw InfeasibleError("the simulation would run past its horizon of " + format_number(limits::kHorizonSeconds) +
                          " s (about 31 years): a step of " + std::to_string(shape.total_tokens()) + " tokens on replica " +
                          std::to_string(setup_.index) + " takes " + format_number(step_s) + " s at t = " +
                          format_number(engine::to_seconds(now)) +
                          " s; a figure of the hardware profile (rates, bandwidths) or the workload is off by orders of magnitude");
  }

  // Split the step's chip time between the phases: a mixed step by the times its prefill and decode parts
  // would take alone.
  double prefill_share = shape.prefill_tokens > 0 ? 1.0 : 0.0;
  if (shape.prefill_tokens > 0 && shape.decode_sequences > 0) {
    const double tp = pricer_.price(shape.prefill_part()).time_s, td = pricer_.price(shape.decode_part()).time_s;
    prefill_share = tp / (tp + td);
  }
  const std::int64_t live_tokens =
      shape.prefill_tokens + static_cast<std::int64_t>(lane.plan.decodes.size()) * shape.decode_tokens_per_sequence;
  lane.usd_per_token = live_tokens > 0 ? engine::to_seconds(duration) * setup_.usd_per_second / static_cast<double>(live_tokens) : 0.0;

  ++stats_.steps;
  stats_.step_s += engine::to_seconds(duration);
  stats_.host_s += host_s;
  stats_.busy_chip_s += c.stage_time_s;
  stats_.prefill_busy_s += c.stage_time_s * prefill_share;
  stats_.decode_busy_s += c.stage_time_s * (1.0 - prefill_share);
  stats_.flops_per_chip += c.flops_per_chip;
  stats_.bytes_per_chip += c.bytes_per_chip;
  if (c.stage_time_s > 0) {
    // Utilization of the busiest unit over the stage: achieved / peak FLOP rate or memory bandwidth.
    const double u = std::min(1.0, std::max(c.flops_per_chip / (setup_.peak_flops_per_s * c.stage_time_s),
                                            c.bytes_per_chip / (setup_.memory_bytes_per_s * c.stage_time_s)));
    stats_.utilized_chip_s += u * c.stage_time_s;
  }
  observer_.on_step(*this, index, now, duration, shape);
  lane.busy = true;
  lane.step_start = now;
  sim_.schedule_after(duration, [this, index] { finish_step(index); });
}

bool Replica::emit_token(Lane& lane, std::size_t slot, engine::SimTime now) {
  RunningSet& run = lane.running;
  if (run.generated[slot] == 0) {
    requests_[run.id[slot]].first_token = now;
  } else {
    itl_.add(now - run.last_token[slot]);
  }
  run.generated[slot] += 1;
  run.last_token[slot] = now;
  return run.generated[slot] >= run.output[slot];
}

void Replica::finish_step(std::size_t index) {
  Lane& lane = lanes_[index];
  RunningSet& run = lane.running;
  const engine::SimTime now = sim_.now();
  completed_.clear();
  handoffs_.clear();
  leaving_.clear();
  const bool keep_finished = scheduler_->keeps_finished();
  auto retire = [&](std::size_t slot) {
    RequestRecord& r = requests_[run.id[slot]];
    INFERSIM_CHECK(!r.done(), "request " + std::to_string(run.id[slot]) + " completed twice");
    INFERSIM_CHECK(run.generated[slot] == run.output[slot],
                   "request " + std::to_string(run.id[slot]) + " completed with " + std::to_string(run.generated[slot]) +
                       " of " + std::to_string(run.output[slot]) + " output tokens");
    r.generated = static_cast<std::int32_t>(run.generated[slot]);
    r.last_token = run.last_token[slot];
    r.cost_usd = run.cost_usd[slot];
    r.completion = now;
    completed_.push_back(run.id[slot]);
    if (keep_finished) {
      run.finished[slot] = 1;  // padding until the batch ends; its blocks stay reserved
    } else {
      leaving_.push_back(static_cast<std::uint32_t>(slot));
    }
  };
  for (const auto& p : lane.plan.prefills) {
    run.kv_tokens[p.slot] += p.tokens;
    run.prefill_left[p.slot] -= p.tokens;
    run.cost_usd[p.slot] += lane.usd_per_token * static_cast<double>(p.tokens);
    if (run.prefill_left[p.slot] > 0) continue;
    if (setup_.role == ReplicaRole::prefill) {
      // Prefill-only replica: the request leaves with its KV (disaggregated serving).
      requests_[run.id[p.slot]].cost_usd = run.cost_usd[p.slot];
      handoffs_.push_back(run.id[p.slot]);
      leaving_.push_back(p.slot);
      continue;
    }
    if (emit_token(lane, p.slot, now)) retire(p.slot);
  }
  stats_.decode_sequence_steps += static_cast<std::int64_t>(lane.plan.decodes.size());
  const double decode_usd = lane.usd_per_token * static_cast<double>(pricer_.decode_tokens_per_sequence());
  for (std::uint32_t s : lane.plan.decodes) run.cost_usd[s] += decode_usd;
  if (speculative_) {
    // Each sequence keeps its accepted draft tokens plus the target's own next token, all emitted at once:
    // the first has the gap since the last token, the others a gap of zero.
    for (std::uint32_t s : lane.plan.decodes) {
      const std::int64_t want = run.output[s] - run.generated[s];
      const std::int64_t emitted = std::min<std::int64_t>(want, 1 + speculative_->sample_accepted(acceptance_rng_));
      run.kv_tokens[s] += emitted;
      run.generated[s] += emitted;
      itl_.add(now - run.last_token[s]);
      if (emitted > 1) itl_.add(0, static_cast<std::uint64_t>(emitted - 1));
      run.last_token[s] = now;
      stats_.decode_tokens += emitted;
      if (run.generated[s] >= run.output[s]) retire(s);
    }
  } else {
    // The hot loop: one token for every decoding entry. A decoding entry has emitted its first token, so
    // every token here has an inter-token gap; gaps come in runs (entries that decoded in the previous step).
    std::int64_t* kv = run.kv_tokens.data();
    std::int64_t* gen = run.generated.data();
    const std::int64_t* out = run.output.data();
    engine::SimTime* last = run.last_token.data();
    engine::SimTime run_gap = -1;
    std::uint64_t run_count = 0;
    for (std::uint32_t s : lane.plan.decodes) {
      kv[s] += 1;
      gen[s] += 1;
      const engine::SimTime gap = now - last[s];
      if (gap == run_gap) {
        ++run_count;
      } else {
        if (run_count) itl_.add(run_gap, run_count);
        run_gap = gap;
        run_count = 1;
      }
      last[s] = now;
      if (gen[s] >= out[s]) retire(s);
    }
    if (run_count) itl_.add(run_gap, run_count);
    stats_.decode_tokens += static_cast<std::int64_t>(lane.plan.decodes.size());
  }
  if (!leaving_.empty()) {
    // Highest position first, so that swap-removal never moves an entry still to be removed.
    std::sort(leaving_.begin(), leaving_.end(), std::greater<>());
    for (std::uint32_t slot : leaving_) {
      kv_.release(run.blocks[slot], now);
      run.remove_swap(slot);
    }
  }
  lane.busy = false;
  check_blocks();
  // Report in a fixed order (prefills, then decodes, in plan order): deterministic.
  for (std::uint32_t id : handoffs_) observer_.on_prefill_handoff(*this, id);
  for (std::uint32_t id : completed_) observer_.on_completion(*this, id);
  // Blocks and a lane are free again: every idle lane may start.
  kick();
}

void Replica::check_blocks() const {
#if INFERSIM_DEBUG_CHECKS_ENABLED
  std::int64_t held = 0;
  for (const Lane& l : lanes_) held = std::accumulate(l.running.blocks.begin(), l.running.blocks.end(), held);
  INFERSIM_DEBUG_CHECK(held == kv_.used(), "running requests hold " + std::to_string(held) + " KV blocks but the pool has " +
                                               std::to_string(kv_.used()) + " in use");
  INFERSIM_DEBUG_CHECK(kv_.used() <= kv_.total(), "KV blocks in use exceed the pool");
#endif
}

ReplicaStats Replica::stats(engine::SimTime end) const {
  ReplicaStats s = stats_;
  s.kv_blocks_total = kv_.total();
  s.kv_blocks_peak = kv_.peak();
  s.kv_block_ns = kv_.used_block_ns(end);
  return s;
}

}  // namespace infersim::serving
