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

namespace {

/// The slot of Replica::run_step's table of `slots` (a power of 2) for a decode step of `sequences` sequences
/// and `context_tokens` cached tokens: by context sum, offset by the batch, so that a run of decode steps
/// walks the table with a stride of its batch.
std::size_t run_step_index(std::int64_t sequences, std::int64_t context_tokens, std::size_t slots) {
  return static_cast<std::size_t>(static_cast<std::uint64_t>(context_tokens + 1031 * sequences) & (slots - 1));
}

}  // namespace

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
      kv_(setup.kv_blocks, setup.scheduler.block_size, setup.kv_footprint),
      lanes_(static_cast<std::size_t>(std::max(1, setup.lanes))),
      reserve_(setup.scheduler.admission_reserve, setup.kv_footprint),
      first_token_lag_(setup.engine ? setup.engine->first_token_lag_steps : 0) {
  if (setup.scheduler.prefix_cache.enabled && setup.hashes) {
    prefix_ = std::make_unique<PrefixCache>(setup.scheduler.prefix_cache, kv_, *setup.hashes, setup.kv_bytes_per_token_per_chip);
    kv_.attach(prefix_.get());
  }
  for (const Lane& l : lanes_) lane_sets_.push_back(&l.running);
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
  if (reserve_.enabled()) reserve_.after_preemption(lane_sets_);
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
  // Multi-step scheduling: the next step of an open window runs without a scheduler pass.
  lane.continues_window = lane.window_left > 0 && continue_window(lane);
  if (lane.continues_window) {
    --lane.window_left;
    lane.busy = true;
    sim_.schedule_at(now + begin_step(index, now), [this, index] { finish_step(index); });
    return;
  }
  lane.window_left = 0;
  if (lane.holds_finished) close_window(lane);
  const bool windows = !speculative_ && !scheduler_->keeps_finished() && setup_.scheduler.scheduler_steps > 1;
  SchedulerContext ctx(now, lane.running, waiting_, kv_, requests_, setup_.scheduler, observer_.more_arrivals());
  ctx.set_admission_counter(&admissions_);
  ctx.set_decode_tokens(pricer_.decode_tokens_per_sequence());
  // A pass that decodes reserves the KV blocks of the whole window (vLLM's lookahead slots), preempting then.
  if (windows) ctx.set_lookahead_tokens(setup_.scheduler.scheduler_steps - 1);
  if (reserve_.enabled()) {
    reserve_.begin_pass(stats_.decode_steps, lane_sets_);
    ctx.set_admission_reserve(&reserve_);
  }
  lane.plan.clear();
  scheduler_->schedule(ctx, lane.plan);
  check_blocks();
  stats_.preemptions += ctx.preemptions();
  if (ctx.preemptions() > 0 && reserve_.enabled()) reserve_.after_preemption(lane_sets_);
  if (ctx.wake() >= 0) {
    if (lane.wake_pending) sim_.cancel(lane.wake);
    lane.wake = sim_.schedule_at(std::max(ctx.wake(), now), [this, index] {
      lanes_[index].wake_pending = false;
      try_start(index);
    });
    lane.wake_pending = true;
  }
  if (lane.plan.empty()) return;
  // A step with decodes opens a window of scheduler_steps decode steps (vLLM's num_scheduler_steps); a step
  // that only prefills runs alone, as vLLM runs a prompt batch without chunked prefill.
  if (windows && !lane.plan.decodes.empty()) lane.window_left = setup_.scheduler.scheduler_steps - 1;
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
  // A plain decode step (no prefix blocks loading) is a function of its batch and context sum when the model
  // has no local-attention layers: its price is remembered (run_step); any other step is priced here.
  const bool plain_decodes = shape.prefill_sequences == 0 && lane.plan.padding.empty() && shape.decode_sequences > 0 &&
                             shape.window.tokens == 0 && (!prefix_ || prefix_->pending_load_s() == 0);
  double step_s = -1;
  const bool pass = !lane.continues_window;
  PricedStep p = plain_decodes ? PricedStep{run_step(shape.decode_sequences, shape.decode_context_tokens, pass)}
                               : price_step(shape, lane.plan.decodes.size(), prefix_ ? prefix_->take_load_s() : 0.0, &step_s, pass);
  if (prefix_ && shape.prefill_tokens > 0) p.cached_share = p.prefill_share * cached_prefill_fraction(lane, shape, p.prefill_s);
  if (p.duration > engine::kHorizon - start) {
    if (step_s < 0) price_step(shape, lane.plan.decodes.size(), 0.0, &step_s, pass);
    throw_past_horizon(start, step_s, shape);
  }
  lane.usd_per_token = p.usd_per_token;
  account(p, p.prefill_share, p.cached_share);
  observer_.on_step(*this, index, start, p.duration, shape);
  lane.step_start = start;
  return p.duration;
}

