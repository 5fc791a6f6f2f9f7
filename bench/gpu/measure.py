#!/usr/bin/env python3
"""Time real GPU kernels to calibrate infersim's roofline hardware profiles.

Measures, with CUDA events, on one GPU:
  * GEMMs at the catalog models' per-layer shapes (bf16 via torch.matmul, fp8 e4m3 via torch._scaled_mm),
  * attention via torch.nn.functional.scaled_dot_product_attention (prefill and decode, bf16),
  * a large device-to-device copy (memory bandwidth).
Writes one CSV (--out) plus a sidecar OUT.meta.json (environment, clocks, what was skipped and why).

Every piece is bounded: at most 200 timed reps per config (~30 ms of GPU time each), a --budget-s wall-clock
budget after which no new config starts (the rest are counted as skipped), and a hard watchdog
(--hard-limit-s) that ends the process.  Rows are flushed as they are measured, so a cut-short run still leaves
a well-formed CSV.  Works with torch 1.13 (CPU check) and torch 2.x (GPU).

See bench/gpu/README.md.  `--dry-run` lists the configs and an estimated H200 runtime without touching torch.
"""

import time

T0_WALL = time.time()
T0 = time.perf_counter()

import argparse
import csv
import datetime
import faulthandler
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading

GiB = 1 << 30
MiB = 1 << 20

CSV_COLUMNS = [
    "kind", "model_shape", "dtype", "m", "n", "k", "batch", "q_heads", "kv_heads", "head_dim", "q_len",
    "kv_len", "flops", "bytes", "median_ms", "p10_ms", "p90_ms", "reps", "achieved_tflops",
    "achieved_tb_per_s", "notes",
]

# Per-layer GEMM shapes: (layer, K, N).  Y[M,N] = X[M,K] @ W[N,K]^T, as in a Linear layer.
GEMM_MODELS = [
    ("llama-2-7b", [("qkv", 4096, 12288), ("o", 4096, 4096), ("gate_up", 4096, 22016), ("down", 11008, 4096)]),
    ("llama-3.1-8b", [("qkv", 4096, 6144), ("o", 4096, 4096), ("gate_up", 4096, 28672), ("down", 14336, 4096)]),
    # 70B sharded 8 ways (tensor parallel): column-parallel qkv/gate_up shard N, row-parallel o/down shard K.
    ("llama-3.1-70b-tp8", [("qkv", 8192, 1280), ("o", 1024, 8192), ("gate_up", 8192, 7168), ("down", 3584, 8192)]),
    ("mixtral-8x7b", [("expert_gate_up", 4096, 28672), ("expert_down", 14336, 4096)]),
]
M_LIST = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]

# Attention: (model_shape, q_heads, kv_heads, head_dim)
PREFILL_SHAPES = [("llama-2-7b/attn-mha32", 32, 32, 128), ("llama-3.1-70b/attn-gqa64q8kv", 64, 8, 128)]
PREFILL_SEQS = [512, 2048, 8192]
DECODE_SHAPE = ("llama-3.1-8b/attn-gqa32q8kv", 32, 8, 128)
DECODE_KV = [512, 2048, 8192, 32768]
DECODE_BATCH = [1, 16, 64]
COPY_SIZES = [4 * GiB, 256 * MiB]

FP8_MIN_M = 16
MEM_LIMIT = 40 * GiB
WARMUP = 3
MIN_REPS = 5
MAX_REPS = 200
TARGET_S = 0.030          # aim for ~30 ms of timed GPU work per config (20-50 ms window)
SLEEP_IF_REP_BELOW_S = 200e-6
SLEEP_PER_REP_S = 40e-6   # host enqueue cost per rep that the pre-launched spin kernel has to cover
SLEEP_MAX_S = 0.025
ASSUMED_SM_HZ = 1.98e9    # H200/H100 boost clock; only used to size the spin kernel
DEFAULT_L2 = 60 * MiB

# Rough H200 figures, used only by the dry-run runtime estimate.
EST_PEAK = {"bf16": 989e12 * 0.70, "fp8e4m3": 1979e12 * 0.60}
EST_BW = 4.8e12 * 0.85
EST_LAUNCH_S = 35e-6     # host cost per rep (2 event records + op launch from Python)
EST_SETUP_S = 0.015     # per config: Python, allocations, first-call cuBLAS/kernel-module loading
EST_INIT_S = 12.0


def elapsed():
    return time.perf_counter() - T0


def log(msg):
    print("[%7.2fs] %s" % (elapsed(), msg), flush=True)


# ----------------------------------------------------------------------------------------------------------
# Config generation (no torch needed)
# ----------------------------------------------------------------------------------------------------------

