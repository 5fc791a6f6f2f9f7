"""Sweeps, rooflines and catalogs as DataFrames with the CLI's columns and values."""

import io
import json
import os
import pathlib

import numpy as np
import pandas as pd
import pytest

import infersim
from conftest import CONFIGS, SMALL_SWEEP, cli, cli_json


def test_sweep_frame_is_the_cli_csv(small_points):
    expected = pd.read_csv(io.StringIO(cli("sweep", SMALL_SWEEP, "--jobs", "2").stdout))
    assert list(small_points.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(small_points, expected)
    assert len(small_points) == 2 * 4
    assert small_points.attrs["swept_keys"] == ["scheduler.max_batch_size", "workload.arrival.rate_per_s",
                                               "workload.requests"]
    assert small_points.attrs["scenario"]["model"] == "llama-3.1-8b"


def test_sweep_of_a_dict_matches_the_file(small_points):
    with open(SMALL_SWEEP, encoding="utf-8") as f:
        sweep = json.load(f)
    sweep["base"] = SMALL_SWEEP.rsplit("/", 2)[0] + "/scenarios/chat-llama-3.1-8b-h100.json"
    sweep["grid"]["workload.arrival.rate_per_s"] = [6]
    points = infersim.sweep(sweep, jobs=1)
    assert len(points) == 2
    same = small_points[small_points["workload.arrival.rate_per_s"] == 6].reset_index(drop=True)
    metrics = [c for c in points.columns if c.startswith("metrics.")]
    pd.testing.assert_frame_equal(points[metrics], same[metrics])


def test_per_chip_throughput_is_throughput_over_chips(small_points):
    # One H100 per point: tokens/s per chip equals tokens/s.
    np.testing.assert_allclose(small_points["metrics.throughput.output_tokens_per_s_per_chip"],
                               small_points["metrics.throughput.output_tokens_per_s"])


def test_roofline_frame_is_the_cli_json():
    expected = cli_json("roofline", "--model", "llama-2-7b", "--hardware", "a100-sxm-80gb", "--batch", "8",
                        "--context", "512", "--format", "json")
    frame = infersim.roofline("llama-2-7b", "a100-sxm-80gb", batch=8, context=512)
    assert list(frame.columns) == list(expected["operators"][0].keys())
    assert frame.to_dict("records") == expected["operators"]
    assert frame.attrs["totals"] == expected["totals"]
    # The totals are the sums over every operator instance.
    assert np.isclose((frame["count"] * frame["time_s"]).sum(), frame.attrs["totals"]["time_s"], rtol=1e-12)
    # Llama-2-7B decode at batch 8, context 512 reads its 6.74 B bf16 weights once (13.5 GB) and the KV cache of
    # 8 x 512 tokens at 2 x 32 layers x 4096 x 2 bytes = 0.5 MiB a token (2.15 GB): about 15.6 GB.
    assert frame.attrs["totals"]["bytes"] == pytest.approx(13.48e9 + 2.15e9, rel=0.04)


@pytest.mark.parametrize("engine", [None, "sglang"])
def test_roofline_takes_the_engine_as_the_cli(engine):
    # FP8 weights, activations and KV cache on an H100: the default engine (vllm-v1) runs attention in FP8 and
    # SGLang does not; SGLang also dispatches the expert all-to-all in FP8. Python and the CLI price it alike.
    args = ["--model", "deepseek-v3", "--hardware", "h200-sxm", "--batch", "64", "--context", "1024",
            "--tensor-parallel", "8", "--expert-parallel", "8", "--attention-data-parallel", "8",
            "--redundant-experts", "8", "--kv-cache-dtype", "fp8", "--format", "json"]
    expected = cli_json("roofline", *args, *([] if engine is None else ["--engine", engine]))
    frame = infersim.roofline("deepseek-v3", "h200-sxm", batch=64, context=1024, tensor_parallel=8,
                              expert_parallel=8, attention_data_parallel=8, redundant_experts=8,
                              kv_cache_dtype="fp8", engine=engine)
    assert frame.to_dict("records") == expected["operators"]
    bytes_of = dict(zip(frame["name"], frame["bytes"]))
    assert bytes_of["ep_dispatch"] / bytes_of["ep_combine"] == pytest.approx(1.03125 / 2 if engine else 1.0)


def test_roofline_takes_dicts_and_paths_for_catalog_entries():
    # A dict (an inline object) and a path give the same step as the catalog name they copy.
    by_name = infersim.roofline("llama-2-7b", "h100-sxm", batch=4, context=256, engine="sglang")
    with open(os.path.join(CONFIGS, "models", "llama-2-7b.json"), encoding="utf-8") as f:
        model = json.load(f)
    with open(os.path.join(CONFIGS, "engines", "sglang.json"), encoding="utf-8") as f:
        engine = json.load(f)
    inline = infersim.roofline(model, "h100-sxm", batch=4, context=256, engine=engine)
    by_path = infersim.roofline("llama-2-7b", os.path.join(CONFIGS, "hardware", "h100-sxm.json"), batch=4,
                                context=256, engine=pathlib.Path(CONFIGS, "engines", "sglang.json"))
    assert inline.to_dict("records") == by_name.to_dict("records")
    assert by_path.to_dict("records") == by_name.to_dict("records")


def test_roofline_prefill_and_parallelism():
    frame = infersim.roofline("llama-3.1-70b", "h100-sxm", phase="prefill", batch=2, context=1024,
                              tensor_parallel=4, weight_dtype="fp8")
    assert frame.attrs["phase"] == "prefill"
    assert frame.attrs["deployment"]["tensor_parallel"] == 4
    assert frame.attrs["deployment"]["weight_dtype"] == "fp8"
    assert "network" in set(frame["bound"]) or "compute" in set(frame["bound"])


@pytest.mark.parametrize("kind", ["hardware", "models", "engines"])
def test_catalog_is_the_cli_list(kind):
    expected = cli_json("list", kind, "--format", "json")
    frame = infersim.catalog(kind)
    assert frame["name"].tolist() == [e["name"] for e in expected]
    pd.testing.assert_frame_equal(frame, pd.json_normalize(expected))


def test_catalog_figures():
    hardware = infersim.catalog("hardware").set_index("name")
    # H100 SXM: 80 GiB of HBM3 (81,559 MiB as nvidia-smi reports it = 85.52 GB) at 3.35 TB/s, 989 dense BF16
    # TFLOPS (NVIDIA's datasheet).
    assert hardware.loc["h100-sxm", "memory_gb"] == pytest.approx(81559 * 2**20 / 1e9, rel=0.001)
    assert hardware.loc["h100-sxm", "memory_tb_per_s"] == pytest.approx(3.35, rel=0.01)
    assert hardware.loc["h100-sxm", "peak_tflops.bf16"] == pytest.approx(989, rel=0.01)
    models = infersim.catalog("models").set_index("name")
    assert models.loc["llama-3.1-8b", "layers"] == 32


# A 1B model on four chips at two TP degrees: 8 candidates, 150 requests per simulation (as tests/cli's plan).
SMALL_PLAN = {
    "name": "py-plan",
    "base": {"name": "b", "model": "llama-3.2-1b", "hardware": "h100-sxm",
             "workload": {"requests": 150, "seed": 2, "arrival": {"process": "poisson", "rate_per_s": 1},
                          "input_tokens": 256, "output_tokens": {"distribution": "uniform", "min": 16, "max": 64}}},
    "target": {"rate_per_s": 40}, "slo": {"ttft_p99_s": 0.3, "tpot_p99_s": 0.02},
    "search": {"hardware": ["h100-sxm", "l4", "mi300x", "l40s"], "deployment.tensor_parallel": [1, 2]},
    "max_replicas": 16,
}


def test_plan_frame_is_the_cli_json(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(SMALL_PLAN))
    expected = cli_json("plan", str(path), "--format", "json", "--top", "4", "--jobs", "2")
    frame = infersim.plan(str(path), jobs=2, top=4)
    assert frame.attrs["report"] == expected
    assert len(frame) == len(expected["candidates"]) <= 4
    assert list(frame["hardware"]) == [c["hardware"] for c in expected["candidates"]]
    assert list(frame["usd_per_hour"]) == [c["usd_per_hour"] for c in expected["candidates"]]
    # Ranked by the objective ($/hour), cheapest first; the overrides that reproduce each one, flattened.
    assert list(frame["usd_per_hour"]) == sorted(frame["usd_per_hour"])
    assert "overrides.hardware" in frame.columns
    assert frame.attrs["frontier"] == expected["frontier"] and frame.attrs["skipped"] == expected["skipped"]
    # A dict gives the same plan as its file, whatever the thread count.
    assert infersim.plan(SMALL_PLAN, jobs=1, top=4).attrs["report"]["candidates"] == expected["candidates"]


def test_plan_errors_are_config_errors():
    bad = dict(SMALL_PLAN, objectve="chips")
    with pytest.raises(infersim.ConfigError, match="did you mean \"objective\""):
        infersim.plan(bad)