Replica::PricedStep Replica::price_step(const roofline::StepShape& shape, std::size_t decodes, double load_s, double* step_s,
                                       bool scheduler_pass) {
  PricedStep p;
  const roofline::StepCost c = pricer_.price(shape);
  p.host_s = (scheduler_pass ? setup_.scheduler.scheduling_overhead_s : 0.0) +
             (setup_.engine ? host_overhead_s(*setup_.engine, shape, pricer_.launches(shape), c.time_s, setup_.attention_ranks,
                                              scheduler_pass, setup_.streaming)
                            : 0.0);
  const double seconds = c.time_s + p.host_s + load_s;
  INFERSIM_CHECK(seconds >= 0 && !std::isnan(seconds), "a step priced at " + std::to_string(seconds) + " s");
  p.duration = std::max<engine::SimTime>(1, engine::from_seconds(seconds));
  if (step_s) *step_s = seconds;

  // Split the step's chip time between the phases: a mixed step by the times its prefill and decode parts
  // would take alone.
  p.prefill_share = shape.prefill_tokens > 0 ? 1.0 : 0.0;
  p.prefill_s = shape.prefill_tokens > 0 ? c.time_s : 0.0;  // the prefill part alone
  if (shape.prefill_tokens > 0 && shape.decode_sequences > 0) {
    const double td = pricer_.price(shape.decode_part()).time_s;
    p.prefill_s = pricer_.price(shape.prefill_part()).time_s;
    p.prefill_share = p.prefill_s / (p.prefill_s + td);
  }
  const std::int64_t live_tokens = shape.prefill_tokens + static_cast<std::int64_t>(decodes) * shape.decode_tokens_per_sequence;
  p.usd_per_token = live_tokens > 0 ? engine::to_seconds(p.duration) * setup_.usd_per_second / static_cast<double>(live_tokens) : 0.0;
  p.stage_s = c.stage_time_s;
  p.flops = c.flops_per_chip;
  p.bytes = c.bytes_per_chip;
  if (c.stage_time_s > 0) {
    // Utilization of the busiest unit over the stage: achieved / peak FLOP rate or memory bandwidth.
    const double u = std::min(1.0, std::max(c.flops_per_chip / (setup_.peak_flops_per_s * c.stage_time_s),
                                            c.bytes_per_chip / (setup_.memory_bytes_per_s * c.stage_time_s)));
    p.utilized_s = u * c.stage_time_s;
  }
  return p;
}

void Replica::throw_past_horizon(engine::SimTime start, double step_s, const roofline::StepShape& shape) const {
  throw InfeasibleError("the simulation would run past its horizon of " + format_number(limits::kHorizonSeconds) +
                        " s (about 31 years): a step of " + std::to_string(shape.total_tokens()) + " tokens on replica " +
                        std::to_string(setup_.index) + " takes " + format_number(step_s) + " s at t = " +
                        format_number(engine::to_seconds(start)) +
                        " s; a figure of the hardware profile (rates, bandwidths) or the workload is off by orders of magnitude");
}

void Replica::account(const StepPrice& p, double prefill_share, double cached_share) {
  // Every sum starts at +0 and only grows, so adding a zero (a prefill share of 0, an idle stage) changes nothing.
  ++stats_.steps;
  stats_.step_s += engine::to_seconds(p.duration);
  stats_.host_s += p.host_s;
  stats_.busy_chip_s += p.stage_s;
  stats_.prefill_busy_s += p.stage_s * prefill_share;
  stats_.decode_busy_s += p.stage_s * (1.0 - prefill_share);
  stats_.cached_prefill_busy_s += p.stage_s * cached_share;
  stats_.flops_per_chip += p.flops;
  stats_.bytes_per_chip += p.bytes;
  stats_.utilized_chip_s += p.utilized_s;
}

