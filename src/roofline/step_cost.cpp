#include "infersim/roofline/step_cost.hpp"

#include <algorithm>
#include <cmath>

#include "infersim/model/model_stats.hpp"
#include "infersim/parallelism/expert_load.hpp"
#include "infersim/parallelism/memory_plan.hpp"
#include "infersim/roofline/kernel.hpp"
#include "infersim/roofline/step_cost_cache.hpp"

namespace infersim::roofline {

using parallelism::CollectiveCost;
using parallelism::Link;

double expected_distinct_experts(double experts, double k, double tokens, double skew) {
  if (tokens <= 0 || experts <= 0) return 0.0;
  if (k >= experts) return experts;
  skew = std::clamp(skew, 0.0, 1.0);
  // Per-token selection probability: popular experts s + (1-s) k/E, the others (1-s) k/E; the k popular
  // and E-k other probabilities sum to k, so one token still picks k experts.
  const double q_cold = (1.0 - skew) * k / experts;
  const double q_hot = skew + q_cold;
  const double untouched_hot = std::pow(std::max(0.0, 1.0 - q_hot), tokens);
  const double untouched_cold = std::pow(1.0 - q_cold, tokens);
  return k * (1.0 - untouched_hot) + (experts - k) * (1.0 - untouched_cold);
}

namespace {

/// A collective as an operator row: bytes each chip sends over the link, plus step latencies and a launch.
OperatorRow network_row(std::string_view name, Phase phase, double count, const CollectiveCost& c, const Link& link,
                        const hardware::HardwareSpec& hw, Segment segment) {
  OperatorRow r;
  r.name = name;
  r.phase = phase;
  r.op_class = OpClass::collective;
  r.segment = segment;
  r.count = count;
  r.bytes = c.bytes_per_chip;
  r.seconds_per_byte = 1.0 / (link.bandwidth_bytes_per_s * hw.efficiency.network);
  r.overhead_s = c.latency_s + hw.efficiency.kernel_launch_overhead_s;
  r.network = true;
  return r;
}

/// DeepEP's kernel family for a step: decode steps run the low-latency kernels (every copy sent directly, the
/// per-expert layout written in place, no SMs held), prefill and mixed steps the normal ones (the engines'
/// "auto" mode).
bool runs_normal_kernels(Phase phase) { return phase != Phase::decode; }

/// The links of an expert-parallel group of `ep` chips: the group's own (scale-out when it spans domains)
/// and, for a group wider than a scale-up domain, the domain's scale-up link (else bandwidth 0).
struct ExpertLinks {
  Link group, scale_up;
};

ExpertLinks expert_links(const hardware::HardwareSpec& hw, int ep) {
  ExpertLinks l;
  if (ep <= 1) return l;
  const int domain = std::max(1, hw.interconnect.scale_up_domain_chips);
  l.group = parallelism::link_for_group(hw, ep);
  // Wide expert parallelism: the all-to-all's share inside a scale-up domain goes over its link.
  if (ep > domain && domain > 1) l.scale_up = parallelism::link_for_group(hw, domain);
  return l;
}

/// The rows of one routed-expert dispatch (or combine) of `bytes` per chip over `ep` chips, `count` times:
/// one all-to-all over the group's link, or split over the scale-up and scale-out links when the group
/// spans domains (scale_up has a bandwidth).
void push_expert_all_to_all(OperatorTable& t, const hardware::HardwareSpec& hw, int ep, const Link& link,
                            const Link& scale_up, bool dispatch, Phase phase, double count, double bytes,
                            const std::optional<ExpertRouting>& per_node) {
  if (ep <= 1 || count <= 0) return;
  auto push = [&](std::string_view name, const CollectiveCost& c, const Link& l) {
    if (c.bytes_per_chip > 0) t.push(network_row(name, phase, count, c, l, hw, Segment::layers));
  };
  if (scale_up.bandwidth_bytes_per_s <= 0) {
    push(dispatch ? "ep_dispatch" : "ep_combine", parallelism::all_to_all(bytes, ep, link), link);
    return;
  }
  // Wider than a scale-up domain: the in-domain share over the scale-up link, the rest over scale-out.
  const int domain = hw.interconnect.scale_up_domain_chips;
  const std::string_view up_name = dispatch ? "ep_dispatch_scale_up" : "ep_combine_scale_up";
  const std::string_view out_name = dispatch ? "ep_dispatch_scale_out" : "ep_combine_scale_out";
  if (!per_node) {
    // The low-latency kernels write every copy to its chip, over one link or the other, one after the other.
    const auto c = parallelism::all_to_all_spanning(bytes, ep, domain, scale_up, link);
    push(up_name, c.scale_up, scale_up);
    push(out_name, c.scale_out, link);
    return;
  }
  const auto c = parallelism::all_to_all_spanning_per_domain(
      bytes, ep, domain, per_node->top_k,
      parallelism::expected_remote_nodes(per_node->experts, per_node->top_k, static_cast<double>(ep) / domain,
                                         per_node->node_limit),
      scale_up, link);
  // The normal kernels run the two links at once: warps on paired SMs send over RDMA, forward what arrives over
  // NVLink and receive it, chunk by chunk through ring buffers (DeepSeek-V3 report section 3.2.2; DeepEP
  // internode.cu's WarpRole). The exchange takes as long as the slower link; the other's row keeps its bytes
  // and takes no time of its own.
  OperatorRow up = network_row(up_name, phase, count, c.scale_up, scale_up, hw, Segment::layers);
  OperatorRow out = network_row(out_name, phase, count, c.scale_out, link, hw, Segment::layers);
  auto row_s = [](const OperatorRow& r) { return r.bytes * r.seconds_per_byte + r.overhead_s; };
  OperatorRow& hidden = row_s(up) >= row_s(out) ? out : up;
  hidden.seconds_per_byte = hidden.overhead_s = 0;
  for (const OperatorRow* r : {&up, &out}) {
    if (r->bytes > 0) t.push(*r);
  }
}

double weight_only_tile_rows(const hardware::HardwareSpec& hw) {
  // Weight-only quantized GEMMs (weights narrower than activations: W4A16, W8A16, and MXFP4 experts on chips
  // without FP4) run in kernels built for small batches (Marlin, AWQ, llama.cpp's mmq/mmvq, Triton's MXFP4
  // matmul) whose MMA fragments are 16 rows, not the large tiles of dense tensor-core GEMMs. GPUs only: a
  // systolic array pads whatever the weight type.
  const double tile = std::max(hw.compute.gemm_tile_rows, hw.compute.systolic_array_size);
  return hw.compute.systolic_array_size > 0 ? tile : std::min(tile, 16.0);
}

}  // namespace

bool runs_block_scaled_fp8(const model::ModelSpec& m, const parallelism::DeploymentSpec& d) {
  return m.fp8_weight_block_size > 0 && d.weight_dtype == DType::fp8 && d.activation_dtype == DType::fp8;
}

double block_scaled_gemm_overhead_k(const model::ModelSpec& m, const hardware::HardwareSpec& hw,
                                    const parallelism::DeploymentSpec& d) {
  // FP8 checkpoints scaled per block run block-scaled W8A8 GEMMs (DeepGEMM and its kin), whose fixed cost per
  // output tile shows on shallow reductions; FP8 weights of a per-tensor checkpoint (or W8A16) do not.
  return runs_block_scaled_fp8(m, d) ? hw.efficiency.block_fp8_gemm_overhead_k : 0.0;
}

DType attention_math_dtype(const hardware::HardwareSpec& hw, const parallelism::DeploymentSpec& d) {
  if (bytes_per_element(d.activation_dtype) >= 2.0) return d.activation_dtype;
  if (d.fp8_attention && d.kv_cache_dtype == DType::fp8 && hw.supports(DType::fp8)) return DType::fp8;
  if (hw.supports(DType::bf16)) return DType::bf16;
  return hw.supports(DType::fp16) ? DType::fp16 : d.activation_dtype;
}

StepCostModel::StepCostModel(const model::ModelSpec& m, const hardware::HardwareSpec& hw,
                             const parallelism::DeploymentSpec& d, const parallelism::Placement& placement)
    : model_(m), hw_(hw), dep_(d), placement_(placement) {
  parallelism::validate_deployment(m, hw, d);
  const auto& eff = hw.efficiency;
  // Weights narrower than activations (W4A16, W8A16): every GEMM of the model's own weights runs weight-only.
  const bool weight_only = bytes_per_element(d.weight_dtype) < bytes_per_element(d.activation_dtype);
  tile_rows_ = weight_only ? weight_only_tile_rows(hw) : std::max(hw.compute.gemm_tile_rows, hw.compute.systolic_array_size);
  const double gemm_slowdown = weight_only ? 1.0 + d.dequant_overhead : 1.0;
  gemm_s_per_flop_ = gemm_slowdown / (hw.peak_flops_per_s(d.activation_dtype) * eff.compute);
  attention_s_per_flop_ = gemm_slowdown / (hw.peak_flops_per_s(attention_math_dtype(hw, d)) * eff.compute);
  vector_s_per_flop_ = 1.0 / (hw.vector_flops_per_s() * eff.compute);
  s_per_byte_ = 1.0 / (hw.memory.bandwidth_bytes_per_s * eff.memory);
  launch_s_ = eff.kernel_launch_overhead_s;
  wb_ = parallelism::weight_bytes_per_element(d);
  eb_ = std::max(bytes_per_element(d.weight_dtype), 2.0);
  ab_ = bytes_per_element(d.activation_dtype);
  // The residual stream, GEMM outputs, norms and collectives stay in 16 bits when GEMMs take 8- or 4-bit
  // inputs: FP8/FP4 engines quantize each GEMM's input and accumulate into a 16-bit output (TensorRT-LLM's
  // FP8 recipe, vLLM's W8A8); no 2024 engine all-reduces or keeps the residual in 8 bits.
  rb_ = std::max(ab_, 2.0);
  // The expert dispatch carries the FP8 GEMM input (one FP32 scale per 128 elements) where the engine's kernels
  // quantize before dispatching (DeepEP, DeepSeek-V3 report section 3.3); the combine returns 16-bit outputs.
  dispatch_b_ = d.all_to_all.fp8_dispatch && d.activation_dtype == DType::fp8 ? parallelism::kFp8Per128BytesPerElement : rb_;
  kvb_ = bytes_per_element(d.kv_cache_dtype);
  // Attention (and everything but the routed experts) is split a = t/N ways inside each of N attention ranks.
  const int t = d.attention_tensor_parallel();
  ranks_ = std::max(1, d.attention_data_parallel);
  heads_ = static_cast<double>(m.num_attention_heads) / t;
  kv_heads_ = std::max(1.0, static_cast<double>(m.num_kv_heads) / t);
  const double p = d.pipeline_parallel;
  dense_layers_ = m.num_dense_mlp_layers() / p;
  moe_layers_ = m.num_moe_layers() / p;
  local_layers_ = m.num_local_attention_layers() / p;
  // Routed experts in a published block-scaled FP4 format: at the FP4 rate where the chip has one, else
  // dequantized to the activation type in the GEMM (as vLLM runs MXFP4 gpt-oss on Hopper).
  ewb_ = parallelism::expert_weight_bytes_per_element(m, d, hw.architecture);
  moe_gemm_efficiency_ = hw.efficiency.moe_gemm * d.moe_gemm.efficiency_on(hw.architecture);
  expert_s_per_flop_ = gemm_s_per_flop_;
  expert_tile_rows_ = tile_rows_;
  if (m.moe && m.moe->expert_weight_format != model::BlockFormat::none) {
    if (hw.supports(DType::fp4)) {
      expert_s_per_flop_ =
          1.0 / (std::max(hw.peak_flops_per_s(DType::fp4), hw.peak_flops_per_s(d.activation_dtype)) * eff.compute);
    } else {
      // Dequantized in the GEMM: a weight-only kernel, whatever the rest of the model runs.
      expert_s_per_flop_ = (1.0 + d.dequant_overhead) / (hw.peak_flops_per_s(d.activation_dtype) * eff.compute);
      expert_tile_rows_ = weight_only_tile_rows(hw);
    }
  }
  block_k_ = roofline::block_scaled_gemm_overhead_k(m, hw, d);
  if (t > 1) tp_link_ = parallelism::link_for_group(hw, t);
  if (d.expert_parallel > 1) {
    const ExpertLinks links = expert_links(hw, d.expert_parallel);
    ep_link_ = links.group;
    ep_up_link_ = links.scale_up;
    if (m.moe) {
      const double nodes = static_cast<double>(d.expert_parallel) / std::max(1, hw.interconnect.scale_up_domain_chips);
      ep_routing_ = {static_cast<double>(m.moe->num_experts), static_cast<double>(m.moe->experts_per_token),
                     m.moe->node_limit(nodes)};
    }
  }
  if (d.pipeline_parallel > 1) pp_link_ = parallelism::link_for_group(hw, d.chips_per_replica());
  scratch_.reserve(32);
}

void StepCostModel::add_gemm(OperatorTable& t, std::string_view name, Phase phase, double count, double m, double k,
                             double n, double weight_bytes_per_element, Segment segment) const {
  // The model's own weights at the deployment's type run block-scaled where its checkpoint is (not the 16-bit
  // embedding, LM head and router).
  const double slowdown = weight_bytes_per_element == wb_ ? block_scaled_slowdown(k) : 1.0;
  push_gemm(t, name, phase, count, m, k, n, weight_bytes_per_element, segment, slowdown);
}

void StepCostModel::push_gemm(OperatorTable& t, std::string_view name, Phase phase, double count, double m, double k,
                              double n, double weight_bytes_per_element, Segment segment, double slowdown) const {
  if (m <= 0 || count <= 0) return;
  OperatorRow r;
  r.name = name;
  r.phase = phase;
  r.op_class = OpClass::gemm;
  r.segment = segment;
  r.count = count;
  r.flops = 2.0 * m * k * n;
  r.bytes = k * n * weight_bytes_per_element + m * k * ab_ + m * n * rb_;
  r.rows = std::max(1.0, m);  // the kernel expects rows >= 1 for a GEMM
  double pad_nk = 1.0;
  if (const int s = hw_.compute.systolic_array_size; s > 0) {
    pad_nk = std::ceil(n / s) * s / n * (std::ceil(k / s) * s / k);  // systolic arrays pad N and K too
  }
  r.tile_rows = tile_rows_;
  r.seconds_per_flop = gemm_s_per_flop_ * pad_nk * slowdown;
  r.seconds_per_byte = s_per_byte_;
  r.overhead_s = launch_s_;
  t.push(r);
}

double StepCostModel::block_scaled_slowdown(double k) const { return block_k_ > 0 && k > 0 ? (k + block_k_) / k : 1.0; }

void StepCostModel::add_batched_gemm(OperatorTable& t, std::string_view name, Phase phase, double count,
                                     double batch, double m, double k, double n) const {
  // MLA's absorbed per-head products are batched 16-bit matmuls (torch.bmm in DeepSeek's decode profile), not
  // block-scaled FP8 GEMMs.
  push_gemm(t, name, phase, count, m, k, n, wb_, Segment::layers, 1.0);
  if (t.size() == 0 || t.name.back() != name) return;
  // `batch` independent GEMMs of the same shape in one kernel: rows (and so the tile padding) stay per GEMM.
  t.flops_per_row.back() *= static_cast<Real>(batch);
  t.bytes.back() *= static_cast<Real>(batch);
}

void StepCostModel::add_elementwise(OperatorTable& t, std::string_view name, Phase phase, double count, double flops,
                                    double bytes, Segment segment) const {
  if (count <= 0 || (flops <= 0 && bytes <= 0)) return;
  OperatorRow r;
  r.name = name;
  r.phase = phase;
  r.op_class = OpClass::elementwise;
  r.segment = segment;
  r.count = count;
  r.flops = flops;
  r.bytes = bytes;
  r.seconds_per_flop = vector_s_per_flop_;
  r.seconds_per_byte = s_per_byte_;
  r.overhead_s = launch_s_;
  t.push(r);
}


double expert_all_to_all_bytes(double tokens_per_chip, double top_k, double hidden, double bytes_per_element) {
  return tokens_per_chip * top_k * hidden * bytes_per_element;
}

double price_expert_all_to_all(const hardware::HardwareSpec& hw, int expert_parallel, double bytes_per_chip,
                               const std::optional<ExpertRouting>& per_node) {
  if (expert_parallel <= 1) return 0.0;
  const ExpertLinks links = expert_links(hw, expert_parallel);
  OperatorTable t;
  push_expert_all_to_all(t, hw, expert_parallel, links.group, links.scale_up, true, Phase::decode, 1, bytes_per_chip,
                         per_node);
  evaluate_roofline(t);
  double s = 0;
  for (std::size_t i = 0; i < t.size(); ++i) s += static_cast<double>(t.time_s[i]);
  return s;
}

double price_all_reduce(const hardware::HardwareSpec& hw, int chips, double bytes) {
  if (chips <= 1) return 0.0;
  const Link link = parallelism::link_for_group(hw, chips);
  OperatorTable t;
  t.push(network_row("all_reduce", Phase::decode, 1, parallelism::all_reduce(bytes, chips, link), link, hw, Segment::layers));
  evaluate_roofline(t);
  return static_cast<double>(t.time_s[0]);
}

void StepCostModel::add_network(OperatorTable& t, std::string_view name, Phase phase, double count,
                                const CollectiveCost& c, const Link& link, Segment segment) const {
  if (count <= 0 || c.bytes_per_chip <= 0) return;
  t.push(network_row(name, phase, count, c, link, hw_, segment));
}

Phase StepCostModel::phase_of(const StepShape& s) {
  const bool prefill = s.prefill_tokens > 0, decode = s.decode_tokens() > 0;
  return prefill && decode ? Phase::mixed : (prefill ? Phase::prefill : Phase::decode);
}

void StepCostModel::build(const StepShape& s, OperatorTable& table) const {
  table.clear();
  const double T = static_cast<double>(s.total_tokens());
  if (T <= 0) return;
  const Phase phase = phase_of(s);
  append_pre_attention(table, T, phase);
  append_attention(table, s);
  append_post_attention(table, T, phase);
  append_head(table, static_cast<double>(s.logit_tokens), phase);
  evaluate_roofline(table);
}

double StepCostModel::rank_tokens(double tokens) const {
  return ranks_ == 1 ? tokens : std::ceil(tokens / ranks_);
}

void StepCostModel::append_pre_attention(OperatorTable& table, double tokens, Phase phase) const {
  const auto& m = model_;
  const double d = m.hidden_size;
  const double T = rank_tokens(tokens);  // this chip's attention rank's tokens
  const double layers = dense_layers_ + moe_layers_;
  // Once per step: embedding lookup (first stage).
  if (placement_.embedding) add_elementwise(table, "embedding", phase, 1, 0, T * d * (eb_ + rb_), Segment::first_stage);
  add_elementwise(table, "attn_norm", phase, layers, 4 * T * d, T * d * (3 * rb_ + ab_));
  if (m.mla) {
    const auto& a = *m.mla;
    const double qk = a.qk_nope_head_dim + a.qk_rope_head_dim;
    const double latent = a.kv_lora_rank + a.qk_rope_head_dim;
    // Down-projections (replicated on every chip of the tensor-parallel group).
    add_gemm(table, "mla_down_proj", phase, layers, T, d, a.q_lora_rank + latent, wb_);
    add_gemm(table, "mla_q_up_proj", phase, layers, T, a.q_lora_rank > 0 ? a.q_lora_rank : d, heads_ * qk, wb_);
    // Rotary embedding of the decoupled rope dimensions (each head's query part and the one shared key part):
    // its own kernel, as MLA's attention kernels take roped inputs (FlashMLA; DeepSeek's H800 decode profile,
    // rotary_embedding_kernel, 7 us per layer at 128 tokens), read and written in 16 bits.
    const double roped = T * (heads_ + 1) * a.qk_rope_head_dim;
    add_elementwise(table, "mla_rope", phase, layers, 6 * roped, 2 * roped * rb_);
  } else {
    add_gemm(table, "qkv_proj", phase, layers, T, d, (heads_ + 2 * kv_heads_) * m.head_dim, wb_);
  }
}

void StepCostModel::append_attention(OperatorTable& table, const StepShape& s) const {
  const auto& m = model_;
  // With attention data parallelism the busiest rank runs `share` of the step's sequences (ceil(T/N)/T).
  const double all = static_cast<double>(s.total_tokens());
  const double share = ranks_ == 1 || all <= 0 ? 1.0 : rank_tokens(all) / all;
  const double Tp = static_cast<double>(s.prefill_tokens) * share;
  const double Td = static_cast<double>(s.decode_tokens()) * share;
  const double h = heads_;
  const double layers = dense_layers_ + moe_layers_;
  const double local = local_layers_;
  // What the local layers attend: the shape's windowed sums when it was built with this model's window;
  // otherwise (a speculative draft step of another model) bounded by the window for every token.
  const model::AttentionWindow window = m.attention_window();
  double prefill_local_pairs = 0, prefill_local_ctx = 0, decode_local_pairs = 0, decode_local_ctx = 0;
  if (local > 0) {
    if (s.window == window) {
      prefill_local_pairs = s.prefill_local_pairs * share;
      prefill_local_ctx = s.prefill_local_context_tokens * share;
      decode_local_pairs = s.decode_local_pairs * share;
      decode_local_ctx = s.decode_local_context_tokens * share;
    } else {
      const double w = static_cast<double>(window.tokens);
      prefill_local_pairs = std::min(s.prefill_attention_pairs * share, Tp * w);
      prefill_local_ctx = std::min(static_cast<double>(s.prefill_context_tokens), static_cast<double>(s.prefill_sequences) * w) * share;
      decode_local_pairs = std::min(s.decode_attention_pairs() * share, Td * w);
      decode_local_ctx = std::min(static_cast<double>(s.decode_context_tokens), static_cast<double>(s.decode_sequences) * w) * share;
    }
  }
  // Attention proper: FlashAttention-style, at the matrix rate of attention_math_dtype (the activation type, or
  // 16 bits where the engine reads an 8-bit KV cache into 16-bit math); rotary and the KV-cache write are fused
  // into it.
  if (Tp > 0) {
    const double cached = static_cast<double>(s.prefill_context_tokens) * share;
    if (m.mla) {
      const auto& a = *m.mla;
      // Prefill expands the latent of new and cached tokens into per-head keys and values.
      add_gemm(table, "mla_kv_up_proj", Phase::prefill, layers, Tp + cached, a.kv_lora_rank,
               h * (a.qk_nope_head_dim + a.v_head_dim), wb_);
    }
    add_attention(table, "attention_prefill", Phase::prefill, layers - local, Tp, s.prefill_attention_pairs * share, cached);
    add_attention(table, "attention_prefill_local", Phase::prefill, local, Tp, prefill_local_pairs, prefill_local_ctx);
  }
  if (Td > 0) {
    add_attention(table, "attention_decode", Phase::decode, layers - local, Td, s.decode_attention_pairs() * share,
                  static_cast<double>(s.decode_context_tokens) * share);
    add_attention(table, "attention_decode_local", Phase::decode, local, Td, decode_local_pairs, decode_local_ctx);
    if (m.mla) {
      const auto& a = *m.mla;
      // Absorption of W_UK into the queries and of W_UV into the output: one batched kernel per layer in
      // which every head multiplies its Td rows by its own matrix.
      add_batched_gemm(table, "mla_absorb_q", Phase::decode, layers, h, Td, a.qk_nope_head_dim, a.kv_lora_rank);
      add_batched_gemm(table, "mla_absorb_out", Phase::decode, layers, h, Td, a.kv_lora_rank, a.v_head_dim);
    }
  }
}

double StepCostModel::kv_elements_per_chip() const {
  const auto& m = model_;
  return m.mla ? static_cast<double>(m.mla->kv_lora_rank + m.mla->qk_rope_head_dim) : 2.0 * kv_heads_ * m.head_dim;
}

void StepCostModel::add_attention(OperatorTable& table, std::string_view name, Phase phase, double count, double tokens,
                                  double pairs, double cached) const {
  if (count <= 0) return;
  const auto& m = model_;
  const double h = heads_, dh = m.head_dim;
  const double kv_elems = kv_elements_per_chip();
  OperatorRow r;
  r.name = name;
  r.phase = phase;
  r.op_class = OpClass::attention;
  r.count = count;
  if (m.mla && phase == Phase::prefill) {
    const auto& a = *m.mla;
    const double qk = a.qk_nope_head_dim + a.qk_rope_head_dim;
    r.flops = 2.0 * h * (qk + a.v_head_dim) * pairs;
    r.bytes = (tokens + cached + tokens) * h * (qk + a.v_head_dim) * ab_ + tokens * kv_elems * kvb_;
  } else if (m.mla) {
    const auto& a = *m.mla;
    // Absorbed form: queries move into the latent space, attention runs over the shared latent (MQA-like).
    r.flops = 2.0 * h * (kv_elems + a.kv_lora_rank) * pairs;
    r.bytes = cached * kv_elems * kvb_ + tokens * kv_elems * kvb_ + tokens * h * (kv_elems + a.kv_lora_rank) * ab_;
  } else if (phase == Phase::prefill) {
    r.flops = 4.0 * h * dh * pairs;
    r.bytes = tokens * 2 * h * dh * ab_ + tokens * kv_elems * (ab_ + kvb_) + cached * kv_elems * kvb_;
  } else {
    r.flops = 4.0 * h * dh * pairs;
    r.bytes = cached * kv_elems * kvb_ + tokens * kv_elems * kvb_ + tokens * 2 * h * dh * ab_;
  }
  // Decode attention kernels that are compute-bound (MLA's absorbed decode) run below a dense GEMM's rate.
  // Prefill attention (causal FlashAttention-style forward) runs at its own long-prompt rate, each query token
  // priced as attending attention_prefill_overhead_keys more keys than it does; r.flops stays the useful work.
  const auto& eff = hw_.efficiency;
  if (phase == Phase::decode) {
    r.seconds_per_flop = attention_s_per_flop_ / eff.attention_decode;
  } else {
    const double padded = pairs > 0 ? (pairs + eff.attention_prefill_overhead_keys * tokens) / pairs : 1.0;
    r.seconds_per_flop = attention_s_per_flop_ / eff.attention_prefill * padded;
  }
  r.seconds_per_byte = s_per_byte_;
  r.overhead_s = launch_s_;
  table.push(r);
}

void StepCostModel::append_post_attention(OperatorTable& table, double tokens, Phase phase) const {
  const auto& m = model_;
  const double d = m.hidden_size;
  const double h = heads_;
  const int tp = dep_.attention_tensor_parallel();  // a: splits attention, dense MLP and shared experts
  const double T = rank_tokens(tokens);              // this chip's attention rank's tokens
  const double layers = dense_layers_ + moe_layers_;
  const double o_in = m.mla ? h * m.mla->v_head_dim : h * m.head_dim;
  add_gemm(table, "o_proj", phase, layers, T, o_in, d, wb_);
  if (tp > 1) {
    // On the engine's own kernel where it takes the message (vLLM's and SGLang's custom all-reduce), else the
    // collective library's algorithm over the link.
    const double bytes = T * d * rb_;
    const bool custom = parallelism::runs_custom_all_reduce(bytes, tp, dep_.all_reduce.max_bytes, hw_);
    add_network(table, "tp_all_reduce", phase, 2 * layers,
                custom ? parallelism::custom_all_reduce(bytes, tp, tp_link_) : parallelism::all_reduce(bytes, tp, tp_link_),
                tp_link_);
  }
  add_elementwise(table, "mlp_norm", phase, layers, 4 * T * d, T * d * (3 * rb_ + ab_));

  // Dense MLP layers.
  const double gate_factor = m.gated_mlp ? 2.0 : 1.0;
  if (dense_layers_ > 0) {
    const double f = static_cast<double>(m.ffn_hidden_size) / tp;
    add_gemm(table, "mlp_up_gate", phase, dense_layers_, T, d, gate_factor * f, wb_);
    add_elementwise(table, "mlp_act", phase, dense_layers_, 4 * T * f, T * f * (gate_factor * rb_ + ab_));
    add_gemm(table, "mlp_down", phase, dense_layers_, T, f, d, wb_);
  }
  // Mixture-of-experts layers.
  if (moe_layers_ > 0) {
    const auto& e = *m.moe;
    const double E = e.num_experts;
    const double k = e.experts_per_token;
    const double ep = dep_.expert_parallel;
    const double expert_tp = static_cast<double>(dep_.tensor_parallel) / ep;  // each expert's FFN is split over t/e chips
    const double fe = static_cast<double>(e.expert_ffn_hidden_size) / expert_tp;
    add_gemm(table, "moe_router", phase, moe_layers_, T, d, E, eb_);
    // Top-k selection over the router's scores: its own kernel (vLLM's and SGLang's topk_softmax / grouped
    // top-k; DeepSeek's H800 decode profile: 8 us per layer at 128 tokens), FP32 scores in, k ids and weights out.
    add_elementwise(table, "moe_topk", phase, moe_layers_, 5 * T * E, T * E * 4.0 + T * k * 8.0);
    // All-to-all: each chip sends its share of the step's tokens (T/e, or T/N when the N attention ranks
    // outnumber the expert ranks), k copies of the hidden state, (e-1)/e of them to other chips.
    // The busiest expert-parallel rank holds imbalance x the mean of the token-expert pairs: it computes that
    // many and receives (dispatch) and returns (combine) that many copies, so its exchange is stretched alike.
    const double imbalance = expert_imbalance(tokens);
    const double tokens_here = tokens / std::max(ep, static_cast<double>(ranks_)) * imbalance;
    add_expert_all_to_all(table, true, phase, expert_all_to_all_bytes(tokens_here, k, d, dispatch_b_));
    // The routed experts see every token of the replica, the busiest expert-parallel rank imbalance x the mean.
    const double active = expected_distinct_experts(E, k, tokens, dep_.moe_routing_skew);
    const double copies = (E + dep_.redundant_experts) / E;
    const double active_here = active / ep * copies;                            // experts touched on this chip
    const double assignments = tokens * k / ep * imbalance;  // token-expert pairs this chip computes
    const double rows_per_expert = tokens * k / active;                        // GEMM M of one expert
    const std::size_t expert_rows = table.size();
    // DeepEP's normal kernels (prefill and mixed steps) deliver a token once per chip with its experts' ids, and
    // return one row per token: the chip copies every token-expert pair into rows grouped by expert for the grouped
    // GEMM, and afterwards sums each token's weighted expert outputs into one row (DeepSeek's prefill trace:
    // expand_to_fused, reduce_fused). The low-latency kernels (decode) write and read the per-expert layout
    // themselves. Both copies stream HBM: the permute reads and writes each pair at the dispatch's width, the
    // reduction reads each pair's output and writes one row per token the chip received.
    const bool per_token_layout = ep > 1 && runs_normal_kernels(phase);
    if (per_token_layout) {
      add_elementwise(table, "moe_permute", phase, moe_layers_, 0, 2 * assignments * d * dispatch_b_);
    }
    // Grouped GEMMs: weights of the touched experts, rows padded per expert.
    OperatorRow r;
    r.name = "moe_up_gate";
    r.phase = phase;
    r.op_class = OpClass::gemm;
    r.count = moe_layers_;
    r.flops = 2.0 * assignments * d * gate_factor * fe;
    r.bytes = active_here * d * gate_factor * fe * ewb_ + assignments * (d * ab_ + gate_factor * fe * rb_);
    r.rows = std::max(1.0, rows_per_expert);
    r.tile_rows = expert_tile_rows_;
    // FP8 experts of a block-scaled checkpoint run the block-scaled grouped GEMM (DeepGEMM's contiguous and
    // masked layouts), with the same fixed cost per output tile as the dense ones.
    auto expert_slowdown = [&](double depth) { return ewb_ == wb_ ? block_scaled_slowdown(depth) : 1.0; };
    r.seconds_per_flop = expert_s_per_flop_ / moe_gemm_efficiency_ * expert_slowdown(d);
    r.seconds_per_byte = s_per_byte_;
    r.overhead_s = launch_s_;
    table.push(r);
    add_elementwise(table, "moe_act", phase, moe_layers_, 4 * assignments * fe, assignments * fe * (gate_factor * rb_ + ab_));
    r.name = "moe_down";
    r.seconds_per_flop = expert_s_per_flop_ / moe_gemm_efficiency_ * expert_slowdown(fe);
    r.flops = 2.0 * assignments * fe * d;
    r.bytes = active_here * fe * d * ewb_ + assignments * (fe * ab_ + d * rb_);
    table.push(r);
    if (per_token_layout) {
      const double received = tokens * parallelism::chance_token_reaches(E, k, ep) * imbalance;
      add_elementwise(table, "moe_unpermute", phase, moe_layers_, 2 * assignments * d, (assignments + received) * d * rb_);
    }
    // Under two-batch overlap the expert side (routed GEMMs, their activation, the shared expert) is the piece
    // between this micro-batch's dispatch and combine (DeepSeek overlaps the shared expert with the combine).
    for (std::size_t i = expert_rows; i < table.size(); ++i) table.slot[i] = MoeSlot::expert_side;
    add_expert_all_to_all(table, false, phase, expert_all_to_all_bytes(tokens_here, k, d, rb_));
    if (e.num_shared_experts > 0) {
      const double fs = static_cast<double>(e.num_shared_experts) * e.expert_ffn_hidden_size / tp;
      const std::size_t shared_rows = table.size();
      add_gemm(table, "shared_expert_up_gate", phase, moe_layers_, T, d, gate_factor * fs, wb_);
      add_gemm(table, "shared_expert_down", phase, moe_layers_, T, fs, d, wb_);
      for (std::size_t i = shared_rows; i < table.size(); ++i) table.slot[i] = MoeSlot::expert_side;
    }
  }
  // Pipeline: activations to the next stage.
  if (dep_.pipeline_parallel > 1) {
    add_network(table, "pp_send", phase, 1, parallelism::send(T * d * rb_, pp_link_), pp_link_, Segment::stage_boundary);
  }
}

void StepCostModel::append_head(OperatorTable& table, double logit_tokens, Phase phase) const {
  if (logit_tokens <= 0 || !placement_.lm_head) return;
  // Once per step (last stage): LM head for the tokens that emit logits, gather and sampling; with attention
  // data parallelism each rank does its own sequences' logits, the head split a ways.
  const auto& m = model_;
  const double d = m.hidden_size;
  const double Tout = rank_tokens(logit_tokens);
  const int tp = dep_.attention_tensor_parallel();
  const double v = static_cast<double>(m.vocab_size) / tp;
  add_elementwise(table, "final_norm", phase, 1, 4 * Tout * d, 2 * Tout * d * rb_, Segment::last_stage);
  add_gemm(table, "lm_head", phase, 1, Tout, d, v, eb_, Segment::last_stage);
  if (tp > 1) {
    add_network(table, "logits_gather", phase, 1, parallelism::all_gather(Tout * m.vocab_size * 4.0, tp, tp_link_),
                tp_link_, Segment::last_stage);
  }
  add_elementwise(table, "sampling", phase, 1, 5 * Tout * m.vocab_size, 2 * Tout * m.vocab_size * 4.0,
                  Segment::last_stage);
}

void StepCostModel::add_expert_all_to_all(OperatorTable& table, bool dispatch, Phase phase, double bytes) const {
  const std::size_t first = table.size();
  // Prefill and mixed steps run DeepEP's normal kernels, which send a token once per distinct remote node and
  // forward it inside the node; decode runs the low-latency kernels, which send every copy directly (the
  // engines' "auto" mode, docs/roofline.md).
  std::optional<ExpertRouting> per_node;
  if (runs_normal_kernels(phase)) per_node = ep_routing_;
  push_expert_all_to_all(table, hw_, dep_.expert_parallel, ep_link_, ep_up_link_, dispatch, phase, moe_layers_, bytes,
                         per_node);
  // Marked so that two-batch overlap can hide them behind the other micro-batch's compute.
  for (std::size_t i = first; i < table.size(); ++i) {
    table.op_class[i] = OpClass::all_to_all;
    table.slot[i] = dispatch ? MoeSlot::dispatch : MoeSlot::combine;
  }
}

double StepCostModel::expert_imbalance(double tokens) const {
  if (dep_.expert_parallel <= 1) return 1.0;
  if (dep_.expert_load_imbalance >= 1) return dep_.expert_load_imbalance;
  // Derived by default where attention is data-parallel; the tensor-parallel layout keeps 1 (its estimates were
  // calibrated so) unless expert_load_imbalance is "auto" (docs/roofline.md).
  if (ranks_ == 1 && dep_.expert_load_imbalance != parallelism::kDerivedImbalance) return 1.0;
  // Experts placed by measured load (redundant experts, EPLB) still leave the model's measured residual skew.
  const double skew = dep_.redundant_experts > 0 ? model_.moe->balanced_load_skew : 1.0;
  return skew * parallelism::expert_load_imbalance(model_.moe->num_experts, model_.moe->experts_per_token, tokens,
                                                   dep_.expert_parallel);
}

StepCost sequential(const StepCost& a, const StepCost& b) {
  StepCost c;
  c.time_s = a.time_s + b.time_s;
  c.stage_time_s = a.stage_time_s + b.stage_time_s;
  c.flops_per_chip = a.flops_per_chip + b.flops_per_chip;
  c.bytes_per_chip = a.bytes_per_chip + b.bytes_per_chip;
  c.compute_bound_s = a.compute_bound_s + b.compute_bound_s;
  c.memory_bound_s = a.memory_bound_s + b.memory_bound_s;
  c.network_bound_s = a.network_bound_s + b.network_bound_s;
  return c;
}

StepCost StepCostModel::price_gemm(std::string_view name, double m, double k, double n) const {
  OperatorTable t;
  add_gemm(t, name, Phase::decode, 1, m, k, n, wb_);
  evaluate_roofline(t);
  StepCost c = summarize(t);
  c.time_s = c.stage_time_s;  // one kernel on one stage, not a pass through every stage
  return c;
}

StepCost StepCostModel::summarize(const OperatorTable& t) const {
  return finish_step(sum_parts(t), dep_.pipeline_parallel);
}

double StepCostModel::comm_sm_share(Phase phase) const {
  const int units = hw_.compute.compute_units;
  if (units <= 0) return 0.0;
  const int sms = runs_normal_kernels(phase) ? dep_.all_to_all.normal_kernel_sms : dep_.all_to_all.low_latency_kernel_sms;
  return static_cast<double>(sms) / units;
}

StepCost StepCostModel::evaluate(const StepShape& shape) const {
  if (splits_into_micro_batches(shape)) {
    build(shape.micro_batch(), scratch_);
    return finish_step(overlap_two_batches(sum_parts(scratch_), moe_layers_, comm_sm_share(phase_of(shape))),
                       dep_.pipeline_parallel);
  }
  build(shape, scratch_);
  return summarize(scratch_);
}

}  // namespace infersim::roofline
