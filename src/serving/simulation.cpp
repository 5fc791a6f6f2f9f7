#include "infersim/serving/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <string_view>

#include "infersim/core/check.hpp"
#include "infersim/core/error.hpp"
#include "infersim/core/huge_pages.hpp"
#include "infersim/core/limits.hpp"
#include "infersim/core/strings.hpp"
#include "infersim/model/model_stats.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "infersim/workload/request_source.hpp"

namespace infersim::serving {

namespace {

class Simulation final : public ReplicaObserver {
 public:
  Simulation(const SimulationSpec& spec, StepListener* listener)
      : spec_(spec), listener_(listener), source_(spec.workload), hashes_(source_.hash_block_tokens()) {
    if (spec.pools.empty()) throw std::logic_error("a simulation needs at least one pool");
    if (spec.pools.size() == 2 && !(spec.pools[0].role == ReplicaRole::prefill && spec.pools[1].role == ReplicaRole::decode)) {
      throw std::logic_error("two pools must be a prefill pool followed by a decode pool");
    }
    check_work();
    step_by_step_ = spec.step_by_step || step_by_step_forced();
    requests_.reserve(static_cast<std::size_t>(std::max<std::int64_t>(source_.total(), 0)));
    advise_huge_pages(requests_.data(), requests_.capacity() * sizeof(RequestRecord));
    int replica_index = 0;
    for (std::size_t p = 0; p < spec.pools.size(); ++p) pools_.push_back(build_pool(p, replica_index));
    entry_pool_ = 0;
    front_end_ = engine::from_seconds(front_end_latency_s(spec));
  }

  SimulationResult run() {
    workload::Request r;
    if (source_.next(r)) schedule_arrival(r);
    sim_.run();
    return collect();
  }

  bool more_arrivals() const override {
    return has_next_ || pending_closed_ > 0 || in_front_end_ > 0 || !held_.empty() || issued_ < source_.total();
  }

  void on_completion(Replica&, std::uint32_t id) override {
    account(sim_.now(), -1);
    ++completed_;
    // Closed loop: what follows this completion (a client's next request, a session's next turn) arrives later.
    workload::Request r;
    const std::uint32_t session = source_.sessions() ? session_of_[id] : workload::kNoSession;
    if (source_.follow_up(session, sim_.now(), r)) {
      check_horizon(r);
      ++pending_closed_;
      sim_.schedule_at(r.arrival, [this, r] {
        --pending_closed_;
        admit(r);
        route_and_kick();
      });
    }
  }

  void on_step(const Replica& replica, std::size_t lane, engine::SimTime start, engine::SimTime duration,
               const roofline::StepShape& shape) override {
    if (listener_) listener_->step(replica.setup().pool, replica.index(), lane, start, duration, shape);
  }
  bool observes_steps() const override { return listener_ != nullptr; }

 private:
  struct Pool {
    std::unique_ptr<roofline::StepCostModel> cost;
    std::unique_ptr<StepPricer> pricer;
    std::vector<std::unique_ptr<Replica>> replicas;
    std::size_t next_round_robin = 0;
    std::int64_t kv_sequence_limit_tokens = 0;  // the longest sequence a replica holds (one attention rank's share)
    PoolResult result;
  };

