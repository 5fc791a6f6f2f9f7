#pragma once
// One replica of the model: its waiting queue, its KV-cache block pool, and one lane per pipeline stage
// (each lane a micro-batch moving through the pipeline, as vLLM's virtual engines). A lane runs one step
// at a time: its scheduler chooses the step, the memoized roofline prices it, the engine fires its end.

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "infersim/core/random.hpp"
#include "infersim/engine/simulator.hpp"
#include "infersim/roofline/step_cost_cache.hpp"
#include "infersim/serving/batch_scheduler.hpp"
#include "infersim/serving/metrics.hpp"
#include "infersim/serving/prefix_cache.hpp"
#include "infersim/serving/request_table.hpp"
#include "infersim/serving/speculative.hpp"
#include "infersim/serving/step_pricer.hpp"

namespace infersim::serving {

class Replica;

/// What a replica reports to the simulation that owns it.
class ReplicaObserver {
 public:
  virtual ~ReplicaObserver() = default;
  virtual void on_completion(Replica& replica, std::uint32_t id) = 0;
  /// A prefill finished on a replica whose role is prefill-only: the request leaves it (KV transfer).
  virtual void on_prefill_handoff(Replica& replica, std::uint32_t id) { (void)replica; (void)id; }
  virtual void on_step(const Replica& replica, std::size_t lane, engine::SimTime start, engine::SimTime duration,
                       const roofline::StepShape& shape) {
    (void)replica, (void)lane, (void)start, (void)duration, (void)shape;
  }
  /// Whether on_step does anything (false: a run of decode steps need not build each step's shape for it).
  virtual bool observes_steps() const { return true; }
  /// The replica has room again (blocks or a lane freed): other replicas' hand-offs may now fit.
  virtual bool more_arrivals() const = 0;
};

enum class ReplicaRole { unified, prefill, decode };

struct ReplicaStats {
  std::int64_t steps = 0;
  double busy_chip_s = 0;    // sum over steps of the stage time: how long each chip of the replica worked
  double flops_per_chip = 0; // useful FLOPs on one chip, summed over steps
  double bytes_per_chip = 0;
  double utilized_chip_s = 0;  // per chip: utilization x stage time, summed (energy above idle is (tdp - idle) x this)
  std::int64_t preemptions = 0;
  std::int64_t kv_blocks_total = 0;
  std::int64_t kv_blocks_peak = 0;
  double kv_block_ns = 0;    // integral of used blocks over time
  std::int64_t decode_sequence_steps = 0;  // decoding sequences summed over steps
  std::int64_t decode_tokens = 0;          // tokens those decodes emitted (> steps with speculative decoding)
  std::int64_t decode_steps = 0;           // steps with at least one decoding sequence
  double step_s = 0;          // wall time of the steps (device and host)
  double host_s = 0;          // the serving engine's part of step_s (host time, exposed launches)
  double prefill_busy_s = 0;  // busy_chip_s split by phase: a mixed step by its prefill and decode parts' own times
  double decode_busy_s = 0;
  // The part of prefill_busy_s that reading prefix-cached KV adds: each prefill part priced as it is minus
  // priced with every chunk's prefix-cached context removed (docs/cost.md, "Fresh and cached input tokens").
  double cached_prefill_busy_s = 0;
  std::int64_t chained_steps = 0;  // steps begun without an event of their own (runs of decode steps)
  PrefixCacheStats prefix;    // zero without a prefix cache
};

struct ReplicaSetup {
  int index = 0;        // across all pools
  int pool = 0;
  ReplicaRole role = ReplicaRole::unified;
  SchedulerSpec scheduler;
  std::int64_t kv_blocks = 0;
  parallelism::KvFootprint kv_footprint;       // what a sequence's blocks hold (local-attention windows)
  int lanes = 1;                // pipeline stages: micro-batches in flight
  int attention_ranks = 1;      // deployment.attention_data_parallel: schedulers sharing each step
  double peak_flops_per_s = 0;  // for the utilization that drives power
  double memory_bytes_per_s = 0;
  double usd_per_second = 0;    // the whole replica (0 when unpriced)
  const ServingEngineSpec* engine = nullptr;  // host time added to each step (null: none)
  bool step_by_step = false;    // one event per step: never advance a run of decode steps at once
  bool streaming = false;       // responses stream token by token (workload.streaming): the engine's streamed host time
  const BlockHashes* hashes = nullptr;        // requests' block hashes (for the prefix cache)
  double kv_bytes_per_token_per_chip = 0;     // prefix cache: host-tier size and transfers
};

class Replica {
 public:
  /// `speculative` (may be null) samples accepted draft tokens; `pricer` must price its verification.
  Replica(engine::Simulator& sim, RequestTable& requests, ReplicaObserver& observer, const ReplicaSetup& setup,
          StepPricer& pricer, std::unique_ptr<BatchScheduler> scheduler, GapRecorder& itl,
          const SpeculativeSpec* speculative = nullptr, std::uint64_t seed = 0);

