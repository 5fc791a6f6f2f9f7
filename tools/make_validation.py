#!/usr/bin/env python3
"""Generate infersim's measurement files (configs/validation/*.json) from the published and measured figures:

  ../shared/data/measurements/calibration.json   MLPerf v4.0/v4.1, llama.cpp, Spec-Bench, AWQ (with sources)
  configs/validation/published/mlperf-v4.0.json  MLPerf v4.0 NVIDIA H200 x8 and DGX-H100 x2 logs (calibration.json's format)
  configs/validation/vidur/*.csv                  Vidur operator and all-reduce profiles (tools/import_vidur.py)
  configs/validation/measured/h200-*.csv          our own H200 kernel timings (bench/gpu/measure.py)
  configs/validation/published/mlperf-v5.0.json   MLPerf v5.0 result logs (held out: mlperf-v5.0.json)

Every row says how the published conditions were mapped onto a scenario (the `assumptions` field); the
mapping is here, in one place, so that it can be read and argued with. Usage:
  tools/make_validation.py [SHARED_DIR]        (default ../shared); then `infersim accuracy configs/validation/*.json`
"""
import csv, json, math, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared")
OUT = os.path.join(ROOT, "configs", "validation")
CAL = json.load(open(os.path.join(SHARED, "data", "measurements", "calibration.json")))
# MLPerf v4.0 NVIDIA rows calibration.json lacks (H200 x8, DGX-H100 x2), in its row format, each with its log's
# repository, commit and path.
CAL += json.load(open(os.path.join(OUT, "published", "mlperf-v4.0.json")))["results"]


def write(name, description, rows):
    seen, unique = set(), []
    for r in rows:  # e.g. fp8 GEMMs timed at M < 16 are padded to M = 16 by the kernel: keep one
        if r["id"] not in seen:
            seen.add(r["id"])
            unique.append(r)
    rows = unique
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump({"description": description, "rows": rows}, f, indent=1)
        f.write("\n")
    print(f"wrote {path}: {len(rows)} rows")


def write_scenario(name, doc):
    os.makedirs(os.path.join(OUT, "scenarios"), exist_ok=True)
    with open(os.path.join(OUT, "scenarios", name), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def cal_rows(category):
    return [r for r in CAL if r["category"] == category]


def short_source(r):
    return r["source"].split(";")[0]


# ---------------------------------------------------------------------------------------------------------
# MLPerf Inference v4.0 / v4.1 (closed), Llama-2-70B and Mixtral-8x7B, Offline and Server.
#
# Dataset lengths. What the sources fix (each figure's source in the row's assumptions):
# - Llama-2-70B: mlcommons/inference language/llama2-70b/processorca.py builds the 24,576 samples from OpenOrca's
#   1M-GPT4-Augmented.parquet: the prompt is the Llama-2 chat template around the system prompt and question, plus
#   one appended token (29871), tokenized with the Llama-2 tokenizer; prompts and GPT-4 reference answers of 1024 or
#   more tokens are dropped (tok_input_length < 1024, tok_output_length < 1024), answers under 3 tokens too; 6,144
#   samples are drawn from each of the four origins (cot, niv, flan, t0). The README gives the mean generated output,
#   294.45 tokens (the FP16 reference run), and nothing about the inputs; no published statistic of the input
#   lengths was found (MLCommons' README and blog, AMD's and NVIDIA's submission code and blogs searched).
# - Mean output per sample of each run: LoadGen logs both the output tokens/s and the samples/s of a run, so their
#   ratio is that run's mean generated length, model and quantization included: 290-293 tokens on Hopper in FP8
#   (v4.1 and v5.0), 293-297 on MI300X/MI325X, 272-274 on B200 in FP4, 144.5-146 for Mixtral. Each row sets its
#   output distribution to its own log's mean (MLPERF_OUTPUT_SIGMA shape, median solved for that mean).
# - Mean input: bounded above by the v5.0 Server logs. TensorRT-LLM's max_num_tokens caps the tokens of one
#   iteration, decode tokens included, and a decoding sequence gets one token per iteration, so per engine
#   (decode tokens/s + prompts/s x mean input) x mean TPOT <= max_num_tokens x pipeline stages, where decode
#   tokens/s = output tokens/s - samples/s (a sample's first token comes from its context step). The tightest
#   bounds: 257 tokens (B200 x8, 3,584 tokens per iteration) and 262 (H100 PP2, 2 x 1,024); the v4.1 KV-cache
#   argument (896 sequences per TP2 H100 instance in ~480k FP8 tokens) allows ~380. The rows assume an input mean
#   of 250 tokens, the largest round figure within every bound (make_validation recomputes them from the
#   logs, input_mean_bounds(), and refuses a larger assumed mean); the bound holds with equality only if every iteration fills its
#   token budget, so the true mean may be lower. Until 2026-12-06 the rows assumed ~340, above two of the bounds.
#   Shape (not published): lognormal, sigma 0.8, clamped to [8, 1023].
# - Mixtral-8x7B (mlcommons/inference language/mixtral-8x7b/README.md): 15,000 samples, 5,000 each from OpenOrca,
#   GSM8K and MBXP; mean generated output 144.84 tokens; max_new_tokens 1024. No input statistic published; the
#   v5.0 Server logs bound the mean input only loosely (<= ~700 tokens): assumed lognormal median 300, sigma 0.8,
#   in [8, 2048] (mean ~400).
# KV memory: TensorRT-LLM gives the KV cache kv_cache_free_gpu_mem_fraction 0.9 of the memory free after the
# weights, about 0.95 of the chip in infersim's terms (memory_utilization 0.95); vLLM (AMD) uses its default
# gpu_memory_utilization 0.9.
# Offline: every sample at t = 0, as many as the log says the run issued (24,576 to 1.1 million; throughput =
# output tokens over the time to the last completion, as LoadGen). Server: the submitter raises the Poisson rate (target_qps) until
# a p99 bound (TTFT <= 2 s, TPOT <= 200 ms) is about to fail, and reports the throughput and latencies at that
# rate; the rows reproduce that protocol (scenario slo.find_max_rate: the highest rate at which infersim's
# simulated system meets the bounds, with as many seconds of arrivals per trial as the submitter's run: LoadGen's
# minimum of 600 s, 2,400 s where the submitter's config sets min_duration, SERVER_MIN_DURATION_S), so the
# throughput row tests the capacity under the SLO and the latency rows the latencies at that edge. Each rate is
# run RUNS_PER_RATE times with different arrival seeds and judged, and read, by the run with the median SLO
# margin: near capacity one run's p99 TTFT is a rare congestion episode on one engine, so with one run the
# search keeps the highest rate at which its own arrival sequence happened to meet the bound and reads a p99
# TTFT up to the 2 s bound there (docs/accuracy.md, "The TTFT p99 tail"). Simulating
# at the submitter's rate instead would reproduce the rate itself as "throughput" and put infersim's system
# at whatever distance from its own edge that rate happens to be.
# ---------------------------------------------------------------------------------------------------------
LLAMA_DATASET_SRC = ("mlcommons/inference language/llama2-70b/processorca.py (24,576 OpenOrca samples, 6,144 each "
                     "from cot, niv, flan and t0; prompts and reference answers under 1024 tokens) and README.md "
                     "(mean output 294.45 tokens)")
MIXTRAL_DATASET_SRC = ("mlcommons/inference language/mixtral-8x7b/README.md (15,000 samples, 5,000 each from OpenOrca, "
                       "GSM8K and MBXP; mean output 144.84 tokens)")
LLAMA_INPUT_MEAN = 250
LLAMA_INPUT = {"sigma": 0.8, "lo": 8, "hi": 1023}
MIXTRAL_INPUT = {"distribution": "lognormal", "median": 300, "sigma": 0.8, "min": 8, "max": 2048}
MLPERF_OUTPUT_SIGMA = {"llama-2-70b": 0.75, "mixtral-8x7b": 0.85}
REFERENCE_OUTPUT_MEAN = {"llama-2-70b": 294.45, "mixtral-8x7b": 144.84}


def clamped_lognormal_mean(median, sigma, lo, hi):
    """E[min(max(X, lo), hi)] for X lognormal(ln median, sigma): infersim clamps a drawn length into [min, max]."""
    mu = math.log(median)
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))
    a, b = (math.log(lo) - mu) / sigma, (math.log(hi) - mu) / sigma
    inside = math.exp(mu + sigma * sigma / 2) * (cdf(b - sigma) - cdf(a - sigma))
    return lo * cdf(a) + inside + hi * (1 - cdf(b))


def lognormal_with_mean(mean, sigma, lo, hi):
    """The clamped lognormal length distribution of the given mean and shape (its median solved by bisection)."""
    low, high = float(lo), float(hi)
    for _ in range(200):
        mid = 0.5 * (low + high)
        if clamped_lognormal_mean(mid, sigma, lo, hi) < mean:
            low = mid
        else:
            high = mid
    return {"distribution": "lognormal", "median": round(0.5 * (low + high), 1), "sigma": sigma, "min": lo, "max": hi}


def mlperf_output(model, mean):
    return lognormal_with_mean(mean, MLPERF_OUTPUT_SIGMA[model], 1, 1024)


