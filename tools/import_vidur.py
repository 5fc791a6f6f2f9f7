#!/usr/bin/env python3
"""Convert Vidur's per-operator profiles (microsoft/vidur data/profiling, MIT licence) into the compact
tables infersim's tests and calibration read: configs/validation/vidur/<model>-ops.csv and all-reduce.csv.

Usage: tools/import_vidur.py [SHARED_DIR]   (default ../shared)
Keeps only medians, in milliseconds, of the operators infersim models one-to-one.
"""
import csv, os, sys

shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared")
root = os.path.join(shared, "data", "measurements", "vidur-profiling")
out_dir = os.path.join(os.path.dirname(__file__), "..", "configs", "validation", "vidur")
os.makedirs(out_dir, exist_ok=True)

# Vidur operator -> infersim operator of src/roofline/step_cost.cpp
OPS = {"attn_pre_proj": "qkv_proj", "attn_post_proj": "o_proj", "mlp_up_proj": "mlp_up_gate",
       "mlp_down_proj": "mlp_down", "mlp_act": "mlp_act", "input_layernorm": "attn_norm"}

with open(os.path.join(out_dir, "llama-2-7b-ops.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["gpu", "tensor_parallel", "num_tokens", "vidur_op", "infersim_op", "median_ms"])
    for gpu in ("a100", "h100"):
        path = os.path.join(root, "compute", gpu, "meta-llama", "Llama-2-7b-hf", "mlp.csv")
        rows = sorted(csv.DictReader(open(path)), key=lambda r: (int(r["num_tensor_parallel_workers"]), int(r["num_tokens"])))
        for r in rows:
            for vop, iop in OPS.items():
                w.writerow([gpu, r["num_tensor_parallel_workers"], r["num_tokens"], vop, iop,
                            r[f"time_stats.{vop}.median"]])

with open(os.path.join(out_dir, "all-reduce.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["cluster", "num_workers", "fp16_elements", "median_ms"])
    for cluster in ("a100_dgx", "h100_dgx", "a100_pairwise_nvlink", "h100_pairwise_nvlink"):
        rows = list(csv.DictReader(open(os.path.join(root, "network", cluster, "all_reduce.csv"))))
        seen = set()
        for r in sorted(rows, key=lambda r: (int(r["num_workers"]), int(r["size"]))):
            if int(r["devices_per_node"]) < int(r["num_workers"]):
                continue  # multi-node rows
            key = (r["num_workers"], r["size"])
            if key in seen:
                continue
            seen.add(key)
            w.writerow([cluster, r["num_workers"], r["size"], r["time_stats.all_reduce.median"]])
print("wrote", out_dir)