  Pool build_pool(std::size_t p, int& replica_index) {
    const PoolSpec& ps = spec_.pools[p];
    Pool pool;
    pool.cost = std::make_unique<roofline::StepCostModel>(ps.model, ps.hardware, ps.deployment);
    pool.result.name = ps.name;
    pool.result.hardware = ps.hardware.name;
    pool.result.role = ps.role;
    pool.result.replicas = ps.deployment.replicas;
    pool.result.chips_per_replica = ps.deployment.chips_per_replica();
    const PoolMemory pm = plan_pool_memory(ps);
    pool.result.memory = pm.memory;
    pool.result.host_memory = pm.host_memory;
    pool.result.draft_weight_bytes_per_chip = pm.draft_weight_bytes_per_chip;
    pool.result.kv_blocks_per_replica = pm.kv_blocks;
    pool.kv_sequence_limit_tokens = pm.kv_sequence_limit_tokens;
    if (ps.hybrid.enabled()) {
      pool.pricer = std::make_unique<HybridPricer>(ps.model, ps.hardware, ps.deployment, ps.hybrid);
    } else if (ps.speculative.enabled()) {
      pool.pricer = std::make_unique<SpeculativePricer>(ps.speculative, *pool.cost, ps.hardware, ps.deployment);
    } else {
      pool.pricer = std::make_unique<PlainPricer>(*pool.cost);
    }
    pool.result.peak_flops_per_s = ps.hardware.peak_flops_per_s(ps.deployment.activation_dtype);
    pool.result.memory_bytes_per_s = ps.hardware.memory.bandwidth_bytes_per_s;
    ReplicaSetup setup;
    setup.pool = static_cast<int>(p);
    setup.role = ps.role;
    setup.scheduler = ps.scheduler;
    setup.kv_blocks = pool.result.kv_blocks_per_replica;
    setup.kv_footprint = pm.kv_footprint;
    setup.lanes = ps.deployment.pipeline_parallel;
    setup.attention_ranks = ps.deployment.attention_data_parallel;
    setup.peak_flops_per_s = pool.result.peak_flops_per_s;
    setup.memory_bytes_per_s = pool.result.memory_bytes_per_s;
    setup.engine = ps.engine ? &*ps.engine : nullptr;
    setup.step_by_step = step_by_step_;
    setup.streaming = spec_.workload.streaming;
    setup.hashes = &hashes_;
    setup.kv_bytes_per_token_per_chip = pm.memory.kv_bytes_per_token_per_chip;
    if (ps.usd_per_chip_hour) setup.usd_per_second = *ps.usd_per_chip_hour * ps.deployment.chips_per_replica() / 3600.0;
    for (int r = 0; r < ps.deployment.replicas; ++r) {
      setup.index = replica_index++;
      pool.replicas.push_back(std::make_unique<Replica>(sim_, requests_, *this, setup, *pool.pricer,
                                                        scheduler_registry().make(ps.scheduler), itl_,
                                                        &ps.speculative, spec_.workload.seed));
    }
    return pool;
  }

  void check_fits(const Pool& pool, std::size_t p, std::uint64_t id, std::int64_t input, std::int64_t output) const {
    const std::int64_t need = input + output;
    if (need <= pool.kv_sequence_limit_tokens) return;
    const PoolSpec& ps = spec_.pools[p];
    throw InfeasibleError("request " + std::to_string(id) + " needs " + std::to_string(need) +
                          " tokens of KV cache (input " + std::to_string(input) + " + output " + std::to_string(output) +
                          "), but a replica of " + ps.model.name + " on " + std::to_string(ps.deployment.chips_per_replica()) +
                          " " + ps.hardware.name + (spec_.pools.size() > 1 ? " (" + ps.name + " pool)" : std::string()) +
                          " holds " + std::to_string(pool.kv_sequence_limit_tokens) +
                          "; raise tensor_parallel, use a smaller kv_cache_dtype, or shorten the requests");
  }

  /// Disaggregated serving: the prompt's KV moves to the decode pool, which then emits the first token.
  void on_prefill_handoff(Replica& from, std::uint32_t id) override {
    const PoolSpec& pre = spec_.pools[static_cast<std::size_t>(from.setup().pool)];
    const PoolSpec& dec = spec_.pools[1];
    RequestRecord& r = requests_[id];
    if (r.output_tokens == 0) {  // prefill only: nothing to decode, so no KV moves
      r.first_token = r.last_token = r.completion = sim_.now();
      on_completion(from, id);
      return;
    }
    check_fits(pools_[1], 1, id, r.input_tokens, r.output_tokens);
    // KV of the whole prompt, all layers and heads; each chip's shard moves over its own link in parallel.
    // Local-attention layers send only the window (model::kv_elements_per_sequence).
    const double kv_bytes = pre.model.num_local_attention_layers() > 0
                                ? model::kv_elements_per_sequence(pre.model, static_cast<double>(r.input_tokens)) *
                                      bytes_per_element(pre.deployment.kv_cache_dtype)
                                : model::kv_elements_per_token_per_layer(pre.model) * pre.model.num_layers *
                                      bytes_per_element(pre.deployment.kv_cache_dtype) * r.input_tokens;
    // A sequence's KV sits on the chips of one attention rank (all chips without attention data parallelism).
    auto rank_chips = [](const parallelism::DeploymentSpec& d) { return d.attention_tensor_parallel() * d.pipeline_parallel; };
    const double links = std::min(rank_chips(pre.deployment), rank_chips(dec.deployment));
    const double seconds = kv_bytes / (spec_.kv_transfer.bandwidth_bytes_per_s * links) + spec_.kv_transfer.latency_s;
    transfer_s_ += seconds;
    ++transfers_;
    sim_.schedule_after(std::max<engine::SimTime>(1, engine::from_seconds(seconds)), [this, id] { on_kv_arrived(id); });
  }

