"""The pictures inference benchmarks publish, from infersim's results. Each function returns a matplotlib
Figure (made without pyplot, so nothing is shown or kept behind your back: display it in a notebook, or
``fig.savefig("x.png")``) with a title, axis labels with units, a legend and a caption line naming the
scenario, model, hardware and engine.

- ``latency_throughput(points)``: p50/p99 TTFT and TPOT against output throughput, one line per configuration,
  the SLO as a band;
- ``per_gpu_vs_per_user(points)``: output tokens/s per chip against tokens/s per user, one line per
  configuration, with the Pareto frontier;
- ``pareto(points, x, y)``: any two metrics, the frontier highlighted and its points labelled;
- ``cost_breakdown(reports_or_points)``: $ per million output tokens split into input (prefill), output
  (decode) and idle, with the energy per million output tokens;
- ``timeline(trace)``: a ``run --trace-out`` timeline (or ``infersim.simulate(..., timeline=True).timeline``)
  as batch size, KV use and queue length over time.

``points`` is a sweep's DataFrame (``infersim.sweep``, or a ``sweep --out`` file read with
``infersim.plot.read_points``). A sweep's configurations are its swept keys other than the load
(``workload.*``: rate, concurrency, request count); each configuration is one line across the loads.
"""

from __future__ import annotations

import json
import os
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import _frames, _native

__all__ = ["latency_throughput", "per_gpu_vs_per_user", "pareto", "cost_breakdown", "timeline", "read_points",
           "KINDS"]

KINDS = ("latency_throughput", "per_gpu_vs_per_user", "pareto", "cost_breakdown", "timeline")

THROUGHPUT = "metrics.throughput.output_tokens_per_s"
PER_CHIP = "metrics.throughput.output_tokens_per_s_per_chip"

# Axis labels: a metric's words and unit, by its name (the last part before a statistic), longest suffix first.
_UNITS = (
    ("usd_per_million_output_tokens_all_in", "cost all-in", "$ per million output tokens"),
    ("usd_per_million_output_tokens", "cost of output", "$ per million output tokens"),
    ("usd_per_million_input_tokens", "cost of input", "$ per million input tokens"),
    ("usd_per_million_total_tokens", "cost", "$ per million tokens"),
    ("joules_per_output_token", "energy", "J per output token"),
    ("output_tokens_per_s_per_chip", "output throughput per chip", "tokens/s"),
    ("output_tokens_per_s", "output throughput", "tokens/s"),
    ("input_tokens_per_s", "input throughput", "tokens/s"),
    ("total_tokens_per_s", "throughput", "tokens/s"),
    ("requests_per_s", "request rate", "requests/s"),
    ("rate_per_s", "arrival rate", "requests/s"),
    ("usd_per_hour", "cost per hour", "$/h"),
    ("usd_per_day", "cost per day", "$/day"),
    ("total_usd", "cost of the run", "$"),
    ("ttft_s", "TTFT", "s"),
    ("tpot_s", "TPOT", "s"),
    ("itl_s", "ITL", "s"),
    ("e2e_s", "end-to-end latency", "s"),
    ("queue_s", "queueing", "s"),
    ("_kwh", None, "kWh"),
    ("_w", None, "W"),
    ("_s", None, "s"),
)


def read_points(path: str) -> pd.DataFrame:
    """A sweep's output file (``infersim sweep --out FILE``, CSV or JSONL) as the DataFrame the plots take."""
    return _frames.read_sweep_rows(path)


# ----------------------------------------------------------------------------------------------------------
# Helpers shared by the pictures.

def _column(points: pd.DataFrame, name: str) -> str:
    """A column by name, also without its "metrics." prefix (as `sweep --pareto` accepts)."""
    if name in points.columns:
        return name
    if "metrics." + name in points.columns:
        return "metrics." + name
    raise KeyError(f"no column {name!r} in these points; metrics are named like metrics.ttft_s.p99")


def axis_label(column: str) -> str:
    """'metrics.ttft_s.p99' -> 'TTFT p99 (s)': the metric, its statistic, its unit."""
    name = column[len("metrics."):] if column.startswith("metrics.") else column
    parts = name.split(".")
    stat = parts[-1] if len(parts) > 1 and parts[-1] in ("mean", "p50", "p90", "p99", "max") else None
    base = parts[-2] if stat else parts[-1]
    words, unit = base.replace("_", " "), None
    for suffix, label, suffix_unit in _UNITS:
        if base.endswith(suffix):
            words = label if label and base == suffix else base[: len(base) - len(suffix)].strip("_").replace("_", " ")
            unit = suffix_unit
            break
    text = words + (f" {stat}" if stat else "")
    return f"{text} ({unit})" if unit else text


def _name(value) -> str:
    if isinstance(value, Mapping):
        return str(value.get("name", "inline"))
    return "-" if value is None else str(value)


