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
      lanes_(static_cast<std::size_t>(std::max(1, setup.lanes))) {
  if (setup.scheduler.prefix_cache.enabled && setup.hashes) {
    prefix_ = std::make_unique<PrefixCache>(setup.scheduler.prefix_cache, kv_, *setup.hashes, setup.kv_bytes_per_token_per_chip);
    kv_.attach(prefix_.get());
  }
}

std::int64_t Replica::prefix_cached_tokens(std::uint32_t id) const {
  return prefix_ ? prefix_->cached_tokens(id, requests_[id].input_tokens) : 0;
}

void Replica::enqueue(std::uint32_t id) {
  requests_[id].replica = setup_.index;
  waiting_.push_back(id);
}

void Replica::kick() { start_lanes(false); }

void Replica::start_lanes(bool last_act) {
  for (std::size_t i = 0; i < lanes_.size(); ++i) try_start(i, last_act && i + 1 == lanes_.size());
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

void Replica::try_start(std::size_t index, bool last_act) {
  Lane& lane = lanes_[index];
  if (lane.busy) return;
  const engine::SimTime now = sim_.now();
  SchedulerContext ctx(now, lane.running, waiting_, kv_, requests_, setup_.scheduler, observer_.more_arrivals());
  ctx.set_admission_counter(&admissions_);
  ctx.set_decode_tokens(pricer_.decode_tokens_per_sequence());
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
  engine::SimTime end = now + begin_step(index, now);
  lane.busy = true;
  if (last_act && repeats_plain_decodes(lane)) end = advance_decodes(index, end);
  sim_.schedule_at(end, [this, index] { finish_step(index); });
}

engine::SimTime Replica::begin_step(std::size_t index, engine::SimTime start) {
  Lane& lane = lanes_[index];
  roofline::StepShape shape;
  shape.window = pricer_.attention_window();
  shape.decode_tokens_per_sequence = pricer_.decode_tokens_per_sequence();
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
  const double step_s = c.time_s + host_s + (prefix_ ? prefix_->take_load_s() : 0.0);  // + prefix blocks from host
  INFERSIM_CHECK(step_s >= 0 && !std::isnan(step_s), "a step priced at " + std::to_string(step_s) + " s");
  const engine::SimTime duration = std::max<engine::SimTime>(1, engine::from_seconds(step_s));
  if (duration > engine::kHorizon - start) {
    throw InfeasibleError("the simulation would run past its horizon of " + format_number(limits::kHorizonSeconds) +
                          " s (about 31 years): a step of " + std::to_string(shape.total_tokens()) + " tokens on replica " +
                          std::to_string(setup_.index) + " takes " + format_number(step_s) + " s at t = " +
                          format_number(engine::to_seconds(start)) +
                          " s; a figure of the hardware profile (rates, bandwidths) or the workload is off by orders of magnitude");
  }

  // Split the step's chip time between the phases: a mixed step by the times its prefill and decode parts
  // would take alone.
  double prefill_share = shape.prefill_tokens > 0 ? 1.0 : 0.0;
  double prefill_s = c.time_s;  // the prefill part alone
  if (shape.prefill_tokens > 0 && shape.decode_sequences > 0) {
    const double td = pricer_.price(shape.decode_part()).time_s;
    prefill_s = pricer_.price(shape.prefill_part()).time_s;
    prefill_share = prefill_s / (prefill_s + td);
  }
  const double cached_fraction = prefix_ && shape.prefill_tokens > 0 ? cached_prefill_fraction(lane, shape, prefill_s) : 0.0;
  const std::int64_t live_tokens =
      shape.prefill_tokens + static_cast<std::int64_t>(lane.plan.decodes.size()) * shape.decode_tokens_per_sequence;
  lane.usd_per_token = live_tokens > 0 ? engine::to_seconds(duration) * setup_.usd_per_second / static_cast<double>(live_tokens) : 0.0;

  ++stats_.steps;
  stats_.step_s += engine::to_seconds(duration);
  stats_.host_s += host_s;
  stats_.busy_chip_s += c.stage_time_s;
  stats_.prefill_busy_s += c.stage_time_s * prefill_share;
  stats_.decode_busy_s += c.stage_time_s * (1.0 - prefill_share);
  stats_.cached_prefill_busy_s += c.stage_time_s * prefill_share * cached_fraction;
  stats_.flops_per_chip += c.flops_per_chip;
  stats_.bytes_per_chip += c.bytes_per_chip;
  if (c.stage_time_s > 0) {
    // Utilization of the busiest unit over the stage: achieved / peak FLOP rate or memory bandwidth.
    const double u = std::min(1.0, std::max(c.flops_per_chip / (setup_.peak_flops_per_s * c.stage_time_s),
                                            c.bytes_per_chip / (setup_.memory_bytes_per_s * c.stage_time_s)));
    stats_.utilized_chip_s += u * c.stage_time_s;
  }
  observer_.on_step(*this, index, start, duration, shape);
  lane.step_start = start;
  return duration;
}

double Replica::cached_prefill_fraction(const Lane& lane, const roofline::StepShape& shape, double prefill_s) {
  // The same chunks with their prefix-cached context removed: what the prefill would cost if it did not read
  // the cached KV. The difference is what the cached tokens cost (docs/cost.md).
  roofline::StepShape fresh;
  fresh.window = shape.window;
  fresh.decode_tokens_per_sequence = shape.decode_tokens_per_sequence;
  const RunningSet& run = lane.running;
  std::int64_t cached = 0;
  for (const auto& p : lane.plan.prefills) {
    const RequestRecord& rec = requests_[run.id[p.slot]];
    // A prefix hit is the context an admission started from (KV that arrived with a hand-off is not one).
    const std::int64_t k = rec.transferred == 0 ? std::min<std::int64_t>(rec.cached_input, run.kv_tokens[p.slot]) : 0;
    cached += k;
    fresh.add_prefill_chunk(p.tokens, run.kv_tokens[p.slot] - k, run.prefill_left[p.slot] == p.tokens);
  }
  if (cached == 0 || prefill_s <= 0) return 0.0;
  return std::clamp((prefill_s - pricer_.price(fresh).time_s) / prefill_s, 0.0, 1.0);
}

bool Replica::repeats_plain_decodes(const Lane& lane) const {
  return !setup_.step_by_step && lanes_.size() == 1 && !speculative_ && scheduler_->repeats_plain_decodes() &&
         waiting_.empty() && !lane.wake_pending && lane.plan.prefills.empty() && lane.plan.padding.empty() &&
         lane.plan.decodes.size() == lane.running.size();
}

engine::SimTime Replica::advance_decodes(std::size_t index, engine::SimTime end) {
  // The step ends at `end`. Its own event would be the last thing the running callback schedules; if it falls
  // before every pending event (ties go to the pending one: it was scheduled first), it would run next, with
  // nothing in between: no arrival, no other replica's step. So its work is done here, at time `end`: the
  // tokens of the step, then what the scheduler would plan next. By the scheduler's promise
  // (repeats_plain_decodes) that is the same decodes again, after reserving a block for every entry whose next
  // token starts one; so the run goes on while no entry finishes (a completion is reported from its own event)
  // and the free blocks cover the reservation (otherwise the scheduler preempts, in the step's own event).
  Lane& lane = lanes_[index];
  RunningSet& run = lane.running;
  const engine::SimTime limit = sim_.next_time();
  const std::int64_t bs = kv_.block_size();
  const std::size_t n = run.size();
  while (end < limit) {
    bool finishing = false;
    std::int64_t need = 0;
    for (std::size_t i = 0; i < n; ++i) {
      finishing = finishing || run.output[i] - run.generated[i] <= 1;
      need += static_cast<std::int64_t>(run.kv_tokens[i] + 2 > run.blocks[i] * bs);
    }
    if (finishing || need > kv_.free()) break;
    end_decodes(lane, end);
    if (need > 0) {
      // ctx.reserve_decodes(), which succeeds: one allocation for all the entries that need a block.
      for (std::size_t i = 0; i < n; ++i) run.blocks[i] += static_cast<std::int64_t>(run.kv_tokens[i] + 1 > run.blocks[i] * bs);
      kv_.allocate(need, end);
    }
    check_blocks();
    ++stats_.chained_steps;
    end += begin_step(index, end);
  }
  return end;
}

bool Replica::emit_token(Lane& lane, std::size_t slot, engine::SimTime now) {
  RunningSet& run = lane.running;
  if (run.output[slot] == 0) {  // prefill only (a trace's cancelled request): done when its prompt is
    requests_[run.id[slot]].first_token = now;
    run.last_token[slot] = now;
    return true;
  }
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
    // Its output's full blocks join the prefix cache (a request whose KV came from a prefill pool was never
    // looked up here: its blocks stay its own).
    if (prefix_ && r.transferred == 0) prefix_->on_completed(run.id[slot], run.kv_tokens[slot], now);
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
    if (prefix_) prefix_->on_prefilled(run.id[p.slot], requests_[run.id[p.slot]].input_tokens, now);
    if (setup_.role == ReplicaRole::prefill) {
      // Prefill-only replica: the request leaves with its KV (disaggregated serving).
      requests_[run.id[p.slot]].cost_usd = run.cost_usd[p.slot];
      handoffs_.push_back(run.id[p.slot]);
      leaving_.push_back(p.slot);
      continue;
    }
    if (emit_token(lane, p.slot, now)) retire(p.slot);
  }
  if (speculative_) {
    charge_decodes(lane);
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
    end_decodes(lane, now);
    for (std::uint32_t s : finishing_) retire(s);
  }
  if (!leaving_.empty()) {
    // Highest position first, so that swap-removal never moves an entry still to be removed.
    std::sort(leaving_.begin(), leaving_.end(), std::greater<>());
    for (std::uint32_t slot : leaving_) {
      kv_.release_request(run.id[slot], run.blocks[slot], now);
      run.remove_swap(slot);
    }
  }
  lane.busy = false;
  check_blocks();
  // Report in a fixed order (prefills, then decodes, in plan order): deterministic.
  for (std::uint32_t id : handoffs_) observer_.on_prefill_handoff(*this, id);
  for (std::uint32_t id : completed_) observer_.on_completion(*this, id);
  // Blocks and a lane are free again: every idle lane may start. Nothing is scheduled after this.
  start_lanes(/*last_act=*/true);
}