  void on_kv_arrived(std::uint32_t id) {
    const engine::SimTime now = sim_.now();
    RequestRecord& r = requests_[id];
    // The prefill computed the first token; it reaches the user with the KV (TTFT includes the transfer).
    r.first_token = now;
    r.last_token = now;
    r.generated = 1;
    r.transferred = r.input_tokens + 1;  // the first token's KV is computed by the decode replica's first step; counted as cached
    if (r.generated >= r.output_tokens) {
      r.completion = now;
      on_completion(*pools_[1].replicas.front(), id);
      return;
    }
    route(1, id);
  }

  /// An arrival past the horizon is an error: integer time must not overflow, and a workload that spans more
  /// than 31 years is a typo (a rate per hour given per second, milliseconds given as seconds).
  /// The work of the run, estimated before anything is allocated or simulated: requests x expected tokens
  /// against limits::kDefaultMaxSimulatedTokens (or INFERSIM_MAX_SIMULATED_TOKENS). A trace's requests are
  /// counted at their mean length from the workload's distributions only when it has none (traces are bounded
  /// by their files).
  void check_work() const {
    const auto& w = spec_.workload;
    if (w.process == workload::ArrivalProcess::trace) return;
    const double requests = static_cast<double>(source_.total());
    const double per_request = workload::expected_input_tokens(w) + w.output.expected();
    const double tokens = requests * per_request;
    const double limit = max_simulated_tokens();
    if (tokens <= limit) return;
    throw InfeasibleError(
        "workload.requests " + std::to_string(source_.total()) + " x about " + format_number(per_request, 4) +
        " tokens each (" +
        std::string(w.sessions.enabled ? "a turn's mean prompt of system prompt, history and message, + output_tokens"
                                       : "workload.input_tokens + output_tokens") +
        ") = " + format_number(tokens, 3) +
        " tokens to simulate, beyond the limit of " + format_number(limit, 3) +
        " (a few minutes of simulation; docs/reliability.md): lower workload.requests, the token counts or a rate "
        "search's slo.find_max_rate.duration_s, or raise the limit with the environment variable "
        "INFERSIM_MAX_SIMULATED_TOKENS");
  }

  static double max_simulated_tokens() {
    const char* env = std::getenv("INFERSIM_MAX_SIMULATED_TOKENS");
    if (!env || !*env) return limits::kDefaultMaxSimulatedTokens;
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    if (end == env || *end != '\0' || !(v > 0) || !std::isfinite(v)) {
      throw UsageError(std::string("INFERSIM_MAX_SIMULATED_TOKENS=") + env + ": expected a positive number of tokens");
    }
    return v;
  }

  /// INFERSIM_STEP_BY_STEP: 1 forces one event per step, 0 (or unset) does not.
  static bool step_by_step_forced() {
    const char* env = std::getenv("INFERSIM_STEP_BY_STEP");
    if (!env || !*env || std::string_view(env) == "0") return false;
    if (std::string_view(env) == "1") return true;
    throw UsageError(std::string("INFERSIM_STEP_BY_STEP=") + env + ": expected 0 or 1");
  }

  void check_horizon(const workload::Request& r) const {
    if (r.arrival <= engine::kHorizon) return;
    throw InfeasibleError("request " + std::to_string(r.id) + " would arrive at " +
                          format_number(engine::to_seconds(r.arrival)) + " s, beyond the simulation horizon of " +
                          format_number(limits::kHorizonSeconds) +
                          " s (about 31 years); check workload.arrival (rate_per_s, think_time_s) and the request count");
  }

  void account(engine::SimTime now, int delta) {
    area_ += static_cast<double>(in_system_) * static_cast<double>(now - last_change_);
    last_change_ = now;
    in_system_ += delta;
  }

  void schedule_arrival(const workload::Request& r) {
    check_horizon(r);
    next_ = r;
    has_next_ = true;
    sim_.schedule_at(r.arrival, [this] { on_arrivals(); });
  }

