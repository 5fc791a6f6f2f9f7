#include "infersim/scenario/warnings.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "infersim/core/strings.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "infersim/serving/metrics.hpp"

namespace infersim::scenario {

std::optional<QueueGrowth> queue_growth(const serving::RequestTable& requests) {
  std::vector<const serving::RequestRecord*> scheduled;
  for (const auto& q : requests) {
    if (q.first_scheduled >= 0) scheduled.push_back(&q);
  }
  if (scheduled.size() < 40) return std::nullopt;
  std::stable_sort(scheduled.begin(), scheduled.end(),
                   [](const auto* a, const auto* b) { return a->arrival < b->arrival; });
  const std::size_t quarter = scheduled.size() / 4;
  auto quarter_medians = [&](std::size_t begin) {
    std::vector<double> wait, arrival;
    for (std::size_t i = begin; i < begin + quarter; ++i) {
      wait.push_back(engine::to_seconds(scheduled[i]->first_scheduled - scheduled[i]->arrival));
      arrival.push_back(engine::to_seconds(scheduled[i]->arrival));
    }
    return std::pair{serving::summarize(wait).p50, serving::summarize(arrival).p50};
  };
  QueueGrowth g;
  std::tie(g.wait_first_s, g.arrival_first_s) = quarter_medians(0);
  std::tie(g.wait_last_s, g.arrival_last_s) = quarter_medians(scheduled.size() - quarter);
  if (g.arrival_last_s <= g.arrival_first_s) return std::nullopt;
  g.growth = (g.wait_last_s - g.wait_first_s) / (g.arrival_last_s - g.arrival_first_s);
  const double first = engine::to_seconds(scheduled.front()->arrival);
  const double last_arrival = engine::to_seconds(scheduled.back()->arrival);
  double last_completion = first;
  for (const auto* q : scheduled) last_completion = std::max(last_completion, engine::to_seconds(q->completion));
  const double n = static_cast<double>(scheduled.size());
  if (last_arrival > first) g.offered_per_s = (n - 1.0) / (last_arrival - first);
  if (last_completion > first) g.served_per_s = n / (last_completion - first);
  return g;
}

std::optional<QueueGrowth> open_loop_queue_growth(const ScenarioSpec& sc, const serving::SimulationResult& r) {
  const auto process = sc.simulation.workload.process;
  if (process == workload::ArrivalProcess::offline || process == workload::ArrivalProcess::closed_loop) return std::nullopt;
  return queue_growth(r.request_table);
}

std::optional<std::string> tight_memory_warning(const serving::PoolSpec& pool, const serving::PoolResult& result) {
  // Engines that capture CUDA graphs at run time (and launch the other steps eagerly: not a statically compiled
  // program) also keep graph pools and sampler buffers outside the KV cache, which the memory plan does not price:
  // where the weights nearly fill the card, that difference is a large share of the cache (docs/accuracy.md,
  // 'gpt-oss-120b on one H100').
  if (!pool.engine || result.host_memory) return std::nullopt;
  const serving::LaunchSpec& launch = pool.engine->launch;
  if (launch.cuda_graphs == serving::GraphMode::none || launch.eager_s_per_layer <= 0) return std::nullopt;
  const parallelism::MemoryPlan& m = result.memory;
  if (m.budget_bytes_per_chip <= 0 || m.kv_bytes_per_chip >= kTightKvShareOfBudget * m.budget_bytes_per_chip) {
    return std::nullopt;
  }
  return format_bytes(m.weight_bytes_per_chip) + " of weights and " + format_bytes(m.workspace_bytes_per_chip) +
         " of workspace leave " + format_bytes(m.kv_bytes_per_chip) + " of the " + format_bytes(m.budget_bytes_per_chip) +
         " a chip may use (" + format_number(100.0 * m.kv_bytes_per_chip / m.budget_bytes_per_chip, 2) +
         "%) for the KV cache; engine " + pool.engine->name +
         " also holds memory this model does not price (CUDA graph pools and sampler buffers: vLLM keeps about 7.5 GiB "
         "beside the weights and the cache with gpt-oss-120b on one H100; the larger layout its kernels give MXFP4 "
         "experts is priced where the engine profile says, moe_gemm.block_format_weight_overhead), which on a card "
         "this full can shrink the cache several-fold, so read the "
         "capacity and throughput here as upper bounds (docs/accuracy.md, 'gpt-oss-120b on one H100'), or add chips "
         "(deployment.tensor_parallel) or narrower weights";
}

std::vector<std::string> scenario_warnings(const ScenarioSpec& sc, const serving::SimulationResult& r) {
  std::vector<std::string> out = r.notes;
  {
    const auto g = open_loop_queue_growth(sc, r);
    if (g && outgrows_system(*g)) {
      out.push_back("the queue grew through the run: requests arriving in the last quarter waited " +
                    format_number(g->wait_last_s, 3) + " s (median) before their first step, against " +
                    format_number(g->wait_first_s, 3) + " s in the first quarter; arrivals (" +
                    format_number(g->offered_per_s, 4) + " requests/s) outpace the system (" +
                    format_number(g->served_per_s, 4) +
                    " requests/s served), so the latency percentiles grow with the run's length instead of "
                    "settling: lower workload.arrival.rate_per_s, add deployment.replicas or chips, or search the "
                    "highest rate that meets the SLO (slo.find_max_rate)");
    }
  }
  if (r.prefix_cache && r.hash_block_tokens == 0) {
    out.push_back("scheduler.prefix_cache is enabled but the workload carries no prompt block hashes (a Mooncake "
                  "trace's hash_ids, or workload.sessions): the cache has nothing to match");
  }
  if (const auto& entry = sc.simulation.pools.front();
      sc.simulation.workload.api == workload::Api::http && entry.engine && !entry.engine->front_end_request_latency_s) {
    out.push_back("engine " + entry.engine->name + " has no measured HTTP front end (front_end.request_latency_us), so "
                  "TTFT and end-to-end latency leave out the time from a client's request to the scheduler (tens of "
                  "milliseconds on vLLM's, SGLang's and TensorRT-LLM's OpenAI servers: docs/serving.md, 'The HTTP "
                  "front end'); set workload.api \"in_process\" if the clients call the engine directly");
  }
  std::int64_t longest_prompt = 0, longest_request = 0;
  for (std::size_t i = 0; i < r.request_table.size(); ++i) {
    const auto& q = r.request_table[i];
    longest_prompt = std::max<std::int64_t>(longest_prompt, q.input_tokens);
    longest_request = std::max<std::int64_t>(longest_request, std::int64_t{q.input_tokens} + q.output_tokens);
  }
  for (std::size_t i = 0; i < sc.simulation.pools.size(); ++i) {
    const serving::PoolSpec& pool = sc.simulation.pools[i];
    const std::string where = sc.simulation.pools.size() > 1 ? "pool " + pool.name + ": " : "";
    if (i < r.pools.size()) {
      if (auto w = tight_memory_warning(pool, r.pools[i])) out.push_back(where + *w);
    }
    const hardware::PriceSpec& price = pool.hardware.price;
    if (!sc.pricing.usd_per_chip_hour && !sc.pricing.tco && price.usd_per_chip_hour) {
      const std::string of = where + "the cost comes from " + pool.hardware.name + "'s profile price ($" +
                             format_number(*price.usd_per_chip_hour, 6) + " per chip-hour, basis: " + price.basis + ")";
      if (!price.dated()) {
        out.push_back(of + ", which is undated (as_of: \"" + price.as_of +
                      "\"): prices move; give a current pricing.usd_per_chip_hour");
      }
      if (price.kind() != hardware::PriceKind::on_demand) {
        out.push_back(of + ", which is " + std::string(hardware::to_string(price.kind())) +
                      ", not on-demand: compare it only with prices on the same basis, or give pricing.usd_per_chip_hour");
      }
    }
    if (roofline::runs_block_scaled_fp8(pool.model, pool.deployment) && pool.hardware.efficiency.block_fp8_gemm_overhead_k <= 0) {
      out.push_back(where + pool.model.name + "'s FP8 weights are block-scaled, but " + pool.hardware.name +
                    " has no measured block-scaled GEMM figure (efficiency.block_fp8_gemm_overhead_k), so its GEMMs are "
                    "priced as per-tensor FP8: faster on shallow reductions than block-scaled kernels run (on Hopper, "
                    "DeepGEMM's K = 512 GEMM runs at 43% of its K = 16,384 rate; docs/roofline.md, 'Block-scaled FP8 GEMMs')");
    }
    const std::int64_t context = pool.model.max_context_tokens;
    if (context > 0 && longest_request > context) {
      out.push_back(where + "a request holds " + std::to_string(longest_request) + " tokens (input + output), more than " +
                    pool.model.name + "'s context window of " + std::to_string(context) +
                    " tokens (max_context_tokens); a server would refuse or truncate it; shorten " +
                    (sc.simulation.workload.sessions.enabled
                         ? "the sessions (workload.sessions: fewer turns, shorter messages) or workload.output_tokens"
                         : "workload.input_tokens or workload.output_tokens"));
    }
    // The all-reduces run over one attention rank's chips (all of them without attention data parallelism).
    const int tp = pool.deployment.attention_tensor_parallel();
    const int domain = pool.hardware.interconnect.scale_up_domain_chips;
    if (tp > domain) {
      const std::string what = pool.deployment.attention_data_parallel > 1
                                   ? "tensor_parallel / attention_data_parallel = " + std::to_string(tp)
                                   : "tensor_parallel " + std::to_string(tp);
      out.push_back(where + what + " spans " + std::to_string((tp + domain - 1) / domain) +
                    " scale-up domains of " + std::to_string(domain) + " " + pool.hardware.name +
                    " chips: its all-reduces cross the slower scale-out network twice per layer; keep "
                    "deployment.tensor_parallel <= " + std::to_string(domain) + " and use pipeline_parallel or replicas");
    }
    const bool splits_prompts = pool.scheduler.policy.rfind("chunked_prefill", 0) == 0;  // and chunked_prefill_unmixed
    if (!splits_prompts && longest_prompt > pool.scheduler.max_batched_tokens) {
      out.push_back(where + "scheduler.max_batched_tokens " + std::to_string(pool.scheduler.max_batched_tokens) +
                    " is smaller than a prompt of " + std::to_string(longest_prompt) + " tokens: policy \"" +
                    pool.scheduler.policy + "\" does not split prompts, so such a prompt runs whole in one step "
                    "beyond the budget; raise max_batched_tokens or use policy \"chunked_prefill\"");
    }
    if (pool.speculative.draft_model && pool.speculative.draft_model->vocab_size != pool.model.vocab_size) {
      out.push_back(where + "the draft model " + pool.speculative.draft_model->name + " has a vocabulary of " +
                    std::to_string(pool.speculative.draft_model->vocab_size) + " tokens and " + pool.model.name + " of " +
                    std::to_string(pool.model.vocab_size) +
                    ": its tokens cannot be verified as they are; choose a draft model of the same family");
    }
  }
  return out;
}

}  // namespace infersim::scenario
