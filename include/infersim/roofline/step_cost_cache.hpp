#pragma once
// Memoized step pricing for the serving simulation, which prices millions of steps. The operators of a
// step split into groups that depend on one number each: everything but attention and the LM head depends
// only on the step's token count T, the LM head only on the tokens that emit logits. Those groups are
// priced once per distinct count and reused; attention, which depends on the prefill/decode mix and the
// contexts, is priced every step. The result equals StepCostModel::evaluate up to the order of additions.
// Decode-only steps of models without local-attention layers depend on (sequences, tokens per sequence,
// context sum) alone: their costs are remembered whole in a small direct-mapped table (a shape evicts the
// one in its slot), since runs of decode steps revisit the same shapes again and again.

#include <unordered_map>
#include <vector>

#include "infersim/roofline/step_cost.hpp"

namespace infersim::roofline {

/// Sums of priced operators by pipeline segment.
struct CostParts {
  double layers_s = 0, first_stage_s = 0, last_stage_s = 0, boundary_s = 0;
  double flops = 0, bytes = 0;
  double compute_s = 0, memory_s = 0, network_s = 0;
  // Of layers_s, by MoeSlot: the expert-parallel dispatch and combine (OpClass::all_to_all, together the
  // layers' all-to-all) and the expert side's compute.
  double dispatch_s = 0, combine_s = 0, expert_side_s = 0;
  CostParts& operator+=(const CostParts& o);
};

/// Sum a priced table by segment.
CostParts sum_parts(const OperatorTable& table);
/// Latency through p pipeline stages and time of the slowest stage, from the parts of one step.
StepCost finish_step(const CostParts& parts, int pipeline_parallel);
/// Two-batch overlap (parallelism::DeploymentSpec::two_batch_overlap; DeepSeek-V3/R1 inference system, "dual
/// micro-batch overlap"; SGLang --enable-two-batch-overlap): a step runs as two micro-batches, each priced at
/// half the step (`half`, one micro-batch's parts). In each of the L = `moe_layers` MoE layers a micro-batch
/// computes (c = its compute per layer) and then exchanges its tokens with the experts (m = its all-to-all per
/// layer); while one micro-batch communicates the other computes.
/// With the layer's pieces (dispatch_s, combine_s, expert_side_s: a = attention side, e = expert side,
/// d = dispatch, x = combine, per layer) the compute stream runs A.a, B.a, A.e, B.e and each piece overlaps one
/// exchange of the other micro-batch: A.a beside B's combine, B.a beside A's dispatch, A.e beside B's dispatch,
/// B.e beside A's combine (SGLang's two-batch overlap; DeepSeek's decode overlap, profile-data decode.json), so a
/// layer of both takes max(a, x) + max(a, d) + max(e, d) + max(e, x): a piece that outlasts its partner leaves
/// the link idle and a short one leaves the SMs idle. Where the pieces balance (a = e, d = x) this is
/// 2 max(c, m).
/// Plus the one piece of the other stream that nothing hides, min(c, m) (the first micro-batch's first compute,
/// or the last one's last exchange). Everything outside the layers runs once per micro-batch.
/// `comm_sm_share` s: the share of the chip's SMs the communication kernels occupy while they run (DeepEP's
/// normal kernels: Buffer.num_sms of the chip's SMs); compute that overlaps an exchange runs on the other
/// 1 - s, so c becomes min(c / (1 - s), c + m s): stretched whole while it fits inside the exchange, else the
/// part that overlaps the exchange is slowed and the rest runs at full rate. The unhidden piece is unslowed.
CostParts overlap_two_batches(const CostParts& half, double moe_layers, double comm_sm_share = 0.0);

class StepCostCache {
 public:
  explicit StepCostCache(const StepCostModel& model) : model_(&model) {}
  StepCost evaluate(const StepShape& shape);
  const StepCostModel& model() const { return *model_; }

 private:
  const CostParts& body(std::int64_t tokens, Phase phase);
  const CostParts& head(std::int64_t logit_tokens, Phase phase);
  StepCost price(const StepShape& shape);
  CostParts parts(const StepShape& shape);

  struct DecodeKey {
    std::int64_t sequences, tokens_per_sequence, context_tokens, logit_tokens;
    bool operator==(const DecodeKey&) const = default;
  };
  struct DecodeEntry {
    DecodeKey key{-1, 0, 0, 0};
    StepCost cost;
  };
  static constexpr std::size_t kDecodeSlots = std::size_t{1} << 14;  // 1.4 MB

  const StepCostModel* model_;
  static constexpr std::int64_t kDense = 1 << 16;  // counts below this live in vectors, above in maps
  std::vector<CostParts> body_, head_;
  std::vector<std::uint8_t> body_known_, head_known_;
  std::unordered_map<std::int64_t, CostParts> body_big_, head_big_;
  std::vector<DecodeEntry> decode_;
  OperatorTable scratch_;
};

}  // namespace infersim::roofline