  /// Every request arriving at this nanosecond joins its queue before any replica schedules.
  void on_arrivals() {
    const engine::SimTime now = sim_.now();
    while (has_next_ && next_.arrival == now) {
      admit(next_);
      has_next_ = source_.next(next_);
      if (has_next_) check_horizon(next_);
    }
    route_and_kick();
    if (has_next_) sim_.schedule_at(next_.arrival, [this] { on_arrivals(); });
  }

  void admit(const workload::Request& r) {
    ++issued_;
    RequestRecord rec;
    rec.arrival = r.arrival;
    rec.input_tokens = static_cast<std::int32_t>(r.input_tokens);
    rec.output_tokens = static_cast<std::int32_t>(r.output_tokens);
    check_fits(pools_[entry_pool_], entry_pool_, r.id, r.input_tokens, r.output_tokens);
    requests_.push_back(rec);
    if (source_.sessions()) session_of_.push_back(r.session);
    arrived_.push_back(static_cast<std::uint32_t>(requests_.size() - 1));
    hashes_.add(arrived_.back(), r.hashes, r.hash_count, r.generated_hash_count);
    account(r.arrival, +1);
  }

  /// The replica of pool p that the pool's router picks for request `id`.
  std::size_t pick(std::size_t p, std::uint32_t id) {
    Pool& pool = pools_[p];
    if (spec_.pools[p].router == Router::round_robin) {
      const std::size_t target = pool.next_round_robin;
      pool.next_round_robin = (pool.next_round_robin + 1) % pool.replicas.size();
      return target;
    }
    std::size_t target = 0, best = SIZE_MAX;
    for (std::size_t i = 0; i < pool.replicas.size(); ++i) {
      const std::size_t load = pool.replicas[i]->outstanding();
      if (load < best) {
        best = load;
        target = i;
      }
    }
    if (spec_.pools[p].router == Router::prefix_affinity) {
      // The replica holding most of the prompt (the least loaded among equals), unless it is too far behind.
      std::size_t affine = target;
      std::int64_t most = pool.replicas[target]->prefix_cached_tokens(id);
      for (std::size_t i = 0; i < pool.replicas.size(); ++i) {
        const std::int64_t held = pool.replicas[i]->prefix_cached_tokens(id);
        if (held > most || (held == most && pool.replicas[i]->outstanding() < pool.replicas[affine]->outstanding())) {
          most = held;
          affine = i;
        }
      }
      const auto bound = static_cast<std::size_t>(spec_.pools[p].scheduler.prefix_cache.affinity_max_imbalance);
      if (pool.replicas[affine]->outstanding() <= best + bound) target = affine;
    }
    return target;
  }

  void route(std::size_t p, std::uint32_t id) {
    Replica& rep = *pools_[p].replicas[pick(p, id)];
    rep.enqueue(id);
    rep.kick();
  }

  /// The requests just arrived reach the router after the HTTP front end's latency (at once without one). The
  /// latency is the same for every request, so they reach it in the order they arrived.
  void route_and_kick() {
    if (front_end_ > 0 && !arrived_.empty()) {
      ++in_front_end_;
      sim_.schedule_after(front_end_, [this, batch = std::move(arrived_)] {
        --in_front_end_;
        arrived_.insert(arrived_.end(), batch.begin(), batch.end());
        deliver();
      });
      arrived_.clear();
      return;
    }
    deliver();
  }

  void deliver() {
    if (spec_.dispatch.batching()) {
      hold_arrivals();
      return;
    }
    Pool& pool = pools_[entry_pool_];
    touched_.clear();
    for (std::uint32_t id : arrived_) {
      const std::size_t target = pick(entry_pool_, id);
      pool.replicas[target]->enqueue(id);
      if (std::find(touched_.begin(), touched_.end(), target) == touched_.end()) touched_.push_back(target);
    }
    arrived_.clear();
    for (std::size_t t : touched_) pool.replicas[t]->kick();
  }

  /// Front-end batching: arrivals join the open batch (the first opens it and starts its timeout); a full
  /// batch leaves at once.
  void hold_arrivals() {
    const DispatchSpec& d = spec_.dispatch;
    for (std::uint32_t id : arrived_) {
      if (held_.empty()) {
        dispatch_timer_ = sim_.schedule_after(engine::from_seconds(d.timeout_s), [this] { dispatch_held(); });
      }
      held_.push_back(id);
      if (static_cast<std::int64_t>(held_.size()) >= d.max_requests) {
        sim_.cancel(dispatch_timer_);
        dispatch_held();
      }
    }
    arrived_.clear();
  }