LLAMA_WORKLOAD = {
    "input_tokens": lognormal_with_mean(LLAMA_INPUT_MEAN, **LLAMA_INPUT),
    "output_tokens": mlperf_output("llama-2-70b", REFERENCE_OUTPUT_MEAN["llama-2-70b"]),
}
MIXTRAL_WORKLOAD = {
    "input_tokens": MIXTRAL_INPUT,
    "output_tokens": mlperf_output("mixtral-8x7b", REFERENCE_OUTPUT_MEAN["mixtral-8x7b"]),
}
# Serving engines. TensorRT-LLM (NVIDIA, Juniper) batches in flight: the context (prefill) of newly arrived
# requests runs in the same iteration as the generation of the running ones (TrtGptModelType::
# InflightFusedBatching, the harness's default --trtllm_batching_mode IFB), up to max_num_tokens (8192 in
# NVIDIA's configs), and in v4.0/v4.1 without chunked context: NVIDIA's v4.0 engine build
# (closed/NVIDIA/code/llama2-70b/tensorrt/builder.py) does not enable paged context FMHA, which chunking needs,
# and the v4.x harness (code/harness/harness_llm/main_llm.cc, llm_core.cpp) never sets enableChunkedContext.
# A prompt is then scheduled whole or not at all, in arrival order after the running generations, and the first
# that does not fit stops the iteration's admission (TensorRT-LLM's MicroBatchScheduler): infersim's inflight
# policy. The harness's capacity policy is MAX_UTILIZATION (--trtllm_batch_sched_policy max_util, its default;
# no v4.x config overrides it), as the engine's preemption of the newest request. The v5.0 rows keep
# chunked_prefill: NVIDIA's v5.0 Mixtral Hopper Server config sets enable_chunked_context True, and H100's
# PP2 Llama-2-70B Server config (1,024 tokens per iteration beside ~545 decodes per micro-batch) could not serve
# the dataset's 1,024-token prompts whole. vLLM 0.4-0.6 (AMD) runs its default scheduler: prefill-priority
# iterations (continuous), 8192 batched tokens unless the harness says otherwise.
# Host time per iteration: the 2024 engines ran their CPU work of an iteration (scheduling the next batch,
# checking stop criteria, sampling bookkeeping, publishing responses) between GPU steps, with the GPU idle;
# TensorRT-LLM later added an overlap scheduler to hide exactly this
# (nvidia.github.io/TensorRT-LLM/features/overlap-scheduler.html), and vLLM's scheduling and tensor
# preparation could take more than half of an iteration (mlsys.wuklab.io/posts/scheduling_overhead). It is a
# property of the engine, so each row names its engine (configs/engines) and the host time comes from that
# profile: a constant per iteration plus a term per sequence in the batch, fitted per engine and shared by all
# its chips, models and scenarios (nothing per row) with tools/fit_engine.py (docs/accuracy.md).
# NVIDIA's MLPerf v4.0 software stack (TensorRT 9.3.0 and a TensorRT-LLM development drop of 2024-02-06, which
# Juniper's v4.1 submission also ran) reports every Server query's first token about one iteration later than the
# v4.1 stack on the same chips: its own engine release, configs/engines/tensorrt-llm-2024-02.json (first-token lag
# fitted to those rows; docs/accuracy.md, "TensorRT-LLM's first token").
ENGINES = {
    "tensorrt-llm": {"engine": "tensorrt-llm", "scheduler.policy": "inflight", "scheduler.max_batched_tokens": 8192},
    "tensorrt-llm-2024-02": {"engine": "tensorrt-llm-2024-02", "scheduler.policy": "inflight", "scheduler.max_batched_tokens": 8192},
    "tensorrt-llm-chunked": {"engine": "tensorrt-llm", "scheduler.policy": "chunked_prefill", "scheduler.max_batched_tokens": 8192},
    "vllm": {"engine": "vllm", "scheduler.policy": "continuous", "scheduler.max_batched_tokens": 8192},
}
# AMD's v4.1 Server harness batches requests before vLLM sees them. Its Server script
# (closed/AMD/code/llama2-70b-99.9/test_VllmFp8/test_VllmFp8_SyncServer_audit.sh in mlcommons/inference_results_v4.1)
# runs mainVllmFp8_SyncServer.py with --enable-batcher and no other tuning flag, so the harness's defaults
# apply: a batch leaves for vLLM when it holds --gpu-batch-size 96 requests or --batcher-threshold 0.3 s after
# its first; vLLM runs with --max-num-seqs 1024, --max-num-batched-tokens 49152 and --gpu-memory-utilization 0.97
# (argument defaults of that file as published; the performance script itself is not in the results repository,
# so the audit run's settings are assumed for it). A whole batch goes to one of the data-parallel vLLM engines
# (assumed: round robin), which then admits up to 96 prompts at once; that burst, and the wait in the batcher,
# are what make AMD's TTFT several TPOTs long.
AMD_SERVER_HARNESS = {"dispatch": {"max_requests": 96, "timeout_s": 0.3}, "scheduler.max_batched_tokens": 49152,
                      "deployment.memory_utilization": 0.97}
FP8 = {"weight_dtype": "fp8", "activation_dtype": "fp8", "kv_cache_dtype": "fp8"}
FP4 = {"weight_dtype": "fp4", "activation_dtype": "fp4", "kv_cache_dtype": "fp8"}

for name, model, workload in (("mlperf-llama-2-70b.json", "llama-2-70b", LLAMA_WORKLOAD),
                              ("mlperf-mixtral-8x7b.json", "mixtral-8x7b", MIXTRAL_WORKLOAD)):
    write_scenario(name, {
        "name": name[:-5],
        "description": f"MLPerf Inference {model} (base of configs/validation/mlperf.json; each row sets hardware, "
                       "parallelism, batch limits and the arrival process)",
        "model": model, "hardware": "h100-sxm",
        "deployment": dict(tensor_parallel=1, replicas=1, **FP8),
        "scheduler": {"policy": "chunked_prefill", "max_batch_size": 896, "max_batched_tokens": 8192},
        "workload": dict(requests=24576, seed=1, arrival={"process": "offline"}, **workload),
        "slo": {"ttft_p99_s": 2.0, "tpot_p99_s": 0.2},
    })

# system -> (hardware, tensor_parallel, replicas, offline batch, server batch, dtypes, assumptions)
MLPERF_SYSTEMS = {
    ("NVIDIA DGX-H100_H100-SXM-80GBx8_TRT (MLPerf Inference v4.1, closed)", "llama2-70b-99"):
        ("h100-sxm", 2, 4, 896, 1024, FP8, "NVIDIA v4.1 config H100_SXM_80GB_TP2x4: TP2 x 4, gpu_batch_size 896 (Offline) / 1024 (Server), FP8"),
    ("NVIDIA H200-SXM-141GBx8_TRT (MLPerf Inference v4.1, closed)", "llama2-70b-99"):
        ("h200-sxm", 1, 8, 806, 896, FP8, "NVIDIA v4.1 config H200_SXM_141GBx8: TP1 x 8, gpu_batch_size 806 / 896, FP8"),
    ("NVIDIA GH200-GraceHopper-Superchip_GH200-144GB_aarch64x1_TRT (MLPerf Inference v4.1, closed)", "llama2-70b-99"):
        ("gh200-144gb", 1, 1, 806, 806, FP8, "NVIDIA v4.1: TP1, gpu_batch_size 806, FP8"),
    ("NVIDIA B200-SXM-180GBx1_TRT (MLPerf Inference v4.1, closed)", "llama2-70b-99"):
        ("b200", 1, 1, 2048, 2048, FP4, "precision not in the submission; assumed FP4 weights and activations with FP8 KV "
         "(NVIDIA's announcement of this preview result states FP4); batch limit not published for v4.1: 2048 as in "
         "NVIDIA's 2025 config for this system (B200_SXM_180GBx1, llama2-70b Offline and Server), and the v4.1 Server "
         "log itself rules out 1024 (Little's law: 10,756 output tokens/s x 131.5 ms mean TPOT = 1,414 sequences "
         "decoding on average)"),
    ("AMD 8xMI300X_2xEPYC-9374F (MLPerf Inference v4.1, closed)", "llama2-70b-99"):
        ("mi300x", 1, 8, 1024, 1024, FP8, "AMD v4.1: vLLM, TP1 x 8 (DP8), FP8 (Quark) + FP8 KV; 1024 sequences per "
         "engine (the Server harness's max_num_seqs, assumed for Offline)"),
    ("AMD 1xMI300X_2xEPYC-9374F (MLPerf Inference v4.1, closed)", "llama2-70b-99"):
        ("mi300x", 1, 1, 1024, 1024, FP8, "AMD v4.1: vLLM, TP1, FP8 (Quark) + FP8 KV; 1024 sequences (the Server harness's "
         "max_num_seqs, assumed for Offline)"),
    ("JuniperNetworks DGX-H100_H100-SXM-80GBx32_TRT (MLPerf Inference v4.1, closed)", "llama2-70b-99"):
        ("h100-sxm", 2, 16, 896, 1024, FP8, "4 nodes x 8 H100 (systems/DGX-H100_H100-SXM-80GBx32_TRT.json: "
         "number_of_nodes 4, NVIDIA's v4.0 software stack TensorRT 9.3.0 / CUDA 12.2 / driver 535.129.03, AMD EPYC 7763 "
         "hosts, PCIe Gen4); layout from Juniper's v4.1 submission (mlcommons/inference_results_v4.1 closed/JuniperNetworks): "
         "16 TP2 instances, llama_configs/config_h100x32.sh GPU_RANK_MAP pairs 0,1 / 2,3 / 4,5 / 6,7 on each of the 4 "
         "nodes (no instance spans nodes), configs/llama2-70b/{Offline,Server}/__init__.py (NVIDIA's classes): "
         "tensor_parallelism 2, use_fp8, gpu_batch_size 896 (Offline) / 1024 (Server), kvcache_free_gpu_mem_frac 0.9, "
         "no min_duration; the Server user.conf's target_qps 284.8 = NVIDIA's 17.8 per TP2 instance x 16"),
    ("NVIDIA DGX-H100_H100-SXM-80GBx8_TRT (MLPerf Inference v4.0, closed)", "llama2-70b-99.9"):
        ("h100-sxm", 2, 4, 896, 1024, FP8, "NVIDIA v4.0 config H100_SXM_80GB_TP2x4 (mlcommons/inference_results_v4.0 "
         "closed/NVIDIA/configs/llama2-70b/{Offline,Server}/__init__.py): TP2 x 4, gpu_batch_size 896 (Offline) / 1024 "
         "(Server), FP8, as in v4.1"),
    ("NVIDIA H200-SXM-141GBx8_TRT (MLPerf Inference v4.0, closed)", "llama2-70b-99.9"):
        ("h200-sxm", 1, 8, 806, 896, FP8, "NVIDIA v4.0 config H200_SXM_141GBx8 (of H200_SXM_141GBx1; mlcommons/inference_results_v4.0@"
         "8121a811542bfc693e201dc55d63f580a17124e0 closed/NVIDIA/configs/llama2-70b/{Offline,Server}/__init__.py): TP1 x 8 "
         "(tensor_parallelism 1), gpu_batch_size 806 (Offline) / 896 (Server), use_fp8, kvcache_free_gpu_mem_frac 0.90 (the "
         "scenarios' base classes); offline_expected_qps 12 x 8 and server_target_qps 91.5 = the logs' target_qps"),
    ("NVIDIA DGX-H100_H100-SXM-80GBx2_TRT (MLPerf Inference v4.0, closed)", "llama2-70b-99.9"):
        ("h100-sxm", 2, 1, 896, 1024, FP8, "NVIDIA v4.0 config H100_SXM_80GB_TP2x1 (mlcommons/inference_results_v4.0@"
         "8121a811542bfc693e201dc55d63f580a17124e0 closed/NVIDIA/configs/llama2-70b/{Offline,Server}/__init__.py): TP2 x 1, "
         "gpu_batch_size 896 (Offline) / 1024 (Server), use_fp8, kvcache_free_gpu_mem_frac 0.90; offline_expected_qps 19 and "
         "server_target_qps 18.4 = the logs' target_qps"),
    ("NVIDIA DGX-H100_H100-SXM-80GBx8_TRT (MLPerf Inference v4.1, closed)", "mixtral-8x7b"):
        ("h100-sxm", 1, 8, 896, 896, FP8, "NVIDIA v4.1: TP1 x 8, gpu_batch_size 896, max_num_tokens 16384, FP8"),
    ("NVIDIA H200-SXM-141GBx8_TRT (MLPerf Inference v4.1, closed)", "mixtral-8x7b"):
        ("h200-sxm", 1, 8, 3072, 1200, FP8, "NVIDIA v4.1: TP1 x 8, gpu_batch_size 3072 (Offline) / 1200 (Server), "
         "max_num_tokens 16384, FP8"),
    ("NVIDIA GH200-GraceHopper-Superchip_GH200-144GB_aarch64x1_TRT (MLPerf Inference v4.1, closed)", "mixtral-8x7b"):
        ("gh200-144gb", 1, 1, 3072, 3072, FP8, "NVIDIA v4.1: TP1, gpu_batch_size 3072, FP8"),
}


