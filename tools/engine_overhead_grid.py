#!/usr/bin/env python3
"""The per-iteration host time of a serving engine, fitted to its MLPerf rows (docs/accuracy.md).

MLPerf rows name the engine that produced them (TensorRT-LLM for NVIDIA and Juniper, vLLM for AMD). An
engine spends time per iteration outside the GPU kernels (scheduling, input preparation, sampling, responses)
that no hardware profile holds; infersim models it as scheduler.scheduling_overhead_s. This script reruns
every MLPerf row of one engine with that overhead set to each value of a grid and prints the median absolute
error per category and over all of that engine's rows, and the fit criterion: the mean of the median errors
of the three categories the accuracy targets name (throughput, TTFT p50, TPOT p50), each target weighing the
same however many rows it has. One value per engine, shared by all its chips, models and scenarios,
never one per row; the values chosen are in tools/make_validation.py (ENGINES).

  tools/engine_overhead_grid.py trtllm [MS ...]      (default grid 0 5 10 15 20 25 30 ms)
  tools/engine_overhead_grid.py vllm
Needs build/release/src/infersim (cmake --preset release && cmake --build build/release).
"""
import json, os, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "release", "src", "infersim")
ENGINE_HARDWARE = {"vllm": {"mi300x"}}  # every other MLPerf row ran TensorRT-LLM

engine = sys.argv[1] if len(sys.argv) > 1 else "trtllm"
grid_ms = [float(x) for x in sys.argv[2:]] or [0, 5, 10, 15, 20, 25, 30]
doc = json.load(open(os.path.join(ROOT, "configs", "validation", "mlperf.json")))
vllm_hw = ENGINE_HARDWARE["vllm"]
rows = [r for r in doc["rows"] if (r["hardware"] in vllm_hw) == (engine == "vllm")]
for r in rows:
    r["scenario"] = os.path.join(ROOT, "configs", "validation", r["scenario"])

print(f"{engine}: {len(rows)} rows")
for ms in grid_ms:
    for r in rows:
        r["set"]["scheduler.scheduling_overhead_s"] = ms / 1000
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"description": "grid", "rows": rows}, f)
    out = json.loads(subprocess.run([BIN, "accuracy", f.name, "--format", "json"], check=True,
                                    capture_output=True, text=True).stdout)
    os.unlink(f.name)
    cats = {k: v["median_abs_error_pct"] for k, v in sorted(out["categories"].items())}
    overall = statistics.median(abs(x["error_pct"]) for x in out["rows"])
    target = statistics.mean(cats[c] for c in ("throughput", "ttft_p50", "tpot_p50"))
    print(f"{ms:5.1f} ms  criterion {target:5.1f}%  all rows {overall:5.1f}%  " +
          "  ".join(f"{k} {v:.1f}%" for k, v in cats.items()))