  /// The open batch (never empty: its timeout is pending exactly while it holds a request) goes, in arrival
  /// order, to the one replica the router picks.
  void dispatch_held() {
    Replica& rep = *pools_[entry_pool_].replicas[pick(entry_pool_, held_.front())];
    for (std::uint32_t id : held_) rep.enqueue(id);
    held_.clear();
    rep.kick();
  }

  SimulationResult collect() {
    SimulationResult out;
    out.requests = static_cast<std::int64_t>(requests_.size());
    out.completed = completed_;
    engine::SimTime end = 0;
    INFERSIM_CHECK(completed_ == source_.total() && out.requests == source_.total(),
                   std::to_string(completed_) + " of " + std::to_string(source_.total()) +
                       " requests completed when the simulation ran out of events (a scheduler stalled)");
    for (const RequestRecord& r : requests_) {
      INFERSIM_CHECK(r.done() && r.generated == r.output_tokens, "a request did not complete with all its tokens");
      INFERSIM_CHECK(r.arrival <= r.first_scheduled && r.first_scheduled <= r.first_token && r.first_token <= r.completion,
                     "a request's times are out of order (arrival, first scheduled, first token, completion)");
      end = std::max(end, r.completion);
      out.input_tokens += r.input_tokens;
      out.cached_input_tokens += r.cached_input;
      out.output_tokens += r.output_tokens;
      out.preemptions += r.preemptions;
    }
    account(end, 0);
    out.duration_s = engine::to_seconds(end);
    out.mean_in_system = end > 0 ? area_ / static_cast<double>(end) : 0.0;
    // The distributions one after the other in one buffer (a million requests: 8 MB, not 32), each filled in
    // request order.
    std::vector<double> values;
    values.reserve(requests_.size());
    advise_huge_pages(values.data(), values.capacity() * sizeof(double));
    auto distribution = [&](auto&& add) {
      values.clear();
      for (const RequestRecord& r : requests_) add(r);
      return summarize(values);
    };
    out.ttft = distribution([&](const RequestRecord& r) { values.push_back(engine::to_seconds(r.first_token - r.arrival)); });
    out.tpot = distribution([&](const RequestRecord& r) {
      if (r.output_tokens > 1) values.push_back(engine::to_seconds(r.completion - r.first_token) / (r.output_tokens - 1));
    });
    out.e2e = distribution([&](const RequestRecord& r) { values.push_back(engine::to_seconds(r.completion - r.arrival)); });
    out.queue = distribution([&](const RequestRecord& r) { values.push_back(engine::to_seconds(r.first_scheduled - r.arrival)); });
    out.itl = itl_.summarize();
    out.events = sim_.events_run();
    out.kv_transfer_s_mean = transfers_ > 0 ? transfer_s_ / static_cast<double>(transfers_) : 0.0;
    for (Pool& pool : pools_) {
      for (const auto& rep : pool.replicas) pool.result.replica_stats.push_back(rep->stats(end));
      out.pools.push_back(pool.result);
    }
    out.request_table = std::move(requests_);
    out.notes = source_.notes();
    out.hash_block_tokens = hashes_.block_tokens();
    if (const workload::Sessions* sessions = source_.sessions()) out.sessions = sessions->count();
    out.request_sessions = std::move(session_of_);
    for (const PoolSpec& ps : spec_.pools) out.prefix_cache = out.prefix_cache || ps.scheduler.prefix_cache.enabled;
    return out;
  }