# NVIDIA's v4.1 Server configs (mlcommons/inference_results_v4.1 closed/NVIDIA/configs/llama2-70b/Server/__init__.py,
# ServerGPUBaseConfig: min_duration = 2400000 ms) run Llama-2-70B Server for at least 2,400 s, on GH200, H100 and
# H200 alike (v4.0's H100 configs set none: LoadGen's 600 s; v4.0's H200 x8 Server log shows min_duration 2400000 ms).
# Near the edge queues build slowly, so the rate a run sustains depends on its length. Other systems' configs are
# not in the data: 600 s.
SERVER_MIN_DURATION_S = {
    ("NVIDIA DGX-H100_H100-SXM-80GBx8_TRT (MLPerf Inference v4.1, closed)", "llama2-70b-99"): 2400,
    ("NVIDIA H200-SXM-141GBx8_TRT (MLPerf Inference v4.1, closed)", "llama2-70b-99"): 2400,
    ("NVIDIA GH200-GraceHopper-Superchip_GH200-144GB_aarch64x1_TRT (MLPerf Inference v4.1, closed)", "llama2-70b-99"): 2400,
    ("NVIDIA H200-SXM-141GBx8_TRT (MLPerf Inference v4.0, closed)", "llama2-70b-99.9"): 2400,
}
# NVIDIA's v4.1 Mixtral-8x7B base config (closed/NVIDIA/configs/mixtral-8x7b/__init__.py) sets max_num_tokens
# 16384 tokens per iteration, not Llama's 8192.
MAX_NUM_TOKENS = {key: 16384 for key in (
    ("NVIDIA DGX-H100_H100-SXM-80GBx8_TRT (MLPerf Inference v4.1, closed)", "mixtral-8x7b"),
    ("NVIDIA H200-SXM-141GBx8_TRT (MLPerf Inference v4.1, closed)", "mixtral-8x7b"),
    ("NVIDIA GH200-GraceHopper-Superchip_GH200-144GB_aarch64x1_TRT (MLPerf Inference v4.1, closed)", "mixtral-8x7b"))}


OFFLINE_SAMPLES_FALLBACK = {
    ("NVIDIA DGX-H100_H100-SXM-80GBx8_TRT (MLPerf Inference v4.0, closed)", "llama2-70b-99.9"): 200640,
}


def v4_0_stack(system):
    """NVIDIA's MLPerf v4.0 software (TensorRT 9.3.0, TensorRT-LLM 2024-02): NVIDIA's v4.0 systems, and Juniper's v4.1
    submission, whose system description lists that stack (TensorRT 9.3.0 / CUDA 12.2)."""
    return "v4.0" in system or system.startswith("JuniperNetworks ")


def system_slug(system):
    """The submitted machine, the same across rounds and models (what `accuracy --holdout system` leaves out)."""
    s = system.split(" (")[0]
    for a, b in (("NVIDIA ", ""), ("AMD ", ""), ("JuniperNetworks ", "juniper-"), ("_TRT", ""), ("_", "-")):
        s = s.replace(a, b)
    return s.lower()


def slug(system, model, scenario):
    version = "v4.0" if "v4.0" in system else "v4.1"
    return f"mlperf-{version}-{model}-{system_slug(system)}-{scenario}".lower()


def check_littles_law(what, output_tokens_per_s, tpot_mean_ms, replicas, batch_limit):
    """Little's law: sequences decoding at once = output tokens/s x mean time per output token. A batch limit
    below that mean contradicts the measurement itself (the engine could not have held that many)."""
    decoding = output_tokens_per_s * tpot_mean_ms / 1000 / replicas
    if decoding > batch_limit:
        sys.exit(f"{what} Server: the log implies {decoding:.0f} sequences decoding per engine on average "
                 f"(Little's law), above the assumed batch limit {batch_limit}")


# Runs per rate tried, each with its own arrival seed; the median one (by SLO margin) decides and is read: three,
# the fewest with a median.
RUNS_PER_RATE = 3


def server_rate_search(sets, qps, duration_s):
    """LoadGen's Server protocol: Poisson arrivals for the run's length at the highest rate that meets the p99
    bounds; infersim searches its own rate between a quarter and four times the submitter's, each rate judged by
    the median of RUNS_PER_RATE runs with different arrival seeds."""
    sets["workload.arrival"] = {"process": "poisson", "rate_per_s": qps}
    sets["slo.find_max_rate"] = {"min_rate_per_s": qps / 4, "max_rate_per_s": qps * 4,
                                 "relative_tolerance": 0.01, "duration_s": duration_s,
                                 "runs_per_rate": RUNS_PER_RATE}


def mlperf_rows(group, scenario, measured, latencies_ms, common):
    """One throughput row (Offline: tokens over the time to the last completion, as LoadGen; Server: the sustained
    output rate at the SLO edge, rate x mean output tokens, which a run's drain does not lower) and the Server
    latency percentiles (latencies_ms: {"ttft_p50": ms, ...})."""
    metric = "metrics.throughput.output_tokens_per_s" if scenario == "offline" else "metrics.slo.max_output_tokens_per_s"
    rows = [dict(id=group + "/output-tokens-per-s", category="throughput", measured=measured,
                 unit="output tokens/s", metric=metric, **common)]
    for q in ("p50", "p99"):
        for what, metric in (("ttft", "ttft_s"), ("tpot", "tpot_s")):
            v = latencies_ms.get(f"{what}_{q}")
            if v:
                rows.append(dict(id=f"{group}/{what}-{q}", category=f"{what}_{q}", measured=v, unit="ms",
                                 metric=f"metrics.{metric}.{q}", scale=1000, **common))
    return rows




