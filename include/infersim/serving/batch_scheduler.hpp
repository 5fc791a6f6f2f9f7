#pragma once
// Batching policies: what the next step of a replica processes.
//
// Contract of a BatchScheduler:
// - schedule() is called whenever a lane of a replica is free to start a step (after a step ends, when a
//   request arrives at an idle replica, or at a wake-up time the scheduler asked for). It fills `plan` with
//   prefill chunks and decodes of entries of ctx.running(); an empty plan leaves the lane idle.
// - It may admit requests from the head of ctx.waiting() (ctx.admit()), and preempt running requests
//   (ctx.preempt_newest(): by recompute, the newest admitted first); blocks must be reserved, through ctx,
//   for every token the step will add to the KV cache before the plan is returned.
// - Indices in the plan refer to ctx.running() as it is when schedule() returns; the replica applies the
//   plan when the step ends: prefill progress, one token per decode (more with speculative decoding),
//   first tokens, completions. Finished requests leave the running set and free their blocks, except when
//   the scheduler keeps them as padding (keep_finished()).
// - Schedulers hold no simulation state of their own beyond what they need to decide; they never touch
//   time directly except through ctx.wake_at().
//
// Adding a policy: a new file in src/serving/impl/ defining the class and a make_...() function, and one
// line in register_builtin_schedulers() (src/serving/scheduler_registry.cpp). See docs/serving.md.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "infersim/engine/sim_time.hpp"
#include "infersim/serving/admission_reserve.hpp"
#include "infersim/serving/kv_cache.hpp"
#include "infersim/serving/request_table.hpp"
#include "infersim/serving/serving_spec.hpp"

namespace infersim::serving {

/// The requests admitted to one lane of a replica, as a structure of arrays. Entries leave by swap-remove
/// (O(1)), so positions do not follow admission order; `seq` does (a larger seq was admitted later).
/// What changes every step (tokens cached and generated, time of the last token) lives here, and is written
/// back to the request's RequestRecord when it leaves.
struct RunningSet {
  std::vector<std::uint32_t> id;
  std::vector<std::uint64_t> seq;          // admission order
  std::vector<std::int64_t> kv_tokens;     // tokens whose KV is in the cache
  std::vector<std::int64_t> prefill_left;  // prompt (or recompute) tokens still to prefill; 0 = decoding
  std::vector<std::int64_t> blocks;        // KV blocks held
  std::vector<std::int64_t> generated;     // output tokens emitted so far
  std::vector<std::int64_t> output;        // output tokens wanted
  std::vector<engine::SimTime> last_token; // when the last output token was emitted
  std::vector<double> cost_usd;            // cost attributed so far
  std::vector<std::uint8_t> finished;      // done but kept as padding (static batching)

  std::size_t size() const { return id.size(); }
  bool empty() const { return id.empty(); }
  /// Append an entry; returns its position.
  std::size_t push(std::uint32_t request, std::uint64_t admission, std::int64_t prefill, const RequestRecord& r);
  /// Remove entry i by moving the last entry into its place.
  void remove_swap(std::size_t i);
  /// Position of the most recently admitted entry (the set must not be empty).
  std::size_t newest() const;
  void clear();
};

struct StepPlan {
  struct Prefill {
    std::uint32_t slot;   // index in the running set
    std::int64_t tokens;  // chunk size
  };
  std::vector<Prefill> prefills;
  std::vector<std::uint32_t> decodes;  // running-set indices decoding this step
  std::vector<std::uint32_t> padding;  // finished entries computed anyway (static batching)

  bool empty() const { return prefills.empty() && decodes.empty(); }
  void clear() {
    prefills.clear();
    decodes.clear();
    padding.clear();
  }
};

/// What a scheduler sees of its replica and may do to it.
class SchedulerContext {
 public:
  SchedulerContext(engine::SimTime now, RunningSet& running, std::deque<std::uint32_t>& waiting, BlockPool& kv,
                   RequestTable& requests, const SchedulerSpec& limits, bool more_arrivals)
      : now_(now), running_(running), waiting_(waiting), kv_(kv), requests_(requests), limits_(limits),
        more_arrivals_(more_arrivals) {}
  /// The admission counter of the replica (shared by its lanes), so that `seq` orders all admissions.
  void set_admission_counter(std::uint64_t* counter) { admissions_ = counter; }
  /// Tokens a decoding sequence adds to the KV cache in one step, at most (1; with speculative decoding the
  /// tokens verified). Decodes reserve room for this many and count this many against a token budget.
  void set_decode_tokens(std::int64_t n) { decode_tokens_ = n; }
  std::int64_t decode_tokens() const { return decode_tokens_; }
  /// Tokens reserve_decodes() also reserves beyond the step's own: the rest of a multi-step window
  /// (scheduler.scheduler_steps - 1), as vLLM's lookahead slots. Not counted against a token budget.
  void set_lookahead_tokens(std::int64_t n) { lookahead_tokens_ = n; }
  /// The replica's KV admission reserve (scheduler.admission_reserve), begun for this pass; admit() consults it.
  void set_admission_reserve(AdmissionReserve* reserve) { reserve_ = reserve; }

