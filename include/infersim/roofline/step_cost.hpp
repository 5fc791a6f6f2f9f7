#pragma once
// Prices one batch step of a model on a deployment: builds the operator table (one chip of the deployment:
// the layers of one pipeline stage, with embedding and LM head) and runs the roofline kernel over it.
//
// A StepCostModel is built once per (model, hardware, deployment) and then evaluated many times; it holds a
// scratch table, so one instance must not be used by two threads at once (make one per thread).

#include <cstdint>
#include <optional>

#include "infersim/hardware/hardware_spec.hpp"
#include "infersim/model/model_spec.hpp"
#include "infersim/parallelism/collective.hpp"
#include "infersim/parallelism/deployment_spec.hpp"
#include "infersim/roofline/operator_table.hpp"
#include "infersim/roofline/step_shape.hpp"

namespace infersim::roofline {

struct StepCost {
  double time_s = 0;          // latency of the step through all pipeline stages
  double stage_time_s = 0;    // the slowest stage: with p micro-batches in flight, a step finishes every stage_time_s
  double flops_per_chip = 0;  // useful (unpadded) FLOPs on one chip, summed over the step
  double bytes_per_chip = 0;  // memory traffic on one chip
  double compute_bound_s = 0; // time of operators bound by compute / memory / network (on one chip)
  double memory_bound_s = 0;
  double network_bound_s = 0;
};

/// The type attention's matrix products (QK^T and PV) run in: the activation type when it is 16 bits or wider;
/// FP8 when the activations are 8 bits or narrower, the KV cache is FP8 and the serving engine has FP8 attention
/// kernels (deployment.fp8_attention, from the engine's attention.fp8_math); otherwise 16 bits (bf16 where the
/// chip has it, else fp16). FP8 and FP4 GEMMs do not make attention FP8 by themselves: SGLang, vLLM with
/// FlashAttention-2 or FlashInfer and llama.cpp read an 8-bit KV cache into 16-bit attention math.
DType attention_math_dtype(const hardware::HardwareSpec& hw, const parallelism::DeploymentSpec& d);

/// Time of one standalone all-reduce of `bytes` per chip over `chips` chips of `hw` (as the step model prices
/// its tensor-parallel all-reduces).
double price_all_reduce(const hardware::HardwareSpec& hw, int chips, double bytes);

/// Bytes each chip of an expert-parallel group sends into one MoE dispatch (or receives back in one combine):
/// its `tokens_per_chip` tokens, `top_k` copies of the `hidden`-element state each, `bytes_per_element` per
/// element (as the step model sizes its expert all-to-all; docs/roofline.md).
double expert_all_to_all_bytes(double tokens_per_chip, double top_k, double hidden, double bytes_per_element);

/// The routing an all-to-all that sends each token once per distinct remote node needs (DeepEP's internode
/// normal kernels, docs/roofline.md): routed experts, top-k and the most nodes a token may reach (0 = no limit).
struct ExpertRouting {
  double experts = 0, top_k = 0, node_limit = 0;
};

/// Time of one standalone MoE dispatch (or combine) over an expert-parallel group of `expert_parallel` chips
/// of `hw`, each chip holding `bytes_per_chip` (expert_all_to_all_bytes): the operator rows the step model
/// adds for it, priced by the roofline kernel and summed (scale-up and scale-out shares when the group spans
/// domains; with `per_node` routing, a group spanning domains sends each token once per distinct remote domain,
/// as the step model prices prefill and mixed steps).
double price_expert_all_to_all(const hardware::HardwareSpec& hw, int expert_parallel, double bytes_per_chip,
                               const std::optional<ExpertRouting>& per_node = std::nullopt);

/// Two steps run one after the other (e.g. a draft model's steps and the target's verification).
StepCost sequential(const StepCost& a, const StepCost& b);

/// Expected distinct experts touched when `tokens` tokens each pick `k` of `experts` experts; `skew` in [0, 1)
/// moves a fraction of the routing onto k popular experts (0 = uniform: E (1 - (1 - k/E)^T)).
double expected_distinct_experts(double experts, double k, double tokens, double skew);

/// Whether the deployment runs the model's block-scaled FP8 checkpoint (fp8_weight_block_size) as block-scaled
/// W8A8 GEMMs: FP8 weights and activations (DeepGEMM-style kernels).
bool runs_block_scaled_fp8(const model::ModelSpec& m, const parallelism::DeploymentSpec& d);

/// Elements of depth each GEMM over the model's own weights is priced with beyond its own: the chip's
/// efficiency.block_fp8_gemm_overhead_k where the model's FP8 checkpoint is block-scaled (fp8_weight_block_size)
/// and the deployment runs it at FP8 weights and activations (DeepGEMM-style W8A8 kernels); 0 otherwise.
double block_scaled_gemm_overhead_k(const model::ModelSpec& m, const hardware::HardwareSpec& hw,
                                    const parallelism::DeploymentSpec& d);

class StepCostModel {
 public:
  /// Validates the deployment against the model and hardware (throws InfeasibleError).
  StepCostModel(const model::ModelSpec& m, const hardware::HardwareSpec& hw, const parallelism::DeploymentSpec& d,
                const parallelism::Placement& placement = {});