def _caption_text(scenario: Mapping, swept: Sequence[str] = ()) -> str:
    """'scenario S · model M · hardware H · engine E' (a swept one says so)."""
    fields = []
    for key in ("name", "model", "hardware", "engine"):
        label = "scenario" if key == "name" else key
        if key in swept:
            value = "swept"
        elif key == "engine" and not scenario.get("engine"):
            value = "vllm (default)" if scenario else "-"
        else:
            value = _name(scenario.get(key))
        fields.append(f"{label} {value}")
    return " · ".join(fields)


def _finish(fig: Figure, title: str, caption: str) -> Figure:
    fig.suptitle(title, fontsize=13)
    fig.text(0.01, 0.01, caption, fontsize=8, color="0.3", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    return fig


def _points_caption(points: pd.DataFrame) -> str:
    return _caption_text(points.attrs.get("scenario", {}) or {}, points.attrs.get("swept_keys", []))


def _config_keys(points: pd.DataFrame) -> list:
    return [k for k in points.attrs.get("swept_keys", []) if not k.startswith("workload.")]


def _short(key: str) -> str:
    return key.split(".")[-1]


def _configurations(points: pd.DataFrame):
    """(label, rows) per configuration, in the order of first appearance; rows without an error only."""
    ok = points[points["error"].isna()] if "error" in points.columns else points
    keys = _config_keys(points)
    if not keys:
        return [("all points", ok)]
    groups = []
    for values, rows in ok.groupby(keys if len(keys) > 1 else keys[0], sort=False, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        groups.append((", ".join(f"{_short(k)}={v}" for k, v in zip(keys, values)), rows))
    return groups


def _point_labels(points: pd.DataFrame) -> list:
    # The swept keys that take more than one value here (a single-valued zip, such as a request count, says
    # nothing about which point is which).
    keys = [k for k in points.attrs.get("swept_keys", []) if k in points.columns and points[k].nunique(dropna=False) > 1]
    if not keys:
        return [str(p) for p in points.get("point", range(len(points)))]
    cells = points[keys].astype(str)
    return cells.apply(lambda row: ", ".join(f"{_short(k)}={v}" for k, v in row.items()), axis=1).tolist()


def pareto_front(x: Iterable[float], y: Iterable[float], maximize_x: bool = False, maximize_y: bool = False) -> list:
    """Indices of the Pareto-optimal points (the library's frontier, as `sweep --pareto`), by ascending x
    when x is minimized."""
    return list(_native.pareto_front(np.asarray(x, float).tolist(), np.asarray(y, float).tolist(), maximize_x,
                                     maximize_y))


# ----------------------------------------------------------------------------------------------------------
# The pictures.

def latency_throughput(points: pd.DataFrame, slo: Optional[Mapping[str, float]] = None) -> Figure:
    """TTFT and TPOT (p50 dashed, p99 solid) against output throughput, one colour per configuration; the
    region beyond the SLO's p99 targets (``slo`` = {"ttft_p99_s", "tpot_p99_s"}, default the scenario's) shaded."""
    slo = dict(slo if slo is not None else (points.attrs.get("scenario", {}) or {}).get("slo", {}) or {})
    fig = Figure(figsize=(11, 4.8))
    ax_ttft, ax_tpot = fig.subplots(1, 2)
    panels = ((ax_ttft, "ttft_s", 1.0, "s", "ttft_p99_s", "Time to first token"),
              (ax_tpot, "tpot_s", 1e3, "ms", "tpot_p99_s", "Time per output token"))
    colors = [f"C{i % 10}" for i in range(64)]
    for (label, rows), color in zip(_configurations(points), colors):
        rows = rows.sort_values(THROUGHPUT)
        x = rows[THROUGHPUT].to_numpy()
        for ax, metric, scale, _, _, _ in panels:
            ax.plot(x, rows[f"metrics.{metric}.p99"].to_numpy() * scale, "-o", color=color, ms=4, label=f"{label} p99")
            ax.plot(x, rows[f"metrics.{metric}.p50"].to_numpy() * scale, "--", color=color, lw=1, label=f"{label} p50")
    ttft = points[[c for c in ("metrics.ttft_s.p50", "metrics.ttft_s.p99") if c in points.columns]].to_numpy(float)
    ttft = ttft[np.isfinite(ttft) & (ttft > 0)]
    if ttft.size and ttft.max() > 100 * ttft.min():
        ax_ttft.set_yscale("log")  # queues that grow under overload next to a fraction of a second
    for ax, metric, scale, unit, slo_key, title in panels:
        ax.set_title(title)
        ax.set_xlabel("output throughput (tokens/s)")
        ax.set_ylabel(f"{metric.split('_')[0].upper()} ({unit})")
        ax.grid(True, alpha=0.3)
        if slo.get(slo_key) is not None:
            limit = float(slo[slo_key]) * scale
            top = max(ax.get_ylim()[1], limit * 1.2)
            ax.axhspan(limit, top, color="red", alpha=0.08, label=f"beyond the SLO (p99 {limit:g} {unit})")
            ax.set_ylim(top=top)
        ax.legend(fontsize=7)
    return _finish(fig, "Latency against throughput", _points_caption(points))


def per_gpu_vs_per_user(points: pd.DataFrame) -> Figure:
    """Output tokens/s per chip against output tokens/s per user (1 / median TPOT), one line per configuration
    across the loads, and the Pareto frontier of every point (both maximized)."""
    fig = Figure(figsize=(8, 5.5))
    ax = fig.subplots()
    per_user = 1.0 / points["metrics.tpot_s.p50"]
    for label, rows in _configurations(points):
        x = (1.0 / rows["metrics.tpot_s.p50"]).to_numpy()
        order = np.argsort(x)
        ax.plot(x[order], rows[PER_CHIP].to_numpy()[order], "-o", ms=4, alpha=0.8, label=label)
    ok = points["error"].isna() if "error" in points.columns else np.ones(len(points), bool)
    xs = np.where(ok, per_user, np.nan)
    front = pareto_front(xs, points[PER_CHIP], maximize_x=True, maximize_y=True)
    ax.plot(xs[front], points[PER_CHIP].to_numpy()[front], "k--", marker="D", ms=6, mfc="none", lw=1.5,
            label="Pareto frontier")
    ax.set_xlabel("interactivity: output tokens/s per user (1 / median TPOT)")
    ax.set_ylabel("output throughput per chip (tokens/s)")
    ax.set_title("Throughput per chip against speed per user")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.infersim_frontier = front
    return _finish(fig, "Tokens/s per chip against tokens/s per user", _points_caption(points))


def pareto(points: pd.DataFrame, x: str = "metrics.cost.usd_per_million_output_tokens_all_in",
           y: str = "metrics.ttft_s.p99", maximize_x: bool = False, maximize_y: bool = False) -> Figure:
    """Every point of a sweep (or plan) on two metrics; the frontier (what no other point beats on both,
    each minimized unless maximize_*; a "max:" prefix says the same) highlighted and its points labelled."""
    if x.startswith("max:"):
        x, maximize_x = x[4:], True
    if y.startswith("max:"):
        y, maximize_y = y[4:], True
    x, y = _column(points, x), _column(points, y)
    ok = points["error"].isna().to_numpy() if "error" in points.columns else np.ones(len(points), bool)
    xs = np.where(ok, points[x].to_numpy(float), np.nan)
    ys = points[y].to_numpy(float)
    fig = Figure(figsize=(8, 5.5))
    ax = fig.subplots()
    ax.scatter(xs, ys, s=18, color="0.6", label="points", zorder=2)
    front = pareto_front(xs, ys, maximize_x, maximize_y)
    ax.plot(xs[front], ys[front], "-o", color="C3", ms=7, lw=1.5, label="Pareto frontier", zorder=3)
    labels = _point_labels(points)
    for i in front:
        ax.annotate(labels[i], (xs[i], ys[i]), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.set_xlabel(axis_label(x) + (" (higher is better)" if maximize_x else ""))
    ax.set_ylabel(axis_label(y) + (" (higher is better)" if maximize_y else ""))
    ax.set_title(f"{len(front)} of {int(np.isfinite(xs).sum())} points on the frontier")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.infersim_frontier = front
    return _finish(fig, "Pareto frontier", _points_caption(points))


def _cost_table(data) -> tuple[pd.DataFrame, list, str]:
    """(rows with the cost and energy columns, a label per row, caption) from a report, reports or points."""
    if isinstance(data, pd.DataFrame):
        rows = data[data["error"].isna()] if "error" in data.columns else data
        return rows.reset_index(drop=True), _point_labels(rows), _points_caption(data)
    reports = [data] if isinstance(data, Mapping) else list(data)
    rows = pd.json_normalize([{"metrics": r["metrics"]} for r in reports])
    labels = [r["scenario"].get("name", f"run {i}") for i, r in enumerate(reports)]
    first = reports[0]["scenario"]
    if len(set(labels)) > 1:
        first = dict(first, name=f"{len(set(labels))} scenarios")
    return rows, labels, _caption_text(first)


def cost_breakdown(data) -> Figure:
    """$ per million output tokens (all-in: every dollar the deployment costs over the run) split into the
    prefill of the inputs, the decode of the outputs (the busy time, by metrics.cost.prefill_share) and the
    idle time (1 - busy_fraction); beside it, the energy per million output tokens. ``data``: a run report, a
    list of them, or a sweep's points."""
    rows, labels, caption = _cost_table(data)
    all_in = rows["metrics.cost.usd_per_million_output_tokens_all_in"].to_numpy(float)
    busy = rows["metrics.cost.busy_fraction"].to_numpy(float)
    prefill = rows["metrics.cost.prefill_share"].to_numpy(float)
    parts = {"input (prefill)": all_in * busy * prefill, "output (decode)": all_in * busy * (1 - prefill),
             "idle": all_in * (1 - busy)}
    kwh = rows["metrics.energy.joules_per_output_token"].to_numpy(float) * 1e6 / 3.6e6
    fig = Figure(figsize=(11, 1.6 + 0.45 * len(labels)))
    ax_cost, ax_energy = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]}, sharey=True)
    y = np.arange(len(labels))
    left = np.zeros(len(labels))
    for (name, values), color in zip(parts.items(), ("C0", "C1", "0.7")):
        ax_cost.barh(y, values, left=left, color=color, label=name)
        left += np.nan_to_num(values)
    ax_cost.set_yticks(y, labels, fontsize=8)
    ax_cost.invert_yaxis()
    ax_cost.set_xlabel("$ per million output tokens (all-in)")
    ax_cost.set_title("Cost per million output tokens")
    ax_cost.legend(fontsize=8, loc="lower right")
    ax_energy.barh(y, kwh, color="C2", label="energy (chips x PUE)")
    ax_energy.set_xlabel("kWh per million output tokens")
    ax_energy.set_title("Energy")
    ax_energy.legend(fontsize=8, loc="lower right")
    for ax in (ax_cost, ax_energy):
        ax.grid(True, axis="x", alpha=0.3)
    return _finish(fig, "Where the money goes", caption)


