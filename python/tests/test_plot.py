"""Each picture from the small shipped sweep: what was drawn, read back from the Figure."""

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.patches import Polygon, Rectangle

import infersim
import infersim.plot as plot
from conftest import SCENARIO, SHORT


def brute_force_front(x, y):
    """Indices no other point beats on both (both maximized), by checking every pair."""
    keep = []
    for i in range(len(x)):
        if np.isnan(x[i]) or np.isnan(y[i]):
            continue
        beaten = any(x[j] >= x[i] and y[j] >= y[i] and (x[j] > x[i] or y[j] > y[i]) for j in range(len(x)))
        if not beaten:
            keep.append(i)
    return keep


def caption(fig):
    return " ".join(t.get_text() for t in fig.texts)


def check_caption(fig):
    text = caption(fig)
    for part in ("scenario chat-llama-3.1-8b-h100", "model llama-3.1-8b", "hardware h100-sxm", "engine vllm"):
        assert part in text, text


def test_latency_throughput(small_points):
    fig = plot.latency_throughput(small_points)
    ttft, tpot = fig.axes
    # Two configurations (max_batch_size 16 and 256), each a p99 and a p50 line over the four loads.
    for ax in (ttft, tpot):
        assert len(ax.lines) == 4
        assert all(len(line.get_xdata()) == 4 for line in ax.lines)
        assert ax.get_legend() is not None
        # The SLO (p99 TTFT 1 s, TPOT 50 ms) as a shaded band.
        assert any(isinstance(p, Polygon) for p in ax.patches)
    assert ttft.get_xlabel() == "output throughput (tokens/s)"
    assert ttft.get_ylabel() == "TTFT (s)" and tpot.get_ylabel() == "TPOT (ms)"
    band = next(p for p in tpot.patches if isinstance(p, Polygon))
    assert band.get_xy()[:, 1].min() == pytest.approx(50.0)
    # TPOT plotted in ms: the p99 line of the first configuration is the metric x 1000.
    rows = small_points[small_points["scheduler.max_batch_size"] == 16].sort_values(plot.THROUGHPUT)
    np.testing.assert_allclose(tpot.lines[0].get_ydata(), rows["metrics.tpot_s.p99"] * 1e3)
    check_caption(fig)


def test_per_gpu_vs_per_user_with_its_frontier(small_points):
    fig = plot.per_gpu_vs_per_user(small_points)
    (ax,) = fig.axes
    assert len(ax.lines) == 2 + 1  # two configurations and the frontier
    assert ax.get_xlabel().startswith("interactivity: output tokens/s per user")
    assert ax.get_ylabel() == "output throughput per chip (tokens/s)"
    frontier = ax.lines[-1]
    assert frontier.get_label() == "Pareto frontier"
    x = (1.0 / small_points["metrics.tpot_s.p50"]).to_numpy()
    y = small_points["metrics.throughput.output_tokens_per_s_per_chip"].to_numpy()
    expected = brute_force_front(x, y)
    assert sorted(fig.infersim_frontier) == sorted(expected)
    assert sorted(zip(frontier.get_xdata(), frontier.get_ydata())) == sorted(zip(x[expected], y[expected]))
    check_caption(fig)


def test_pareto_of_any_two_metrics(small_points):
    fig = plot.pareto(small_points, "cost.usd_per_million_output_tokens_all_in", "ttft_s.p99")
    (ax,) = fig.axes
    scatter = next(c for c in ax.collections if isinstance(c, PathCollection))
    assert len(scatter.get_offsets()) == len(small_points)
    x = -small_points["metrics.cost.usd_per_million_output_tokens_all_in"].to_numpy()
    y = -small_points["metrics.ttft_s.p99"].to_numpy()
    expected = brute_force_front(x, y)  # both minimized: maximize their negatives
    assert sorted(fig.infersim_frontier) == sorted(expected)
    assert len(ax.texts) == len(expected)  # each frontier point labelled with its configuration
    assert all("max_batch_size=" in t.get_text() for t in ax.texts)
    assert not any("requests=" in t.get_text() for t in ax.texts)  # a single-valued key tells no point apart
    assert ax.get_xlabel() == "cost all-in ($ per million output tokens)"
    assert ax.get_ylabel() == "TTFT p99 (s)"
    check_caption(fig)


def test_cost_breakdown_adds_up_to_the_all_in_cost():
    reports = [infersim.run(SCENARIO, set={**SHORT, "workload.arrival.rate_per_s": r}) for r in (2, 8)]
    fig = plot.cost_breakdown(reports)
    ax_cost, ax_energy = fig.axes
    bars = [p for p in ax_cost.patches if isinstance(p, Rectangle)]
    assert len(bars) == 3 * 2  # input, output, idle for each of the two runs
    totals = np.zeros(2)
    for container in ax_cost.containers:
        totals += [bar.get_width() for bar in container]
    for total, report in zip(totals, reports):
        m = report["metrics"]
        output_tokens = m["throughput"]["output_tokens_per_s"] * m["simulated_duration_s"]
        # All-in: every dollar of the run over its output tokens, derived from total_usd.
        assert total == pytest.approx(m["cost"]["total_usd"] / output_tokens * 1e6, rel=1e-6)
    energy = [bar.get_width() for bar in ax_energy.containers[0]]
    assert energy[0] == pytest.approx(reports[0]["metrics"]["energy"]["joules_per_output_token"] / 3.6, rel=1e-9)
    assert [t.get_text() for t in ax_cost.get_legend().get_texts()] == ["input (prefill)", "output (decode)", "idle"]
    assert ax_cost.get_xlabel() == "$ per million output tokens (all-in)"
    check_caption(fig)


def test_cost_breakdown_of_a_sweep(small_points):
    fig = plot.cost_breakdown(small_points)
    assert len(fig.axes[0].containers) == 3
    assert len(fig.axes[0].containers[0]) == len(small_points)


def test_timeline():
    result = infersim.simulate(SCENARIO, set={**SHORT, "deployment.replicas": 2}, requests=False, timeline=True)
    fig = plot.timeline(result.timeline)
    ax_batch, ax_kv, ax_queue = fig.axes
    assert len(ax_batch.lines) == 2 and len(ax_kv.lines) == 2  # one line per replica
    decoding = [e for e in result.timeline["traceEvents"] if e.get("cat") == "step" and e["args"]["decode_sequences"] > 0]
    assert sum(len(line.get_xdata()) for line in ax_batch.lines) == len(decoding)
    assert min(min(line.get_ydata()) for line in ax_batch.lines) >= 1
    (queue,) = ax_queue.lines
    assert queue.get_ydata()[-1] == 0  # every request left the queue
    assert queue.get_ydata().min() >= 0
    assert ax_queue.get_xlabel() == "time (s)"
    assert ax_batch.get_ylabel() == "decode batch (sequences)"
    check_caption(fig)


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_figures_save(small_points, tmp_path, suffix):
    out = tmp_path / f"points.{suffix}"
    plot.per_gpu_vs_per_user(small_points).savefig(out)
    head = out.read_bytes()[:8]
    assert head.startswith(b"\x89PNG") if suffix == "png" else b"<?xml" in head