roofline::StepShape Replica::decode_shape(std::int64_t sequences, std::int64_t context_tokens) const {
  roofline::StepShape shape;
  shape.window = pricer_.attention_window();
  shape.decode_tokens_per_sequence = pricer_.decode_tokens_per_sequence();
  shape.decode_sequences = sequences;
  shape.decode_context_tokens = context_tokens;
  shape.logit_tokens = sequences * shape.decode_tokens_per_sequence;
  return shape;
}

const Replica::StepPrice& Replica::run_step(std::int64_t sequences, std::int64_t context_tokens, bool scheduler_pass) {
  if (run_steps_.empty() || (run_step_lookups_ > 4 * run_steps_.size() && run_step_evictions_ * 16 > run_step_lookups_ &&
                             run_steps_.size() < kMaxRunStepSlots)) {
    // More than one lookup in 16 evicts a step that was revisited: the steps revisited do not all fit (or this
    // is the first lookup). Start over twice as large. Where steps are rarely revisited (near saturation) the
    // table stays small.
    run_steps_.assign(run_steps_.empty() ? kMinRunStepSlots : 2 * run_steps_.size(), RunStepSlot{});
    run_step_lookups_ = run_step_evictions_ = 0;
  }
  ++run_step_lookups_;
  INFERSIM_CHECK(sequences < (std::int64_t{1} << 22) && context_tokens < (std::int64_t{1} << 40),
                 "a decode step of " + std::to_string(sequences) + " sequences and " + std::to_string(context_tokens) +
                     " context tokens is beyond the step memo's key");
  // Bit 62: a step that continues a multi-step window (no scheduler pass, so no host time).
  const auto key = static_cast<std::uint64_t>(sequences) << 40 | static_cast<std::uint64_t>(context_tokens) |
                   (scheduler_pass ? 0 : RunStepSlot::kWindowStep);
  RunStepSlot& slot = run_steps_[run_step_index(sequences, context_tokens + (scheduler_pass ? 0 : 1), run_steps_.size())];
  if ((slot.key & ~RunStepSlot::kRevisited) != key) {
    run_step_evictions_ += slot.key != ~std::uint64_t{0} && (slot.key & RunStepSlot::kRevisited) ? 1 : 0;
    const PricedStep p = price_step(decode_shape(sequences, context_tokens), static_cast<std::size_t>(sequences), 0.0, nullptr,
                                    scheduler_pass);
    INFERSIM_DEBUG_CHECK(p.prefill_share == 0 && p.prefill_s == 0 && p.cached_share == 0, "a decode step with a prefill part");
    slot.key = key;
    slot.price = p;  // all of a decode-only step's price
  } else {
    slot.key |= RunStepSlot::kRevisited;
  }
  return slot.price;
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
  // Multi-step windows change what the next step is (no scheduler pass, padding): they run step by step.
  return !setup_.step_by_step && lanes_.size() == 1 && !speculative_ && setup_.scheduler.scheduler_steps == 1 &&
         scheduler_->repeats_plain_decodes() &&
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
  const std::size_t n = run.size();
  // After one step here every entry has emitted its last token when the next step began; the rest of the run
  // is then a tight loop when a decode step's price depends on the batch and its context sum alone (no
  // local-attention layers, no prefix blocks loading from the host).
  const bool tight = pricer_.attention_window().tokens == 0;
  const bool plain_blocks = kv_.footprint().plain();  // a block a block_size tokens: a compare finds the need
  const std::int64_t bs = kv_.block_size();
  while (end < limit) {
    bool finishing = false;
    std::int64_t need = 0;
    for (std::size_t i = 0; i < n; ++i) finishing = finishing || run.output[i] - run.generated[i] <= 1;
    if (plain_blocks) {
      for (std::size_t i = 0; i < n; ++i) need += static_cast<std::int64_t>(run.kv_tokens[i] + 2 > run.blocks[i] * bs);
    } else {
      for (std::size_t i = 0; i < n; ++i) need += kv_.blocks_to_grow(run.kv_tokens[i] + 2, run.blocks[i]);
    }
    if (finishing || need > kv_.free()) break;
    end_decodes(lane, end);
    if (need > 0) {
      // ctx.reserve_decodes(), which succeeds: one allocation for all the entries that need a block.
      for (std::size_t i = 0; i < n; ++i) run.blocks[i] += kv_.blocks_to_grow(run.kv_tokens[i] + 1, run.blocks[i]);
      kv_.allocate(need, end);
    }
    check_blocks();
    ++stats_.chained_steps;
    end += begin_step(index, end);
    // run_decodes does not stop at a step inside its run, where a first token reported late would be due.
    if (tight && (!prefix_ || prefix_->pending_load_s() == 0) && !reports_first_token_later(run)) {
      return run_decodes(index, end, limit);
    }
  }
  return end;
}