def _load_trace(trace) -> dict:
    if isinstance(trace, Mapping):
        return dict(trace)
    with open(os.fspath(trace), encoding="utf-8") as f:
        return json.load(f)


def timeline(trace) -> Figure:
    """A timeline (``run --trace-out FILE``, or ``infersim.simulate(..., timeline=True).timeline``): per
    replica, the sequences decoding in each step that decodes and the KV-cache tokens they read (the trace's
    context_tokens); and the requests waiting for their first step. Time in seconds from the first arrival."""
    trace = _load_trace(trace)
    events = pd.DataFrame.from_records(trace.get("traceEvents", []))
    if events.empty or "cat" not in events.columns:
        raise ValueError("not an infersim timeline: no traceEvents (write one with `infersim run ... --trace-out FILE`)")
    steps = events[events["cat"] == "step"]
    args = pd.DataFrame.from_records(steps["args"].tolist(), index=steps.index)
    # Steps with sequences decoding (pure prefill steps would drop both lines to 0 between decode steps).
    steps = steps[args["decode_sequences"] > 0]
    names = events[(events["ph"] == "M") & (events["name"] == "process_name")]
    replica_name = {pid: a["name"] for pid, a in zip(names["pid"], names["args"])}
    fig = Figure(figsize=(11, 7.5))
    ax_batch, ax_kv, ax_queue = fig.subplots(3, 1, sharex=True)
    for pid, rows in steps.groupby("pid", sort=True):
        t = rows["ts"].to_numpy(float) / 1e6
        label = replica_name.get(pid, f"replica {pid - 1}")
        ax_batch.step(t, args.loc[rows.index, "decode_sequences"].to_numpy(), where="post", lw=1, label=label)
        ax_kv.step(t, args.loc[rows.index, "context_tokens"].to_numpy() / 1e3, where="post", lw=1, label=label)
    queued = events[(events["cat"] == "request") & (events["name"] == "queued")]
    order = np.argsort(queued["ts"].to_numpy(float), kind="stable")
    t_queue = queued["ts"].to_numpy(float)[order] / 1e6
    length = np.cumsum(np.where(queued["ph"].to_numpy()[order] == "b", 1, -1))
    ax_queue.step(t_queue, length, where="post", color="C3", lw=1, label="requests waiting for their first step")
    ax_batch.set_ylabel("decode batch (sequences)")
    ax_batch.set_title("Batch size per step")
    ax_kv.set_ylabel("KV read (thousand tokens)")
    ax_kv.set_title("KV cache in use by the step's decode sequences")
    ax_queue.set_ylabel("queue length (requests)")
    ax_queue.set_title("Queue")
    ax_queue.set_xlabel("time (s)")
    for ax in (ax_batch, ax_kv, ax_queue):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    other = trace.get("otherData", {})
    caption = _caption_text({"name": other.get("scenario"), "model": other.get("model"),
                             "hardware": other.get("hardware"), "engine": other.get("engine") or "-"})
    if other.get("steps_not_recorded"):
        caption += f" · {other['steps_not_recorded']} steps not recorded"
    return _finish(fig, "Timeline", caption)