# ---------------------------------------------------------------------------------------------------------
# MLPerf Inference v5.0 (closed, April 2025): newer software on the same chips (TensorRT-LLM 2025 on H100, H200,
# GH200 and B200; AMD's vLLM harness on MI325X) and the new Llama-2-70B interactive benchmark. The published figures
# are in configs/validation/published/mlperf-v5.0.json (each with its log's repository, commit and path); the
# mapping is the same as the v4.x rows above (dataset lengths, engines, LoadGen's Server protocol), with the
# submitters' v5.0 settings below. None of these rows was used to fit anything: `calibrate` and tools/fit_engine.py
# leave the file out (docs/accuracy.md).
#
# Settings: NVIDIA's v5.0 configs are not in the index this was read from under closed/NVIDIA, but its partners'
# submissions in the same repository carry NVIDIA's config classes unchanged (NVIDIA copyright, the same class
# names); each row names the file it takes its settings from, and the run's own log confirms the match: the log's
# target_qps is the class's offline_expected_qps or server_target_qps (e.g. H200 Offline 115.2 = 14.4 x 8).
# TensorRT-LLM's max_num_tokens bounds the tokens of one iteration, decode tokens included (chunked_prefill's token
# budget); gpu_batch_size is the engine's max batch. kvcache_free_gpu_mem_frac f gives the KV cache f of the memory
# left after the weights: memory_utilization 0.95 for f = 0.9 (as the v4.x rows), 0.97 for f = 0.95.
# ---------------------------------------------------------------------------------------------------------
V5_REPO = "ntuhpc/mlperf_inference_results_v5.0"
V5_COMMIT = "cf354115915ea369f05db424b051da8c5bf957dc"
V5_CONFIGS = {
    ("llama2-70b", "offline"): "closed/Cisco/configs/llama2-70b/Offline/__init__.py",
    ("llama2-70b", "server"): "closed/Broadcom_Supermicro/configs/llama2-70b/Server/__init__.py",
    ("llama2-70b-interactive", "server"): "closed/Broadcom_Supermicro/configs/llama2-70b-interactive/Server/__init__.py "
                                          "(base: closed/Broadcom_Supermicro/configs/llama2-70b-interactive/__init__.py)",
    ("mixtral-8x7b", "offline"): "closed/Cisco/configs/mixtral-8x7b/Offline/__init__.py",
    ("mixtral-8x7b", "server"): "closed/Broadcom_Supermicro/configs/mixtral-8x7b/Server/__init__.py",
    ("amd", "offline"): "closed/Cisco/code/llama2-70b-99.9/harness_llm/models/llama2-70b/offline_mi325x.yaml",
    ("amd", "server"): "closed/Cisco/code/llama2-70b-99.9/harness_llm/models/llama2-70b/server_mi300x.yaml",
}
KV_FRACTION_UTILIZATION = {0.9: 0.95, 0.95: 0.97}
# AMD's 2025 harness runs vLLM with multi-step scheduling: llm_config num_scheduler_steps 11 in
# offline_mi325x.yaml and 9 in server_mi300x.yaml (V5_CONFIGS; the Server row assumes the MI300X file, as its
# other settings). vLLM (0.6.0 on, PR vllm-project/vllm#7000) then schedules, prepares inputs and processes
# outputs once per window of that many decode steps, runs the window's steps back to back, and admits new
# prompts only between windows (scheduler.scheduler_steps, docs/serving.md). AMD's v4.1 scripts pass no such
# flag (that round predates vLLM 0.6.0), so the v4.1 rows keep one scheduler pass per step.
AMD_V5_SCHEDULER_STEPS = {"offline": 11, "server": 9}
# (system, benchmark, scenario) -> (hardware, tensor_parallel, pipeline_parallel, replicas, batch limit, tokens per
# iteration, kvcache_free_gpu_mem_frac or vLLM gpu_memory_utilization, dtypes, engine, config class and notes)
HOPPER_FP8 = ("FP8 weights and activations, FP8 KV cache (config precision fp8, kv_cache_dtype fp8)", FP8)
BLACKWELL_FP4 = ("FP4 weights and activations, FP8 KV cache (config precision fp4, gemm_plugin fp4, kv_cache_dtype fp8)", FP4)
MLPERF_V5_SYSTEMS = {
    ("H200-SXM-141GBx8_TRT", "llama2-70b", "offline"): ("h200-sxm", 1, 1, 8, 2048, 1536, 0.9, HOPPER_FP8, "tensorrt-llm",
        "class H200_SXM_141GBx8 (of H200_SXM_141GBx1): TP1 x 8, gpu_batch_size 2048, max_num_tokens 1536; offline_expected_qps 14.4 x 8 = the log's 115.2"),
    ("H200-SXM-141GBx8_TRT", "llama2-70b", "server"): ("h200-sxm", 1, 1, 8, 2048, 1536, 0.9, HOPPER_FP8, "tensorrt-llm",
        "class H200_SXM_141GBx8: TP1 x 8, gpu_batch_size 2048, max_num_tokens 1536; server_target_qps 14.28 x 8 = the log's 114.24"),
    ("B200-SXM-180GBx8_TRT", "llama2-70b", "offline"): ("b200", 1, 1, 8, 2048, 3584, 0.95, BLACKWELL_FP4, "tensorrt-llm",
        "class B200_SXM_180GBx8 (of B200_SXM_180GBx1): TP1 x 8, gpu_batch_size 2048, max_num_tokens 3584, kvcache_free_gpu_mem_frac 0.95; offline_expected_qps 47 x 8 = the log's 376"),
    ("B200-SXM-180GBx8_TRT", "llama2-70b", "server"): ("b200", 1, 1, 8, 2048, 3584, 0.95, BLACKWELL_FP4, "tensorrt-llm",
        "class B200_SXM_180GBx8: TP1 x 8, gpu_batch_size 2048, max_num_tokens 3584, kvcache_free_gpu_mem_frac 0.95; server_target_qps 45.5 x 8 = the log's 364"),
    ("B200-SXM-180GBx1_TRT", "llama2-70b", "offline"): ("b200", 1, 1, 1, 2048, 3584, 0.95, BLACKWELL_FP4, "tensorrt-llm",
        "class B200_SXM_180GBx1: TP1, gpu_batch_size 2048, max_num_tokens 3584, kvcache_free_gpu_mem_frac 0.95; offline_expected_qps 47 = the log's"),
    ("B200-SXM-180GBx1_TRT", "llama2-70b", "server"): ("b200", 1, 1, 1, 2048, 3584, 0.95, BLACKWELL_FP4, "tensorrt-llm",
        "class B200_SXM_180GBx1: TP1, gpu_batch_size 2048, max_num_tokens 3584, kvcache_free_gpu_mem_frac 0.95; its server_target_qps 45.5, "
        "the log ran 44.5"),
    ("GH200-GraceHopper-Superchip_GH200-144GB_aarch64x1_TRT", "llama2-70b", "offline"): ("gh200-144gb", 1, 1, 1, 2048, 1536, 0.9, HOPPER_FP8, "tensorrt-llm",
        "class GH200_144GB_aarch64x1: TP1, gpu_batch_size 2048, max_num_tokens 1536; offline_expected_qps 16 = the log's"),
    ("GH200-GraceHopper-Superchip_GH200-144GB_aarch64x1_TRT", "llama2-70b", "server"): ("gh200-144gb", 1, 1, 1, 2048, 1536, 0.9, HOPPER_FP8, "tensorrt-llm",
        "class GH200_144GB_aarch64x1: TP1, gpu_batch_size 2048, max_num_tokens 1536; server_target_qps 15 = the log's"),
    ("DGX-H100_H100-SXM-80GBx8_TRT", "llama2-70b", "offline"): ("h100-sxm", 1, 2, 4, 1024, 1024, 0.95, HOPPER_FP8, "tensorrt-llm",
        "class H100_SXM_80GB_PP2x4: pipeline parallel 2 x 4 instances (v4.x: TP2 x 4), gpu_batch_size 1024, max_num_tokens 1024, kvcache_free_gpu_mem_frac 0.95; "
        "offline_expected_qps 27.5 x 4 = the log's 110"),
    ("DGX-H100_H100-SXM-80GBx8_TRT", "llama2-70b", "server"): ("h100-sxm", 1, 2, 4, 1024, 1024, 0.95, HOPPER_FP8, "tensorrt-llm",
        "class H100_SXM_80GB_PP2x4: pipeline parallel 2 x 4 instances, gpu_batch_size 1024, max_num_tokens 1024, kvcache_free_gpu_mem_frac 0.95, min_duration 3,600 s "
        "(the log's min_duration; its server_target_qps 103, the log ran 107)"),
    ("8xMI325X_2xEPYC_9575F", "llama2-70b", "offline"): ("mi325x", 1, 1, 8, 2048, 65000, 0.98, ("FP8 weights and activations (quantization fp8, Quark), FP8 KV cache assumed as AMD's v4.1", FP8), "vllm",
        "AMD's vLLM harness for MI325X Offline as published in Cisco's v5.0 submission (AMD's own configs are not in the index): tensor_parallel_size 1, "
        "data_parallel_size 8, max_num_seqs 2700 with the harness's MLPerf scheduler holding the decode batch at 2048 "
        "(VLLM_LLAMA2_MLPERF_MIN/MAX_TARGET_DECODE_BATCH), max_num_batched_tokens 65000, gpu_memory_utilization 0.98, chunked prefill off, "
        "num_scheduler_steps 11 (multi-step scheduling: one scheduler pass per window of 11 decode steps, scheduler.scheduler_steps)"),
    ("8xMI325X_2xEPYC_9575F", "llama2-70b", "server"): ("mi325x", 1, 1, 8, 650, 40960, 0.98, ("FP8 weights and activations (Quark), FP8 KV cache assumed as AMD's v4.1", FP8), "vllm",
        "no v5.0 MI325X Server harness config is in the index: the MI300X Server one of the same harness (Cisco's v5.0 submission) is assumed: "
        "tensor_parallel_size 1, data_parallel_size 8, max_num_seqs 650, max_num_batched_tokens 40960, harness batcher off (enable_batcher False: "
        "requests go to the engine with the shortest queue), num_scheduler_steps 9; gpu_memory_utilization 0.98 as MI325X Offline (MI300X Server sets 1.0). "
        "The log agrees with 650: by Little's law 614 sequences decode per engine on average"),
    ("H200-SXM-141GBx8_TRT", "llama2-70b-interactive", "server"): ("h200-sxm", 1, 1, 8, 512, 256, 0.9, HOPPER_FP8, "tensorrt-llm",
        "class H200_SXM_141GBx8 (interactive): TP1 x 8, gpu_batch_size 512, max_num_tokens 256, kvcache_free_gpu_mem_frac 0.9; server_target_qps 8.4 x 8 = the log's 67.2"),
    ("B200-SXM-180GBx8_TRT", "llama2-70b-interactive", "server"): ("b200", 1, 1, 8, 768, 768, 0.95, BLACKWELL_FP4, "tensorrt-llm",
        "class B200_SXM_180GBx8 (interactive): TP1 x 8, gpu_batch_size 768, max_num_tokens 768, kvcache_free_gpu_mem_frac 0.95 (base class); server_target_qps 220 = the log's"),
    ("H200-SXM-141GBx8_TRT", "mixtral-8x7b", "offline"): ("h200-sxm", 1, 1, 8, 3072, 9216, 0.9, HOPPER_FP8, "tensorrt-llm",
        "class H200_SXM_141GBx8: TP1 x 8, gpu_batch_size 3072, max_num_tokens 9216 (runtime), kvcache_free_gpu_mem_frac 0.9, FP8 with some layers kept at higher "
        "precision (effective_bits 8.75); offline_expected_qps 56 x 8 x 0.97 = the log's 434.56"),
    ("H200-SXM-141GBx8_TRT", "mixtral-8x7b", "server"): ("h200-sxm", 1, 1, 8, 3072, 8192, 0.9, HOPPER_FP8, "tensorrt-llm",
        "class H200_SXM_141GBx8: TP1 x 8, gpu_batch_size 3072, max_num_tokens 8192, kvcache_free_gpu_mem_frac 0.9, effective_bits 8.75; server_target_qps 53.5 x 8 = the log's 428"),
    ("B200-SXM-180GBx8_TRT", "mixtral-8x7b", "offline"): ("b200", 1, 1, 8, 6144, 14336, 0.95, BLACKWELL_FP4, "tensorrt-llm",
        "class B200_SXM_180GBx8: TP1 x 8, gpu_batch_size 6144, max_num_tokens 14336 (runtime), kvcache_free_gpu_mem_frac 0.95, FP4 with some layers at higher "
        "precision (effective_bits 7.25); offline_expected_qps 110 x 8 = the log's 880"),
    ("B200-SXM-180GBx8_TRT", "mixtral-8x7b", "server"): ("b200", 1, 1, 8, 6144, 10240, 0.9, BLACKWELL_FP4, "tensorrt-llm",
        "class B200_SXM_180GBx8: TP1 x 8, gpu_batch_size 6144, max_num_tokens 10240, kvcache_free_gpu_mem_frac 0.9, effective_bits 7.25; server_target_qps 109 x 8 = the log's 872"),
    ("GH200-GraceHopper-Superchip_GH200-144GB_aarch64x1_TRT", "mixtral-8x7b", "offline"): ("gh200-144gb", 1, 1, 1, 4096, 9216, 0.9, HOPPER_FP8, "tensorrt-llm",
        "class GH200_144GB_aarch64x1: TP1, gpu_batch_size 4096, max_num_tokens 9216 (runtime), kvcache_free_gpu_mem_frac 0.9; offline_expected_qps 57 = the log's"),
    ("GH200-GraceHopper-Superchip_GH200-144GB_aarch64x1_TRT", "mixtral-8x7b", "server"): ("gh200-144gb", 1, 1, 1, 4096, 9216, 0.9, HOPPER_FP8, "tensorrt-llm",
        "class GH200_144GB_aarch64x1: TP1, gpu_batch_size 4096, max_num_tokens 9216 (runtime), kvcache_free_gpu_mem_frac 0.9; server_target_qps 53, the log ran 55"),
}

