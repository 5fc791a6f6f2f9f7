#pragma once
// A serving engine (vLLM, SGLang, TensorRT-LLM, llama.cpp, HuggingFace transformers): the time its software
// adds to the device time of every batch step, and the batching it does when a scenario does not say.
// Profiles live in configs/engines (catalog names), like hardware profiles; docs/configuration.md lists the keys.
//
// One step of an engine takes
//   max(device_s, launch_s) + host,  host = per_step + per_sequence x sequences + per_token x tokens
//     + per_forward_pass x (forward passes - 1) + speculative_step (when the step verifies drafted tokens)
//     + per_streamed_sequence x sequences (when the clients stream: workload.streaming)
// (or max(device_s, launch_s, s x host) + (1 - s) x host when the engine overlaps the share s of its host work
// with the device: host_time.overlapped_share, 1 for SGLang's overlap scheduler), where launch_s is the host time to launch the step's kernels one by one (decoder layers launched x
// eager_s_per_layer) when the step does not run as a CUDA graph, and 0 when it does: kernels are queued
// asynchronously, so the GPU waits for the CPU only when launching is slower than running.
// With multi-step scheduling (scheduler.scheduler_steps N > 1) host is paid once per window of up to N decode
// steps, on its first step; the others pay only their exposed launches.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "infersim/parallelism/deployment_spec.hpp"
#include "infersim/roofline/step_report.hpp"
#include "infersim/roofline/step_shape.hpp"
#include "infersim/serving/serving_spec.hpp"