  const SimulationSpec& spec_;
  StepListener* listener_;
  engine::Simulator sim_;
  RequestTable requests_;
  workload::RequestSource source_;
  BlockHashes hashes_;  // every admitted request's block hashes (prompt, and output where known)
  GapRecorder itl_;
  std::vector<Pool> pools_;
  std::size_t entry_pool_ = 0;
  workload::Request next_;
  bool has_next_ = false;
  std::int64_t issued_ = 0;
  std::int64_t pending_closed_ = 0;
  std::int64_t completed_ = 0;
  std::vector<std::uint32_t> session_of_;  // workload.sessions: each request's session, by request id
  std::vector<std::uint32_t> arrived_;
  engine::SimTime front_end_ = 0;     // the HTTP front end's latency (front_end_latency_s)
  std::int64_t in_front_end_ = 0;     // arrival groups on their way through it
  std::vector<std::size_t> touched_;
  std::vector<std::uint32_t> held_;  // front-end batch not yet dispatched
  engine::EventId dispatch_timer_ = 0;  // its timeout, pending while held_ is not empty
  bool step_by_step_ = false;
  double transfer_s_ = 0;
  std::int64_t transfers_ = 0;
  std::int64_t in_system_ = 0;
  engine::SimTime last_change_ = 0;
  double area_ = 0;
};

}  // namespace

double front_end_latency_s(const SimulationSpec& spec) {
  if (spec.workload.api != workload::Api::http || spec.pools.empty() || !spec.pools.front().engine) return 0.0;
  return spec.pools.front().engine->front_end_request_latency_s.value_or(0.0);
}

void check_runnable(const SimulationSpec& spec) { Simulation s(spec, nullptr); }

PoolMemory plan_pool_memory(const PoolSpec& ps) {
  PoolMemory out;
  const parallelism::WorkspaceLimits limits{ps.scheduler.max_batched_tokens, ps.scheduler.max_batch_size};
  if (ps.hybrid.enabled()) {
    if (ps.speculative.enabled()) throw InfeasibleError("speculative decoding with a hybrid CPU/GPU placement is not modelled");
    const HybridMemory hm = plan_hybrid_memory(ps.model, ps.hardware, ps.deployment, ps.hybrid, limits);
    out.memory = hm.accelerator;
    out.memory.kv_token_capacity = out.memory.kv_token_capacity_per_rank = hm.kv_token_capacity;
    out.host_memory = hm.host;
    out.kv_footprint = hm.kv_footprint;
  } else {
    out.memory = parallelism::plan_memory(ps.model, ps.hardware, ps.deployment, limits);
    parallelism::require_fit(ps.model, ps.hardware, ps.deployment, out.memory, limits);
    out.kv_footprint = out.memory.kv_footprint();  // (a speculative proposer's KV changes it: set again below)
    if (ps.speculative.enabled() && ps.deployment.attention_data_parallel > 1 &&
        ps.speculative.method != SpeculativeMethod::mtp) {
      throw InfeasibleError("speculative decoding with attention_data_parallel " +
                            std::to_string(ps.deployment.attention_data_parallel) +
                            " is modelled only for method \"mtp\" (the target's own module, laid out like it)");
    }
    if (ps.speculative.enabled()) {
      // The proposer's weights and KV cache share the chips with the target's.
      const DraftMemory dm = draft_memory(ps.speculative, ps.model, ps.deployment);
      auto& m = out.memory;
      out.draft_weight_bytes_per_chip = dm.weight_bytes_per_chip;
      m.kv_bytes_per_chip -= dm.weight_bytes_per_chip;
      m.kv_bytes_per_token_per_chip += dm.kv_bytes_per_token_per_chip;
      m.set_kv_capacity();
      out.kv_footprint = m.kv_footprint();
      if (m.kv_token_capacity <= 0) {
        throw InfeasibleError("with its speculative proposer (" + format_bytes(dm.weight_bytes_per_chip) + " per chip) " +
                              ps.model.name + " leaves no room for a KV cache on " + ps.hardware.name +
                              "; raise tensor_parallel or use a smaller draft");
      }
    }
  }
  out.kv_blocks = out.memory.kv_token_capacity / ps.scheduler.block_size;
  out.kv_capacity_tokens = out.kv_blocks * ps.scheduler.block_size;
  std::int64_t sequence_blocks = out.kv_blocks;
  // With attention data parallelism a sequence's KV lives on one rank; the scheduler pools the ranks' blocks
  // (it places sequences where there is room), but a sequence can be no longer than one rank holds.
  if (const int ranks = out.memory.attention_ranks; ranks > 1) {
    sequence_blocks = out.memory.kv_token_capacity_per_rank / ps.scheduler.block_size;
    out.kv_blocks = sequence_blocks * ranks;
    out.kv_capacity_tokens = out.kv_blocks * ps.scheduler.block_size;
  }
  out.kv_sequence_limit_tokens =
      out.kv_footprint.longest_sequence(sequence_blocks * ps.scheduler.block_size, ps.model.max_context_tokens);
  return out;
}

SimulationResult simulate(const SimulationSpec& spec, StepListener* listener) {
  Simulation s(spec, listener);
  return s.run();
}

}  // namespace infersim::serving