V5 = json.load(open(os.path.join(OUT, "published", "mlperf-v5.0.json")))


def input_mean_bounds(prefix):
    """Upper bounds on a dataset's mean input from the v5.0 TensorRT-LLM Server logs (see the dataset notes above):
    per engine (decode tokens/s + prompts/s x mean input) x mean TPOT <= max_num_tokens x pipeline stages."""
    bounds = []
    for r in V5["results"]:
        family = r["benchmark"].split("-99")[0]
        if r["scenario"] != "Server" or not family.startswith(prefix):
            continue
        hw, tp, pp, replicas, batch, tokens, memory, precision, engine, how = MLPERF_V5_SYSTEMS[(r["system"], family, "server")]
        if engine != "tensorrt-llm":
            continue
        tpot_s = r["tpot_mean_ms"] / 1000
        decode = (r["output_tokens_per_s"] - r["samples_per_s"]) / replicas
        bound = (tokens * pp / tpot_s - decode) / (r["samples_per_s"] / replicas)
        bounds.append((bound, f"{bound:.0f} ({r['system']} {family}: {tokens:,} tokens per iteration x {pp}, "
                              f"{r['output_tokens_per_s']:g} tokens/s, {r['samples_per_s']:g} samples/s, mean TPOT "
                              f"{r['tpot_mean_ms']:.1f} ms over {replicas} engines)"))
    return sorted(bounds)


def checked_bound_text(what, prefix, distribution):
    bounds = input_mean_bounds(prefix)
    mean = clamped_lognormal_mean(distribution["median"], distribution["sigma"], distribution["min"], distribution["max"])
    if mean > bounds[0][0]:
        sys.exit(f"{what}: assumed mean input {mean:.0f} tokens is above the bound {bounds[0][1]}")
    return "; ".join(text for _, text in bounds[:2])


LLAMA_BOUND_TEXT = checked_bound_text("Llama-2-70B", "llama2-70b", LLAMA_WORKLOAD["input_tokens"])
MIXTRAL_BOUND_TEXT = checked_bound_text("Mixtral-8x7B", "mixtral-8x7b", MIXTRAL_WORKLOAD["input_tokens"])

# The v4.x rows are written here, after the v5.0 settings above: their input-length bound comes from the v5.0 logs.
# v4.0's H100 logs in the data carry no samples/s: the v4.1 run of the same system and benchmark stands in.
OUTPUT_MEAN_FALLBACK = {
    ("NVIDIA DGX-H100_H100-SXM-80GBx8_TRT (MLPerf Inference v4.0, closed)", "llama2-70b-99.9"):
        ("NVIDIA DGX-H100_H100-SXM-80GBx8_TRT (MLPerf Inference v4.1, closed)", "llama2-70b-99"),
}


def log_samples_per_s(r):
    found = re.search(r"samples/s=([\d.]*\d)", r.get("notes", ""))
    return float(found.group(1)) if found else None


def v4_output_mean(r, key, family):
    """The mean generated length of the row's own run: output tokens/s over samples/s, both from its log."""
    samples = log_samples_per_s(r)
    if samples:
        return r["value"] / samples, f"{r['value']:g} output tokens/s / {samples:g} samples/s in the log"
    system, model = OUTPUT_MEAN_FALLBACK[key]
    same = [c for c in cal_rows("mlperf") if c["system"] == system and c["model"] == model and "Offline" in c["metric"]][0]
    return (same["value"] / log_samples_per_s(same),
            f"not in this log: the v4.1 Offline run of the same system, {same['value']:g} / {log_samples_per_s(same):g}")


def dataset_assumption(family, output_mean, how):
    out = mlperf_output(family, output_mean)
    if family == "llama-2-70b":
        inp = LLAMA_WORKLOAD["input_tokens"]
        return (f"Dataset: {LLAMA_DATASET_SRC}. Output lengths lognormal (median {out['median']:g}, sigma "
                f"{out['sigma']:g}, at most 1024) with this run's mean, {output_mean:.1f} tokens ({how}). Input lengths "
                f"not published: lognormal (median {inp['median']:g}, sigma {inp['sigma']:g}, in [8, 1023]), mean "
                f"{LLAMA_INPUT_MEAN} tokens, the largest round figure within the upper bounds the v5.0 Server logs set "
                f"(mean input <= {LLAMA_BOUND_TEXT}; tools/make_validation.py, input_mean_bounds).")
    inp = MIXTRAL_WORKLOAD["input_tokens"]
    return (f"Dataset: {MIXTRAL_DATASET_SRC}. Output lengths lognormal (median {out['median']:g}, sigma {out['sigma']:g}, "
            f"at most 1024) with this run's mean, {output_mean:.1f} tokens ({how}). Input lengths not published: "
            f"assumed lognormal (median {inp['median']:g}, sigma {inp['sigma']:g}, in [8, 2048]; mean ~"
            f"{clamped_lognormal_mean(inp['median'], inp['sigma'], inp['min'], inp['max']):.0f}), within the upper bounds "
            f"the v5.0 Server logs set (mean input <= {MIXTRAL_BOUND_TEXT}; tools/make_validation.py, input_mean_bounds).")