namespace infersim::serving {

/// Which steps run as captured CUDA graphs: none (eager PyTorch), pure-decode steps only, or every step.
enum class GraphMode { none, decode, all };
inline constexpr std::array<std::string_view, 3> kGraphModeNames = {"none", "decode", "all"};

struct HostTimeSpec {
  double per_step_s = 0;          // one scheduler iteration: scheduling, input preparation, output handling
  double per_sequence_s = 0;      // per sequence in the step: block tables, sampling, detokenising, responses
  double per_token_s = 0;         // per token the step runs (prompt-chunk tokens and decode tokens)
  double per_forward_pass_s = 0;  // per model invocation beyond the first in a step (a draft model's passes)
  double speculative_step_s = 0;  // a step that verifies drafted tokens: candidates, tree masks, acceptance
  double per_streamed_sequence_s = 0;  // per sequence in the step, on top of per_sequence, when responses stream:
                                       // the engine builds and hands over each sequence's new token every step
  bool overlaps_device = false;   // the CPU prepares step n+1 while the device runs step n (SGLang's overlap
                                  // scheduler): only host time beyond the device time is exposed
  double overlapped_share = 1;    // with overlaps_device, the share of the host time that runs beside the device
                                  // (vLLM's async scheduling hides part of it); the rest stays on the step's path
};

struct LaunchSpec {
  GraphMode cuda_graphs = GraphMode::all;
  std::int64_t cuda_graph_max_batch_size = 0;  // decode batches above this run eagerly (0: no limit)
  double eager_s_per_layer = 0;                // host time to launch one decoder layer's kernels, eagerly
};

/// Batching the engine does unless the scenario's `scheduler` says otherwise.
struct EngineSchedulerDefaults {
  std::string policy = "continuous";
  std::int64_t max_batch_size = 256;
  std::int64_t max_batched_tokens = 8192;
  std::int64_t scheduler_steps = 1;  // decode steps per scheduler pass (multi-step scheduling; 1: none)
  AdmissionReserveSpec admission_reserve;  // KV kept for output still to come (off unless given)
};

/// The engine's attention kernels. Attention's QK^T and PV products run at the FP8 matrix rate only when the
/// engine has FP8 attention kernels, the activations are 8 bits or narrower and the KV cache is FP8 (queries
/// quantized, keys and values read as stored: TensorRT-LLM's FP8 context FMHA, vLLM's FlashAttention-3 with an
/// FP8 KV cache); otherwise at 16 bits, whatever the GEMMs' type (roofline::attention_math_dtype).
struct AttentionKernelSpec {
  bool fp8_math = false;
};

struct ServingEngineSpec {
  std::string name;
  std::string description;
  std::string version;  // the releases the profile describes
  std::string source;
  std::string notes;
  HostTimeSpec host_time;
  LaunchSpec launch;
  EngineSchedulerDefaults scheduler;
  AttentionKernelSpec attention;
  double dequant_overhead = 0;  // weight-only quantized GEMMs: extra fraction of compute time (default for deployments)
  // Its grouped GEMMs for routed experts (optional `moe_gemm.efficiency`, by compute architecture; 1 where not
  // given): the fraction of the chip's calibrated efficiency.moe_gemm they reach (docs/roofline.md).
  parallelism::MoeGemmKernels moe_gemm;
  // Iterations between a request's first token and its report to the client (optional `first_token_lag_steps`,
  // default 0): the first token reaches the client with the token of the lag-th step after the one that completed
  // the prompt (with its last token if it has fewer), so TTFT includes those steps; the device and the later
  // tokens are not delayed. A per-release figure (docs/serving.md, "A first token reported late").
  std::int64_t first_token_lag_steps = 0;
  // Its expert-parallel all-to-all kernels (optional `expert_all_to_all`; every deployment it runs takes them).
  parallelism::AllToAllKernels expert_all_to_all;
  // Its own all-reduce kernels for small tensor-parallel all-reduces (optional `custom_all_reduce`).
  parallelism::AllReduceKernels custom_all_reduce;
  // Its OpenAI-compatible HTTP server (optional `front_end`): the time from a client's request to the engine's
  // scheduler (HTTP, chat template, tokenization, hand-over to the engine process) together with the first
  // streamed chunk's way back, paid once by every request a workload sends over HTTP (workload.api "http"):
  // TTFT and end-to-end latency include it, the device and the later tokens' gaps do not (docs/serving.md,
  // "The HTTP front end"). Absent: not measured, and a served workload gets a warning.
  std::optional<double> front_end_request_latency_s;
};

/// The largest first_token_lag_steps a profile may give (a bound on typos, far above any engine's).
inline constexpr std::int64_t kMaxFirstTokenLagSteps = 64;

/// The catalog entry a scenario gets when it names no engine (docs/configuration.md): vLLM's V1 engine, vLLM's default
/// since 0.8 (2025): 3.4% off the seven held-out V1 rows where `vllm` is 45.7% off (docs/accuracy.md, 'Default engine').
inline constexpr std::string_view kDefaultEngine = "vllm-v1";

/// What one step asks of the host, from the pricer: model invocations and decoder layers launched.
struct StepLaunches {
  int forward_passes = 1;
  double layers = 0;           // decoder layers (and heads) launched across all passes
  bool verifies_draft = false;  // the step checks speculated tokens
};

/// What the engine's kernels change in one step's roofline (`infersim roofline --engine`, `infersim.roofline`):
/// FP8 attention math, its routed-expert GEMMs' efficiency, its expert-parallel all-to-all and all-reduce
/// kernels, as a scenario naming the engine prices them.
void use_engine_kernels(roofline::StepQuery& query, const ServingEngineSpec& engine);

/// Whether the step runs as a CUDA graph under the engine's launch mode.
bool runs_as_graph(const LaunchSpec& launch, const roofline::StepShape& shape);

/// The host's part of a step: what the engine adds to `device_s` (the roofline time of the step). With
/// `attention_ranks` N > 1 the per-sequence and per-token terms count the busiest rank's ceil(x / N).
/// `scheduler_pass` false: a step that continues a multi-step window (scheduler.scheduler_steps), run on the
/// scheduler pass of the window's first step; it pays only the kernel launches the device does not hide.
/// `streaming`: the clients receive tokens as they are generated (workload.streaming), so every sequence of the
/// step also costs per_streamed_sequence.
double host_overhead_s(const ServingEngineSpec& engine, const roofline::StepShape& shape, const StepLaunches& launches,
                       double device_s, int attention_ranks = 1, bool scheduler_pass = true, bool streaming = false);

}  // namespace infersim::serving