  /// The operators of one step on one chip, priced by the roofline kernel.
  void build(const StepShape& shape, OperatorTable& table) const;
  StepCost evaluate(const StepShape& shape) const;
  /// Sum the priced table into a StepCost (the table as one batch: evaluate applies two-batch overlap).
  StepCost summarize(const OperatorTable& table) const;
  /// Price one standalone GEMM on one chip (rows m, inner k, outputs n; weights in the deployment's type).
  StepCost price_gemm(std::string_view name, double m, double k, double n) const;

  const model::ModelSpec& model() const { return model_; }
  const hardware::HardwareSpec& hardware() const { return hw_; }
  const parallelism::DeploymentSpec& deployment() const { return dep_; }
  /// Elements of depth each GEMM over the model's block-scaled FP8 weights is priced with beyond its own (the
  /// hardware's efficiency.block_fp8_gemm_overhead_k where the model's FP8 checkpoint is block-scaled and the
  /// deployment runs it at FP8; 0 otherwise).
  double block_scaled_gemm_overhead_k() const { return block_k_; }
  /// Whether a step of this shape runs as two overlapped micro-batches (deployment.two_batch_overlap; a step
  /// of one token cannot be split).
  bool splits_into_micro_batches(const StepShape& s) const { return dep_.two_batch_overlap && s.total_tokens() >= 2; }
  /// Share of the chip's SMs the expert all-to-all kernels of a step of this phase occupy while they run
  /// (deployment.all_to_all: the normal kernels for prefill and mixed steps, the low-latency ones for decode;
  /// 0 when the hardware profile gives no compute_units).
  double comm_sm_share(Phase phase) const;