mlperf, skipped = [], []
for r in cal_rows("mlperf"):
    key = (r["system"], r["model"])
    scenario = "offline" if "Offline" in r["metric"] else "server"
    if r["model"].startswith("gptj"):
        skipped.append(f"{r['system']} gptj {scenario}: GPT-J runs beam search (4 beams), not modelled")
        continue
    hw, tp, replicas, b_off, b_srv, dtypes, how = MLPERF_SYSTEMS[key]
    if scenario == "server" and r.get("tpot_mean_ms"):
        check_littles_law(f"{r['system']} {r['model']}", r["value"], r["tpot_mean_ms"], replicas, b_srv)
    base = "scenarios/mlperf-llama-2-70b.json" if r["model"].startswith("llama2") else "scenarios/mlperf-mixtral-8x7b.json"
    sets = {"hardware": hw, "deployment.tensor_parallel": tp, "deployment.replicas": replicas}
    sets.update({f"deployment.{k}": v for k, v in dtypes.items()})
    engine = "vllm" if hw == "mi300x" else "tensorrt-llm-2024-02" if v4_0_stack(r["system"]) else "tensorrt-llm"
    sets.update(ENGINES[engine])
    tokens = MAX_NUM_TOKENS.get(key, 8192)
    if engine.startswith("tensorrt-llm"):
        sets["scheduler.max_batched_tokens"] = tokens
    duration = SERVER_MIN_DURATION_S.get(key, 600)
    sets["scheduler.max_batch_size"] = b_off if scenario == "offline" else b_srv
    sets["deployment.memory_utilization"] = 0.9 if hw == "mi300x" else 0.95
    host_ms = f"host time per iteration from configs/engines/{engine}.json (fitted per engine)"
    if engine.startswith("tensorrt-llm"):
        # NVIDIA's harness streams every token back in Server (LoadGen times each query's first token) and only
        # the final result in Offline: main_llm.cc sets mIsStreaming = generation_config streaming && scenario !=
        # Offline. A streamed request costs the engine a response per iteration (docs/serving.md).
        sets["workload.streaming"] = scenario == "server"
    assumptions = how + (f". Engine TensorRT-LLM: in-flight batching without chunked context (inflight: whole prompts "
                         f"after the running generations, {tokens} tokens per iteration), "
                         + host_ms + (", responses streamed token by token (Server" if scenario == "server" else
                                      ", whole results only (Offline")
                         + ": NVIDIA's harness streams in every scenario but Offline, mlcommons/inference_results_v4.0 "
                         "closed/NVIDIA/code/harness/harness_llm/main_llm.cc)"
                         + (". NVIDIA's v4.0 software stack (TensorRT 9.3.0, TensorRT-LLM of 2024-02): its engine "
                            "release, whose first token is reported one iteration late (first_token_lag_steps, fitted "
                            "to the release's rows)" if engine == "tensorrt-llm-2024-02" else "")
                         if engine.startswith("tensorrt-llm") else
                         ". Engine vLLM: prefill-priority scheduler (continuous" +
                         ("" if scenario == "server" else ", 8192 tokens per iteration assumed") +
                         "), " + host_ms)
    if engine == "vllm" and scenario == "server":
        sets.update(AMD_SERVER_HARNESS)
        h = AMD_SERVER_HARNESS
        assumptions += (". Server harness (AMD's published script and its defaults): requests batched in front of vLLM, "
                        f"a batch leaving at {h['dispatch']['max_requests']} requests or {h['dispatch']['timeout_s']:g} s "
                        "after its first, whole to one engine (round robin assumed); vLLM max_num_batched_tokens "
                        f"{h['scheduler.max_batched_tokens']}, gpu_memory_utilization "
                        f"{h['deployment.memory_utilization']:g}")
    family = "llama-2-70b" if r["model"].startswith("llama2") else "mixtral-8x7b"
    output_mean, output_how = v4_output_mean(r, key, family)
    sets["workload.output_tokens"] = mlperf_output(family, output_mean)
    assumptions += ". " + dataset_assumption(family, output_mean, output_how) + " "
    if scenario == "server":
        qps = float(r["workload"].split("target_qps")[1].split(";")[0].replace("=", "").strip().split()[0])
        server_rate_search(sets, qps, duration)
        assumptions += (f"Server: as LoadGen's protocol, Poisson arrivals for {duration:,} s ("
                        + ("the submitter's min_duration" if key in SERVER_MIN_DURATION_S else "LoadGen's minimum")
                        + f") at the highest rate whose p99 TTFT "
                        f"<= 2 s and p99 TPOT <= 200 ms (the submitter found target_qps {qps} on the real system; "
                        f"infersim searches its own, between a quarter and four times that, each rate judged and read by the run "
                        f"with the median SLO margin of {RUNS_PER_RATE}, each with its own arrival seed).")
    else:
        # LoadGen issues the run's whole query count at once; the logs state it ("all N samples issued at
        # once"). The drain at the end (the last requests finishing at a small batch) weighs less in a longer
        # run, so the count matters. v4.0's H100 log does not state it: v4.1's count on the same system.
        issued = re.search(r"all (\d+) samples", r["workload"])
        samples = int(issued.group(1)) if issued else OFFLINE_SAMPLES_FALLBACK[key]
        sets["workload.requests"] = samples
        assumptions += (f"Offline: {samples:,} samples at t = 0" + (" (the log's count)." if issued else
                        " (not in the log: the count of the v4.1 run on the same system)."))
    group = slug(r["system"], r["model"].split("-9")[0], scenario)
    common = dict(group=group, hardware=hw, system=system_slug(r["system"]), source=short_source(r), assumptions=assumptions, kind="scenario",
                  scenario=base, set=sets)
    mlperf += mlperf_rows(group, scenario, r["value"], {k[:-3]: v for k, v in r.items() if k.endswith(("p50_ms", "p99_ms"))},
                          common)
write("mlperf.json", "MLPerf Inference v4.0/v4.1 closed results (audited logs): Offline throughput, Server throughput "
      "and TTFT/TPOT percentiles. Not included: " + "; ".join(skipped), mlperf)

