#pragma once
// One replica of the model: its waiting queue, its KV-cache block pool, and one lane per pipeline stage
// (each lane a micro-batch moving through the pipeline, as vLLM's virtual engines). A lane runs one step
// at a time: its scheduler chooses the step, the memoized roofline prices it, the engine fires its end.

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "infersim/core/random.hpp"
#include "infersim/engine/simulator.hpp"
#include "infersim/roofline/step_cost_cache.hpp"
#include "infersim/serving/batch_scheduler.hpp"
#include "infersim/serving/metrics.hpp"
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
  double step_s = 0;          // wall time of the steps (device and host)
  double host_s = 0;          // the serving engine's part of step_s (host time, exposed launches)
  double prefill_busy_s = 0;  // busy_chip_s split by phase: a mixed step by its prefill and decode parts' own times
  double decode_busy_s = 0;
};

struct ReplicaSetup {
  int index = 0;        // across all pools
  int pool = 0;
  ReplicaRole role = ReplicaRole::unified;
  SchedulerSpec scheduler;
  std::int64_t kv_blocks = 0;
  int lanes = 1;                // pipeline stages: micro-batches in flight
  int attention_ranks = 1;      // deployment.attention_data_parallel: schedulers sharing each step
  double peak_flops_per_s = 0;  // for the utilization that drives power
  double memory_bytes_per_s = 0;
  double usd_per_second = 0;    // the whole replica (0 when unpriced)
  const ServingEngineSpec* engine = nullptr;  // host time added to each step (null: none)
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

 private:
  struct Lane {
    RunningSet running;
    StepPlan plan;
    bool busy = false;
    engine::EventId wake = 0;
    bool wake_pending = false;
    engine::SimTime step_start = 0;
    double usd_per_token = 0;  // the step's cost over the tokens of live requests in it
  };

  void try_start(std::size_t lane);
  void finish_step(std::size_t lane);
  /// Emit the next output token of running entry `slot` of `lane`; true when the request is done.
  bool emit_token(Lane& lane, std::size_t slot, engine::SimTime now);
  /// No lane runs or waits for a wake-up, yet requests hold blocks: no lane can start until one is preempted.
  bool stalled() const;
  /// Preempt the replica's newest request and let the lanes with the oldest requests start first.
  void break_stall();
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
  std::deque<std::uint32_t> waiting_;
  std::vector<Lane> lanes_;
  std::vector<std::uint32_t> completed_, handoffs_, leaving_;  // scratch of finish_step
  std::uint64_t admissions_ = 0;
  ReplicaStats stats_;
};

}  // namespace infersim::serving
