"""The library's results as pandas DataFrames: one conversion each, no loop over rows in Python."""

from __future__ import annotations

import io

import pandas as pd


def requests_frame(columns: dict) -> pd.DataFrame:
    """Numpy columns filled in C++ (scenario::kRequestColumns order)."""
    return pd.DataFrame(columns, copy=False)


def sweep_frame(csv: str, keys: list, base: dict) -> pd.DataFrame:
    """The CSV the CLI writes for a sweep, read once. attrs: swept_keys, scenario (the base scenario)."""
    frame = pd.read_csv(io.StringIO(csv))
    frame.attrs["swept_keys"] = list(keys)
    frame.attrs["scenario"] = base
    return frame


def read_sweep_rows(path: str) -> pd.DataFrame:
    """A sweep's output file (CSV or JSONL, from `infersim sweep --out`): its swept keys are the columns
    before the first metric."""
    if str(path).endswith(".jsonl"):
        frame = pd.json_normalize(pd.read_json(path, lines=True).to_dict("records"))
    else:
        frame = pd.read_csv(path)
    keys = []
    for column in frame.columns:
        if column.startswith("metrics."):
            break
        keys.append(column)
    frame.attrs["swept_keys"] = keys
    frame.attrs["scenario"] = {}
    return frame


def roofline_frame(report: dict) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(report["operators"])
    frame.attrs.update({k: v for k, v in report.items() if k != "operators"})
    return frame


def catalog_frame(entries: list) -> pd.DataFrame:
    return pd.json_normalize(entries)


def plan_frames(report: dict) -> pd.DataFrame:
    """`plan --format json` (contract: candidates ranked, each with hardware, replicas, chips, usd_per_hour and
    overrides): one row per candidate, overrides flattened as `overrides.KEY`; attrs: frontier, skipped."""
    frame = pd.json_normalize(report.get("candidates", []), max_level=1)
    frame.attrs["frontier"] = report.get("frontier", [])
    frame.attrs["skipped"] = report.get("skipped", [])
    return frame