mlperf_v5 = []
for r in V5["results"]:
    scenario = r["scenario"].lower()
    family = r["benchmark"].split("-99")[0]
    hw, tp, pp, replicas, batch, tokens, memory, (precision, dtypes), engine, how = \
        MLPERF_V5_SYSTEMS[(r["system"], family, scenario)]
    full_name = f"{r['submitter']} {r['system']} (MLPerf Inference v5.0, closed)"
    if scenario == "server":
        check_littles_law(f"{full_name} {r['benchmark']}", r["output_tokens_per_s"], r["tpot_mean_ms"], replicas, batch * pp)
    config = V5_CONFIGS[("amd", scenario) if r["submitter"] == "AMD" else (family, scenario)]
    base = "scenarios/mlperf-mixtral-8x7b.json" if family == "mixtral-8x7b" else "scenarios/mlperf-llama-2-70b.json"
    sets = {"hardware": hw, "deployment.tensor_parallel": tp}
    if pp > 1:
        sets["deployment.pipeline_parallel"] = pp
    sets["deployment.replicas"] = replicas
    sets.update({f"deployment.{k}": v for k, v in dtypes.items()})
    sets.update(ENGINES["tensorrt-llm-chunked" if engine == "tensorrt-llm" else engine])
    sets["scheduler.max_batched_tokens"] = tokens
    sets["scheduler.max_batch_size"] = batch
    model = "mixtral-8x7b" if family == "mixtral-8x7b" else "llama-2-70b"
    output_mean = r["output_tokens_per_s"] / r["samples_per_s"]
    output_how = f"{r['output_tokens_per_s']:g} output tokens/s / {r['samples_per_s']:g} samples/s in the log"
    sets["workload.output_tokens"] = mlperf_output(model, output_mean)
    if engine == "vllm":
        sets["deployment.memory_utilization"] = memory
        steps = AMD_V5_SCHEDULER_STEPS[scenario]
        sets["scheduler.scheduler_steps"] = steps
        kv = f"gpu_memory_utilization {memory:g}"
        host = ("Engine vLLM (AMD's 2025 build): prefill-priority scheduler (continuous, chunked prefill off), host time per "
                "scheduler pass from configs/engines/vllm.json (fitted to the vLLM 0.4-0.6 of the v4.1 rows), one pass per "
                f"window of {steps} decode steps (num_scheduler_steps {steps}: scheduler.scheduler_steps; prompts join between "
                "windows, a sequence that finishes inside one keeps its slot to its end)")
    else:
        sets["deployment.memory_utilization"] = KV_FRACTION_UTILIZATION[memory]
        kv = (f"kvcache_free_gpu_mem_frac {memory:g}" + ("" if "kvcache_free_gpu_mem_frac" in how else
              " (not set by the class: the v4.x rows' value, assumed)") +
              f" -> memory_utilization {KV_FRACTION_UTILIZATION[memory]:g}")
        host = (f"Engine TensorRT-LLM: in-flight batching (chunked_prefill, {tokens} tokens per iteration), host time per "
                "iteration from configs/engines/tensorrt-llm.json (fitted to the 2024 releases of the v4.x rows)")
    if r["ttft_bound_ms"] != 2000:
        sets["slo.ttft_p99_s"] = r["ttft_bound_ms"] / 1000
        sets["slo.tpot_p99_s"] = r["tpot_bound_ms"] / 1000
    assumptions = (f"{r['accelerator_count']} x {r['accelerator']}; {precision}. Settings from {V5_REPO}@{V5_COMMIT} {config}: "
                   f"{how}. {kv}. {host}. {dataset_assumption(model, output_mean, output_how)} ")
    if scenario == "server":
        server_rate_search(sets, r["target_qps"], r["min_duration_s"])
        assumptions += (f"Server: as LoadGen's protocol, Poisson arrivals for {r['min_duration_s']:,} s (the log's min_duration) "
                        f"at the highest rate whose p99 TTFT <= {r['ttft_bound_ms'] / 1000:g} s and p99 TPOT <= "
                        f"{r['tpot_bound_ms'] / 1000:g} s (the submitter ran target_qps {r['target_qps']:g}; infersim searches "
                        "its own, between a quarter and four times that, each rate judged and read by the run with the "
                        f"median SLO margin of {RUNS_PER_RATE}, each with its own arrival seed).")
    else:
        unit = r["performance_sample_count"]
        issued = -(-r["samples_per_query"] // unit) * unit
        if abs(issued / r["samples_per_s"] / r["max_latency_s"] - 1) > 0.001:
            sys.exit(f"{full_name} {r['benchmark']} Offline: {issued} samples at {r['samples_per_s']}/s do not last the "
                     f"log's {r['max_latency_s']} s")
        sets["workload.requests"] = issued
        assumptions += (f"Offline: {issued:,} samples at t = 0 (samples_per_query {r['samples_per_query']:,} rounded up to whole "
                        f"copies of the {unit:,}-sample performance set, as LoadGen does with sample_concatenate_permutation; "
                        "samples/s x the log's max latency agrees).")
    group = f"mlperf-v5.0-{family}-{system_slug(full_name)}-{scenario}"
    source = (f"mlcommons/inference_results_v5.0 via the mirror {V5_REPO}@{V5_COMMIT}: {r['source']['path']}")
    common = dict(group=group, hardware=hw, system=system_slug(full_name), source=source, assumptions=assumptions,
                  kind="scenario", scenario=base, set=sets)
    latencies = {k[:-3]: v for k, v in r.items() if k.endswith(("p50_ms", "p99_ms"))}
    mlperf_v5 += mlperf_rows(group, scenario, r["output_tokens_per_s"], latencies, common)
write("mlperf-v5.0.json", "MLPerf Inference v5.0 closed results (audited logs, April 2025): Llama-2-70B, Llama-2-70B "
      "interactive and Mixtral-8x7B on H100, H200, GH200, B200 (TensorRT-LLM) and MI325X (vLLM). Held out: no profile, "
      "engine or model figure was fitted to these rows. Sources: configs/validation/published/mlperf-v5.0.json. Not "
      "included: Llama-3.1-405B (the input lengths of its 8,313-sample set are not published in any source found, and "
      "they decide its prefill cost), GPT-J (beam search)", mlperf_v5)

# ---------------------------------------------------------------------------------------------------------
# llama.cpp batch-1 decode (tokens/s of one stream = 1 / TPOT). Q4_0 = 4-bit weights with one fp16 scale per
# 32 (4.5 bits); Q4_K_M averages ~4.8 bits per weight (int4 with a scale per 20 weights gives 4.8 bits);
# activations fp16. Multi-GPU llama.cpp splits layers (pipeline parallel, one token in flight).
# ---------------------------------------------------------------------------------------------------------
write_scenario("llamacpp-batch1.json", {
    "name": "llamacpp-batch1", "description": "One stream decoding 512 tokens after a short prompt (llama-bench tg512; "
    "base of configs/validation/single-user.json)",
    "model": "llama-2-7b", "hardware": "a100-sxm-80gb", "engine": "llama.cpp",
    "deployment": {"weight_dtype": "fp16", "activation_dtype": "fp16", "kv_cache_dtype": "fp16"},
    "scheduler": {"policy": "continuous", "max_batch_size": 1, "max_batched_tokens": 512},
    "workload": {"requests": 3, "seed": 1, "arrival": {"process": "closed_loop", "concurrency": 1},
                 "input_tokens": 16, "output_tokens": 512},
})
MODELS = {"LLaMA-2-7B": "llama-2-7b", "LLaMA-2-70B": "llama-2-70b", "Llama-3-8B": "llama-3-8b", "Llama-3-70B": "llama-3-70b"}
HW = {"A100 80GB": "a100-sxm-80gb", "RTX 4090 24GB": "rtx-4090"}
single, single_skipped = [], []
for r in cal_rows("single_user_decode"):
    hw = HW[r["accelerator"]]
    if r["accelerator_count"] == 2:
        # 45.3 GB of Q4_K_M weights (embeddings and LM head in fp16) do not fit in 2 x (24 GB - 3.5 GB runtime
        # reserve) under infersim's memory accounting; llama.cpp fits them with a ~0.5 GB CUDA context.
        single_skipped.append(f"{r['model']} {r['precision']} on 2 x RTX 4090: does not fit under infersim's "
                              "memory accounting (3.5 GB runtime reserve per card, fp16 embeddings)")
        continue
    model = MODELS[r["model"]]
    prec = r["precision"]
    sets = {"model": model, "hardware": hw}
    if prec == "F16":
        how = "fp16 weights"
    else:
        group = 32 if prec == "Q4_0" else 20
        sets.update({"deployment.weight_dtype": "int4", "deployment.quantization_group_size": group})
        how = f"{prec} as int4 weights with an fp16 scale per {group} weights, fp16 activations"
    if r["accelerator_count"] == 2:
        sets["deployment.pipeline_parallel"] = 2
        how += "; 2 GPUs as llama.cpp's layer split (pipeline parallel 2, activations over PCIe)"
    a100 = "A100 80GB: the SXM profile (the source does not say PCIe or SXM; the PCIe card has 1.94 vs 2.04 TB/s)"
    single.append(dict(id=f"llamacpp/{model}-{prec.lower()}-{hw}-x{r['accelerator_count']}", category="single_user_decode",
                       group="llamacpp", hardware=hw, measured=r["value"], unit="tokens/s", source=short_source(r),
                       assumptions=how + ". Decode of 512 tokens after 16 (llama-bench tg512 starts from an empty cache)"
                       + (". " + a100 if hw == "a100-sxm-80gb" else ""),
                       kind="scenario", scenario="scenarios/llamacpp-batch1.json", set=sets,
                       metric="metrics.tpot_s.p50", transform="reciprocal"))
# RTX Blackwell llama-bench rows (configs/validation/published/llamacpp-blackwell.json): tg128, i.e. 128 tokens decoded
# from an empty cache; flash attention on (-fa 1), which at a context this short changes nothing the model prices.
# The Workstation Edition card runs against the Server Edition profile: same GB202 die, 96 GB of GDDR7 on 512 bits
# at 1.792 TB/s, 600 W.
BLACKWELL = json.load(open(os.path.join(OUT, "published", "llamacpp-blackwell.json")))
QUANT_GROUP = {"Q4_0": 32, "Q4_K_M": 20}
for r in BLACKWELL["results"]:
    src = r["source"]
    group = QUANT_GROUP[r["precision"]]
    how = (f"{r['precision']} as int4 weights with an fp16 scale per {group} weights, fp16 activations and KV cache. "
           f"llama-bench tg128 (128 tokens decoded from an empty cache), -fa 1, llama.cpp build {r['llama_cpp_build']}, "
           f"GGUF {r['model_file']} (printed: {r['model_printed']}). {r['accelerator']} "
           + (f"at its {r['power_limit_w']} W limit" if r["power_limit_w"] else "(power limit not stated)")
           + ", run against the Server Edition profile (same die, memory and bandwidth). " + r["notes"])
    single.append(dict(id=f"llamacpp/{r['model']}-{r['precision'].lower()}-{r['hardware']}-x1",
                       category="single_user_decode", group="llamacpp-blackwell", hardware=r["hardware"],
                       measured=r["tg128_tokens_per_s"], unit="tokens/s",
                       source=f"{src['url']} ({src['repository']}@{src['commit'][:9]}, '{src['path']}', section "
                              f"'{src['section']}': tg128 {r['tg128_tokens_per_s']} +- {r['tg128_stddev']}; "
                              f"{src['date']})",
                       assumptions=how, kind="scenario", scenario="scenarios/llamacpp-batch1.json",
                       set={"model": r["model"], "hardware": r["hardware"], "deployment.weight_dtype": "int4",
                            "deployment.quantization_group_size": group, "workload.output_tokens": 128},
                       metric="metrics.tpot_s.p50", transform="reciprocal"))
write("single-user.json", "llama.cpp batch-1 decode speed (tokens/s per stream) on A100, RTX 4090 and RTX PRO 6000 "
      "Blackwell. Not included: " + "; ".join(single_skipped), single)

# ---------------------------------------------------------------------------------------------------------
# Spec-Bench (Vicuna-7B v1.3, fp16, A100, greedy, batch 1): wall-time speedup over autoregressive decoding.
# The acceptance is an input of infersim: it is set so that the expected tokens per step equal the published
# mean accepted tokens tau (1 + a + a^2 + ... + a^s = tau); the prediction tests the cost of drafting and
# verifying. Hydra and Lookahead are not modelled.
# ---------------------------------------------------------------------------------------------------------
write_scenario("specbench-vicuna-7b.json", {
    "name": "specbench-vicuna-7b", "description": "Spec-Bench on one A100: Vicuna-7B, fp16, one request at a time "
    "(base of configs/validation/speculative.json)",
    "model": "vicuna-7b", "hardware": "a100-sxm-80gb", "engine": "hf-transformers",
    "scheduler": {"policy": "continuous", "max_batch_size": 1},
    "workload": {"requests": 20, "seed": 1, "arrival": {"process": "closed_loop", "concurrency": 1},
                 "input_tokens": {"distribution": "lognormal", "median": 300, "sigma": 0.6, "min": 16, "max": 1500},
                 "output_tokens": {"distribution": "lognormal", "median": 300, "sigma": 0.5, "min": 16, "max": 1024}},
})


def acceptance_for(tau, s):
    lo, hi = 0.0, 0.9999
    for _ in range(100):
        a = 0.5 * (lo + hi)
        if sum(a ** i for i in range(s + 1)) < tau:
            lo = a
        else:
            hi = a
    return round(0.5 * (lo + hi), 4)


SPEC = {"EAGLE": ("eagle", 5, 26, "EAGLE-1 defaults: draft depth 5, a 26-token candidate tree"),
        "Medusa": ("medusa", 4, 64, "Medusa-1 defaults for Vicuna-7B: 4 heads, the 64-token candidate tree mc_sim_7b_63"),
        "SpS": ("draft_model", 4, None, "draft model vicuna-68m (Spec-Bench's SpS), 4 drafted tokens per step (assumed)")}
spec, spec_skipped = [], []
for r in cal_rows("speculative_decoding"):
    method = r["notes"].split(";")[0].split(" (")[0]
    tau = float(r["notes"].split("=")[1].strip().rstrip("."))
    if method not in SPEC:
        spec_skipped.append(f"{method} (tau {tau}): not modelled")
        continue
    kind, s, candidates, how = SPEC[method]
    variant = {"speculative.method": kind, "speculative.num_speculative_tokens": s,
               "speculative.acceptance_rate": acceptance_for(tau, s)}
    if candidates:
        variant["speculative.num_candidate_tokens"] = candidates
    if kind == "draft_model":
        variant["speculative.draft_model"] = "vicuna-68m"
    spec.append(dict(id=f"specbench/{method.lower()}-vicuna-7b-a100", category="speculative_speedup", group="specbench",
                     hardware="a100-sxm-80gb", measured=r["value"], unit="x", source=short_source(r),
                     assumptions=how + f"; acceptance {variant['speculative.acceptance_rate']} per token gives the "
                     f"published {tau} tokens per step. Prompts lognormal median 300, outputs median 300 (Spec-Bench "
                     "mixes MT-bench, translation, summarization, QA, math and RAG)",
                     kind="ratio", scenario="scenarios/specbench-vicuna-7b.json", metric="metrics.e2e_s.p50",
                     baseline_set={}, variant_set=variant))
write("speculative.json", "Spec-Bench speculative decoding speedups (Vicuna-7B, A100, batch 1). Not included: "
      + "; ".join(spec_skipped), spec)

# ---------------------------------------------------------------------------------------------------------
# AWQ (TinyChat) W4A16 vs fp16, batch-1 per-token decode latency, RTX A6000. Jetson Orin has no profile.
# ---------------------------------------------------------------------------------------------------------
write_scenario("awq-batch1.json", {
    "name": "awq-batch1", "description": "Batch-1 generation on an RTX A6000 (base of configs/validation/quantization.json)",
    "model": "llama-2-7b", "hardware": "rtx-a6000", "engine": "hf-transformers",
    "deployment": {"weight_dtype": "fp16", "activation_dtype": "fp16", "kv_cache_dtype": "fp16"},
    "scheduler": {"policy": "continuous", "max_batch_size": 1},
    "workload": {"requests": 3, "seed": 1, "arrival": {"process": "closed_loop", "concurrency": 1},
                 "input_tokens": 64, "output_tokens": 256},
})
AWQ_MODELS = {"LLaMA-2-7B": "llama-2-7b", "LLaMA-2-13B": "llama-2-13b", "LLaMA-3-8B": "llama-3-8b"}
quant, quant_skipped = [], []
for r in cal_rows("quantization"):
    if r["accelerator"] != "RTX A6000":
        quant_skipped.append(f"{r['model']} on {r['accelerator']}: no hardware profile")
        continue
    model = AWQ_MODELS[r["model"]]
    quant.append(dict(id=f"awq/{model}-int4-vs-fp16-a6000", category="quantization_speedup", group="awq",
                      hardware="rtx-a6000", measured=r["value"], unit="x", source=short_source(r),
                      assumptions="W4A16, one fp16 scale per 128 weights. Each side runs its own engine: the fp16 "
                      "baseline HuggingFace transformers in eager mode (engine hf-transformers), the int4 side "
                      "TinyChat (engine tinychat)",
                      kind="ratio", scenario="scenarios/awq-batch1.json", metric="metrics.tpot_s.p50",
                      set={"model": model}, baseline_set={},
                      variant_set={"engine": "tinychat", "deployment.weight_dtype": "int4",
                                   "deployment.quantization_group_size": 128}))
write("quantization.json", "AWQ W4A16 batch-1 decode speedups over fp16 (TinyChat, RTX A6000). Not included: "
      + "; ".join(quant_skipped), quant)

# ---------------------------------------------------------------------------------------------------------
# Operators: Vidur's CUDA-timed Llama-2-7B GEMMs (A100, H100; tensor parallel 1, 2, 4) and NCCL all-reduces,
# and our own H200 GEMMs (bf16, fp8) and attention (torch SDPA).
# ---------------------------------------------------------------------------------------------------------
VIDUR_SRC = "microsoft/vidur data/profiling (MIT), via configs/validation/vidur (tools/import_vidur.py)"
ops = []
with open(os.path.join(OUT, "vidur", "llama-2-7b-ops.csv")) as f:
    for r in csv.DictReader(f):
        tp, tokens = int(r["tensor_parallel"]), int(r["num_tokens"])
        if tp not in (1, 2) or tokens not in (1, 16, 128, 1024, 4096):
            continue
        if r["infersim_op"] not in ("qkv_proj", "o_proj", "mlp_up_gate", "mlp_down"):
            continue
        hw = {"a100": "a100-sxm-80gb", "h100": "h100-sxm"}[r["gpu"]]
        ops.append(dict(id=f"vidur/{r['gpu']}/llama-2-7b/tp{tp}/{r['infersim_op']}/m{tokens}", category="operator_gemm",
                        group=f"vidur-{r['gpu']}", hardware=hw, measured=float(r["median_ms"]), unit="ms",
                        source=VIDUR_SRC, assumptions="one layer's GEMM of the tensor-parallel shard, fp16, M = tokens",
                        kind="operator", model="llama-2-7b", tensor_parallel=tp, dtype="fp16", phase="decode",
                        batch=tokens, context=16, operator=r["infersim_op"]))
with open(os.path.join(OUT, "vidur", "all-reduce.csv")) as f:
    for r in csv.DictReader(f):
        cluster, n, elements = r["cluster"], int(r["num_workers"]), int(r["fp16_elements"])
        if cluster not in ("a100_dgx", "h100_dgx") or elements not in (2 ** 14, 2 ** 20, 2 ** 24, 2 ** 26):
            continue
        hw = {"a100_dgx": "a100-sxm-80gb", "h100_dgx": "h100-sxm"}[cluster]
        ops.append(dict(id=f"vidur/{cluster}/all-reduce/{n}x{elements * 2}B", category="all_reduce",
                        group=f"vidur-{cluster}", hardware=hw, measured=float(r["median_ms"]), unit="ms",
                        source=VIDUR_SRC, assumptions="NCCL all-reduce of fp16 elements inside one NVLink node",
                        kind="all_reduce", chips=n, bytes=elements * 2))
write("operators.json", "Vidur operator profiles (Llama-2-7B GEMMs) and NCCL all-reduces on A100 and H100 DGX nodes", ops)

DTYPES = {"bf16": "bf16", "fp16": "fp16", "fp8e4m3": "fp8"}
measured = sorted(p for p in os.listdir(os.path.join(OUT, "measured")) if p.endswith(".csv"))
h200 = []
for name in measured:
    src = f"configs/validation/measured/{name} (bench/gpu/measure.py on one H200)"
    rows = list(csv.DictReader(open(os.path.join(OUT, "measured", name))))
    best = {}
    for r in rows:
        if r["kind"] == "gemm":
            m = int(r["m"])
            if m not in (1, 64, 1024, 8192):
                continue
            shape = r["model_shape"]
            h200.append(dict(id=f"h200/gemm/{shape}/{r['dtype']}/m{m}", category="operator_gemm", group="h200-gemm",
                             hardware="h200-sxm", measured=float(r["median_ms"]), unit="ms", source=src,
                             assumptions="torch.matmul, cold L2 (rotating inputs), CUDA events, median of reps",
                             kind="gemm", m=m, n=int(r["n"]), k=int(r["k"]), dtype=DTYPES[r["dtype"]]))
        elif r["kind"] == "copy":
            h200.append(dict(id=f"h200/{r['model_shape']}", category="memory_copy", group="h200-copy",
                             hardware="h200-sxm", measured=float(r["median_ms"]), unit="ms", source=src,
                             assumptions="torch copy_ device to device; bytes = read + write",
                             kind="copy", bytes=int(r["bytes"])))
        elif r["kind"].startswith("attention"):
            # The fastest SDPA backend at each shape: what a serving engine's attention kernel achieves.
            shape = r["model_shape"].split("+")[0]
            key = (r["kind"], shape, r["batch"], r["q_len"], r["kv_len"])
            if key not in best or float(r["median_ms"]) < best[key][0]:
                best[key] = (float(r["median_ms"]), r)
    for (kind, shape, batch, q_len, kv_len), (ms, r) in sorted(best.items(), key=lambda kv: (kv[0][0], kv[0][1], int(kv[0][2]), int(kv[0][3]), int(kv[0][4]))):
        model = shape.split("/")[0]
        phase = "prefill" if kind == "attention_prefill" else "decode"
        context = int(q_len) if phase == "prefill" else int(kv_len)
        h200.append(dict(id=f"h200/{kind}/{model}/b{batch}/ctx{context}", category="operator_attention",
                         group="h200-attention", hardware="h200-sxm", measured=ms, unit="ms", source=src,
                         assumptions="torch scaled_dot_product_attention, bf16, fastest backend at this shape (flash, "
                         "cuDNN or efficient), one layer's heads",
                         kind="operator", model=model, tensor_parallel=1, dtype="bf16", phase=phase,
                         batch=int(batch), context=context, operator=kind))
write("h200-kernels.json", "Our own H200 kernel timings: GEMMs at catalog shapes (bf16, fp8) and SDPA attention", h200)