void Replica::charge_decodes(Lane& lane) {
  stats_.decode_sequence_steps += static_cast<std::int64_t>(lane.plan.decodes.size());
  const double decode_usd = lane.usd_per_token * static_cast<double>(pricer_.decode_tokens_per_sequence());
  for (std::uint32_t s : lane.plan.decodes) lane.running.cost_usd[s] += decode_usd;
}

void Replica::end_decodes(Lane& lane, engine::SimTime now) {
  RunningSet& run = lane.running;
  charge_decodes(lane);
  // The hot loop: one token for every decoding entry. A decoding entry has emitted its first token, so
  // every token here has an inter-token gap; gaps come in runs (entries that decoded in the previous step).
  finishing_.clear();
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
    if (gen[s] >= out[s]) finishing_.push_back(s);
  }
  if (run_count) itl_.add(run_gap, run_count);
  stats_.decode_tokens += static_cast<std::int64_t>(lane.plan.decodes.size());
}

void Replica::check_blocks() const {
#if INFERSIM_DEBUG_CHECKS_ENABLED
  std::int64_t held = 0;
  for (const Lane& l : lanes_) held = std::accumulate(l.running.blocks.begin(), l.running.blocks.end(), held);
  INFERSIM_DEBUG_CHECK(kv_.expected_used(held) == kv_.used(), "running requests hold " + std::to_string(held) + " KV blocks but the pool has " +
                                               std::to_string(kv_.used()) + " in use");
  INFERSIM_DEBUG_CHECK(kv_.used() <= kv_.total(), "KV blocks in use exceed the pool");
#endif
}

ReplicaStats Replica::stats(engine::SimTime end) const {
  ReplicaStats s = stats_;
  s.kv_blocks_total = kv_.total();
  s.kv_blocks_peak = kv_.peak();
  s.kv_block_ns = kv_.used_block_ns(end);
  if (prefix_) s.prefix = prefix_->stats();
  return s;
}

}  // namespace infersim::serving
