#!/usr/bin/env python3
"""Fit a serving engine's host-time figures to the measurement rows that ran on it (docs/accuracy.md).

An engine spends time per iteration outside the device's kernels (scheduling, input preparation, sampling,
responses, Python dispatch) that no hardware profile holds; configs/engines/NAME.json models it. This script
reruns every row of the given measurement files that runs on engine NAME (the row's `engine`, its ratio
sides', or its base scenario's) with the profile's figures set to each point of a grid, and prints the
median absolute error per category and the fit criterion: the mean of the per-category medians, each
category (or each of --criterion's) weighing the same however many rows it has. One set of figures per engine, shared by all its chips,
models and scenarios, never one per row.

  tools/fit_engine.py tensorrt-llm configs/validation/mlperf.json \\
      --grid host_time.per_step_us=0,1000,2000 --grid host_time.per_sequence_us=0,4,8
Needs build/release/src/infersim (cmake --preset release && cmake --build build/release), or --bin.
"""
import argparse, itertools, json, os, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ap = argparse.ArgumentParser()
ap.add_argument("engine")
ap.add_argument("files", nargs="+")
ap.add_argument("--grid", action="append", default=[], help="dotted.key=v1,v2,... of the engine profile")
ap.add_argument("--criterion", default="", help="categories the criterion averages (default: all of the rows')")
ap.add_argument("--bin", default=os.path.join(ROOT, "build", "release", "src", "infersim"))
args = ap.parse_args()

profile = json.load(open(os.path.join(ROOT, "configs", "engines", args.engine + ".json")))


def base_engine(path):
    return json.load(open(path)).get("engine", "vllm")


rows = []
for f in args.files:
    doc = json.load(open(f))
    for r in doc["rows"]:
        if "scenario" not in r:
            continue
        r["scenario"] = os.path.join(os.path.dirname(os.path.abspath(f)), r["scenario"])
        main = r.get("set", {}).get("engine", base_engine(r["scenario"]))
        engines = {main} | {r[k]["engine"] for k in ("baseline_set", "variant_set") if "engine" in r.get(k, {})}
        if args.engine in engines:
            rows.append(r)
if not rows:
    sys.exit(f"no row runs on engine {args.engine}")
print(f"{args.engine}: {len(rows)} rows")

grid = []
for g in args.grid:
    key, values = g.split("=", 1)
    grid.append((key, [json.loads(v) for v in values.split(",")]))

with tempfile.TemporaryDirectory() as tmp:
    engine_path = os.path.join(tmp, args.engine + ".json")
    for r in rows:
        for side in ("set", "baseline_set", "variant_set"):
            s = r.get(side)
            if s is not None and s.get("engine") == args.engine:
                s["engine"] = engine_path
        if base_engine(r["scenario"]) == args.engine and r.get("set", {}).get("engine") in (None, engine_path):
            r.setdefault("set", {})["engine"] = engine_path
    rows_path = os.path.join(tmp, "rows.json")
    json.dump({"description": "fit", "rows": rows}, open(rows_path, "w"))
    for point in itertools.product(*[v for _, v in grid]):
        p = json.loads(json.dumps(profile))
        for (key, _), value in zip(grid, point):
            node = p
            *parents, leaf = key.split(".")
            for k in parents:
                node = node.setdefault(k, {})  # an optional block the profile does not have yet
            node[leaf] = value
        json.dump(p, open(engine_path, "w"))
        out = json.loads(subprocess.run([args.bin, "accuracy", rows_path, "--format", "json"], check=True,
                                        capture_output=True, text=True).stdout)
        cats = {k: v["median_abs_error_pct"] for k, v in sorted(out["categories"].items())}
        chosen = args.criterion.split(",") if args.criterion else list(cats)
        criterion = statistics.mean(cats[c] for c in chosen)
        label = "  ".join(f"{k}={v}" for (k, _), v in zip(grid, point))
        print(f"{label}  criterion {criterion:5.1f}%  " + "  ".join(f"{k} {v:.1f}%" for k, v in cats.items()), flush=True)
