#include "infersim/parallelism/memory_plan.hpp"

#include <algorithm>
#include <cmath>

#include "infersim/core/error.hpp"
#include "infersim/core/strings.hpp"
#include "infersim/model/model_stats.hpp"

namespace infersim::parallelism {

double weight_bytes_per_element(const DeploymentSpec& d) {
  const double base = bytes_per_element(d.weight_dtype);
  if (d.weight_dtype == DType::int4) {
    const int g = d.quantization_group_size > 0 ? d.quantization_group_size : 128;
    return base + 2.0 / g;  // one fp16 scale per group (AWQ/GPTQ layout)
  }
  if (d.weight_dtype == DType::fp4) {
    const int g = d.quantization_group_size > 0 ? d.quantization_group_size : 16;
    return base + 1.0 / g;  // one fp8 scale per group (NVFP4 layout)
  }
  return base;
}

double expert_weight_bytes_per_element(const model::ModelSpec& m, const DeploymentSpec& d, std::string_view architecture) {
  if (m.moe && m.moe->expert_weight_format != model::BlockFormat::none) {
    return model::block_format_bytes_per_weight(m.moe->expert_weight_format) *
           (1.0 + d.moe_gemm.block_format_weight_overhead_on(architecture));
  }
  return weight_bytes_per_element(d);
}

namespace {

/// Embedding table and LM head stay in 16-bit (or the weight type, if wider): quantized checkpoints keep them so.
double embedding_bytes_per_element(const DeploymentSpec& d) { return std::max(bytes_per_element(d.weight_dtype), 2.0); }

int kv_heads_per_chip(const model::ModelSpec& m, int t) { return std::max(1, m.num_kv_heads / t); }

}  // namespace

model::ModelSpec slice_layers(const model::ModelSpec& m, int first, int count) {
  model::ModelSpec s = m;
  s.num_layers = count;
  if (s.moe) {
    const int dense = m.moe->first_dense_layers;
    const int step = m.moe->layer_step;
    // Keep the slice's MoE layers where they were: layer first + j is MoE when (first + j - dense + 1) % step == 0.
    s.moe->first_dense_layers = std::clamp(dense - first, 0, count);
    s.moe->layer_offset = dense >= first ? m.moe->layer_offset : ((first - dense + m.moe->layer_offset) % step + step) % step;
    if (s.num_moe_layers() == 0) s.moe.reset();  // the slice holds only dense layers
  }
  if (s.local_attention) {
    const std::string& pattern = m.local_attention->layer_pattern;
    const std::size_t shift = static_cast<std::size_t>(first) % pattern.size();
    s.local_attention->layer_pattern = pattern.substr(shift) + pattern.substr(0, shift);
  }
  return s;
}

MemoryPlan plan_memory(const model::ModelSpec& m, const hardware::HardwareSpec& hw, const DeploymentSpec& d,
                       const WorkspaceLimits& limits, const Placement& placement) {
  MemoryPlan plan;
  const auto params = model::count_parameters(m);
  const double t = d.tensor_parallel;
  const int p = d.pipeline_parallel;
  const double wb = weight_bytes_per_element(d);
  const double eb = embedding_bytes_per_element(d);
  // GPUs split pipelines at layer boundaries (the most loaded stage holds ceil(L/p) layers). Compiler-scheduled
  // dataflow parts (LPU, wafer-scale) place operators, not layers, so their stages balance to L/p.
  const bool operator_placement = hw.kind == hardware::DeviceKind::lpu || hw.kind == hardware::DeviceKind::wafer;
  plan.layers_per_chip = operator_placement ? static_cast<double>(m.num_layers) / p
                                            : static_cast<double>((m.num_layers + p - 1) / p);

  // Routed experts published in a block-scaled format (gpt-oss: MXFP4) stay in it whatever weight_dtype says.
  const double layer_bytes =
      params.layers() * wb + params.moe_experts * (expert_weight_bytes_per_element(m, d, hw.architecture) - wb);
  const double embed_bytes = placement.embedding ? params.embedding * eb : 0.0;
  // A tied LM head shares the embedding's bytes; placed apart from it, it needs its own copy.
  const double head_bytes = !placement.lm_head ? 0.0
                            : (m.tied_embeddings && !placement.embedding) ? params.embedding * eb
                                                                          : params.lm_head * eb;
  plan.weight_bytes_total = layer_bytes + embed_bytes + head_bytes;
  // Attention data parallelism (N ranks of a = t/N chips): everything but the routed experts is laid out like
  // attention, held by every rank and split a ways; the routed experts (with any redundant copies) stay spread
  // over all t chips. With N = 1 and no redundant experts both corrections are exactly zero.
  const int n_ranks = std::max(1, d.attention_data_parallel);
  const double a = d.attention_tensor_parallel();
  const double expert_bytes = params.moe_experts * expert_weight_bytes_per_element(m, d, hw.architecture);
  const double redundant = m.moe ? static_cast<double>(d.redundant_experts) / m.moe->num_experts : 0.0;
  const double per_layer = plan.layers_per_chip / m.num_layers;
  const double layer_share = layer_bytes / m.num_layers * plan.layers_per_chip / t +
                             (layer_bytes - expert_bytes) * per_layer * (1.0 / a - 1.0 / t) +
                             expert_bytes * per_layer * redundant / t;
  const double ends = operator_placement ? (embed_bytes + head_bytes) / p  // spread like everything else
                     : p == 1             ? (embed_bytes + head_bytes)
                                          : std::max(embed_bytes, head_bytes);
  plan.weight_bytes_per_chip = layer_share + ends / a;
  plan.attention_ranks = n_ranks;

  // Activation workspace of the largest step: hidden states, QKV, MLP intermediates, fp32 logits.
  const double ba = std::max(bytes_per_element(d.activation_dtype), 2.0);
  const double tokens = static_cast<double>(limits.max_batched_tokens);
  // With N attention ranks a rank's chips hold 1/N of the step's tokens at a-way splits; the MLP intermediates
  // (T/N tokens x f/a, or T k/e assignments x f_e e/t) come to T f/t per chip either way.
  const double qkv = (static_cast<double>(m.num_attention_heads) + 2.0 * m.num_kv_heads) * m.head_dim / a;
  double ffn = m.ffn_hidden_size;
  if (m.moe) ffn = std::max<double>(ffn, static_cast<double>(m.moe->expert_ffn_hidden_size) * m.moe->experts_per_token);
  const double per_token = (4.0 * m.hidden_size + 2.0 * qkv) / n_ranks + 3.0 * ffn / t;
  const double logit_rows = placement.lm_head ? static_cast<double>(std::min(limits.max_batch_size, limits.max_batched_tokens)) : 0.0;
  plan.workspace_bytes_per_chip = tokens * per_token * ba + logit_rows / n_ranks * m.vocab_size / a * 4.0;

  const double cap = hw.memory.capacity_bytes;
  plan.budget_bytes_per_chip = std::min(cap * d.memory_utilization, cap - hw.memory.reserved_bytes);

  // A token's KV lives on the a chips of its attention rank: KV heads split a ways (replicated once a exceeds
  // them); MLA's latent has no heads to split, so every chip of the rank holds all of it. With attention data
  // parallelism each rank holds only its own sequences, so the replica holds N ranks' worth.
  const int a_chips = d.attention_tensor_parallel();
  const double kv_per_layer = m.mla ? model::kv_elements_per_token_per_layer(m)  // latent replicated across TP
                                    : 2.0 * kv_heads_per_chip(m, a_chips) * m.head_dim;
  const double kvb = bytes_per_element(d.kv_cache_dtype);
  plan.kv_bytes_per_chip = plan.budget_bytes_per_chip - plan.weight_bytes_per_chip - plan.workspace_bytes_per_chip;
  // Local (sliding-window or chunked) layers keep at most their window per sequence, and hand blocks back as
  // tokens leave it (KvFootprint): the cache is counted in tokens of the full-attention layers, and a
  // sequence's first window_tokens take the local layers' share too. Nothing is set aside per sequence.
  const double local_share = static_cast<double>(m.num_local_attention_layers()) / m.num_layers;
  plan.kv_bytes_per_token_per_chip = kv_per_layer * plan.layers_per_chip * (1.0 - local_share) * kvb;
  if (local_share > 0) {
    plan.kv_local_bytes_per_token_per_chip = kv_per_layer * plan.layers_per_chip * local_share * kvb;
    plan.kv_window_tokens = kv_footprint(m).window_tokens;
  }
  plan.set_kv_capacity();
  return plan;
}

KvFootprint kv_footprint(const model::ModelSpec& m) {
  const int local = m.num_local_attention_layers();
  if (local == 0) return {};
  return KvFootprint::of(m.num_global_attention_layers(), local,
                         std::min<std::int64_t>(m.local_attention->window.tokens, m.max_context_tokens));
}

std::string kv_per_token_text(double full_bytes_per_token, double local_bytes_per_token, std::int64_t window_tokens) {
  if (window_tokens <= 0) return format_bytes(full_bytes_per_token) + " a token a chip";
  const std::string window = std::to_string(window_tokens);
  if (full_bytes_per_token <= 0) {
    return format_bytes(local_bytes_per_token) + " a token a chip, a sequence's last " + window + " tokens only (every layer local)";
  }
  return format_bytes(full_bytes_per_token) + " a token a chip on the full-attention layers; a sequence's last " + window +
         " tokens take " + format_bytes(local_bytes_per_token) + " more each on the local-attention layers";
}

namespace {

std::string divisors_hint(int n, int limit) {
  std::vector<std::string> out;
  for (int v = 1; v <= std::min(n, limit); ++v) {
    if (n % v == 0) out.push_back(std::to_string(v));
  }
  return join(out);
}

bool heads_split(const model::ModelSpec& m, int t) {
  if (m.num_attention_heads % t != 0) return false;
  return m.num_kv_heads % t == 0 || t % m.num_kv_heads == 0;
}


/// Values of attention_data_parallel N that make t/N split the model's heads.
std::string attention_ranks_hint(const model::ModelSpec& m, int t) {
  std::vector<std::string> out;
  for (int n = 1; n <= t; ++n) {
    if (t % n == 0 && heads_split(m, t / n)) out.push_back(std::to_string(n));
  }
  return join(out);
}

void validate_attention_data_parallel(const model::ModelSpec& m, const DeploymentSpec& d) {
  const int t = d.tensor_parallel, n = d.attention_data_parallel;
  if (n < 1 || t % n != 0) {
    throw InfeasibleError("attention_data_parallel " + std::to_string(n) + " does not divide tensor_parallel " +
                          std::to_string(t) + ": the " + std::to_string(t) + " chips form attention_data_parallel ranks of " +
                          "tensor_parallel / attention_data_parallel chips each; valid values: " + divisors_hint(t, t));
  }
  if (!m.moe) {
    throw InfeasibleError("attention_data_parallel " + std::to_string(n) + " needs a mixture-of-experts model: " + m.name +
                          " is dense, so its ranks would share nothing; use replicas " + std::to_string(n) +
                          " with tensor_parallel " + std::to_string(t / n));
  }
  const int a = t / n;
  if (m.num_attention_heads % a != 0 || !(m.num_kv_heads % a == 0 || a % m.num_kv_heads == 0)) {
    const std::string valid = attention_ranks_hint(m, t);
    throw InfeasibleError("tensor_parallel " + std::to_string(t) + " / attention_data_parallel " + std::to_string(n) + " = " +
                          std::to_string(a) + " chips per attention rank cannot split " + m.name + "'s " +
                          std::to_string(m.num_attention_heads) + " attention heads (" + std::to_string(m.num_kv_heads) +
                          " KV heads)" + (valid.empty() ? std::string() : "; valid attention_data_parallel values: " + valid));
  }
}

}  // namespace

void validate_deployment(const model::ModelSpec& m, const hardware::HardwareSpec& hw, const DeploymentSpec& d) {
  const int t = d.tensor_parallel;
  if (d.attention_data_parallel != 1) {
    validate_attention_data_parallel(m, d);
  } else if (m.num_attention_heads % t != 0) {
    const std::string dp = m.moe ? attention_ranks_hint(m, t) : std::string();
    throw InfeasibleError("tensor_parallel " + std::to_string(t) + " does not divide " + m.name + "'s " +
                          std::to_string(m.num_attention_heads) + " attention heads; valid values: " +
                          divisors_hint(m.num_attention_heads, 1024) +
                          (dp.empty() ? std::string()
                                      : "; or keep tensor_parallel " + std::to_string(t) +
                                            " with deployment.attention_data_parallel (one of " + dp +
                                            ") so that each attention rank's chips split the heads"));
  } else if (!(m.num_kv_heads % t == 0 || t % m.num_kv_heads == 0)) {
    throw InfeasibleError("tensor_parallel " + std::to_string(t) + " cannot split " + m.name + "'s " +
                          std::to_string(m.num_kv_heads) + " KV heads (it must divide them or be a multiple of them)");
  }
  if (d.redundant_experts > 0 && (!m.moe || d.expert_parallel <= 1)) {
    throw InfeasibleError("redundant_experts " + std::to_string(d.redundant_experts) +
                          " needs a mixture-of-experts model with expert_parallel > 1 (the copies spread the load "
                          "over expert-parallel ranks)");
  }
  if (d.two_batch_overlap && d.expert_parallel <= 1) {
    throw InfeasibleError("two_batch_overlap hides the expert-parallel all-to-all behind compute; it needs "
                          "expert_parallel > 1 (found " + std::to_string(d.expert_parallel) + ")");
  }
  if (const int units = hw.compute.compute_units; units > 0 && d.expert_parallel > 1 &&
      std::max(d.all_to_all.normal_kernel_sms, d.all_to_all.low_latency_kernel_sms) >= units) {
    throw InfeasibleError("the engine's expert all-to-all kernels take " +
                          std::to_string(std::max(d.all_to_all.normal_kernel_sms, d.all_to_all.low_latency_kernel_sms)) +
                          " SMs, but " + hw.name + " has " + std::to_string(units) + " (compute_units)");
  }
  if (d.pipeline_parallel > m.num_layers) {
    throw InfeasibleError("pipeline_parallel " + std::to_string(d.pipeline_parallel) + " exceeds " + m.name + "'s " +
                          std::to_string(m.num_layers) + " layers");
  }
  if (d.expert_parallel > 1) {
    if (!m.moe) {
      throw InfeasibleError("expert_parallel " + std::to_string(d.expert_parallel) + " needs a mixture-of-experts model; " +
                            m.name + " is dense (set expert_parallel to 1)");
    }
    if ((m.moe->num_experts + d.redundant_experts) % d.expert_parallel != 0) {
      throw InfeasibleError("expert_parallel " + std::to_string(d.expert_parallel) + " does not divide " + m.name + "'s " +
                            std::to_string(m.moe->num_experts) + " experts" +
                            (d.redundant_experts > 0 ? " + " + std::to_string(d.redundant_experts) + " redundant_experts"
                                                     : std::string(" (redundant_experts can make up the difference)")));
    }
    if (t % d.expert_parallel != 0) {
      throw InfeasibleError("expert_parallel " + std::to_string(d.expert_parallel) +
                            " must divide tensor_parallel (" + std::to_string(t) +
                            "): experts are spread over the chips of the tensor-parallel group; valid values: " +
                            divisors_hint(t, t));
    }
  }
  const DType compute = d.activation_dtype;
  if (!hw.supports(compute)) {
    std::vector<std::string> have;
    for (std::size_t i = 0; i < kDTypeCount; ++i) {
      if (hw.compute.peak_flops_per_s[i] > 0) have.emplace_back(kDTypeNames[i]);
    }
    throw InfeasibleError(hw.name + " has no " + std::string(to_string(compute)) +
                          " matrix rate (compute.peak_tflops." + std::string(to_string(compute)) +
                          " is null), so activation_dtype " + std::string(to_string(compute)) +
                          " cannot run on it; rates it has: " + join(have) +
                          ". Weight-only quantization keeps activation_dtype at a 16-bit type.");
  }
  if (bytes_per_element(d.weight_dtype) > bytes_per_element(compute) && d.weight_dtype != DType::tf32) {
    // e.g. fp16 weights with fp8 activations: the weights would be converted on every use; say what people mean.
    throw InfeasibleError("weight_dtype " + std::string(to_string(d.weight_dtype)) + " is wider than activation_dtype " +
                          std::string(to_string(compute)) + "; quantize the weights at least as far as the activations "
                          "(e.g. weight_dtype " + std::string(to_string(compute)) + ")");
  }
}

int max_deployment_chips(const hardware::HardwareSpec& hw) {
  // Without a scale-out network a deployment cannot span more than one scale-up domain.
  return hw.interconnect.scale_out_bandwidth_bytes_per_s ? 4096 : std::min(4096, hw.interconnect.scale_up_domain_chips);
}

std::vector<DeploymentSpec> deployments_of(const model::ModelSpec& m, const hardware::HardwareSpec& hw,
                                           const DeploymentSpec& d, const FitRequirement& need, int chips) {
  std::vector<DeploymentSpec> out;
  // Prefer tensor parallelism inside the scale-up domain, pipeline stages for the rest.
  const int t_max = need.vary_tensor_parallel ? std::min(chips, std::max(1, hw.interconnect.scale_up_domain_chips))
                                              : d.tensor_parallel;
  for (int t = t_max; t >= 1; --t) {
    if (!need.vary_tensor_parallel && t != d.tensor_parallel) break;
    const int n = std::max(1, d.attention_data_parallel);
    if (chips % t != 0 || t % n != 0 || !heads_split(m, t / n)) continue;
    const int p = chips / t;
    if (p > m.num_layers) continue;
    if (!need.vary_pipeline_parallel && p != d.pipeline_parallel) continue;
    DeploymentSpec c = d;
    c.tensor_parallel = t;
    c.pipeline_parallel = p;
    if (c.expert_parallel > 1 && t % c.expert_parallel != 0) {
      c.expert_parallel = 1;
      c.redundant_experts = 0;
    }
    out.push_back(c);
  }
  return out;
}

std::optional<DeploymentSpec> smallest_fitting_deployment(const model::ModelSpec& m, const hardware::HardwareSpec& hw,
                                                          const DeploymentSpec& d, const WorkspaceLimits& limits,
                                                          const FitRequirement& need) {
  const int max_chips = max_deployment_chips(hw);
  for (int chips = 1; chips <= max_chips; ++chips) {
    for (const auto& c : deployments_of(m, hw, d, need, chips)) {
      const MemoryPlan plan = plan_memory(m, hw, c, limits);
      if (plan.fits() && plan.kv_token_capacity >= need.min_kv_tokens) return c;
      // A smaller t with more stages may still fit: tensor parallelism beyond the KV heads replicates them.
    }
  }
  return std::nullopt;
}

void require_fit(const model::ModelSpec& m, const hardware::HardwareSpec& hw, const DeploymentSpec& d,
                 const MemoryPlan& plan, const WorkspaceLimits& limits) {
  if (plan.fits()) return;
  const double needed = plan.weight_bytes_per_chip + plan.workspace_bytes_per_chip;
  std::string msg = m.name + " in " + std::string(to_string(d.weight_dtype)) + " does not fit on " + hw.name + " at tensor_parallel " +
                    std::to_string(d.tensor_parallel) + " x pipeline_parallel " + std::to_string(d.pipeline_parallel) +
                    ": each chip needs " + format_bytes(plan.weight_bytes_per_chip) + " of weights (" +
                    format_bytes(plan.weight_bytes_total) + " in all) + " + format_bytes(plan.workspace_bytes_per_chip) +
                    " of activation workspace = " + format_bytes(needed) + " before any KV cache, but has " +
                    format_bytes(plan.budget_bytes_per_chip) + " usable (" + format_bytes(hw.memory.capacity_bytes) +
                    " x memory_utilization " + format_number(d.memory_utilization, 3) + ", less " +
                    format_bytes(hw.memory.reserved_bytes) + " reserved).";
  if (auto fit = smallest_fitting_deployment(m, hw, d, limits)) {
    msg += " The smallest deployment that fits: tensor_parallel " + std::to_string(fit->tensor_parallel) +
           ", pipeline_parallel " + std::to_string(fit->pipeline_parallel) + " (" +
           std::to_string(fit->chips_per_replica()) + " chips per replica).";
  } else {
    msg += " No deployment of up to " + std::to_string(max_deployment_chips(hw)) + " chips fits" +
           (hw.interconnect.scale_out_bandwidth_bytes_per_s ? "." : " (the profile has no scale-out network).");
  }
  msg += " A smaller weight_dtype (fp8, int4) also reduces the need.";
  throw InfeasibleError(msg);
}

}  // namespace infersim::parallelism
