"""infersim from Python: the simulator's C++ library (the one the ``infersim`` command uses), called in-process.

Use Debian's interpreter, ``/usr/bin/python3`` (the one whose packages provide numpy, pandas and matplotlib;
another ``python3`` may come first on PATH)::

    import infersim
    report = infersim.run("configs/scenarios/chat-llama-3.1-8b-h100.json", set={"workload.arrival.rate_per_s": 20})
    points = infersim.sweep("configs/sweeps/chat-8b-tp-batch.json", jobs=2)      # a pandas DataFrame
    fig = infersim.plot.per_gpu_vs_per_user(points)

Every function raises ``infersim.ConfigError`` (bad input: file, JSON path, what was expected, as the CLI
prints it), ``infersim.InfeasibleError`` (a valid configuration that cannot run), ``infersim.UsageError`` (a
bad argument); long calls release the GIL and stop with KeyboardInterrupt on Ctrl-C. See docs/python.md.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Mapping, NamedTuple, Optional, Union

from . import _frames, _native
from ._native import ConfigError, Error, InfeasibleError, InternalError, UsageError

__version__ = _native.__version__
__all__ = [
    "run", "simulate", "requests", "sweep", "roofline", "catalog", "plan", "Run",
    "Error", "ConfigError", "InfeasibleError", "UsageError", "InternalError", "InfersimWarning", "plot",
]

Source = Union[str, "os.PathLike[str]", Mapping[str, Any]]


class InfersimWarning(UserWarning):
    """What the CLI prints as a warning: unusual scenarios, sweep points that failed."""


class Run(NamedTuple):
    """One simulation: ``report`` (the ``run --format json`` dict), ``requests`` (one DataFrame row per request,
    the columns of ``run --requests-out``, or None) and ``timeline`` (the ``run --trace-out`` trace as a dict, or
    None)."""

    report: dict
    requests: Any
    timeline: Optional[dict]


def _source(value: Source, what: str) -> tuple[str, bool]:
    """(text, is_path): a dict travels as JSON text, a path as itself."""
    if isinstance(value, Mapping):
        return json.dumps(value, allow_nan=False), False
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value), True
    raise TypeError(f"{what} must be a path or a dict, not {type(value).__name__}")


def _overrides(set: Optional[Mapping[str, Any]]) -> list[tuple[str, str]]:
    if set is None:
        return []
    if not isinstance(set, Mapping):
        raise TypeError("set must be a dict of dotted keys to values, e.g. {'workload.arrival.rate_per_s': 20}")
    return [(str(key), json.dumps(value, allow_nan=False)) for key, value in set.items()]


def _warn(messages, stacklevel: int) -> None:
    """Each message as an InfersimWarning pointing at the caller's line (stacklevel: frames above _warn)."""
    for message in messages:
        warnings.warn(message, InfersimWarning, stacklevel=stacklevel + 1)


def _simulate(scenario: Source, set, requests: bool, timeline: bool) -> Run:
    text, is_path = _source(scenario, "scenario")
    report_json, columns, trace_json, _ = _native.run(text, is_path, _overrides(set), requests, timeline)
    report = json.loads(report_json)
    _warn(report.get("warnings", []), 3)
    return Run(report, _frames.requests_frame(columns) if columns is not None else None,
               json.loads(trace_json) if trace_json is not None else None)


def simulate(scenario: Source, set: Optional[Mapping[str, Any]] = None, *, requests: bool = True,
             timeline: bool = False) -> Run:
    """Simulate a scenario (a path or a dict, with ``set`` = dotted key -> value overrides, as ``run --set``)."""
    return _simulate(scenario, set, requests, timeline)


def run(scenario: Source, set: Optional[Mapping[str, Any]] = None) -> dict:
    """The report of ``infersim run SCENARIO --set ... --format json``, as a dict (schema_version 1)."""
    return _simulate(scenario, set, False, False).report


def requests(scenario: Source, set: Optional[Mapping[str, Any]] = None):
    """Per-request results (``run --requests-out``) as a DataFrame: id, replica, arrival_s, input_tokens,
    output_tokens, queue_s, ttft_s, tpot_s, e2e_s, completion_s, preemptions."""
    return _simulate(scenario, set, True, False).requests


def sweep(sweep: Source, jobs: Optional[int] = None):
    """Every point of a sweep file (a path or a dict) as a DataFrame: the CLI's columns (the swept keys, then
    ``metrics.*``, ``error``, ``point``). ``jobs`` threads (default: every core). Points that fail keep their
    row with ``error`` filled, and a warning says how many."""
    text, is_path = _source(sweep, "sweep")
    if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
        raise UsageError(f"jobs must be a positive integer, not {jobs!r}")
    csv, keys, base_json, summary = _native.sweep(text, is_path, jobs or 0)
    if summary["failed"]:
        _warn([f"{summary['failed']} of {summary['points']} points failed (their rows have the error column "
               f"filled); the first, {summary['first_error']}"], 2)
    return _frames.sweep_frame(csv, keys, json.loads(base_json))


def roofline(model: str, hardware: str, *, phase: str = "decode", batch: int = 1, context: int = 1024,
             tensor_parallel: int = 1, pipeline_parallel: int = 1, expert_parallel: int = 1,
             attention_data_parallel: int = 1, redundant_experts: int = 0,
             weight_dtype: Optional[str] = None, activation_dtype: Optional[str] = None,
             kv_cache_dtype: Optional[str] = None, memory_utilization: float = 0.9, ignore_memory: bool = False,
             engine: Optional[Source] = None):
    """``infersim roofline``: one step's operators as a DataFrame (the columns of ``--format json``'s
    ``operators``); ``.attrs`` holds the rest of that JSON (totals, memory, deployment, ...). ``engine`` (catalog
    name, path or dict; None: the CLI's default engine) decides FP8 attention and the expert all-to-all kernels,
    as ``--engine`` does."""
    model_text = model if isinstance(model, str) else json.dumps(model)
    hardware_text = hardware if isinstance(hardware, str) else json.dumps(hardware)
    engine_text = "" if engine is None else json.dumps(engine) if isinstance(engine, Mapping) else os.fspath(engine)
    report = json.loads(_native.roofline(model_text, hardware_text, phase, batch, context, tensor_parallel,
                                         pipeline_parallel, expert_parallel, attention_data_parallel,
                                         redundant_experts, weight_dtype or "", activation_dtype or "",
                                         kv_cache_dtype or "", memory_utilization, ignore_memory, engine_text))
    return _frames.roofline_frame(report)


def catalog(kind: str):
    """``infersim list hardware|models|engines --format json`` as a DataFrame, nested keys flattened with dots
    (``peak_tflops.fp8``)."""
    return _frames.catalog_frame(json.loads(_native.catalog(kind)))


def plan(plan: Source, jobs: Optional[int] = None, top: int = 10):
    """``infersim plan``: the ranked candidates as a DataFrame, the columns of ``plan --format json``'s
    ``candidates`` (overrides flattened as ``overrides.KEY``); ``.attrs``: frontier, skipped, and the whole
    output under ``report``. Runs the same planner as the CLI, so it gives the same ranking for any ``jobs``."""
    text, is_path = _source(plan, "plan")
    report = json.loads(_native.plan(text, is_path, jobs or 0, top))
    frame = _frames.plan_frames(report)
    frame.attrs["report"] = report
    return frame


def __getattr__(name: str):
    # infersim.plot imports matplotlib (a second or so): only when it is used.
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module 'infersim' has no attribute {name!r}")