def gemm_models_for(args):
    models = GEMM_MODELS
    m_list = M_LIST
    scale = 1
    if args.device == "cpu":
        scale = 16  # every K and N stays a multiple of 16
        m_list = [1, 8, 64, 256] if not args.quick else [1, 64]
    if args.quick:
        models = [("llama-3.1-8b", [("qkv", 4096, 6144), ("gate_up", 4096, 28672)])]
        if args.device != "cpu":
            m_list = [1, 64, 1024, 8192]
    out = [(name, [(layer, k // scale, n // scale) for (layer, k, n) in layers]) for name, layers in models]
    return out, m_list, scale


def make_gemm_jobs(args, dtype):
    """One job per distinct measurement; each job carries the CSV rows (labels) it stands for."""
    models, m_list, scale = gemm_models_for(args)
    jobs, by_key = [], {}
    for name, layers in models:
        for layer, k, n in layers:
            for m in m_list:
                m_used = max(m, FP8_MIN_M) if dtype == "fp8e4m3" else m
                key = (dtype, m_used, k, n)
                label = {"model_shape": "%s/%s" % (name, layer), "m_requested": m}
                if key in by_key:
                    by_key[key]["labels"].append(label)
                    continue
                job = {"kind": "gemm", "dtype": dtype, "m": m_used, "k": k, "n": n, "labels": [label],
                       "scale": scale}
                by_key[key] = job
                jobs.append(job)
    return jobs


def attn_dims(args):
    prefill_shapes, prefill_seqs = PREFILL_SHAPES, PREFILL_SEQS
    dec_shape, dec_kv, dec_b = DECODE_SHAPE, DECODE_KV, DECODE_BATCH
    if args.device == "cpu":
        prefill_shapes = [(n, hq // 4, hkv // 4, d) for (n, hq, hkv, d) in prefill_shapes]
        dec_shape = (dec_shape[0], dec_shape[1] // 4, dec_shape[2] // 4, dec_shape[3])
        prefill_seqs, dec_kv, dec_b = [128, 512], [128, 1024], [1, 4]
        if args.quick:
            prefill_seqs, dec_kv, dec_b = [128], [256], [2]
    elif args.quick:
        prefill_seqs, dec_kv, dec_b = [2048], [2048, 32768], [1, 64]
    return prefill_shapes, prefill_seqs, dec_shape, dec_kv, dec_b


def make_decode_jobs(args, backend="auto"):
    _, _, (name, hq, hkv, d), kvs, bs = attn_dims(args)
    return [{"kind": "attention_decode", "dtype": "bf16", "model_shape": name, "batch": b, "q_heads": hq,
             "kv_heads": hkv, "head_dim": d, "q_len": 1, "kv_len": kv, "causal": False, "backend": backend}
            for b in bs for kv in kvs]


def make_prefill_jobs(args, backend="auto"):
    shapes, seqs, _, _, _ = attn_dims(args)
    return [{"kind": "attention_prefill", "dtype": "bf16", "model_shape": name, "batch": 1, "q_heads": hq,
             "kv_heads": hkv, "head_dim": d, "q_len": s, "kv_len": s, "causal": True, "backend": backend}
            for (name, hq, hkv, d) in shapes for s in seqs]


def make_copy_jobs(args):
    sizes = COPY_SIZES
    if args.device == "cpu":
        sizes = [64 * MiB] if not args.quick else [16 * MiB]
    elif args.quick:
        sizes = [1 * GiB]
    return [{"kind": "copy", "dtype": "fp32", "size": s} for s in sizes]


def build_plan(args, fp8_ok, sweep_backends):
    """Ordered groups: most important first (bf16 GEMM, decode, copy), then prefill, fp8, backend sweep."""
    groups = [
        ("gemm-bf16", make_gemm_jobs(args, "bf16")),
        ("attention-decode", make_decode_jobs(args)),
        ("copy", make_copy_jobs(args)),
        ("attention-prefill", make_prefill_jobs(args)),
    ]
    if fp8_ok:
        groups.append(("gemm-fp8", make_gemm_jobs(args, "fp8e4m3")))
    for be in sweep_backends:
        groups.append(("sdpa-backend-" + be, make_decode_jobs(args, be) + make_prefill_jobs(args, be)))
    return groups


# ----------------------------------------------------------------------------------------------------------
# Work accounting (flops and minimum bytes) -- also torch-free
# ----------------------------------------------------------------------------------------------------------

def esize(dtype):
    return 1 if dtype == "fp8e4m3" else 2


def job_work(job):
    """(flops, minimum bytes moved)"""
    kind = job["kind"]
    if kind == "gemm":
        m, k, n = job["m"], job["k"], job["n"]
        es = esize(job["dtype"])
        return 2 * m * n * k, (m * k + k * n) * es + m * n * 2  # output is bf16 for both dtypes
    if kind.startswith("attention"):
        b, hq, hkv, d = job["batch"], job["q_heads"], job["kv_heads"], job["head_dim"]
        lq, lkv = job["q_len"], job["kv_len"]
        if job["causal"]:
            pairs = lq * (lq + 1) // 2 if lq == lkv else lq * lkv - lq * (lq - 1) // 2
        else:
            pairs = lq * lkv
        flops = 4 * b * hq * d * pairs  # QK^T and PV, 2 flops per MAC each
        byts = 2 * (2 * b * hq * lq * d + 2 * b * hkv * lkv * d)  # Q, O + K, V once, bf16
        return flops, byts
    if kind == "copy":
        return 0, 2 * job["size"]
    raise ValueError(kind)


def pool_size(set_bytes, l2_bytes, cap=64):
    """Distinct input sets cycled per rep so repeated reps cannot be served from L2."""
    need = 3 * l2_bytes
    if set_bytes >= need:
        return 1
    return max(4, min(cap, int(math.ceil(need / float(set_bytes)))))


def job_set_bytes(job):
    kind = job["kind"]
    if kind == "gemm":
        return (job["m"] * job["k"] + job["n"] * job["k"]) * esize(job["dtype"])
    if kind.startswith("attention"):
        b, hq, hkv, d = job["batch"], job["q_heads"], job["kv_heads"], job["head_dim"]
        return 2 * (b * hq * job["q_len"] * d + 2 * b * hkv * job["kv_len"] * d)
    return 2 * job["size"]


def job_mem_estimate(job, l2_bytes, gqa_native=True, manual_attn=False):
    """Bytes the config allocates (inputs pool + outputs + temporaries), for the 40 GiB guard."""
    kind = job["kind"]
    sb = job_set_bytes(job)
    if kind == "copy":
        return sb
    pool = pool_size(sb, l2_bytes)
    total = pool * sb
    if kind == "gemm":
        total += 4 * job["m"] * job["n"] * 2 + 64 * MiB  # outputs in flight + cuBLAS workspace
    else:
        b, hq, hkv, d = job["batch"], job["q_heads"], job["kv_heads"], job["head_dim"]
        lq, lkv = job["q_len"], job["kv_len"]
        if hq != hkv and not gqa_native:
            total += pool * 2 * (2 * b * hq * lkv * d)  # K, V repeated to q_heads (made outside timing)
        total += 4 * b * hq * lq * d * 2
        if manual_attn or job.get("backend") == "math":
            total += 3 * b * hq * lq * lkv * 4  # fp32 scores, softmax, mask
    return total


def estimate_job_s(job):
    """Rough H200 wall time of one config (setup + warm-up + timed reps)."""
    flops, byts = job_work(job)
    peak = EST_PEAK.get(job["dtype"], EST_PEAK["bf16"])
    t = max(flops / peak, byts / EST_BW, 5e-6)
    reps = max(MIN_REPS, min(MAX_REPS, int(math.ceil(TARGET_S / t))))
    wall = (WARMUP + reps) * max(t, EST_LAUNCH_S)
    if t < SLEEP_IF_REP_BELOW_S:
        wall += min(SLEEP_MAX_S, reps * SLEEP_PER_REP_S + 0.5e-3)
    pool = pool_size(job_set_bytes(job), 50 * MiB) if job["kind"] != "copy" else 1
    wall += EST_SETUP_S + pool * job_set_bytes(job) / 1.5e12  # randn fill
    return wall, reps, t


# ----------------------------------------------------------------------------------------------------------
# Environment / metadata
# ----------------------------------------------------------------------------------------------------------

SMI_FIELDS = ["name", "driver_version", "pstate", "clocks.sm", "clocks.mem", "clocks.max.sm", "clocks.max.mem",
              "clocks.applications.graphics", "power.draw", "power.limit", "temperature.gpu", "memory.total",
              "ecc.mode.current", "compute_mode"]


def nvidia_smi(deadline_s=12.0):
    """Query nvidia-smi; never raises, never takes more than ~deadline_s."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return {"error": "nvidia-smi not found"}
    start = time.perf_counter()

    def query(fields, timeout):
        r = subprocess.run([exe, "--query-gpu=" + ",".join(fields), "--format=csv,noheader,nounits"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           universal_newlines=True)
        if r.returncode != 0:
            raise RuntimeError((r.stderr or r.stdout).strip()[:200])
        line = r.stdout.strip().splitlines()[0]
        vals = [v.strip() for v in line.split(",")]
        if len(vals) != len(fields):
            raise RuntimeError("unexpected output: " + line[:200])
        return dict(zip(fields, vals))

    try:
        return query(SMI_FIELDS, deadline_s)
    except subprocess.TimeoutExpired:
        return {"error": "nvidia-smi timed out"}
    except Exception as e:  # one field unsupported: try them one by one, within the deadline
        out = {"error_combined": str(e)}
        for f in SMI_FIELDS:
            left = deadline_s - (time.perf_counter() - start)
            if left < 1:
                out["error"] = "nvidia-smi deadline reached"
                break
            try:
                out.update(query([f], min(left, 5)))
            except subprocess.TimeoutExpired:
                out["error"] = "nvidia-smi timed out"
                break
            except Exception:
                pass
        return out


def cuda_driver_version():
    try:
        import ctypes
        lib = ctypes.CDLL("libcuda.so.1")
        v = ctypes.c_int(0)
        if lib.cuDriverGetVersion(ctypes.byref(v)) == 0:
            return "%d.%d" % (v.value // 1000, (v.value % 1000) // 10)
    except Exception:
        pass
    return None


class Meta(object):
    def __init__(self, path):
        self.path = path
        self.data = {}
        self.lock = threading.Lock()

    def write(self):
        with self.lock:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(self.data, f, indent=2, sort_keys=True, default=str)
                f.write("\n")
            os.replace(tmp, self.path)


# ----------------------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------------------

def percentile(xs, p):
    s = sorted(xs)
    if len(s) == 1:
        return s[0]
    k = (len(s) - 1) * p
    f = int(math.floor(k))
    c = min(f + 1, len(s) - 1)
    return s[f] + (s[c] - s[f]) * (k - f)


class CudaTimer(object):
    def __init__(self, torch):
        self.torch = torch
        self.has_sleep = hasattr(torch.cuda, "_sleep")

    def run(self, rep, n, est_s=None):
        """Time n reps individually with CUDA events.  For short ops a spin kernel is queued first so the
        host can enqueue all reps before the GPU reaches them (no launch gaps inside the timed region)."""
        torch = self.torch
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
        torch.cuda.synchronize()
        sleep_s = 0.0
        if est_s is not None and est_s < SLEEP_IF_REP_BELOW_S and self.has_sleep:
            sleep_s = min(SLEEP_MAX_S, n * SLEEP_PER_REP_S + 0.5e-3)
            torch.cuda._sleep(int(sleep_s * ASSUMED_SM_HZ))
        h0 = time.perf_counter()
        for i in range(n):
            starts[i].record()
            rep(i)
            ends[i].record()
        host_s = time.perf_counter() - h0
        torch.cuda.synchronize()
        times = [s.elapsed_time(e) for s, e in zip(starts, ends)]
        # back-to-back mean (first start to last end / n): no per-rep event overhead, shows launch gaps if any
        batch_mean = starts[0].elapsed_time(ends[-1]) / n
        gap_risk = est_s is not None and est_s < SLEEP_IF_REP_BELOW_S and host_s > sleep_s
        return times, gap_risk, batch_mean


class CpuTimer(object):
    def run(self, rep, n, est_s=None):
        times = []
        for i in range(n):
            t = time.perf_counter()
            rep(i)
            times.append((time.perf_counter() - t) * 1e3)
        return times, False, sum(times) / n


def measure(timer, rep, target_s, max_reps):
    warm, _, _ = timer.run(rep, WARMUP)
    est_s = min(warm[1:] if len(warm) > 1 else warm) / 1e3
    reps = int(math.ceil(target_s / max(est_s, 1e-7)))
    reps = max(MIN_REPS, min(max_reps, reps))
    return timer.run(rep, reps, est_s)


# ----------------------------------------------------------------------------------------------------------
# Config setup (torch)
# ----------------------------------------------------------------------------------------------------------

class Env(object):
    pass


def probe_features(torch, F, dev):
    env = Env()
    env.torch, env.F, env.dev = torch, F, dev
    env.warnings = []
    env.has_sdpa = hasattr(F, "scaled_dot_product_attention")
    env.gqa_native = False
    if env.has_sdpa:
        q = torch.randn(1, 4, 8, 16, device=dev, dtype=torch.bfloat16)
        kv = torch.randn(1, 2, 8, 16, device=dev, dtype=torch.bfloat16)
        try:
            F.scaled_dot_product_attention(q, kv, kv, enable_gqa=True)
            env.gqa_native = True
        except TypeError:
            env.warnings.append("SDPA has no enable_gqa: GQA K/V are repeat_interleave'd outside the timed "
                                "region (kernel then reads q_heads of K/V)")
        except Exception as e:
            env.warnings.append("SDPA enable_gqa probe failed (%s): GQA K/V repeated outside timing" % e)
    else:
        env.warnings.append("torch %s has no scaled_dot_product_attention: attention timed as explicit "
                            "matmul-softmax-matmul (math)" % torch.__version__)
    # fp8
    env.fp8_ok, env.fp8_fast_accum, env.fp8_reason = False, False, ""
    if dev != "cuda":
        env.fp8_reason = "fp8 skipped on device %s" % dev
    elif not hasattr(torch, "_scaled_mm") or not hasattr(torch, "float8_e4m3fn"):
        env.fp8_reason = "torch %s has no torch._scaled_mm / float8_e4m3fn" % torch.__version__
    elif torch.cuda.get_device_capability() < (8, 9):
        env.fp8_reason = "GPU capability %s < 8.9: no fp8 tensor cores" % (torch.cuda.get_device_capability(),)
    else:
        a = torch.randn(16, 32, device=dev).to(torch.float8_e4m3fn)
        w = torch.randn(32, 32, device=dev).to(torch.float8_e4m3fn)
        one = torch.ones((), device=dev, dtype=torch.float32)
        for fast in (True, False):
            try:
                kw = {"use_fast_accum": True} if fast else {}
                r = torch._scaled_mm(a, w.t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16, **kw)
                r = r[0] if isinstance(r, (tuple, list)) else r
                assert tuple(r.shape) == (16, 32) and r.dtype == torch.bfloat16
                torch.cuda.synchronize()
                env.fp8_ok, env.fp8_fast_accum = True, fast
                break
            except Exception as e:
                msg = (str(e).strip() or type(e).__name__).splitlines()[0][:300]
                env.fp8_reason = "torch._scaled_mm probe failed: %s" % msg
    if not env.fp8_ok and dev == "cuda":
        env.warnings.append("fp8 GEMMs skipped: " + env.fp8_reason)
    # SDPA backend forcing (for the optional backend sweep)
    env.sdpa_ctx = None
    env.sdpa_backends = {}
    if dev == "cuda" and env.has_sdpa:
        try:
            from torch.nn.attention import sdpa_kernel, SDPBackend
            env.sdpa_ctx = sdpa_kernel
            for name, attr in (("flash", "FLASH_ATTENTION"), ("efficient", "EFFICIENT_ATTENTION"),
                               ("cudnn", "CUDNN_ATTENTION")):
                if hasattr(SDPBackend, attr):
                    env.sdpa_backends[name] = getattr(SDPBackend, attr)
        except Exception:
            pass
    try:
        env.l2_bytes = int(getattr(torch.cuda.get_device_properties(0), "L2_cache_size", 0)) \
            if dev == "cuda" else 8 * MiB
    except Exception:
        env.l2_bytes = 0
    if not env.l2_bytes:
        env.l2_bytes = DEFAULT_L2
    return env


class NullCtx(object):
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def setup_gemm(env, job):
    torch = env.torch
    dev = env.dev
    m, k, n, dtype = job["m"], job["k"], job["n"], job["dtype"]
    sb = job_set_bytes(job)
    pool = pool_size(sb, env.l2_bytes)
    notes = ["Y[M,N]=X[M,K]@W[N,K]^T"]
    if pool > 1:
        notes.append("rotating pool of %d distinct X/W sets (%.0f MB) so reps miss L2" % (pool, pool * sb / 1e6))
    if dtype == "bf16":
        xs = [torch.randn(m, k, device=dev, dtype=torch.bfloat16) for _ in range(pool)]
        ws = [torch.randn(n, k, device=dev, dtype=torch.bfloat16) for _ in range(pool)]
        notes.insert(0, "torch.matmul bf16")

        def rep(i):
            j = i % pool
            return torch.matmul(xs[j], ws[j].t())
    else:
        f8 = torch.float8_e4m3fn
        xs = [torch.randn(m, k, device=dev, dtype=torch.bfloat16).to(f8) for _ in range(pool)]
        ws = [torch.randn(n, k, device=dev, dtype=torch.bfloat16).to(f8) for _ in range(pool)]
        one_a = torch.ones((), device=dev, dtype=torch.float32)
        one_b = torch.ones((), device=dev, dtype=torch.float32)
        kw = {"use_fast_accum": True} if env.fp8_fast_accum else {}
        notes.insert(0, "torch._scaled_mm e4m3 per-tensor scales out bf16 fast_accum=%d"
                     % int(env.fp8_fast_accum))
        smm = torch._scaled_mm

        def rep(i):
            j = i % pool
            return smm(xs[j], ws[j].t(), scale_a=one_a, scale_b=one_b, out_dtype=torch.bfloat16, **kw)
    return rep, NullCtx(), notes


def setup_attention(env, job):
    torch, F, dev = env.torch, env.F, env.dev
    b, hq, hkv, d = job["batch"], job["q_heads"], job["kv_heads"], job["head_dim"]
    lq, lkv, causal = job["q_len"], job["kv_len"], job["causal"]
    sb = job_set_bytes(job)
    pool = pool_size(sb, env.l2_bytes)
    bf = torch.bfloat16
    qs = [torch.randn(b, hq, lq, d, device=dev, dtype=bf) for _ in range(pool)]
    ks = [torch.randn(b, hkv, lkv, d, device=dev, dtype=bf) for _ in range(pool)]
    vs = [torch.randn(b, hkv, lkv, d, device=dev, dtype=bf) for _ in range(pool)]
    notes = []
    backend = job.get("backend", "auto")
    ctx = NullCtx()
    gqa_kw = {}
    if hq != hkv:
        if env.has_sdpa and env.gqa_native:
            gqa_kw = {"enable_gqa": True}
            notes.append("GQA via enable_gqa")
        else:
            r = hq // hkv
            ks = [k.repeat_interleave(r, dim=1) for k in ks]
            vs = [v.repeat_interleave(r, dim=1) for v in vs]
            notes.append("GQA K/V repeat_interleave'd x%d outside timing (kernel reads %d KV heads; bytes column "
                         "counts only the %d real ones)" % (r, hq, hkv))
    if causal:
        notes.append("causal; flops count only the unmasked half")
    if env.has_sdpa:
        notes.append("F.scaled_dot_product_attention backend=%s" % backend)
        if backend != "auto":
            ctx = env.sdpa_ctx(env.sdpa_backends[backend])

        def rep(i):
            j = i % pool
            return F.scaled_dot_product_attention(qs[j], ks[j], vs[j], is_causal=causal, **gqa_kw)
    else:
        notes.append("explicit matmul-softmax-matmul (no SDPA in this torch)")
        scale = 1.0 / math.sqrt(d)
        mask = None
        if causal:
            mask = torch.ones(lq, lkv, device=dev, dtype=torch.bool).triu(1)

        def rep(i):
            j = i % pool
            s = torch.matmul(qs[j], ks[j].transpose(-1, -2)) * scale
            if mask is not None:
                s = s.masked_fill(mask, float("-inf"))
            return torch.matmul(torch.softmax(s.float(), dim=-1).to(bf), vs[j])
    if pool > 1:
        notes.append("rotating pool of %d distinct Q/K/V sets (%.0f MB) so reps miss L2" % (pool, pool * sb / 1e6))
    return rep, ctx, notes


def setup_copy(env, job):
    torch = env.torch
    n = job["size"] // 4  # fp32 keeps the element count (2^30 for 4 GiB) under 2^31
    src = torch.randn(n, device=env.dev, dtype=torch.float32)
    dst = torch.empty_like(src)

    def rep(i):
        return dst.copy_(src)
    return rep, NullCtx(), ["dst.copy_(src) of %.3g GiB; bytes = read + write" % (job["size"] / float(GiB))]


def fmt(x):
    return "%.6g" % x


def rows_for(job, times_ms, notes, scale):
    flops, byts = job_work(job)
    med = statistics.median(times_ms)
    base = {c: "" for c in CSV_COLUMNS}
    base.update({
        "kind": job["kind"], "dtype": job["dtype"], "flops": flops, "bytes": byts, "median_ms": fmt(med),
        "p10_ms": fmt(percentile(times_ms, 0.10)), "p90_ms": fmt(percentile(times_ms, 0.90)),
        "reps": len(times_ms),
        "achieved_tflops": fmt(flops / (med * 1e-3) / 1e12) if med > 0 else "",
        "achieved_tb_per_s": fmt(byts / (med * 1e-3) / 1e12) if med > 0 else "",
    })
    if scale != 1:
        notes = notes + ["CPU check: dims scaled 1/%d" % scale]
    out = []
    if job["kind"] == "gemm":
        base.update({"m": job["m"], "n": job["n"], "k": job["k"]})
        labels = job["labels"]
        for lab in labels:
            r = dict(base)
            r["model_shape"] = lab["model_shape"]
            extra = []
            if lab["m_requested"] != job["m"]:
                extra.append("m_requested=%d padded to %d (fp8 _scaled_mm)" % (lab["m_requested"], job["m"]))
            others = [x["model_shape"] + (" m=%d" % x["m_requested"] if x["m_requested"] != lab["m_requested"]
                                          else "") for x in labels if x is not lab]
            if others:
                extra.append("same measurement as " + ", ".join(others))
            r["notes"] = "; ".join(notes + extra)
            out.append(r)
        return out
    if job["kind"].startswith("attention"):
        base.update({k: job[k] for k in ("batch", "q_heads", "kv_heads", "head_dim", "q_len", "kv_len")})
        base["model_shape"] = job["model_shape"]
        if job.get("backend", "auto") != "auto":
            base["model_shape"] += "+sdpa=" + job["backend"]  # forced-backend sweep rows stay distinguishable
    else:
        base["model_shape"] = "copy/%dMiB" % (job["size"] // MiB)
    base["notes"] = "; ".join(notes)
    return [base]


def job_desc(job):
    if job["kind"] == "gemm":
        return "gemm %s %s m=%d k=%d n=%d" % (job["dtype"], job["labels"][0]["model_shape"], job["m"], job["k"],
                                              job["n"])
    if job["kind"] == "copy":
        return "copy %d MiB" % (job["size"] // MiB)
    return "%s %s b=%d hq=%d hkv=%d lq=%d lkv=%d backend=%s" % (
        job["kind"], job["model_shape"], job["batch"], job["q_heads"], job["kv_heads"], job["q_len"],
        job["kv_len"], job.get("backend", "auto"))


# ----------------------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="measure.csv", help="CSV path (sidecar OUT.meta.json is written next to it)")
    p.add_argument("--quick", action="store_true", help="tiny subset, to check the script")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"],
                   help="'cpu': check run (perf_counter timing, no fp8, reduced sizes)")
    p.add_argument("--budget-s", type=float, default=200.0,
                   help="no new config starts after this many seconds since launch (default 200)")
    p.add_argument("--hard-limit-s", type=float, default=None,
                   help="watchdog: the process exits after this many seconds (default budget + 30)")
    p.add_argument("--no-backend-sweep", action="store_true",
                   help="skip the final, lowest-priority group that times each SDPA backend separately")
    p.add_argument("--dry-run", action="store_true",
                   help="list configs and an estimated H200 runtime; needs no torch, measures nothing")
    return p.parse_args(argv)


def dry_run(args):
    sweep = [] if (args.no_backend_sweep or args.device == "cpu") else ["flash", "efficient", "cudnn"]
    groups = build_plan(args, args.device == "cuda", sweep)
    total, n_jobs, n_reps, gpu_s = EST_INIT_S, 0, 0, 0.0
    print("%-22s %6s %8s %9s %9s" % ("group", "configs", "reps", "gpu_s", "wall_s"))
    for name, jobs in groups:
        g_wall = g_reps = 0
        g_gpu = 0.0
        for j in jobs:
            w, r, t = estimate_job_s(j)
            g_wall += w
            g_reps += r + WARMUP
            g_gpu += (r + WARMUP) * t
        print("%-22s %6d %8d %9.2f %9.2f" % (name, len(jobs), g_reps, g_gpu, g_wall))
        total += g_wall
        n_jobs += len(jobs)
        n_reps += g_reps
        gpu_s += g_gpu
    rows = sum(len(j.get("labels", [None])) for _, js in groups for j in js)
    print("configs=%d csv_rows=%d reps=%d kernel_time=%.1fs est_wall(H200, incl. ~%.0fs CUDA init + warm-up)="
          "%.0fs" % (n_jobs, rows, n_reps, gpu_s, EST_INIT_S, total))


def main(argv=None):
    args = parse_args(argv)
    if args.dry_run:
        dry_run(args)
        return 0
    hard = args.hard_limit_s if args.hard_limit_s is not None else args.budget_s + 30.0
    # Hard stop that works even if the main thread is stuck inside a CUDA call.
    faulthandler.dump_traceback_later(max(1.0, hard - elapsed()), exit=True)

    out_dir = os.path.dirname(os.path.abspath(args.out))
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    meta = Meta(args.out + ".meta.json")
    md = meta.data
    md["status"] = "starting"
    md["date_utc"] = datetime.datetime.fromtimestamp(T0_WALL, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    md["argv"] = sys.argv
    md["host"] = platform.node()
    md["python"] = platform.python_version()
    md["budget_s"], md["hard_limit_s"] = args.budget_s, hard
    meta.write()

    # Best-effort partial-meta write shortly before the watchdog fires.
    def watchdog_note():
        md["status"] = "killed_by_watchdog"
        md["elapsed_s"] = round(elapsed(), 2)
        try:
            meta.write()
        except Exception:
            pass
    wd = threading.Timer(max(0.5, hard - 2.0 - elapsed()), watchdog_note)
    wd.daemon = True
    wd.start()

    if args.device == "cuda":
        md["nvidia_smi_start"] = nvidia_smi()
    import torch
    import torch.nn.functional as F
    md["torch_version"] = torch.__version__
    md["torch_cuda_version"] = getattr(torch.version, "cuda", None)
    if args.device == "cuda":
        if not torch.cuda.is_available():
            md["status"] = "error: CUDA not available"
            meta.write()
            print("ERROR: --device cuda but torch.cuda.is_available() is False (use --device cpu)", file=sys.stderr)
            return 2
        t = time.perf_counter()
        torch.cuda.init()
        torch.zeros(1, device="cuda")
        md["cuda_init_s"] = round(time.perf_counter() - t, 2)
        props = torch.cuda.get_device_properties(0)
        md["gpu"] = {
            "name": torch.cuda.get_device_name(0), "capability": list(torch.cuda.get_device_capability(0)),
            "total_memory_bytes": props.total_memory, "sm_count": props.multi_processor_count,
            "l2_cache_bytes": getattr(props, "L2_cache_size", None),
            "clock_rate_khz": getattr(props, "clock_rate", None),
        }
        md["cuda_driver_version"] = cuda_driver_version() or md["nvidia_smi_start"].get("driver_version")
        try:
            md["cudnn_version"] = torch.backends.cudnn.version()
        except Exception:
            md["cudnn_version"] = None
        try:
            md["matmul_allow_bf16_reduced_precision_reduction"] = \
                torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction
        except Exception:
            pass
        timer = CudaTimer(torch)
        md["spin_kernel_available"] = timer.has_sleep
    else:
        md["cpu"] = {"machine": platform.machine(), "processor": platform.processor(),
                     "torch_threads": torch.get_num_threads()}
        timer = CpuTimer()
    torch.manual_seed(0)

    env = probe_features(torch, F, args.device)
    md["features"] = {"sdpa": env.has_sdpa, "sdpa_enable_gqa": env.gqa_native, "fp8": env.fp8_ok,
                      "fp8_fast_accum": env.fp8_fast_accum, "fp8_reason": env.fp8_reason,
                      "sdpa_backends_forceable": sorted(env.sdpa_backends), "l2_bytes_assumed": env.l2_bytes}
    md["warnings"] = list(env.warnings)
    sweep = []
    if args.device == "cuda" and not args.no_backend_sweep and env.sdpa_ctx is not None:
        sweep = [b for b in ("flash", "efficient", "cudnn") if b in env.sdpa_backends]
    groups = build_plan(args, env.fp8_ok, sweep)
    if args.device == "cpu":
        target_s, max_reps = 0.005, 50
    else:
        target_s, max_reps = TARGET_S, MAX_REPS
    md["method"] = {"warmup": WARMUP, "target_ms_per_config": target_s * 1e3, "min_reps": MIN_REPS,
                    "max_reps": max_reps, "timer": "cuda events per rep" if args.device == "cuda"
                    else "time.perf_counter per rep",
                    "l2_defeat": "inputs cycled through a pool of >=4 distinct sets when one set < 3x L2",
                    "mem_limit_bytes": MEM_LIMIT}
    md["plan"] = {name: len(jobs) for name, jobs in groups}
    md["status"] = "running"
    meta.write()

    header = ["infersim GPU calibration: %s" % md["date_utc"], "torch %s (CUDA %s)" % (
        torch.__version__, md["torch_cuda_version"])]
    if args.device == "cuda":
        smi = md["nvidia_smi_start"]
        header.append("GPU %s, driver %s, SM clock %s/%s MHz, mem clock %s/%s MHz, power limit %s W" % (
            md["gpu"]["name"], md.get("cuda_driver_version"), smi.get("clocks.sm"), smi.get("clocks.max.sm"),
            smi.get("clocks.mem"), smi.get("clocks.max.mem"), smi.get("power.limit")))
    else:
        header.append("CPU check run (%s)" % platform.processor())
    for h in header:
        log(h)
    for w in env.warnings:
        log("WARNING: " + w)
    log("plan: " + ", ".join("%s=%d" % (n, len(j)) for n, j in groups))

    # Global warm-up: initialise cuBLAS/cuBLASLt and bring clocks up.
    if args.device == "cuda":
        t = time.perf_counter()
        a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
        dur = 0.3 if args.quick else 1.0
        while time.perf_counter() - t < dur:
            for _ in range(10):
                torch.matmul(a, a)
            torch.cuda.synchronize()
        del a
        torch.cuda.empty_cache()
        md["global_warmup_s"] = round(time.perf_counter() - t, 2)

    skipped_budget, skipped_budget_rows, skipped_mem, errors = [], 0, [], []
    n_rows = n_measured = 0
    per_group = {}
    f = open(args.out, "w", newline="")
    w = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
    w.writeheader()
    f.flush()
    try:
        for gname, jobs in groups:
            g_t = time.perf_counter()
            for job in jobs:
                nlab = len(job.get("labels", [None]))
                if elapsed() > args.budget_s:
                    skipped_budget.append(job_desc(job))
                    skipped_budget_rows += nlab
                    continue
                mem = job_mem_estimate(job, env.l2_bytes, env.gqa_native, not env.has_sdpa)
                if mem > MEM_LIMIT:
                    skipped_mem.append("%s (needs ~%.1f GiB)" % (job_desc(job), mem / float(GiB)))
                    log("skip (memory %.1f GiB > 40 GiB): %s" % (mem / float(GiB), job_desc(job)))
                    continue
                try:
                    if job["kind"] == "gemm":
                        rep, ctx, notes = setup_gemm(env, job)
                    elif job["kind"] == "copy":
                        rep, ctx, notes = setup_copy(env, job)
                    else:
                        rep, ctx, notes = setup_attention(env, job)
                    with ctx:
                        times, gap_risk, batch_mean = measure(timer, rep, target_s, max_reps)
                    notes.append("back_to_back_mean_ms=%s" % fmt(batch_mean))
                    if gap_risk:
                        notes.append("warning: host enqueue outran the spin kernel; launch gaps may inflate times")
                    rows = rows_for(job, times, notes, job.get("scale", 1))
                    for r in rows:
                        w.writerow(r)
                    f.flush()
                    n_rows += len(rows)
                    n_measured += 1
                    r0 = rows[0]
                    log("%-70s %9s ms  %8s TFLOP/s  %7s TB/s  reps=%d" % (
                        job_desc(job)[:70], r0["median_ms"], r0["achieved_tflops"], r0["achieved_tb_per_s"],
                        r0["reps"]))
                except Exception as e:
                    msg = "%s: %s: %s" % (job_desc(job), type(e).__name__, str(e).splitlines()[0][:300]
                                          if str(e) else "")
                    errors.append(msg)
                    log("ERROR " + msg)
                finally:
                    rep = ctx = None
                    if args.device == "cuda" and job_set_bytes(job) > 256 * MiB:
                        torch.cuda.empty_cache()
            per_group[gname] = round(time.perf_counter() - g_t, 2)
            md["group_wall_s"] = per_group
    finally:
        f.close()
    if args.device == "cuda":
        md["nvidia_smi_end"] = nvidia_smi(deadline_s=8.0)
    md["rows_written"] = n_rows
    md["configs_measured"] = n_measured
    md["skipped_budget"] = {"configs": len(skipped_budget), "rows": skipped_budget_rows,
                            "which": skipped_budget[:400]}
    md["skipped_memory"] = skipped_mem
    md["errors"] = errors
    md["elapsed_s"] = round(elapsed(), 2)
    md["status"] = "complete" if not skipped_budget else "budget_exhausted"
    wd.cancel()
    meta.write()
    faulthandler.cancel_dump_traceback_later()
    log("done: %d rows (%d configs measured), %d configs skipped for budget, %d for memory, %d errors; "
        "elapsed %.1f s -> %s" % (n_rows, n_measured, len(skipped_budget), len(skipped_mem), len(errors),
                                  elapsed(), args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
