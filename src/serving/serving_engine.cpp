#include "infersim/serving/serving_engine.hpp"

#include <algorithm>
#include <cmath>

namespace infersim::serving {

bool runs_as_graph(const LaunchSpec& launch, const roofline::StepShape& shape) {
  switch (launch.cuda_graphs) {
    case GraphMode::none: return false;
    case GraphMode::decode:
      if (shape.prefill_tokens > 0) return false;
      break;
    case GraphMode::all: break;
  }
  return launch.cuda_graph_max_batch_size == 0 || shape.decode_sequences <= launch.cuda_graph_max_batch_size;
}

void use_engine_kernels(roofline::StepQuery& query, const ServingEngineSpec& engine) {
  query.fp8_attention = engine.attention.fp8_math;
  query.moe_gemm = engine.moe_gemm;
  query.all_to_all = engine.expert_all_to_all;
  query.all_reduce = engine.custom_all_reduce;
}

double host_overhead_s(const ServingEngineSpec& engine, const roofline::StepShape& shape, const StepLaunches& launches,
                       double device_s, int attention_ranks, bool scheduler_pass, bool streaming) {
  const HostTimeSpec& h = engine.host_time;
  // With attention data parallelism each rank captures and replays its own graphs: the captured batch sizes
  // bound a rank's sequences (SGLang's --cuda-graph-bs with --enable-dp-attention; its 96-H100 decode ran
  // --cuda-graph-bs 256 at 256 sequences per GPU, sgl-project/sglang issue #6017), not the replica's.
  roofline::StepShape rank_shape = shape;
  if (attention_ranks > 1) rank_shape.decode_sequences = (shape.decode_sequences + attention_ranks - 1) / attention_ranks;
  const double launch_s =
      runs_as_graph(engine.launch, rank_shape) ? 0.0 : launches.layers * engine.launch.eager_s_per_layer;
  // Launching is asynchronous: the device waits only for the part of the launches it does not overlap. (Written
  // as differences that stay finite when the device time is infinite, so the replica's horizon check reports it.)
  const double exposed_launch_s = std::max(0.0, launch_s - device_s);
  if (!scheduler_pass) return exposed_launch_s;
  // With attention data parallelism each rank runs its own scheduler process (SGLang's DP-attention workers,
  // DeepSeek's DP instances) over its share of the sequences: the busiest rank's ceil(x / N).
  const double n = std::max(1, attention_ranks);
  auto rank_share = [n](double x) { return n == 1 ? x : std::ceil(x / n); };
  const double sequences = rank_share(static_cast<double>(shape.prefill_sequences + shape.decode_sequences));
  // Streaming: a response per sequence per step (TensorRT-LLM's GptManager::returnCompletedRequests builds one
  // for every request still generating when it streams, only for finished ones when it does not).
  const double per_sequence_s = h.per_sequence_s + (streaming ? h.per_streamed_sequence_s : 0.0);
  double host = h.per_step_s + per_sequence_s * sequences + h.per_token_s * rank_share(static_cast<double>(shape.total_tokens())) +
                h.per_forward_pass_s * std::max(0, launches.forward_passes - 1);
  if (launches.verifies_draft) host += h.speculative_step_s;
  if (!h.overlaps_device) return exposed_launch_s + host;
  // The overlapped share runs beside the device step and shows only where it is longer; the rest is serial.
  const double beside = h.overlapped_share * host;
  return exposed_launch_s + (host - beside) + std::max(0.0, beside - (device_s + exposed_launch_s));
}

}  // namespace infersim::serving