  engine::SimTime now() const { return now_; }
  RunningSet& running() { return running_; }
  const std::deque<std::uint32_t>& waiting() const { return waiting_; }
  BlockPool& kv() { return kv_; }
  const RequestRecord& request(std::uint32_t id) const { return requests_[id]; }
  const SchedulerSpec& limits() const { return limits_; }
  /// False once every request of the workload has arrived (lets static batching stop waiting for more).
  bool more_arrivals() const { return more_arrivals_; }
  /// Sequences one lane may hold (each pipeline lane is a micro-batch with its own limit, as in vLLM).
  std::int64_t lane_batch_limit() const { return limits_.max_batch_size; }

  /// Tokens to prefill before a waiting request's next output token: its prompt plus, after a preemption,
  /// the tokens it had generated (recompute), less KV that arrived with it. 0 = it can decode at once.
  std::int64_t prefill_tokens(std::uint32_t id) const;
  /// Admit the head of the waiting queue, reserving KV blocks for the KV it brings plus `reserve_tokens`;
  /// false if they are not free, or if the admission reserve (set_admission_reserve) holds it back.
  bool admit(std::int64_t reserve_tokens);
  /// Reserve blocks so that entry `slot` can hold `tokens` more tokens; false if they are not free.
  bool reserve(std::size_t slot, std::int64_t tokens);
  /// Reserve room for decode_tokens() (plus the lookahead tokens) more tokens for every decoding entry
  /// (prefill done, not finished), preempting the newest entries by recompute while blocks run short.
  void reserve_decodes();
  /// Preempt the newest running entry by recompute: free its blocks, put it at the front of the queue.
  void preempt_newest();
  /// Ask to be scheduled again at `at` even if nothing else happens.
  void wake_at(engine::SimTime at) { wake_ = at; }
  engine::SimTime wake() const { return wake_; }
  std::int64_t preemptions() const { return preemptions_; }

 private:
  engine::SimTime now_;
  RunningSet& running_;
  std::deque<std::uint32_t>& waiting_;
  BlockPool& kv_;
  RequestTable& requests_;
  const SchedulerSpec& limits_;
  bool more_arrivals_;
  engine::SimTime wake_ = -1;
  std::int64_t preemptions_ = 0;
  std::int64_t decode_tokens_ = 1;
  std::int64_t lookahead_tokens_ = 0;
  std::uint64_t local_admissions_ = 0;
  std::vector<std::int64_t> grown_;
  std::uint64_t* admissions_ = &local_admissions_;
  AdmissionReserve* reserve_ = nullptr;
};

class BatchScheduler {
 public:
  virtual ~BatchScheduler() = default;
  virtual void schedule(SchedulerContext& ctx, StepPlan& plan) = 0;
  /// Whether finished requests stay in the running set until the batch ends (static batching).
  virtual bool keeps_finished() const { return false; }
  /// Whether the replica may repeat a plain decode step without calling schedule() (docs/serving.md, "Runs
  /// of decode steps"). True promises: when the waiting queue is empty and every running entry is decoding,
  /// schedule() only calls ctx.reserve_decodes() and plans decodes, a plan that depends on the number of
  /// running entries alone; and it keeps no state across such calls. (The replica repeats a step only when
  /// that reservation needs no preemption.)
  virtual bool repeats_plain_decodes() const { return false; }
};

/// Named scheduler factories, with a description each; an unknown name lists the valid ones.
class SchedulerRegistry {
 public:
  using Factory = std::function<std::unique_ptr<BatchScheduler>(const SchedulerSpec&)>;
  void add(std::string name, std::string description, Factory factory);
  std::unique_ptr<BatchScheduler> make(const SchedulerSpec& spec) const;
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  std::vector<std::string> names() const;
  const std::string& description(const std::string& name) const { return entries_.at(name).description; }

 private:
  struct Entry {
    std::string description;
    Factory factory;
  };
  std::map<std::string, Entry> entries_;
};

/// The registry with the built-in policies (static, continuous, chunked_prefill, chunked_prefill_unmixed, inflight).
const SchedulerRegistry& scheduler_registry();

}  // namespace infersim::serving