 private:
  friend class StepCostCache;
  static Phase phase_of(const StepShape& s);
  // The operators of a step in four groups: those that depend only on the step's token count T (before and
  // after attention), those that depend on the prefill/decode mix (attention), and those that depend only
  // on the tokens that emit logits (LM head). StepCostCache memoizes the first and last groups.
  void append_pre_attention(OperatorTable& t, double tokens, Phase phase) const;
  void append_attention(OperatorTable& t, const StepShape& s) const;
  void append_post_attention(OperatorTable& t, double tokens, Phase phase) const;
  void append_head(OperatorTable& t, double logit_tokens, Phase phase) const;
  void add_gemm(OperatorTable& t, std::string_view name, Phase phase, double count, double m, double k, double n,
                double weight_bytes_per_element, Segment segment = Segment::layers) const;
  /// add_gemm's row with its seconds per FLOP multiplied by `slowdown`.
  void push_gemm(OperatorTable& t, std::string_view name, Phase phase, double count, double m, double k, double n,
                 double weight_bytes_per_element, Segment segment, double slowdown) const;
  /// Seconds per FLOP of a GEMM of depth k over block-scaled FP8 weights relative to a per-tensor one (1 when
  /// the weights are not block-scaled).
  double block_scaled_slowdown(double k) const;
  void add_batched_gemm(OperatorTable& t, std::string_view name, Phase phase, double count, double batch, double m,
                        double k, double n) const;
  void add_elementwise(OperatorTable& t, std::string_view name, Phase phase, double count, double flops,
                       double bytes, Segment segment = Segment::layers) const;
  /// Attention proper over `pairs` query-key pairs of `tokens` queries that read `cached` cached tokens' KV.
  void add_attention(OperatorTable& t, std::string_view name, Phase phase, double count, double tokens, double pairs,
                     double cached) const;
  double kv_elements_per_chip() const;  // KV-cache elements per token per layer on one chip
  /// Tokens of the busiest attention rank when a step of `tokens` is spread over the N ranks: ceil(T / N).
  double rank_tokens(double tokens) const;
  /// Routed-expert dispatch (or combine) of `bytes` per chip over the expert-parallel group (split over the
  /// scale-up and scale-out links when the group spans domains).
  void add_expert_all_to_all(OperatorTable& t, bool dispatch, Phase phase, double bytes) const;
  /// Busiest expert-parallel rank's assignments over the mean for a step of `tokens` tokens.
  double expert_imbalance(double tokens) const;
  void add_network(OperatorTable& t, std::string_view name, Phase phase, double count,
                   const parallelism::CollectiveCost& c, const parallelism::Link& link,
                   Segment segment = Segment::layers) const;

  model::ModelSpec model_;
  hardware::HardwareSpec hw_;
  parallelism::DeploymentSpec dep_;
  parallelism::Placement placement_;
  // Derived once.
  double tile_rows_ = 1;         // the GEMM tile M of the model's own weights (rows are padded to it)
  double expert_tile_rows_ = 1;  // the routed experts' (16 where they run weight-only; see weight_only_tile_rows)
  double attention_s_per_flop_ = 0;  // attention's matrix products, at attention_math_dtype's rate
  double gemm_s_per_flop_ = 0, vector_s_per_flop_ = 0, s_per_byte_ = 0, launch_s_ = 0;
  double wb_ = 2, eb_ = 2, ab_ = 2, kvb_ = 2;  // bytes per weight / embedding / activation / KV element
  double rb_ = 2;  // bytes per element of the residual stream, GEMM outputs and collectives (>= 16 bits)
  double dispatch_b_ = 2;  // bytes per element of the expert dispatch (FP8 with per-128 scales, or rb_)
  double heads_ = 0, kv_heads_ = 0;           // per chip
  int ranks_ = 1;                             // attention data-parallel ranks N
  double dense_layers_ = 0, moe_layers_ = 0;  // per pipeline stage (average)
  double local_layers_ = 0;                   // of those, layers with local (sliding-window, chunked) attention
  double ewb_ = 2, expert_s_per_flop_ = 0;    // routed experts: bytes per weight, seconds per GEMM FLOP
  double moe_gemm_efficiency_ = 1;             // the chip's efficiency.moe_gemm x the engine's figure on its architecture
  double block_k_ = 0;  // block-scaled FP8 GEMMs' fixed cost per output tile in elements of depth (0: none)
  parallelism::Link tp_link_{}, ep_link_{}, pp_link_{};
  parallelism::Link ep_up_link_{};  // set when expert parallelism spans scale-up domains
  ExpertRouting ep_routing_{};      // for the per-node (deduplicated) all-to-all of prefill and mixed steps
  mutable OperatorTable scratch_;
};

}  // namespace infersim::roofline