engine::SimTime Replica::run_decodes(std::size_t index, engine::SimTime end, engine::SimTime limit) {
  // advance_decodes' loop with what each step does to the entries taken out: every entry decodes in every
  // step, so each emits one token per step with the step's duration as its gap, and its context, tokens and
  // last token time move by the number of steps; only its cost and its blocks change one step at a time.
  Lane& lane = lanes_[index];
  RunningSet& run = lane.running;
  const std::size_t n = run.size();
  const auto batch = static_cast<std::int64_t>(n);
  const std::int64_t bs = kv_.block_size();
  INFERSIM_DEBUG_CHECK(kv_.footprint().plain(), "the decode run counts a block per block_size tokens: no local-attention layers");
  const double decode_tokens = static_cast<double>(pricer_.decode_tokens_per_sequence());
  // Steps that end before one would complete a request; each entry's slack: the steps it takes before its
  // next token starts a block (step t needs a block for the entries with t > slack).
  std::int64_t steps_left = std::numeric_limits<std::int64_t>::max(), context = 0, min_slack = std::numeric_limits<std::int64_t>::max();
  slack_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    INFERSIM_DEBUG_CHECK(run.last_token[i] == lane.step_start, "a run's entry did not decode in its last step");
    steps_left = std::min(steps_left, run.output[i] - run.generated[i] - 1);
    context += run.kv_tokens[i];
    slack_[i] = run.blocks[i] * bs - run.kv_tokens[i] - 2;
    min_slack = std::min(min_slack, slack_[i]);
  }
  const bool observe = observer_.observes_steps();
  double* cost = run.cost_usd.data();
  std::int64_t* blocks = run.blocks.data();
  std::int64_t* slack = slack_.data();
  engine::SimTime duration = end - lane.step_start;
  std::int64_t t = 0;  // steps ended here
  // Each step looks up the next one's price (run_step): load the slot of the step k after the one running
  // kAhead steps before it is needed, so that the slots' cache and TLB misses overlap.
  constexpr std::int64_t kAhead = 8;
  INFERSIM_DEBUG_CHECK(!run_steps_.empty(), "a run of decode steps began without a step from run_step");
  auto prefetch = [&](std::int64_t k) {
    if (t + k <= steps_left) __builtin_prefetch(&run_steps_[run_step_index(batch, context + k * batch, run_steps_.size())]);
  };
  for (std::int64_t k = 1; k <= kAhead; ++k) prefetch(k);
  while (end < limit && t < steps_left) {
    prefetch(kAhead + 1);
    std::int64_t need = 0;
    if (t > min_slack) {
      for (std::size_t i = 0; i < n; ++i) need += static_cast<std::int64_t>(t > slack[i]);
      if (need > kv_.free()) break;
    }
    // The step ends: charge_decodes and end_decodes, one token for each entry, all with the same gap.
    const double decode_usd = lane.usd_per_token * decode_tokens;
    for (std::size_t i = 0; i < n; ++i) cost[i] += decode_usd;
    itl_.add(duration, n);
    if (need > 0) {
      min_slack = std::numeric_limits<std::int64_t>::max();
      for (std::size_t i = 0; i < n; ++i) {
        const bool takes = t > slack[i];
        blocks[i] += static_cast<std::int64_t>(takes);
        slack[i] += takes ? bs : 0;
        min_slack = std::min(min_slack, slack[i]);
      }
      kv_.allocate(need, end);
    }
    ++t;
    context += batch;  // one token more in the cache for each entry
    // The next step: begin_step from the memo.
    const StepPrice& p = run_step(batch, context);
    if (p.duration > engine::kHorizon - end) {
      double step_s = 0;
      const roofline::StepShape shape = decode_shape(batch, context);
      price_step(shape, n, 0.0, &step_s);
      throw_past_horizon(end, step_s, shape);
    }
    lane.usd_per_token = p.usd_per_token;
    account(p, 0.0, 0.0);
    if (observe) observer_.on_step(*this, index, end, p.duration, decode_shape(batch, context));
    lane.step_start = end;
    duration = p.duration;
    end += duration;
  }
  for (std::size_t i = 0; i < n; ++i) {
    run.kv_tokens[i] += t;
    run.generated[i] += t;
    if (t > 0) run.last_token[i] = lane.step_start;
  }
  stats_.chained_steps += t;
  stats_.decode_sequence_steps += t * batch;
  stats_.decode_steps += t;
  stats_.decode_tokens += t * batch;
  check_blocks();
  return end;
}

