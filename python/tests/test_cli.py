"""`/usr/bin/python3 -m infersim plot KIND INPUT --out FILE`."""

import os
import subprocess
import sys

import pytest

from conftest import BAD_INPUTS, SCENARIO, SMALL_SWEEP, cli


def plot(*args):
    return subprocess.run([sys.executable, "-m", "infersim", "plot", *args], capture_output=True, text=True)


def test_plot_a_sweep_file(tmp_path):
    out = tmp_path / "per-gpu.png"
    result = plot("per_gpu_vs_per_user", SMALL_SWEEP, "--out", str(out), "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_plot_sweep_rows_and_a_run_report(tmp_path):
    rows = tmp_path / "points.csv"
    cli("sweep", SMALL_SWEEP, "--out", str(rows), "--jobs", "2")
    out = tmp_path / "pareto.svg"
    result = plot("pareto", str(rows), "--out", str(out), "--x", "max:throughput.output_tokens_per_s",
                  "--y", "ttft_s.p99")
    assert result.returncode == 0, result.stderr
    assert b"<svg" in out.read_bytes()[:1000]
    report = tmp_path / "report.json"
    report.write_text(cli("run", SCENARIO, "--set", "workload.requests=200", "--format", "json").stdout)
    result = plot("cost_breakdown", str(report), "--out", str(tmp_path / "cost.png"))
    assert result.returncode == 0, result.stderr


def test_plot_a_trace(tmp_path):
    trace = tmp_path / "timeline.json"
    cli("run", SCENARIO, "--set", "workload.requests=200", "--trace-out", str(trace))
    result = plot("timeline", str(trace), "--out", str(tmp_path / "timeline.png"))
    assert result.returncode == 0, result.stderr


def test_bad_input_exits_2_with_the_message(tmp_path):
    result = plot("cost_breakdown", os.path.join(BAD_INPUTS, "scenario_misspelled_key.json"),
                  "--out", str(tmp_path / "x.png"))
    assert result.returncode == 2
    assert "did you mean \"tensor_parallel\"" in result.stderr
    result = plot("timeline", SCENARIO, "--out", str(tmp_path / "x.gif"))
    assert result.returncode == 2
