#pragma once
// Measurement files (configs/validation/*.json): published or measured figures and how to reproduce each
// with infersim. Each row is one measured number and the computation that predicts it:
//
//   "scenario"   a scenario (path or inline) with optional --set overrides; the prediction is one metric of
//                its report (optionally transformed, e.g. the reciprocal of TPOT for tokens/s)
//   "ratio"      the same scenario twice (baseline_set, variant_set); the prediction is
//                metric(baseline) / metric(variant): speed-ups
//   "operator"   one operator of one step priced by the roofline (model, hardware, deployment, step shape)
//   "gemm"       one standalone GEMM (m x k x n) in a data type
//   "all_reduce" one all-reduce of `bytes` per chip over `chips` chips
//   "copy"       one device-to-device copy moving `bytes` through memory (read plus write)
//   "all_to_all" one MoE dispatch or combine over an expert-parallel group: `tokens_per_rank` tokens on each of
//                `expert_parallel` chips, `top_k` copies of `hidden` elements of `bytes_per_element` each,
//                priced as the step model prices its expert all-to-all (roofline::price_expert_all_to_all)
//                with `num_experts` (and optionally `node_limit`, the most nodes a token may reach), a group spanning
//                scale-up domains sends each token once per distinct remote domain (DeepEP's normal kernels)
//
// Time rows (operator, gemm, all_reduce, copy, all_to_all) are in the unit "ms", "us" or "s".
// Every row carries its category (throughput, ttft_p50, ...), the hardware it measures (what `calibrate`
// fits), its source and the assumptions made to map the published conditions onto infersim's inputs.

#include <optional>
#include <string>
#include <vector>

#include "infersim/config/catalog.hpp"
#include "infersim/core/dtype.hpp"

namespace infersim::validation {

enum class RowKind { scenario, ratio, op, gemm, all_reduce, copy, all_to_all };

struct MeasurementRow {
  std::string id, category, group, hardware, source, assumptions, unit;
  std::string system;  // the machine as submitted (MLPerf's system name); defaults to `hardware`
  std::string file;  // measurement file it came from (for messages)
  RowKind kind = RowKind::scenario;
  double measured = 0;
  // scenario / ratio
  config::Document scenario;
  std::vector<std::pair<std::string, config::Json>> set, baseline_set, variant_set;
  std::string metric;
  std::string transform = "identity";  // identity | reciprocal
  double scale = 1;                     // predicted = transform(metric) x scale (e.g. 1e3 for seconds -> ms)
  // operator
  std::string model, op, phase = "decode";
  int tensor_parallel = 1;
  DType dtype = DType::bf16;
  std::int64_t batch = 1, context = 1;  // decode: sequences and their context; prefill: sequences and length
  // gemm
  double m = 0, n = 0, k = 0;
  // all_reduce, copy
  int chips = 0;
  double bytes = 0;
  // all_to_all
  std::string operation = "dispatch";  // dispatch | combine
  int expert_parallel = 0;
  double tokens_per_rank = 0, hidden = 0, top_k = 0, bytes_per_element = 0;
  double num_experts = 0, node_limit = 0;  // 0: every copy sent directly (no per-node deduplication)
};

/// Load measurement files (strict; every problem reported with file and path).
std::vector<MeasurementRow> load_measurements(const std::vector<std::string>& paths);

}  // namespace infersim::validation