  /// A request joins the waiting queue (at the back; it arrived).
  void enqueue(std::uint32_t id);
  /// Start a step on every idle lane that has work (preempting the newest request when the lanes are stalled).
  void kick();
  /// Requests waiting or running (for the least-loaded router).
  std::size_t outstanding() const;
  ReplicaStats stats(engine::SimTime end) const;
  const ReplicaSetup& setup() const { return setup_; }
  int index() const { return setup_.index; }
  /// Prompt tokens of request `id` this replica's prefix cache holds now (0 without one).
  std::int64_t prefix_cached_tokens(std::uint32_t id) const;
  const PrefixCache* prefix_cache() const { return prefix_.get(); }

 private:
  struct Lane {
    RunningSet running;
    StepPlan plan;
    bool busy = false;
    engine::EventId wake = 0;
    bool wake_pending = false;
    engine::SimTime step_start = 0;
    double usd_per_token = 0;  // the step's cost over the tokens of live requests in it
    // Multi-step scheduling (scheduler.scheduler_steps): decode steps the window of the running step still
    // has after it, whether the running step continues a window (no scheduler pass, no host time), and
    // whether entries finished in the window wait as padding for its end.
    std::int64_t window_left = 0;
    bool continues_window = false;
    bool holds_finished = false;
  };

  /// What one step adds to the replica's statistics and costs its tokens, a function of the step's shape:
  /// all of it but the split of its time by phase, so all of a decode-only step's price.
  struct StepPrice {
    engine::SimTime duration = 0;
    double host_s = 0;
    double stage_s = 0;         // time of the slowest pipeline stage (each chip's busy time)
    double flops = 0, bytes = 0;
    double utilized_s = 0;      // utilization x stage_s
    double usd_per_token = 0;   // the step's cost over its live tokens
  };
  /// A step's price with the split of its time by phase (all 0 in a decode-only step).
  struct PricedStep : StepPrice {
    double prefill_share = 0;   // of stage_s (a mixed step by its parts' own times)
    double prefill_s = 0;       // the prefill part's time alone (0 without prefill)
    double cached_share = 0;    // of stage_s, the prefill work of prefix-cached context (set by begin_step)
  };
  /// A decode-only step's price, remembered by (sequences, context sum): runs revisit the same steps. The
  /// table starts small (64 kB) and doubles, up to kMaxRunStepSlots (4 MB), while more than 1 lookup in 16
  /// evicts a step that had been revisited. A slot is one cache line.
  struct alignas(64) RunStepSlot {
    static constexpr std::uint64_t kRevisited = std::uint64_t{1} << 63;  // looked up again since it was priced
    static constexpr std::uint64_t kWindowStep = std::uint64_t{1} << 62;  // a step inside a multi-step window
    std::uint64_t key = ~std::uint64_t{0};  // sequences << 40 | context sum, | kWindowStep, | kRevisited
    StepPrice price;
  };
  static constexpr std::size_t kMinRunStepSlots = std::size_t{1} << 10, kMaxRunStepSlots = std::size_t{1} << 16;