bool Replica::emit_token(Lane& lane, std::size_t slot, engine::SimTime now) {
  RunningSet& run = lane.running;
  if (run.output[slot] == 0) {  // prefill only (a trace's cancelled request): done when its prompt is
    requests_[run.id[slot]].first_token = now;
    run.last_token[slot] = now;
    return true;
  }
  if (run.generated[slot] > 0) itl_.add(now - run.last_token[slot]);
  report_first_token(run, slot, run.generated[slot], 1, now);
  run.generated[slot] += 1;
  run.last_token[slot] = now;
  return run.generated[slot] >= run.output[slot];
}

bool Replica::reports_first_token_later(const RunningSet& run) const {
  if (first_token_lag_ == 0) return false;
  for (std::size_t i = 0; i < run.size(); ++i) {
    if (run.generated[i] < first_token_reported_at(run.output[i])) return true;
  }
  return false;
}

void Replica::report_first_token(const RunningSet& run, std::size_t slot, std::int64_t before, std::int64_t emitted,
                                 engine::SimTime now) {
  const std::int64_t at = first_token_reported_at(run.output[slot]);
  if (before < at && before + emitted >= at) requests_[run.id[slot]].first_token = now;
}

void Replica::finish_step(std::size_t index) {
  Lane& lane = lanes_[index];
  RunningSet& run = lane.running;
  const engine::SimTime now = sim_.now();
  completed_.clear();
  handoffs_.clear();
  leaving_.clear();
  const bool keep_finished = scheduler_->keeps_finished();
  // Multi-step scheduling: an entry that finishes before its window ends keeps its slot and blocks until then
  // (the device runs the window's steps for the whole batch); its completion is reported now.
  const bool window_goes_on = lane.window_left > 0;
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
    if (keep_finished || window_goes_on) {
      run.finished[slot] = 1;  // padding until the batch (or window) ends; its blocks stay reserved
      lane.holds_finished = lane.holds_finished || window_goes_on;
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
      report_first_token(run, s, run.generated[s], emitted, now);
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

bool Replica::continue_window(Lane& lane) {
  // The window's scheduler pass reserved its decodes' blocks (lookahead tokens); an entry whose prompt ended in
  // the window's first step (chunked prefill) takes its blocks step by step, and a pool too short for them ends
  // the window (the scheduler then preempts as usual).
  RunningSet& run = lane.running;
  StepPlan& plan = lane.plan;
  plan.clear();
  std::int64_t need = 0;
  for (std::size_t i = 0; i < run.size(); ++i) {
    if (run.finished[i]) {
      plan.padding.push_back(static_cast<std::uint32_t>(i));
    } else if (run.prefill_left[i] == 0) {  // a prompt still being prefilled in chunks waits for the next pass
      plan.decodes.push_back(static_cast<std::uint32_t>(i));
      need += kv_.blocks_to_grow(run.kv_tokens[i] + 1, run.blocks[i]);
    }
  }
  if (plan.decodes.empty() || need > kv_.free()) {
    plan.clear();
    return false;
  }
  if (need > 0) {
    for (std::uint32_t i : plan.decodes) run.blocks[i] += kv_.blocks_to_grow(run.kv_tokens[i] + 1, run.blocks[i]);
    kv_.allocate(need, sim_.now());
  }
  check_blocks();
  return true;
}

void Replica::close_window(Lane& lane) {
  // From the back, so that swap-removal only moves entries already looked at.
  RunningSet& run = lane.running;
  for (std::size_t i = run.size(); i-- > 0;) {
    if (!run.finished[i]) continue;
    kv_.release_request(run.id[i], run.blocks[i], sim_.now());
    run.remove_swap(i);
  }
  lane.holds_finished = false;
  check_blocks();
}

void Replica::charge_decodes(Lane& lane) {
  stats_.decode_sequence_steps += static_cast<std::int64_t>(lane.plan.decodes.size());
  stats_.decode_steps += lane.plan.decodes.empty() ? 0 : 1;
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
    // A decoding entry has emitted its first token; only a lag can leave its report due (skipped without one).
    if (first_token_lag_ > 0) report_first_token(run, s, gen[s] - 1, 1, now);
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