  /// kick(); `last_act`: the caller schedules nothing afterwards (the end of finish_step).
  void start_lanes(bool last_act);
  /// Start a step on `lane` if it is idle and its scheduler plans one. `last_act`: the caller schedules
  /// nothing after this (the end of finish_step), so a run of decode steps may advance at once.
  void try_start(std::size_t lane, bool last_act = false);
  /// Price the step planned on `lane`, starting at `start`, and account for it; returns its duration.
  engine::SimTime begin_step(std::size_t lane, engine::SimTime start);
  /// Price `shape` with `decodes` live decoding sequences; `load_s`: prefix blocks loaded from the host first.
  /// `step_s` (if not null) receives the step's time in seconds before rounding. `scheduler_pass` false: the
  /// step continues a multi-step window and pays no host time but its exposed launches.
  PricedStep price_step(const roofline::StepShape& shape, std::size_t decodes, double load_s, double* step_s = nullptr,
                        bool scheduler_pass = true);
  /// Multi-step scheduling: plan the next step of the window open on `lane` (the same entries; those that
  /// finished as padding; KV blocks for the decodes' next token). False when the window cannot go on (no entry
  /// left decoding, or the blocks are not free): the scheduler then plans as usual.
  bool continue_window(Lane& lane);
  /// The window on `lane` is over: entries kept as padding leave, their blocks freed.
  void close_window(Lane& lane);
  /// Add a step's figures to the statistics, its time split by phase by the shares (of prefill work, and of
  /// that the part of prefix-cached context).
  void account(const StepPrice& p, double prefill_share, double cached_share);
  /// A step of `step_s` seconds starting at `start` would run past the simulation's horizon.
  [[noreturn]] void throw_past_horizon(engine::SimTime start, double step_s, const roofline::StepShape& shape) const;
  /// The shape of a plain decode step of `sequences` sequences with `context_tokens` cached tokens in all
  /// (models without local-attention layers: their decode steps depend on nothing else).
  roofline::StepShape decode_shape(std::int64_t sequences, std::int64_t context_tokens) const;
  /// price_step of decode_shape(sequences, context_tokens), memoized (valid until the next call).
  const StepPrice& run_step(std::int64_t sequences, std::int64_t context_tokens, bool scheduler_pass = true);
  /// Whether the step just planned on `lane` is a plain decode step the scheduler would repeat unchanged.
  bool repeats_plain_decodes(const Lane& lane) const;
  /// Advance a run of plain decode steps (docs/serving.md): the step planned on `lane` ends at `end`; while
  /// that is before any other event can run, end it here and begin the next one, as its own event would.
  /// Returns the end of the step left running.
  engine::SimTime advance_decodes(std::size_t lane, engine::SimTime end);
  /// The rest of a run in a tight loop, once every entry emitted its last token when the running step began:
  /// the same steps, tokens, costs and statistics as advance_decodes, with the entries' token counts and
  /// times written once at the end and each step's price from run_step. Returns the end of the step left running.
  engine::SimTime run_decodes(std::size_t lane, engine::SimTime end, engine::SimTime limit);
  void finish_step(std::size_t lane);
  /// Emit the next output token of running entry `slot` of `lane`; true when the request is done.
  bool emit_token(Lane& lane, std::size_t slot, engine::SimTime now);
  /// Charge the decodes of the step ending on `lane` their cost.
  void charge_decodes(Lane& lane);
  /// The decodes of the step ending on `lane` at `now` (not speculative): their cost, one token each;
  /// the positions of entries that are done go to finishing_.
  void end_decodes(Lane& lane, engine::SimTime now);
  /// No lane runs or waits for a wake-up, yet requests hold blocks: no lane can start until one is preempted.
  bool stalled() const;
  /// Preempt the replica's newest request and let the lanes with the oldest requests start first.
  void break_stall();
  /// Fraction of the prefill part of the step planned on `lane` (priced `prefill_s` alone) that reading
  /// prefix-cached KV adds; 0 without a prefix cache or a hit.
  double cached_prefill_fraction(const Lane& lane, const roofline::StepShape& shape, double prefill_s);
  /// The output token with which a request of `output` tokens reports its first to the client: the engine's
  /// first_token_lag_steps after the first, or its last if it has fewer.
  std::int64_t first_token_reported_at(std::int64_t output) const { return std::min(first_token_lag_ + 1, output); }
  /// Some entry of `run` has a first token still to report (never without a lag).
  bool reports_first_token_later(const RunningSet& run) const;
  /// Entry `slot` of `run`, which had emitted `before` tokens, emits `emitted` more at `now`: when they include the
  /// one first_token_reported_at() counts, the request's first token reaches the client now.
  void report_first_token(const RunningSet& run, std::size_t slot, std::int64_t before, std::int64_t emitted,
                          engine::SimTime now);
  /// Debug builds: the blocks held by running entries add up to the pool's blocks in use.
  void check_blocks() const;

  engine::Simulator& sim_;
  RequestTable& requests_;
  ReplicaObserver& observer_;
  ReplicaSetup setup_;
  StepPricer& pricer_;
  const SpeculativeSpec* speculative_;
  Rng acceptance_rng_;
  std::unique_ptr<BatchScheduler> scheduler_;
  GapRecorder& itl_;
  BlockPool kv_;
  std::unique_ptr<PrefixCache> prefix_;  // null unless scheduler.prefix_cache.enabled
  std::deque<std::uint32_t> waiting_;
  std::vector<Lane> lanes_;
  AdmissionReserve reserve_;                   // scheduler.admission_reserve (inactive unless enabled)
  std::vector<const RunningSet*> lane_sets_;   // every lane's running set, for reserve_
  std::vector<std::uint32_t> completed_, handoffs_, leaving_, finishing_;  // scratch of finish_step
  std::vector<std::int64_t> slack_;  // scratch of run_decodes: steps each entry can take before it needs a block
  std::vector<RunStepSlot> run_steps_;
  std::size_t run_step_lookups_ = 0, run_step_evictions_ = 0;  // since the table last grew
  std::uint64_t admissions_ = 0;
  ReplicaStats stats_;
  std::int64_t first_token_lag_ = 0;  // the engine's first_token_lag_steps (0 without an engine)
};

}  // namespace infersim::serving
